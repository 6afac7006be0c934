//! Builds the server: state, middleware, routes, the proxy; binds and runs.

use crate::configuration::Config;
use crate::configuration::StoreChoice;
use crate::oidc::Oidc;
use crate::routes::{
    backchannel_logout, claims, health, json_body, login, logout, refresh, session, sessions,
    userinfo,
};
use crate::session::{CookieStore, RedisStore, SessionRegistry, SessionStore, StoreTokens};
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use th_contract::codes;
use th_contract::paths::{self, in_bff};
use th_http::guard::csrf_guard;
use th_http::json_error::json_error;
use th_http::metrics::MetricsServer;
use th_http::middleware;

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<MetricsServer>,
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port) and builds the server.
    pub async fn build(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        // First, so the provider's discovery below is counted too; on its
        // own listener: /metrics is never served on the public port.
        let metrics = match config.metrics_listen {
            Some(listen) => Some(th_http::metrics::serve(listen, "bff")?),
            None => None,
        };
        if !config.vault.policy().host_prefixed() {
            tracing::warn!(
                secure = config.vault.policy().secure(),
                "cookie names carry no __Host- prefix (a cookie domain is set, or cookies.secure = false)"
            );
        }
        let oidc = Oidc::new(config.oidc.clone());
        if let Err(e) = oidc.warm_up().await {
            tracing::warn!(error = %e, "the provider's metadata could not be loaded; retrying on demand");
        }
        let store = session_store(&config).await?;
        // The API proxy reads access tokens through the same seam.
        let proxy = config
            .proxy
            .with_token_source(Arc::new(StoreTokens(store.clone())));
        let state = web::Data::new(AppState {
            oidc,
            store,
            vault: config.vault.clone(),
            login_limiter: config
                .login_starts_per_minute
                .map(crate::rate_limit::LoginLimiter::per_minute),
            session_lifetime: config.session_lifetime,
            default_access_lifetime: config.default_access_lifetime,
            login_lifetime: config.login_lifetime,
            refresh_turns: crate::refresh_turns::LocalTurns::new(config.refresh_grace),
            refresh_grace: config.refresh_grace,
        });
        let rules = config.app_origins.clone();
        if !rules.cross_origin().is_empty() {
            tracing::warn!(
                cross_origin = ?rules.cross_origin(),
                "cors.cross_origin is set: these origins may call with credentials (development only)"
            );
        }
        let max_json = config.max_json_bytes;
        let shared = middleware::Options {
            origins: rules,
            body_idle: config.proxy.body_idle_timeout(),
            metrics: metrics.is_some(),
            access_log: true,
            security_headers: true,
        };
        let server = HttpServer::new(move || {
            let app = App::new()
                .app_data(state.clone())
                .app_data(json_body::config(max_json))
                // Server to server, from the provider: no CSRF header, no
                // cookies; the signed logout token is the proof. Registered
                // before the /bff scope, so that scope's guard does not apply.
                .route(
                    paths::BACKCHANNEL_LOGOUT,
                    web::post().to(backchannel_logout::post),
                )
                .service(
                    web::scope(paths::BFF)
                        .route(in_bff(paths::LOGIN_START), web::post().to(login::start))
                        .route(in_bff(paths::LOGIN_END), web::post().to(login::end))
                        .route(in_bff(paths::SESSION), web::get().to(session::get))
                        .route(in_bff(paths::USERINFO), web::get().to(userinfo::get))
                        .route(in_bff(paths::CLAIMS), web::get().to(claims::get))
                        .route(in_bff(paths::REFRESH), web::post().to(refresh::post))
                        .route(in_bff(paths::LOGOUT), web::post().to(logout::post))
                        .route(in_bff(paths::SESSIONS), web::get().to(sessions::list))
                        .route(
                            in_bff(paths::SESSIONS_END_OTHERS),
                            web::post().to(sessions::end_others),
                        )
                        .route(
                            in_bff(paths::SESSION_BY_ID),
                            web::delete().to(sessions::end_one),
                        )
                        // On the scope, so it guards whatever the router
                        // matched, however the path was spelled.
                        .wrap(from_fn(csrf_guard)),
                )
                .route(paths::HEALTHZ, web::get().to(health::healthz))
                .route(paths::READYZ, web::get().to(health::readyz))
                .configure(|cfg| proxy.configure(cfg))
                .default_service(web::to(not_found));
            middleware::wrap(app, &shared)
        })
        // A request's head must arrive within this; its body, chunk by chunk,
        // within proxy.body_idle_timeout_secs (the middleware above).
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(2))
        // Idle keep-alive connections stay open longer than the load
        // balancer in front keeps its own (the ALB's 60 s), so it never
        // sends a request on a connection this server is closing (which
        // it answers with a 502); actix's default is 5 s.
        .keep_alive(Duration::from_secs(75))
        .listen(listener)?
        // In-flight requests get this long to finish after SIGTERM.
        .shutdown_timeout(20)
        .run();
        Ok(Self {
            port,
            server,
            metrics,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `metrics.listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|m| m.port)
    }

    /// Runs until stopped (SIGINT/SIGTERM stop it gracefully); the metrics
    /// listener stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        th_http::metrics::run_beside(self.server, self.metrics).await
    }
}

/// The session store `config` chooses, as the server uses it (the
/// `bench_session` example writes sessions through it too).
pub async fn session_store(config: &Config) -> std::io::Result<Arc<dyn SessionStore>> {
    Ok(match &config.session_store {
        StoreChoice::Cookie(redis) => {
            // With [redis], the server can end sessions whose cookies live on.
            let registry = match redis {
                Some(redis) => Some(
                    SessionRegistry::new(redis)
                        .map_err(std::io::Error::other)?
                        .mirroring_denials(config.session_lifetime),
                ),
                None => None,
            };
            Arc::new(CookieStore::new(
                config.vault.clone(),
                registry,
                config.session_lifetime,
            ))
        }
        StoreChoice::Redis(redis) => Arc::new(
            RedisStore::new(redis, config.vault.clone())
                .await
                .map_err(std::io::Error::other)?,
        ),
    })
}

async fn not_found() -> HttpResponse {
    json_error(
        actix_web::http::StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        "no such endpoint",
    )
}
