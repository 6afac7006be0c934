//! Malformed and oversized bodies: 400 and 413 with a JSON error, never a 500.

use crate::helpers::spawn_with_provider;
use reqwest::Method;

#[tokio::test]
async fn oversized_json_body_is_413() {
    let (_p, mut app) = spawn_with_provider().await;
    let huge = format!("https://app.example.test/?x={}", "a".repeat(10_000));
    let end = app.login_end(&huge).await;
    assert_eq!(end.status, 413, "{:?}", end.body);
    assert_eq!(end.body["code"], "payload_too_large");
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    for body in [
        "{",
        "[]",
        r#"{"pageUrl": 5}"#,
        r#"{"pageUrl":"x","extra":1}"#,
        "",
    ] {
        let builder = app
            .request(Method::POST, "/bff/login/end")
            .header("content-type", "application/json")
            .body(body);
        let answer = app.send(builder).await;
        assert_eq!(answer.status, 400, "{body:?}: {:?}", answer.body);
        assert_eq!(answer.body["code"], "bad_request");
    }
}

#[tokio::test]
async fn non_json_content_type_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let builder = app
        .request(Method::POST, "/bff/login/start")
        .header("content-type", "text/plain")
        .body("{}");
    assert_eq!(app.send(builder).await.status, 400);
}

#[tokio::test]
async fn page_url_that_is_not_a_url_is_400() {
    let (_p, mut app) = spawn_with_provider().await;
    let end = app.login_end("not a url").await;
    assert_eq!(end.status, 400);
    assert_eq!(end.body["code"], "bad_request");
}

#[tokio::test]
async fn unknown_path_is_a_json_404() {
    let (_p, mut app) = spawn_with_provider().await;
    let answer = app.get("/bff/nothing-here").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["code"], "not_found");
}

#[tokio::test]
async fn too_many_login_starts_from_one_address_are_429_and_a_forged_forwarded_for_does_not_help() {
    let provider = th_testkit::TestProvider::start(Default::default()).await;
    let toml = crate::helpers::AppOptions::for_issuer(provider.issuer())
        .toml()
        .replace(
            "max_json_bytes = 4096",
            "max_json_bytes = 4096\nlogin_starts_per_minute = 3",
        );
    let mut app = crate::helpers::spawn_app_toml(&toml).await;
    for _ in 0..3 {
        let start = app.login_start(None).await;
        assert_eq!(start.status, 200, "{:?}", start.body);
    }
    for forged in ["203.0.113.1", "203.0.113.2"] {
        let builder = app
            .request(Method::POST, "/bff/login/start")
            .header("x-forwarded-for", forged)
            .json(&serde_json::json!({}));
        let answer = app.send(builder).await;
        assert_eq!(answer.status, 429, "{:?}", answer.body);
        assert_eq!(answer.body["code"], "rate_limited");
        let retry: u64 = answer.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=20).contains(&retry), "{retry}");
    }
    // Other endpoints are not limited.
    assert_eq!(app.session().await.status, 200);
}

#[tokio::test]
async fn a_json_body_that_stalls_is_408_and_the_connection_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let provider = th_testkit::TestProvider::start(Default::default()).await;
    let mut options = crate::helpers::AppOptions::for_issuer(provider.issuer());
    options.extra_toml = "[proxy]\nbody_idle_timeout_secs = 1\n".into();
    let app = crate::helpers::spawn_app(options).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = "POST /bff/login/end HTTP/1.1\r\nhost: app.example.test\r\nx-csrf: 1\r\n\
                content-type: application/json\r\ncontent-length: 200\r\n\r\n{\"pageUrl\":";
    slow.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        slow.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "the connection is closed, not held");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
