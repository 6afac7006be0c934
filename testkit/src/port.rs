//! Free loopback ports for servers a test starts later, or for nothing at
//! all (a peer that refuses connections).

use std::net::TcpListener;

/// A loopback port nothing listens on: bound, read and let go. A server the
/// test starts next may take it; until then a connection there is refused,
/// which is how a test stands for a provider or upstream that is down.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
