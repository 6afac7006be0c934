//! One BFF for several app hosts (the `wasm_clients` of the deployment):
//! each login comes back to the app that started it.

use crate::helpers::{AppOptions, query_param, spawn_app_toml};
use reqwest::Method;
use serde_json::json;
use th_testkit::{APP_ORIGIN, Browser, ProviderOptions, REDIRECT, TestProvider};

pub const ADMIN: &str = "https://admin.example.test";
pub const ADMIN_REDIRECT: &str = "https://admin.example.test/";

async fn two_apps() -> (TestProvider, crate::helpers::TestApp) {
    let provider = two_apps_provider().await;
    let app = spawn_app_toml(&two_apps_toml(&provider)).await;
    (provider, app)
}

/// A provider that knows both apps' redirect URIs.
pub async fn two_apps_provider() -> TestProvider {
    TestProvider::start(ProviderOptions {
        redirect_uris: vec![REDIRECT.into(), ADMIN_REDIRECT.into()],
        post_logout_redirect_uris: vec![REDIRECT.into(), ADMIN_REDIRECT.into()],
        ..ProviderOptions::default()
    })
    .await
}

/// Settings for one BFF serving the app and the admin app.
pub fn two_apps_toml(provider: &TestProvider) -> String {
    AppOptions::for_issuer(provider.issuer())
        .toml()
        .replace(
            "http_timeout_secs",
            &format!("extra_redirect_uris = [\"{ADMIN_REDIRECT}\"]\nhttp_timeout_secs"),
        )
        .replace(
            &format!("allowed_origins = [\"{APP_ORIGIN}\"]"),
            &format!("allowed_origins = [\"{APP_ORIGIN}\", \"{ADMIN}\"]"),
        )
        // A route whose upstream is never reached in these tests.
        + "\n[proxy]\n[[proxy.routes]]\nprefix = \"/api/nowhere\"\nupstream = \"http://127.0.0.1:9\"\n"
}

#[tokio::test]
async fn a_login_started_on_the_second_app_returns_to_it() {
    let (_provider, mut app) = two_apps().await;
    let builder = app
        .request_from(ADMIN, Method::POST, "/bff/login/start")
        .json(&json!({}));
    let start = app.send(builder).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let url = start.body["authorizationUrl"].as_str().unwrap();
    assert_eq!(
        query_param(url, "redirect_uri").as_deref(),
        Some(ADMIN_REDIRECT)
    );
    let callback = Browser::new()
        .sign_in(url, "rita", ADMIN_REDIRECT)
        .await
        .unwrap();
    let builder = app
        .request_from(ADMIN, Method::POST, "/bff/login/end")
        .json(&json!({ "pageUrl": callback }));
    let end = app.send(builder).await;
    assert_eq!(end.status, 200, "{:?}", end.body);
    assert_eq!(end.body["handled"], true);

    let builder = app.request_from(ADMIN, Method::POST, "/bff/logout");
    let logout = app.send(builder).await;
    let logout_url = logout.body["logoutUrl"].as_str().unwrap();
    assert_eq!(
        query_param(logout_url, "post_logout_redirect_uri").as_deref(),
        Some(ADMIN_REDIRECT)
    );
}

#[tokio::test]
async fn a_response_delivered_to_another_app_than_the_one_that_started_is_400() {
    let (_provider, mut app) = two_apps().await;
    let start = app.login_start(None).await;
    let url = start.body["authorizationUrl"].as_str().unwrap();
    assert_eq!(query_param(url, "redirect_uri").as_deref(), Some(REDIRECT));
    let callback = Browser::new().sign_in(url, "sam", REDIRECT).await.unwrap();
    let moved = callback.replace(REDIRECT, ADMIN_REDIRECT);
    let end = app.login_end(&moved).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert!(app.cookie_named("-at").is_none());
}

#[tokio::test]
async fn an_apps_origin_on_another_apps_host_is_403() {
    // A script on app.example.test calling admin.example.test with the
    // browser's admin cookies (same-site, so SameSite=Strict sends them).
    let (_provider, app) = two_apps().await;
    for (method, path) in [
        (Method::GET, "/bff/claims"),
        (Method::POST, "/bff/login/start"),
    ] {
        let response = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .header("host", "admin.example.test")
            .header("origin", APP_ORIGIN)
            .header("x-csrf", "1")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
    // Its own origin is fine there.
    let response = app
        .http
        .get(format!("{}/bff/session", app.base))
        .header("host", "admin.example.test")
        .header("origin", ADMIN)
        .header("x-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_login_started_on_one_host_cannot_be_finished_on_another() {
    let (_provider, mut app) = two_apps().await;
    let start = app.login_start(None).await;
    let url = start.body["authorizationUrl"].as_str().unwrap();
    let callback = Browser::new().sign_in(url, "tess", REDIRECT).await.unwrap();
    // The admin app's script posts the app's callback, with every cookie the
    // app holds (as if they were domain cookies).
    let builder = app
        .request_from(ADMIN, Method::POST, "/bff/login/end")
        .json(&json!({ "pageUrl": callback }));
    let end = app.send(builder).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert!(app.cookie_named("-at").is_none());
}

#[tokio::test]
async fn a_login_cannot_start_on_a_host_that_is_no_apps() {
    let (_provider, app) = two_apps().await;
    let response = app
        .http
        .post(format!("{}/bff/login/start", app.base))
        .header("host", "bff.internal.example")
        .header("x-csrf", "1")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_session_made_on_one_app_host_is_no_session_on_another() {
    // Host-only cookies keep the hosts apart in a browser; a configured
    // cookie domain (or a copied cookie) would not, so the session itself
    // names the app it was made on.
    let (_provider, mut app) = two_apps().await;
    app.login_as("uma").await;
    assert_eq!(app.get("/bff/claims").await.status, 200);
    for path in ["/bff/claims", "/bff/userinfo", "/api/nowhere/x"] {
        let builder = app.request_from(ADMIN, Method::GET, path);
        let answer = app.send(builder).await;
        assert_eq!(answer.status, 401, "{path}: {:?}", answer.body);
    }
    let builder = app.request_from(ADMIN, Method::GET, "/bff/session");
    let session = app.send(builder).await;
    assert_eq!(session.body["isLoggedIn"], false, "{:?}", session.body);
}
