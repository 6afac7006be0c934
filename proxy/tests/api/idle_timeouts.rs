//! Slow clients and stalled upstreams do not hold connections for ever:
//! a request body that stalls is cut (408), an upstream body that stalls
//! after its headers ends the browser's response, and the one worker keeps
//! serving others meanwhile.

use crate::helpers::*;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// An upstream: `/echo` answers the body it read; `/stall` sends its headers and
/// one chunk, then nothing.
fn upstream() -> String {
    spawn_stub(|c| {
        // Reads the whole body first, as an API that parses it does.
        c.route(
            "/echo",
            web::to(|body: web::Bytes| async move { HttpResponse::Ok().body(body) }),
        )
        .route(
            "/stall",
            web::to(|| async {
                let first = futures_util::stream::iter([Ok::<_, actix_web::Error>(
                    Bytes::from_static(b"first chunk"),
                )]);
                HttpResponse::Ok().streaming(futures_util::StreamExt::chain(
                    first,
                    futures_util::stream::pending(),
                ))
            }),
        );
    })
}

async fn proxy_with_idle_timeout(upstream: &str) -> TestProxy {
    let mut config = one_route("/api/up", upstream);
    config.body_idle_timeout_secs = 1;
    spawn_proxy(config).await
}

#[tokio::test]
async fn a_request_body_sent_a_byte_every_two_seconds_is_cut_and_others_are_served() {
    let upstream = upstream();
    let proxy = proxy_with_idle_timeout(&upstream).await;
    let address = proxy.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/up/echo HTTP/1.1\r\nhost: {APP_HOST}\r\nx-csrf: 1\r\ncookie: {}\r\n\
         content-type: text/plain\r\ncontent-length: 100\r\n\r\n",
        proxy.session_cookie("opaque-token")
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let dripping = tokio::spawn(async move {
        let mut answer = Vec::new();
        for _ in 0..10 {
            if slow.write_all(b"x").await.is_err() {
                break;
            }
            let mut buf = [0u8; 4096];
            match timeout(Duration::from_secs(2), slow.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    // Meanwhile the one worker answers another browser at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = timeout(
        Duration::from_secs(2),
        proxy.get("/api/up/echo", "opaque-token"),
    )
    .await
    .expect("another request is served while a body drips");
    assert_eq!(other.status(), 200);
    let answer = timeout(Duration::from_secs(15), dripping)
        .await
        .unwrap()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "cut after {:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test]
async fn an_upstream_that_stalls_after_its_headers_ends_the_response() {
    let upstream = upstream();
    let proxy = proxy_with_idle_timeout(&upstream).await;
    let started = Instant::now();
    let response = proxy.get("/api/up/stall", "opaque-token").await;
    assert_eq!(response.status(), 200);
    let body = timeout(Duration::from_secs(10), response.bytes())
        .await
        .expect("the response ends instead of hanging");
    assert!(body.is_err(), "the cut response is not a complete body");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_chunked_body_trickled_after_an_early_answer_does_not_hold_the_connection() {
    // No session cookie: the proxy answers 401 without reading the body.
    // actix would then drain the rest of a chunked body with no timer.
    let upstream = upstream();
    let proxy = proxy_with_idle_timeout(&upstream).await;
    let address = proxy.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/up/echo HTTP/1.1\r\nhost: {APP_HOST}\r\nx-csrf: 1\r\n\
         transfer-encoding: chunked\r\n\r\n1\r\nx\r\n"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut closed = false;
    for _ in 0..8 {
        let mut buf = [0u8; 4096];
        match timeout(Duration::from_secs(2), slow.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        // Another chunk, now and then: the client keeps the body alive.
        if slow.write_all(b"1\r\nx\r\n").await.is_err() {
            closed = true;
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        closed && started.elapsed() < Duration::from_secs(10),
        "the connection is closed, not drained for ever ({:?})",
        started.elapsed()
    );
}
