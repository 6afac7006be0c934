//! Typed settings: a TOML file, then `TH_`-prefixed environment variables
//! (`TH_OIDC__CLIENT_SECRET` sets `oidc.client_secret`), validated once at start.

use crate::session::RedisSettings;
use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use th_cookies::{CookieSettings, Secret, Vault};
use th_http::app_origin::{AppOrigins, CorsSettings, ForwardedSettings};
use th_http::metrics::MetricsSettings;
use th_http::origin::Origin;
use th_http::settings::{IssuerUrl, SettingsError, http_url};
use th_proxy::{Proxy, ProxyConfig, ProxyError};
use url::Url;

/// The whole settings file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub oidc: OidcSettings,
    /// `[cors]`: the app origins, and any explicit cross-origin callers.
    #[serde(default)]
    pub cors: CorsSettings,
    /// `[forwarded]`: the proxies in front and the header naming the app host.
    #[serde(default)]
    pub forwarded: ForwardedSettings,
    #[serde(default)]
    pub cookies: CookieSettings,
    #[serde(default)]
    pub session: SessionSettings,
    /// `[redis]`: the server-side session store (with `session.store = "redis"`).
    #[serde(default)]
    pub redis: Option<RedisSettings>,
    #[serde(default)]
    pub limits: LimitSettings,
    #[serde(default)]
    pub log: LogSettings,
    /// `[proxy]`: the API routes (see the `th-proxy` crate).
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// `[metrics]`: the Prometheus listener, on an address of its own (off
    /// when unset).
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// `[traces]`: OpenTelemetry spans over OTLP/HTTP (off when unset).
    #[serde(default)]
    pub traces: TracesSettings,
}

/// The port the server listens on when `listen` is not set; `bff
/// healthcheck` probes the same one.
pub const DEFAULT_PORT: u16 = 8081;

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))
}

/// `[oidc]`: the provider and this client's registration there.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// The issuer URL; metadata comes from `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The SPA's own URL, registered at the provider.
    pub redirect_uri: String,
    /// More SPA URLs (one per app host, e.g. each `wasm_clients` subdomain),
    /// also registered at the provider. A login started from one of their
    /// origins comes back to it; logout returns there too.
    #[serde(default)]
    pub extra_redirect_uris: Vec<String>,
    /// Where the provider sends the browser after logout.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Extra authorization-request parameters, e.g. `{ prompt = "consent" }`.
    #[serde(default)]
    pub extra_authorize_params: BTreeMap<String, String>,
    /// Push the authorization request first (RFC 9126) when the provider supports it.
    #[serde(default)]
    pub use_par: bool,
    /// Timeout of every call to the provider.
    #[serde(default = "default_timeout")]
    pub http_timeout_secs: u64,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email", "offline_access"]
        .map(String::from)
        .to_vec()
}

fn default_timeout() -> u64 {
    10
}

/// Where sessions live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// Sealed cookies: no server state (the default).
    #[default]
    Cookie,
    /// Redis: the browser holds a sealed session key; the server can end sessions.
    Redis,
}

/// `[session]`: the store and the lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// `cookie` (the default) or `redis` (needs `[redis]`).
    pub store: StoreKind,
    /// The longest a session lasts, refreshes included.
    pub lifetime_secs: u64,
    /// How long a started login may take.
    pub login_lifetime_secs: u64,
    /// The access token's lifetime when the token response has no
    /// `expires_in` (capped, like every token, at the session's end).
    pub default_access_token_lifetime_secs: u64,
    /// How long after a refresh a request that still carries the refresh
    /// token it replaced gets the refreshed session instead of replaying the
    /// old token (0: only requests concurrent with the refresh share it).
    pub refresh_grace_secs: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            store: StoreKind::Cookie,
            lifetime_secs: 8 * 3600,
            login_lifetime_secs: 600,
            default_access_token_lifetime_secs: 300,
            refresh_grace_secs: 30,
        }
    }
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// The largest JSON body a `/bff/*` endpoint accepts.
    pub max_json_bytes: usize,
    /// Logins one client address may start a minute (each costs a call to
    /// the provider); more are 429. 0 turns the limit off.
    pub login_starts_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_json_bytes: 16 * 1024,
            login_starts_per_minute: 30,
        }
    }
}

/// `[log]`: JSON by default, `format = "pretty"` for people.
pub use th_http::telemetry::{LogFormat, LogSettings, TracesSettings};

