//! What crosses the proxy: never the browser's cookies or its own
//! `Authorization`, never hop-by-hop headers; always the contract's guards.

use crate::helpers::*;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An upstream that answers with the headers it received.
fn echo_headers() -> String {
    spawn_stub(|c| {
        c.default_service(web::to(|req: HttpRequest| async move {
            let mut headers = Map::new();
            for (name, value) in req.headers() {
                let entry = headers
                    .entry(name.as_str().to_owned())
                    .or_insert_with(|| Value::Array(vec![]));
                if let Value::Array(values) = entry {
                    values.push(Value::String(
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    ));
                }
            }
            HttpResponse::Ok()
                .append_header(("set-cookie", "__Host-th-at=planted; Path=/; Secure"))
                .append_header(("set-cookie", "theme=light; Path=/"))
                .json(headers)
        }));
    })
}

#[tokio::test]
async fn client_authorization_header_never_reaches_the_upstream() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header("cookie", proxy.session_cookie("token-from-the-cookie"))
        .header("authorization", "Bearer forged-by-the-client")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = json(response).await;
    assert_eq!(
        headers["authorization"],
        serde_json::json!(["Bearer token-from-the-cookie"])
    );
}

#[tokio::test]
async fn client_cookie_header_never_reaches_the_upstream() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let cookie = format!(
        "{}; theme=dark; __Host-th-rt=refresh",
        proxy.session_cookie("opaque-token")
    );
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = json(response).await;
    assert!(headers.get("cookie").is_none(), "{headers}");
}

#[tokio::test]
async fn another_sites_cookie_with_a_utf8_value_does_not_hide_the_session() {
    // Browsers send cookie values as they were set, UTF-8 included; one
    // such cookie in the header must not make the session's unreadable.
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    for cookie in [
        format!("name=Zoë; {}", proxy.session_cookie("opaque-token")),
        format!("{}; city=Zürich", proxy.session_cookie("opaque-token")),
    ] {
        let value = reqwest::header::HeaderValue::from_bytes(cookie.as_bytes()).unwrap();
        let response = proxy
            .request(reqwest::Method::GET, "/api/echo/a")
            .header("cookie", value)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{cookie}");
        let headers = json(response).await;
        assert_eq!(
            headers["authorization"],
            serde_json::json!(["Bearer opaque-token"])
        );
    }
    // A header that is not UTF-8 at all is not read.
    let mut latin1 = b"city=Z\xfcrich; ".to_vec();
    latin1.extend_from_slice(proxy.session_cookie("opaque-token").as_bytes());
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(&latin1).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn route_may_pass_named_cookies_but_never_the_token_handlers() {
    let mut config = one_route("/api/echo", &echo_headers());
    config.routes[0].pass_cookies = vec!["theme".into()];
    let proxy = spawn_proxy(config).await;
    let cookie = format!(
        "{}; theme=dark; lang=en",
        proxy.session_cookie("opaque-token")
    );
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let set_cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set_cookies, ["theme=light; Path=/"]);
    let headers = json(response).await;
    assert_eq!(headers["cookie"], serde_json::json!(["theme=dark"]));

    let cookie = format!("theme=Zoë; {}", proxy.session_cookie("opaque-token"));
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header(
            "cookie",
            reqwest::header::HeaderValue::from_bytes(cookie.as_bytes()).unwrap(),
        )
        .send()
        .await
        .unwrap();
    let headers = json(response).await;
    assert_eq!(headers["cookie"], serde_json::json!(["theme=Zoë"]));
}

