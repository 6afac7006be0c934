//! The CSRF guard applies to what the router matched, however the path is
//! spelled: a signed-in browser's cookies sent by a cross-site form to an
//! encoded, doubled or re-cased spelling of a protected path never reach a
//! handler or the upstream without `x-csrf: 1`.

use crate::api_proxy::app_with_echo_route;
use th_testkit::APP_HOST;

/// Spellings of `/bff/claims`, `/bff/session` and `/api/echo/x`.
const SPELLINGS: [&str; 19] = [
    "/bff;x=1/claims",
    "/bff/claims;x=1",
    "/bff/claims/",
    "/%42FF/claims",
    "/api;x/echo/x",
    "/%62ff/claims",
    "/%62%66%66/session",
    "/bf%66/claims",
    "/bff/%63laims",
    "/%61pi/echo/x",
    "/%61%70%69/%65cho/x",
    "/api/%65cho/x",
    "/bff%2fclaims",
    "/bff%2Fclaims",
    "//bff/claims",
    "//api/echo/x",
    "/BFF/claims",
    "/Api/echo/x",
    "/bff/./claims",
];

#[tokio::test]
async fn no_spelling_of_a_protected_path_passes_without_the_csrf_header() {
    let (_provider, mut app) = app_with_echo_route().await;
    app.login_as("pat").await;
    let cookie = app.cookie_header();
    // The canonical spellings answer 200 with the header: the session is live.
    for path in ["/bff/claims", "/api/echo/x"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    }
    for path in SPELLINGS {
        // What a cross-site form (or a script without the header) sends.
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .header("host", APP_HOST)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            status == 403 || status == 404,
            "{path} answered {status}: {body}"
        );
        assert!(!body.contains("\"sub\""), "{path} leaked claims: {body}");
    }
}

#[tokio::test]
async fn an_encoded_spelling_with_the_header_reaches_the_upstream_as_the_canonical_path() {
    let (_provider, mut app) = app_with_echo_route().await;
    app.login_as("quentin").await;
    let answer = app.get("/%61pi/%65cho/things/%31").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["path"], "/things/1");
    let refused = app.get("/api/echo/%252e%252e/admin").await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
}
