//! The contract's endpoints, one module each.

pub mod backchannel_logout;
pub mod claims;
pub mod health;
pub mod json_body;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod session;
pub mod sessions;
mod token_set;
pub mod userinfo;

use crate::error::BffError;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue, SET_COOKIE};
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use th_cookies::CookieOut;
use th_http::app_origin::RequestContext;
use th_http::origin::Origin;

/// The app origin whose host the request was sent to (the origin guard
/// resolved it from the configured host header, never from `Origin`).
pub(crate) fn request_app(req: &actix_web::HttpRequest) -> Option<std::sync::Arc<Origin>> {
    RequestContext::of(req).app
}

/// Adds `Set-Cookie` headers and forbids caching (every `/bff` answer is per-user).
pub(crate) fn with_cookies<'a>(
    builder: &'a mut HttpResponseBuilder,
    cookies: &[CookieOut],
) -> &'a mut HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, "no-store"));
    for cookie in cookies {
        builder.append_header((SET_COOKIE, cookie.to_string()));
    }
    builder
}

/// The error's answer, with cookies to set (or clear) on the way.
pub(crate) fn error_with_cookies(error: &BffError, cookies: &[CookieOut]) -> HttpResponse {
    let mut response = error.error_response();
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
