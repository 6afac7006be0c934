//! The standalone proxy server: its settings file, and an [`Application`]
//! that binds, reports its port and runs (the binary and the tests share it).

use crate::{Proxy, ProxyConfig, ProxyError};
use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;
use std::net::TcpListener;
use std::sync::Arc;
use th_cookies::CookieSettings;
use th_http::app_origin::{AppOrigins, CorsSettings, ForwardedSettings};
use th_http::metrics::{MetricsServer, MetricsSettings};
use th_http::middleware;
use th_http::settings::SettingsError;
use th_http::telemetry::{LogSettings, TracesSettings};

/// The standalone proxy's settings file. `cors`, `cookies` and `proxy` are
/// the same sections as in the BFF's file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `host:port` to listen on, e.g. `127.0.0.1:8081`; port 0 picks a free one.
    pub listen: String,
    /// Worker threads; the number of CPUs when unset.
    #[serde(default)]
    pub workers: Option<usize>,
    /// `[cors]`: the app origins, and any explicit cross-origin callers.
    #[serde(default)]
    pub cors: CorsSettings,
    /// `[forwarded]`: the proxies in front and the header naming the app host.
    #[serde(default)]
    pub forwarded: ForwardedSettings,
    /// `[cookies]`: the key ring and cookie names the BFF writes with.
    #[serde(default)]
    pub cookies: CookieSettings,
    /// `[proxy]`: the routes.
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// `[metrics]`: the Prometheus listener (off when unset).
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// `[log]`: JSON (the default) or text, and the filter.
    #[serde(default)]
    pub log: LogSettings,
    /// `[traces]`: OpenTelemetry spans over OTLP/HTTP (off when unset).
    #[serde(default)]
    pub traces: TracesSettings,
}

impl Settings {
    /// Reads the TOML file at `path`, then `TH_`-prefixed environment
    /// variables over it (`__` between section and key, e.g.
    /// `TH_PROXY__INTROSPECTION__CLIENT_SECRET`).
    pub fn load(path: &std::path::Path) -> Result<Self, Box<th_http::settings::LoadError>> {
        th_http::settings::load(Some(path))
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is unusable; the message names it.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("listen: cannot bind {address}: {source}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
}

impl StartError {
    /// Whether a setting is at fault (the binaries then exit with 2, as
    /// for a file that does not read).
    pub fn is_settings(&self) -> bool {
        matches!(self, Self::Settings(_) | Self::Proxy(ProxyError::Config(_)))
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<MetricsServer>,
}

impl Application {
    /// Checks the settings, binds the listener and builds the server.
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        let rules = AppOrigins::from_settings(&settings.cors, &settings.forwarded)?;
        if !settings.cookies.secure && !rules.all_loopback() {
            return Err(SettingsError::new(
                "cookies.secure",
                "false is allowed only when every cors.allowed_origins and cors.cross_origin entry is a loopback origin",
            )
            .into());
        }
        settings.metrics.check_against(&settings.listen)?;
        let vault = Arc::new(settings.cookies.vault().map_err(SettingsError::from)?);
        let body_idle = settings.proxy.body_idle_timeout();
        let proxy = Proxy::new(settings.proxy, vault)?;
        let listener = TcpListener::bind(&settings.listen).map_err(|source| StartError::Bind {
            address: settings.listen.clone(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        tracing::info!(port, routes = ?proxy.prefixes(), "the proxy listens");
        let metrics = match settings.metrics.listen {
            Some(listen) => Some(th_http::metrics::serve(listen, "proxy").map_err(|source| {
                StartError::Bind {
                    address: listen.to_string(),
                    source,
                }
            })?),
            None => None,
        };
        let shared = middleware::Options {
            origins: rules,
            body_idle,
            metrics: metrics.is_some(),
            access_log: false,
            security_headers: false,
        };
        let mut server = HttpServer::new(move || {
            let app = App::new()
                .route("/healthz", web::get().to(HttpResponse::NoContent))
                .configure(|c| proxy.configure(c));
            middleware::wrap(app, &shared)
        })
        // The request head within 5 s; the body, chunk by chunk, within
        // proxy.body_idle_timeout_secs (the middleware above).
        .client_request_timeout(std::time::Duration::from_secs(5))
        .client_disconnect_timeout(std::time::Duration::from_secs(2));
        if let Some(n) = settings.workers {
            server = server.workers(n.max(1));
        }
        let server = server
            .listen(listener)
            .map_err(|source| StartError::Bind {
                address: settings.listen.clone(),
                source,
            })?
            .run();
        Ok(Self {
            port,
            server,
            metrics,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `[metrics] listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|m| m.port)
    }

    /// Runs until the server stops (SIGINT/SIGTERM, handled by actix); the
    /// metrics listener stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        th_http::metrics::run_beside(self.server, self.metrics).await
    }
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Serve(#[from] std::io::Error),
}

/// Builds and runs the server: what the `proxy` binary calls.
pub async fn run(settings: Settings) -> Result<(), RunError> {
    let app = Application::build(settings)?;
    app.run_until_stopped().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_settings_file_loads_and_validates() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proxy.example.toml");
        let settings = Settings::load(&path).unwrap();
        assert_eq!(settings.proxy.routes.len(), 2);
        settings.proxy.validate().unwrap();
        settings.cookies.vault().unwrap();
    }
}
