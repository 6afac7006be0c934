//! What only a server can remember about sessions, in Redis: which sessions
//! a provider session (`sid`) or a user (`sub`) has, which ones were ended
//! while their cookies still exist (the cookie store's deny-list), and which
//! back-channel logout tokens were already used (`jti`).
//!
//! Keys (under `redis.key_prefix`, each id as its SHA-256 so a dump names no
//! user): `by-sid:<h>` and `by-sub:<h>` (sets of session keys, Redis store),
//! `seen:<h>` (when a session was last used, for the list of sessions),
//! `lock:<h>` and `refreshed:<h>` (a refresh's turn and, for the cookie
//! store, its new cookies sealed, for the requests that used the same
//! refresh token),
//! `deny:sid:<h>` and `deny:sub:<h>` (cookie store, living as long as the
//! longest session; each replica also holds them in memory, see
//! `deny_mirror.rs`), `jti:<h>` (until the logout token's expiry). Every
//! call is bounded by the timeout.
//!
//! The reads made on every request (the deny-list check, the Redis store's
//! session load) go over [`Reads`]: one multiplexed connection per worker
//! thread, kept between requests. A pool checkout costs a round trip of its
//! own (deadpool-redis sends `UNWATCH` and `PING` before handing out a
//! connection) and may hand out a connection whose task runs on another
//! worker; the rarer writes still go through the pool.

use super::StoreError;
use super::deny_mirror::DenyChannel;
use super::redis_store::{RedisSettings, bad_url, redis_pool};
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;
use th_http::settings::SettingsError;

/// The Redis side of sessions, shared by both stores.
pub struct SessionRegistry {
    pool: deadpool_redis::Pool,
    reads: Reads,
    prefix: String,
    timeout: Duration,
    /// The deny-list in memory (cookie store), when mirrored.
    denials: Option<Arc<DenyChannel>>,
    /// `redis.local_deny_list_max`.
    mirror_max: usize,
}

/// One multiplexed connection per thread, made on first use (nothing is
/// contacted before, so the BFF starts while Redis is down). A call that
/// fails or times out drops its thread's connection; the next call on that
/// thread connects anew.
pub(super) struct Reads {
    client: redis::Client,
    timeout: Duration,
    by_thread: Mutex<HashMap<ThreadId, MultiplexedConnection>>,
}

impl Reads {
    fn new(settings: &RedisSettings) -> Result<Self, SettingsError> {
        Ok(Self {
            client: redis::Client::open(settings.url.expose()).map_err(|_| bad_url())?,
            timeout: Duration::from_millis(settings.timeout_ms),
            by_thread: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self) -> Option<MultiplexedConnection> {
        let by_thread = self.by_thread.lock().unwrap_or_else(|e| e.into_inner());
        by_thread.get(&std::thread::current().id()).cloned()
    }

    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        if let Some(conn) = self.cached() {
            return Ok(conn);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout);
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| e.to_string())?;
        self.by_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(std::thread::current().id(), conn.clone());
        Ok(conn)
    }

    fn forget(&self) {
        self.by_thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&std::thread::current().id());
    }

    /// Runs `call` on this thread's connection within the timeout.
    pub(super) async fn run<T, F>(
        &self,
        what: &str,
        call: impl FnOnce(MultiplexedConnection) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let result = bounded(self.timeout, what, async {
            let conn = self.connection().await?;
            call(conn).await.map_err(|e| e.to_string())
        })
        .await;
        if result.is_err() {
            self.forget();
        }
        result
    }
}

/// What a logout names: a provider session, a user, or both.
#[derive(Debug, Clone, Copy)]
pub struct Ended<'a> {
    pub sid: Option<&'a str>,
    pub sub: Option<&'a str>,
}

impl SessionRegistry {
    /// A registry for `[redis]`; nothing is contacted yet.
    pub fn new(settings: &RedisSettings) -> Result<Self, SettingsError> {
        Ok(Self {
            pool: redis_pool(settings)?,
            reads: Reads::new(settings)?,
            prefix: settings.key_prefix.clone(),
            timeout: Duration::from_millis(settings.timeout_ms),
            denials: None,
            mirror_max: settings.local_deny_list_max,
        })
    }

    /// Holds the deny-list in memory, kept exact by Redis pub/sub, so its
    /// check costs no round trip (unless `redis.local_deny_list_max` is 0);
    /// entries live as long as a session, `lifetime`. Spawns the
    /// subscription on the current runtime.
    pub fn mirroring_denials(mut self, lifetime: Duration) -> Self {
        if self.mirror_max > 0 {
            self.denials = Some(DenyChannel::start(
                self.reads.client.clone(),
                self.pool.clone(),
                &self.prefix,
                self.timeout,
                self.mirror_max,
                lifetime,
            ));
        }
        self
    }

