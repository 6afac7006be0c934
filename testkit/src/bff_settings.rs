//! The settings the example drivers (`examples/soak.rs`,
//! `examples/bff_costs.rs`) give a real `bff` process: one app origin, one
//! fixed test cookie key, the local provider's registered client.

use crate::ProviderOptions;

/// The SPA's origin, and the redirect URI registered at the provider.
pub const APP_ORIGIN: &str = "https://app.example.test";
pub const APP_HOST: &str = "app.example.test";
pub const REDIRECT: &str = "https://app.example.test/";
/// A fixed cookie key (base64url of 32 bytes), for tests only.
pub const TEST_COOKIE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// `listen`, `[oidc]`, `[cors]` and `[cookies]` for a BFF on `port` signing
/// in at `issuer`; the caller appends the other sections.
pub fn bff_settings(issuer: &str, port: u16) -> String {
    format!(
        r#"
listen = "127.0.0.1:{port}"
[oidc]
issuer = "{issuer}"
client_id = "token-handler"
client_secret = "{secret}"
redirect_uri = "{REDIRECT}"
post_logout_redirect_uri = "{REDIRECT}"
scopes = ["openid", "profile", "email", "offline_access"]
extra_authorize_params = {{ prompt = "consent" }}
[cors]
allowed_origins = ["{APP_ORIGIN}"]
[cookies]
keys = [{{ id = "k1", key = "{TEST_COOKIE_KEY}" }}]
"#,
        secret = ProviderOptions::default().client_secret,
    )
}
