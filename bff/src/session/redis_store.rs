//! The server-side store: the tokens in Redis, the browser holding only a
//! sealed session key.
//!
//! Entries are written through actix-session's Redis storage
//! (`RedisSessionStore`, over a deadpool pool that connects lazily, so the
//! BFF starts while Redis is down and reconnects by itself) and read, on
//! every request, with one GET over the registry's per-thread connection
//! (see `registry.rs`), decoded as actix-session does. Each entry is
//! one field holding the session's tokens sealed with the cookie key ring
//! (associated data [`SEAL_NAME`]): a Redis dump or snapshot reveals no
//! token. The entry expires with the session. The session key (64 random
//! characters, made by actix-session) travels in the `-session` cookie,
//! sealed like every other cookie; a login always gets a new key.
//!
//! Every Redis call is bounded by `redis.timeout_ms`; a failure or timeout
//! is [`StoreError::Unavailable`] (503), never a 500, and its message names
//! no key.

use super::registry::{bounded, hashed};
use super::{
    Ended, EndedSessions, IdTokenPayload, NewTokens, Pick, RefreshUpdate, SessionRegistry,
    SessionStore, SetCookies, StoreError, agent, request_cookies,
};
use actix_session::storage::{RedisSessionStore, SessionKey, SessionStore as _};
use actix_web::HttpRequest;
use actix_web::cookie::time::Duration as CookieDuration;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use th_contract::SessionSummary;
use th_cookies::{AccessTokenPayload, CookieKind, Secret, Vault};
use th_http::app_origin::RequestContext;
use th_http::settings::SettingsError;

/// The associated data the tokens are sealed under in Redis: a value
/// sealed for a cookie cannot be passed off as a session, nor the reverse.
pub const SEAL_NAME: &str = "th-session-state";

/// The entry's one field.
const FIELD: &str = "s";

/// `[redis]`: where the server-side store lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db`, or `rediss://` for TLS (a managed Redis or
    /// Valkey); credentials in the URL, e.g. from `TH_REDIS__URL`.
    pub url: Secret,
    /// Time allowed for each Redis call; slower is 503.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Prepended to every key, so several deployments can share a Redis.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// Pooled connections per BFF process (writes, rarer reads); the
    /// per-request reads use one more connection per worker thread.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// Cookie store: how many ended sessions each replica holds in memory
    /// (checked with no Redis round trip); beyond it, or at 0, every
    /// request asks Redis.
    #[serde(default = "default_local_deny_list_max")]
    pub local_deny_list_max: usize,
}

fn default_timeout_ms() -> u64 {
    500
}

fn default_key_prefix() -> String {
    "th".to_owned()
}

fn default_pool_size() -> usize {
    16
}

fn default_local_deny_list_max() -> usize {
    100_000
}

/// What one Redis entry holds, before sealing.
#[derive(Serialize, Deserialize)]
struct Bundle {
    #[serde(rename = "a")]
    access: AccessTokenPayload,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    refresh: Option<Secret>,
    #[serde(rename = "i")]
    id: IdTokenPayload,
    /// The browser the session began in, as a coarse label, for the list
    /// of the user's sessions (when it began is the ID payload's `since`).
    /// Set at login, kept through refreshes.
    #[serde(rename = "ua", default)]
    agent: String,
}

/// A user's sessions on one app: the request's own key and every live one.
struct UsersSessions {
    current: String,
    live: Vec<(String, Bundle)>,
}

/// Tokens in Redis, keyed by a sealed session cookie.
pub struct RedisStore {
    vault: Arc<Vault>,
    sessions: RedisSessionStore,
    /// `<key_prefix>:session:`, before each session key (as actix-session
    /// names the entries it writes).
    session_prefix: String,
    registry: SessionRegistry,
    timeout: Duration,
}

/// A pool for `settings` that connects on first use (nothing is contacted
/// here), each connection bounded by the timeout.
pub fn redis_pool(settings: &RedisSettings) -> Result<deadpool_redis::Pool, SettingsError> {
    settings.validate()?;
    let timeout = Duration::from_millis(settings.timeout_ms);
    let mut config = deadpool_redis::Config::from_url(settings.url.expose());
    let mut pool_config = deadpool_redis::PoolConfig::new(settings.pool_size);
    pool_config.timeouts = deadpool_redis::Timeouts {
        wait: Some(timeout),
        create: Some(timeout),
        recycle: Some(timeout),
    };
    config.pool = Some(pool_config);
    config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .map_err(|_| bad_url())
}