    /// The pool the rarer calls share.
    pub(super) fn pool(&self) -> &deadpool_redis::Pool {
        &self.pool
    }

    /// The connections the per-request reads use.
    pub(super) fn reads(&self) -> &Reads {
        &self.reads
    }

    async fn bounded<T>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, String>>,
    ) -> Result<T, StoreError> {
        bounded(self.timeout, what, call).await
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection, String> {
        self.pool.get().await.map_err(|e| e.to_string())
    }

    /// Whether this is the first use of a logout token's `jti`; remembers it
    /// until `until` (Unix seconds).
    pub async fn first_use_of_jti(&self, jti: &str, until: i64) -> Result<bool, StoreError> {
        let key = format!("{}:jti:{}", self.prefix, hashed(jti));
        self.bounded("remembering a logout token", async {
            let mut conn = self.connection().await?;
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("EXAT")
                .arg(until.max(1))
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(set.is_some())
        })
        .await
    }

    /// Records that the sessions of this `sid` (or `sub`) that began by
    /// `at` are over, for `lifetime` (the longest a session lasts). A session
    /// that begins later (the user signs in again) is not affected.
    pub async fn deny(
        &self,
        ended: Ended<'_>,
        at: i64,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let keys = self.deny_keys(ended);
        for key in &keys {
            self.set_for("recording an ended session", key, at, lifetime)
                .await?;
        }
        match &self.denials {
            Some(denials) if !keys.is_empty() => denials.publish(&self.pool, &keys, at).await,
            _ => Ok(()),
        }
    }

    /// Whether a session of this `sid`/`sub` that began at `since` was ended.
    pub async fn is_denied(&self, session: Ended<'_>, since: i64) -> Result<bool, StoreError> {
        let keys = self.deny_keys(session);
        if keys.is_empty() {
            return Ok(false);
        }
        if let Some(answer) = self
            .denials
            .as_ref()
            .and_then(|d| d.mirror().check(&keys, since))
        {
            return Ok(answer);
        }
        let ended_at: Vec<Option<i64>> = self
            .reads
            .run("checking the ended sessions", |mut conn| async move {
                redis::cmd("MGET").arg(&keys).query_async(&mut conn).await
            })
            .await?;
        Ok(ended_at.into_iter().flatten().any(|at| at >= since))
    }

    /// Notes that session `key` belongs to `sid`/`sub`, for `lifetime`.
    pub async fn index(
        &self,
        session: Ended<'_>,
        key: &str,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let sets = self.index_keys(session);
        self.bounded("indexing a session", async {
            let mut conn = self.connection().await?;
            for set in sets {
                let _: () = conn.sadd(&set, key).await.map_err(|e| e.to_string())?;
                let _: () = conn
                    .expire(&set, i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await
    }

    /// The session keys of `sid`/`sub`; forgets the index.
    pub async fn take_indexed(&self, ended: Ended<'_>) -> Result<Vec<String>, StoreError> {
        let keys = self.indexed(ended).await?;
        let sets = self.index_keys(ended);
        self.bounded("forgetting a user's sessions", async {
            let mut conn = self.connection().await?;
            let _: () = conn.del(&sets).await.map_err(|e| e.to_string())?;
            Ok(())
        })
        .await?;
        Ok(keys)
    }

    /// The session keys indexed under `owner` (a user's, for listing).
    pub async fn indexed(&self, owner: Ended<'_>) -> Result<Vec<String>, StoreError> {
        let sets = self.index_keys(owner);
        self.bounded("finding a user's sessions", async {
            let mut conn = self.connection().await?;
            let mut keys = Vec::new();
            for set in &sets {
                let members: Vec<String> = conn.smembers(set).await.map_err(|e| e.to_string())?;
                keys.extend(members);
            }
            keys.sort();
            keys.dedup();
            Ok(keys)
        })
        .await
    }

    /// Drops `keys` (ended or expired sessions) from `owner`'s index.
    pub async fn unindex(&self, owner: Ended<'_>, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let sets = self.index_keys(owner);
        self.bounded("updating a user's sessions", async {
            let mut conn = self.connection().await?;
            for set in &sets {
                let _: () = conn.srem(set, keys).await.map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await
    }

    /// Records that session `key` was seen at `now`, for `lifetime`.
    pub async fn seen(&self, key: &str, now: i64, lifetime: Duration) -> Result<(), StoreError> {
        self.set_for("noting a session's use", &self.seen_key(key), now, lifetime)
            .await
    }

    /// `SET key value EX ttl` (at least a second), bounded.
    async fn set_for(
        &self,
        what: &str,
        key: &str,
        value: impl redis::ToRedisArgs + Send + Sync,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.bounded(what, async {
            let mut conn = self.connection().await?;
            let _: () = conn
                .set_ex(key, value, ttl.as_secs().max(1))
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
        .await
    }

    /// When each of `keys` was last seen, in order (`None`: not recorded).
    pub async fn last_seen(&self, keys: &[String]) -> Result<Vec<Option<i64>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = keys.iter().map(|k| self.seen_key(k)).collect();
        self.bounded("reading when sessions were used", async {
            let mut conn = self.connection().await?;
            redis::cmd("MGET")
                .arg(&names)
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    fn seen_key(&self, key: &str) -> String {
        format!("{}:seen:{}", self.prefix, hashed(key))
    }

    /// Takes the lock `name` for at most `ttl`; `false` when another
    /// request (on any replica) holds it.
    pub async fn try_lock(&self, name: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = self.lock_key(name);
        self.bounded("taking a lock", async {
            let mut conn = self.connection().await?;
            let set: Option<String> = redis::cmd("SET")
                .arg(&key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            Ok(set.is_some())
        })
        .await
    }

    /// Whether the lock `name` is held.
    pub async fn is_locked(&self, name: &str) -> Result<bool, StoreError> {
        let key = self.lock_key(name);
        self.bounded("reading a lock", async {
            let mut conn = self.connection().await?;
            let held: bool = conn.exists(&key).await.map_err(|e| e.to_string())?;
            Ok(held)
        })
        .await
    }

    /// Releases the lock `name`.
    pub async fn unlock(&self, name: &str) -> Result<(), StoreError> {
        let key = self.lock_key(name);
        self.bounded("releasing a lock", async {
            let mut conn = self.connection().await?;
            let _: () = conn.del(&key).await.map_err(|e| e.to_string())?;
            Ok(())
        })
        .await
    }

    /// Leaves `sealed` (a refresh's new cookies, sealed) for the requests
    /// that come with the refresh token of turn `name`, for `ttl`.
    pub async fn hand_over(
        &self,
        name: &str,
        sealed: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.set_for(
            "handing over a refresh",
            &self.handoff_key(name),
            sealed,
            ttl,
        )
        .await
    }

    /// What [`Self::hand_over`] left for turn `name`, if it is still there.
    pub async fn handed_over(&self, name: &str) -> Result<Option<String>, StoreError> {
        let key = self.handoff_key(name);
        self.bounded("reading a refresh's handover", async {
            let mut conn = self.connection().await?;
            let sealed: Option<String> = conn.get(&key).await.map_err(|e| e.to_string())?;
            Ok(sealed)
        })
        .await
    }

    fn handoff_key(&self, name: &str) -> String {
        format!("{}:refreshed:{}", self.prefix, hashed(name))
    }

    fn lock_key(&self, name: &str) -> String {
        format!("{}:lock:{}", self.prefix, hashed(name))
    }

    fn deny_keys(&self, ended: Ended<'_>) -> Vec<String> {
        self.keys(ended, "deny:sid", "deny:sub")
    }

    fn index_keys(&self, session: Ended<'_>) -> Vec<String> {
        self.keys(session, "by-sid", "by-sub")
    }

    /// `<prefix>:<sid kind>:<h(sid)>` and `<prefix>:<sub kind>:<h(sub)>`, for
    /// the ids present.
    fn keys(&self, ids: Ended<'_>, sid_kind: &str, sub_kind: &str) -> Vec<String> {
        [(ids.sid, sid_kind), (ids.sub, sub_kind)]
            .into_iter()
            .filter_map(|(id, kind)| id.map(|id| format!("{}:{kind}:{}", self.prefix, hashed(id))))
            .collect()
    }
}

/// Runs one Redis call within `timeout`: a failure or no answer is
/// [`StoreError::Unavailable`], named by `what` (never a key or a token).
pub(super) async fn bounded<T, E: std::fmt::Display>(
    timeout: Duration,
    what: &str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, StoreError> {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(timeout, call).await;
    crate::metrics::store_call(what, started.elapsed(), matches!(result, Ok(Ok(_))));
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("{what}: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "{what}: no answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

/// An id as it appears in a key name: its SHA-256, hex.
pub(super) fn hashed(id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(id.as_bytes()) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_named_by_their_sha256_in_lower_case_hex() {
        assert_eq!(
            super::hashed("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
