//! The cookie store's deny-list, held in memory and kept exact by Redis
//! pub/sub, so that checking it costs no round trip per request.
//!
//! Every replica subscribes to `<prefix>:deny-events`, then loads every
//! `deny:` key (subscribing first: a denial written during the load is in
//! the load or in a message, never in neither). A replica that records a
//! denial sets its keys, publishes them, and waits until every subscriber
//! has acknowledged (each pushes onto `<prefix>:deny-ack:<event>` once it
//! has applied the message). So when a logout or a back-channel logout
//! answers, every replica that checks from memory already refuses the
//! session.
//!
//! A replica checks from memory only while its subscription is proven
//! alive: a `PING` on the subscribed connection every [`PING_EVERY`], its
//! answer no older than [`LIVE_FOR`]. Otherwise (Redis down, the connection
//! lost, the load not finished, more than `redis.local_deny_list_max`
//! entries) it asks Redis on every request, as without the mirror, and
//! fails closed (503) when Redis does not answer. A writer that misses an
//! acknowledgement waits `LIVE_FOR` plus the Redis timeout before it
//! answers: by then a subscriber that did not hear the message has stopped
//! trusting its memory (its last answered ping came before the message was
//! published, give or take one timeout of delivery).
//!
//! Entries are dropped once the session they could refuse has expired
//! anyway (`ended at + session lifetime`).

use super::StoreError;
use super::registry::bounded;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How often a subscriber proves its connection alive.
pub const PING_EVERY: Duration = Duration::from_millis(250);

/// How long after its last answered ping a subscriber trusts its memory.
pub const LIVE_FOR: Duration = Duration::from_secs(1);

/// How often entries of sessions that expired anyway are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Keys read per `SCAN` step and per `MGET` while loading.
const LOAD_BATCH: usize = 1000;

/// How long an acknowledgement list lives if its writer is gone.
const ACK_TTL_MS: u64 = 10_000;

/// One denial as published: the keys (`<prefix>:deny:sid:<h>`…) ended at
/// `at`, and the event the subscribers acknowledge.
#[derive(Serialize, Deserialize)]
struct Denied {
    #[serde(rename = "e")]
    event: String,
    #[serde(rename = "at")]
    at: i64,
    #[serde(rename = "k")]
    keys: Vec<String>,
}

/// The denials in memory, and whether they can be trusted right now.
pub struct DenyMirror {
    entries: RwLock<HashMap<String, i64>>,
    /// Loaded on the current subscription (cleared when it ends).
    loaded: AtomicBool,
    /// When the subscription last answered a ping, in ms since `epoch`.
    heard_ms: AtomicU64,
    epoch: Instant,
    max: usize,
    lifetime: Duration,
}

impl DenyMirror {
    fn new(max: usize, lifetime: Duration) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            loaded: AtomicBool::new(false),
            heard_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            max,
            lifetime,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn heard_now(&self) {
        self.heard_ms.store(self.now_ms(), Ordering::Release);
    }

    /// Whether memory can answer now.
    pub fn is_live(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
            && self
                .now_ms()
                .saturating_sub(self.heard_ms.load(Ordering::Acquire))
                < u64::try_from(LIVE_FOR.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a session named by `keys` that began at `since` was ended;
    /// `None` when memory cannot answer (ask Redis).
    pub fn check(&self, keys: &[String], since: i64) -> Option<bool> {
        if !self.is_live() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        Some(
            keys.iter()
                .filter_map(|k| entries.get(k))
                .any(|&at| at >= since),
        )
    }

    /// Records that `keys` were ended at `at` (the latest ending wins).
    pub fn apply(&self, keys: &[String], at: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            let slot = entries.entry(key.clone()).or_insert(at);
            *slot = (*slot).max(at);
        }
        if entries.len() > self.max {
            // Too many to hold: ask Redis until a reload finds fewer.
            self.loaded.store(false, Ordering::Release);
        }
        self.report(entries.len());
    }

    fn replace(&self, loaded: HashMap<String, i64>) {
        let count = loaded.len();
        *self.entries.write().unwrap_or_else(|e| e.into_inner()) = loaded;
        self.heard_now();
        self.loaded.store(true, Ordering::Release);
        self.report(count);
    }

    fn down(&self) {
        self.loaded.store(false, Ordering::Release);
        self.report(self.entries.read().unwrap_or_else(|e| e.into_inner()).len());
    }

    fn prune(&self, now: i64) {
        let keep_after = now.saturating_sub(i64::try_from(self.lifetime.as_secs()).unwrap_or(0));
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, at| *at > keep_after);
        self.report(entries.len());
    }

