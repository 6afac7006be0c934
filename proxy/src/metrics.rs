//! What the proxy counts: per route, the upstream's answers, failures,
//! latency and bytes; the phantom-token cache and introspection calls. The
//! recorder, its listener and the HTTP middleware are `th_http::metrics`.

use metrics::{Counter, Histogram, SharedString, counter, histogram};
use std::sync::Arc;
use std::time::Duration;
use th_contract::metrics::{
    INTROSPECTION_CACHE, INTROSPECTION_DURATION, INTROSPECTION_ERRORS, UPSTREAM_BYTES,
    UPSTREAM_DURATION, UPSTREAM_ERRORS, UPSTREAM_RESPONSES,
};
use th_http::metrics::RouteLabel;

/// What one proxy route counts: its handles, registered once per worker
/// (after the recorder is installed), so a proxied request looks nothing up.
#[derive(Clone)]
pub(crate) struct RouteMetrics {
    label: SharedString,
    duration: Histogram,
    /// By status class: 1xx … 5xx.
    responses: [Counter; 5],
    bytes: Counter,
}

/// How an upstream call failed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UpstreamFailure {
    /// No answer in time, or a body that stalled.
    Timeout,
    /// Connect refused or failed, or the connection broke before the head.
    Unavailable,
    /// The response body broke off.
    Reset,
}

impl RouteMetrics {
    pub fn new(prefix: &str) -> Self {
        let label = SharedString::from_shared(Arc::<str>::from(prefix));
        let responses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
            .map(|class| counter!(UPSTREAM_RESPONSES, "route" => label.clone(), "status" => class));
        Self {
            duration: histogram!(UPSTREAM_DURATION, "route" => label.clone()),
            bytes: counter!(UPSTREAM_BYTES, "route" => label.clone()),
            responses,
            label,
        }
    }

    /// The label the HTTP middleware uses for this route.
    pub fn label(&self) -> RouteLabel {
        RouteLabel::new(self.label.clone())
    }

    /// The upstream answered with its head after `elapsed`.
    pub fn answered(&self, status: u16, elapsed: Duration) {
        self.duration.record(elapsed);
        let class = usize::from(status.clamp(100, 599) / 100 - 1);
        self.responses[class].increment(1);
    }

    pub fn failed(&self, failure: UpstreamFailure) {
        let kind = match failure {
            UpstreamFailure::Timeout => "timeout",
            UpstreamFailure::Unavailable => "unavailable",
            UpstreamFailure::Reset => "reset",
        };
        counter!(UPSTREAM_ERRORS, "route" => self.label.clone(), "kind" => kind).increment(1);
    }

    /// The counter of body bytes passed back.
    pub fn bytes(&self) -> Counter {
        self.bytes.clone()
    }
}

/// A phantom-token lookup answered from the cache (`hit`) or not.
pub(crate) fn introspection_cache(hit: bool) {
    counter!(INTROSPECTION_CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// An introspection call took `elapsed`; `ok` when it answered a verdict.
pub(crate) fn introspection(elapsed: Duration, ok: bool) {
    histogram!(INTROSPECTION_DURATION).record(elapsed);
    if !ok {
        counter!(INTROSPECTION_ERRORS).increment(1);
    }
}
