//! What the BFF keeps of a token response, and for how long: every login
//! writes or clears every token, every refresh stays with the session's
//! user, no token outlives the session, logout revokes both tokens.

use crate::helpers::{Answer, AppOptions, TestApp, query_param, spawn_app_toml};
use crate::stub_issuer::{StubIssuer, TokenAnswer, signed};
use serde_json::{Value, json};
use th_testkit::REDIRECT;

/// Logs in through the stub, whose token endpoint answers `body(id_token)`.
async fn login_answering(
    app: &mut TestApp,
    stub: &StubIssuer,
    sub: &str,
    body: impl FnOnce(String) -> Value,
) -> Answer {
    let start = app.login_start(None).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let url = start.body["authorizationUrl"].as_str().unwrap();
    let nonce = query_param(url, "nonce").unwrap();
    let state = query_param(url, "state").unwrap();
    let mut claims = stub.claims(&nonce);
    claims["sub"] = json!(sub);
    stub.answer(TokenAnswer::Json(body(signed(&claims))));
    app.login_end(&format!("{REDIRECT}?code=stub-code&state={state}"))
        .await
}

async fn app_for(stub: &StubIssuer, session_toml: &str) -> TestApp {
    let toml = AppOptions::for_issuer(&stub.issuer).toml().replacen(
        "[session]",
        &format!("[session]\n{session_toml}"),
        1,
    );
    spawn_app_toml(&toml).await
}

fn grants(stub: &StubIssuer) -> Vec<String> {
    stub.scenario.lock().unwrap().grants.clone()
}

#[tokio::test]
async fn a_login_without_a_refresh_token_clears_the_previous_users_refresh_token() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "").await;
    let first = login_answering(&mut app, &stub, "mallory", |id| {
        json!({ "access_token": "at-1", "token_type": "Bearer", "expires_in": 300,
                "refresh_token": "rt-of-mallory", "id_token": id })
    })
    .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    if !app.on_redis {
        assert!(app.jar.keys().any(|k| k.ends_with("-rt")));
    }
    // The same browser signs in as someone else; no refresh token this time.
    let second = login_answering(&mut app, &stub, "eve", |id| {
        json!({ "access_token": "at-2", "token_type": "Bearer", "expires_in": 300, "id_token": id })
    })
    .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert!(
        !app.jar.keys().any(|k| k.ends_with("-rt")),
        "the previous refresh-token cookie is cleared: {:?}",
        app.jar.keys()
    );
    let refresh = app.refresh().await;
    assert_eq!(refresh.status, 401, "{:?}", refresh.body);
    assert!(
        !grants(&stub).iter().any(|g| g == "refresh_token"),
        "mallory's refresh token was never used for eve: {:?}",
        grants(&stub)
    );
}

#[tokio::test]
async fn a_refresh_without_an_id_token_must_be_for_the_sessions_user() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "").await;
    login_answering(&mut app, &stub, "mallory", |id| {
        json!({ "access_token": "at-1", "token_type": "Bearer", "expires_in": 300,
                "refresh_token": "rt-1", "id_token": id })
    })
    .await;
    let no_id_token = json!({ "access_token": "at-2", "token_type": "Bearer",
                              "expires_in": 300, "refresh_token": "rt-2" });

    // Same user at userinfo: the session goes on.
    stub.answer(TokenAnswer::Json(no_id_token.clone()));
    let same = app.refresh().await;
    assert_eq!(same.status, 204, "{:?}", same.body);
    assert_eq!(app.get("/bff/claims").await.body["sub"], "mallory");

    // Another user at userinfo: refused, every cookie cleared.
    stub.scenario.lock().unwrap().userinfo = json!({ "sub": "eve" });
    stub.answer(TokenAnswer::Json(no_id_token));
    let other = app.refresh().await;
    assert_eq!(other.status, 401, "{:?}", other.body);
    assert!(app.jar.is_empty(), "{:?}", app.jar.keys());
    assert_eq!(app.session().await.body["isLoggedIn"], false);
}