    fn report(&self, entries: usize) {
        crate::metrics::deny_list(self.loaded.load(Ordering::Acquire), entries);
    }
}

/// Where the mirror's subscription and its writers meet.
pub struct DenyChannel {
    mirror: Arc<DenyMirror>,
    channel: String,
    prefix: String,
    timeout: Duration,
}

impl DenyChannel {
    /// A mirror of `prefix`'s denials (at most `max` entries, kept for
    /// `lifetime`), kept up by a task spawned here on the current runtime.
    pub fn start(
        client: redis::Client,
        pool: deadpool_redis::Pool,
        prefix: &str,
        timeout: Duration,
        max: usize,
        lifetime: Duration,
    ) -> Arc<Self> {
        let this = Arc::new(Self {
            mirror: Arc::new(DenyMirror::new(max, lifetime)),
            channel: format!("{prefix}:deny-events"),
            prefix: prefix.to_owned(),
            timeout,
        });
        tokio::spawn(subscribe_forever(this.clone(), client, pool));
        this
    }

    /// The denials in memory.
    pub fn mirror(&self) -> &DenyMirror {
        &self.mirror
    }

    /// Tells every replica that `keys` ended at `at`, and waits (bounded)
    /// until each subscriber has applied it.
    pub async fn publish(
        &self,
        pool: &deadpool_redis::Pool,
        keys: &[String],
        at: i64,
    ) -> Result<(), StoreError> {
        self.mirror.apply(keys, at);
        let event = event_id();
        let message = serde_json::to_string(&Denied {
            event: event.clone(),
            at,
            keys: keys.to_vec(),
        })
        .map_err(|e| StoreError::Unavailable(format!("publishing an ended session: {e}")))?;
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(&message);
        let listeners: usize =
            query(pool, self.timeout, "publishing an ended session", &publish).await?;
        let acked = self.await_acks(pool, &event, listeners).await;
        if acked < listeners {
            tracing::warn!(
                listeners,
                acked,
                "not every replica confirmed an ended session; those that did not \
                 have stopped trusting their memory by now and ask Redis"
            );
        }
        Ok(())
    }

