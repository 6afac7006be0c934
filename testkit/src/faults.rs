//! A fault-injecting TCP proxy, put between the BFF and one of its
//! dependencies (the provider, the upstream API, Redis): it passes bytes
//! through until a test tells it to misbehave, and the fault applies at once
//! to the connections already open (a pooled connection is no escape), and
//! to every new one, until the test sets [`Fault::Pass`] again.
//!
//! It runs on a thread of its own with its own runtime, so it keeps working
//! while the test blocks, and whatever runtime the test uses.
//!
//! "Request" is what the BFF sends, "answer" what the dependency sends back;
//! the byte counts of [`Fault::ResetAfter`] and [`Fault::StallAfter`] count
//! the answer's bytes on each connection since the fault was set.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways, untouched.
    Pass,
    /// Forward; the answer comes 1 KiB at a time, each piece this much later
    /// (a slow first byte and a slow body).
    Delay(Duration),
    /// Forward; the first this many bytes of the answer at once, then 1 KiB
    /// at a time, each piece the given time later (headers fast, body slow).
    DelayAfter(usize, Duration),
    /// Forward the request; pass this many bytes of the answer, then reset
    /// both connections (RST): a crash mid-response.
    ResetAfter(usize),
    /// Forward the request; pass this many bytes of the answer, then drop the
    /// rest and keep the connection open: an answer that stops half-way.
    StallAfter(usize),
    /// Paused: the connections stay open and nothing moves either way; what
    /// was sent waits and flows on when the fault ends, as with a process
    /// that stopped and resumed (a TCP stream loses no bytes).
    Hold,
    /// A black hole: the connections stay open, what arrives either way is
    /// dropped (never delivered later), nothing answers: a request lost on
    /// its way, which the dependency never saw.
    Blackhole,
    /// Reset every open connection now, and each new one as it is accepted:
    /// the dependency is down.
    Close,
    /// Reset each connection that was open before this fault was set when
    /// its next request arrives, unanswered; new connections pass: a server
    /// closing idle keep-alive connections just as the client reuses them.
    ResetIdle,
    /// Answer each request with these bytes (a whole response) and close,
    /// without reaching the dependency: a 500, garbage JSON.
    Respond(Vec<u8>),
}

impl Fault {
    /// [`Fault::Respond`] with an HTTP/1.1 response of this status, JSON
    /// content type and body, and `Connection: close`.
    pub fn http(status: u16, body: &str) -> Self {
        Self::Respond(
            format!(
                "HTTP/1.1 {status} Fault\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

struct Shared {
    fault: watch::Sender<Fault>,
    target: Mutex<Option<SocketAddr>>,
    accepted: Mutex<u64>,
}

/// A running fault proxy; stops (and resets its connections) when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `target`.
    pub fn start(target: SocketAddr) -> Self {
        let proxy = Self::bind();
        proxy.set_target(target);
        proxy
    }

    /// A proxy on a free loopback port with no target yet (connections are
    /// reset until [`FaultProxy::set_target`]): for a dependency that must
    /// know the proxy's address before it starts, such as the provider,
    /// whose issuer is the proxy's URL.
    pub fn bind() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            fault: watch::Sender::new(Fault::Pass),
            target: Mutex::new(None),
            accepted: Mutex::new(0),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let for_thread = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        _ = stopped => {}
                        _ = accept_loop(listener, for_thread) => {}
                    }
                });
                // Dropping the runtime drops every connection's task.
            })
            .expect("spawn the proxy's thread");
        Self {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends new connections (and nothing already open) to `target`.
    pub fn set_target(&self, target: SocketAddr) {
        *self.shared.target.lock().unwrap() = Some(target);
    }

    /// Sets the fault, for open connections and new ones alike.
    pub fn set(&self, fault: Fault) {
        self.shared.fault.send_replace(fault);
    }

    /// The fault in force.
    pub fn fault(&self) -> Fault {
        self.shared.fault.borrow().clone()
    }

    /// How many connections it has accepted.
    pub fn accepted(&self) -> u64 {
        *self.shared.accepted.lock().unwrap()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        *shared.accepted.lock().unwrap() += 1;
        tokio::spawn(serve(client, shared.clone()));
    }
}

/// How a connection ended.
#[derive(PartialEq, Eq)]
enum End {
    Closed,
    Reset,
}

/// The size of one slow piece.
const SLOW_PIECE: usize = 1024;

