//! The request's cookies, read once from every `Cookie` header (HTTP/2
//! clients may send several), for the vault to open.

use actix_web::HttpRequest;
use th_cookies::RequestCookies;

/// The request's cookies, from every `Cookie` header.
pub fn request_cookies(req: &HttpRequest) -> RequestCookies {
    RequestCookies::parse(
        req.headers()
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok()),
    )
}
