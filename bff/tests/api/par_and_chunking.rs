//! Pushed authorization requests, and tokens too large for one cookie.

use crate::helpers::{AppOptions, query_param, spawn_app_toml};
use crate::stub_issuer::{StubIssuer, login_through, signed};
use th_testkit::{Browser, ProviderOptions, REDIRECT, TestProvider};

#[tokio::test]
async fn par_is_used_when_configured_and_advertised() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let toml_with_par = AppOptions::for_issuer(provider.issuer())
        .toml()
        .replace("http_timeout_secs", "use_par = true\nhttp_timeout_secs");
    let mut app = spawn_app_toml(&toml_with_par).await;

    let start = app.login_start(None).await;
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    assert!(query_param(&url, "request_uri").is_some(), "{url}");
    assert!(
        query_param(&url, "code_challenge").is_none(),
        "parameters went by PAR: {url}"
    );
    let callback = Browser::new().sign_in(&url, "pat", REDIRECT).await.unwrap();
    let end = app.login_end(&callback).await;
    assert_eq!(end.status, 200, "{:?}", end.body);
    assert_eq!(app.session().await.body["claims"]["sub"], "pat");
}

/// An ID token of about 8 KB: 400 group names.
fn big_id_token(stub: &StubIssuer, nonce: &str) -> String {
    let mut claims = stub.claims(nonce);
    claims["groups"] = serde_json::json!(
        (0..400)
            .map(|i| format!("group-{i:04}"))
            .collect::<Vec<_>>()
    );
    signed(&claims)
}

#[tokio::test]
async fn an_id_token_larger_than_one_cookie_is_split_and_read_back() {
    // About the token cookies themselves: the cookie store, in both runs.
    let stub = StubIssuer::start().await;
    let mut app = spawn_app_toml(&AppOptions::for_issuer(&stub.issuer).on_cookies()).await;
    let end = login_through(&mut app, &stub, big_id_token).await;
    assert_eq!(end.status, 200, "{:?}", end.body);
    let id_chunks: Vec<_> = app.jar.keys().filter(|k| k.contains("-id")).collect();
    assert!(
        id_chunks.len() >= 2,
        "the ID token spans cookies: {id_chunks:?}"
    );
    for line in &end.set_cookies {
        assert!(
            line.len() < 4096,
            "one cookie stays under 4096 bytes: {}",
            line.len()
        );
    }
    let session = app.session().await;
    assert_eq!(session.body["claims"]["groups"][399], "group-0399");
}

#[tokio::test]
async fn an_id_token_beyond_the_chunk_limit_fails_with_the_limit_named() {
    let stub = StubIssuer::start().await;
    let toml = AppOptions::for_issuer(&stub.issuer)
        .on_cookies()
        .replace("[session]", "max_chunks = 1\n[session]");
    let mut app = spawn_app_toml(&toml).await;
    let end = login_through(&mut app, &stub, big_id_token).await;
    assert_eq!(end.status, 500, "{:?}", end.body);
    assert_eq!(end.body["code"], "session_too_large");
    assert!(
        end.body["message"]
            .as_str()
            .unwrap()
            .contains("the limit is 1"),
        "{:?}",
        end.body
    );
    assert!(app.cookie_named("-at").is_none());
}
