//! The upstream API misbehaving behind the BFF's proxy route, through a
//! fault proxy: the browser gets a JSON 502/504 (or, once the headers have
//! gone, a cut response it can tell from a whole one), never a 500; nothing
//! waits past the route's timeouts; the BFF serves everything else
//! meanwhile, and the route works again as soon as the fault ends.

use crate::helpers::{AppOptions, TestApp, spawn_app};
use actix_web::{HttpRequest, HttpResponse, web};
use std::time::{Duration, Instant};
use th_testkit::{Fault, FaultProxy, ProviderOptions, TestProvider, spawn_stub};

/// Bytes of the large answer.
const LARGE: usize = 256 * 1024;

/// An upstream with a small JSON answer at `/small` and a large one
/// (`LARGE` bytes, with its length) at `/large`.
fn start_upstream() -> std::net::SocketAddr {
    let base = spawn_stub(|cfg| {
        cfg.route(
            "/large",
            web::get().to(|| async { HttpResponse::Ok().body(vec![b'x'; LARGE]) }),
        )
        .default_service(web::to(|req: HttpRequest| async move {
            HttpResponse::Ok().json(serde_json::json!({
                "path": req.path(),
                "bearer": req.headers().contains_key("authorization"),
            }))
        }));
    });
    base.trim_start_matches("http://")
        .parse()
        .expect("the stub's address")
}

/// A signed-in browser on a BFF whose route `/api/up` reaches the upstream
/// through a fault proxy; the route answers within 1 s, its body may idle 1 s.
async fn signed_in_behind_faults() -> (TestProvider, FaultProxy, TestApp) {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let proxy = FaultProxy::start(start_upstream());
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml = format!(
        "[proxy]\nbody_idle_timeout_secs = 1\n[[proxy.routes]]\nprefix = \"/api/up\"\n\
         upstream = \"{}\"\ntimeout_secs = 1\n",
        proxy.http_url()
    );
    let mut app = spawn_app(options).await;
    app.login_as("pia").await;
    (provider, proxy, app)
}

/// `GET path` through the route: the status, and the body when it arrived
/// whole (`None`: the response was cut).
async fn call(app: &TestApp, path: &str) -> (u16, Option<Vec<u8>>) {
    let response = app
        .request(reqwest::Method::GET, path)
        .send()
        .await
        .expect("the BFF answers");
    let status = response.status().as_u16();
    (status, response.bytes().await.ok().map(|b| b.to_vec()))
}

/// A gateway error in JSON with this status and code.
async fn gateway_error(app: &TestApp, path: &str, status: u16, code: &str) {
    let (got, body) = call(app, path).await;
    let body = body.expect("an error arrives whole");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!((got, json["code"].as_str()), (status, Some(code)), "{json}");
}

/// The route answers in full again.
async fn works(app: &TestApp) {
    let (status, body) = call(app, "/api/up/small").await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
    assert_eq!(json["bearer"], true);
    let (status, body) = call(app, "/api/up/large").await;
    assert_eq!((status, body.map(|b| b.len())), (200, Some(LARGE)));
}

#[tokio::test]
async fn an_upstream_reset_before_its_answer_is_502_and_the_route_recovers() {
    let (_provider, proxy, mut app) = signed_in_behind_faults().await;
    works(&app).await;
    // Reset when the first byte of the answer comes: the request arrived.
    proxy.set(Fault::ResetAfter(0));
    gateway_error(&app, "/api/up/small", 502, "upstream_unavailable").await;
    proxy.set(Fault::Close);
    gateway_error(&app, "/api/up/small", 502, "upstream_unavailable").await;
    assert_eq!(app.session().await.body["isLoggedIn"], true);
    proxy.set(Fault::Pass);
    works(&app).await;
}

#[tokio::test]
async fn an_upstream_reset_mid_body_cuts_that_response_and_the_next_call_works() {
    let (_provider, proxy, app) = signed_in_behind_faults().await;
    // The headers and the first 16 KiB, then a reset.
    proxy.set(Fault::ResetAfter(16 * 1024));
    let (status, body) = call(&app, "/api/up/large").await;
    assert_eq!(status, 200, "the headers had gone");
    assert!(
        body.is_none(),
        "the browser sees a cut response, not a short one that looks whole"
    );
    proxy.set(Fault::Pass);
    works(&app).await;
}

