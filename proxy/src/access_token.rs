//! The access token of the request's session, through one seam.
//!
//! [`AccessTokenSource`] is where the proxy gets it: [`CookieTokens`] opens
//! the sealed access-token cookie (the standalone proxy, and the BFF's
//! cookie store); the BFF's server-side store answers from Redis. Either
//! way the rules are the same: absent, unopenable, expired, or made on
//! another app's host are all "no session" (401), and the SPA then
//! refreshes once and retries.

use crate::error::ForwardError;
use actix_web::HttpRequest;
use std::sync::Arc;
use th_cookies::{AccessTokenPayload, CookieKind, Secret, Vault, unix_now};
use th_http::app_origin::RequestContext;
use th_http::request_cookies::request_cookies;

/// Why a source could not say whether there is a token.
#[derive(Debug, thiserror::Error)]
pub enum TokenSourceError {
    /// The session store did not answer (in time); never carries a key or token.
    #[error("the session store is unavailable: {0}")]
    StoreUnavailable(String),
}

/// Where the proxy finds a request's access token.
#[async_trait::async_trait(?Send)]
pub trait AccessTokenSource: Send + Sync {
    /// The session's access token, `None` when the request has no session.
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, TokenSourceError>;
}

/// The sealed access-token cookie.
pub struct CookieTokens {
    vault: Arc<Vault>,
}

impl CookieTokens {
    /// A source that opens cookies with `vault`'s keys.
    pub fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }
}

#[async_trait::async_trait(?Send)]
impl AccessTokenSource for CookieTokens {
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, TokenSourceError> {
        Ok(self
            .vault
            .read_json(&request_cookies(req), CookieKind::Access)
            .inspect_err(|e| tracing::debug!(reason = %e, "no usable access-token cookie"))
            .ok())
    }
}

/// The token to forward for `req`, with the session rules applied.
pub(crate) async fn from_request(
    req: &HttpRequest,
    source: &dyn AccessTokenSource,
) -> Result<Secret, ForwardError> {
    let payload = source
        .access_token(req)
        .await
        .map_err(|TokenSourceError::StoreUnavailable(why)| {
            ForwardError::SessionStoreUnavailable(why)
        })?
        .ok_or(ForwardError::Unauthorized)?;
    let app = RequestContext::of(req).app;
    if !payload.belongs_to(app.as_ref().map(|o| o.as_str())) {
        tracing::info!("an access token made on another app's host was refused");
        return Err(ForwardError::Unauthorized);
    }
    if payload.is_expired(unix_now()) {
        tracing::debug!("the session's access token has expired");
        th_cookies::metrics::expired();
        return Err(ForwardError::Unauthorized);
    }
    Ok(payload.token)
}
