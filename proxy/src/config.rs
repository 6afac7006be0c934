//! The `[proxy]` section: routes to upstreams and, for phantom tokens, the
//! introspection client. Deserialized as written, then parsed once into the
//! routes the proxy forwards with (`ProxyConfig::parse`, which
//! [`crate::Proxy::new`] keeps).

use crate::route::Route;
use serde::Deserialize;
use std::time::Duration;
use th_cookies::Secret;
use th_http::settings::{IssuerUrl, SettingsError, provider_url};
use url::Url;

/// The `[proxy]` section, embedded in the BFF's configuration and the proxy's own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// One entry per upstream (`[[proxy.routes]]`).
    pub routes: Vec<RouteConfig>,
    /// The introspection client; required when a route uses `token_mode = "phantom"`.
    pub introspection: Option<IntrospectionConfig>,
    /// How long to wait for a TCP connection to an upstream.
    pub connect_timeout_secs: u64,
    /// How long an idle pooled upstream connection is kept: shorter than
    /// the upstream keeps it (2 s when unset; Node, actix and uvicorn close
    /// theirs after 5 s, and a request sent on a connection the upstream is
    /// closing fails with a 502).
    pub pool_idle_timeout_secs: u64,
    /// The longest a body may go without sending data: a browser's request
    /// body (408 when nothing was answered yet), and an upstream's response
    /// body after its headers (the response to the browser is cut). 30 s
    /// when unset.
    pub body_idle_timeout_secs: u64,
}

/// One route: a path prefix forwarded to an upstream base URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The path prefix, e.g. `/api/example`: starts with `/`, no trailing `/`.
    pub prefix: String,
    /// The upstream's base URL, e.g. `http://127.0.0.1:9000/v1`.
    pub upstream: String,
    /// Whether the prefix is removed before the path is appended to the upstream's.
    #[serde(default = "defaults::strip_prefix")]
    pub strip_prefix: bool,
    /// Time allowed until the upstream's response headers arrive; the body
    /// may stream for longer.
    #[serde(default = "defaults::timeout_secs")]
    pub timeout_secs: u64,
    /// The largest request body forwarded; larger is 413.
    #[serde(default = "defaults::max_body_bytes")]
    pub max_body_bytes: u64,
    /// What the upstream receives as its bearer token.
    #[serde(default)]
    pub token_mode: TokenMode,
    /// Cookies (by exact name) the upstream may receive and set. Default none;
    /// the token handler's own cookies are never allowed.
    #[serde(default)]
    pub pass_cookies: Vec<String>,
}

/// What the upstream receives in `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenMode {
    /// The access token from the cookie, as the provider issued it.
    #[default]
    Bearer,
    /// The provider's signed RFC 9701 introspection response for the (opaque)
    /// access token: the phantom-token pattern.
    Phantom,
}

/// The introspection client of the phantom-token mode (`[proxy.introspection]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionConfig {
    /// The provider's issuer; its metadata names the introspection endpoint.
    pub issuer: String,
    /// The introspection endpoint, when discovery should be skipped.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The introspection client (`client_secret_basic`).
    pub client_id: String,
    /// Its secret; set it from the environment (`TH_PROXY__INTROSPECTION__CLIENT_SECRET`).
    pub client_secret: Secret,
    /// Time allowed for discovery and each introspection call.
    #[serde(default = "defaults::introspection_timeout_secs")]
    pub timeout_secs: u64,
    /// How many introspection results are kept.
    #[serde(default = "defaults::cache_max_entries")]
    pub cache_max_entries: usize,
    /// How long a result is reused at most (never past the token's `exp`).
    /// It bounds how long a revoked token keeps working.
    #[serde(default = "defaults::cache_max_secs")]
    pub cache_max_secs: u64,
    /// How long an inactive answer (revoked, expired, unknown token) is
    /// reused, so such a token cannot make every request cost a provider
    /// call; never longer than `cache_max_secs`.
    #[serde(default = "defaults::negative_cache_secs")]
    pub negative_cache_secs: u64,
}

mod defaults {
    pub fn strip_prefix() -> bool {
        true
    }
    pub fn timeout_secs() -> u64 {
        30
    }
    pub fn max_body_bytes() -> u64 {
        10 * 1024 * 1024
    }
    pub fn introspection_timeout_secs() -> u64 {
        10
    }
    pub fn cache_max_entries() -> usize {
        10_000
    }
    pub fn cache_max_secs() -> u64 {
        60
    }
    pub fn negative_cache_secs() -> u64 {
        10
    }
}

