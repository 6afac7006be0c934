//! The OAuth proxy, and the request rules it shares with the BFF.
//!
//! * [`Proxy`]: routes from [`ProxyConfig`]; [`Proxy::configure`] mounts them
//!   on an actix-web `App` (the BFF's, or this crate's own server in [`server`]).
//! * [`guard`]: the contract's CSRF header and per-host `Origin` rule, and CORS.
//! * [`app_origin`]: which app a request was sent to; [`forwarded`]: who
//!   the client is, as far as the trusted proxies in front vouch.
//! * [`json_error`]: the contract's JSON error body.
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
pub mod app_origin;
pub mod config;
mod error;
mod forward;
pub mod forwarded;
pub mod guard;
mod headers;
pub mod idle_timeout;
pub mod json_error;
pub mod metrics;
pub mod origin;
mod path;
mod phantom;
mod phantom_cache;
pub mod request_id;
mod route;
pub mod server;
pub mod telemetry;
mod upstream;

pub use access_token::{AccessTokenSource, CookieTokens, TokenSourceError, request_cookies};
pub use config::{ConfigError, IntrospectionConfig, ProxyConfig, RouteConfig, TokenMode};
pub use error::ForwardError;
pub use phantom::INTROSPECTION_JWT;

use actix_web::middleware::from_fn;
use actix_web::web;
use forward::{Forwarder, forward};
use phantom::Introspector;
use route::Route;
use std::sync::Arc;
use th_cookies::{CookieKind, Vault};

/// Why the proxy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A setting is wrong; the message names it.
    #[error(transparent)]
    Config(#[from] ConfigError),
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
    /// Validates the configuration and builds the routes; `vault` opens the
    /// access-token cookie.
    pub fn new(config: ProxyConfig, vault: Arc<Vault>) -> Result<Self, ProxyError> {
        config.validate()?;
        let own_cookies: Vec<String> = CookieKind::ALL
            .iter()
            .map(|k| vault.policy().name(*k))
            .collect();
        let mut routes = Vec::with_capacity(config.routes.len());
        for (i, rc) in config.routes.iter().enumerate() {
            let at = format!("proxy.routes[{i}]");
            if let Some(name) = rc
                .pass_cookies
                .iter()
                .find(|n| own_cookies.iter().any(|own| n.starts_with(own.as_str())))
            {
                return Err(ConfigError {
                    setting: format!("{at}.pass_cookies"),
                    reason: format!("{name:?} is one of the token handler's own cookies"),
                }
                .into());
            }
            routes.push(Route::new(rc, &at)?);
        }
        let introspector = match &config.introspection {
            Some(ic) => Some(Arc::new(Introspector::new(ic).map_err(ProxyError::Client)?)),
            None => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                routes,
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
    /// caller wraps the App in `guard::origin_guard` (and `guard::cors`
    /// when cross-origin callers are configured).
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
