//! The whole flow against the real provider.

use crate::helpers::{
    AppOptions, query_param, spawn_app_toml, spawn_on_cookies_with_provider, spawn_with_provider,
};
use th_testkit::{Browser, ProviderOptions, REDIRECT, TestProvider};

#[tokio::test]
async fn full_login_sets_strict_host_cookies_and_reports_the_session() {
    let (_provider, mut app) = spawn_with_provider().await;
    let before = app.session().await;
    assert_eq!(before.body["isLoggedIn"], false);

    let end = app.login_as("alice").await;
    assert_eq!(end.body["handled"], true);
    assert_eq!(end.body["isLoggedIn"], true);
    assert_eq!(end.headers["cache-control"], "no-store");
    for line in &end.set_cookies {
        if line.contains("Max-Age=0") {
            continue;
        }
        assert!(line.starts_with("__Host-th-"), "{line}");
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(line.contains(attr), "{line} lacks {attr}");
        }
        assert!(!line.contains("Domain"), "{line}");
    }
    for suffix in ["-at", "-rt", "-id"] {
        assert!(app.cookie_named(suffix).is_some(), "no {suffix} cookie");
    }
    assert!(
        app.cookie_named("-login").is_none(),
        "the login cookie is cleared"
    );

    let session = app.session().await;
    assert_eq!(session.status, 200);
    assert_eq!(session.body["isLoggedIn"], true);
    assert_eq!(session.body["claims"]["sub"], "alice");
    assert_eq!(session.body["claims"]["email"], "alice@example.com");
    assert!(session.body["claims"].get("nonce").is_none());
    assert!(session.body["expiresAt"].as_i64().unwrap() > th_bff::clock::now());
}

#[tokio::test]
async fn userinfo_and_claims_come_from_the_provider() {
    let (provider, mut app) = spawn_with_provider().await;
    app.login_as("bob").await;

    let info = app.get("/bff/userinfo").await;
    assert_eq!(info.status, 200, "{:?}", info.body);
    assert_eq!(info.body["sub"], "bob");
    assert_eq!(info.body["email"], "bob@example.com");

    let claims = app.get("/bff/claims").await;
    assert_eq!(claims.status, 200);
    assert_eq!(claims.body["sub"], "bob");
    assert_eq!(claims.body["aud"], "token-handler");
    assert_eq!(claims.body["iss"], provider.issuer());
}

#[tokio::test]
async fn userinfo_and_claims_without_a_session_are_401() {
    let (_provider, mut app) = spawn_with_provider().await;
    for path in ["/bff/userinfo", "/bff/claims"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 401, "{path}");
        assert_eq!(answer.body["code"], "unauthorized");
    }
}

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_stops_working() {
    // The browser holds the refresh token only with the cookie store; no
    // grace for a late tab, so the old token is refused at once.
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let options = AppOptions::for_issuer(provider.issuer());
    let toml = options
        .on_cookies()
        .replacen("[session]", "[session]\nrefresh_grace_secs = 0", 1);
    let mut app = spawn_app_toml(&toml).await;
    app.login_as("carol").await;
    let rt_name = app.cookie_named("-rt").unwrap();
    let at_name = app.cookie_named("-at").unwrap();
    let old_rt = app.jar[&rt_name].clone();
    let old_at = app.jar[&at_name].clone();

    let refreshed = app.refresh().await;
    assert_eq!(refreshed.status, 204, "{:?}", refreshed.body);
    assert_ne!(
        app.jar[&rt_name], old_rt,
        "the refresh token cookie is rewritten"
    );
    assert_ne!(
        app.jar[&at_name], old_at,
        "the access token cookie is rewritten"
    );
    let info = app.get("/bff/userinfo").await;
    assert_eq!(info.status, 200, "the new access token works");

    // Replaying the rotated-out refresh token fails and ends the session.
    app.jar.insert(rt_name.clone(), old_rt);
    let replay = app.refresh().await;
    assert_eq!(replay.status, 401, "{:?}", replay.body);
    assert!(
        app.jar.is_empty(),
        "a failed refresh clears every cookie: {:?}",
        app.jar.keys()
    );
    assert_eq!(app.session().await.body["isLoggedIn"], false);
}