    /// Waits for `listeners` acknowledgements of `event`, at most
    /// `LIVE_FOR` plus the timeout; answers how many came.
    async fn await_acks(
        &self,
        pool: &deadpool_redis::Pool,
        event: &str,
        listeners: usize,
    ) -> usize {
        let key = self.ack_key(event);
        let deadline = Instant::now() + LIVE_FOR + self.timeout;
        let mut acked = 0;
        let mut llen = redis::cmd("LLEN");
        llen.arg(&key);
        while Instant::now() < deadline {
            let count =
                query::<usize>(pool, self.timeout, "counting acknowledgements", &llen).await;
            if let Ok(count) = count {
                acked = count;
            }
            if acked >= listeners {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        acked
    }

    fn ack_key(&self, event: &str) -> String {
        format!("{}:deny-ack:{event}", self.prefix)
    }
}

/// How one subscription ended.
struct SubscriptionEnd {
    why: String,
    /// Whether memory was in use before it ended.
    was_live: bool,
}

impl SubscriptionEnd {
    fn before_live(why: impl ToString) -> Self {
        Self {
            why: why.to_string(),
            was_live: false,
        }
    }
}

/// Keeps the subscription up for as long as the runtime runs.
async fn subscribe_forever(
    channel: Arc<DenyChannel>,
    client: redis::Client,
    pool: deadpool_redis::Pool,
) {
    // Said once per outage, not once per attempt.
    let mut said_down = false;
    loop {
        let ended = subscription(&channel, &client, &pool).await;
        channel.mirror.down();
        if ended.was_live || !said_down {
            tracing::warn!(
                reason = %ended.why,
                "the deny-list in memory is not in use; every request asks Redis until it is back"
            );
        }
        said_down = true;
        tokio::time::sleep(PING_EVERY).await;
    }
}

/// One subscription, from connecting to its end.
async fn subscription(
    channel: &DenyChannel,
    client: &redis::Client,
    pool: &deadpool_redis::Pool,
) -> SubscriptionEnd {
    let timeout = channel.timeout;
    let pubsub = match bounded(timeout, "subscribing", client.get_async_pubsub()).await {
        Ok(pubsub) => pubsub,
        Err(e) => return SubscriptionEnd::before_live(e),
    };
    let (mut sink, mut stream) = pubsub.split();
    if let Err(e) = bounded(timeout, "subscribing", sink.subscribe(&channel.channel)).await {
        return SubscriptionEnd::before_live(e);
    }
    match load(&channel.prefix, pool, timeout).await {
        Ok(loaded) if loaded.len() <= channel.mirror.max => {
            let count = loaded.len();
            channel.mirror.replace(loaded);
            tracing::info!(entries = count, "the deny-list is in memory");
        }
        Ok(loaded) => {
            // Try again after a while: entries expire.
            tokio::time::sleep(PRUNE_EVERY).await;
            return SubscriptionEnd::before_live(format!(
                "{} ended sessions are more than redis.local_deny_list_max",
                loaded.len()
            ));
        }
        Err(e) => return SubscriptionEnd::before_live(e),
    }
    let mirror = channel.mirror.clone();
    let pings = tokio::spawn(async move {
        loop {
            tokio::time::sleep(PING_EVERY).await;
            match bounded(timeout, "pinging", sink.ping::<redis::Value>()).await {
                Ok(_) => mirror.heard_now(),
                Err(e) => return e.to_string(),
            }
        }
    });
    let abort = pings.abort_handle();
    let mut pings = pings;
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    let why = loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => {
                    received(channel, pool, &message);
                    if !channel.mirror.loaded.load(Ordering::Acquire) {
                        break "more ended sessions than redis.local_deny_list_max".to_owned();
                    }
                }
                None => break "the subscription's connection closed".to_owned(),
            },
            why = &mut pings => break why.unwrap_or_else(|e| e.to_string()),
            _ = prune.tick() => channel.mirror.prune(crate::clock::now()),
        }
    };
    abort.abort();
    SubscriptionEnd {
        why,
        was_live: true,
    }
}

