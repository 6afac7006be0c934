//! Prometheus metrics: the recorder, its own listener and the HTTP
//! middleware the BFF and the proxy share (what the proxy alone counts is
//! in `th_proxy`'s `metrics.rs`). Names and help texts are in
//! `th_contract::metrics`.
//!
//! Metrics are off unless `[metrics] listen` is set: then the first server
//! of the process installs the global recorder (`metrics` +
//! `metrics-exporter-prometheus`), and `GET /metrics` on that address, and
//! only there, answers the exposition. Before that every recording call is
//! a no-op. The public listener never serves `/metrics`.

use crate::settings::SettingsError;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use metrics::{Counter, Histogram, SharedString, counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use th_contract::metrics::{
    ALL, BUILD_INFO, DURATION_BUCKETS, HTTP_DURATION, HTTP_REQUESTS, Kind, UNMATCHED_ROUTE,
};

/// `[metrics]`, in the BFF's and the proxy's settings files.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Where `GET /metrics` is served, e.g. `127.0.0.1:9464`: an address of
    /// its own, never the public listener. Unset (the default): no metrics.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

impl MetricsSettings {
    /// Refuses a metrics address that is the public listener's.
    pub fn check_against(&self, public: &str) -> Result<(), SettingsError> {
        let Some(metrics) = self.listen else {
            return Ok(());
        };
        let public_port = public
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok());
        if metrics.port() != 0 && public_port == Some(metrics.port()) {
            return Err(SettingsError::new(
                "metrics.listen",
                format!(
                    "{metrics} must not share the public listener's port: /metrics is for the scraper alone"
                ),
            ));
        }
        Ok(())
    }
}

/// How often the recorder's histograms are drained into their buckets. The
/// exporter keeps every sample (16 bytes with its timestamp) until then, so
/// the memory this holds grows with the request rate times this interval:
/// every 5 s, a load of 40,000 requests/s (two histograms per proxied
/// request) held about 6 MiB; every 250 ms, about 0.3 MiB
/// (`bench/rss.sh`, docs/benchmarks.md). A drain costs a lock per series.
const UPKEEP_EVERY: Duration = Duration::from_millis(250);

/// The process's Prometheus recorder, installed once (several servers of
/// one process, as in the tests, share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will stay empty");
        }
        for m in ALL {
            match m.kind {
                Kind::Counter => metrics::describe_counter!(m.name, m.help),
                Kind::Gauge => metrics::describe_gauge!(m.name, m.help),
                Kind::Histogram => {
                    metrics::describe_histogram!(m.name, metrics::Unit::Seconds, m.help)
                }
            }
        }
        metrics_process::Collector::default().describe();
        // Histograms keep their samples until drained: drain them even
        // when nobody scrapes, and often (UPKEEP_EVERY).
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .expect("a thread starts");
        handle
    })
}

/// The metrics listener, bound and built, not yet running.
pub struct MetricsServer {
    pub port: u16,
    pub server: Server,
}

