//! What can go wrong with one proxied request, and the status each answers with.
//! The contract's status codes for the proxy are decided here, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use th_contract::codes;
use th_http::json_error::json_error;

/// Why a request was not forwarded, or its upstream did not answer.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// No access-token cookie, or one that does not open, or an expired token.
    #[error("no valid session")]
    Unauthorized,
    /// The provider says the token is no longer active (phantom mode).
    #[error("the access token is not active")]
    Inactive,
    /// The request cannot be forwarded as it is (its method, a bad URI).
    #[error("the request path is not allowed: {0}")]
    BadPath(&'static str),
    /// The path holds something an upstream could read differently.
    #[error("the request path is not forwarded: it holds {0}")]
    Path(#[from] crate::path::PathError),
    /// The request body is over the route's limit.
    #[error("the request body is over the route's limit of {0} bytes")]
    PayloadTooLarge(u64),
    /// The upstream refused or reset the connection.
    #[error("the upstream is unavailable")]
    UpstreamUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The upstream did not answer in time.
    #[error("the upstream did not answer within {0} s")]
    UpstreamTimeout(u64),
    /// Introspection failed (phantom mode).
    #[error("token introspection failed: {0}")]
    ProviderUnavailable(String),
    /// Introspection timed out (phantom mode).
    #[error("token introspection timed out")]
    ProviderTimeout,
    /// The browser's request body stalled for the idle timeout.
    #[error("the request body stalled; send it without pauses")]
    RequestBodyTimeout,
    /// The server-side session store did not answer.
    #[error("the session store is unavailable")]
    SessionStoreUnavailable(String),
}

impl ResponseError for ForwardError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::Inactive => StatusCode::UNAUTHORIZED,
            Self::BadPath(_) | Self::Path(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UpstreamUnavailable(_) | Self::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout(_) | Self::ProviderTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::SessionStoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::RequestBodyTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            Self::Unauthorized | Self::Inactive => codes::UNAUTHORIZED,
            Self::BadPath(_) | Self::Path(_) => codes::BAD_REQUEST,
            Self::PayloadTooLarge(_) => codes::PAYLOAD_TOO_LARGE,
            Self::UpstreamUnavailable(_) => codes::UPSTREAM_UNAVAILABLE,
            Self::UpstreamTimeout(_) => codes::UPSTREAM_TIMEOUT,
            Self::ProviderUnavailable(_) => codes::PROVIDER_UNAVAILABLE,
            Self::ProviderTimeout => codes::PROVIDER_TIMEOUT,
            Self::RequestBodyTimeout => codes::REQUEST_TIMEOUT,
            Self::SessionStoreUnavailable(why) => {
                tracing::warn!(error = %why, "the session store is unavailable");
                codes::SESSION_STORE_UNAVAILABLE
            }
        };
        // The messages never carry a token: the variants hold none.
        let message = match self {
            Self::UpstreamUnavailable(_) => "the upstream is unavailable".to_owned(),
            other => other.to_string(),
        };
        json_error(self.status_code(), code, message)
    }
}