/// Why the settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or the environment did not read as settings (figment's
    /// message names the key and where its value came from).
    #[error("{0}")]
    Load(Box<th_http::settings::LoadError>),
    /// A setting is unusable; the message names it.
    #[error(transparent)]
    Invalid(#[from] SettingsError),
    /// The proxy's HTTP client could not be built.
    #[error(transparent)]
    ProxyClient(ProxyError),
}

impl From<ProxyError> for ConfigError {
    fn from(e: ProxyError) -> Self {
        match e {
            ProxyError::Config(e) => Self::Invalid(e),
            other => Self::ProxyClient(other),
        }
    }
}

/// The session store chosen, with its settings.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// Sealed cookies; with `[redis]`, ended sessions are recorded there.
    Cookie(Option<RedisSettings>),
    Redis(RedisSettings),
}

/// Settings after validation: every value parsed and safe to use.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub oidc: OidcConfig,
    /// The app origins by host, and the explicit cross-origin callers.
    pub app_origins: AppOrigins,
    pub vault: Arc<Vault>,
    pub session_store: StoreChoice,
    pub session_lifetime: Duration,
    pub login_lifetime: Duration,
    pub default_access_lifetime: Duration,
    pub refresh_grace: Duration,
    pub max_json_bytes: usize,
    /// `limits.login_starts_per_minute`; `None` when off.
    pub login_starts_per_minute: Option<std::num::NonZeroU32>,
    pub log: LogSettings,
    pub proxy: Proxy,
    /// `metrics.listen`; `None`: no metrics.
    pub metrics_listen: Option<SocketAddr>,
    pub traces: TracesSettings,
}

/// The `[oidc]` settings, parsed.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer exactly as configured: OpenID Connect compares issuers as strings.
    pub issuer: IssuerUrl,
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uris: RedirectUris,
    pub post_logout_redirect_uri: Option<Url>,
    pub scopes: Vec<String>,
    pub extra_authorize_params: BTreeMap<String, String>,
    pub use_par: bool,
    pub http_timeout: Duration,
}

/// The SPA's URLs registered at the provider.
#[derive(Debug, Clone)]
pub struct RedirectUris {
    /// `oidc.redirect_uri`: where a login from no known app comes back to.
    pub primary: Url,
    /// `oidc.extra_redirect_uris`: one per other app host.
    pub extra: Vec<Url>,
}

impl RedirectUris {
    /// The primary, then the extra ones.
    pub fn iter(&self) -> impl Iterator<Item = &Url> {
        std::iter::once(&self.primary).chain(&self.extra)
    }
}

impl Settings {
    /// Reads the file (if any) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        th_http::settings::load(file).map_err(ConfigError::Load)
    }

    /// Only `listen`, from the same file and environment, nothing checked:
    /// what `bff healthcheck` needs to find the server.
    pub fn listen_only(file: Option<&Path>) -> Option<String> {
        #[derive(Deserialize)]
        struct Listen {
            listen: Option<String>,
        }
        th_http::settings::sources(file)
            .extract::<Listen>()
            .ok()?
            .listen
    }

    /// Parses from a TOML string (tests, examples).
    pub fn from_toml(toml: &str) -> Result<Self, ConfigError> {
        Figment::from(Toml::string(toml))
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Parses every section, then checks the sections against each other.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let oidc = self.oidc.parse()?;
        let app_origins = AppOrigins::from_settings(&self.cors, &self.forwarded)?;
        // Each app a login comes back to must be an app whose Origin is accepted.
        let named = std::iter::once("oidc.redirect_uri".to_owned()).chain(
            (0..oidc.redirect_uris.extra.len()).map(|i| format!("oidc.extra_redirect_uris[{i}]")),
        );
        let mut redirects_loopback = true;
        for (redirect, setting) in oidc.redirect_uris.iter().zip(named) {
            let spa_origin = redirect.origin().ascii_serialization();
            if !app_origins.apps().any(|o| o.as_str() == spa_origin) {
                return Err(SettingsError::new(
                    "cors.allowed_origins",
                    format!("must list the SPA's origin {spa_origin} (of {setting})"),
                )
                .into());
            }
            redirects_loopback &= Origin::parse(&spa_origin).is_ok_and(|o| o.is_loopback());
        }
        let vault = self.cookies.vault().map_err(SettingsError::from)?;
        let all_loopback = redirects_loopback && app_origins.all_loopback();
        if !self.cookies.secure && !all_loopback {
            return Err(SettingsError::new(
                "cookies.secure",
                "false is allowed only when every allowed origin, cross-origin caller and redirect URI is loopback (localhost, 127.0.0.1, [::1])",
            )
            .into());
        }
        self.session.check()?;
        let session_store = self.session.store_choice(self.redis)?;
        self.metrics.check_against(&self.listen.to_string())?;
        let vault = Arc::new(vault);
        let proxy = Proxy::new(self.proxy, vault.clone())?;
        Ok(Config {
            listen: self.listen,
            oidc,
            app_origins,
            vault,
            session_store,
            session_lifetime: Duration::from_secs(self.session.lifetime_secs),
            login_lifetime: Duration::from_secs(self.session.login_lifetime_secs),
            default_access_lifetime: Duration::from_secs(
                self.session.default_access_token_lifetime_secs,
            ),
            refresh_grace: Duration::from_secs(self.session.refresh_grace_secs),
            max_json_bytes: self.limits.max_json_bytes,
            login_starts_per_minute: std::num::NonZeroU32::new(self.limits.login_starts_per_minute),
            log: self.log,
            proxy,
            metrics_listen: self.metrics.listen,
            traces: self.traces,
        })
    }
}