#[tokio::test]
async fn an_upstream_that_never_answers_is_504_within_the_routes_timeout_and_nothing_else_waits() {
    let (_provider, proxy, mut app) = signed_in_behind_faults().await;
    for fault in [Fault::Blackhole, Fault::Hold] {
        proxy.set(fault.clone());
        let started = Instant::now();
        let hung = app.request(reqwest::Method::GET, "/api/up/small").send();
        let (hung, session) = tokio::join!(hung, async {
            // Meanwhile the BFF answers everything else at once.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let started = Instant::now();
            let session = app.clone_handle().session().await;
            (session.status, started.elapsed())
        });
        let took = started.elapsed();
        let hung = hung.unwrap();
        assert_eq!(hung.status(), 504, "{fault:?}");
        let body: serde_json::Value = hung.json().await.unwrap();
        assert_eq!(body["code"], "upstream_timeout", "{fault:?}");
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(3)).contains(&took),
            "{fault:?}: 504 after {took:?}, the route's timeout is 1 s"
        );
        assert_eq!(session.0, 200);
        assert!(session.1 < Duration::from_millis(500), "{session:?}");
    }
    proxy.set(Fault::Pass);
    works(&app).await;
    assert_eq!(app.session().await.body["isLoggedIn"], true);
}

#[tokio::test]
async fn a_slow_first_byte_is_504_past_the_routes_timeout_and_only_slow_within_it() {
    let (_provider, proxy, app) = signed_in_behind_faults().await;
    proxy.set(Fault::Delay(Duration::from_millis(1500)));
    gateway_error(&app, "/api/up/small", 504, "upstream_timeout").await;
    proxy.set(Fault::Delay(Duration::from_millis(200)));
    let (status, body) = call(&app, "/api/up/small").await;
    assert_eq!(status, 200);
    assert!(body.is_some());
    proxy.set(Fault::Pass);
    works(&app).await;
}

#[tokio::test]
async fn a_body_that_idles_past_the_idle_timeout_is_cut_and_a_slow_steady_one_arrives() {
    let (_provider, proxy, app) = signed_in_behind_faults().await;
    // The headers and 8 KiB at once, then 1 KiB every 1.5 s: idle too long.
    proxy.set(Fault::DelayAfter(8 * 1024, Duration::from_millis(1500)));
    let started = Instant::now();
    let (status, body) = call(&app, "/api/up/large").await;
    assert_eq!(status, 200);
    assert!(body.is_none(), "the response is cut");
    assert!(started.elapsed() < Duration::from_secs(5));
    // 1 KiB every 2 ms is slow but never idle for 1 s: it arrives whole.
    proxy.set(Fault::DelayAfter(8 * 1024, Duration::from_millis(2)));
    let (status, body) = call(&app, "/api/up/large").await;
    assert_eq!((status, body.map(|b| b.len())), (200, Some(LARGE)));
    proxy.set(Fault::Pass);
    works(&app).await;
}

#[tokio::test]
async fn a_pooled_connection_closed_under_a_get_is_tried_once_more_and_under_a_post_is_502() {
    let (_provider, proxy, app) = signed_in_behind_faults().await;
    works(&app).await;
    // The upstream closes its idle connection just as the BFF reuses it.
    proxy.set(Fault::ResetIdle);
    let (status, body) = call(&app, "/api/up/small").await;
    assert_eq!(status, 200, "a safe request goes again: {body:?}");
    proxy.set(Fault::Pass);
    works(&app).await;
    // A POST may have had its effect: it is not sent twice.
    proxy.set(Fault::ResetIdle);
    let post = app
        .request(reqwest::Method::POST, "/api/up/small")
        .json(&serde_json::json!({ "n": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 502);
    let body: serde_json::Value = post.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
    proxy.set(Fault::Pass);
    works(&app).await;
}
