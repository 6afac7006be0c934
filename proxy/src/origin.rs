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

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        let Ok(url) = Url::parse(&self.0) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
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
