//! The proxy as the BFF mounts it: the session's access token reaches the
//! upstream as a bearer token; the browser's cookies do not.

use crate::helpers::{AppOptions, spawn_app};
use actix_web::{HttpRequest, HttpResponse, web};
use th_testkit::{APP_HOST, ProviderOptions, TestProvider, spawn_stub};

/// An upstream that reports what it received (never the token itself).
pub async fn start_upstream(issuer: String) -> String {
    spawn_stub(move |cfg| {
        let issuer = issuer.clone();
        cfg.default_service(web::to(move |req: HttpRequest| {
            let issuer = issuer.clone();
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                // Prove the token is live: the provider's userinfo accepts it.
                let token = auth.strip_prefix("Bearer ").unwrap_or_default();
                let userinfo = reqwest::Client::new()
                    .get(format!("{issuer}/me"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                HttpResponse::Ok().json(serde_json::json!({
                    "path": req.path(),
                    "bearer": auth.starts_with("Bearer "),
                    "userinfo_status": userinfo,
                    "cookie": req.headers().get("cookie").is_some(),
                    "csrf": header(&req, "x-csrf"),
                    "xff": header(&req, "x-forwarded-for"),
                    "xfh": header(&req, "x-forwarded-host"),
                    "xfp": header(&req, "x-forwarded-proto"),
                    "forwarded": header(&req, "forwarded"),
                    "origin_verify": header(&req, "x-origin-verify"),
                }))
            }
        }));
    })
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// A BFF with the provider, one proxy route `/api/echo` to the reporting upstream.
pub async fn app_with_echo_route() -> (TestProvider, crate::helpers::TestApp) {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream(provider.issuer().to_owned()).await;
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml =
        format!("[proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{upstream}\"\n");
    (provider, spawn_app(options).await)
}

#[tokio::test]
async fn the_clients_forwarded_headers_and_the_origin_secret_never_reach_the_upstream() {
    let (_provider, mut app) = app_with_echo_route().await;
    app.login_as("ursula").await;
    let builder = app
        .request(reqwest::Method::GET, "/api/echo/things")
        .header("x-forwarded-for", "1.2.3.4")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "gopher")
        .header("forwarded", "for=1.2.3.4;host=evil.example;proto=http")
        .header("x-origin-verify", "the-cloudfront-secret");
    let answer = app.send(builder).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let b = &answer.body;
    assert_eq!(
        b["xff"], "127.0.0.1",
        "only the connecting peer, no trusted hop"
    );
    assert_eq!(b["xfh"], APP_HOST, "the app host, from configuration");
    assert_eq!(b["xfp"], "https", "the app origin's scheme");
    assert!(b["forwarded"].is_null(), "{b}");
    assert!(b["origin_verify"].is_null(), "{b}");
}

#[tokio::test]
async fn api_calls_through_the_mounted_proxy_carry_the_sessions_bearer_token() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream(provider.issuer().to_owned()).await;
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml =
        format!("[proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{upstream}\"\n");
    let mut app = spawn_app(options).await;

    let anonymous = app.get("/api/echo/things").await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    assert_eq!(anonymous.body["code"], "unauthorized");

    app.login_as("quinn").await;
    let answer = app.get("/api/echo/things?x=1").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["path"], "/things");
    assert_eq!(answer.body["bearer"], true);
    assert_eq!(
        answer.body["userinfo_status"], 200,
        "the forwarded token is the session's live token"
    );
    assert_eq!(
        answer.body["cookie"], false,
        "the browser's cookies stay at the BFF"
    );

    let no_csrf = app
        .http
        .get(format!("{}/api/echo/things", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403, "/api/* needs the CSRF header too");
}
