//! The contract's CSRF header, Origin allow-list and CORS.

use crate::helpers::{AppOptions, spawn_app_toml, spawn_with_provider};
use reqwest::Method;
use th_testkit::{APP_HOST, APP_ORIGIN, ProviderOptions, TestProvider};

const BFF_ENDPOINTS: [(&str, &str); 7] = [
    ("POST", "/bff/login/start"),
    ("POST", "/bff/login/end"),
    ("GET", "/bff/session"),
    ("GET", "/bff/userinfo"),
    ("GET", "/bff/claims"),
    ("POST", "/bff/refresh"),
    ("POST", "/bff/logout"),
];

#[tokio::test]
async fn missing_csrf_header_is_403() {
    let (_provider, app) = spawn_with_provider().await;
    for (method, path) in BFF_ENDPOINTS {
        let response = app
            .http
            .request(method.parse().unwrap(), format!("{}{path}", app.base))
            .header("origin", APP_ORIGIN)
            .header("host", APP_HOST)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "csrf_header_missing");
    }
}

#[tokio::test]
async fn wrong_csrf_value_is_403() {
    let (_provider, app) = spawn_with_provider().await;
    let response = app
        .http
        .get(format!("{}/bff/session", app.base))
        .header("x-csrf", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn foreign_origin_is_403_on_every_endpoint() {
    let (_provider, app) = spawn_with_provider().await;
    let mut all: Vec<(&str, &str)> = BFF_ENDPOINTS.to_vec();
    all.extend([("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/nowhere")]);
    for (method, path) in all {
        for origin in [
            "https://evil.example",
            "null",
            "https://app.example.test.evil.example",
        ] {
            let response = app
                .http
                .request(method.parse().unwrap(), format!("{}{path}", app.base))
                .header("x-csrf", "1")
                .header("origin", origin)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{method} {path} from {origin}");
            assert!(
                response
                    .headers()
                    .get("access-control-allow-origin")
                    .is_none()
            );
        }
    }
}

#[tokio::test]
async fn cors_preflight_from_a_foreign_origin_gets_no_allow_headers() {
    let (_provider, app) = spawn_with_provider().await;
    let response = app
        .http
        .request(Method::OPTIONS, format!("{}/bff/login/start", app.base))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-csrf, content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-headers",
        "access-control-allow-methods",
    ] {
        assert!(response.headers().get(name).is_none(), "{name}");
    }
}

#[tokio::test]
async fn the_same_origin_spa_gets_no_cors_headers() {
    // In production the app and the BFF share an origin: CORS is never needed.
    let (_provider, mut app) = spawn_with_provider().await;
    let answer = app.session().await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
    ] {
        assert!(answer.headers.get(name).is_none(), "{name}");
    }
}

#[tokio::test]
async fn an_explicit_cross_origin_caller_gets_credentialed_cors_and_the_csrf_header() {
    const DEV: &str = "https://dev.example.test";
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let toml = AppOptions::for_issuer(provider.issuer()).toml().replace(
        &format!("allowed_origins = [\"{APP_ORIGIN}\"]"),
        &format!("allowed_origins = [\"{APP_ORIGIN}\"]\ncross_origin = [\"{DEV}\"]"),
    );
    let app = spawn_app_toml(&toml).await;
    let response = app
        .http
        .request(Method::OPTIONS, format!("{}/bff/login/start", app.base))
        .header("origin", DEV)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-csrf, content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], DEV);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("x-csrf"), "{allowed}");
    assert!(!allowed.contains("authorization"), "{allowed}");
}

#[tokio::test]
async fn a_request_without_origin_but_with_the_header_passes() {
    // Same-origin GETs may omit Origin; the CSRF header still proves script.
    let (_provider, app) = spawn_with_provider().await;
    let response = app
        .http
        .get(format!("{}/bff/session", app.base))
        .header("x-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
