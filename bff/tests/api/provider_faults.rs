//! The provider down, slow or broken: 502/504 with a JSON error, never a 500.

use crate::helpers::{AppOptions, REDIRECT, query_param, spawn_app};
use crate::stub_issuer::{StubIssuer, TokenAnswer};
use std::time::Duration;

fn closed_port_issuer() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    drop(listener);
    issuer
}

#[tokio::test]
async fn provider_down_at_login_start_is_502() {
    let mut app = spawn_app(AppOptions::for_issuer(&closed_port_issuer())).await;
    let start = app.login_start(None).await;
    assert_eq!(start.status, 502, "{:?}", start.body);
    assert_eq!(start.body["code"], "provider_unavailable");
    assert_eq!(app.get("/readyz").await.status, 503);
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn provider_slow_at_login_start_is_504() {
    let stub = StubIssuer::start().await;
    stub.scenario.lock().unwrap().discovery_delay = Duration::from_secs(3);
    let mut options = AppOptions::for_issuer(&stub.issuer);
    options.http_timeout_secs = 1;
    let mut app = spawn_app(options).await;
    let start = app.login_start(None).await;
    assert_eq!(start.status, 504, "{:?}", start.body);
    assert_eq!(start.body["code"], "provider_timeout");
}

async fn login_end_with(answer: TokenAnswer, timeout: u64) -> crate::helpers::Answer {
    let stub = StubIssuer::start().await;
    let mut options = AppOptions::for_issuer(&stub.issuer);
    options.http_timeout_secs = timeout;
    let mut app = spawn_app(options).await;
    let start = app.login_start(None).await;
    let state = query_param(start.body["authorizationUrl"].as_str().unwrap(), "state").unwrap();
    stub.answer(answer);
    let end = app
        .login_end(&format!("{REDIRECT}?code=c&state={state}"))
        .await;
    assert!(
        app.cookie_named("-at").is_none(),
        "no session after a failed login"
    );
    end
}

#[tokio::test]
async fn token_endpoint_500_is_502() {
    let end = login_end_with(TokenAnswer::Raw(500, "oops".into()), 5).await;
    assert_eq!(end.status, 502, "{:?}", end.body);
    assert_eq!(end.body["code"], "provider_unavailable");
}

#[tokio::test]
async fn token_endpoint_malformed_json_is_502() {
    let end = login_end_with(TokenAnswer::Raw(200, "{\"access_token\": ".into()), 5).await;
    assert_eq!(end.status, 502, "{:?}", end.body);
}

#[tokio::test]
async fn token_endpoint_slow_is_504() {
    let end = login_end_with(TokenAnswer::Slow(Duration::from_secs(3)), 1).await;
    assert_eq!(end.status, 504, "{:?}", end.body);
    assert_eq!(end.body["code"], "provider_timeout");
}

#[tokio::test]
async fn token_endpoint_error_body_is_not_echoed() {
    let end = login_end_with(
        TokenAnswer::Raw(
            400,
            r#"{"error":"invalid_grant","error_description":"secret-detail"}"#.into(),
        ),
        5,
    )
    .await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_eq!(end.body["code"], "login_failed");
    assert!(!end.body.to_string().contains("secret-detail"));
}
