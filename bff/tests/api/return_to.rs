//! `returnTo` accepts only a same-origin path.

use crate::helpers::spawn_with_provider;

#[tokio::test]
async fn return_to_other_hosts_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "evil",
    ] {
        let start = app.login_start(Some(evil)).await;
        assert_eq!(start.status, 400, "{evil:?} was accepted");
        assert_eq!(start.body["code"], "bad_request");
        assert!(
            app.cookie_named("-login").is_none(),
            "no login cookie for {evil:?}"
        );
    }
}

#[tokio::test]
async fn return_to_a_path_is_accepted() {
    let (_p, mut app) = spawn_with_provider().await;
    let start = app.login_start(Some("/account/settings?tab=2")).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    assert!(app.cookie_named("-login").is_some());
}
