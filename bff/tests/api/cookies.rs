//! Bad cookies are "no session" (401 or logged out), never a 500; keys rotate.

use crate::helpers::{
    AppOptions, TestApp, spawn_app, spawn_on_cookies_with_provider, spawn_with_provider,
};
use th_cookies::{CookieKey, KeyRing};
use th_testkit::{ProviderOptions, TEST_COOKIE_KEY, TEST_COOKIE_KEY_2, TestProvider};

async fn logged_in() -> (TestProvider, TestApp) {
    let (provider, mut app) = spawn_with_provider().await;
    app.login_as("grace").await;
    (provider, app)
}

/// After spoiling the access-token cookie, userinfo is 401 and session reads as logged in or out but never fails.
async fn assert_spoiled_access_is_401(app: &mut TestApp, spoil: impl FnOnce(&str) -> String) {
    let name = app.cookie_named("-at").unwrap();
    let spoiled = spoil(&app.jar[&name]);
    app.jar.insert(name, spoiled);
    let info = app.get("/bff/userinfo").await;
    assert_eq!(info.status, 401, "{:?}", info.body);
    assert_eq!(info.body["code"], "unauthorized");
    assert_eq!(app.session().await.status, 200);
}

#[tokio::test]
async fn tampered_cookie_is_401() {
    let (_p, mut app) = logged_in().await;
    assert_spoiled_access_is_401(&mut app, |v| {
        let mut bytes = v.as_bytes().to_vec();
        let i = bytes.len() / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    })
    .await;
}

#[tokio::test]
async fn truncated_cookie_is_401() {
    let (_p, mut app) = logged_in().await;
    assert_spoiled_access_is_401(&mut app, |v| v[..v.len() - 10].to_owned()).await;
}

#[tokio::test]
async fn empty_and_garbage_cookies_are_401() {
    let (_p, mut app) = logged_in().await;
    assert_spoiled_access_is_401(&mut app, |_| "x".to_owned()).await;
    assert_spoiled_access_is_401(&mut app, |_| "v1.k1.%%%".to_owned()).await;
    assert_spoiled_access_is_401(&mut app, |_| "v1..".to_owned()).await;
}

#[tokio::test]
async fn cookie_sealed_with_a_foreign_key_is_401() {
    let (_p, mut app) = logged_in().await;
    let foreign = KeyRing::new(vec![CookieKey::from_bytes("k1", &[9; 32]).unwrap()]).unwrap();
    let name = app.cookie_named("-at").unwrap();
    let forged = foreign.seal(&name, br#"{"t":"forged-token"}"#);
    assert_spoiled_access_is_401(&mut app, |_| forged).await;
}

#[tokio::test]
async fn cookie_under_another_name_is_401() {
    // About the token cookies themselves: the cookie store, in both runs.
    let (_p, mut app) = spawn_on_cookies_with_provider().await;
    app.login_as("grace").await;
    // The refresh-token cookie's value, presented as the access-token cookie.
    let rt = app.jar[&app.cookie_named("-rt").unwrap()].clone();
    assert_spoiled_access_is_401(&mut app, |_| rt).await;
    // And the access-token cookie's value as the ID-token cookie: no session.
    let at = app.jar[&app.cookie_named("-at").unwrap()].clone();
    let id_name = app.cookie_named("-id").unwrap();
    app.jar.insert(id_name, at);
    let session = app.session().await;
    assert_eq!(session.status, 200);
    assert_eq!(session.body["isLoggedIn"], false);
    assert_eq!(app.get("/bff/claims").await.status, 401);
}

#[tokio::test]
async fn spoiled_refresh_cookie_is_401_and_clears_the_session() {
    let (_p, mut app) = logged_in().await;
    let name = app.cookie_named("-rt").unwrap();
    app.jar.insert(name, "v1.k1.AAAA".into());
    assert_eq!(app.refresh().await.status, 401);
    assert!(app.jar.is_empty());
}

#[tokio::test]
async fn key_rotation_keeps_old_cookies_working() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut before = spawn_app(AppOptions::for_issuer(provider.issuer())).await;
    before.login_as("heidi").await;

    // A new key goes first; the old one stays to open existing cookies.
    let mut rotated = AppOptions::for_issuer(provider.issuer());
    rotated.keys = vec![("k2", TEST_COOKIE_KEY_2), ("k1", TEST_COOKIE_KEY)];
    let mut after = spawn_app(rotated).await;
    after.jar = before.jar.clone();
    assert_eq!(after.session().await.body["isLoggedIn"], true);
    assert_eq!(after.get("/bff/userinfo").await.status, 200);

    // New cookies are sealed with the new key.
    assert_eq!(after.refresh().await.status, 204);
    let at = &after.jar[&after.cookie_named("-at").unwrap()];
    assert!(at.starts_with("v1.k2."), "{at}");

    // Once the old key is dropped, its cookies no longer open.
    let mut only_new = AppOptions::for_issuer(provider.issuer());
    only_new.keys = vec![("k2", TEST_COOKIE_KEY_2)];
    let mut dropped = spawn_app(only_new).await;
    dropped.jar = before.jar.clone();
    assert_eq!(dropped.session().await.body["isLoggedIn"], false);
}
