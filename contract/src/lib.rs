//! The BFF's HTTP contract: one definition of every request and response body,
//! used by the server (`th-bff`) and by the browser app (`th-spa`).
//!
//! This crate must compile for `wasm32-unknown-unknown`, so it depends on
//! `serde` only: no actix, no tokio.

pub mod metrics;
mod return_to;

pub use return_to::{ReturnTo, ReturnToError};
use serde::{Deserialize, Serialize};

/// The header every SPA request carries; its presence proves the request was
/// made by script (a cross-site form post cannot set it).
pub const CSRF_HEADER: &str = "x-csrf";
/// The only accepted value of [`CSRF_HEADER`].
pub const CSRF_VALUE: &str = "1";

/// The request id: taken from the load balancer when it sends a sane one,
/// made otherwise; on every log line of the request, in the response, and
/// sent to the upstream.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Default paths of the contract, relative to the BFF's base URL.
pub mod paths {
    /// The BFF's own endpoints live under this prefix.
    pub const BFF: &str = "/bff";
    pub const LOGIN_START: &str = "/bff/login/start";
    pub const LOGIN_END: &str = "/bff/login/end";
    pub const SESSION: &str = "/bff/session";
    pub const USERINFO: &str = "/bff/userinfo";
    pub const CLAIMS: &str = "/bff/claims";
    pub const REFRESH: &str = "/bff/refresh";
    pub const LOGOUT: &str = "/bff/logout";
    /// `GET` lists the user's sessions; `DELETE {SESSIONS}/{id}` ends one.
    pub const SESSIONS: &str = "/bff/sessions";
    pub const SESSIONS_END_OTHERS: &str = "/bff/sessions/end-others";
    /// `DELETE` ends one of the user's sessions (a route template).
    pub const SESSION_BY_ID: &str = "/bff/sessions/{id}";
    /// The provider's back-channel logout calls (server to server: outside
    /// the CSRF rule of the other `/bff` endpoints).
    pub const BACKCHANNEL_LOGOUT: &str = "/bff/backchannel-logout";
    pub const HEALTHZ: &str = "/healthz";
    /// The path prefixes the BFF and its proxy own on the app's origin
    /// (`trunk serve` and CloudFront send them to the BFF): no page of the
    /// app may live under one, or reloading it would load the BFF's answer.
    pub const RESERVED_PREFIXES: [&str; 2] = [BFF, "/api"];
    pub const READYZ: &str = "/readyz";

    /// `path` (one of the constants under [`BFF`]) relative to [`BFF`], for
    /// a route inside the BFF's scope.
    ///
    /// ```
    /// assert_eq!(th_contract::paths::in_bff(th_contract::paths::SESSION), "/session");
    /// ```
    pub fn in_bff(path: &'static str) -> &'static str {
        path.strip_prefix(BFF)
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(path)
    }
}

/// `POST /bff/login/start` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginStartRequest {
    /// Where the SPA wants to land after login; a same-origin path only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// `POST /bff/login/start` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginStartResponse {
    /// The provider's authorization URL the browser navigates to.
    pub authorization_url: String,
}

/// `POST /bff/login/end` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginEndRequest {
    /// The SPA's full current URL (`location.href`).
    pub page_url: String,
}

/// `POST /bff/login/end` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginEndResponse {
    /// Whether the page URL was an authorization response that this call completed.
    pub handled: bool,
    /// Whether the browser now has a session.
    pub is_logged_in: bool,
    /// The deep link saved at login start, when the URL was handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

/// `GET /bff/session` answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    pub is_logged_in: bool,
    /// When the access token expires, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The ID token's user claims (`sub`, `name`, `email`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `POST /bff/logout` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoutResponse {
    /// The provider's end-session URL, when it has one; the SPA navigates there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
}

/// One of the user's live sessions on this app (`GET /bff/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// An opaque handle for `DELETE /bff/sessions/{id}`; not the session
    /// key, and worth nothing without this user's own session.
    pub id: String,
    /// When the user signed in (Unix seconds).
    pub created_at: i64,
    /// The last sign-in, refresh or app load of the session (Unix seconds).
    pub last_seen_at: i64,
    /// The browser and system the session signed in from, e.g. "Chrome on Linux".
    pub user_agent: String,
    /// Whether this is the session that asked.
    pub current: bool,
}

/// `GET /bff/sessions` answer: this one first, then the most recently seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsResponse {
    pub sessions: Vec<SessionSummary>,
}

/// `POST /bff/sessions/end-others` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndedSessionsResponse {
    /// How many sessions were ended.
    pub ended: u32,
}

/// Every error the BFF and the proxy answer with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable, machine-readable code (see [`codes`]).
    pub code: String,
    /// A human-readable explanation that never contains a secret.
    pub message: String,
}

/// The stable error codes of [`ErrorBody::code`].
pub mod codes {
    pub const CSRF: &str = "csrf_header_missing";
    pub const ORIGIN: &str = "origin_not_allowed";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const INVALID_ID_TOKEN: &str = "invalid_id_token";
    pub const SESSION_TOO_LARGE: &str = "session_too_large";
    pub const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";
    pub const PROVIDER_TIMEOUT: &str = "provider_timeout";
    pub const UPSTREAM_UNAVAILABLE: &str = "upstream_unavailable";
    pub const UPSTREAM_TIMEOUT: &str = "upstream_timeout";
    pub const NOT_FOUND: &str = "not_found";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const INVALID_LOGOUT_TOKEN: &str = "invalid_logout_token";
    pub const BACKCHANNEL_LOGOUT_UNAVAILABLE: &str = "backchannel_logout_unavailable";
    pub const SESSION_STORE_UNAVAILABLE: &str = "session_store_unavailable";
    pub const USERINFO_SUBJECT_MISMATCH: &str = "userinfo_subject_mismatch";
    pub const NOT_READY: &str = "not_ready";
    /// Listing or ending sessions with a store that cannot (the cookie store).
    pub const SESSIONS_UNAVAILABLE: &str = "sessions_unavailable";
    pub const SESSION_NOT_FOUND: &str = "session_not_found";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_end_response_uses_camel_case() {
        let body = LoginEndResponse {
            handled: true,
            is_logged_in: true,
            return_to: Some("/a".into()),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"handled":true,"isLoggedIn":true,"returnTo":"/a"}"#
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<LoginStartRequest>(r#"{"returnTO":"/x"}"#).is_err());
    }
}
