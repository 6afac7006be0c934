//! Phantom tokens: an opaque token in the cookie, the provider's signed
//! introspection JWT at the upstream, introspection results cached.

use crate::helpers::*;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use th_cookies::Secret;
use th_example_api::Echo;
use th_proxy::{IntrospectionConfig, ProxyConfig, RouteConfig, TokenMode};
use th_testkit::TestProvider;

fn introspection(provider: &TestProvider) -> IntrospectionConfig {
    let options = provider.options();
    IntrospectionConfig {
        issuer: provider.issuer().to_owned(),
        endpoint: None,
        client_id: options.introspect_client_id.clone(),
        client_secret: Secret::new(options.introspect_client_secret.clone()),
        timeout_secs: 5,
        cache_max_entries: 100,
        cache_max_secs: 60,
        negative_cache_secs: 10,
    }
}

fn phantom_route(prefix: &str, upstream: &str, intro: IntrospectionConfig) -> ProxyConfig {
    let mut route = RouteConfig::new(prefix, upstream);
    route.token_mode = TokenMode::Phantom;
    ProxyConfig {
        routes: vec![route],
        introspection: Some(intro),
        ..Default::default()
    }
}

async fn metadata(provider: &TestProvider) -> serde_json::Value {
    reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.issuer()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// A pass-through in front of the provider's introspection endpoint that
/// counts the calls.
fn counting_introspection(endpoint: String, calls: Arc<AtomicUsize>) -> String {
    spawn_stub(move |c| {
        let (endpoint, calls) = (endpoint.clone(), calls.clone());
        c.default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (endpoint, calls) = (endpoint.clone(), calls.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                let mut forwarded = reqwest::Client::new().post(&endpoint).body(body);
                for name in ["authorization", "accept", "content-type"] {
                    if let Some(v) = req.headers().get(name) {
                        forwarded = forwarded.header(name, v.as_bytes());
                    }
                }
                let answer = forwarded.send().await.unwrap();
                let status = answer.status().as_u16();
                let content_type = answer.headers()["content-type"].as_bytes().to_vec();
                let body = answer.bytes().await.unwrap();
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                    .insert_header(("content-type", content_type))
                    .body(body)
            }
        }));
    })
}

/// The introspection settings for `provider`, through a call counter.
async fn counted_introspection(provider: &TestProvider) -> (IntrospectionConfig, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let real_endpoint = metadata(provider).await["introspection_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut intro = introspection(provider);
    intro.endpoint = Some(counting_introspection(real_endpoint, calls.clone()));
    (intro, calls)
}

#[tokio::test]
async fn phantom_token_reaches_the_upstream_as_a_jwt_the_provider_signed() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy(phantom_route(
        "/api/example",
        &api,
        introspection(&provider),
    ))
    .await;
    let tokens = provider.tokens_for("erin", "openid profile").await;
    assert_eq!(
        tokens.access_token.split('.').count(),
        1,
        "the provider issues opaque access tokens here"
    );

    let response = proxy.get("/api/example/me", &tokens.access_token).await;

    assert_eq!(response.status(), 200);
    let echo: Echo = response.json().await.unwrap();
    assert_eq!(echo.sub, "erin");
    assert_eq!(echo.token_type, "token-introspection+jwt");
    assert_eq!(echo.scopes, ["openid", "profile"]);
    assert_eq!(echo.client_id.as_deref(), Some("token-handler"));
    assert!(!echo.cookie_header);
}

#[tokio::test]
async fn introspection_happens_once_per_token_then_comes_from_the_cache() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let (intro, calls) = counted_introspection(&provider).await;
    let proxy = spawn_proxy(phantom_route("/api/example", &api, intro)).await;
    let first = provider.tokens_for("frank", "openid").await;
    let second = provider.tokens_for("grace", "openid").await;

    call_as(&proxy, &first.access_token, "frank", 3).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one introspection for three calls"
    );

    call_as(&proxy, &second.access_token, "grace", 2).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one more for the second token"
    );
}

