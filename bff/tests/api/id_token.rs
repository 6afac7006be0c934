//! ID tokens the BFF must refuse, from a stub issuer that forges them.

use crate::helpers::{AppOptions, TestApp, spawn_app};
use crate::stub_issuer::{
    StubIssuer, hmac_with_public_key, login_through, signed, signed_by_unknown_key, unsigned,
};
use serde_json::Value;

async fn login_with(
    make: impl FnOnce(&StubIssuer, &str) -> String,
) -> (TestApp, crate::helpers::Answer) {
    let stub = StubIssuer::start().await;
    let mut app = spawn_app(AppOptions::for_issuer(&stub.issuer)).await;
    let end = login_through(&mut app, &stub, make).await;
    (app, end)
}

async fn assert_refused(make: impl FnOnce(&StubIssuer, &str) -> String) {
    let (mut app, end) = login_with(make).await;
    assert_eq!(end.status, 502, "{:?}", end.body);
    assert_eq!(end.body["code"], "invalid_id_token");
    assert!(app.cookie_named("-at").is_none() && app.cookie_named("-id").is_none());
    assert_eq!(app.session().await.body["isLoggedIn"], false);
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn a_well_formed_id_token_from_the_stub_is_accepted() {
    // The control: the stub's honest token passes, so the refusals below are
    // about the one thing each spoils.
    let (mut app, end) = login_with(|stub, nonce| signed(&stub.claims(nonce))).await;
    assert_eq!(end.status, 200, "{:?}", end.body);
    assert_eq!(app.session().await.body["claims"]["sub"], "mallory");
}

#[tokio::test]
async fn id_token_with_the_wrong_audience_is_refused() {
    assert_refused(|s, n| signed(&with(s.claims(n), "aud", "someone-else".into()))).await;
}

#[tokio::test]
async fn id_token_from_another_issuer_is_refused() {
    assert_refused(|s, n| signed(&with(s.claims(n), "iss", "https://evil.example".into()))).await;
}

#[tokio::test]
async fn id_token_with_the_wrong_nonce_is_refused() {
    assert_refused(|s, n| signed(&with(s.claims(n), "nonce", "replayed-nonce".into()))).await;
}

#[tokio::test]
async fn id_token_without_a_nonce_is_refused() {
    assert_refused(|s, n| {
        let mut claims = s.claims(n);
        claims.as_object_mut().unwrap().remove("nonce");
        signed(&claims)
    })
    .await;
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    let past = th_bff::clock::now() - 3600;
    assert_refused(|s, n| signed(&with(s.claims(n), "exp", past.into()))).await;
}

#[tokio::test]
async fn unsigned_alg_none_id_token_is_refused() {
    assert_refused(|s, n| unsigned(&s.claims(n))).await;
}

#[tokio::test]
async fn id_token_signed_by_an_unknown_key_is_refused() {
    assert_refused(|s, n| signed_by_unknown_key(&s.claims(n))).await;
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_is_refused() {
    assert_refused(|s, n| hmac_with_public_key(&s.claims(n))).await;
}

#[tokio::test]
async fn multiple_audiences_without_our_azp_are_refused() {
    assert_refused(|s, n| {
        let claims = with(
            s.claims(n),
            "aud",
            serde_json::json!(["token-handler", "other"]),
        );
        signed(&with(claims, "azp", "other".into()))
    })
    .await;
}

#[tokio::test]
async fn a_key_published_after_start_is_found_by_refetching_the_jwks() {
    let (_app, end) = login_with(|stub, nonce| {
        // The BFF fetched the JWKS at start, without this key.
        stub.scenario.lock().unwrap().publish_unknown_key = true;
        signed_by_unknown_key(&stub.claims(nonce))
    })
    .await;
    assert_eq!(end.status, 200, "{:?}", end.body);
}
