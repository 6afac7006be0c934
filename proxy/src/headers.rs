//! Which headers cross the proxy, in each direction.
//!
//! Hop-by-hop headers (RFC 9110 §7.6.1) and any header the `Connection`
//! header names belong to one connection and are dropped both ways. Towards
//! the upstream, the browser's `Cookie` (except the route's allowed names) and
//! its `Authorization` never pass: the proxy sets `Authorization` itself.
//! From the upstream, `Set-Cookie` passes only for the allowed names, so an
//! upstream cannot overwrite the token handler's cookies.
//!
//! `X-Forwarded-*` never carry the client's own words: `-For` is the trusted
//! chain (`th_http::forwarded`), `-Proto` and `-Host` are the configured app
//! origin the request was sent to (`th_http::app_origin`). The headers a proxy in
//! front adds for this server alone (`forwarded.private_headers`) stop here.

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap as ActixHeaders;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use std::fmt::Write as _;
use th_http::app_origin::RequestContext;
use th_http::forwarded::trusted_chain;
use th_http::request_cookies::cookie_headers;

/// Headers that describe one connection, not the message.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Request headers the proxy sets or must not pass on.
const REQUEST_DROPPED: [&str; 9] = [
    "host",
    "cookie",
    "authorization",
    "expect",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "content-length",
];

/// The headers the proxy writes itself, parsed once (a `&str` name is
/// parsed again on every insert).
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Whether `name` is hop-by-hop or named by one of the `Connection` header
/// values; compared in place, so a request allocates nothing for it.
fn dropped_both_ways<'a>(name: &str, connection: impl Iterator<Item = &'a str>) -> bool {
    HOP_BY_HOP.contains(&name)
        || connection
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(name))
}