#[tokio::test]
async fn a_token_response_without_expires_in_gets_the_default_lifetime() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "default_access_token_lifetime_secs = 120").await;
    let end = login_answering(
        &mut app,
        &stub,
        "mallory",
        |id| json!({ "access_token": "at", "token_type": "Bearer", "id_token": id }),
    )
    .await;
    assert_eq!(end.status, 200, "{:?}", end.body);
    let expires_at = app.session().await.body["expiresAt"].as_i64().unwrap();
    let now = th_bff::clock::now();
    assert!(
        (now + 110..=now + 121).contains(&expires_at),
        "{expires_at} vs now {now}"
    );
}

#[tokio::test]
async fn a_huge_expires_in_is_capped_at_the_sessions_end_without_overflow() {
    for huge in [json!(i64::MAX), json!(u64::MAX)] {
        let stub = StubIssuer::start().await;
        let mut app = app_for(&stub, "lifetime_secs = 600").await;
        let end = login_answering(&mut app, &stub, "mallory", |id| {
            json!({ "access_token": "at", "token_type": "Bearer",
                    "expires_in": huge, "id_token": id })
        })
        .await;
        assert_eq!(end.status, 200, "{huge}: {:?}", end.body);
        let expires_at = app.session().await.body["expiresAt"].as_i64().unwrap();
        let now = th_bff::clock::now();
        assert!(
            (now + 590..=now + 601).contains(&expires_at),
            "{huge}: {expires_at} vs now {now}"
        );
    }
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_the_refresh_token() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "").await;
    login_answering(&mut app, &stub, "mallory", |id| {
        json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300,
                "refresh_token": "rt", "id_token": id })
    })
    .await;
    assert_eq!(app.logout().await.status, 200);
    let mut revoked = stub.scenario.lock().unwrap().revoked.clone();
    revoked.sort();
    assert_eq!(revoked, ["access_token", "refresh_token"]);
}

#[tokio::test]
async fn after_logout_a_copied_access_token_is_refused_by_the_real_provider() {
    let (_provider, mut app) = crate::helpers::spawn_on_cookies_with_provider().await;
    app.login_as("olga").await;
    let copied = app.jar.clone();
    assert_eq!(app.logout().await.status, 200);
    // The copy still opens (the cookie store holds no state), but the
    // provider revoked its access token: userinfo is refused.
    app.jar = copied;
    let info = app.get("/bff/userinfo").await;
    assert_eq!(info.status, 401, "{:?}", info.body);
}

#[tokio::test]
async fn userinfo_for_another_subject_than_the_id_tokens_is_502() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "").await;
    login_answering(&mut app, &stub, "mallory", |id| {
        json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id })
    })
    .await;
    let same = app.get("/bff/userinfo").await;
    assert_eq!(same.status, 200, "{:?}", same.body);
    stub.scenario.lock().unwrap().userinfo = json!({ "sub": "eve", "email": "eve@example.com" });
    let other = app.get("/bff/userinfo").await;
    assert_eq!(other.status, 502, "{:?}", other.body);
    assert_eq!(other.body["code"], "userinfo_subject_mismatch");
    assert!(!other.body.to_string().contains("eve@"), "{:?}", other.body);
}

#[tokio::test]
async fn a_callback_with_a_repeated_parameter_is_400_and_still_ends_the_login() {
    let stub = StubIssuer::start().await;
    let mut app = app_for(&stub, "").await;
    let start = app.login_start(None).await;
    assert_eq!(start.status, 200);
    assert!(app.cookie_named("-login").is_some());
    let end = app
        .login_end(&format!("{REDIRECT}?code=c&state=s&state=t"))
        .await;
    assert_eq!(end.status, 400, "{:?}", end.body);
    assert!(
        app.cookie_named("-login").is_none(),
        "the login cookie is cleared: {:?}",
        end.set_cookies
    );
}
