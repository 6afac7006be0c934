//! The phantom-token cache: introspection results by the SHA-256 of the
//! opaque token, bounded in size, each entry dropped at its deadline.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use th_cookies::Secret;

/// The key: the token's hash, so the cache never holds a token it was given.
pub(crate) type TokenHash = [u8; 32];

/// Hashes an opaque token for the cache.
pub(crate) fn hash(token: &Secret) -> TokenHash {
    Sha256::digest(token.expose().as_bytes()).into()
}

/// What the provider said of a token.
#[derive(Clone)]
pub(crate) enum Verdict {
    /// Active: the signed introspection JWT to forward.
    Active(Secret),
    /// Not active (revoked, expired, unknown): 401 without asking again.
    Inactive,
}

struct Entry {
    verdict: Verdict,
    until: Instant,
}

/// A bounded map of token hash → JWT, each valid until its deadline.
pub(crate) struct PhantomCache {
    max_entries: usize,
    entries: Mutex<HashMap<TokenHash, Entry>>,
}

impl PhantomCache {
    /// An empty cache of at most `max_entries` (at least 1).
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The JWT for a token hash, unless absent or past its deadline.
    pub fn get(&self, key: &TokenHash, now: Instant) -> Option<Verdict> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some(entry) if entry.until > now => Some(entry.verdict.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps a JWT until `until`. When full, expired entries go first, then
    /// the entry closest to its deadline (it had the least use left).
    pub fn insert(&self, key: TokenHash, verdict: Verdict, until: Instant, now: Instant) {
        if until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= self.max_entries
                && let Some(soonest) = entries.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| *k)
            {
                entries.remove(&soonest);
            }
        }
        entries.insert(key, Entry { verdict, until });
    }

    /// How many entries are held (expired ones included until touched).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(n: u8) -> TokenHash {
        [n; 32]
    }

    #[test]
    fn entry_is_served_until_its_deadline() {
        let cache = PhantomCache::new(10);
        let now = Instant::now();
        cache.insert(
            key(1),
            Verdict::Active(Secret::new("jwt")),
            now + Duration::from_secs(5),
            now,
        );
        assert!(
            matches!(cache.get(&key(1), now), Some(Verdict::Active(jwt)) if jwt.expose() == "jwt")
        );
        assert!(cache.get(&key(1), now + Duration::from_secs(5)).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn cache_never_grows_past_its_bound() {
        let cache = PhantomCache::new(3);
        let now = Instant::now();
        for n in 0..10u8 {
            let until = now + Duration::from_secs(100 + u64::from(n));
            cache.insert(key(n), Verdict::Active(Secret::new("jwt")), until, now);
            assert!(cache.len() <= 3);
        }
        // The newest (latest deadlines) stay.
        assert!(cache.get(&key(9), now).is_some());
        assert!(cache.get(&key(0), now).is_none());
    }

    #[test]
    fn already_expired_result_is_not_kept() {
        let cache = PhantomCache::new(3);
        let now = Instant::now();
        cache.insert(key(1), Verdict::Active(Secret::new("jwt")), now, now);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_key_is_a_hash_not_the_token() {
        let k = hash(&Secret::new("opaque-token"));
        assert_ne!(&k[..], b"opaque-token");
        assert_eq!(k, hash(&Secret::new("opaque-token")));
    }
}
