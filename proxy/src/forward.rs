//! One proxied request: cookie → bearer token, the request streamed to the
//! upstream, its response streamed back.

use crate::access_token;
use crate::access_token::AccessTokenSource;
use crate::config::TokenMode;
use crate::error::ForwardError;
use crate::headers::{copy_response_headers, upstream_request_headers};
use crate::metrics::{RouteMetrics, UpstreamFailure};
use crate::phantom::Introspector;
use crate::route::Route;
use crate::upstream::{RequestBody, UpstreamError, UpstreamPool};
use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use http::Uri;
use http::uri::PathAndQuery;
use http_body_util::BodyDataStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use th_http::idle_timeout::{IdleTimeout, is_idle_timeout, payload_timed_out};
use th_http::request_id::RequestId;
use tracing::Instrument;

/// How many request-body chunks may wait for the upstream: back-pressure
/// keeps a slow upstream from making the proxy buffer a whole body.
const BODY_CHANNEL_CHUNKS: usize = 4;

/// What a route's handler needs, one per route and worker.
pub(crate) struct Forwarder {
    pub route: Route,
    /// Where the session's access token comes from.
    pub tokens: Arc<dyn AccessTokenSource>,
    pub introspector: Option<Arc<Introspector>>,
    /// This worker's connections to the route's upstream.
    pub upstream: UpstreamPool,
    /// `proxy.body_idle_timeout_secs`.
    pub body_idle: std::time::Duration,
    pub metrics: RouteMetrics,
}

/// The handler of every method and path under a route's prefix.
pub(crate) async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    forwarder: web::Data<Forwarder>,
) -> Result<HttpResponse, ForwardError> {
    let f = forwarder.get_ref();
    let route = &f.route;
    let path = route.target_path(req.uri().path(), req.uri().query())?;
    let token = access_token::from_request(&req, f.tokens.as_ref()).await?;
    let bearer = match (route.token_mode, &f.introspector) {
        (TokenMode::Phantom, Some(introspector)) => introspector.jwt_for(&token).await?,
        _ => token,
    };
    // With traces on, the upstream's call is a span of its own, and the
    // upstream continues the trace from it.
    let span = th_http::call_span!("upstream", route = %route.prefix);
    let method = http::Method::from_bytes(req.method().as_str().as_bytes())
        .map_err(|_| ForwardError::BadPath("unsupported method"))?;
    // The request's head; built again only for a second try, so a request
    // that needs none copies nothing.
    let head = |path: PathAndQuery| -> Result<http::request::Parts, ForwardError> {
        let mut headers = upstream_request_headers(&req, &route.pass_cookies);
        let mut authorization = http::HeaderValue::try_from(bearer_value(bearer.expose()))
            .map_err(|_| ForwardError::Unauthorized)?;
        authorization.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, authorization);
        if let Some(id) = RequestId::of(&req) {
            headers.insert(REQUEST_ID, id.header_value());
        }
        th_http::telemetry::inject(&span, &mut headers);
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.method = method.clone();
        parts.uri = Uri::from(path);
        parts.headers = headers;
        Ok(parts)
    };

    let flags = Arc::new(BodyFlags::default());
    let length = request_body_length(&req);
    // What a second try needs: a safe method and no body to send again.
    let may_retry = matches!(length, BodyLength::None)
        && matches!(
            method,
            http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
        );
    let body = match length {
        BodyLength::None => RequestBody::empty(),
        BodyLength::Known(n) if n > route.max_body_bytes => {
            return Err(ForwardError::PayloadTooLarge(route.max_body_bytes));
        }
        BodyLength::Known(_) | BodyLength::Chunked => {
            stream_body(payload, route.max_body_bytes, flags.clone())
        }
    };
    let upstream = http::Request::from_parts(head(path)?, body);

    let sent = std::time::Instant::now();
    let send = async {
        match f.upstream.send(upstream).await {
            // The upstream closed the connection under the request, after
            // it went out (one closed before is sent again by the pool):
            // most often a pooled connection it was closing for idleness
            // just as the request was written, a race no idle timeout fully
            // avoids on a loaded machine. A safe request without a body
            // goes once more, on a new connection, as browsers and Go's
            // client do.
            Err(e) if may_retry && closed_under_it(&e) => {
                tracing::debug!(route = %route.prefix, error = %error_chain(&e), "the upstream closed the connection; trying once more");
                let again = route
                    .target_path(req.uri().path(), req.uri().query())
                    .and_then(head);
                match again {
                    Ok(parts) => {
                        let again = http::Request::from_parts(parts, RequestBody::empty());
                        f.upstream.send(again).await
                    }
                    // It was built once from the same request: not reached.
                    Err(_) => Err(e),
                }
            }
            other => other,
        }
    };
    let call = tokio::time::timeout(route.timeout, send);
    let response = match call.instrument(span.clone()).await {
        Err(_) => {
            tracing::warn!(route = %route.prefix, "the upstream did not answer in time");
            f.metrics.failed(UpstreamFailure::Timeout);
            return Err(ForwardError::UpstreamTimeout(route.timeout.as_secs()));
        }
        Ok(Err(_)) if flags.too_large.load(Ordering::Relaxed) => {
            return Err(ForwardError::PayloadTooLarge(route.max_body_bytes));
        }
        Ok(Err(_)) if flags.timed_out.load(Ordering::Relaxed) => {
            tracing::info!(route = %route.prefix, "the browser's request body stalled");
            return Err(ForwardError::RequestBodyTimeout);
        }
        Ok(Err(e)) => {
            tracing::warn!(route = %route.prefix, error = %error_chain(&e), "the upstream failed");
            f.metrics.failed(UpstreamFailure::Unavailable);
            return Err(ForwardError::UpstreamUnavailable(e.into()));
        }
        Ok(Ok(response)) => response,
    };
    f.metrics
        .answered(response.status().as_u16(), sent.elapsed());
    let bytes = f.metrics.bytes();

    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut builder = HttpResponse::build(status);
    copy_response_headers(response.headers(), &mut builder, &route.pass_cookies);
    let length = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // An upstream that stalls after its headers must not hold the browser's
    // connection for ever.
    let mut body = IdleTimeout::new(
        BodyDataStream::new(response.into_body()).map(|c| c.map_err(std::io::Error::other)),
        f.body_idle,
    );
    // A small body usually arrives with its headers: answer it in one piece
    // (one write to the browser instead of headers, then body). Only the
    // first chunk is awaited; anything longer streams.
    let mut first = None;
    if let Some(n) = length
        && n > 0
        && req.method() != actix_web::http::Method::HEAD
    {
        match body.next().await {
            Some(Ok(chunk)) if chunk.len() as u64 == n => {
                bytes.increment(n);
                return Ok(builder.body(chunk));
            }
            Some(Ok(chunk)) => first = Some(chunk),
            Some(Err(e)) => {
                tracing::warn!(route = %route.prefix, error = %e, "the upstream's body failed");
                return Err(if is_idle_timeout(&e) {
                    f.metrics.failed(UpstreamFailure::Timeout);
                    ForwardError::UpstreamTimeout(f.body_idle.as_secs())
                } else {
                    f.metrics.failed(UpstreamFailure::Reset);
                    ForwardError::UpstreamUnavailable(e.into())
                });
            }
            None => {}
        }
    }
    let prefix = route.prefix.clone();
    let metrics = f.metrics.clone();
    // The body streams after the handler returned: its log lines are the
    // request's all the same.
    let span = tracing::Span::current();
    let body = futures_util::stream::iter(first.map(Ok))
        .chain(body)
        .inspect(move |chunk| match chunk {
            Ok(chunk) => bytes.increment(chunk.len() as u64),
            Err(e) => {
                let _request = span.enter();
                tracing::warn!(route = %prefix, error = %e, "the upstream's body failed; the response is cut");
                metrics.failed(if is_idle_timeout(e) {
                    UpstreamFailure::Timeout
                } else {
                    UpstreamFailure::Reset
                });
            }
        });
    Ok(match length {
        Some(n) => builder.body(SizedStream::new(n, body)),
        None => builder.body(BodyStream::new(body)),
    })
}

