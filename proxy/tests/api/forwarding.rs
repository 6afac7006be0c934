//! A logged-in browser's calls reach the upstream with a valid bearer token.

use crate::helpers::*;
use sha2::{Digest, Sha256};
use th_example_api::Echo;
use th_proxy::{ProxyConfig, RouteConfig};

#[tokio::test]
async fn logged_in_get_reaches_the_upstream_with_a_valid_bearer_token() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy(one_route("/api/example", &api)).await;
    let tokens = provider.tokens_for("alice", "openid api").await;

    let response = proxy
        .get(
            "/api/example/things/42?sort=asc&q=a%20b",
            &tokens.access_token,
        )
        .await;

    assert_eq!(response.status(), 200);
    let echo: Echo = response.json().await.unwrap();
    assert_eq!(echo.sub, "alice");
    assert_eq!(echo.token_type, "at+jwt");
    assert_eq!(echo.method, "GET");
    assert_eq!(echo.path, "/things/42");
    assert_eq!(echo.query, "sort=asc&q=a%20b");
    assert!(
        !echo.cookie_header,
        "the browser's cookies reached the upstream"
    );
}

#[tokio::test]
async fn logged_in_post_with_a_body_reaches_the_upstream() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy(one_route("/api/example", &api)).await;
    let tokens = provider.tokens_for("bob", "openid api").await;
    let body =
        serde_json::to_vec(&serde_json::json!({ "title": "hello", "n": [1, 2, 3] })).unwrap();

    let response = proxy
        .request(reqwest::Method::POST, "/api/example/items")
        .header("cookie", proxy.session_cookie(&tokens.access_token))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let echo: Echo = response.json().await.unwrap();
    assert_eq!(echo.sub, "bob");
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.path, "/items");
    assert_eq!(echo.body_bytes, body.len());
    assert_eq!(echo.body_sha256, hex(&Sha256::digest(&body)));
    assert!(!echo.cookie_header);
}

#[tokio::test]
async fn two_routes_reach_two_upstreams() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let other = spawn_stub(|c| {
        c.default_service(actix_web::web::to(
            |req: actix_web::HttpRequest| async move {
                actix_web::HttpResponse::Ok()
                    .json(serde_json::json!({ "upstream": "other", "path": req.path() }))
            },
        ));
    });
    let mut keep_prefix = RouteConfig::new("/api/other", format!("{other}/base"));
    keep_prefix.strip_prefix = false;
    let proxy = spawn_proxy(ProxyConfig {
        routes: vec![RouteConfig::new("/api/example", &api), keep_prefix],
        ..Default::default()
    })
    .await;
    let tokens = provider.tokens_for("carol", "openid api").await;

    let first: Echo = proxy
        .get("/api/example/a", &tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    let second = json(proxy.get("/api/other/b", &tokens.access_token).await).await;

    assert_eq!(first.sub, "carol");
    assert_eq!(first.path, "/a");
    assert_eq!(second["upstream"], "other");
    assert_eq!(second["path"], "/base/api/other/b");
}

#[tokio::test]
async fn a_path_outside_every_route_is_404() {
    let proxy = spawn_proxy(one_route("/api/example", "http://127.0.0.1:9")).await;
    let response = proxy
        .request(reqwest::Method::GET, "/api/examples/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn head_request_gets_the_upstreams_headers_without_a_body() {
    let upstream = spawn_stub(|c| {
        c.default_service(actix_web::web::to(|| async {
            actix_web::HttpResponse::Ok()
                .content_type("application/json")
                .body(r#"{"some":"json body"}"#)
        }));
    });
    let proxy = spawn_proxy(one_route("/api/x", &upstream)).await;
    for _ in 0..2 {
        // Twice: the connection must still be usable after a HEAD.
        let response = proxy
            .request(reqwest::Method::HEAD, "/api/x/a")
            .header("cookie", proxy.session_cookie("opaque-token"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.bytes().await.unwrap().len(), 0);
    }
    assert_eq!(
        proxy
            .get("/api/x/a", "opaque-token")
            .await
            .text()
            .await
            .unwrap(),
        r#"{"some":"json body"}"#
    );
}

#[tokio::test]
async fn the_request_id_reaches_the_upstream_and_comes_back() {
    let upstream = spawn_stub(|c| {
        c.default_service(actix_web::web::to(
            |req: actix_web::HttpRequest| async move {
                let seen = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                actix_web::HttpResponse::Ok().json(serde_json::json!({ "request_id": seen }))
            },
        ));
    });
    let proxy = spawn_proxy(one_route("/api/stub", &upstream)).await;
    let cookie = proxy.session_cookie("opaque-token");
    // Given by the load balancer: passed on and returned as it is.
    let response = proxy
        .request(reqwest::Method::GET, "/api/stub/x")
        .header("cookie", &cookie)
        .header("x-request-id", "alb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "alb-1234");
    assert_eq!(json(response).await["request_id"], "alb-1234");
    // Absent (or not sane): one is made, the same both ways.
    for given in [None, Some("no spaces please")] {
        let mut request = proxy
            .request(reqwest::Method::GET, "/api/stub/x")
            .header("cookie", &cookie);
        if let Some(given) = given {
            request = request.header("x-request-id", given);
        }
        let response = request.send().await.unwrap();
        let made = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(made.len(), 32, "{made}");
        assert_eq!(json(response).await["request_id"], made.as_str());
    }
}