/// The headers sent to the upstream, without `Authorization` (added by the caller).
pub(crate) fn upstream_request_headers(req: &HttpRequest, pass_cookies: &[String]) -> HeaderMap {
    let incoming = req.headers();
    let context = RequestContext::of(req);
    let mut out = HeaderMap::with_capacity(incoming.len() + 4);
    let connection = incoming.get_all(actix_web::http::header::CONNECTION);
    for (name, value) in incoming {
        let n = name.as_str();
        if REQUEST_DROPPED.contains(&n)
            || dropped_both_ways(n, connection.clone().filter_map(|v| v.to_str().ok()))
            || context.private_headers.iter().any(|p| p == name)
        {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(n.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    if let Some(length) = incoming.get("content-length")
        && let Ok(value) = HeaderValue::from_bytes(length.as_bytes())
    {
        out.insert(http::header::CONTENT_LENGTH, value);
    }
    if let Some(cookie) = passed_cookies(incoming, pass_cookies) {
        out.insert(http::header::COOKIE, cookie);
    }
    add_forwarded(req, &context, &mut out);
    out
}

/// The allowed cookies, re-serialized; `None` when there are none. The
/// headers are read as the token handler's own cookies are.
fn passed_cookies(incoming: &ActixHeaders, allowed: &[String]) -> Option<HeaderValue> {
    if allowed.is_empty() {
        return None;
    }
    let kept: Vec<&str> = cookie_headers(incoming)
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n).trim();
            allowed.iter().any(|a| a == name)
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_bytes(kept.join("; ").as_bytes()).ok()
}

/// `X-Forwarded-For` (the trusted chain), `X-Forwarded-Proto` and
/// `X-Forwarded-Host` (the app origin the request was sent to; none when it
/// was sent to no app's host).
fn add_forwarded(req: &HttpRequest, context: &RequestContext, out: &mut HeaderMap) {
    // One string: this runs on every request.
    let mut chain = String::new();
    for ip in trusted_chain(req, context.trusted_hops) {
        if !chain.is_empty() {
            chain.push_str(", ");
        }
        push_ip(&mut chain, ip);
    }
    if !chain.is_empty()
        && let Ok(v) = HeaderValue::from_maybe_shared(bytes::Bytes::from(chain))
    {
        out.insert(X_FORWARDED_FOR, v);
    }
    let proto = match context.app.as_ref().map(|a| a.scheme()) {
        Some("https") => "https",
        // This server speaks plain HTTP; TLS ends in front of it.
        _ => "http",
    };
    out.insert(X_FORWARDED_PROTO, HeaderValue::from_static(proto));
    if let Some(app) = &context.app
        && let Ok(v) = HeaderValue::from_str(app.authority())
    {
        out.insert(X_FORWARDED_HOST, v);
    }
}

/// Writes `ip` as `Display` does; an IPv4 address (the usual peer) digit
/// by digit, without the formatting machinery, as every request has one.
fn push_ip(out: &mut String, ip: std::net::IpAddr) {
    let std::net::IpAddr::V4(v4) = ip else {
        let _ = write!(out, "{ip}");
        return;
    };
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
}

/// Copies the upstream's response headers that may reach the browser.
pub(crate) fn copy_response_headers(
    from: &HeaderMap,
    to: &mut actix_web::HttpResponseBuilder,
    pass_cookies: &[String],
) {
    let connection = from.get_all(http::header::CONNECTION);
    for (name, value) in from {
        let n = name.as_str();
        let tokens = connection.iter().filter_map(|v| v.to_str().ok());
        if n == "content-length" || dropped_both_ways(n, tokens) {
            continue;
        }
        if n == "set-cookie" && !set_cookie_allowed(value, pass_cookies) {
            continue;
        }
        to.append_header((n, value.as_bytes()));
    }
}

fn set_cookie_allowed(value: &HeaderValue, allowed: &[String]) -> bool {
    let Ok(v) = value.to_str() else { return false };
    let name = v.split_once('=').map_or("", |(n, _)| n.trim());
    allowed.iter().any(|a| a == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_display_writes_them() {
        for ip in [
            "0.0.0.0",
            "10.0.0.7",
            "127.0.0.1",
            "192.168.100.255",
            "203.0.113.90",
            "::1",
            "2001:db8::7",
            "::ffff:10.1.2.3",
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            let mut out = String::new();
            push_ip(&mut out, ip);
            assert_eq!(out, ip.to_string());
        }
    }
    use actix_web::test::TestRequest;

    #[test]
    fn hop_by_hop_cookie_and_authorization_are_dropped() {
        let req = TestRequest::get()
            .insert_header(("connection", "keep-alive, x-private"))
            .insert_header(("x-private", "1"))
            .insert_header(("keep-alive", "timeout=5"))
            .insert_header(("te", "trailers"))
            .insert_header(("cookie", "__Host-th-at=secret; theme=dark"))
            .insert_header(("authorization", "Bearer forged"))
            .insert_header(("accept", "application/json"))
            .to_http_request();
        let out = upstream_request_headers(&req, &[]);
        for gone in [
            "connection",
            "x-private",
            "keep-alive",
            "te",
            "cookie",
            "authorization",
        ] {
            assert!(out.get(gone).is_none(), "{gone} passed");
        }
        assert_eq!(out.get("accept").unwrap(), "application/json");
    }

    #[test]
    fn only_allowed_cookies_pass() {
        let req = TestRequest::get()
            .insert_header(("cookie", "__Host-th-at=secret; theme=dark; lang=en"))
            .to_http_request();
        let out = upstream_request_headers(&req, &["theme".to_owned()]);
        assert_eq!(out.get("cookie").unwrap(), "theme=dark");
    }

    fn context(app: Option<&str>, trusted_hops: usize) -> RequestContext {
        RequestContext {
            app: app.map(|a| std::sync::Arc::new(th_http::origin::Origin::parse(a).unwrap())),
            trusted_hops,
            private_headers: std::sync::Arc::from(vec![
                actix_web::http::header::HeaderName::from_static("x-origin-verify"),
            ]),
        }
    }

    #[test]
    fn the_clients_forwarded_headers_never_reach_the_upstream() {
        use actix_web::HttpMessage;
        let req = TestRequest::get()
            .peer_addr("10.0.0.7:5555".parse().unwrap())
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("x-forwarded-proto", "gopher"))
            .insert_header(("forwarded", "for=1.2.3.4;host=evil.example"))
            .insert_header(("x-origin-verify", "cloudfront-secret"))
            .insert_header(("host", "evil.example"))
            .to_http_request();
        req.extensions_mut()
            .insert(context(Some("https://app.example"), 0));
        let out = upstream_request_headers(&req, &[]);
        assert_eq!(out.get("x-forwarded-for").unwrap(), "10.0.0.7");
        assert_eq!(out.get("x-forwarded-host").unwrap(), "app.example");
        assert_eq!(out.get("x-forwarded-proto").unwrap(), "https");
        for gone in ["forwarded", "x-origin-verify", "host"] {
            assert!(out.get(gone).is_none(), "{gone} passed");
        }
    }

    #[test]
    fn trusted_hops_keep_what_the_proxies_in_front_appended() {
        use actix_web::HttpMessage;
        let req = TestRequest::get()
            .peer_addr("10.0.0.7:5555".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4, 203.0.113.9"))
            .to_http_request();
        req.extensions_mut().insert(context(None, 1));
        let out = upstream_request_headers(&req, &[]);
        assert_eq!(out.get("x-forwarded-for").unwrap(), "203.0.113.9, 10.0.0.7");
        assert_eq!(out.get("x-forwarded-proto").unwrap(), "http");
        assert!(out.get("x-forwarded-host").is_none());
    }

    #[test]
    fn upstream_set_cookie_passes_only_for_allowed_names_and_hop_by_hop_stays() {
        let mut from = HeaderMap::new();
        from.append(
            "set-cookie",
            HeaderValue::from_static("__Host-th-at=x; Path=/"),
        );
        from.append(
            "set-cookie",
            HeaderValue::from_static("theme=light; Path=/"),
        );
        from.append("content-type", HeaderValue::from_static("text/plain"));
        from.append("connection", HeaderValue::from_static("x-private"));
        from.append("x-private", HeaderValue::from_static("1"));
        from.append("keep-alive", HeaderValue::from_static("timeout=5"));
        let mut builder = actix_web::HttpResponse::Ok();
        copy_response_headers(&from, &mut builder, &["theme".to_owned()]);
        let res = builder.finish();
        let cookies: Vec<_> = res.headers().get_all("set-cookie").collect();
        assert_eq!(cookies.len(), 1);
        assert_eq!(cookies[0], "theme=light; Path=/");
        assert_eq!(res.headers().get("content-type").unwrap(), "text/plain");
        for gone in ["connection", "x-private", "keep-alive"] {
            assert!(res.headers().get(gone).is_none(), "{gone} passed");
        }
    }
}