/// `redis.url` is unusable. The message never holds the URL: it may carry
/// the password.
pub(super) fn bad_url() -> SettingsError {
    SettingsError::new("redis.url", "is not a redis:// or rediss:// URL")
}

impl RedisSettings {
    /// Checks every setting; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let url = self.url.expose();
        let parsed = url::Url::parse(url).map_err(|_| bad_url())?;
        if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host().is_none() {
            return Err(bad_url());
        }
        if !(1..=60_000).contains(&self.timeout_ms) {
            return Err(SettingsError::new(
                "redis.timeout_ms",
                "must be between 1 and 60000",
            ));
        }
        let prefix_ok = (1..=64).contains(&self.key_prefix.len())
            && self
                .key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
        if !prefix_ok {
            return Err(SettingsError::new(
                "redis.key_prefix",
                "must be 1-64 characters of A-Z, a-z, 0-9, '_', '-' or ':'",
            ));
        }
        if !(1..=1024).contains(&self.pool_size) {
            return Err(SettingsError::new(
                "redis.pool_size",
                "must be between 1 and 1024",
            ));
        }
        if self.local_deny_list_max > 10_000_000 {
            return Err(SettingsError::new(
                "redis.local_deny_list_max",
                "must be at most 10000000",
            ));
        }
        Ok(())
    }
}

impl RedisStore {
    /// A store over a lazily connecting pool; nothing is contacted yet.
    pub async fn new(settings: &RedisSettings, vault: Arc<Vault>) -> Result<Self, SettingsError> {
        let timeout = Duration::from_millis(settings.timeout_ms);
        let registry = SessionRegistry::new(settings)?;
        let session_prefix = format!("{}:session:", settings.key_prefix);
        let prefix = session_prefix.clone();
        let sessions = RedisSessionStore::builder_pooled(registry.pool().clone())
            .cache_keygen(move |key| format!("{prefix}{key}"))
            .build()
            .await
            // Over a pool, building connects to nothing and cannot fail.
            .map_err(|_| bad_url())?;
        Ok(Self {
            vault,
            sessions,
            session_prefix,
            registry,
            timeout,
        })
    }

    /// Runs one Redis call within the timeout.
    async fn bounded<T, E: std::fmt::Display>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, StoreError> {
        bounded(self.timeout, what, call).await
    }

    /// The session key in the request's cookie, if it opens.
    fn key_of(&self, req: &HttpRequest) -> Option<SessionKey> {
        let bytes = self
            .vault
            .read(&request_cookies(req), CookieKind::Session)
            .ok()?;
        SessionKey::try_from(String::from_utf8(bytes).ok()?).ok()
    }

    /// The request's session: its key and tokens, if both exist.
    async fn load(&self, req: &HttpRequest) -> Result<Option<(SessionKey, Bundle)>, StoreError> {
        let Some(key) = self.key_of(req) else {
            return Ok(None);
        };
        Ok(self.load_key(&key).await?.map(|b| (key, b)))
    }

    /// The tokens under `key`, if they exist and open.
    async fn load_key(&self, key: &SessionKey) -> Result<Option<Bundle>, StoreError> {
        // Read here rather than through actix-session's `load`, which would
        // check a connection out of the pool (a round trip of its own) on
        // every request: one GET of the entry actix-session wrote, a JSON
        // map of fields, decoded as it does.
        let entry = format!("{}{}", self.session_prefix, key.as_ref());
        let value: Option<String> = self
            .registry
            .reads()
            .run("loading a session", |mut conn| async move {
                conn.get(&entry).await
            })
            .await?;
        let state = value
            .map(|v| serde_json::from_str::<HashMap<String, String>>(&v))
            .transpose()
            .map_err(|e| StoreError::Unavailable(format!("loading a session: {e}")))?;
        let Some(sealed) = state.as_ref().and_then(|s| s.get(FIELD)) else {
            return Ok(None);
        };
        // A value that does not open (a key rotated out, tampering) is no session.
        Ok(self
            .vault
            .key_ring()
            .open(SEAL_NAME, sealed)
            .ok()
            .and_then(|plain| serde_json::from_slice::<Bundle>(&plain).ok()))
    }

