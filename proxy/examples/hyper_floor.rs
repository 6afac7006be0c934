//! A measuring stick, not a product: the `/api` path as hyper alone would
//! serve it, for `bench/callgrind.sh` (`TARGETS=hyper-floor`) to count.
//!
//! It answers the question `docs/benchmarks.md` leaves open: how much of the
//! gap to nginx would serving `/api/*` from hyper's server directly (instead
//! of actix-web's) close? It does the per-request work the proxy does that
//! matters for cost (the CSRF header and `Origin` checked, the access-token
//! cookie opened with the same key ring and checked for expiry, the upstream
//! request's headers built with the bearer token and `X-Forwarded-*`, the
//! hop-by-hop and cookie headers dropped both ways, a pooled HTTP/1.1
//! connection per thread, bodies streamed) with hyper's server and client
//! and one `http` type throughout, one single-threaded runtime per worker
//! thread as actix has. What it leaves out
//! (the path rules, CORS, the request id, metrics, timeouts, errors as
//! JSON) costs a few thousand instructions in the real proxy, so its count
//! is a floor: the real thing on this design would cost more.
//!
//! `hyper_floor <proxy settings.toml> <listen port> [workers]`: the first
//! route's upstream, the `[cookies]` key ring and the first `[cors]` origin;
//! one worker unless told.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::rc::Rc;
use th_cookies::{AccessTokenPayload, CookieKind, RequestCookies, Vault};
use th_proxy::server::Settings;
use tokio::net::{TcpListener, TcpStream};

// The proxy's allocator, so the count compares code, not allocators.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

type Body = UnsyncBoxBody<Bytes, hyper::Error>;

/// What every request needs, on the one thread.
struct Floor {
    vault: Vault,
    origin: String,
    prefix: String,
    upstream: String,
    idle: RefCell<Vec<SendRequest<Incoming>>>,
}

/// The headers that never cross (hop-by-hop, and the browser's own
/// credentials).
const DROPPED: [HeaderName; 8] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
    header::AUTHORIZATION,
];
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const X_CSRF: HeaderName = HeaderName::from_static("x-csrf");
const XFF: HeaderName = HeaderName::from_static("x-forwarded-for");
const XFP: HeaderName = HeaderName::from_static("x-forwarded-proto");
const XFH: HeaderName = HeaderName::from_static("x-forwarded-host");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(port)) = (args.next(), args.next()) else {
        return Err("usage: hyper_floor <settings.toml> <listen port> [workers]".into());
    };
    let workers: usize = args.next().map_or(Ok(1), |w| w.parse())?;
    let settings = Settings::load(config.as_ref()).map_err(|e| e.to_string())?;
    let listener = std::net::TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))?;
    listener.set_nonblocking(true)?;
    let threads: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (settings, listener) = (settings.clone(), listener.try_clone());
            std::thread::spawn(move || worker(&settings, listener?))
        })
        .collect();
    for thread in threads {
        thread.join().map_err(|_| "a worker panicked")??;
    }
    Ok(())
}

/// One worker: its own runtime, connections and pool, as an actix worker.
fn worker(settings: &Settings, listener: std::net::TcpListener) -> Result<(), BoxError> {
    let route = settings.proxy.routes.first().ok_or("no [[proxy.routes]]")?;
    let upstream: Uri = route.upstream.parse()?;
    let floor = Rc::new(Floor {
        vault: settings.cookies.vault()?,
        origin: settings
            .cors
            .allowed_origins
            .first()
            .cloned()
            .unwrap_or_default(),
        prefix: route.prefix.clone(),
        upstream: upstream.authority().ok_or("no upstream host")?.to_string(),
        idle: RefCell::new(Vec::new()),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = TcpListener::from_std(listener)?;
        loop {
            let (stream, peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let floor = floor.clone();
            tokio::task::spawn_local(async move {
                let service = service_fn(move |req| {
                    let floor = floor.clone();
                    async move { Ok::<_, hyper::Error>(floor.handle(req, peer).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

impl Floor {
    async fn handle(&self, req: Request<Incoming>, peer: std::net::SocketAddr) -> Response<Body> {
        let headers = req.headers();
        if headers.get(X_CSRF).is_none_or(|v| v.as_bytes() != b"1") {
            return refuse(StatusCode::FORBIDDEN);
        }
        if headers
            .get(header::ORIGIN)
            .is_some_and(|o| o.as_bytes() != self.origin.as_bytes())
        {
            return refuse(StatusCode::FORBIDDEN);
        }
        let cookies = RequestCookies::parse(
            headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok()),
        );
        let Ok(payload) = self
            .vault
            .read_json::<AccessTokenPayload>(&cookies, CookieKind::Access)
        else {
            return refuse(StatusCode::UNAUTHORIZED);
        };
        if payload.is_expired(th_cookies::unix_now()) {
            return refuse(StatusCode::UNAUTHORIZED);
        }
        let Some(path) = req
            .uri()
            .path_and_query()
            .and_then(|p| p.as_str().strip_prefix(self.prefix.as_str()))
            .and_then(|p| Uri::try_from(if p.is_empty() { "/" } else { p }).ok())
        else {
            return refuse(StatusCode::NOT_FOUND);
        };

        let (mut parts, body) = req.into_parts();
        let host = parts.headers.get(header::HOST).cloned();
        strip(&mut parts.headers);
        let mut bearer = String::with_capacity(7 + payload.token.expose().len());
        bearer.push_str("Bearer ");
        bearer.push_str(payload.token.expose());
        let Ok(mut authorization) = HeaderValue::try_from(bearer) else {
            return refuse(StatusCode::UNAUTHORIZED);
        };
        authorization.set_sensitive(true);
        parts.headers.insert(header::AUTHORIZATION, authorization);
        if let Ok(ip) = HeaderValue::try_from(peer.ip().to_string()) {
            parts.headers.insert(XFF, ip);
        }
        parts.headers.insert(XFP, HeaderValue::from_static("https"));
        if let Some(host) = host {
            parts.headers.insert(XFH, host);
        }
        if let Ok(upstream) = HeaderValue::try_from(self.upstream.as_str()) {
            parts.headers.insert(header::HOST, upstream);
        }
        parts.uri = path;
        let request = Request::from_parts(parts, body);

        let mut sender = match self.take() {
            Some(sender) => sender,
            None => match self.connect().await {
                Some(sender) => sender,
                None => return refuse(StatusCode::BAD_GATEWAY),
            },
        };
        let response = sender.send_request(request).await;
        self.idle.borrow_mut().push(sender);
        match response {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                strip(&mut parts.headers);
                Response::from_parts(parts, body.boxed_unsync())
            }
            Err(_) => refuse(StatusCode::BAD_GATEWAY),
        }
    }

    /// The most recently used free connection.
    fn take(&self) -> Option<SendRequest<Incoming>> {
        let mut idle = self.idle.borrow_mut();
        idle.retain(|s| !s.is_closed());
        let free = idle.iter().rposition(|s| s.is_ready())?;
        Some(idle.swap_remove(free))
    }

    async fn connect(&self) -> Option<SendRequest<Incoming>> {
        let stream = TcpStream::connect(self.upstream.as_str()).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .ok()?;
        tokio::task::spawn_local(connection);
        Some(sender)
    }
}

/// Drops the hop-by-hop headers, those `Connection` names, and the
/// credentials.
fn strip(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::try_from(n.trim()).ok())
        .collect();
    for name in DROPPED.iter().chain(named.iter()).chain([&KEEP_ALIVE]) {
        headers.remove(name);
    }
}

fn refuse(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::new())
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}
