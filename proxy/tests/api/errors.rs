//! The errors the SPA acts on: 401 (refresh and retry), 502, 504, 413, 400;
//! never a 500, always the contract's JSON body.

use crate::helpers::*;
use actix_web::{HttpResponse, web};
use std::time::Duration;

async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string());
}

fn ok_stub() -> String {
    spawn_stub(|c| {
        c.default_service(web::to(HttpResponse::Ok));
    })
}

#[tokio::test]
async fn missing_cookie_is_401() {
    let proxy = spawn_proxy(one_route("/api/x", &ok_stub())).await;
    let response = proxy
        .request(reqwest::Method::GET, "/api/x/a")
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn undecryptable_cookie_is_401() {
    let proxy = spawn_proxy(one_route("/api/x", &ok_stub())).await;
    let cookie = proxy.session_cookie("opaque-token");
    let (name, value) = cookie.split_once('=').unwrap();
    let mut tampered = value.to_owned();
    let last = if tampered.ends_with('A') { "B" } else { "A" };
    tampered.replace_range(tampered.len() - 1.., last);
    let response = proxy
        .request(reqwest::Method::GET, "/api/x/a")
        .header("cookie", format!("{name}={tampered}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn expired_access_token_is_401() {
    let proxy = spawn_proxy(one_route("/api/x", &ok_stub())).await;
    let response = proxy
        .request(reqwest::Method::GET, "/api/x/a")
        .header(
            "cookie",
            proxy.cookie_expiring("opaque-token", Some(unix_now() - 1)),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn upstreams_own_401_is_passed_through() {
    // The real API refuses an opaque token: it wants a JWT.
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy(one_route("/api/example", &api)).await;
    let tokens = provider.tokens_for("dave", "openid").await;

    let response = proxy.get("/api/example/a", &tokens.access_token).await;

    assert_eq!(response.status(), 401);
    assert!(
        response
            .headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
        "the upstream's WWW-Authenticate reaches the browser"
    );
    let body = json(response).await;
    assert!(
        body["message"].as_str().unwrap().contains("token"),
        "the upstream's own body: {body}"
    );
}

#[tokio::test]
async fn upstream_refusing_connections_is_502() {
    let port = th_testkit::free_port();
    let proxy = spawn_proxy(one_route("/api/x", &format!("http://127.0.0.1:{port}"))).await;
    let response = proxy.get("/api/x/a", "opaque-token").await;
    assert_error(response, 502, "upstream_unavailable").await;
}

#[tokio::test]
async fn upstream_resetting_the_connection_is_502() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // Closing with the request unread makes the kernel send a RST.
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(socket);
        }
    });
    let proxy = spawn_proxy(one_route("/api/x", &format!("http://127.0.0.1:{port}"))).await;
    let response = proxy.get("/api/x/a", "opaque-token").await;
    assert_error(response, 502, "upstream_unavailable").await;
}

#[tokio::test]
async fn upstream_timeout_is_504() {
    let upstream = spawn_stub(|c| {
        c.default_service(web::to(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            HttpResponse::Ok().finish()
        }));
    });
    let mut config = one_route("/api/slow", &upstream);
    config.routes[0].timeout_secs = 1;
    let proxy = spawn_proxy(config).await;
    let started = std::time::Instant::now();
    let response = proxy.get("/api/slow/a", "opaque-token").await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_error(response, 504, "upstream_timeout").await;
}

#[tokio::test]
async fn body_over_the_routes_limit_is_413() {
    let mut config = one_route("/api/x", &ok_stub());
    config.routes[0].max_body_bytes = 1000;
    let proxy = spawn_proxy(config).await;
    let response = proxy
        .request(reqwest::Method::POST, "/api/x/a")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .body(vec![b'a'; 1001])
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn chunked_body_over_the_routes_limit_is_413() {
    let upstream = spawn_stub(|c| {
        c.default_service(web::to(|body: web::Bytes| async move {
            HttpResponse::Ok().body(body.len().to_string())
        }));
    });
    let mut config = one_route("/api/x", &upstream);
    config.routes[0].max_body_bytes = 1000;
    let proxy = spawn_proxy(config).await;
    let chunks = futures_util::stream::iter(
        (0..4).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'a'; 400]))),
    );
    let response = proxy
        .request(reqwest::Method::POST, "/api/x/a")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}