#[tokio::test]
async fn revoked_token_is_refused_once_the_cache_entry_has_expired() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let mut intro = introspection(&provider);
    intro.cache_max_secs = 1;
    let proxy = spawn_proxy(phantom_route("/api/example", &api, intro)).await;
    let tokens = provider.tokens_for("heidi", "openid").await;
    assert_eq!(
        proxy
            .get("/api/example/a", &tokens.access_token)
            .await
            .status(),
        200
    );

    let options = provider.options();
    let revocation = metadata(&provider).await["revocation_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = reqwest::Client::new()
        .post(revocation)
        .basic_auth(&options.client_id, Some(&options.client_secret))
        .form(&[
            ("token", tokens.access_token.as_str()),
            ("token_type_hint", "access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let response = proxy.get("/api/example/a", &tokens.access_token).await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await["code"], "unauthorized");
}

#[tokio::test]
async fn token_the_provider_does_not_know_is_401() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy(phantom_route(
        "/api/example",
        &api,
        introspection(&provider),
    ))
    .await;
    let response = proxy.get("/api/example/a", "never-issued-token").await;
    assert_eq!(response.status(), 401);
    assert_eq!(json(response).await["code"], "unauthorized");
}

#[tokio::test]
async fn phantom_mode_with_the_provider_unreachable_is_502() {
    let port = th_testkit::free_port();
    let intro = IntrospectionConfig {
        issuer: format!("http://127.0.0.1:{port}"),
        endpoint: None,
        client_id: "api-gateway".into(),
        client_secret: Secret::new("x"),
        timeout_secs: 2,
        cache_max_entries: 10,
        cache_max_secs: 60,
        negative_cache_secs: 10,
    };
    let proxy = spawn_proxy(phantom_route("/api/x", "http://127.0.0.1:9", intro)).await;
    let response = proxy.get("/api/x/a", "opaque-token").await;
    assert_eq!(response.status(), 502);
    assert_eq!(json(response).await["code"], "provider_unavailable");
}

/// Calls the example API `times` times with `token`; each answer is `sub`'s.
async fn call_as(proxy: &TestProxy, token: &str, sub: &str, times: usize) {
    for _ in 0..times {
        let echo: Echo = proxy
            .get("/api/example/a", token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(echo.sub, sub);
    }
}

#[tokio::test]
async fn concurrent_lookups_of_one_token_make_one_introspection() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let (intro, calls) = counted_introspection(&provider).await;
    let proxy = Arc::new(spawn_proxy(phantom_route("/api/example", &api, intro)).await);
    let tokens = provider.tokens_for("ivan", "openid").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (proxy, token) = (proxy.clone(), tokens.access_token.clone());
        tasks.push(tokio::spawn(async move {
            proxy.get("/api/example/a", &token).await.status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one call for 20 at once");
}

#[tokio::test]
async fn an_inactive_answer_is_cached_briefly() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let (mut intro, calls) = counted_introspection(&provider).await;
    intro.negative_cache_secs = 1;
    let proxy = spawn_proxy(phantom_route("/api/example", &api, intro)).await;
    for _ in 0..3 {
        let response = proxy.get("/api/example/a", "never-issued-token").await;
        assert_eq!(response.status(), 401);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one call within the window"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        proxy
            .get("/api/example/a", "never-issued-token")
            .await
            .status(),
        401
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "asked again after it");
}

/// The value of one series in a Prometheus exposition (0 when absent).
fn series(exposition: &str, name: &str) -> f64 {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_standalone_proxy_counts_introspections_and_upstream_answers_on_its_metrics_port() {
    let provider = opaque_provider().await;
    let api = spawn_example_api(&provider);
    let proxy = spawn_proxy_with(
        phantom_route("/api/example", &api, introspection(&provider)),
        true,
    )
    .await;
    let port = proxy.metrics_port.expect("a metrics listener");
    let token = provider.tokens_for("heidi", "openid").await;
    call_as(&proxy, &token.access_token, "heidi", 3).await;

    let exposition = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The recorder is the process's: other tests may add to these.
    for (name, at_least) in [
        ("th_introspection_cache_total{result=\"miss\"}", 1.0),
        ("th_introspection_cache_total{result=\"hit\"}", 2.0),
        ("th_introspection_duration_seconds_count", 1.0),
        (
            "th_upstream_responses_total{route=\"/api/example\",status=\"2xx\"}",
            3.0,
        ),
        (
            "th_http_requests_total{route=\"/api/example\",method=\"GET\",status=\"2xx\"}",
            3.0,
        ),
        ("th_cookie_opened_total{key_id=\"test-1\"}", 3.0),
        ("th_build_info{component=\"proxy\",version=\"0.1.0\"}", 1.0),
    ] {
        let value = series(&exposition, name);
        assert!(value >= at_least, "{name} = {value}\n{exposition}");
    }
    // The public port serves no metrics.
    let public = reqwest::get(format!("{}/metrics", proxy.base))
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}