/// The `[proxy]` section, parsed: what [`crate::Proxy`] keeps.
pub(crate) struct ParsedProxy {
    pub routes: Vec<Route>,
    pub introspection: Option<IntrospectionClient>,
}

impl ProxyConfig {
    /// Checks every setting; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.parse().map(drop)
    }

    /// Parses every route and the introspection client, once; the error
    /// names the first bad setting.
    pub(crate) fn parse(&self) -> Result<ParsedProxy, SettingsError> {
        let mut routes: Vec<Route> = Vec::with_capacity(self.routes.len());
        for (i, config) in self.routes.iter().enumerate() {
            let at = format!("proxy.routes[{i}]");
            let route = Route::parse(config, &at)?;
            if routes.iter().any(|r| r.prefix == route.prefix) {
                return Err(SettingsError::new(
                    format!("{at}.prefix"),
                    format!("{:?} is used by an earlier route", route.prefix),
                ));
            }
            routes.push(route);
        }
        let phantom = routes
            .iter()
            .position(|r| r.token_mode == TokenMode::Phantom);
        let introspection = match (&self.introspection, phantom) {
            (None, Some(i)) => {
                return Err(SettingsError::new(
                    format!("proxy.routes[{i}].token_mode"),
                    "\"phantom\" needs a [proxy.introspection] section",
                ));
            }
            (Some(intro), _) => Some(intro.parse()?),
            (None, None) => None,
        };
        Ok(ParsedProxy {
            routes,
            introspection,
        })
    }

    /// The connect timeout, 5 s when unset.
    pub(crate) fn connect_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(match self.connect_timeout_secs {
            0 => 5,
            n => n,
        })
    }

    /// The body idle timeout, 30 s when unset.
    pub fn body_idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(match self.body_idle_timeout_secs {
            0 => 30,
            n => n,
        })
    }

    /// The pool's idle timeout, 2 s when unset.
    pub(crate) fn pool_idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(match self.pool_idle_timeout_secs {
            0 => 2,
            n => n,
        })
    }
}