#[tokio::test]
async fn a_tab_that_refreshes_with_the_rotated_out_token_just_after_gets_the_new_session() {
    // The real provider rotates refresh tokens and would refuse the old one
    // (ending the session); within the grace the BFF answers the new one.
    let (_provider, mut app) = spawn_on_cookies_with_provider().await;
    app.login_as("cleo").await;
    let before = app.jar.clone();
    assert_eq!(app.refresh().await.status, 204);
    let after = app.jar.clone();
    let mut late_tab = app.clone_handle();
    late_tab.jar = before;
    let late = late_tab.refresh().await;
    assert_eq!(late.status, 204, "{:?}", late.body);
    assert_eq!(
        late_tab.jar, after,
        "the late tab gets the same new session"
    );
    assert_eq!(late_tab.get("/bff/userinfo").await.status, 200);
    assert_eq!(
        app.refresh().await.status,
        204,
        "the new token was never replayed"
    );
    assert_eq!(app.get("/bff/userinfo").await.status, 200);
}

#[tokio::test]
async fn refresh_without_a_session_is_401() {
    let (_provider, mut app) = spawn_with_provider().await;
    assert_eq!(app.refresh().await.status, 401);
}

#[tokio::test]
async fn logout_clears_cookies_revokes_and_answers_the_end_session_url() {
    let (provider, mut app) = spawn_with_provider().await;
    app.login_as("dave").await;
    let rt_name = app.cookie_named("-rt").unwrap();
    let kept_jar = app.jar.clone();

    let logout = app.logout().await;
    assert_eq!(logout.status, 200);
    let url = logout.body["logoutUrl"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/session/end", provider.issuer())),
        "{url}"
    );
    assert!(query_param(url, "id_token_hint").is_some());
    assert_eq!(
        query_param(url, "post_logout_redirect_uri").as_deref(),
        Some(REDIRECT)
    );
    assert!(
        app.jar.is_empty(),
        "every cookie is cleared: {:?}",
        app.jar.keys()
    );
    assert_eq!(app.session().await.body["isLoggedIn"], false);

    // The refresh token was revoked at the provider: a browser that kept
    // its cookies cannot refresh.
    app.jar = kept_jar;
    assert!(app.jar.contains_key(&rt_name));
    assert_eq!(app.refresh().await.status, 401);

    // The provider accepts the logout URL (the id_token_hint is valid).
    let after = Browser::new().confirm_logout(url).await.unwrap();
    assert!(after.starts_with(REDIRECT), "{after}");
}

#[tokio::test]
async fn return_to_survives_the_login_round_trip() {
    let (_provider, mut app) = spawn_with_provider().await;
    let start = app.login_start(Some("/orders/42?tab=items")).await;
    assert_eq!(start.status, 200);
    let url = start.body["authorizationUrl"].as_str().unwrap();
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(url, "nonce").is_some());
    assert!(query_param(url, "state").is_some());
    let callback = Browser::new().sign_in(url, "erin", REDIRECT).await.unwrap();
    let end = app.login_end(&callback).await;
    assert_eq!(end.status, 200);
    assert_eq!(end.body["returnTo"], "/orders/42?tab=items");
}

#[tokio::test]
async fn login_end_on_a_plain_page_only_reports_the_session() {
    let (_provider, mut app) = spawn_with_provider().await;
    let plain = app.login_end("https://app.example.test/orders").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.body["handled"], false);
    assert_eq!(plain.body["isLoggedIn"], false);
    app.login_as("frank").await;
    let plain = app.login_end("https://app.example.test/").await;
    assert_eq!(plain.body["handled"], false);
    assert_eq!(plain.body["isLoggedIn"], true);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let (_provider, mut app) = spawn_with_provider().await;
    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/readyz").await.status, 200);
}
