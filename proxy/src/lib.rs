//! The OAuth proxy: the sealed access-token cookie in, `Authorization:
//! Bearer` out, to configured upstreams.
//!
//! * [`Proxy`]: routes from [`ProxyConfig`]; [`Proxy::configure`] mounts them
//!   on an actix-web `App` (the BFF's, or this crate's own server in [`server`]).
//! * [`AccessTokenSource`]: where the proxy reads a request's access token
//!   (the cookie here; the BFF plugs in its session store).
//! * The request rules it shares with the BFF (guards, error body, request
//!   ids, metrics, telemetry, the settings loader) are the `th-http` crate.
//!
//! A request's path through this crate: the route's scope runs the CSRF
//! guard, then `forward.rs`'s handler takes each step in turn: `route.rs`
//! (the upstream's path, by `path.rs`'s one rule) → `access_token.rs` (the
//! session's token) → `phantom.rs` (phantom mode only) → `headers.rs` (what
//! goes upstream, with the bearer token) → `upstream.rs`'s pool (one more
//! try for a safe, bodiless request the upstream closed under it) → back
//! through `headers.rs`, the body streamed under `idle_timeout.rs`.
//! `error.rs` turns any step's failure into the contract's status.

mod access_token;
pub mod config;
mod error;
mod forward;
mod headers;
mod metrics;
mod path;
mod phantom;
mod phantom_cache;
mod route;
pub mod server;
mod upstream;

pub use access_token::{AccessTokenSource, CookieTokens, TokenSourceError};
pub use config::{IntrospectionConfig, ProxyConfig, RouteConfig, TokenMode};
pub use error::ForwardError;
pub use phantom::INTROSPECTION_JWT;

use actix_web::middleware::from_fn;
use actix_web::web;
use forward::{Forwarder, forward};
use phantom::Introspector;
use route::Route;
use std::sync::Arc;
use th_cookies::{CookieKind, Vault};
use th_http::guard;
use th_http::settings::SettingsError;

/// Why the proxy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A setting is wrong; the message names it.
    #[error(transparent)]
    Config(#[from] SettingsError),
    /// The HTTP client could not be built.
    #[error("the proxy's HTTP client could not be built: {0}")]
    Client(#[source] reqwest::Error),
}

/// The configured routes, ready to mount. Cheap to clone.
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

struct Inner {
    config: ProxyConfig,
    routes: Vec<Route>,
    tokens: Arc<dyn AccessTokenSource>,
    introspector: Option<Arc<Introspector>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("prefixes", &self.prefixes())
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// Parses the configuration into its routes, once, and builds them;
    /// `vault` opens the access-token cookie.
    pub fn new(config: ProxyConfig, vault: Arc<Vault>) -> Result<Self, ProxyError> {
        let parsed = config.parse()?;
        let own_cookies: Vec<String> = CookieKind::ALL
            .iter()
            .map(|k| vault.policy().name(*k).to_owned())
            .collect();
        for (i, route) in parsed.routes.iter().enumerate() {
            if let Some(name) = route
                .pass_cookies
                .iter()
                .find(|n| own_cookies.iter().any(|own| n.starts_with(own.as_str())))
            {
                return Err(SettingsError::new(
                    format!("proxy.routes[{i}].pass_cookies"),
                    format!("{name:?} is one of the token handler's own cookies"),
                )
                .into());
            }
        }
        let introspector = match parsed.introspection {
            Some(client) => Some(Arc::new(
                Introspector::new(client).map_err(ProxyError::Client)?,
            )),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                routes: parsed.routes,
                tokens: Arc::new(CookieTokens::new(vault)),
                introspector,
            }),
        })
    }

    /// The same routes, reading access tokens from `tokens` (the BFF's
    /// session store) instead of the access-token cookie.
    pub fn with_token_source(&self, tokens: Arc<dyn AccessTokenSource>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                config: inner.config.clone(),
                routes: inner.routes.clone(),
                tokens,
                introspector: inner.introspector.clone(),
            }),
        }
    }

    /// `proxy.body_idle_timeout_secs`, for the server's request-body middleware.
    pub fn body_idle_timeout(&self) -> std::time::Duration {
        self.inner.config.body_idle_timeout()
    }

    /// The routes' path prefixes.
    pub fn prefixes(&self) -> Vec<String> {
        self.inner.routes.iter().map(|r| r.prefix.clone()).collect()
    }

    /// Registers every route on an `App`: `App::new().configure(|c| proxy.configure(c))`.
    ///
    /// Call it in the `HttpServer` factory: each worker then gets its own
    /// upstream connection pool, while the phantom-token cache is shared.
    /// Each route's scope carries the CSRF guard itself, so it applies to
    /// whatever the router matched however the path was spelled; the
    /// caller wraps the App in `th_http::middleware::wrap` (the origin
    /// guard, CORS, and the rest).
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let inner = &self.inner;
        for route in &inner.routes {
            let metrics = metrics::RouteMetrics::new(&route.prefix);
            let label = metrics.label();
            let forwarder = Forwarder {
                metrics,
                route: route.clone(),
                tokens: inner.tokens.clone(),
                introspector: match route.token_mode {
                    TokenMode::Phantom => inner.introspector.clone(),
                    TokenMode::Bearer => None,
                },
                upstream: upstream::UpstreamPool::new(&inner.config, route),
                body_idle: inner.config.body_idle_timeout(),
            };
            cfg.service(
                web::scope(&route.prefix)
                    .app_data(web::Data::new(forwarder))
                    .app_data(label)
                    .default_service(web::to(forward))
                    .wrap(from_fn(guard::csrf_guard)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use th_cookies::{CookieSettings, KeySetting, Secret};

    fn vault() -> Arc<Vault> {
        let settings = CookieSettings {
            keys: vec![KeySetting {
                id: "k1".into(),
                key: Secret::new(th_testkit::TEST_COOKIE_KEY.to_owned()),
            }],
            ..Default::default()
        };
        Arc::new(settings.vault().unwrap())
    }

    #[test]
    fn the_routes_are_parsed_once_and_kept() {
        let config = ProxyConfig {
            routes: vec![
                RouteConfig::new("/api/a", "http://a.example/v1/"),
                RouteConfig::new("/api/b", "https://b.example"),
            ],
            ..Default::default()
        };
        let proxy = Proxy::new(config, vault()).unwrap();
        assert_eq!(proxy.prefixes(), ["/api/a", "/api/b"]);
        assert_eq!(proxy.inner.routes[0].host().as_str(), "a.example");
    }

    #[test]
    fn a_route_may_not_pass_the_token_handlers_own_cookies() {
        let mut route = RouteConfig::new("/api/a", "http://a.example");
        route.pass_cookies = vec!["theme".into(), "__Host-th-at".into()];
        let config = ProxyConfig {
            routes: vec![route],
            ..Default::default()
        };
        match Proxy::new(config, vault()) {
            Err(ProxyError::Config(e)) => {
                assert_eq!(e.setting, "proxy.routes[0].pass_cookies");
                assert!(e.reason.contains("__Host-th-at"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
