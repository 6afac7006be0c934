//! Logging and tracing set-up for both servers, in one place: JSON lines by default
//! (what a log collector reads; CloudWatch's metric filters match their
//! fields), text for people (`format = "pretty"`, as the local stack sets).
//!
//! Every line of a request carries its `request_id` (the `request` span of
//! [`crate::request_id`]): in JSON, in the line's `spans`; in text, before
//! the message. With `[traces] otlp_endpoint`, the same spans go to an
//! OpenTelemetry collector (OTLP/HTTP), continuing the caller's W3C
//! `traceparent` and passing it on to the upstream and the provider.
//! Fields never carry a secret: secrets are
//! `th_cookies::Secret`, whose `Debug` is redacted and which has no `Display`.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `json` (the default) for log collectors, `pretty` for people.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `th_bff=debug,info`.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            filter: "info".into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `[traces]`: OpenTelemetry spans over OTLP/HTTP (protobuf), off unless
/// `otlp_endpoint` is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracesSettings {
    /// The collector's traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub otlp_endpoint: Option<String>,
    /// `service.name` of the spans; the program's name when unset.
    pub service_name: Option<String>,
}

/// Whether spans are exported: then the request's span continues the
/// incoming `traceparent`, and the calls to the upstream and the provider
/// carry their own span's.
static TRACES_ON: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (cheap: the hot path asks on every request).
pub fn traces_on() -> bool {
    TRACES_ON.load(Ordering::Relaxed)
}

/// What [`init`] set up; [`Telemetry::shutdown`] sends the last spans.
#[must_use = "call shutdown() before the process exits, or the last spans are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Flushes and stops the span exporter, if there is one.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("the last spans could not be exported: {e}");
        }
    }
}

/// Installs the global subscriber, writing to stderr; `RUST_LOG` overrides
/// `filter`. With `traces.otlp_endpoint`, spans go there too, named for
/// `service` unless `traces.service_name` says otherwise. A second call
/// (tests) is harmless.
pub fn init(settings: &LogSettings, traces: &TracesSettings, service: &str) -> Telemetry {
    init_with_writer(settings, traces, service, std::io::stderr)
}

/// [`init`] with another writer (the tests read the lines back).
pub fn init_with_writer<W>(
    settings: &LogSettings,
    traces: &TracesSettings,
    service: &str,
    writer: W,
) -> Telemetry
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    let fmt = match settings.format {
        LogFormat::Json => fmt
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
        LogFormat::Pretty => fmt.boxed(),
    };
    let provider = traces.otlp_endpoint.as_deref().and_then(|endpoint| {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .build();
        match exporter {
            Ok(exporter) => Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(
                        opentelemetry_sdk::Resource::builder()
                            .with_service_name(
                                traces
                                    .service_name
                                    .clone()
                                    .unwrap_or_else(|| service.to_owned()),
                            )
                            .build(),
                    )
                    .build(),
            ),
            Err(e) => {
                eprintln!("traces.otlp_endpoint: the exporter could not be built: {e}");
                None
            }
        }
    });
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("th")));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok();
    if installed && provider.is_some() {
        TRACES_ON.store(true, Ordering::Relaxed);
    }
    Telemetry { provider }
}

/// Makes `span` continue the trace of the incoming `traceparent` (W3C
/// Trace Context), when spans are exported.
pub fn continue_trace(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    if !traces_on() {
        return;
    }
    struct Incoming<'a>(&'a actix_web::http::header::HeaderMap);
    impl opentelemetry::propagation::Extractor for Incoming<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|k| k.as_str()).collect()
        }
    }
    let parent = TraceContextPropagator::new().extract(&Incoming(headers));
    let _ = span.set_parent(parent);
}

/// Writes `span`'s `traceparent` (and `tracestate`) into an outgoing
/// request's headers, when spans are exported.
pub fn inject(span: &tracing::Span, headers: &mut http::HeaderMap) {
    if !traces_on() {
        return;
    }
    struct Outgoing<'a>(&'a mut http::HeaderMap);
    impl opentelemetry::propagation::Injector for Outgoing<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }
    TraceContextPropagator::new().inject_context(&span.context(), &mut Outgoing(headers));
}

/// A span for an outgoing call, only when spans are exported (otherwise
/// `Span::none()`, which costs nothing on the hot path).
#[macro_export]
macro_rules! call_span {
    ($name:literal $(, $($field:tt)*)?) => {
        if $crate::telemetry::traces_on() {
            tracing::info_span!($name $(, $($field)*)?)
        } else {
            tracing::Span::none()
        }
    };
}