async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    let mut rx = shared.fault.subscribe();
    let mut fault = rx.borrow_and_update().clone();
    // Whether this connection was open before a ResetIdle was set.
    let mut idle_before = false;
    let target = *shared.target.lock().unwrap();
    let upstream = match (&fault, target) {
        (Fault::Close, _) | (_, None) => None,
        (_, Some(target)) => TcpStream::connect(target).await.ok(),
    };
    let Some(mut upstream) = upstream else {
        let _ = client.set_zero_linger();
        return;
    };
    let _ = upstream.set_nodelay(true);
    // Answer bytes passed on this connection since the fault was set.
    let mut passed = 0usize;
    let mut request = vec![0u8; 16 * 1024];
    let mut answer = vec![0u8; 16 * 1024];
    let end = {
        let (mut cr, mut cw) = client.split();
        let (mut ur, mut uw) = upstream.split();
        let (mut client_open, mut upstream_open) = (true, true);
        loop {
            tokio::select! {
                // A fault set before the bytes were sent applies to them:
                // the change is looked at first.
                biased;
                changed = rx.changed() => {
                    if changed.is_err() {
                        break End::Reset;
                    }
                    fault = rx.borrow_and_update().clone();
                    passed = 0;
                    idle_before = fault == Fault::ResetIdle;
                    if fault == Fault::Close {
                        break End::Reset;
                    }
                }
                read = cr.read(&mut request), if client_open && fault != Fault::Hold => {
                    let n = match read {
                        Ok(0) | Err(_) => {
                            client_open = false;
                            let _ = uw.shutdown().await;
                            if upstream_open { continue } else { break End::Closed }
                        }
                        Ok(n) => n,
                    };
                    match &fault {
                        Fault::Blackhole => {}
                        Fault::ResetIdle if idle_before => break End::Reset,
                        Fault::Respond(bytes) => {
                            let _ = cw.write_all(bytes).await;
                            let _ = cw.shutdown().await;
                            break End::Closed;
                        }
                        _ => {
                            if uw.write_all(&request[..n]).await.is_err() {
                                break End::Reset;
                            }
                        }
                    }
                }
                read = ur.read(&mut answer), if upstream_open && fault != Fault::Hold => {
                    let n = match read {
                        Ok(0) | Err(_) => {
                            upstream_open = false;
                            let _ = cw.shutdown().await;
                            if client_open { continue } else { break End::Closed }
                        }
                        Ok(n) => n,
                    };
                    let bytes = &answer[..n];
                    let ok = match &fault {
                        Fault::Hold | Fault::Blackhole | Fault::Respond(_) => true,
                        Fault::Pass | Fault::Close | Fault::ResetIdle => {
                            cw.write_all(bytes).await.is_ok()
                        }
                        Fault::Delay(delay) => slowly(&mut cw, bytes, *delay).await,
                        Fault::DelayAfter(fast, delay) => {
                            let now = fast.saturating_sub(passed).min(n);
                            cw.write_all(&bytes[..now]).await.is_ok()
                                && slowly(&mut cw, &bytes[now..], *delay).await
                        }
                        Fault::ResetAfter(limit) | Fault::StallAfter(limit) => {
                            let now = limit.saturating_sub(passed).min(n);
                            let ok = cw.write_all(&bytes[..now]).await.is_ok();
                            if matches!(fault, Fault::ResetAfter(_)) && passed + now >= *limit {
                                let _ = cw.flush().await;
                                // Let the passed bytes leave before the RST.
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                break End::Reset;
                            }
                            ok
                        }
                    };
                    passed += n;
                    if !ok {
                        break End::Reset;
                    }
                }
            }
        }
    };
    if end == End::Reset {
        let _ = client.set_zero_linger();
        let _ = upstream.set_zero_linger();
    }
}

async fn slowly(out: &mut tokio::net::tcp::WriteHalf<'_>, bytes: &[u8], delay: Duration) -> bool {
    for piece in bytes.chunks(SLOW_PIECE) {
        tokio::time::sleep(delay).await;
        if out.write_all(piece).await.is_err() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An echo server that answers each read with the same bytes.
    fn echo() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn round_trip(proxy: &FaultProxy, message: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect(proxy.addr())?;
        stream.set_read_timeout(Some(Duration::from_millis(500)))?;
        stream.write_all(message)?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.len() < message.len() {
            match stream.read(&mut buf)? {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        Ok(got)
    }

    #[test]
    fn each_fault_does_what_it_says() {
        let proxy = FaultProxy::start(echo());
        assert_eq!(round_trip(&proxy, b"hello").unwrap(), b"hello");

        proxy.set(Fault::ResetAfter(3));
        let err = round_trip(&proxy, b"hello").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");

        proxy.set(Fault::StallAfter(2));
        let err = round_trip(&proxy, b"hello").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock, "{err}");

        proxy.set(Fault::Blackhole);
        assert!(round_trip(&proxy, b"hello").is_err(), "nothing answers");

        // Held bytes flow on when the fault ends; lost ones do not.
        proxy.set(Fault::Hold);
        let mut held = std::net::TcpStream::connect(proxy.addr()).unwrap();
        held.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        held.write_all(b"later").unwrap();
        let mut buf = [0u8; 16];
        assert!(held.read(&mut buf).is_err(), "nothing answers while held");
        proxy.set(Fault::Pass);
        held.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let n = held.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"later");

        proxy.set(Fault::Close);
        let closed = round_trip(&proxy, b"hello");
        assert!(closed.is_err() || closed.unwrap().is_empty());

        proxy.set(Fault::Respond(b"canned".to_vec()));
        assert_eq!(round_trip(&proxy, b"hello!").unwrap(), b"canned");

        proxy.set(Fault::Delay(Duration::from_millis(300)));
        let started = std::time::Instant::now();
        assert_eq!(round_trip(&proxy, b"hello").unwrap(), b"hello");
        assert!(started.elapsed() >= Duration::from_millis(300));

        proxy.set(Fault::Pass);
        assert_eq!(round_trip(&proxy, b"hello").unwrap(), b"hello");
    }

    #[test]
    fn a_fault_reaches_connections_already_open() {
        let proxy = FaultProxy::start(echo());
        let mut stream = std::net::TcpStream::connect(proxy.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = [0u8; 16];
        stream.write_all(b"one").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        proxy.set(Fault::Close);
        std::thread::sleep(Duration::from_millis(50));
        let _ = stream.write_all(b"two");
        let after = stream.read(&mut buf);
        assert!(
            matches!(after, Ok(0) | Err(_)),
            "the open connection was reset: {after:?}"
        );
    }
}