/// Installs the recorder, records the build info of `component`, and binds
/// `listen` for `GET /metrics` (anything else there is 404).
pub fn serve(listen: SocketAddr, component: &'static str) -> std::io::Result<MetricsServer> {
    let handle = handle().clone();
    gauge!(BUILD_INFO, "component" => component, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    let listener = TcpListener::bind(listen)?;
    let port = listener.local_addr()?.port();
    let process = Arc::new(metrics_process::Collector::default());
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        let process = process.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let handle = handle.clone();
                let process = process.clone();
                async move {
                    process.collect();
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(handle.render())
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    tracing::info!(port, "metrics on /metrics");
    Ok(MetricsServer { port, server })
}

/// Runs `server` and, beside it, the metrics listener, which stops when
/// `server` does.
pub async fn run_beside(server: Server, metrics: Option<MetricsServer>) -> std::io::Result<()> {
    let Some(metrics) = metrics else {
        return server.await;
    };
    let handle = metrics.server.handle();
    tokio::spawn(metrics.server);
    let result = server.await;
    handle.stop(true).await;
    result
}

/// A fixed route label for every request of a scope (the proxy's routes
/// set their prefix as the scope's app data), with its request-duration
/// histogram registered once, so [`record_http`] looks nothing up.
#[derive(Clone)]
pub struct RouteLabel {
    label: SharedString,
    duration: Histogram,
    /// The route's request counters by method and status class, each
    /// registered on its first request: a registry lookup (labels copied,
    /// hashed, compared) on every request was most of what metrics cost a
    /// proxied call. Not all up front: a series appears once it counts.
    requests: Arc<[OnceLock<Counter>; METHODS.len() * STATUS_CLASSES.len()]>,
}

impl RouteLabel {
    /// The label `label`; call it after the recorder is installed.
    pub fn new(label: SharedString) -> Self {
        Self {
            duration: histogram!(HTTP_DURATION, "route" => label.clone()),
            label,
            requests: Arc::new(std::array::from_fn(|_| OnceLock::new())),
        }
    }

    /// The counter of this route's requests with `method` answered `status`.
    fn requests(&self, method: usize, status: usize) -> &Counter {
        self.requests[method * STATUS_CLASSES.len() + status].get_or_init(|| {
            counter!(HTTP_REQUESTS, "route" => self.label.clone(), "method" => METHODS[method], "status" => STATUS_CLASSES[status])
        })
    }
}

/// Counts every request by route template and status class, and times it.
/// Unknown paths all count as [`UNMATCHED_ROUTE`].
pub async fn record_http(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_index(req.method());
    let result = next.call(req).await;
    let elapsed = started.elapsed();
    let (route, status) = match &result {
        Ok(res) => match res.request().app_data::<RouteLabel>() {
            // A scope with a fixed label: its series are at hand.
            Some(proxied) => {
                proxied.duration.record(elapsed);
                proxied
                    .requests(method, status_class(res.status()))
                    .increment(1);
                return result;
            }
            None => {
                let route = route_label(res.request());
                histogram!(HTTP_DURATION, "route" => route.clone()).record(elapsed);
                (route, res.status())
            }
        },
        Err(e) => {
            let route = SharedString::const_str(UNMATCHED_ROUTE);
            histogram!(HTTP_DURATION, "route" => route.clone()).record(elapsed);
            (route, e.as_response_error().status_code())
        }
    };
    counter!(HTTP_REQUESTS, "route" => route, "method" => METHODS[method], "status" => STATUS_CLASSES[status_class(status)])
        .increment(1);
    result
}

fn route_label(req: &HttpRequest) -> SharedString {
    match req.match_pattern() {
        Some(pattern) => SharedString::from(pattern),
        None => SharedString::const_str(UNMATCHED_ROUTE),
    }
}

/// The `method` label's values; any other method counts as `other`.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

/// The `status` label's values.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// `method`'s place in [`METHODS`].
fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// `status`'s place in [`STATUS_CLASSES`].
fn status_class(status: StatusCode) -> usize {
    usize::from(status.as_u16().clamp(100, 599) / 100 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_port_may_not_be_the_public_one() {
        let same = MetricsSettings {
            listen: Some("127.0.0.1:8081".parse().unwrap()),
        };
        assert!(same.check_against("0.0.0.0:8081").is_err());
        assert!(same.check_against("127.0.0.1:8080").is_ok());
        assert!(MetricsSettings::default().check_against("x:1").is_ok());
    }

    #[test]
    fn status_classes() {
        let class = |s| STATUS_CLASSES[status_class(s)];
        assert_eq!(class(StatusCode::CONTINUE), "1xx");
        assert_eq!(class(StatusCode::OK), "2xx");
        assert_eq!(class(StatusCode::NOT_FOUND), "4xx");
        assert_eq!(class(StatusCode::BAD_GATEWAY), "5xx");
        let method = |m: &[u8]| METHODS[method_index(&Method::from_bytes(m).unwrap())];
        assert_eq!(method(b"BREW"), "other");
        for m in &METHODS[..METHODS.len() - 1] {
            assert_eq!(method(m.as_bytes()), *m);
        }
    }

    #[test]
    fn a_routes_kept_counters_count_under_their_own_labels() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // The global recorder is installed before any request; here a
        // local one stands in for it while the series are first used.
        let route = metrics::with_local_recorder(&recorder, || {
            let route = RouteLabel::new(SharedString::const_str("/api/orders"));
            route.requests(0, 1).increment(1);
            route.requests(4, 4).increment(1);
            route
        });
        // Kept: counted without asking a recorder again.
        route.requests(0, 1).increment(1);
        let text = handle.render();
        let line = |method: &str, status: &str| {
            format!(
                "{HTTP_REQUESTS}{{route=\"/api/orders\",method=\"{method}\",status=\"{status}\"}} "
            )
        };
        assert!(text.contains(&(line("GET", "2xx") + "2")), "{text}");
        assert!(text.contains(&(line("DELETE", "5xx") + "1")), "{text}");
        // Only what counted is a series.
        assert!(!text.contains(&line("POST", "2xx")), "{text}");
    }
}
