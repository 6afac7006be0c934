//! The BFF's Prometheus metrics, as an operator sees them: a real
//! Prometheus scraping the metrics listener, queried over its HTTP API; the
//! label values that unknown paths may not add; the listener that the
//! public port does not reach.
//!
//! A test binary of its own: the metrics recorder is one per process, so
//! the counts here are of these tests' requests alone (only one of them
//! logs in).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use actix_web::{HttpRequest, HttpResponse, web};
use helpers::{AppOptions, TestApp, spawn_app_toml};
use std::collections::BTreeSet;
use std::time::Duration;
use th_testkit::{ProviderOptions, REDIRECT, TestPrometheus, TestProvider, spawn_stub};

/// An upstream that answers 200 with a small JSON body.
async fn start_upstream() -> String {
    spawn_stub(|cfg| {
        cfg.default_service(web::to(|req: HttpRequest| async move {
            HttpResponse::Ok().json(serde_json::json!({ "path": req.path() }))
        }));
    })
}

/// A BFF with metrics on a free port of their own and `route` proxied to
/// `upstream`; answers the app and its metrics port.
async fn spawn_with_metrics(issuer: &str, route: Option<(&str, &str)>) -> (TestApp, u16) {
    let mut options = AppOptions::for_issuer(issuer);
    if let Some((prefix, upstream)) = route {
        options.extra_toml = format!(
            "[proxy]\n[[proxy.routes]]\nprefix = \"{prefix}\"\nupstream = \"{upstream}\"\n"
        );
    }
    let toml = options.on_cookies() + "\n[metrics]\nlisten = \"127.0.0.1:0\"\n";
    let app = spawn_app_toml(&toml).await;
    let port = app.metrics_port.expect("the metrics listener is bound");
    (app, port)
}

async fn scrape(port: u16) -> String {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The values of `label` on the series of `metric` in an exposition.
fn label_values(exposition: &str, metric: &str, label: &str) -> BTreeSet<String> {
    let needle = format!("{label}=\"");
    exposition
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter_map(|l| {
            let start = l.find(&needle)? + needle.len();
            let end = start + l[start..].find('"')?;
            Some(l[start..end].to_owned())
        })
        .collect()
}

/// The value of one series (`metric{labels}` exactly as exposed).
fn value(exposition: &str, series: &str) -> f64 {
    exposition
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn prometheus_finds_the_counters_of_a_login_a_refresh_a_failed_login_and_an_api_call() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream().await;
    let (mut app, metrics_port) =
        spawn_with_metrics(provider.issuer(), Some(("/api/orders", &upstream))).await;
    let prometheus = TestPrometheus::start(&[format!("127.0.0.1:{metrics_port}")]).await;

    app.login_as("mallory").await;
    assert_eq!(app.refresh().await.status, 204);
    let api = app.get("/api/orders/42").await;
    assert_eq!(api.status, 200, "{:?}", api.body);
    // A login whose state does not match this browser's.
    let mut other = app.clone_handle();
    assert_eq!(other.login_start(None).await.status, 200);
    let forged = format!("{REDIRECT}?code=stolen&state=not-this-browsers");
    assert_eq!(other.login_end(&forged).await.status, 400);

    let within = Duration::from_secs(30);
    let expected = [
        ("th_login_started_total", 2.0),
        ("th_login_completed_total", 1.0),
        ("th_login_failed_total{reason=\"state_mismatch\"}", 1.0),
        ("sum(th_login_failed_total)", 1.0),
        ("th_refresh_total{outcome=\"ok\"}", 1.0),
        ("sum(th_refresh_total)", 1.0),
        (
            "th_provider_request_duration_seconds_count{endpoint=\"token\"}",
            2.0,
        ),
        (
            "th_http_requests_total{route=\"/bff/login/end\",status=\"4xx\"}",
            1.0,
        ),
        (
            "th_http_requests_total{route=\"/bff/refresh\",method=\"POST\",status=\"2xx\"}",
            1.0,
        ),
        (
            "th_http_requests_total{route=\"/api/orders\",method=\"GET\",status=\"2xx\"}",
            1.0,
        ),
        (
            "th_upstream_responses_total{route=\"/api/orders\",status=\"2xx\"}",
            1.0,
        ),
        (
            "th_upstream_request_duration_seconds_count{route=\"/api/orders\"}",
            1.0,
        ),
        (
            "th_http_request_duration_seconds_count{route=\"/api/orders\"}",
            1.0,
        ),
        (
            "th_http_request_duration_seconds_bucket{route=\"/api/orders\",le=\"+Inf\"}",
            1.0,
        ),
        ("sum(th_cookie_failures_total)", 0.0),
        ("th_build_info{component=\"bff\"}", 1.0),
        // At least this BFF's (the others of this process fail theirs).
        (
            "th_provider_request_duration_seconds_count{endpoint=\"discovery\"} >= bool 1",
            1.0,
        ),
    ];
    for (promql, value) in expected {
        let promql = if promql.starts_with("sum(") {
            // An absent series sums to nothing: count it as 0.
            format!("{promql} or vector(0)")
        } else {
            promql.to_owned()
        };
        prometheus.wait_for(&promql, value, within).await;
    }
    // Every cookie that opened, opened with the one key.
    let opened = prometheus.query("th_cookie_opened_total").await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].0["key_id"], "k1");
    assert!(opened[0].1 >= 3.0, "{opened:?}");
    // The proxied route's latency is a histogram Prometheus can read.
    let p99 = prometheus
        .query(
            "histogram_quantile(0.99, sum by (le) \
             (th_http_request_duration_seconds_bucket{route=\"/api/orders\"}))",
        )
        .await;
    assert_eq!(p99.len(), 1, "{p99:?}");
    assert!(p99[0].1 > 0.0 && p99[0].1 <= 30.0, "{p99:?}");
    let buckets = prometheus
        .query("th_http_request_duration_seconds_bucket{route=\"/api/orders\"}")
        .await;
    assert!(buckets.len() > 10, "{buckets:?}");
    // The process metrics are there too.
    assert_eq!(
        prometheus
            .query("process_resident_memory_bytes > 0")
            .await
            .len(),
        1
    );
    assert!(prometheus.targets_up().await, "{}", prometheus.log());
}