#[tokio::test]
async fn upstream_cannot_set_cookies_by_default() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let response = proxy.get("/api/echo/a", "opaque-token").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn hop_by_hop_headers_stay_and_forwarded_headers_are_added() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let response = proxy
        .request(reqwest::Method::GET, "/api/echo/a")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "1")
        .header("proxy-authorization", "Basic eDp5")
        .header("x-end-to-end", "kept")
        // The client's own words about where it came from: never believed.
        .header("x-forwarded-for", "1.2.3.4")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "gopher")
        .header("forwarded", "for=1.2.3.4;host=evil.example")
        .header("x-origin-verify", "the-cloudfront-secret")
        .send()
        .await
        .unwrap();
    let headers = json(response).await;
    for gone in [
        "x-hop",
        "proxy-authorization",
        "x-csrf-never",
        "forwarded",
        "x-origin-verify",
    ] {
        assert!(headers.get(gone).is_none(), "{gone}: {headers}");
    }
    assert_eq!(headers["x-end-to-end"], serde_json::json!(["kept"]));
    assert_eq!(headers["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    // The scheme and host of the app origin the request was sent to.
    assert_eq!(headers["x-forwarded-proto"], serde_json::json!(["https"]));
    assert_eq!(headers["x-forwarded-host"], serde_json::json!([APP_HOST]));
}

#[tokio::test]
async fn no_spelling_of_a_route_passes_without_the_csrf_header() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    for path in [
        "/%61pi/echo/a",
        "/api/%65cho/a",
        "/%61%70%69/echo/a",
        "/api%2fecho/a",
        "//api/echo/a",
        "/API/echo/a",
    ] {
        let response = proxy
            .http
            .get(format!("{}{path}", proxy.base))
            .header("host", APP_HOST)
            .header("cookie", proxy.session_cookie("opaque-token"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(status == 403 || status == 404, "{path} answered {status}");
    }
}

#[tokio::test]
async fn request_without_the_csrf_header_is_403() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let response = proxy
        .http
        .get(format!("{}/api/echo/a", proxy.base))
        .header("cookie", proxy.session_cookie("opaque-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(json(response).await["code"], "csrf_header_missing");
}

#[tokio::test]
async fn request_from_a_foreign_origin_is_403() {
    let proxy = spawn_proxy(one_route("/api/echo", &echo_headers())).await;
    let response = proxy
        .http
        .get(format!("{}/api/echo/a", proxy.base))
        .header("x-csrf", "1")
        .header("origin", "https://evil.example")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(json(response).await["code"], "origin_not_allowed");
}

/// An upstream that answers the path it received and counts its calls.
fn path_recorder() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let base = spawn_stub(move |c| {
        let counted = counted.clone();
        c.default_service(web::to(move |req: HttpRequest| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { HttpResponse::Ok().body(req.uri().to_string()) }
        }));
    });
    (base, calls)
}

/// Sends `path` byte for byte (an HTTP client library would normalise it)
/// as the SPA would, answers the status line and the body.
async fn raw_get(proxy: &TestProxy, path: &str) -> (String, String) {
    let address = proxy.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {APP_HOST}\r\nx-csrf: 1\r\ncookie: {}\r\nconnection: close\r\n\r\n",
        proxy.session_cookie("opaque-token")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn paths_an_upstream_may_read_differently_are_400_and_never_forwarded() {
    let (upstream, calls) = path_recorder();
    let proxy = spawn_proxy(one_route("/api/echo", &upstream)).await;
    for path in [
        "/api/echo/../admin",
        "/api/echo/./admin",
        "/api/echo/%2e%2E/admin",
        "/api/echo/.%2e/admin",
        "/api/echo/..;/admin",
        "/api/echo/..;x=1/admin",
        "/api/echo/..%5cadmin",
        "/api/echo/..%5Cadmin",
        "/api/echo/..\\admin",
        "/api/echo/..%2fadmin",
        "/api/echo/..%2Fadmin",
        "/api/echo/%252e%252e/admin",
        "/api/echo/%252e%252e%252fadmin",
        "/api/echo/a%00b",
        "/api/echo/%zz",
        // Forwarded as `secret;.css`: a path parameter to Tomcat or Spring
        // (`/secret`), a stylesheet to a cache in front of them.
        "/api/echo/secret%3B.css",
        "/api/echo/secret%3b.css",
        "/%61pi/echo/%2e%2e/admin",
    ] {
        let (status, body) = raw_get(&proxy, path).await;
        assert!(
            status.starts_with("HTTP/1.1 400"),
            "{path}: {status} {body}"
        );
        assert!(body.contains("bad_request"), "{path}: {body}");
    }
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no refused path reached the upstream"
    );
}

#[tokio::test]
async fn the_upstream_receives_the_canonical_path() {
    let (upstream, calls) = path_recorder();
    let proxy = spawn_proxy(one_route("/api/echo", &upstream)).await;
    for (path, forwarded) in [
        ("/api/echo/users/1?x=%2e", "/users/1?x=%2e"),
        ("/%61pi/%65cho/users/%31", "/users/1"),
        ("/api/echo/with%20space", "/with%20space"),
        ("/api/echo/100%25", "/100%25"),
        ("/api/echo/caf%C3%A9", "/caf%C3%A9"),
        ("/api/echo/matrix;v=1", "/matrix;v=1"),
        ("/api/echo/a..b", "/a..b"),
        // A doubled `/` is a host to a URL parser in the upstream.
        ("/api/echo//evil.example/x", "/evil.example/x"),
        ("/api/echo/a//b///c/", "/a/b/c/"),
        ("/api/echo/%2F%2Fevil", "bad_request"),
    ] {
        if forwarded == "bad_request" {
            let (status, _) = raw_get(&proxy, path).await;
            assert!(status.starts_with("HTTP/1.1 400"), "{path}: {status}");
            continue;
        }
        let (status, body) = raw_get(&proxy, path).await;
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "{path}: {status} {body}"
        );
        assert_eq!(body, forwarded, "{path}");
    }
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 9);
}
