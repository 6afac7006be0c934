//! `spawn_app` and `TestApp`: one method per endpoint, a cookie jar kept by
//! hand so tests can tamper with it.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use th_bff::configuration::Settings;
use th_bff::startup::Application;
use th_testkit::bff_settings::BffSettings;
use th_testkit::{
    APP_ORIGIN, Browser, ProviderOptions, REDIRECT, TEST_COOKIE_KEY, TestProvider, cookie_header,
};

/// What a test may change in the BFF's settings.
pub struct AppOptions {
    pub issuer: String,
    pub client_secret: String,
    pub keys: Vec<(&'static str, &'static str)>,
    pub login_lifetime_secs: u64,
    pub http_timeout_secs: u64,
    pub extra_toml: String,
}

impl AppOptions {
    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            client_secret: ProviderOptions::default().client_secret,
            keys: vec![("k1", TEST_COOKIE_KEY)],
            login_lifetime_secs: 600,
            http_timeout_secs: 5,
            extra_toml: String::new(),
        }
    }

    /// The settings with the cookie store pinned.
    pub fn on_cookies(&self) -> String {
        self.toml()
            .replacen("[session]", &format!("[session]\n{COOKIE_STORE}"), 1)
    }

    /// The shared test settings (`th_testkit::bff_settings`) on port 0,
    /// with this suite's `[session]` and `[limits]`, then `extra_toml`.
    pub fn toml(&self) -> String {
        let shared = BffSettings {
            client_secret: self.client_secret.clone(),
            keys: self
                .keys
                .iter()
                .map(|(id, key)| ((*id).to_owned(), (*key).to_owned()))
                .collect(),
            http_timeout_secs: Some(self.http_timeout_secs),
            ..BffSettings::new(&self.issuer, 0)
        };
        format!(
            "{shared}[session]\nlogin_lifetime_secs = {login}\n\
             [limits]\nmax_json_bytes = 4096\n{extra}\n",
            shared = shared.toml(),
            login = self.login_lifetime_secs,
            extra = self.extra_toml,
        )
    }
}

/// A running BFF and the cookies its browser holds.
pub struct TestApp {
    /// Whether this BFF keeps its sessions in Redis.
    pub on_redis: bool,
    pub base: String,
    /// The public port, and the metrics listener's when `[metrics]` is set.
    pub port: u16,
    pub metrics_port: Option<u16>,
    pub http: reqwest::Client,
    pub jar: BTreeMap<String, String>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn spawn_app(options: AppOptions) -> TestApp {
    spawn_app_toml(&options.toml()).await
}

/// Whether this run of the suite uses the Redis store.
pub fn redis_mode() -> bool {
    std::env::var("TH_TEST_SESSION_STORE").as_deref() == Ok("redis")
}

/// Pins a test to the cookie store: it is about the token cookies themselves.
pub const COOKIE_STORE: &str = "store = \"cookie\"";

/// The Redis of this test process, when the suite runs against the Redis
/// store (`TH_TEST_SESSION_STORE=redis`, as `scripts/test.sh` runs it the
/// second time); every app gets a key prefix of its own.
fn with_test_store(toml: &str) -> String {
    static REDIS: std::sync::OnceLock<th_testkit::TestRedis> = std::sync::OnceLock::new();
    if !redis_mode() || toml.contains("[redis]") || toml.contains(COOKIE_STORE) {
        return toml.to_owned();
    }
    // One Redis and one key prefix: the BFFs of one test share sessions
    // as replicas do; sessions of different tests never meet (random keys).
    let redis = REDIS.get_or_init(th_testkit::TestRedis::start);
    let section = format!("\n[redis]\nurl = \"{}\"\n", redis.url());
    if toml.contains("[session]") {
        toml.replacen("[session]", "[session]\nstore = \"redis\"", 1) + &section
    } else {
        format!("{toml}\n[session]\nstore = \"redis\"\n{section}")
    }
}

/// A BFF from a whole settings file.
pub async fn spawn_app_toml(toml: &str) -> TestApp {
    let toml = &with_test_store(toml);
    let config = Settings::from_toml(toml)
        .expect("settings parse")
        .validate()
        .expect("settings validate");
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = th_bff::telemetry::init(
            &th_bff::configuration::LogSettings::default(),
            &Default::default(),
            "th-bff",
        );
    }
    let app = Application::build(config).await.expect("server builds");
    let port = app.port();
    let metrics_port = app.metrics_port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        on_redis: toml.contains("store = \"redis\""),
        metrics_port,
        ..TestApp::at_port(port)
    }
}

