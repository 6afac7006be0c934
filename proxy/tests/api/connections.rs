//! The upstream connections a worker keeps (`upstream.rs`): reused from one
//! request to the next, replaced when the upstream closed one while it was
//! idle, and never shared by two requests at once (a slow response body
//! does not hold up the next request). A connection serves the next request
//! only once its response was read to the end (a `HEAD` answer has no body
//! to read); one whose body was cut is closed. The upstream here is a small
//! HTTP/1.1 server of the test's own, because it must count connections and
//! close idle ones on demand.

use crate::helpers::{TestProxy, one_route, spawn_proxy};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::timeout;

/// A keep-alive upstream that answers every request with the number of its
/// connection; `close_idle_after` closes a connection that long after each
/// answer. A request for `/hold` gets its head and the first half of its
/// body, the rest once `release` is notified. `closed` counts the
/// connections that ended (either side closed them).
struct Upstream {
    base: String,
    connections: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
    release: Arc<Notify>,
}

async fn upstream(close_idle_after: Option<Duration>) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Notify::new());
    let (count, ended, held) = (connections.clone(), closed.clone(), release.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let number = count.fetch_add(1, Ordering::SeqCst) + 1;
            let (ended, held) = (ended.clone(), held.clone());
            tokio::spawn(async move {
                serve(stream, number, close_idle_after, held).await;
                ended.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    Upstream {
        base,
        connections,
        closed,
        release,
    }
}

async fn serve(
    mut stream: TcpStream,
    number: usize,
    close_idle_after: Option<Duration>,
    release: Arc<Notify>,
) {
    let mut buffer = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut buffer, close_idle_after).await {
        let body = format!("{{\"connection\":{number}}}");
        if head.starts_with("GET /hold") {
            let half = body.len() / 2;
            let first = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
                body.len(),
                &body[..half]
            );
            if stream.write_all(first.as_bytes()).await.is_err() {
                return;
            }
            release.notified().await;
            if stream.write_all(&body.as_bytes()[half..]).await.is_err() {
                return;
            }
        } else if head.starts_with("HEAD ") {
            let only_head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            if stream.write_all(only_head.as_bytes()).await.is_err() {
                return;
            }
        } else if stream.write_all(answer(number).as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The next request head on `stream` (these requests have no body), or
/// `None` once the connection ends or, with `idle`, stays silent that long.
async fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    idle: Option<Duration>,
) -> Option<String> {
    let end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0u8; 4096];
        let read = match idle {
            Some(after) => timeout(after, stream.read(&mut chunk)).await.ok()?,
            None => stream.read(&mut chunk).await,
        };
        match read {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
    buffer.drain(..end);
    Some(head)
}

/// A whole answer naming connection `number`.
fn answer(number: usize) -> String {
    let body = format!("{{\"connection\":{number}}}");
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A logged-in POST without a body.
async fn post_empty(proxy: &TestProxy) -> reqwest::Response {
    proxy
        .request(reqwest::Method::POST, "/api/keep/x")
        .header("cookie", proxy.session_cookie("t"))
        .header("content-length", "0")
        .send()
        .await
        .unwrap()
}

async fn connection_of(response: reqwest::Response) -> u64 {
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["connection"].as_u64().unwrap()
}

#[tokio::test]
async fn sequential_requests_reuse_one_upstream_connection() {
    let up = upstream(None).await;
    let proxy = spawn_proxy(one_route("/api/keep", &up.base)).await;
    for _ in 0..20 {
        assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_upstream_closed_while_idle_is_replaced_without_an_error() {
    let up = upstream(Some(Duration::from_millis(50))).await;
    let proxy = spawn_proxy(one_route("/api/keep", &up.base)).await;
    for round in 1..=3u64 {
        assert_eq!(
            connection_of(proxy.get("/api/keep/x", "t").await).await,
            round
        );
        // The upstream closes it meanwhile; the next request gets a new one.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_slow_response_body_does_not_hold_up_the_next_request() {
    let up = upstream(None).await;
    let proxy = spawn_proxy(one_route("/api/keep", &up.base)).await;
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    // Connection 1 is now busy with a body that waits for the test.
    let mut held = proxy.get("/api/keep/hold", "t").await;
    assert_eq!(held.status(), 200);
    let first = timeout(Duration::from_secs(10), held.chunk())
        .await
        .expect("the first half arrives")
        .unwrap()
        .expect("bytes");
    assert!(!first.is_empty());

    // Meanwhile the next request gets another connection and its answer.
    let next = timeout(Duration::from_secs(10), proxy.get("/api/keep/x", "t"))
        .await
        .expect("not held up behind the slow body");
    assert_eq!(connection_of(next).await, 2);

    up.release.notify_one();
    let mut body = first.to_vec();
    while let Some(chunk) = held.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, br#"{"connection":1}"#);
    // Both are free again: the next two requests reuse them.
    assert_eq!(up.connections.load(Ordering::SeqCst), 2);
    for _ in 0..4 {
        assert!(connection_of(proxy.get("/api/keep/x", "t").await).await <= 2);
    }
    assert_eq!(up.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_post_after_the_upstream_closed_the_idle_connection_goes_on_a_new_one() {
    // A POST is not sent twice by the proxy, so it must not be written on a
    // connection that is already closed.
    let up = upstream(Some(Duration::from_millis(50))).await;
    let proxy = spawn_proxy(one_route("/api/keep", &up.base)).await;
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(up.closed.load(Ordering::SeqCst), 1);
    assert_eq!(connection_of(post_empty(&proxy).await).await, 2);
}

#[tokio::test]
async fn a_head_answer_keeps_its_connection() {
    let up = upstream(None).await;
    let proxy = spawn_proxy(one_route("/api/keep", &up.base)).await;
    for _ in 0..3 {
        let head = proxy
            .request(reqwest::Method::HEAD, "/api/keep/x")
            .header("cookie", proxy.session_cookie("t"))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.headers()["content-length"], "16");
    }
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    assert_eq!(up.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_response_cut_in_its_body_closes_its_upstream_connection() {
    let up = upstream(None).await;
    let mut config = one_route("/api/keep", &up.base);
    config.body_idle_timeout_secs = 1;
    let proxy = spawn_proxy(config).await;
    // The upstream stalls in the middle of the body: the proxy cuts the
    // response after a second. The rest of that body would be in the way
    // of the next response, so the connection must not be reused.
    let mut held = proxy.get("/api/keep/hold", "t").await;
    assert_eq!(held.status(), 200);
    let cut = async {
        let mut body = Vec::new();
        loop {
            match held.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break body,
            }
        }
    };
    let body = timeout(Duration::from_secs(10), cut)
        .await
        .expect("the proxy cuts the stalled body");
    assert_ne!(body, br#"{"connection":1}"#);
    // The upstream writes the rest, then sees the connection's end.
    up.release.notify_one();
    let closed = async {
        while up.closed.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    timeout(Duration::from_secs(10), closed)
        .await
        .expect("the proxy closes the connection it cut");
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 2);
}

/// An upstream whose first connection answers one request, then reads the
/// next one and closes without a word (what an upstream closing an idle
/// connection does when a request crosses its close); later connections
/// answer everything. `seen` counts the request heads read, by method.
async fn upstream_dropping_the_second_request() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut number = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            number += 1;
            let log = log.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut answered = 0;
                while let Some(head) = read_head(&mut stream, &mut buffer, None).await {
                    let method = head.split(' ').next().unwrap_or_default().to_owned();
                    log.lock().unwrap().push(method);
                    if number == 1 && answered == 1 {
                        return; // closes under the request
                    }
                    if stream.write_all(answer(number).as_bytes()).await.is_err() {
                        return;
                    }
                    answered += 1;
                }
            });
        }
    });
    (base, seen)
}

#[tokio::test]
async fn a_safe_request_the_upstream_closed_under_goes_once_more_on_a_new_connection() {
    let (base, seen) = upstream_dropping_the_second_request().await;
    let proxy = spawn_proxy(one_route("/api/keep", &base)).await;
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    // Sent on connection 1, which closes under it: sent again on a new one.
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 2);
    assert_eq!(*seen.lock().unwrap(), ["GET", "GET", "GET"]);
}

#[tokio::test]
async fn a_post_the_upstream_closed_under_is_not_sent_twice() {
    let (base, seen) = upstream_dropping_the_second_request().await;
    let proxy = spawn_proxy(one_route("/api/keep", &base)).await;
    assert_eq!(connection_of(proxy.get("/api/keep/x", "t").await).await, 1);
    let posted = post_empty(&proxy).await;
    // The upstream may have acted on it: the browser hears of the failure
    // instead of the proxy repeating it.
    assert_eq!(posted.status(), 502);
    assert_eq!(*seen.lock().unwrap(), ["GET", "POST"]);
}
