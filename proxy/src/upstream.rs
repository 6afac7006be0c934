//! The HTTP/1.1 connections to one route's upstream, kept by one worker,
//! and the request body they send.
//!
//! An actix worker is one thread, so its pool is a `RefCell` of hyper's
//! connection handles (`hyper::client::conn::http1`): no lock, no task
//! spawned per request to hand a connection back, and each connection's
//! task runs on the worker's own thread. A handle goes back into the pool
//! as soon as the response's head arrived; it is taken again only once
//! `is_ready` (its response was read to the end). The upstream's scheme and
//! authority are parsed once per route (`route.rs`); the request carries
//! only the headers `headers.rs` lets through, its path in origin form and
//! the upstream's `Host`. No redirects are followed (the browser sees
//! them), nothing is decompressed (bodies pass as they are), `TCP_NODELAY`
//! is on.

use crate::config::ProxyConfig;
use crate::route::Route;
use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use std::cell::RefCell;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tower_service::Service;

/// The most connections one worker keeps to one upstream; more are closed
/// once their response is read.
const MAX_POOLED: usize = 1024;

/// Why an upstream call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("connecting to the upstream: {0}")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Http(#[from] hyper::Error),
}

/// One worker's connections to one route's upstream (http or https).
pub(crate) struct UpstreamPool {
    origin: Uri,
    host: HeaderValue,
    connector: HttpsConnector<HttpConnector>,
    idle_timeout: Duration,
    pooled: RefCell<Vec<Pooled>>,
}

struct Pooled {
    sender: SendRequest<RequestBody>,
    /// When its last request went out.
    used: Instant,
}

impl UpstreamPool {
    /// An empty pool for `route`'s upstream; connects on first use.
    pub fn new(config: &ProxyConfig, route: &Route) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout()));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            origin: route.origin(),
            host: HeaderValue::from_str(route.host().as_str())
                .expect("an authority is a valid header value"),
            connector,
            idle_timeout: config.pool_idle_timeout(),
            pooled: RefCell::new(Vec::new()),
        }
    }

    /// Sends `request` (origin-form URI) on a pooled connection or a new
    /// one. A pooled connection the upstream closed before the request went
    /// out is not an error: the request goes once more on a new connection.
    pub async fn send(
        &self,
        mut request: Request<RequestBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        request
            .headers_mut()
            .insert(http::header::HOST, self.host.clone());
        let (mut sender, mut reused) = match self.take() {
            Some(sender) => (sender, true),
            None => (self.connect().await?, false),
        };
        loop {
            match sender.try_send_request(request).await {
                Ok(response) => {
                    self.give_back(sender);
                    return Ok(response);
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => {
                        request = unsent;
                        reused = false;
                        sender = self.connect().await?;
                    }
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    /// The most recently used connection that is free, if any; drops the
    /// closed and the long unused.
    fn take(&self) -> Option<SendRequest<RequestBody>> {
        let mut pooled = self.pooled.borrow_mut();
        let now = Instant::now();
        pooled.retain(|p| !p.sender.is_closed() && now - p.used < self.idle_timeout);
        let free = pooled.iter().rposition(|p| p.sender.is_ready())?;
        Some(pooled.swap_remove(free).sender)
    }

    fn give_back(&self, sender: SendRequest<RequestBody>) {
        let mut pooled = self.pooled.borrow_mut();
        if pooled.len() < MAX_POOLED {
            pooled.push(Pooled {
                sender,
                used: Instant::now(),
            });
        }
    }

    /// A new connection, its task on this worker's thread.
    async fn connect(&self) -> Result<SendRequest<RequestBody>, UpstreamError> {
        let mut connector = self.connector.clone();
        std::future::poll_fn(|cx| connector.poll_ready(cx))
            .await
            .map_err(UpstreamError::Connect)?;
        let io = connector
            .call(self.origin.clone())
            .await
            .map_err(UpstreamError::Connect)?;
        let (sender, connection) = http1::handshake(io).await?;
        actix_web::rt::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "an upstream connection ended with an error");
            }
        });
        Ok(sender)
    }
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
