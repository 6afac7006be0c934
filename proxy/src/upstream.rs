//! The pooled HTTP/1.1 client to upstreams, and the request body it sends.
//!
//! hyper-util's client, driven directly: the upstream's scheme and authority
//! are parsed once per route (`route.rs`) and the request is built with only
//! the headers `headers.rs` lets through, so no URL is re-parsed and no
//! default headers are merged per request.

use crate::config::ProxyConfig;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// One worker's connection pool to every upstream (http and https).
pub(crate) type UpstreamClient = Client<HttpsConnector<HttpConnector>, RequestBody>;

/// A client with its own pool: no redirects followed (the browser sees
/// them), no decompression (bodies pass as they are), `TCP_NODELAY` on.
pub(crate) fn client(config: &ProxyConfig) -> UpstreamClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(config.connect_timeout()));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(config.pool_idle_timeout())
        .build(https)
}

/// The request body: none, or the browser's body arriving through a bounded
/// channel (actix's payload lives on the worker's thread; hyper's body must
/// be `Send`).
pub(crate) struct RequestBody {
    chunks: Option<mpsc::Receiver<Result<Bytes, std::io::Error>>>,
}

impl RequestBody {
    /// No body.
    pub fn empty() -> Self {
        Self { chunks: None }
    }

    /// The chunks sent into `rx`, in order, until its sender is dropped.
    pub fn channel(rx: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Self {
        Self { chunks: Some(rx) }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.get_mut().chunks {
            None => Poll::Ready(None),
            Some(rx) => rx.poll_recv(cx).map(|c| c.map(|c| c.map(Frame::data))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.chunks {
            None => SizeHint::with_exact(0),
            // The length, when known, is in the Content-Length header.
            Some(_) => SizeHint::default(),
        }
    }
}