    /// The live sessions of the request's user on the request's app (found
    /// through the user's index; entries that expired leave the index).
    async fn users_sessions(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<UsersSessions>, StoreError> {
        let app = Self::app(req);
        let live_here =
            |b: &Bundle| b.id.session_expires_at > now && b.id.belongs_to(app.as_deref());
        let Some((current, own)) = self.load(req).await?.filter(|(_, b)| live_here(b)) else {
            return Ok(None);
        };
        let current = current.as_ref().to_owned();
        let Some(sub) = own.id.sub.clone() else {
            return Ok(Some(UsersSessions {
                live: vec![(current.clone(), own)],
                current,
            }));
        };
        let owner = Ended {
            sid: None,
            sub: Some(&sub),
        };
        let mut live = Vec::new();
        let mut gone = Vec::new();
        for key in self.registry.indexed(owner).await? {
            if key == current {
                continue; // loaded above
            }
            let bundle = match SessionKey::try_from(key.clone()) {
                Ok(k) => self.load_key(&k).await?,
                Err(_) => None,
            };
            match bundle {
                Some(b) if b.id.sub.as_deref() == Some(sub.as_str()) && live_here(&b) => {
                    live.push((key, b));
                }
                // Another app's session of this user: not this app's to list.
                Some(b) if b.id.sub.as_deref() == Some(sub.as_str()) => {}
                _ => gone.push(key),
            }
        }
        self.registry.unindex(owner, &gone).await?;
        live.push((current.clone(), own));
        Ok(Some(UsersSessions { current, live }))
    }

    fn app(req: &HttpRequest) -> Option<String> {
        RequestContext::of(req).app.map(|a| a.as_str().to_owned())
    }
}

#[async_trait::async_trait(?Send)]
impl SessionStore for RedisStore {
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, StoreError> {
        let app = Self::app(req);
        Ok(self
            .load(req)
            .await?
            .map(|(_, b)| b.access)
            .filter(|a| a.belongs_to(app.as_deref())))
    }