impl OidcSettings {
    /// Parses `[oidc]`.
    pub fn parse(&self) -> Result<OidcConfig, SettingsError> {
        let issuer = IssuerUrl::parse("oidc.issuer", &self.issuer)?;
        let primary = http_url("oidc.redirect_uri", &self.redirect_uri)?;
        let extra = self
            .extra_redirect_uris
            .iter()
            .enumerate()
            .map(|(i, raw)| http_url(&format!("oidc.extra_redirect_uris[{i}]"), raw))
            .collect::<Result<Vec<_>, _>>()?;
        let post_logout_redirect_uri = self
            .post_logout_redirect_uri
            .as_deref()
            .map(|raw| http_url("oidc.post_logout_redirect_uri", raw))
            .transpose()?;
        if self.client_id.trim().is_empty() {
            return Err(SettingsError::new("oidc.client_id", "must not be empty"));
        }
        if self.client_secret.expose().is_empty() {
            return Err(SettingsError::new(
                "oidc.client_secret",
                "must not be empty (set TH_OIDC__CLIENT_SECRET)",
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(SettingsError::new("oidc.scopes", "must include \"openid\""));
        }
        if !(1..=120).contains(&self.http_timeout_secs) {
            return Err(SettingsError::new(
                "oidc.http_timeout_secs",
                "must be between 1 and 120",
            ));
        }
        Ok(OidcConfig {
            issuer,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            redirect_uris: RedirectUris { primary, extra },
            post_logout_redirect_uri,
            scopes: self.scopes.clone(),
            extra_authorize_params: self.extra_authorize_params.clone(),
            use_par: self.use_par,
            http_timeout: Duration::from_secs(self.http_timeout_secs),
        })
    }
}

impl SessionSettings {
    /// Checks the lifetimes of `[session]`.
    fn check(&self) -> Result<(), SettingsError> {
        for (setting, secs) in [
            ("session.lifetime_secs", self.lifetime_secs),
            ("session.login_lifetime_secs", self.login_lifetime_secs),
            (
                "session.default_access_token_lifetime_secs",
                self.default_access_token_lifetime_secs,
            ),
        ] {
            if secs == 0 {
                return Err(SettingsError::new(setting, "must be at least 1"));
            }
        }
        if self.refresh_grace_secs > 300 {
            return Err(SettingsError::new(
                "session.refresh_grace_secs",
                "must be at most 300 (a rotated-out token stays usable that long)",
            ));
        }
        Ok(())
    }

    /// `session.store` with `[redis]`, checked.
    fn store_choice(&self, redis: Option<RedisSettings>) -> Result<StoreChoice, SettingsError> {
        Ok(match (self.store, redis) {
            (StoreKind::Cookie, redis) => {
                if let Some(redis) = &redis {
                    redis.validate()?;
                }
                StoreChoice::Cookie(redis)
            }
            (StoreKind::Redis, None) => {
                return Err(SettingsError::new(
                    "session.store",
                    "\"redis\" needs a [redis] section with a url (e.g. TH_REDIS__URL)",
                ));
            }
            (StoreKind::Redis, Some(redis)) => {
                redis.validate()?;
                StoreChoice::Redis(redis)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn toml(extra_oidc: &str, cookies: &str, origins: &str) -> String {
        format!(
            r#"
            [oidc]
            issuer = "https://id.example.com"
            client_id = "bff"
            client_secret = "s3cret"
            redirect_uri = "https://app.example.com/"
            {extra_oidc}
            [cors]
            allowed_origins = [{origins}]
            [cookies]
            keys = [{{ id = "k1", key = "{KEY}" }}]
            {cookies}
            "#
        )
    }

    fn validate(s: &str) -> Result<Config, ConfigError> {
        Settings::from_toml(s)?.validate()
    }

    #[test]
    // The closure's error type is figment's, not ours.
    #[allow(clippy::result_large_err)]
    fn the_healthcheck_finds_listen_in_the_file_and_the_environment_over_it() {
        figment::Jail::expect_with(|jail| {
            // Nothing else is needed, nor checked: the probe only wants the port.
            jail.create_file("bff.toml", "listen = \"0.0.0.0:9123\"\n[oidc]\n")?;
            let file = Path::new("bff.toml");
            assert_eq!(
                Settings::listen_only(Some(file)).as_deref(),
                Some("0.0.0.0:9123")
            );
            jail.set_env("TH_LISTEN", "127.0.0.1:9200");
            assert_eq!(
                Settings::listen_only(Some(file)).as_deref(),
                Some("127.0.0.1:9200")
            );
            assert_eq!(
                Settings::listen_only(None).as_deref(),
                Some("127.0.0.1:9200")
            );
            Ok(())
        });
    }

    #[test]
    fn a_complete_file_validates() {
        let config = validate(&toml("", "", r#""https://app.example.com""#)).unwrap();
        assert_eq!(config.oidc.issuer.as_str(), "https://id.example.com");
        assert!(config.vault.policy().host_prefixed());
    }

    #[test]
    fn a_refresh_grace_over_five_minutes_names_the_setting() {
        let base = toml("", "", r#""https://app.example.com""#);
        for grace in ["301", "9223372036854775807"] {
            let s = format!("{base}\n[session]\nrefresh_grace_secs = {grace}\n");
            let err = validate(&s).unwrap_err().to_string();
            assert!(err.contains("session.refresh_grace_secs"), "{grace}: {err}");
        }
        // Beyond TOML's integers: refused while reading, naming the line.
        let s = format!("{base}\n[session]\nrefresh_grace_secs = 18446744073709551615\n");
        assert!(Settings::from_toml(&s).is_err());
        let s = format!("{base}\n[session]\nrefresh_grace_secs = -1\n");
        assert!(Settings::from_toml(&s).is_err());
        for grace in ["0", "300"] {
            let s = format!("{base}\n[session]\nrefresh_grace_secs = {grace}\n");
            assert!(validate(&s).is_ok(), "{grace}");
        }
    }

    #[test]
    fn a_short_key_names_the_setting() {
        let s = toml("", "", r#""https://app.example.com""#).replace(KEY, "AAAA");
        let err = validate(&s).unwrap_err().to_string();
        assert!(
            err.contains("cookies.keys") && err.contains("32 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_origin_names_the_setting() {
        let err = validate(&toml("", "", r#""app.example.com""#))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cors.allowed_origins"), "{err}");
    }

    #[test]
    fn a_missing_issuer_names_the_setting() {
        let s = toml("", "", r#""https://app.example.com""#)
            .replace("issuer = \"https://id.example.com\"", "");
        let err = validate(&s).unwrap_err().to_string();
        assert!(err.contains("issuer"), "{err}");
    }

    #[test]
    fn insecure_cookies_need_loopback_origins() {
        let err = validate(&toml("", "secure = false", r#""https://app.example.com""#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cookies.secure"), "{err}");
    }

    #[test]
    fn a_plain_http_issuer_is_refused_unless_loopback() {
        for issuer in [
            "http://id.example.com",
            "http://10.0.0.5:8080",
            "HTTP://ID.EXAMPLE.COM",
        ] {
            let s = toml("", "", r#""https://app.example.com""#)
                .replace("https://id.example.com", issuer);
            let err = validate(&s).unwrap_err().to_string();
            assert!(
                err.starts_with("oidc.issuer") && err.contains("plain http"),
                "{issuer}: {err}"
            );
        }
        for issuer in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "http://[::1]:9000",
        ] {
            let s = toml("", "", r#""https://app.example.com""#)
                .replace("https://id.example.com", issuer);
            validate(&s).unwrap_or_else(|e| panic!("{issuer}: {e}"));
        }
    }

    #[test]
    fn scopes_without_openid_are_refused() {
        let err = validate(&toml(
            r#"scopes = ["profile"]"#,
            "",
            r#""https://app.example.com""#,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("openid"), "{err}");
    }

    #[test]
    fn the_example_file_has_only_known_settings() {
        let example = include_str!("../bff.example.toml");
        let settings = Settings::from_toml(example).expect("bff.example.toml parses");
        assert_eq!(settings.oidc.client_id, "token-handler");
    }

    #[test]
    fn every_redirect_uri_origin_must_be_allowed() {
        let extra = r#"extra_redirect_uris = ["https://admin.example.com/"]"#;
        let err = validate(&toml(extra, "", r#""https://app.example.com""#))
            .unwrap_err()
            .to_string();
        assert!(err.contains("https://admin.example.com"), "{err}");
        let both = r#""https://app.example.com", "https://admin.example.com""#;
        let config = validate(&toml(extra, "", both)).unwrap();
        assert_eq!(config.oidc.redirect_uris.iter().count(), 2);
    }

    #[test]
    // The closure's error type is figment's, not ours.
    #[allow(clippy::result_large_err)]
    fn lists_come_from_the_environment_as_json_arrays() {
        figment::Jail::expect_with(|jail| {
            let file = toml("", "", r#""https://app.example.com""#);
            jail.create_file("bff.toml", &file)?;
            jail.set_env(
                "TH_CORS__ALLOWED_ORIGINS",
                r#"["https://app.example.com","https://admin.example.com"]"#,
            );
            jail.set_env(
                "TH_OIDC__EXTRA_REDIRECT_URIS",
                r#"["https://admin.example.com/"]"#,
            );
            let config = Settings::load(Some(Path::new("bff.toml")))
                .map_err(|e| e.to_string())?
                .validate()
                .map_err(|e| e.to_string())?;
            assert_eq!(config.app_origins.apps().count(), 2);
            assert_eq!(
                config.oidc.redirect_uris.extra[0].as_str(),
                "https://admin.example.com/"
            );
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_one_setting_at_fault() {
        let base = toml("", "", r#""https://app.example.com""#);
        let setting_of = |s: &str| match validate(s) {
            Err(ConfigError::Invalid(e)) => e.setting,
            other => panic!("{s}: {other:?}"),
        };
        let s = format!("{base}\n[session]\nlogin_lifetime_secs = 0\n");
        assert_eq!(setting_of(&s), "session.login_lifetime_secs");
        let s = toml(
            r#"extra_redirect_uris = ["https://app.example.com/a", "not a url"]"#,
            "",
            r#""https://app.example.com""#,
        );
        assert_eq!(setting_of(&s), "oidc.extra_redirect_uris[1]");
        let s = base.replace("s3cret", "");
        assert_eq!(setting_of(&s), "oidc.client_secret");
        let s = format!("{base}\n[[proxy.routes]]\nprefix = \"/api\"\nupstream = \"ftp://x\"\n");
        assert_eq!(setting_of(&s), "proxy.routes[0].upstream");
    }

    #[test]
    fn the_primary_redirect_uri_is_its_own_field() {
        let extra = r#"extra_redirect_uris = ["https://admin.example.com/"]"#;
        let both = r#""https://app.example.com", "https://admin.example.com""#;
        let config = validate(&toml(extra, "", both)).unwrap();
        let uris = &config.oidc.redirect_uris;
        assert_eq!(uris.primary.as_str(), "https://app.example.com/");
        assert_eq!(uris.extra.len(), 1);
        assert_eq!(
            uris.iter().map(Url::as_str).collect::<Vec<_>>(),
            ["https://app.example.com/", "https://admin.example.com/"]
        );
    }

    #[test]
    fn unknown_settings_are_refused() {
        let err = validate(&toml(
            "clientsecret = \"x\"",
            "",
            r#""https://app.example.com""#,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("clientsecret"), "{err}");
    }
}
