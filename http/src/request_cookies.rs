//! The request's cookies, read once from every `Cookie` header (HTTP/2
//! clients may send several), for the vault to open.

use actix_web::HttpRequest;
use actix_web::http::header::{COOKIE, HeaderMap};
use th_cookies::RequestCookies;

/// The request's cookies, from every `Cookie` header.
pub fn request_cookies(req: &HttpRequest) -> RequestCookies {
    RequestCookies::parse(cookie_headers(req.headers()))
}

/// Every `Cookie` header's value, read as UTF-8 (`HeaderValue::to_str`
/// would check it byte by byte for visible ASCII, the largest cost of
/// reading a session's few kilobytes of cookies, and would drop the whole
/// header, our cookies with it, for one cookie of another site's with a
/// UTF-8 value). Control characters never get this far: the request parser
/// refuses them. A header that is not UTF-8 is skipped.
pub fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(COOKIE)
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
}
