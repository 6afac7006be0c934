//! Logins that must fail with a 4xx and leave no session.

use crate::helpers::{AppOptions, TestApp, query_param, spawn_app, spawn_with_provider};
use th_testkit::{Browser, ProviderOptions, REDIRECT, TestProvider};

fn assert_no_session(app: &TestApp) {
    for suffix in ["-at", "-rt", "-id"] {
        assert!(app.cookie_named(suffix).is_none(), "{suffix} cookie set");
    }
}

/// Starts a login and signs in at the provider; returns the callback URL.
async fn signed_in_at_provider(app: &mut TestApp, user: &str) -> String {
    let start = app.login_start(None).await;
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    Browser::new().sign_in(&url, user, REDIRECT).await.unwrap()
}

#[tokio::test]
async fn state_mismatch_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "ivan").await;
    let state = query_param(&callback, "state").unwrap();
    let forged = callback.replace(&format!("state={state}"), "state=forged");
    let end = app.login_end(&forged).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_eq!(end.body["code"], "login_failed");
    assert_no_session(&app);
}

#[tokio::test]
async fn missing_login_cookie_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "judy").await;
    app.jar.clear();
    let end = app.login_end(&callback).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_no_session(&app);
}

#[tokio::test]
async fn replayed_callback_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "ken").await;
    assert_eq!(app.login_end(&callback).await.status, 200);
    // The login cookie was single-use.
    let replay = app.login_end(&callback).await;
    assert_eq!(replay.status, 400, "{:?}", replay.body);
}

#[tokio::test]
async fn replayed_code_with_a_fresh_state_is_refused_by_the_provider() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "leo").await;
    assert_eq!(app.login_end(&callback).await.status, 200);
    // An attacker with the old code and a fresh login of their own.
    let mut attacker = spawn_app(AppOptions::for_issuer(_p.issuer())).await;
    let start = attacker.login_start(None).await;
    let fresh_state =
        query_param(start.body["authorizationUrl"].as_str().unwrap(), "state").unwrap();
    let old_state = query_param(&callback, "state").unwrap();
    let replay = callback.replace(
        &format!("state={old_state}"),
        &format!("state={fresh_state}"),
    );
    let end = attacker.login_end(&replay).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_eq!(end.body["code"], "login_failed");
    assert_no_session(&attacker);
}

#[tokio::test]
async fn expired_login_cookie_is_400() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.login_lifetime_secs = 1;
    let mut app = spawn_app(options).await;
    let callback = signed_in_at_provider(&mut app, "mia").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let end = app.login_end(&callback).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert!(end.body["message"].as_str().unwrap().contains("too long"));
    assert_no_session(&app);
}

#[tokio::test]
async fn wrong_iss_in_the_response_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "nia").await;
    let iss = query_param(&callback, "iss").expect("the provider sends iss (RFC 9207)");
    let mut url = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "iss" {
                "https://evil.example".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    assert_ne!(iss, "https://evil.example");
    let end = app.login_end(url.as_str()).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_no_session(&app);
}

#[tokio::test]
async fn missing_iss_when_the_provider_promises_it_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let callback = signed_in_at_provider(&mut app, "olga").await;
    let mut url = url::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let end = app.login_end(url.as_str()).await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert_no_session(&app);
}

#[tokio::test]
async fn provider_error_response_is_400() {
    let (p, mut app) = spawn_with_provider().await;
    let start = app.login_start(None).await;
    let state = query_param(start.body["authorizationUrl"].as_str().unwrap(), "state").unwrap();
    let end = app
        .login_end(&format!(
            "{REDIRECT}?error=access_denied&state={state}&iss={}",
            p.issuer()
        ))
        .await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert!(
        end.body["message"]
            .as_str()
            .unwrap()
            .contains("access_denied")
    );
    assert_no_session(&app);
}
