//! Starts the pieces on 127.0.0.1, port 0: the proxy (the same server as the
//! `proxy` binary), the example API, stub upstreams.

use std::sync::Arc;
use std::time::Duration;
use th_cookies::{
    AccessTokenPayload, CookieKind, CookieSettings, KeySetting, RequestCookies, Secret, Vault,
};
use th_http::app_origin::CorsSettings;
use th_proxy::server::{Application, Settings};
use th_proxy::{ProxyConfig, RouteConfig};
use th_testkit::{ProviderOptions, TEST_COOKIE_KEY, TestProvider, TokenFormat, cookie_header};

/// The SPA's origin and the host its requests are sent to (the proxy
/// serves the app's host), the example API and a stub upstream: the test
/// kit's.
pub use th_testkit::{APP_HOST, APP_ORIGIN, spawn_example_api, spawn_stub};

/// The cookie settings the BFF would use: one fixed test key.
pub fn cookie_settings() -> CookieSettings {
    CookieSettings {
        keys: vec![KeySetting {
            id: "test-1".into(),
            key: Secret::new(TEST_COOKIE_KEY),
        }],
        ..Default::default()
    }
}

/// A running standalone proxy.
pub struct TestProxy {
    pub base: String,
    /// The metrics listener's port, when started with metrics.
    pub metrics_port: Option<u16>,
    pub vault: Arc<Vault>,
    pub http: reqwest::Client,
}

/// Starts the proxy with `config`, one worker.
pub async fn spawn_proxy(config: ProxyConfig) -> TestProxy {
    spawn_proxy_with(config, false).await
}

/// Starts the proxy with `config`, one worker, and with `metrics` a
/// metrics listener on a free port.
pub async fn spawn_proxy_with(config: ProxyConfig, metrics: bool) -> TestProxy {
    let cookies = cookie_settings();
    let vault = Arc::new(cookies.vault().unwrap());
    let app = Application::build(Settings {
        listen: "127.0.0.1:0".into(),
        workers: Some(1),
        cors: CorsSettings {
            allowed_origins: vec![APP_ORIGIN.into()],
            ..Default::default()
        },
        forwarded: Default::default(),
        cookies,
        proxy: config,
        metrics: th_http::metrics::MetricsSettings {
            listen: metrics.then(|| "127.0.0.1:0".parse().unwrap()),
        },
        log: Default::default(),
        traces: Default::default(),
    })
    .expect("the proxy starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    TestProxy {
        base,
        metrics_port,
        vault,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl TestProxy {
    /// The `Cookie` header a logged-in browser sends, holding `token`.
    pub fn session_cookie(&self, token: &str) -> String {
        self.cookie_expiring(token, Some(unix_now() + 3600))
    }

    /// The same, with a chosen expiry.
    pub fn cookie_expiring(&self, token: &str, expires_at: Option<i64>) -> String {
        let payload = AccessTokenPayload {
            token: Secret::new(token),
            expires_at,
            app: None,
            session: None,
        };
        cookie_header(
            self.vault
                .write_json(
                    &RequestCookies::default(),
                    CookieKind::Access,
                    &payload,
                    Duration::from_secs(3600),
                )
                .unwrap()
                .iter()
                .map(|c| (c.name(), c.value())),
        )
    }

    /// A request as the SPA sends it: the CSRF header and its origin.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf", "1")
            .header("origin", APP_ORIGIN)
            .header("host", APP_HOST)
    }

    /// A logged-in GET.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .header("cookie", self.session_cookie(token))
            .send()
            .await
            .unwrap()
    }
}

/// The clock the cookie payloads are read against.
pub use th_cookies::unix_now;

/// A provider issuing RFC 9068 JWT access tokens (bearer mode).
pub async fn jwt_provider() -> TestProvider {
    TestProvider::start(ProviderOptions {
        token_format: TokenFormat::Jwt,
        ..Default::default()
    })
    .await
}

/// A provider issuing opaque access tokens (phantom mode).
pub async fn opaque_provider() -> TestProvider {
    TestProvider::start(ProviderOptions::default()).await
}

/// One route, defaults otherwise.
pub fn one_route(prefix: &str, upstream: &str) -> ProxyConfig {
    ProxyConfig {
        routes: vec![RouteConfig::new(prefix, upstream)],
        ..Default::default()
    }
}

/// The body of a JSON response.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("a JSON body")
}
