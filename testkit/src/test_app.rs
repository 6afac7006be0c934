//! The app every test stands for: its origin and host, the redirect URI
//! registered for it at the provider, and the cookie keys its BFF seals with.
//! One set, so that a suite's BFF, its provider and its requests agree.

/// The SPA's origin: the `Origin` its requests carry and the BFF allows.
pub const APP_ORIGIN: &str = "https://app.example.test";
/// The host the SPA's requests are sent to (one BFF serves each app's host).
pub const APP_HOST: &str = "app.example.test";
/// The redirect URI registered at the provider: the SPA's own page.
pub const REDIRECT: &str = "https://app.example.test/";
/// A fixed cookie key (base64url of bytes 0..32), for tests only: a test
/// may open what its BFF sealed, and a log scan knows what to look for.
pub const TEST_COOKIE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// A second fixed key (base64url of bytes 32..64), for key rotation.
pub const TEST_COOKIE_KEY_2: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

/// The `Cookie` header a browser sends for these `name, value` pairs.
pub fn cookie_header<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> String
where
    N: std::fmt::Display,
    V: std::fmt::Display,
{
    pairs
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn the_test_keys_are_the_bytes_their_comments_name() {
        let first = URL_SAFE_NO_PAD.decode(TEST_COOKIE_KEY).unwrap();
        let second = URL_SAFE_NO_PAD.decode(TEST_COOKIE_KEY_2).unwrap();
        assert_eq!(first, (0..32).collect::<Vec<u8>>());
        assert_eq!(second, (32..64).collect::<Vec<u8>>());
    }

    #[test]
    fn cookie_header_joins_pairs_as_a_browser_does() {
        assert_eq!(cookie_header([("a", "1"), ("b", "2")]), "a=1; b=2");
        assert_eq!(cookie_header(Vec::<(String, String)>::new()), "");
    }
}
