//! The provider down, slow or broken: 502/504 with a JSON error, never a 500.

use crate::helpers::{AppOptions, TestApp, query_param, spawn_app};
use crate::stub_issuer::{StubIssuer, TokenAnswer};
use std::time::Duration;
use th_testkit::{Fault, FaultProxy, ProviderOptions, REDIRECT, TestProvider, free_port};

fn closed_port_issuer() -> String {
    format!("http://127.0.0.1:{}", free_port())
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

// The real provider behind a fault proxy: the BFF reaches every endpoint of
// the provider's metadata through it (its issuer is the proxy's URL).

/// The provider behind a fault proxy, and a BFF using it whose calls to the
/// provider time out after 2 s.
async fn behind_faults(from_the_start: Fault) -> (FaultProxy, TestProvider, TestApp) {
    let proxy = FaultProxy::bind();
    let provider = TestProvider::start(ProviderOptions {
        public_issuer: Some(proxy.http_url()),
        ..ProviderOptions::default()
    })
    .await;
    proxy.set_target(provider.listens());
    proxy.set(from_the_start);
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.http_timeout_secs = 2;
    let app = spawn_app(options).await;
    (proxy, provider, app)
}

/// The session is still there and still `user`'s.
async fn still_signed_in(app: &mut TestApp, user: &str) {
    let session = app.session().await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    assert_eq!(session.body["isLoggedIn"], true, "{:?}", session.body);
    assert_eq!(app.get("/bff/claims").await.body["sub"], user);
}

/// A refresh under `fault`: answers its status and code, after checking
/// that it is a gateway error in JSON and the session survived it; then the
/// fault ends and a refresh works again (the BFF recovers by itself).
async fn refresh_under(fault: Fault, user: &str) -> (u16, String) {
    let (proxy, _provider, mut app) = behind_faults(Fault::Pass).await;
    app.login_as(user).await;
    proxy.set(fault.clone());
    let started = std::time::Instant::now();
    let refresh = app.refresh().await;
    let took = started.elapsed();
    proxy.set(Fault::Pass);
    assert!(
        [502, 503, 504].contains(&refresh.status),
        "{fault:?}: {} {:?}",
        refresh.status,
        refresh.body
    );
    assert!(
        took < Duration::from_secs(5),
        "{fault:?}: answered after {took:?}, past the 2 s timeout"
    );
    let code = refresh.body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{fault:?}: no JSON error code: {:?}", refresh.body))
        .to_owned();
    still_signed_in(&mut app, user).await;
    let again = app.refresh().await;
    assert_eq!(again.status, 204, "{fault:?}, then none: {:?}", again.body);
    still_signed_in(&mut app, user).await;
    (refresh.status, code)
}

#[tokio::test]
async fn the_token_endpoint_never_answering_a_refresh_is_504_in_time_and_the_session_survives() {
    let (status, code) = refresh_under(Fault::Blackhole, "fay").await;
    assert_eq!((status, code.as_str()), (504, "provider_timeout"));
}

#[tokio::test]
async fn a_token_endpoint_answering_past_the_timeout_is_504_then_the_late_rotation_ends_the_session()
 {
    // The refresh reached the provider, which rotated the refresh token; its
    // answer (several 1 KiB pieces, each 3 s late) came after the BFF gave
    // up. The 504 keeps the session, as the request may never have arrived
    // (the black hole above); here it did, so the next refresh replays the
    // rotated-out token, and the provider ends the grant: a clean 401.
    let (proxy, _provider, mut app) = behind_faults(Fault::Pass).await;
    app.login_as("gus").await;
    proxy.set(Fault::Delay(Duration::from_secs(3)));
    let started = std::time::Instant::now();
    let late = app.refresh().await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(late.status, 504, "{:?}", late.body);
    assert_eq!(late.body["code"], "provider_timeout");
    proxy.set(Fault::Pass);
    still_signed_in(&mut app, "gus").await;
    let replay = app.refresh().await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert_eq!(app.session().await.body["isLoggedIn"], false);
}

#[tokio::test]
async fn the_provider_down_during_a_refresh_is_502_and_the_session_survives() {
    let (status, code) = refresh_under(Fault::Close, "hal").await;
    assert_eq!((status, code.as_str()), (502, "provider_unavailable"));
}

#[tokio::test]
async fn a_provider_500_during_a_refresh_is_502_and_the_session_survives() {
    for body in ["oops", "", r#"{"error":"server_error"}"#] {
        let (status, code) = refresh_under(Fault::http(500, body), "ida").await;
        assert_eq!(
            (status, code.as_str()),
            (502, "provider_unavailable"),
            "{body}"
        );
    }
    let unavailable = r#"{"error":"temporarily_unavailable"}"#;
    let (status, _) = refresh_under(Fault::http(503, unavailable), "ida").await;
    assert_eq!(status, 502);
}

#[tokio::test]
async fn garbage_json_from_the_token_endpoint_during_a_refresh_is_502_and_the_session_survives() {
    for body in [
        "{\"access_token\": ",
        "<html>busy</html>",
        "[]",
        "{\"token_type\": 7}",
    ] {
        let (status, code) = refresh_under(Fault::http(200, body), "jon").await;
        assert_eq!(
            (status, code.as_str()),
            (502, "provider_unavailable"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_slow_provider_within_the_timeout_is_only_slow() {
    let (proxy, _provider, mut app) = behind_faults(Fault::Pass).await;
    app.login_as("kim").await;
    proxy.set(Fault::Delay(Duration::from_millis(100)));
    assert_eq!(app.refresh().await.status, 204);
    still_signed_in(&mut app, "kim").await;
}

#[tokio::test]
async fn the_provider_reset_mid_response_at_login_is_502_and_the_next_login_works() {
    // The BFF starting while discovery is cut after its first bytes, and
    // the first login start trying again.
    let (proxy, _provider, mut app) = behind_faults(Fault::ResetAfter(40)).await;
    let start = app.login_start(None).await;
    assert_eq!(start.status, 502, "{:?}", start.body);
    assert_eq!(start.body["code"], "provider_unavailable");
    proxy.set(Fault::Pass);

    // At the code exchange: the token response cut after its headers.
    let start = app.login_start(None).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    let callback = th_testkit::Browser::new()
        .sign_in(&url, "lea", REDIRECT)
        .await
        .unwrap();
    proxy.set(Fault::ResetAfter(200));
    let end = app.login_end(&callback).await;
    assert_eq!(end.status, 502, "{:?}", end.body);
    assert_eq!(end.body["code"], "provider_unavailable");
    assert_eq!(app.session().await.body["isLoggedIn"], false);
    proxy.set(Fault::Pass);

    app.login_as("lea").await;
    still_signed_in(&mut app, "lea").await;
}

#[tokio::test]
async fn a_refresh_whose_answer_is_cut_after_the_provider_rotated_ends_the_session_with_401() {
    // The provider rotated the refresh token, and its answer, which carried
    // the new one, was lost: the BFF still holds the old one. Sending it
    // again is a replay to the provider, which revokes the whole grant (RFC
    // 9700 §4.14.2). No client can avoid this; what the BFF owes is a 502
    // first (the session kept, as the outage might be nothing more), then a
    // clean 401 that clears the cookies, never a 500.
    let (proxy, _provider, mut app) = behind_faults(Fault::Pass).await;
    app.login_as("max").await;
    proxy.set(Fault::ResetAfter(200));
    let cut = app.refresh().await;
    assert_eq!(cut.status, 502, "{:?}", cut.body);
    proxy.set(Fault::Pass);
    still_signed_in(&mut app, "max").await;
    let replay = app.refresh().await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert_eq!(app.session().await.body["isLoggedIn"], false);
    app.login_as("max").await;
    still_signed_in(&mut app, "max").await;
}

#[tokio::test]
async fn a_signing_key_rotated_mid_session_is_fetched_and_the_session_goes_on() {
    let (_proxy, provider, mut app) = behind_faults(Fault::Pass).await;
    app.login_as("ned").await;
    let kid = provider.rotate_signing_key().await;
    // The refreshed ID token is signed with the new key, which the BFF has
    // not seen: it fetches the JWKS again.
    let refresh = app.refresh().await;
    assert_eq!(refresh.status, 204, "new kid {kid}: {:?}", refresh.body);
    still_signed_in(&mut app, "ned").await;
    // A new login verifies with the fetched key.
    let mut other = app.clone_handle();
    other.login_as("ora").await;
    still_signed_in(&mut other, "ora").await;
}