#[tokio::test]
async fn a_thousand_unknown_paths_add_no_label_value() {
    // No provider is needed: discovery fails and is retried on demand.
    let (mut app, metrics_port) = spawn_with_metrics("http://127.0.0.1:9", None).await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let before = scrape(metrics_port).await;
    let routes_before = label_values(&before, "th_http_requests_total", "route");
    let unmatched_before = before
        .lines()
        .filter(|l| l.starts_with("th_http_requests_total{") && l.contains("\"unmatched\""))
        .count();

    for i in 0..1000 {
        // Paths outside every route, under /bff and under /api too.
        let path = match i % 4 {
            0 => format!("/nope-{i}"),
            1 => format!("/bff/nope-{i}"),
            2 => format!("/api/nope-{i}/x"),
            _ => format!("/healthz/nope-{i}?q={i}"),
        };
        let answer = app.get(&path).await;
        assert_eq!(answer.status, 404, "{path}");
    }

    let after = scrape(metrics_port).await;
    let routes_after = label_values(&after, "th_http_requests_total", "route");
    let added: Vec<_> = routes_after.difference(&routes_before).collect();
    // The first unknown path may add "unmatched"; nothing else may appear.
    assert!(
        added.iter().all(|r| *r == "unmatched"),
        "new route labels: {added:?}"
    );
    assert!(!after.contains("nope"), "a raw path became a label value");
    let unmatched_series = after
        .lines()
        .filter(|l| l.starts_with("th_http_requests_total{") && l.contains("\"unmatched\""))
        .count();
    assert!(
        unmatched_series <= unmatched_before.max(1),
        "{unmatched_before} → {unmatched_series} series"
    );
    let unmatched = value(
        &after,
        "th_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"4xx\"}",
    );
    assert!(unmatched >= 1000.0, "{unmatched}");
    // No other metric took a raw path for a label either.
    let every_route = |e: &str| -> BTreeSet<String> {
        e.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('{').map(|(name, _)| name.to_owned()))
            .flat_map(|name| label_values(e, &name, "route"))
            .collect()
    };
    let added: Vec<_> = every_route(&after)
        .difference(&every_route(&before))
        .filter(|r| {
            // Other tests of this process may add their own routes' labels.
            !r.starts_with("/bff/") && !r.starts_with("/api/orders")
        })
        .cloned()
        .collect();
    assert!(
        added.iter().all(|r| r == "unmatched"),
        "new route labels: {added:?}"
    );
}

#[tokio::test]
async fn the_public_port_does_not_serve_the_metrics() {
    let (mut app, metrics_port) = spawn_with_metrics("http://127.0.0.1:9", None).await;
    let public = app.get("/metrics").await;
    assert_eq!(public.status, 404, "{:?}", public.body);
    assert_eq!(public.body["code"], "not_found");
    assert_ne!(app.port, metrics_port);
    // The metrics listener serves /metrics and nothing else.
    let exposition = scrape(metrics_port).await;
    assert!(exposition.contains("th_build_info{"), "{exposition}");
    for path in ["/", "/healthz", "/bff/session", "/metrics/x"] {
        let status = reqwest::get(format!("http://127.0.0.1:{metrics_port}{path}"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
    // The settings refuse the public port for the metrics.
    let toml = AppOptions::for_issuer("http://127.0.0.1:9")
        .toml()
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:18081\"")
        + "\n[metrics]\nlisten = \"127.0.0.1:18081\"\n";
    let err = th_bff::configuration::Settings::from_toml(&toml)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("metrics.listen"), "{err}");
}
