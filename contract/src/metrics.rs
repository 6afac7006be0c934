//! The metrics the BFF and the proxy export, named in one place: the
//! recording modules (`bff/src/metrics.rs`, `http/src/metrics.rs`,
//! `proxy/src/metrics.rs`, `cookies/src/metrics.rs`) use these names, and
//! `docs/operations.md` documents each one (a test checks that it does).
//!
//! Label values are always from a fixed set or from the configuration
//! (route prefixes, key ids, route templates): never a raw path, a user,
//! a token or anything else a client chooses.

/// A counter, a gauge or a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One exported metric: its name, kind, labels and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

macro_rules! metrics {
    ($($(#[$doc:meta])* $id:ident = $name:literal, $kind:ident, [$($label:literal),*], $help:literal;)*) => {
        $( $(#[$doc])* pub const $id: &str = $name; )*
        /// Every metric, in the order `docs/operations.md` lists them.
        pub const ALL: &[Metric] = &[
            $( Metric { name: $name, kind: Kind::$kind, labels: &[$($label),*], help: $help }, )*
        ];
    };
}

metrics! {
    HTTP_REQUESTS = "th_http_requests_total", Counter, ["route", "method", "status"],
        "HTTP requests answered, by route template (\"unmatched\" for every unknown path), method and status class (2xx, 4xx...).";
    HTTP_DURATION = "th_http_request_duration_seconds", Histogram, ["route"],
        "Time from the request's head to the response's head, by route template.";
    LOGIN_STARTED = "th_login_started_total", Counter, [],
        "Logins started (POST /bff/login/start answered with an authorization URL).";
    LOGIN_RATE_LIMITED = "th_login_rate_limited_total", Counter, [],
        "Login starts refused by limits.login_starts_per_minute (429).";
    LOGIN_COMPLETED = "th_login_completed_total", Counter, [],
        "Logins completed: the code exchanged, the ID token valid, the session saved.";
    LOGIN_FAILED = "th_login_failed_total", Counter, ["reason"],
        "Logins that came back and failed, by reason.";
    REFRESHES = "th_refresh_total", Counter, ["outcome"],
        "POST /bff/refresh by outcome: ok, refused (the provider refused the refresh token, or the answer failed validation), unavailable (the provider down or slow), no_session, store_unavailable.";
    LOGOUTS = "th_logout_total", Counter, [],
        "POST /bff/logout answered 200.";
    BACKCHANNEL_LOGOUTS = "th_backchannel_logout_total", Counter, ["outcome"],
        "Back-channel logouts from the provider by outcome: ok, invalid_token, replayed, unavailable (no [redis], or Redis down).";
    COOKIES_OPENED = "th_cookie_opened_total", Counter, ["key_id"],
        "Sealed values (cookies, server-side sessions) opened, by the id of the key that opened them: a key rotation has finished when the old id stops growing.";
    COOKIE_FAILURES = "th_cookie_failures_total", Counter, ["kind"],
        "Sealed values that did not open or were refused: malformed, unknown_key, tampered, expired, bad_content.";
    UPSTREAM_DURATION = "th_upstream_request_duration_seconds", Histogram, ["route"],
        "Time the upstream took to answer with its response head, by proxy route prefix.";
    UPSTREAM_RESPONSES = "th_upstream_responses_total", Counter, ["route", "status"],
        "Upstream answers by proxy route prefix and status class.";
    UPSTREAM_ERRORS = "th_upstream_errors_total", Counter, ["route", "kind"],
        "Upstream failures by proxy route prefix: timeout (no answer within timeout_secs, or a body that stalled), unavailable (connect refused or failed), reset (the response body broke off).";
    UPSTREAM_BYTES = "th_upstream_response_bytes_total", Counter, ["route"],
        "Response body bytes passed from the upstream to the browser, by proxy route prefix.";
    INTROSPECTION_CACHE = "th_introspection_cache_total", Counter, ["result"],
        "Phantom-token lookups: hit (answered from the cache) or miss (the provider was asked).";
    INTROSPECTION_DURATION = "th_introspection_duration_seconds", Histogram, [],
        "Time an introspection call to the provider took (phantom mode).";
    INTROSPECTION_ERRORS = "th_introspection_errors_total", Counter, [],
        "Introspection calls that failed (the provider down, slow, or answering no RFC 9701 JWT).";
    PROVIDER_DURATION = "th_provider_request_duration_seconds", Histogram, ["endpoint"],
        "Time a call to the provider took, by endpoint: discovery, jwks, token, userinfo, revocation, par.";
    PROVIDER_ERRORS = "th_provider_errors_total", Counter, ["endpoint", "kind"],
        "Failed calls to the provider by endpoint and kind: timeout, unavailable, refused (the provider said no to the grant).";
    STORE_DURATION = "th_session_store_duration_seconds", Histogram, ["operation"],
        "Time a Redis call of the session store took, by operation.";
    STORE_ERRORS = "th_session_store_errors_total", Counter, ["operation"],
        "Redis calls of the session store that failed or timed out, by operation.";
    DENY_LIST_IN_MEMORY = "th_deny_list_in_memory", Gauge, [],
        "Cookie store with [redis]: 1 while ended sessions are checked in memory, 0 while every request asks Redis.";
    DENY_LIST_ENTRIES = "th_deny_list_entries", Gauge, [],
        "Cookie store with [redis]: ended sessions held in memory.";
    BUILD_INFO = "th_build_info", Gauge, ["component", "version"],
        "Always 1: which program (bff or proxy) and version is running.";
}

/// The route label of every path no route matched: unknown paths add no
/// label value, however many there are.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The histograms' buckets in seconds: from 1 ms (a proxied request's own
/// cost is tens of microseconds) to 30 s (the longest upstream timeout).
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prometheus_shaped() {
        for (i, m) in ALL.iter().enumerate() {
            assert!(m.name.starts_with("th_"), "{}", m.name);
            assert!(
                m.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Counter,
                m.name.ends_with("_total"),
                "{}",
                m.name
            );
            assert_eq!(
                m.kind == Kind::Histogram,
                m.name.ends_with("_seconds"),
                "{}",
                m.name
            );
            assert!(!ALL[..i].iter().any(|o| o.name == m.name), "{}", m.name);
        }
    }

    #[test]
    fn the_operations_guide_documents_every_metric() {
        let guide = include_str!("../../docs/operations.md");
        for m in ALL {
            assert!(
                guide.contains(&format!("`{}`", m.name)),
                "docs/operations.md does not document {}",
                m.name
            );
        }
    }
}
