//! AES-256-GCM sealing with a ring of keys.
//!
//! Encoding of a sealed value: `v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`,
//! base64url without padding. The associated data binds the version, the key
//! id and the cookie name, so a value sealed for one cookie does not open
//! under another name, and a key id cannot be swapped.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Length of a key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// One key of the ring: an id (printable, short) and 32 secret bytes.
pub struct CookieKey {
    id: String,
    /// The id as a metric label, made once (opening a value allocates nothing for it).
    label: metrics::SharedString,
    /// Its count of values opened, registered on the first one: a registry
    /// lookup per request otherwise. Values are opened for requests, after
    /// the server (and the metrics recorder) started.
    opened: std::sync::OnceLock<metrics::Counter>,
    cipher: Aes256Gcm,
}

impl fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Why a key or a ring could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRingError {
    #[error("the key ring is empty: configure at least one cookie key")]
    Empty,
    #[error("cookie key id {0:?} must be 1-16 characters of A-Z, a-z, 0-9, '_' or '-'")]
    BadId(String),
    #[error("cookie key {id:?} is not base64 (standard or URL-safe)")]
    NotBase64 { id: String },
    #[error("cookie key {id:?} is {len} bytes; it must be exactly 32 bytes (AES-256)")]
    WrongLength { id: String, len: usize },
    #[error("cookie key id {0:?} appears twice")]
    DuplicateId(String),
}

/// Why a sealed value did not open. Callers treat every variant as "absent".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("not a sealed value of a known version")]
    Malformed,
    #[error("sealed with a key id the ring does not hold")]
    UnknownKey,
    #[error("authentication failed (tampered, truncated or sealed for another name)")]
    Forged,
}

impl CookieKey {
    /// Builds a key from its id and its base64 encoding (standard or URL-safe,
    /// padded or not).
    pub fn from_base64(id: &str, encoded: &str) -> Result<Self, KeyRingError> {
        let bytes = decode_any_base64(encoded.trim())
            .ok_or_else(|| KeyRingError::NotBase64 { id: id.to_owned() })?;
        Self::from_bytes(id, &bytes)
    }

    /// Builds a key from its id and 32 raw bytes.
    pub fn from_bytes(id: &str, bytes: &[u8]) -> Result<Self, KeyRingError> {
        let id_ok = (1..=16).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(KeyRingError::BadId(id.to_owned()));
        }
        if bytes.len() != KEY_LEN {
            return Err(KeyRingError::WrongLength {
                id: id.to_owned(),
                len: bytes.len(),
            });
        }
        let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| KeyRingError::WrongLength {
            id: id.to_owned(),
            len: bytes.len(),
        })?;
        Ok(Self {
            id: id.to_owned(),
            label: metrics::SharedString::from_shared(std::sync::Arc::<str>::from(id)),
            opened: std::sync::OnceLock::new(),
            cipher,
        })
    }

    /// The key's id, as written into every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }
}

fn decode_any_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())
}

/// The keys that seal and open cookie values: the first seals, all open, so
/// a new key can be put first without logging anyone out.
#[derive(Debug)]
pub struct KeyRing {
    keys: Vec<CookieKey>,
}

impl KeyRing {
    /// Builds a ring; the first key is the one that seals.
    pub fn new(keys: Vec<CookieKey>) -> Result<Self, KeyRingError> {
        if keys.is_empty() {
            return Err(KeyRingError::Empty);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.id == key.id) {
                return Err(KeyRingError::DuplicateId(key.id.clone()));
            }
        }
        Ok(Self { keys })
    }

    /// Seals `plaintext` for the cookie called `name`.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        // A failing OS random source leaves no safe way to go on.
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let aad = associated_data(&key.id, name);
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .expect("AES-GCM encryption cannot fail for inputs under 64 GiB");
        let mut raw = Vec::with_capacity(NONCE_LEN + sealed.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(raw))
    }

    /// Opens a value sealed for the cookie called `name`.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        self.try_open(name, sealed)
            .inspect_err(crate::metrics::open_failed)
    }

    fn try_open(&self, name: &str, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Malformed);
        };
        let key = self
            .keys
            .iter()
            .find(|k| k.id == id)
            .ok_or(OpenError::UnknownKey)?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| OpenError::Malformed)?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let aad = associated_data(id, name);
        let opened = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Forged)?;
        crate::metrics::opened(&key.opened, &key.label);
        Ok(opened)
    }
}