impl RouteConfig {
    /// A route with the defaults, for code that builds configuration.
    pub fn new(prefix: impl Into<String>, upstream: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            upstream: upstream.into(),
            strip_prefix: defaults::strip_prefix(),
            timeout_secs: defaults::timeout_secs(),
            max_body_bytes: defaults::max_body_bytes(),
            token_mode: TokenMode::Bearer,
            pass_cookies: Vec::new(),
        }
    }

    /// Checks the prefix, the timeout and the cookie names; `at` names the
    /// route in errors. The upstream is parsed by [`Self::upstream_url`].
    pub(crate) fn check(&self, at: &str) -> Result<(), SettingsError> {
        let p = &self.prefix;
        let prefix_ok = p.starts_with('/')
            && p.len() > 1
            && !p.ends_with('/')
            && p.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~')
            })
            && !p.split('/').any(|s| s == "." || s == "..")
            && !p.contains("//");
        if !prefix_ok {
            return Err(SettingsError::new(
                format!("{at}.prefix"),
                format!(
                    "{p:?} must start with '/', not end with '/', and hold only path characters, e.g. \"/api/example\""
                ),
            ));
        }
        if self.timeout_secs == 0 {
            return Err(SettingsError::new(
                format!("{at}.timeout_secs"),
                "must be at least 1",
            ));
        }
        for name in &self.pass_cookies {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !ok {
                return Err(SettingsError::new(
                    format!("{at}.pass_cookies"),
                    format!("{name:?} is not a cookie name"),
                ));
            }
        }
        Ok(())
    }

    /// The upstream base URL, parsed.
    pub(crate) fn upstream_url(&self, at: &str) -> Result<Url, SettingsError> {
        let bad = |reason: &str| SettingsError::new(format!("{at}.upstream"), reason);
        let url = Url::parse(&self.upstream)
            .map_err(|e| bad(&format!("{:?} is not a URL: {e}", self.upstream)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("must be an http:// or https:// URL with a host"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(bad("must have no query, fragment or credentials"));
        }
        Ok(url)
    }
}

/// `[proxy.introspection]`, parsed.
#[derive(Debug, Clone)]
pub(crate) struct IntrospectionClient {
    pub issuer: IssuerUrl,
    pub endpoint: Option<Url>,
    pub client_id: String,
    pub client_secret: Secret,
    pub timeout: Duration,
    pub cache_max_entries: usize,
    pub cache_max_age: Duration,
    /// Never longer than `cache_max_age`.
    pub negative_cache_age: Duration,
}

impl IntrospectionConfig {
    /// Parses the section; the error names the first bad setting.
    fn parse(&self) -> Result<IntrospectionClient, SettingsError> {
        let at = "proxy.introspection";
        let issuer = IssuerUrl::parse(&format!("{at}.issuer"), &self.issuer)?;
        let endpoint = self
            .endpoint
            .as_deref()
            .map(|raw| provider_url(&format!("{at}.endpoint"), raw))
            .transpose()?;
        if self.client_id.is_empty() {
            return Err(SettingsError::new(format!("{at}.client_id"), "is empty"));
        }
        if self.client_secret.expose().is_empty() {
            return Err(SettingsError::new(
                format!("{at}.client_secret"),
                "is empty (set TH_PROXY__INTROSPECTION__CLIENT_SECRET)",
            ));
        }
        if self.cache_max_entries == 0 {
            return Err(SettingsError::new(
                format!("{at}.cache_max_entries"),
                "must be at least 1",
            ));
        }
        if self.timeout_secs == 0 {
            return Err(SettingsError::new(
                format!("{at}.timeout_secs"),
                "must be at least 1",
            ));
        }
        Ok(IntrospectionClient {
            issuer,
            endpoint,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            timeout: Duration::from_secs(self.timeout_secs),
            cache_max_entries: self.cache_max_entries,
            cache_max_age: Duration::from_secs(self.cache_max_secs),
            negative_cache_age: Duration::from_secs(
                self.negative_cache_secs.min(self.cache_max_secs),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Format;

    fn parse(toml: &str) -> ProxyConfig {
        figment::Figment::from(figment::providers::Toml::string(toml))
            .extract()
            .unwrap()
    }

    #[test]
    fn routes_take_their_defaults() {
        let config = parse(
            r#"
            [[routes]]
            prefix = "/api/example"
            upstream = "http://127.0.0.1:9000"
            "#,
        );
        config.validate().unwrap();
        let route = &config.routes[0];
        assert!(route.strip_prefix);
        assert_eq!(route.token_mode, TokenMode::Bearer);
        assert_eq!(route.timeout_secs, 30);
        assert!(route.pass_cookies.is_empty());
    }

    #[test]
    fn unknown_settings_are_refused() {
        let result: Result<ProxyConfig, _> =
            figment::Figment::from(figment::providers::Toml::string(
                "[[routes]]\nprefix = \"/a\"\nupstream = \"http://x\"\nstrip = true",
            ))
            .extract();
        assert!(result.is_err());
    }

    #[test]
    fn bad_upstream_is_named() {
        let config = ProxyConfig {
            routes: vec![
                RouteConfig::new("/api/a", "http://a.example"),
                RouteConfig::new("/api/b", "not a url"),
            ],
            ..Default::default()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.setting, "proxy.routes[1].upstream");
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for prefix in ["api", "/api/", "/", "/api/../x", "/a b", "/a//b"] {
            let config = ProxyConfig {
                routes: vec![RouteConfig::new(prefix, "http://a.example")],
                ..Default::default()
            };
            let err = config.validate().unwrap_err();
            assert_eq!(err.setting, "proxy.routes[0].prefix", "{prefix}");
        }
    }

    #[test]
    fn duplicate_prefix_is_refused() {
        let config = ProxyConfig {
            routes: vec![
                RouteConfig::new("/api/a", "http://a.example"),
                RouteConfig::new("/api/a", "http://b.example"),
            ],
            ..Default::default()
        };
        assert_eq!(
            config.validate().unwrap_err().setting,
            "proxy.routes[1].prefix"
        );
    }

    #[test]
    fn phantom_route_needs_introspection() {
        let mut route = RouteConfig::new("/api/a", "http://a.example");
        route.token_mode = TokenMode::Phantom;
        let config = ProxyConfig {
            routes: vec![route],
            ..Default::default()
        };
        assert_eq!(
            config.validate().unwrap_err().setting,
            "proxy.routes[0].token_mode"
        );
    }

    #[test]
    fn a_plain_http_introspection_issuer_is_refused_unless_loopback() {
        let config = |issuer: &str| {
            parse(&format!(
                "[introspection]\nissuer = \"{issuer}\"\nclient_id = \"g\"\nclient_secret = \"s\""
            ))
        };
        let err = config("http://id.example.com").validate().unwrap_err();
        assert_eq!(err.setting, "proxy.introspection.issuer");
        assert!(err.reason.contains("plain http"), "{}", err.reason);
        config("http://127.0.0.1:3000").validate().unwrap();
        config("https://id.example.com").validate().unwrap();
    }

    #[test]
    fn introspection_secret_does_not_print() {
        let config = parse(
            r#"
            [introspection]
            issuer = "http://127.0.0.1:3000"
            client_id = "api-gateway"
            client_secret = "hunter2"
            "#,
        );
        config.validate().unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
