//! The BFF's errors and their HTTP answers, decided in one place.

use crate::oidc::OidcError;
use crate::session::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use th_contract::codes;
use th_cookies::WriteError;
use th_http::json_error::json_error;

/// Every way a `/bff/*` request can fail.
#[derive(Debug, thiserror::Error)]
pub enum BffError {
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than `limits.max_json_bytes`.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// No session, or an expired or unreadable one.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// `POST /bff/refresh` found no session, or the provider refused it.
    #[error("{0}")]
    RefreshRefused(crate::routes::refresh::RefreshRefused),
    /// The browser's login cannot complete (state mismatch, no login in
    /// progress, the code refused…). The SPA should start again.
    #[error("{0}")]
    LoginFailed(crate::routes::login::LoginFailure),
    /// The provider failed us.
    #[error(transparent)]
    Provider(#[from] OidcError),
    /// The client started too many logins; it may try again after this long.
    #[error("too many logins started from this address; try again in {} s", .0.as_secs().max(1))]
    TooManyRequests(std::time::Duration),
    /// A token too large for the cookies, even chunked.
    #[error(transparent)]
    Cookie(#[from] WriteError),
    /// A back-channel logout token that fails a check of §2.6.
    #[error(transparent)]
    LogoutToken(crate::oidc::logout_token::LogoutTokenError),
    /// Back-channel logout without `[redis]`: nowhere to record it.
    #[error(
        "back-channel logout needs a [redis] section: without one the server cannot end sessions"
    )]
    BackchannelNeedsRedis,
    /// The request body stalled for `proxy.body_idle_timeout_secs`.
    #[error("the request body stalled; send it without pauses")]
    RequestTimeout,
    /// The provider's userinfo is for another subject than the session's
    /// ID token (OpenID Connect Core §5.3.4).
    #[error("the provider's userinfo is for another user than the session's ID token")]
    UserinfoSubjectMismatch,
    /// Listing or ending sessions with a store that keeps no list.
    #[error("{}", StoreError::NoSessionList)]
    NoSessionList,
    /// `DELETE /bff/sessions/{id}` for no session of the user's.
    #[error("no session of yours has this id (it may have ended already)")]
    SessionNotFound,
    /// The server-side session store did not answer; the message names no key.
    #[error("the session store is unavailable")]
    SessionStoreUnavailable(String),
}

impl From<StoreError> for BffError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => Self::SessionStoreUnavailable(why),
            StoreError::Cookie(e) => Self::Cookie(e),
            StoreError::NoSessionList => Self::NoSessionList,
        }
    }
}

impl ResponseError for BffError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::LoginFailed(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) | Self::RefreshRefused(_) => StatusCode::UNAUTHORIZED,
            Self::Provider(OidcError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            Self::Provider(OidcError::Refused(_)) => StatusCode::BAD_REQUEST,
            Self::Provider(_) => StatusCode::BAD_GATEWAY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Cookie(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::SessionStoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::UserinfoSubjectMismatch => StatusCode::BAD_GATEWAY,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::LogoutToken(_) => StatusCode::BAD_REQUEST,
            Self::BackchannelNeedsRedis | Self::NoSessionList => StatusCode::NOT_IMPLEMENTED,
            Self::SessionNotFound => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            Self::BadRequest(_) => codes::BAD_REQUEST,
            Self::PayloadTooLarge(_) => codes::PAYLOAD_TOO_LARGE,
            Self::Unauthorized(_) | Self::RefreshRefused(_) => codes::UNAUTHORIZED,
            Self::LoginFailed(_) | Self::Provider(OidcError::Refused(_)) => codes::LOGIN_FAILED,
            Self::Provider(OidcError::Timeout) => codes::PROVIDER_TIMEOUT,
            Self::Provider(OidcError::InvalidIdToken(_)) => codes::INVALID_ID_TOKEN,
            Self::Provider(_) => codes::PROVIDER_UNAVAILABLE,
            Self::TooManyRequests(_) => codes::RATE_LIMITED,
            Self::Cookie(_) => codes::SESSION_TOO_LARGE,
            Self::SessionStoreUnavailable(_) => codes::SESSION_STORE_UNAVAILABLE,
            Self::UserinfoSubjectMismatch => codes::USERINFO_SUBJECT_MISMATCH,
            Self::RequestTimeout => codes::REQUEST_TIMEOUT,
            Self::LogoutToken(_) => codes::INVALID_LOGOUT_TOKEN,
            Self::BackchannelNeedsRedis => codes::BACKCHANNEL_LOGOUT_UNAVAILABLE,
            Self::NoSessionList => codes::SESSIONS_UNAVAILABLE,
            Self::SessionNotFound => codes::SESSION_NOT_FOUND,
        };
        let status = self.status_code();
        if let Self::SessionStoreUnavailable(why) = self {
            tracing::warn!(status = status.as_u16(), error = %why, "the session store is unavailable");
        } else if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), error = %self, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut response = json_error(status, code, self.to_string());
        if let Self::TooManyRequests(wait) = self {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(secs.max(1)),
            );
        }
        response
    }
}
