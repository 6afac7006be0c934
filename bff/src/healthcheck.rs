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

/// The local health URL for a `listen` address; without one,
/// the port the server listens on by default.
pub fn default_url(listen: Option<&str>) -> String {
    let port = listen
        .and_then(|l| l.parse::<std::net::SocketAddr>().ok())
        .map_or(crate::configuration::DEFAULT_PORT, |a| a.port());
    format!("http://127.0.0.1:{port}/healthz")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_follows_the_listen_port() {
        assert_eq!(
            default_url(Some("0.0.0.0:9090")),
            "http://127.0.0.1:9090/healthz"
        );
        // Without TH_LISTEN, the server's own default port.
        let default = format!(
            "http://127.0.0.1:{}/healthz",
            crate::configuration::Settings::from_toml(
                "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"c\"\n\
                 client_secret = \"s\"\nredirect_uri = \"https://app.example/\""
            )
            .unwrap()
            .listen
            .port()
        );
        assert_eq!(default_url(None), default);
        assert_eq!(default_url(Some("nonsense")), default);
    }

    #[test]
    fn a_closed_port_is_unhealthy() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert!(probe(&format!("http://127.0.0.1:{port}/healthz")).is_err());
        assert!(matches!(
            probe("https://127.0.0.1/healthz"),
            Err(HealthcheckError::BadUrl)
        ));
    }
}