/// `x-request-id`, parsed once.
const REQUEST_ID: http::HeaderName = http::HeaderName::from_static(th_contract::REQUEST_ID_HEADER);

/// `Bearer <token>`, pushed rather than formatted (every request has one).
fn bearer_value(token: &str) -> String {
    let mut value = String::with_capacity(7 + token.len());
    value.push_str("Bearer ");
    value.push_str(token);
    value
}

enum BodyLength {
    None,
    Known(u64),
    Chunked,
}

fn request_body_length(req: &HttpRequest) -> BodyLength {
    let headers = req.headers();
    if headers.contains_key("transfer-encoding") {
        return BodyLength::Chunked;
    }
    match headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        Some(0) | None => BodyLength::None,
        Some(n) => BodyLength::Known(n),
    }
}

/// The error and its causes, for the log: hyper-util's error alone says
/// little ("client error (Connect)").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// Whether the connection was closed or reset under the request (not a
/// connect error: then nothing was sent).
fn closed_under_it(e: &UpstreamError) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    let UpstreamError::Http(e) = e else {
        return false;
    };
    if e.is_incomplete_message() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| matches!(io.kind(), ConnectionReset | BrokenPipe | ConnectionAborted))
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// Why the browser's body stopped early.
#[derive(Default)]
struct BodyFlags {
    too_large: AtomicBool,
    timed_out: AtomicBool,
}

/// Streams the browser's body to the upstream through a small bounded
/// channel: actix's payload lives on this worker's thread, hyper's body
/// must be `Send`. Stops at `limit` bytes, or when the body stalls, and
/// flags why.
fn stream_body(mut payload: web::Payload, limit: u64, flags: Arc<BodyFlags>) -> RequestBody {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(BODY_CHANNEL_CHUNKS);
    actix_web::rt::spawn(async move {
        let mut total: u64 = 0;
        while let Some(chunk) = payload.next().await {
            let item = match chunk {
                Ok(bytes) => {
                    total += bytes.len() as u64;
                    if total > limit {
                        flags.too_large.store(true, Ordering::Relaxed);
                        Err(std::io::Error::other("request body over the route's limit"))
                    } else {
                        Ok(bytes)
                    }
                }
                Err(e) => {
                    if payload_timed_out(&e) {
                        flags.timed_out.store(true, Ordering::Relaxed);
                    }
                    Err(std::io::Error::other(e.to_string()))
                }
            };
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    RequestBody::channel(rx)
}
