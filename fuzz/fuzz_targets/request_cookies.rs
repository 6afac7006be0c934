//! The request-cookie reader: any `Cookie` header values (one per line),
//! parsed, then every kind of cookie read through the vault (chunks joined
//! in order, at most four, then opened) and the access cookie as JSON. It
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use th_cookies::{
    AccessTokenPayload, CookieKey, CookieKind, CookiePolicy, KeyRing, RequestCookies, Vault,
};

fuzz_target!(|data: &[u8]| {
    let ring = KeyRing::new(vec![CookieKey::from_bytes("k1", &[7u8; 32]).unwrap()]).unwrap();
    let vault = Vault::new(ring, CookiePolicy::new("th", true, None).unwrap(), 4);
    let text = String::from_utf8_lossy(data);
    let cookies = RequestCookies::parse(text.split('\n'));
    for kind in [
        CookieKind::Login,
        CookieKind::Access,
        CookieKind::Refresh,
        CookieKind::Id,
        CookieKind::Session,
    ] {
        let _ = vault.read(&cookies, kind);
    }
    let _ = vault.read_json::<AccessTokenPayload>(&cookies, CookieKind::Access);
});