/// A fresh random key, base64 (standard, padded), for `cookies.keys`.
pub fn generate_key_base64() -> String {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).expect("the operating system's random source failed");
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// `v1|<key id>|<cookie name>`; pushed, not formatted: it is built for
/// every cookie opened.
fn associated_data(key_id: &str, name: &str) -> String {
    let mut aad = String::with_capacity(VERSION.len() + key_id.len() + name.len() + 2);
    for part in [VERSION, "|", key_id, "|", name] {
        aad.push_str(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, fill: u8) -> CookieKey {
        CookieKey::from_bytes(id, &[fill; KEY_LEN]).unwrap()
    }

    fn ring(ids: &[(&str, u8)]) -> KeyRing {
        KeyRing::new(ids.iter().map(|(id, fill)| key(id, *fill)).collect()).unwrap()
    }

    #[test]
    fn sealed_value_opens_under_the_same_name() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal("__Host-th-at", b"token");
        assert!(sealed.starts_with("v1.k1."));
        assert_eq!(ring.open("__Host-th-at", &sealed).unwrap(), b"token");
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let ring = ring(&[("k1", 1)]);
        assert_ne!(ring.seal("n", b"same"), ring.seal("n", b"same"));
    }

    #[test]
    fn value_does_not_open_under_another_name() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal("__Host-th-rt", b"refresh");
        assert_eq!(ring.open("__Host-th-at", &sealed), Err(OpenError::Forged));
    }

    #[test]
    fn tampered_value_is_forged() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal("n", b"token");
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(ring.open("n", &tampered), Err(OpenError::Forged));
    }

    #[test]
    fn truncated_and_empty_values_are_malformed() {
        let ring = ring(&[("k1", 1)]);
        let sealed = ring.seal("n", b"token");
        assert_eq!(ring.open("n", ""), Err(OpenError::Malformed));
        assert_eq!(ring.open("n", "v1.k1."), Err(OpenError::Malformed));
        assert_eq!(ring.open("n", &sealed[..10]), Err(OpenError::Malformed));
        assert_eq!(ring.open("n", "v2.k1.AAAA"), Err(OpenError::Malformed));
        assert!(ring.open("n", &sealed[..sealed.len() - 4]).is_err());
    }

    #[test]
    fn value_from_a_foreign_key_does_not_open() {
        let ours = ring(&[("k1", 1)]);
        let theirs = ring(&[("k1", 2)]);
        let sealed = theirs.seal("n", b"token");
        assert_eq!(ours.open("n", &sealed), Err(OpenError::Forged));
        let other_id = ring(&[("k9", 1)]).seal("n", b"token");
        assert_eq!(ours.open("n", &other_id), Err(OpenError::UnknownKey));
    }

    #[test]
    fn swapping_the_key_id_is_detected() {
        // Two keys with the same bytes: the id is bound in, so relabelling fails.
        let ring = ring(&[("k1", 1), ("k2", 1)]);
        let sealed = ring.seal("n", b"token");
        let relabelled = sealed.replacen("v1.k1.", "v1.k2.", 1);
        assert_eq!(ring.open("n", &relabelled), Err(OpenError::Forged));
    }

    #[test]
    fn old_key_still_opens_after_rotation() {
        let old = ring(&[("old", 1)]);
        let sealed = old.seal("n", b"token");
        let rotated = ring(&[("new", 2), ("old", 1)]);
        assert_eq!(rotated.open("n", &sealed).unwrap(), b"token");
        assert!(rotated.seal("n", b"x").starts_with("v1.new."));
    }

    #[test]
    fn bad_keys_are_refused_with_the_reason() {
        assert_eq!(
            CookieKey::from_base64("k1", "c2hvcnQ").unwrap_err(),
            KeyRingError::WrongLength {
                id: "k1".into(),
                len: 5
            }
        );
        assert!(matches!(
            CookieKey::from_base64("k1", "not base64!"),
            Err(KeyRingError::NotBase64 { .. })
        ));
        assert!(matches!(
            CookieKey::from_bytes("bad.id", &[0; 32]),
            Err(KeyRingError::BadId(_))
        ));
        assert_eq!(KeyRing::new(vec![]).unwrap_err(), KeyRingError::Empty);
        assert!(matches!(
            KeyRing::new(vec![key("a", 1), key("a", 2)]),
            Err(KeyRingError::DuplicateId(_))
        ));
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let printed = format!("{:?}", ring(&[("k1", 0x41)]));
        assert!(printed.contains("k1"));
        assert!(printed.contains("redacted"));
    }
}

/// Properties over any value, name and tampering: what the codec promises.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn ring() -> KeyRing {
        KeyRing::new(vec![
            CookieKey::from_bytes("k2", &[2; KEY_LEN]).unwrap(),
            CookieKey::from_bytes("k1", &[1; KEY_LEN]).unwrap(),
        ])
        .unwrap()
    }

    proptest! {
        #[test]
        fn any_value_round_trips_under_its_name(
            name in "[!-~]{1,40}",
            value in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let ring = ring();
            let sealed = ring.seal(&name, &value);
            prop_assert_eq!(ring.open(&name, &sealed).unwrap(), value);
        }

        #[test]
        fn any_change_to_any_byte_fails_to_open(
            value in proptest::collection::vec(any::<u8>(), 0..256),
            at in any::<prop::sample::Index>(),
            to in any::<u8>(),
        ) {
            let ring = ring();
            let sealed = ring.seal("__Host-th-at", &value);
            let mut bytes = sealed.clone().into_bytes();
            let i = at.index(bytes.len());
            prop_assume!(bytes[i] != to);
            bytes[i] = to;
            let changed = String::from_utf8_lossy(&bytes).into_owned();
            prop_assume!(changed != sealed);
            prop_assert!(ring.open("__Host-th-at", &changed).is_err());
        }

        #[test]
        fn a_value_never_opens_under_another_name(
            value in proptest::collection::vec(any::<u8>(), 0..64),
            other in "[!-~]{1,40}",
        ) {
            prop_assume!(other != "__Host-th-rt");
            let ring = ring();
            let sealed = ring.seal("__Host-th-rt", &value);
            prop_assert!(ring.open(&other, &sealed).is_err());
        }

        #[test]
        fn no_input_makes_open_panic(name in ".{0,20}", sealed in ".{0,300}") {
            let _ = ring().open(&name, &sealed);
            let _ = ring().open(&name, &format!("v1.k1.{sealed}"));
        }
    }
}
