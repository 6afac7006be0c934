//! Bodies stream both ways: nothing waits for a whole body.

use crate::forwarding::hex;
use crate::helpers::*;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::timeout;

const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 128; // 8 MiB: far more than any buffer on the way.

fn pattern(i: usize) -> Bytes {
    Bytes::from(
        (0..CHUNK)
            .map(|j| ((i * CHUNK + j) * 31 % 251) as u8)
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn large_response_arrives_intact() {
    let upstream = spawn_stub(|c| {
        c.default_service(web::to(|| async {
            let body = futures_util::stream::iter(
                (0..CHUNKS).map(|i| Ok::<_, actix_web::Error>(pattern(i))),
            );
            HttpResponse::Ok().streaming(body)
        }));
    });
    let proxy = spawn_proxy(one_route("/api/big", &upstream)).await;
    let mut expected = Sha256::new();
    (0..CHUNKS).for_each(|i| expected.update(pattern(i)));

    let response = proxy.get("/api/big/file", "opaque-token").await;

    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), CHUNK * CHUNKS);
    assert_eq!(hex(&Sha256::digest(&body)), hex(&expected.finalize()));
}

#[tokio::test]
async fn slow_upstreams_first_bytes_arrive_before_its_last_are_sent() {
    let release = Arc::new(Notify::new());
    let upstream = {
        let release = release.clone();
        spawn_stub(move |c| {
            let release = release.clone();
            c.default_service(web::to(move || {
                let release = release.clone();
                async move {
                    let body = futures_util::stream::unfold(0, move |step| {
                        let release = release.clone();
                        async move {
                            match step {
                                0 => Some((Ok::<_, actix_web::Error>(Bytes::from("first;")), 1)),
                                1 => {
                                    // The last bytes are sent only once the
                                    // test has seen the first ones.
                                    release.notified().await;
                                    Some((Ok(Bytes::from("last")), 2))
                                }
                                _ => None,
                            }
                        }
                    });
                    HttpResponse::Ok().streaming(body)
                }
            }));
        })
    };
    let proxy = spawn_proxy(one_route("/api/slow", &upstream)).await;

    let mut seen = Vec::new();
    let mut response = timeout(
        Duration::from_secs(5),
        proxy.get("/api/slow/feed", "opaque-token"),
    )
    .await
    .expect("the response headers arrived while the upstream was still sending");
    timeout(Duration::from_secs(5), async {
        while !seen.ends_with(b"first;") {
            let chunk = response.chunk().await.unwrap().expect("more bytes");
            seen.extend_from_slice(&chunk);
        }
    })
    .await
    .expect("the first bytes arrived before the last were sent");
    release.notify_one();
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.extend_from_slice(&chunk);
    }
    assert_eq!(seen, b"first;last");
}

#[tokio::test]
async fn request_body_reaches_the_upstream_before_it_is_complete() {
    let got_first = Arc::new(Notify::new());
    let upstream = {
        let got_first = got_first.clone();
        spawn_stub(move |c| {
            let got_first = got_first.clone();
            c.default_service(web::to(move |mut payload: web::Payload| {
                let got_first = got_first.clone();
                async move {
                    let mut total = 0;
                    if let Some(Ok(first)) = payload.next().await {
                        total += first.len();
                        got_first.notify_one();
                    }
                    while let Some(Ok(chunk)) = payload.next().await {
                        total += chunk.len();
                    }
                    HttpResponse::Ok().body(total.to_string())
                }
            }));
        })
    };
    let proxy = spawn_proxy(one_route("/api/upload", &upstream)).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let body =
        reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let request = proxy
        .request(reqwest::Method::PUT, "/api/upload/blob")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .body(body)
        .send();
    let sending = tokio::spawn(request);

    tx.send(Ok(Bytes::from("part1"))).await.unwrap();
    timeout(Duration::from_secs(5), got_first.notified())
        .await
        .expect("the upstream got the first part before the last was sent");
    tx.send(Ok(Bytes::from("part2"))).await.unwrap();
    drop(tx);

    let response = timeout(Duration::from_secs(5), sending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "10");
}

#[tokio::test]
async fn large_request_body_arrives_intact() {
    let upstream = spawn_stub(|c| {
        c.default_service(web::to(|mut payload: web::Payload| async move {
            let mut hash = Sha256::new();
            let mut total = 0;
            while let Some(Ok(chunk)) = payload.next().await {
                total += chunk.len();
                hash.update(&chunk);
            }
            HttpResponse::Ok().body(format!("{total} {}", hex(&hash.finalize())))
        }));
    });
    let proxy = spawn_proxy(one_route("/api/upload", &upstream)).await;
    let body: Vec<u8> = (0..CHUNKS / 2).flat_map(|i| pattern(i).to_vec()).collect();

    let response = proxy
        .request(reqwest::Method::POST, "/api/upload/blob")
        .header("cookie", proxy.session_cookie("opaque-token"))
        .body(body.clone())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!("{} {}", body.len(), hex(&Sha256::digest(&body)))
    );
}

#[tokio::test]
async fn large_response_with_a_content_length_arrives_intact_with_it() {
    let upstream = spawn_stub(|c| {
        c.default_service(web::to(|| async {
            let body: Vec<u8> = (0..CHUNKS).flat_map(|i| pattern(i).to_vec()).collect();
            HttpResponse::Ok().body(body)
        }));
    });
    let proxy = spawn_proxy(one_route("/api/big", &upstream)).await;
    let mut expected = Sha256::new();
    (0..CHUNKS).for_each(|i| expected.update(pattern(i)));

    let response = proxy.get("/api/big/file", "opaque-token").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some((CHUNK * CHUNKS) as u64));
    let body = response.bytes().await.unwrap();
    assert_eq!(hex(&Sha256::digest(&body)), hex(&expected.finalize()));
}
