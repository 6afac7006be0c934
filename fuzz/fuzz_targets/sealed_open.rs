//! The sealed-cookie decoder (`KeyRing::open`: version, key id, base64url,
//! AES-256-GCM with the cookie's name as associated data) on any bytes: it
//! never panics, and what opens was sealed by this ring under that name.
//! Inputs starting with 0xFF seal their rest instead, then change one byte
//! (chosen by the input) of the sealed value: the round trip must hold, and
//! the changed value must not open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use th_cookies::{CookieKey, KeyRing};

fn ring() -> KeyRing {
    KeyRing::new(vec![
        CookieKey::from_bytes("k1", &[7u8; 32]).unwrap(),
        CookieKey::from_bytes("k0", &[9u8; 32]).unwrap(),
    ])
    .unwrap()
}

const NAMES: [&str; 4] = ["__Host-th-at", "__Host-th-rt", "__Host-th-id", "th-session-state"];

fuzz_target!(|data: &[u8]| {
    let ring = ring();
    match data {
        [0xFF, pick, at, rest @ ..] => {
            let name = NAMES[*pick as usize % NAMES.len()];
            let sealed = ring.seal(name, rest);
            assert_eq!(ring.open(name, &sealed).unwrap(), rest);
            let mut bytes = sealed.clone().into_bytes();
            let i = *at as usize % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).unwrap();
            // base64url's last character may carry unused bits: a change
            // there can decode to the same bytes.
            if changed != sealed && i + 1 != sealed.len() {
                assert!(ring.open(name, &changed).is_err(), "{changed}");
            }
            let other = NAMES[(*pick as usize + 1) % NAMES.len()];
            assert!(ring.open(other, &sealed).is_err(), "opened under another name");
        }
        [pick, rest @ ..] => {
            let name = NAMES[*pick as usize % NAMES.len()];
            let text = String::from_utf8_lossy(rest);
            let _ = ring.open(name, &text);
        }
        [] => {}
    }
});
