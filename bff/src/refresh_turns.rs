//! One refresh at a time per session, where the session's state is not
//! shared (the cookie store): requests that arrive with the same refresh
//! token while it is being used wait for that one refresh and get its new
//! cookies, and so does a request that arrives with it shortly after
//! (within `session.refresh_grace_secs`). Without this, the second request would replay a
//! refresh token the provider has just rotated out, and a provider that
//! detects reuse ends the whole session.
//!
//! [`LocalTurns`] does this within one process. Across replicas, the Redis
//! side ([`crate::session::SessionRegistry`]) holds the turn and a sealed
//! copy of the new cookies ([`seal_cookies`]).

use crate::error::BffError;
use crate::oidc::OidcError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use th_cookies::{CookieOut, KeyRing};
use tokio::sync::watch;

/// Refreshes remembered before the first sweep of the finished ones; later
/// sweeps come when the map has doubled since the last.
const FIRST_SWEEP: usize = 256;

/// The associated data of the cookies handed over through Redis.
const SEAL_NAME: &str = "th-refresh-handoff";

/// How a finished refresh went, for those who waited for it.
#[derive(Clone)]
enum Outcome {
    Refreshed(Vec<CookieOut>),
    /// The provider refused: the session is over for everyone.
    Ended,
    /// Anything else (the provider down): the session stays, try later.
    Failed,
}

impl Outcome {
    fn of(result: &Result<Vec<CookieOut>, BffError>) -> Self {
        match result {
            Ok(cookies) => Self::Refreshed(cookies.clone()),
            Err(BffError::RefreshRefused(_) | BffError::Unauthorized(_)) => Self::Ended,
            Err(_) => Self::Failed,
        }
    }

    fn into_result(self) -> Result<Vec<CookieOut>, BffError> {
        match self {
            Self::Refreshed(cookies) => Ok(cookies),
            Self::Ended => Err(BffError::Unauthorized(
                "the provider refused the refresh token",
            )),
            Self::Failed => Err(BffError::Provider(OidcError::Unavailable(
                "a concurrent refresh of this session failed; try again".into(),
            ))),
        }
    }
}

enum Turn {
    /// Being refreshed; the sender's side says how it went.
    Running(watch::Receiver<Option<Outcome>>),
    /// Refreshed at `at`: its cookies, for a request that is late.
    Done {
        cookies: Vec<CookieOut>,
        at: Instant,
    },
}

/// The refreshes of this process, by the SHA-256 of the refresh token used.
pub struct LocalTurns {
    turns: Mutex<HashMap<[u8; 32], Turn>>,
    /// How long a refresh's cookies are handed to a request that arrives
    /// with the refresh token they replaced (a tab that sent it too late).
    grace: Duration,
    /// The size at which the next sweep comes (under the map's lock).
    sweep_at: std::sync::atomic::AtomicUsize,
}

enum Joined {
    Lead(watch::Sender<Option<Outcome>>),
    Wait(watch::Receiver<Option<Outcome>>),
    Done(Vec<CookieOut>),
}

impl LocalTurns {
    pub fn new(grace: Duration) -> Self {
        Self {
            turns: Mutex::default(),
            grace,
            sweep_at: FIRST_SWEEP.into(),
        }
    }

    /// Runs `refresh` for `refresh_token` unless a refresh with it is running
    /// (then waits for it and answers as it did) or just finished (then
    /// answers its cookies).
    pub async fn run<F, Fut>(
        &self,
        refresh_token: &str,
        refresh: F,
    ) -> Result<Vec<CookieOut>, BffError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<CookieOut>, BffError>>,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let mut refresh = Some(refresh);
        loop {
            match self.join(key) {
                Joined::Done(cookies) => return Ok(cookies),
                Joined::Wait(mut running) => {
                    if let Ok(outcome) = running.wait_for(Option::is_some).await
                        && let Some(outcome) = outcome.clone()
                    {
                        return outcome.into_result();
                    }
                    // The refreshing request went away unfinished: take a turn.
                }
                Joined::Lead(done) => {
                    let Some(refresh) = refresh.take() else {
                        unreachable!("a request leads at most once: it returns after");
                    };
                    // Ends the turn even if this request is dropped mid-way.
                    let mut turn = TurnGuard {
                        turns: self,
                        key,
                        kept: None,
                    };
                    let result = refresh().await;
                    let outcome = Outcome::of(&result);
                    if let Outcome::Refreshed(cookies) = &outcome {
                        turn.kept = Some(cookies.clone());
                    }
                    drop(turn);
                    let _ = done.send(Some(outcome));
                    return result;
                }
            }
        }
    }

    fn join(&self, key: [u8; 32]) -> Joined {
        let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
        match turns.get(&key) {
            Some(Turn::Running(running)) => return Joined::Wait(running.clone()),
            Some(Turn::Done { cookies, at }) if at.elapsed() < self.grace => {
                return Joined::Done(cookies.clone());
            }
            _ => {}
        }
        // A sweep when the map has doubled: the work stays proportional to
        // the refreshes, and what is kept to about twice the refreshes of
        // one grace time (each holds a session's cookies, a few KiB: with a
        // fixed bound of 10,000, a soak's RSS rose by 25 MiB between sweeps).
        let sweep_at = self.sweep_at.load(std::sync::atomic::Ordering::Relaxed);
        if turns.len() >= sweep_at {
            // Past their grace, finished turns are worth nothing. What stays
            // is bounded by the requests in flight and the refreshes of the
            // grace time, each of which needed a live session.
            turns.retain(|_, turn| match turn {
                Turn::Running(_) => true,
                Turn::Done { at, .. } => at.elapsed() < self.grace,
            });
            self.sweep_at.store(
                (turns.len() * 2).max(FIRST_SWEEP),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        let (done, running) = watch::channel(None);
        turns.insert(key, Turn::Running(running));
        Joined::Lead(done)
    }
}

/// Ends a turn: keeps the cookies for the grace time, or forgets the turn.
struct TurnGuard<'a> {
    turns: &'a LocalTurns,
    key: [u8; 32],
    kept: Option<Vec<CookieOut>>,
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        let mut turns = self.turns.turns.lock().unwrap_or_else(|e| e.into_inner());
        match self.kept.take() {
            Some(cookies) => {
                turns.insert(
                    self.key,
                    Turn::Done {
                        cookies,
                        at: Instant::now(),
                    },
                );
            }
            None => {
                turns.remove(&self.key);
            }
        }
    }
}

