//! Sealed, chunked cookies of each kind, read from a request and written to a response.

use crate::chunks::{chunk_name, split};
use crate::{CookieKind, CookiePolicy, KeyRing, OpenError, RequestCookies};
use cookie::Cookie;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a cookie could not be read. Callers answer every variant as "no session".
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the cookie is absent")]
    Absent,
    #[error("the cookie did not open: {0}")]
    Unopenable(#[from] OpenError),
    #[error("the cookie opened but its content is not what this version writes")]
    BadContent,
}

/// Why a cookie could not be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    #[error(
        "the {kind:?} cookie needs {needed} chunks of {chunk} bytes; the limit is {limit} \
         (raise cookies.max_chunks or use a smaller token)"
    )]
    TooLarge {
        kind: CookieKind,
        needed: usize,
        chunk: usize,
        limit: usize,
    },
}

/// The key ring and the cookie policy, together.
#[derive(Debug)]
pub struct Vault {
    ring: KeyRing,
    policy: CookiePolicy,
    max_chunks: usize,
}

impl Vault {
    /// A vault that splits a value over at most `max_chunks` cookies (at least 1).
    pub fn new(ring: KeyRing, policy: CookiePolicy, max_chunks: usize) -> Self {
        Self {
            ring,
            policy,
            max_chunks: max_chunks.max(1),
        }
    }

    /// The key ring, for values sealed outside cookies (a server-side session).
    pub fn key_ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The cookie policy.
    pub fn policy(&self) -> &CookiePolicy {
        &self.policy
    }

    /// Reads and opens the cookie of a kind.
    pub fn read(&self, cookies: &RequestCookies, kind: CookieKind) -> Result<Vec<u8>, ReadError> {
        let base = self.policy.name(kind);
        let first = cookies.get(base).ok_or(ReadError::Absent)?;
        let mut joined = first.to_owned();
        for index in 1..self.max_chunks {
            match cookies.get(&chunk_name(base, index)) {
                Some(part) => joined.push_str(part),
                None => break,
            }
        }
        Ok(self.ring.open(base, &joined)?)
    }

    /// Reads a cookie that holds JSON.
    pub fn read_json<T: DeserializeOwned>(
        &self,
        cookies: &RequestCookies,
        kind: CookieKind,
    ) -> Result<T, ReadError> {
        let bytes = self.read(cookies, kind)?;
        serde_json::from_slice(&bytes).map_err(|_| {
            crate::metrics::bad_content();
            ReadError::BadContent
        })
    }