/// A provider, and a BFF on the cookie store whichever store the run is for.
pub async fn spawn_on_cookies_with_provider() -> (TestProvider, TestApp) {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let app = spawn_app_toml(&AppOptions::for_issuer(provider.issuer()).on_cookies()).await;
    (provider, app)
}

/// A provider with the default options, and a BFF using it.
pub async fn spawn_with_provider() -> (TestProvider, TestApp) {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let app = spawn_app(AppOptions::for_issuer(provider.issuer())).await;
    (provider, app)
}

impl TestApp {
    /// A browser with an empty jar, for a BFF on the cookie store already
    /// listening on `port` (its own process, say).
    pub fn at_port(port: u16) -> TestApp {
        TestApp {
            on_redis: false,
            base: format!("http://127.0.0.1:{port}"),
            port,
            metrics_port: None,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
        }
    }

    /// A request as the SPA makes it: `x-csrf: 1`, the SPA's `Origin`, the jar's cookies.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_from(APP_ORIGIN, method, path)
    }

    /// A request as an app on another allowed origin makes it.
    pub fn request_from(
        &self,
        origin: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        // The host the browser calls is the app's own: one BFF serves each
        // app on that app's host, and only its origin may call there.
        let host = origin.split_once("://").map_or(origin, |(_, h)| h);
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-csrf", "1")
            .header("origin", origin)
            .header("host", host);
        if !self.jar.is_empty() {
            builder = builder.header(COOKIE, self.cookie_header());
        }
        builder
    }

    /// Another browser on the same BFF: same server, an empty jar.
    pub fn clone_handle(&self) -> TestApp {
        TestApp {
            on_redis: self.on_redis,
            base: self.base.clone(),
            port: self.port,
            metrics_port: self.metrics_port,
            http: self.http.clone(),
            jar: BTreeMap::new(),
        }
    }

    /// The jar as one `Cookie` header value.
    pub fn cookie_header(&self) -> String {
        cookie_header(&self.jar)
    }

    /// Sends, reads the answer, and applies its `Set-Cookie`s to the jar.
    pub async fn send(&mut self, builder: reqwest::RequestBuilder) -> Answer {
        let response = builder.send().await.expect("the BFF answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            set_cookies,
            headers,
        }
    }

    pub async fn post_json(&mut self, path: &str, body: Value) -> Answer {
        let builder = self.request(reqwest::Method::POST, path).json(&body);
        self.send(builder).await
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let builder = self.request(reqwest::Method::GET, path);
        self.send(builder).await
    }

    pub async fn login_start(&mut self, return_to: Option<&str>) -> Answer {
        let body = match return_to {
            Some(r) => json!({ "returnTo": r }),
            None => json!({}),
        };
        self.post_json("/bff/login/start", body).await
    }

    pub async fn login_end(&mut self, page_url: &str) -> Answer {
        self.post_json("/bff/login/end", json!({ "pageUrl": page_url }))
            .await
    }

    pub async fn session(&mut self) -> Answer {
        self.get("/bff/session").await
    }

    pub async fn refresh(&mut self) -> Answer {
        let builder = self.request(reqwest::Method::POST, "/bff/refresh");
        self.send(builder).await
    }

    pub async fn logout(&mut self) -> Answer {
        let builder = self.request(reqwest::Method::POST, "/bff/logout");
        self.send(builder).await
    }

    /// The whole login through the real provider's forms, as `user`.
    pub async fn login_as(&mut self, user: &str) -> Answer {
        let start = self.login_start(None).await;
        assert_eq!(start.status, 200, "{:?}", start.body);
        let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
        let callback = Browser::new()
            .sign_in(&url, user, REDIRECT)
            .await
            .expect("sign in at the provider");
        let end = self.login_end(&callback).await;
        assert_eq!(end.status, 200, "{:?}", end.body);
        end
    }

    /// The name of a cookie in the jar that ends with `suffix` (e.g. "-rt").
    /// With the Redis store, the token cookies' place is the session cookie's.
    pub fn cookie_named(&self, suffix: &str) -> Option<String> {
        let suffix = match suffix {
            "-at" | "-rt" | "-id" if self.on_redis => "-session",
            other => other,
        };
        self.jar.keys().find(|k| k.ends_with(suffix)).cloned()
    }
}

/// The value of a query parameter.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
