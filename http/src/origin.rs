//! A web origin (`scheme://host[:port]`), parsed once.

use std::fmt;
use url::Url;

/// An origin as browsers send it in the `Origin` header: lower-case scheme
/// and host, the port only when it is not the scheme's default, no path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

/// Why a string is not an origin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OriginError {
    #[error(
        "{0:?} is not an origin: expected scheme://host[:port] with no path, e.g. https://app.example.com"
    )]
    NotAnOrigin(String),
}

impl Origin {
    /// Parses `https://app.example.com` (a trailing `/` is tolerated).
    pub fn parse(raw: &str) -> Result<Self, OriginError> {
        let bad = || OriginError::NotAnOrigin(raw.to_owned());
        let url = Url::parse(raw).map_err(|_| bad())?;
        let plain = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none();
        if !plain {
            return Err(bad());
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    /// The serialized origin, as in an `Origin` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Host` header values a browser sends for this origin: `host`
    /// with the port when it is not the scheme's default, and, because a
    /// proxy may spell it out, `host:default-port` too. Lower-case.
    pub fn host_header_values(&self) -> Vec<String> {
        let Ok(url) = Url::parse(&self.0) else {
            return Vec::new();
        };
        let Some(host) = url.host_str() else {
            return Vec::new();
        };
        match (url.port(), url.port_or_known_default()) {
            (Some(port), _) => vec![format!("{host}:{port}")],
            (None, Some(default)) => vec![host.to_owned(), format!("{host}:{default}")],
            (None, None) => vec![host.to_owned()],
        }
    }

    /// The scheme, `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(scheme, _)| scheme)
    }

    /// `host[:port]`, as in the origin.
    pub fn authority(&self) -> &str {
        self.0
            .split_once("://")
            .map_or("", |(_, authority)| authority)
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        Url::parse(&self.0).is_ok_and(|url| is_loopback_url(&url))
    }
}

/// Whether a URL's host is a loopback address or `localhost`: the only
/// place plain `http://` is acceptable for a provider or an origin.
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            Origin::parse("HTTPS://App.Example.com:443/")
                .unwrap()
                .as_str(),
            "https://app.example.com"
        );
        assert_eq!(
            Origin::parse("http://localhost:8080").unwrap().as_str(),
            "http://localhost:8080"
        );
    }

    #[test]
    fn non_origins_are_refused() {
        for bad in [
            "app.example.com",
            "https://a.example/path",
            "ftp://a.example",
            "null",
            "https://u:p@a.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_header_values_carry_the_port_only_when_it_is_not_the_default() {
        let app = Origin::parse("https://App.Example.com").unwrap();
        assert_eq!(
            app.host_header_values(),
            ["app.example.com", "app.example.com:443"]
        );
        assert_eq!(app.scheme(), "https");
        assert_eq!(app.authority(), "app.example.com");
        let dev = Origin::parse("http://localhost:8080").unwrap();
        assert_eq!(dev.host_header_values(), ["localhost:8080"]);
        let v6 = Origin::parse("http://[::1]:8080").unwrap();
        assert_eq!(v6.host_header_values(), ["[::1]:8080"]);
    }

    #[test]
    fn loopback_is_recognised() {
        assert!(
            Origin::parse("http://127.0.0.1:8080")
                .unwrap()
                .is_loopback()
        );
        assert!(Origin::parse("http://localhost").unwrap().is_loopback());
        assert!(
            !Origin::parse("https://app.example.com")
                .unwrap()
                .is_loopback()
        );
    }
}