/// The cookies of a refresh, sealed for the Redis handoff: Redis never
/// holds a cookie a reader of it could replay.
pub fn seal_cookies(ring: &KeyRing, cookies: &[CookieOut]) -> String {
    let lines: Vec<String> = cookies.iter().map(ToString::to_string).collect();
    let plain = serde_json::to_vec(&lines).unwrap_or_default();
    ring.seal(SEAL_NAME, &plain)
}

/// The cookies [`seal_cookies`] sealed; `None` if they do not open.
pub fn open_cookies(ring: &KeyRing, sealed: &str) -> Option<Vec<CookieOut>> {
    let plain = ring.open(SEAL_NAME, sealed).ok()?;
    let lines: Vec<String> = serde_json::from_slice(&plain).ok()?;
    lines
        .into_iter()
        .map(|line| CookieOut::parse(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key_ring(id: &str, key: &[u8]) -> KeyRing {
        KeyRing::new(vec![th_cookies::CookieKey::from_bytes(id, key).unwrap()]).unwrap()
    }

    fn cookie(value: &str) -> Vec<CookieOut> {
        vec![CookieOut::new("__Host-th-at", value.to_owned())]
    }

    #[tokio::test]
    async fn finished_refreshes_past_their_grace_are_swept_as_the_map_doubles() {
        // No grace: a finished refresh is worth nothing once it has ended.
        let turns = LocalTurns::new(Duration::ZERO);
        for i in 0..5_000 {
            let refreshed = || async { Ok(cookie("new")) };
            turns.run(&format!("rt-{i}"), refreshed).await.unwrap();
        }
        let kept = turns.turns.lock().unwrap().len();
        assert!(kept < FIRST_SWEEP, "{kept} finished refreshes kept");
    }

    #[tokio::test]
    async fn a_failed_refresh_is_not_remembered() {
        let turns = LocalTurns::new(Duration::from_secs(30));
        let calls = AtomicUsize::new(0);
        let failing = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(BffError::Provider(OidcError::Timeout))
        };
        assert!(turns.run("rt", failing).await.is_err());
        let ok = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(cookie("new"))
        };
        assert_eq!(turns.run("rt", ok).await.unwrap(), cookie("new"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refresh_dropped_midway_lets_the_waiter_take_the_turn() {
        let turns = LocalTurns::new(Duration::from_secs(30));
        let never = turns.run("rt", std::future::pending);
        // Starts the first refresh, then drops it (the client went away).
        assert!(
            tokio::time::timeout(Duration::from_millis(20), never)
                .await
                .is_err()
        );
        let second = turns.run("rt", || async { Ok(cookie("second")) });
        assert_eq!(second.await.unwrap(), cookie("second"));
    }

    #[tokio::test]
    async fn waiters_get_the_refreshers_answer_refused_included() {
        let turns = LocalTurns::new(Duration::from_secs(30));
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        let lead = turns.run("rt", || async {
            wait.await.ok();
            Err(BffError::Unauthorized("refused"))
        });
        let waiter = turns.run("rt", || async { Ok(cookie("must not run")) });
        let release = async {
            tokio::task::yield_now().await;
            go.send(()).ok();
        };
        let (lead, waiter, ()) = tokio::join!(lead, waiter, release);
        assert!(matches!(lead, Err(BffError::Unauthorized(_))));
        assert!(
            matches!(waiter, Err(BffError::Unauthorized(_))),
            "{waiter:?}"
        );
    }

    #[test]
    fn handed_over_cookies_open_only_with_the_ring() {
        let ring = key_ring("k1", &[1; 32]);
        let sealed = seal_cookies(&ring, &cookie("v"));
        assert!(!sealed.contains("__Host-th-at"));
        assert_eq!(open_cookies(&ring, &sealed).unwrap(), cookie("v"));
        let other = key_ring("k1", &[2; 32]);
        assert!(open_cookies(&other, &sealed).is_none());
    }

    #[test]
    fn handed_over_cookies_keep_every_attribute() {
        let line = "__Host-th-at=v1.k1.abc; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=600";
        let sent = vec![CookieOut::parse(line.to_owned()).unwrap()];
        let ring = key_ring("k1", &[1; 32]);
        let got = open_cookies(&ring, &seal_cookies(&ring, &sent)).unwrap();
        assert_eq!(got[0].to_string(), sent[0].to_string());
        for attribute in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=600",
        ] {
            assert!(got[0].to_string().contains(attribute), "{}", got[0]);
        }
    }
}
