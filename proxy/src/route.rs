//! A configured route, parsed once: which requests it takes and where they go.

use crate::config::{RouteConfig, TokenMode};
use crate::error::ForwardError;
use crate::path::{self, PathError};
use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use std::time::Duration;
use th_http::settings::SettingsError;

/// A route ready to forward: the prefix, the upstream's base, the limits.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub prefix: String,
    /// The upstream's scheme and `host[:port]`, parsed once, and its base
    /// path without the trailing `/`.
    upstream_scheme: Scheme,
    upstream_authority: Authority,
    upstream_path: String,
    strip_prefix: bool,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub token_mode: TokenMode,
    pub pass_cookies: Vec<String>,
}

impl Route {
    /// Parses a route's configuration, once; `at` names it in errors.
    pub fn parse(config: &RouteConfig, at: &str) -> Result<Self, SettingsError> {
        config.check(at)?;
        let url = config.upstream_url(at)?;
        let origin = url.origin().ascii_serialization();
        let parts = origin
            .parse::<Uri>()
            .map_err(|e| {
                SettingsError::new(
                    format!("{at}.upstream"),
                    format!("{origin:?} is not a valid URI: {e}"),
                )
            })?
            .into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(SettingsError::new(
                format!("{at}.upstream"),
                "must be an http:// or https:// URL with a host",
            ));
        };
        Ok(Self {
            prefix: config.prefix.clone(),
            upstream_scheme: scheme,
            upstream_authority: authority,
            upstream_path: url.path().trim_end_matches('/').to_owned(),
            strip_prefix: config.strip_prefix,
            timeout: Duration::from_secs(config.timeout_secs),
            max_body_bytes: config.max_body_bytes,
            token_mode: config.token_mode,
            pass_cookies: config.pass_cookies.clone(),
        })
    }

    /// The upstream's origin, `scheme://host[:port]`, where its connections go.
    pub fn origin(&self) -> Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.upstream_scheme.clone());
        parts.authority = Some(self.upstream_authority.clone());
        parts.path_and_query = Some(PathAndQuery::from_static("/"));
        Uri::from_parts(parts).expect("a scheme and an authority make a URI")
    }

    /// The `Host` header for the upstream.
    pub fn host(&self) -> &Authority {
        &self.upstream_authority
    }

    /// The upstream URL for a request's raw (still percent-encoded) path
    /// and query (see [`Self::target_path`]).
    #[cfg(test)]
    pub fn target(&self, raw_path: &str, query: Option<&str>) -> Result<Uri, ForwardError> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.upstream_scheme.clone());
        parts.authority = Some(self.upstream_authority.clone());
        parts.path_and_query = Some(self.target_path(raw_path, query)?);
        Uri::from_parts(parts).map_err(|_| ForwardError::BadPath("the path is not a valid URI"))
    }

    /// The upstream path and query for a request's raw (still
    /// percent-encoded) path and query: the path decoded once, checked and
    /// re-encoded (`path.rs`), the query as it came.
    pub fn target_path(
        &self,
        raw_path: &str,
        query: Option<&str>,
    ) -> Result<PathAndQuery, ForwardError> {
        let decoded = path::decode_checked(raw_path)?;
        let rest = if self.strip_prefix {
            path::rest_after(&decoded, &self.prefix).ok_or(PathError::OutsideRoute)?
        } else {
            path::encode(&decoded)
        };
        let mut url = String::with_capacity(
            self.upstream_path.len() + rest.len() + 1 + query.map_or(0, |q| q.len() + 1),
        );
        url.push_str(&self.upstream_path);
        if !rest.starts_with('/') {
            url.push('/');
        }
        url.push_str(&rest);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        PathAndQuery::try_from(url)
            .map_err(|_| ForwardError::BadPath("the path is not a valid URI"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(upstream: &str, strip: bool) -> Route {
        let mut config = RouteConfig::new("/api/example", upstream);
        config.strip_prefix = strip;
        Route::parse(&config, "r").unwrap()
    }

    #[test]
    fn prefix_is_stripped_and_the_base_path_kept() {
        let r = route("http://up:9000/v1/", true);
        assert_eq!(
            r.target("/api/example/users/1", Some("a=b%20c"))
                .unwrap()
                .to_string(),
            "http://up:9000/v1/users/1?a=b%20c"
        );
        assert_eq!(
            r.target("/api/example", None).unwrap().to_string(),
            "http://up:9000/v1/"
        );
    }

    #[test]
    fn prefix_is_kept_when_asked() {
        let r = route("http://up:9000", false);
        assert_eq!(
            r.target("/api/example/x", None).unwrap().to_string(),
            "http://up:9000/api/example/x"
        );
    }

    #[test]
    fn dot_segments_are_refused() {
        let r = route("http://up:9000/v1", true);
        for path in [
            "/api/example/../admin",
            "/api/example/%2e%2E/admin",
            "/api/example/./x",
            "/api/example/..;/admin",
            "/api/example/..%5cadmin",
            "/api/example/..%2fadmin",
            "/api/example/%252e%252e/admin",
        ] {
            assert!(r.target(path, None).is_err(), "{path}");
        }
        assert!(r.target("/api/example/a..b", None).is_ok());
    }

    #[test]
    fn an_encoded_spelling_of_the_prefix_forwards_the_canonical_rest() {
        let r = route("http://up:9000/v1", true);
        assert_eq!(
            r.target("/%61pi/ex%61mple/users/%31", Some("q=%2e"))
                .unwrap()
                .to_string(),
            "http://up:9000/v1/users/1?q=%2e"
        );
        let kept = route("http://up:9000", false);
        assert_eq!(
            kept.target("/%61pi/example/x", None).unwrap().to_string(),
            "http://up:9000/api/example/x"
        );
    }
}
