//! OpenTelemetry traces: the `bff` binary exports its spans over OTLP/HTTP
//! to a small receiver in this test (decoded with `opentelemetry-proto`).
//! One API call and one refresh, each with a W3C `traceparent`: the
//! request's span continues it, the upstream's and the provider's calls are
//! its children, and the upstream and the provider receive the trace with
//! their call's span as the parent.

#[allow(dead_code)]
#[path = "../common/bff_process.rs"]
mod bff_process;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use actix_web::{HttpRequest, HttpResponse, web};
use bff_process::BffProcess;
use helpers::AppOptions;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use th_testkit::{ProviderOptions, TestProvider, spawn_stub};

/// One received span: its name, ids (hex) and attributes.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: Vec<(String, String)>,
    service: String,
}

type Received = Arc<Mutex<Vec<Span>>>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An OTLP/HTTP traces receiver: `POST /v1/traces` with a protobuf body.
async fn start_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let base = spawn_stub(move |cfg| {
        let sink = sink.clone();
        cfg.route(
            "/v1/traces",
            web::post().to(move |body: web::Bytes| {
                let sink = sink.clone();
                async move {
                    let request = ExportTraceServiceRequest::decode(body.as_ref())
                        .expect("an OTLP protobuf body");
                    let mut spans = sink.lock().unwrap();
                    for resource in request.resource_spans {
                        let service = resource
                            .resource
                            .iter()
                            .flat_map(|r| &r.attributes)
                            .find(|a| a.key == "service.name")
                            .map(|a| format!("{:?}", a.value))
                            .unwrap_or_default();
                        for scope in resource.scope_spans {
                            for span in scope.spans {
                                spans.push(Span {
                                    name: span.name,
                                    trace_id: hex(&span.trace_id),
                                    span_id: hex(&span.span_id),
                                    parent_span_id: hex(&span.parent_span_id),
                                    attributes: span
                                        .attributes
                                        .iter()
                                        .map(|a| (a.key.clone(), format!("{:?}", a.value)))
                                        .collect(),
                                    service: service.clone(),
                                });
                            }
                        }
                    }
                    HttpResponse::Ok()
                        .content_type("application/x-protobuf")
                        .finish()
                }
            }),
        );
    });
    let url = format!("{base}/v1/traces");
    (url, received)
}

/// An upstream that answers the `traceparent` it received.
async fn start_upstream() -> String {
    spawn_stub(|cfg| {
        cfg.default_service(web::to(|req: HttpRequest| async move {
            let traceparent = req
                .headers()
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            HttpResponse::Ok().json(serde_json::json!({ "traceparent": traceparent }))
        }));
    })
}

/// Waits until the receiver holds a span that `found` accepts.
async fn wait_for(received: &Received, what: &str, found: impl Fn(&Span) -> bool) -> Span {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(span) = received.lock().unwrap().iter().find(|s| found(s)) {
            return span.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no span {what}; received {:#?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const REFRESH_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const REFRESH_CALLER: &str = "b7ad6b7169203331";

#[tokio::test]
async fn spans_continue_the_callers_trace_through_the_proxy_and_the_provider() {
    let (endpoint, received) = start_receiver().await;
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream().await;
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml = format!(
        "[traces]\notlp_endpoint = \"{endpoint}\"\nservice_name = \"bff-under-test\"\n\
         [proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{upstream}\"\n"
    );
    let bff =
        BffProcess::start_with_env(&options.on_cookies(), &[("OTEL_BSP_SCHEDULE_DELAY", "100")])
            .await;
    let mut app = bff.app();
    app.login_as("trudy").await;

    // An API call that continues the caller's trace.
    let builder = app
        .request(reqwest::Method::GET, "/api/echo/orders")
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"));
    let answer = app.send(builder).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let seen = answer.body["traceparent"]
        .as_str()
        .expect("the upstream received a traceparent")
        .to_owned();
    let parts: Vec<&str> = seen.split('-').collect();
    assert_eq!(parts.len(), 4, "{seen}");
    assert_eq!(parts[1], TRACE, "the upstream continues the caller's trace");
    assert_ne!(
        parts[2], CALLER_SPAN,
        "the upstream's parent is the proxy's span"
    );
    assert_eq!(parts[3], "01", "sampled");

    let request = wait_for(&received, "for the API request", |s| {
        s.trace_id == TRACE && s.name == "request"
    })
    .await;
    assert_eq!(request.parent_span_id, CALLER_SPAN, "{request:?}");
    assert!(request.service.contains("bff-under-test"), "{request:?}");
    assert!(
        request.attributes.iter().any(|(k, _)| k == "request_id"),
        "{request:?}"
    );
    let upstream_span = wait_for(&received, "for the upstream call", |s| {
        s.trace_id == TRACE && s.name == "upstream"
    })
    .await;
    assert_eq!(upstream_span.parent_span_id, request.span_id);
    assert_eq!(upstream_span.span_id, parts[2], "the upstream's parent");

    // A refresh: the provider's token call is a child of the request.
    let builder = app.request(reqwest::Method::POST, "/bff/refresh").header(
        "traceparent",
        format!("00-{REFRESH_TRACE}-{REFRESH_CALLER}-01"),
    );
    assert_eq!(app.send(builder).await.status, 204);
    let refresh = wait_for(&received, "for the refresh request", |s| {
        s.trace_id == REFRESH_TRACE && s.name == "request"
    })
    .await;
    assert_eq!(refresh.parent_span_id, REFRESH_CALLER);
    let token = wait_for(&received, "for the token call", |s| {
        s.trace_id == REFRESH_TRACE && s.name == "provider"
    })
    .await;
    assert_eq!(token.parent_span_id, refresh.span_id);
    assert!(
        token
            .attributes
            .iter()
            .any(|(k, v)| k == "endpoint" && v.contains("token")),
        "{token:?}"
    );
    // The provider received the token call's own span as the parent.
    let at_provider = provider.traceparents().await;
    let sent = at_provider
        .iter()
        .find(|r| r.path.ends_with("/token") && r.traceparent.contains(REFRESH_TRACE))
        .unwrap_or_else(|| panic!("no token call with the trace; received {at_provider:#?}"));
    assert_eq!(
        sent.traceparent,
        format!("00-{REFRESH_TRACE}-{}-01", token.span_id),
        "the provider's parent is the token call's span"
    );

    // Without a traceparent, a request starts a trace of its own.
    let answer = app.get("/api/echo/orders").await;
    let own = answer.body["traceparent"].as_str().unwrap().to_owned();
    let own_trace = own.split('-').nth(1).unwrap().to_owned();
    assert_ne!(own_trace, TRACE);
    let root = wait_for(&received, "for a new trace", |s| {
        s.trace_id == own_trace && s.name == "request"
    })
    .await;
    assert_eq!(root.parent_span_id, "", "a root span: {root:?}");
    drop(bff);
}
