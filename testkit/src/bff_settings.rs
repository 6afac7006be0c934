//! The BFF settings of the tests and the example drivers (the API suite,
//! `examples/soak.rs`, `examples/bff_costs.rs`), as TOML text: the test app's
//! origin and cookie key, the local provider's registered client. Each
//! caller appends the sections of its own.
//!
//! Not `dev/bff.dev.toml` (which `scripts/dev.sh` and the browser test run):
//! these BFFs serve an `https` origin, so the cookies are the production
//! ones (`Secure`, `__Host-`), which the dev file turns off for plain-http
//! loopback; they seal with a fixed key a test can open; and many start at
//! once, in-process, on port 0, each test varying a section.

use crate::ProviderOptions;
use crate::test_app::{APP_ORIGIN, REDIRECT, TEST_COOKIE_KEY};

/// What a caller may change in `listen`, `[oidc]`, `[cors]` and `[cookies]`.
#[derive(Debug, Clone)]
pub struct BffSettings {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The port to listen on (0: any free one).
    pub port: u16,
    pub client_secret: String,
    /// The key ring, `(id, base64url key)`, the first one sealing.
    pub keys: Vec<(String, String)>,
    /// `[oidc] http_timeout_secs`; `None` leaves the BFF's default.
    pub http_timeout_secs: Option<u64>,
}

impl BffSettings {
    /// Signing in at `issuer` as the provider's default client, listening
    /// on `port`, with the test cookie key.
    pub fn new(issuer: &str, port: u16) -> Self {
        Self {
            issuer: issuer.to_owned(),
            port,
            client_secret: ProviderOptions::default().client_secret,
            keys: vec![("k1".into(), TEST_COOKIE_KEY.into())],
            http_timeout_secs: None,
        }
    }

    /// `listen`, `[oidc]`, `[cors]` and `[cookies]`, ending in `[cookies]`
    /// so the caller can go on with a section of its own.
    pub fn toml(&self) -> String {
        let keys = self
            .keys
            .iter()
            .map(|(id, key)| format!(r#"{{ id = "{id}", key = "{key}" }}"#))
            .collect::<Vec<_>>()
            .join(", ");
        let timeout = self
            .http_timeout_secs
            .map(|secs| format!("http_timeout_secs = {secs}\n"))
            .unwrap_or_default();
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
{timeout}[cors]
allowed_origins = ["{APP_ORIGIN}"]
[cookies]
keys = [{keys}]
"#,
            port = self.port,
            issuer = self.issuer,
            secret = self.client_secret,
        )
    }
}

/// [`BffSettings::new`]'s TOML: a BFF on `port` signing in at `issuer`.
pub fn bff_settings(issuer: &str, port: u16) -> String {
    BffSettings::new(issuer, port).toml()
}
