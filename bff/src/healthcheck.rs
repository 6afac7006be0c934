//! `bff healthcheck`: a container's health probe without curl. Plain HTTP/1.0
//! over a TCP socket to the local server; exit 0 on a 2xx.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why the probe failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthcheckError {
    #[error("the URL must be http://host:port/path")]
    BadUrl,
    #[error("could not reach the server: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server answered {0:?}")]
    Unhealthy(String),
}

/// Probes `url` (e.g. `http://127.0.0.1:8080/healthz`).
pub fn probe(url: &str) -> Result<(), HealthcheckError> {
    let parsed = url::Url::parse(url).map_err(|_| HealthcheckError::BadUrl)?;
    if parsed.scheme() != "http" {
        return Err(HealthcheckError::BadUrl);
    }
    let host = parsed.host_str().ok_or(HealthcheckError::BadUrl)?;
    let port = parsed
        .port_or_known_default()
        .ok_or(HealthcheckError::BadUrl)?;
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or(HealthcheckError::BadUrl)?;
    let timeout = Duration::from_secs(3);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.0\r\nHost: {host}\r\n\r\n",
        parsed.path()
    )?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status_line = status_line.lines().next().unwrap_or_default().to_owned();
    let ok = status_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code.starts_with('2'));
    if ok {
        Ok(())
    } else {
        Err(HealthcheckError::Unhealthy(status_line))
    }
}