    /// Seals `plaintext` into the cookie(s) of a kind, and drops any chunk the
    /// request carried that the new value no longer uses.
    pub fn write(
        &self,
        cookies: &RequestCookies,
        kind: CookieKind,
        plaintext: &[u8],
        max_age: Duration,
    ) -> Result<Vec<Cookie<'static>>, WriteError> {
        let base = self.policy.name(kind);
        let sealed = self.ring.seal(base, plaintext);
        let parts = split(&sealed);
        if parts.len() > self.max_chunks {
            return Err(WriteError::TooLarge {
                kind,
                needed: parts.len(),
                chunk: crate::MAX_CHUNK_LEN,
                limit: self.max_chunks,
            });
        }
        let mut out: Vec<Cookie<'static>> = parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                self.policy
                    .cookie(chunk_name(base, i), (*part).to_owned(), max_age)
            })
            .collect();
        out.extend(self.stale_chunks(cookies, base, parts.len()));
        Ok(out)
    }

    /// Seals a JSON value into the cookie(s) of a kind.
    pub fn write_json<T: Serialize>(
        &self,
        cookies: &RequestCookies,
        kind: CookieKind,
        value: &T,
        max_age: Duration,
    ) -> Result<Vec<Cookie<'static>>, WriteError> {
        let bytes = serde_json::to_vec(value).expect("cookie payloads serialize");
        self.write(cookies, kind, &bytes, max_age)
    }

    /// Removal cookies for a kind: the first always, the chunks the request had.
    pub fn clear(&self, cookies: &RequestCookies, kind: CookieKind) -> Vec<Cookie<'static>> {
        let base = self.policy.name(kind);
        let mut out = vec![self.policy.removal(base.to_owned())];
        out.extend(self.stale_chunks(cookies, base, 1));
        out
    }

    fn stale_chunks<'a>(
        &'a self,
        cookies: &'a RequestCookies,
        base: &'a str,
        from: usize,
    ) -> impl Iterator<Item = Cookie<'static>> + 'a {
        (from.max(1)..self.max_chunks)
            .map(move |i| chunk_name(base, i))
            .filter(|name| cookies.contains(name))
            .map(|name| self.policy.removal(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CookieKey;

    fn vault(max_chunks: usize) -> Vault {
        let ring = KeyRing::new(vec![CookieKey::from_bytes("k1", &[7; 32]).unwrap()]).unwrap();
        Vault::new(
            ring,
            CookiePolicy::new("th", true, None).unwrap(),
            max_chunks,
        )
    }

    fn as_request(cookies: &[Cookie<'static>]) -> RequestCookies {
        let header = cookies
            .iter()
            .filter(|c| !c.value().is_empty())
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ");
        RequestCookies::parse([header.as_str()])
    }

    #[test]
    fn small_value_round_trips_in_one_cookie() {
        let v = vault(4);
        let written = v
            .write(
                &RequestCookies::default(),
                CookieKind::Access,
                b"tok",
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].name(), "__Host-th-at");
        assert_eq!(
            v.read(&as_request(&written), CookieKind::Access).unwrap(),
            b"tok"
        );
    }

    #[test]
    fn large_value_is_chunked_and_round_trips() {
        let v = vault(4);
        let big = vec![b'a'; 8000];
        let written = v
            .write(
                &RequestCookies::default(),
                CookieKind::Id,
                &big,
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(written.len(), 3);
        assert!(written.iter().all(|c| c.to_string().len() < 4096));
        assert_eq!(v.read(&as_request(&written), CookieKind::Id).unwrap(), big);
    }

    #[test]
    fn value_over_the_chunk_limit_is_a_clear_error() {
        let v = vault(2);
        let err = v
            .write(
                &RequestCookies::default(),
                CookieKind::Id,
                &[b'a'; 9000],
                Duration::from_secs(5),
            )
            .unwrap_err();
        assert!(err.to_string().contains("the limit is 2"), "{err}");
    }

    #[test]
    fn shrinking_value_removes_stale_chunks() {
        let v = vault(4);
        let big = v
            .write(
                &RequestCookies::default(),
                CookieKind::Id,
                &[b'a'; 8000],
                Duration::from_secs(5),
            )
            .unwrap();
        let request = as_request(&big);
        let small = v
            .write(&request, CookieKind::Id, b"small", Duration::from_secs(5))
            .unwrap();
        let removed: Vec<_> = small
            .iter()
            .filter(|c| c.value().is_empty())
            .map(|c| c.name())
            .collect();
        assert_eq!(removed, ["__Host-th-id.1", "__Host-th-id.2"]);
    }

    #[test]
    fn dropped_or_reordered_chunk_is_unopenable() {
        let v = vault(4);
        let written = v
            .write(
                &RequestCookies::default(),
                CookieKind::Id,
                &[b'a'; 8000],
                Duration::from_secs(5),
            )
            .unwrap();
        let without_last = as_request(&written[..2]);
        assert!(v.read(&without_last, CookieKind::Id).is_err());
        let swapped = format!(
            "__Host-th-id={}; __Host-th-id.1={}; __Host-th-id.2={}",
            written[1].value(),
            written[0].value(),
            written[2].value()
        );
        assert!(
            v.read(&RequestCookies::parse([swapped.as_str()]), CookieKind::Id)
                .is_err()
        );
    }

    #[test]
    fn cookie_of_one_kind_does_not_read_as_another() {
        let v = vault(4);
        let rt = v
            .write(
                &RequestCookies::default(),
                CookieKind::Refresh,
                b"r",
                Duration::from_secs(5),
            )
            .unwrap();
        let as_access = format!("__Host-th-at={}", rt[0].value());
        assert!(matches!(
            v.read(
                &RequestCookies::parse([as_access.as_str()]),
                CookieKind::Access
            ),
            Err(ReadError::Unopenable(OpenError::Forged))
        ));
    }

    #[test]
    fn clear_removes_the_cookie_and_its_chunks() {
        let v = vault(4);
        let request = RequestCookies::parse(["__Host-th-at=x; __Host-th-at.1=y"]);
        let names: Vec<_> = v
            .clear(&request, CookieKind::Access)
            .iter()
            .map(|c| c.name().to_owned())
            .collect();
        assert_eq!(names, ["__Host-th-at", "__Host-th-at.1"]);
    }
}

/// Properties of the chunked cookies: any value round-trips, a chunk
/// missing, moved or swapped fails, and no Cookie header makes a read panic.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::CookieKey;
    use proptest::prelude::*;

    fn vault() -> Vault {
        let ring = KeyRing::new(vec![CookieKey::from_bytes("k1", &[7; 32]).unwrap()]).unwrap();
        Vault::new(ring, CookiePolicy::new("th", true, None).unwrap(), 4)
    }

    fn header(cookies: &[Cookie<'static>]) -> String {
        cookies
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    proptest! {
        #[test]
        fn any_value_that_fits_round_trips(value in proptest::collection::vec(any::<u8>(), 0..11_000)) {
            let v = vault();
            let written = v
                .write(&RequestCookies::default(), CookieKind::Refresh, &value, Duration::from_secs(60))
                .unwrap();
            let read = v.read(&RequestCookies::parse([header(&written).as_str()]), CookieKind::Refresh);
            prop_assert_eq!(read.unwrap(), value);
        }

        #[test]
        fn chunks_dropped_or_swapped_never_open(
            value in proptest::collection::vec(any::<u8>(), 4000..11_000),
            drop_at in any::<prop::sample::Index>(),
        ) {
            let v = vault();
            let written = v
                .write(&RequestCookies::default(), CookieKind::Refresh, &value, Duration::from_secs(60))
                .unwrap();
            prop_assume!(written.len() >= 2);
            let mut dropped = written.clone();
            dropped.remove(drop_at.index(written.len()));
            let read = v.read(&RequestCookies::parse([header(&dropped).as_str()]), CookieKind::Refresh);
            prop_assert!(read.ok() != Some(value.clone()));
            // The first two chunks' values swapped under their names.
            let mut swapped = written.clone();
            let (a, b) = (swapped[0].value().to_owned(), swapped[1].value().to_owned());
            swapped[0].set_value(b);
            swapped[1].set_value(a);
            let read = v.read(&RequestCookies::parse([header(&swapped).as_str()]), CookieKind::Refresh);
            prop_assert!(read.is_err());
        }

        #[test]
        fn no_cookie_header_makes_a_read_panic(raw in ".{0,600}", tail in "[a-zA-Z0-9_.=;-]{0,200}") {
            let v = vault();
            for line in [raw.clone(), format!("__Host-th-rt={tail}; __Host-th-rt.1={raw}")] {
                let cookies = RequestCookies::parse([line.as_str()]);
                for kind in [CookieKind::Access, CookieKind::Refresh, CookieKind::Id, CookieKind::Session, CookieKind::Login] {
                    let _ = v.read(&cookies, kind);
                    let _ = v.clear(&cookies, kind);
                }
            }
        }
    }
}