    async fn id_token(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<IdTokenPayload>, StoreError> {
        let app = Self::app(req);
        let Some((key, bundle)) = self.load(req).await? else {
            return Ok(None);
        };
        let id = bundle.id;
        if id.session_expires_at <= now || !id.belongs_to(app.as_deref()) {
            return Ok(None);
        }
        // The session's "last seen" in the list of the user's sessions:
        // every /bff call (app load, refresh), not every API call, which
        // would cost a Redis write each.
        let lifetime = u64::try_from(id.session_expires_at - now).unwrap_or(1);
        self.registry
            .seen(key.as_ref(), now, Duration::from_secs(lifetime))
            .await?;
        Ok(Some(id))
    }

    async fn sessions(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<Vec<SessionSummary>>, StoreError> {
        let Some(found) = self.users_sessions(req, now).await? else {
            return Ok(None);
        };
        let keys: Vec<String> = found.live.iter().map(|(k, _)| k.clone()).collect();
        let seen = self.registry.last_seen(&keys).await?;
        let mut list: Vec<SessionSummary> = found
            .live
            .into_iter()
            .zip(seen)
            .map(|((key, b), seen)| {
                // Every session saved since `since` exists has it.
                let created = b.id.since.or(seen).unwrap_or(now);
                SessionSummary {
                    id: public_id(&key),
                    created_at: created,
                    last_seen_at: seen.unwrap_or(created),
                    user_agent: b.agent,
                    current: key == found.current,
                }
            })
            .collect();
        list.sort_by_key(|s| (!s.current, std::cmp::Reverse(s.last_seen_at)));
        Ok(Some(list))
    }

    async fn end_sessions(
        &self,
        req: &HttpRequest,
        now: i64,
        pick: Pick<'_>,
    ) -> Result<Option<EndedSessions>, StoreError> {
        let Some(found) = self.users_sessions(req, now).await? else {
            return Ok(None);
        };
        let mut ended = EndedSessions::default();
        for (key, bundle) in found.live {
            let chosen = match pick {
                Pick::One(id) => public_id(&key) == id,
                Pick::Others => key != found.current,
            };
            if !chosen {
                continue;
            }
            if let Ok(k) = SessionKey::try_from(key.clone()) {
                self.bounded("ending a session", self.sessions.delete(&k))
                    .await?;
            }
            ended.count += 1;
            ended.current |= key == found.current;
            let owner = Ended {
                sid: bundle.id.sid.as_deref(),
                sub: bundle.id.sub.as_deref(),
            };
            self.registry
                .unindex(owner, std::slice::from_ref(&key))
                .await?;
        }
        Ok(Some(ended))
    }

    async fn refresh_token(&self, req: &HttpRequest) -> Result<Option<Secret>, StoreError> {
        Ok(self.load(req).await?.and_then(|(_, b)| b.refresh))
    }

    async fn save(
        &self,
        req: &HttpRequest,
        tokens: NewTokens<'_>,
    ) -> Result<SetCookies, StoreError> {
        let now = crate::clock::now();
        let lifetime = u64::try_from(tokens.id.session_expires_at - now).unwrap_or(0);
        let existing = self.load(req).await?;
        let refresh = match (tokens.refresh, &existing) {
            (RefreshUpdate::Replace(new), _) => Some(new.clone()),
            (RefreshUpdate::Keep, Some((_, old))) if !tokens.new_session => old.refresh.clone(),
            (RefreshUpdate::Keep | RefreshUpdate::Clear, _) => None,
        };
        let (bundle_sid, bundle_sub) = (tokens.id.sid.clone(), tokens.id.sub.clone());
        let agent = match &existing {
            Some((_, old)) if !tokens.new_session => old.agent.clone(),
            _ => agent::label(
                req.headers()
                    .get(actix_web::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok()),
            ),
        };
        let bundle = Bundle {
            access: tokens.access,
            refresh,
            id: tokens.id,
            agent,
        };
        let plain = serde_json::to_vec(&bundle)
            .map_err(|e| StoreError::Unavailable(format!("encoding a session: {e}")))?;
        let sealed = self.vault.key_ring().seal(SEAL_NAME, &plain);
        let state = HashMap::from([(FIELD.to_owned(), sealed)]);
        let ttl = CookieDuration::seconds(i64::try_from(lifetime.max(1)).unwrap_or(i64::MAX));
        let key = match existing {
            // A login starts a new session under a new key, whatever the
            // browser held before (no session fixation).
            Some((old, _)) if tokens.new_session => {
                self.bounded("ending the previous session", self.sessions.delete(&old))
                    .await?;
                self.bounded("saving a session", self.sessions.save(state, &ttl))
                    .await?
            }
            Some((key, _)) => {
                self.bounded("updating a session", self.sessions.update(key, state, &ttl))
                    .await?
            }
            None => {
                self.bounded("saving a session", self.sessions.save(state, &ttl))
                    .await?
            }
        };
        let owner = Ended {
            sid: bundle_sid.as_deref(),
            sub: bundle_sub.as_deref(),
        };
        self.registry
            .index(owner, key.as_ref(), Duration::from_secs(lifetime))
            .await?;
        self.registry
            .seen(key.as_ref(), now, Duration::from_secs(lifetime))
            .await?;
        let cookies = request_cookies(req);
        let mut out = self.vault.write(
            &cookies,
            CookieKind::Session,
            key.as_ref().as_bytes(),
            Duration::from_secs(lifetime),
        )?;
        // Token cookies left from the cookie store (a store switch) go.
        for kind in [CookieKind::Access, CookieKind::Refresh, CookieKind::Id] {
            out.extend(self.vault.clear(&cookies, kind));
        }
        Ok(out)
    }

    async fn end(&self, req: &HttpRequest) -> Result<(), StoreError> {
        let Some(key) = self.key_of(req) else {
            return Ok(());
        };
        self.bounded("ending a session", self.sessions.delete(&key))
            .await
    }

    fn clearing_cookies(&self, req: &HttpRequest) -> SetCookies {
        super::clear_all(&self.vault, req)
    }

    async fn end_matching(&self, ended: Ended<'_>) -> Result<(), StoreError> {
        for key in self.registry.take_indexed(ended).await? {
            let Ok(key) = SessionKey::try_from(key) else {
                continue;
            };
            self.bounded("ending a session", self.sessions.delete(&key))
                .await?;
        }
        Ok(())
    }

    fn registry(&self) -> Option<&SessionRegistry> {
        Some(&self.registry)
    }

    fn shares_state(&self) -> bool {
        true
    }

    async fn is_ready(&self) -> bool {
        let ping = async {
            let mut conn = self
                .registry
                .pool()
                .get()
                .await
                .map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        };
        self.bounded("PING", ping).await.is_ok()
    }
}

/// A session's handle in the list of the user's sessions: a digest of its
/// key (so the list never shows a key), in a space of its own.
fn public_id(key: &str) -> String {
    hashed(&format!("listed-session:{key}"))[..32].to_owned()
}