/// Applies one published denial, then acknowledges it.
fn received(channel: &DenyChannel, pool: &deadpool_redis::Pool, message: &redis::Msg) {
    let Ok(denied) = serde_json::from_slice::<Denied>(message.get_payload_bytes()) else {
        tracing::warn!("ignored a message on the deny-list channel that is not a denial");
        return;
    };
    let ours = format!("{}:deny:", channel.prefix);
    let keys: Vec<String> = denied
        .keys
        .into_iter()
        .filter(|k| k.starts_with(&ours))
        .collect();
    channel.mirror.apply(&keys, denied.at);
    let key = channel.ack_key(&denied.event);
    let (pool, timeout) = (pool.clone(), channel.timeout);
    tokio::spawn(async move {
        let acked = bounded(timeout, "acknowledging an ended session", async {
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            redis::pipe()
                .atomic()
                .cmd("RPUSH")
                .arg(&key)
                .arg(1)
                .ignore()
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(ACK_TTL_MS)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        if let Err(e) = acked {
            tracing::warn!(error = %e, "could not acknowledge an ended session");
        }
    });
}

/// Every `deny:` key under `prefix` with when it was ended.
async fn load(
    prefix: &str,
    pool: &deadpool_redis::Pool,
    timeout: Duration,
) -> Result<HashMap<String, i64>, StoreError> {
    let pattern = format!("{prefix}:deny:*");
    let mut loaded = HashMap::new();
    let mut cursor: u64 = 0;
    loop {
        let mut scan = redis::cmd("SCAN");
        scan.arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(LOAD_BATCH);
        let (next, keys): (u64, Vec<String>) =
            query(pool, timeout, "loading the deny-list", &scan).await?;
        if !keys.is_empty() {
            let mut mget = redis::cmd("MGET");
            mget.arg(&keys);
            let values: Vec<Option<i64>> =
                query(pool, timeout, "loading the deny-list", &mget).await?;
            for (key, at) in keys.into_iter().zip(values) {
                if let Some(at) = at {
                    loaded.insert(key, at);
                }
            }
        }
        if next == 0 {
            return Ok(loaded);
        }
        cursor = next;
    }
}

/// Runs `cmd` on a pooled connection within `timeout`.
async fn query<T: redis::FromRedisValue>(
    pool: &deadpool_redis::Pool,
    timeout: Duration,
    what: &str,
    cmd: &redis::Cmd,
) -> Result<T, StoreError> {
    bounded(timeout, what, async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        cmd.query_async(&mut conn).await.map_err(|e| e.to_string())
    })
    .await
}

/// An id for one published denial: unique per process and call (it names
/// a short-lived list, nothing secret).
fn event_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(max: usize) -> DenyMirror {
        let mirror = DenyMirror::new(max, Duration::from_secs(3600));
        mirror.replace(HashMap::new());
        mirror
    }

    #[test]
    fn a_session_that_began_by_the_ending_is_refused_and_a_later_one_is_not() {
        let mirror = live(10);
        mirror.apply(&["th:deny:sid:a".to_owned()], 100);
        let keys = ["th:deny:sid:a".to_owned(), "th:deny:sub:b".to_owned()];
        assert_eq!(mirror.check(&keys, 100), Some(true));
        assert_eq!(mirror.check(&keys, 99), Some(true));
        assert_eq!(mirror.check(&keys, 101), Some(false));
        assert_eq!(mirror.check(&["th:deny:sid:z".to_owned()], 0), Some(false));
    }

    #[test]
    fn the_latest_ending_wins() {
        let mirror = live(10);
        let key = ["th:deny:sub:u".to_owned()];
        mirror.apply(&key, 200);
        mirror.apply(&key, 150);
        assert_eq!(mirror.check(&key, 180), Some(true));
    }

    #[test]
    fn memory_does_not_answer_before_loading_after_going_down_or_when_full() {
        let mirror = DenyMirror::new(2, Duration::from_secs(3600));
        assert_eq!(mirror.check(&[], 0), None, "not loaded");
        mirror.replace(HashMap::new());
        assert_eq!(mirror.check(&[], 0), Some(false));
        mirror.down();
        assert_eq!(mirror.check(&[], 0), None, "down");
        mirror.replace(HashMap::new());
        let keys: Vec<String> = (0..3).map(|i| format!("th:deny:sid:{i}")).collect();
        mirror.apply(&keys, 1);
        assert_eq!(mirror.check(&keys, 0), None, "more than the maximum");
    }

    #[test]
    fn memory_is_not_trusted_once_the_last_ping_is_too_old() {
        let mirror = live(10);
        mirror.heard_ms.store(0, Ordering::Release);
        let later = DenyMirror {
            epoch: Instant::now() - LIVE_FOR - Duration::from_millis(10),
            ..DenyMirror::new(10, Duration::from_secs(1))
        };
        later.loaded.store(true, Ordering::Release);
        assert_eq!(later.check(&[], 0), None);
        assert_eq!(mirror.check(&[], 0), Some(false));
    }

    #[test]
    fn entries_go_once_their_sessions_expired_anyway() {
        let mirror = DenyMirror::new(10, Duration::from_secs(100));
        mirror.replace(HashMap::new());
        mirror.apply(&["old".to_owned()], 1_000);
        mirror.apply(&["new".to_owned()], 1_050);
        mirror.prune(1_120);
        assert_eq!(mirror.check(&["old".to_owned()], 0), Some(false));
        assert_eq!(mirror.check(&["new".to_owned()], 0), Some(true));
    }
}
