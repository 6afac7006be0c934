//! The access token, from the request's encrypted cookie.

use crate::app_origin::RequestContext;
use crate::error::ForwardError;
use actix_web::HttpRequest;
use th_cookies::{AccessTokenPayload, CookieKind, RequestCookies, Secret, Vault, unix_now};

/// The request's cookies, from every `Cookie` header.
pub fn request_cookies(req: &HttpRequest) -> RequestCookies {
    RequestCookies::parse(
        req.headers()
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok()),
    )
}

/// Opens the access-token cookie. Absent, unopenable, malformed and expired
/// are all "no session" (401): the SPA then refreshes once and retries.
pub(crate) fn from_request(req: &HttpRequest, vault: &Vault) -> Result<Secret, ForwardError> {
    let cookies = request_cookies(req);
    let payload: AccessTokenPayload =
        vault.read_json(&cookies, CookieKind::Access).map_err(|e| {
            tracing::debug!(reason = %e, "no usable access-token cookie");
            ForwardError::Unauthorized
        })?;
    let app = RequestContext::of(req).app;
    if !payload.belongs_to(app.as_ref().map(|o| o.as_str())) {
        tracing::info!("an access-token cookie made on another app's host was refused");
        return Err(ForwardError::Unauthorized);
    }
    if payload.is_expired(unix_now()) {
        tracing::debug!("the access token in the cookie has expired");
        return Err(ForwardError::Unauthorized);
    }
    Ok(payload.token)
}
