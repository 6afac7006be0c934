//! Errors of the calls to the provider.
//!
//! Messages are written for the SPA and the log: they never carry a response
//! body, a token, a code or a verifier (the `oauth2` errors can hold the raw
//! response, so they are classified here and dropped).

use openidconnect::{HttpClientError, RequestTokenError};

/// The token endpoint's error codes (RFC 6749 §5.2) that refuse a grant or
/// the client: the grant is dead, or will never work as sent.
const REFUSALS: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

/// What went wrong with the provider.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached, answered garbage or a 5xx.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider did not answer in time.
    #[error("the identity provider did not answer in time")]
    Timeout,
    /// The provider refused a grant (a used or expired code, a revoked refresh token).
    #[error("the identity provider refused the grant ({0})")]
    Refused(String),
    /// The provider's ID token failed validation.
    #[error("the ID token failed validation: {0}")]
    InvalidIdToken(String),
    /// The provider's metadata lacks something this flow needs.
    #[error("the identity provider's metadata has no {0}")]
    Unsupported(&'static str),
}

impl OidcError {
    /// Classifies a transport error.
    pub fn from_reqwest(err: &reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Unavailable("connection refused or failed".into())
        } else {
            Self::Unavailable("the request failed".into())
        }
    }

    /// Classifies an `oauth2`/`openidconnect` token-endpoint error.
    pub fn from_token_error<T: openidconnect::ErrorResponse + 'static>(
        err: RequestTokenError<HttpClientError<reqwest::Error>, T>,
    ) -> Self {
        match err {
            RequestTokenError::ServerResponse(response) => {
                // The error code is from a fixed vocabulary (RFC 6749 §5.2); the
                // description is free text and is not echoed.
                let code = serde_json::to_value(&response)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .filter(|c| c.len() < 64 && c.bytes().all(|b| b.is_ascii_graphic()))
                    .unwrap_or_else(|| "error".into());
                // Only the token endpoint's own codes refuse the grant or the
                // client. `server_error`, `temporarily_unavailable` (a 5xx
                // in OAuth's JSON) or a code of the provider's own say it is
                // failing: taken for a refusal, they would end every session
                // that refreshes during an outage.
                if REFUSALS.contains(&code.as_str()) {
                    Self::Refused(code)
                } else {
                    Self::Unavailable(format!("its token endpoint answered the error {code}"))
                }
            }
            RequestTokenError::Request(HttpClientError::Reqwest(e)) => Self::from_reqwest(&e),
            RequestTokenError::Request(_) => Self::Unavailable("the request failed".into()),
            RequestTokenError::Parse(_, _) => Self::Unavailable(
                "its token response is not valid JSON of the expected shape".into(),
            ),
            RequestTokenError::Other(_) => {
                Self::Unavailable("its token endpoint answered unexpectedly".into())
            }
        }
    }
}
