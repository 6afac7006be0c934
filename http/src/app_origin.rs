//! Which app a request was sent to, and which `Origin` may therefore call.
//!
//! One server serves every app host (the deployment's `wasm_clients`), and
//! sibling hosts are same-site, so `SameSite=Strict` does not stop a script
//! on `app.example.com` from sending `admin.example.com`'s cookies. The rule
//! is therefore per host: a request's `Origin` is accepted only when it is
//! the origin of the app host the request was sent to. That host comes from
//! the configured header (`Host`, or the `X-Forwarded-Host` a trusted proxy
//! sets), matched against the configured app origins; a host that is not an
//! app's matches nothing. Cross-origin callers (`trunk serve` on another
//! port) are a separate, explicit list.

use crate::origin::Origin;
use crate::settings::SettingsError;
use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::{HttpMessage, HttpRequest};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The `[cors]` section, shared by the BFF and the standalone proxy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsSettings {
    /// The app origins, e.g. `https://app.example.com`: one per app host.
    /// A request sent to an app's host may carry that app's `Origin`, no other.
    pub allowed_origins: Vec<String>,
    /// Origins that may call from another origin, with credentialed CORS:
    /// only for a development set-up such as `trunk serve` on another port.
    /// Empty (the default): no CORS header is ever sent.
    pub cross_origin: Vec<String>,
}

/// The `[forwarded]` section: what the proxies in front of this server set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardedSettings {
    /// How many reverse proxies in front of this server append to
    /// `X-Forwarded-For` (CloudFront and the load balancer: 2). Entries
    /// left of those are the client's own words and are dropped.
    pub trusted_hops: usize,
    /// The header that names the host the browser called: `host`, or
    /// `x-forwarded-host` when a trusted proxy in front sets it (and
    /// overwrites what a client sent).
    pub host_header: String,
    /// Headers the proxies in front add for this server alone (CloudFront's
    /// secret for the load balancer): never forwarded to an upstream.
    pub private_headers: Vec<String>,
}

impl Default for ForwardedSettings {
    fn default() -> Self {
        Self {
            trusted_hops: 0,
            host_header: "host".to_owned(),
            private_headers: vec!["x-origin-verify".to_owned()],
        }
    }
}

/// The app a request was sent to and how far its forwarding headers are
/// trusted; the origin guard puts it in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The app origin whose host the request was sent to, if any.
    pub app: Option<Arc<Origin>>,
    /// `forwarded.trusted_hops`.
    pub trusted_hops: usize,
    /// `forwarded.private_headers`, never passed to an upstream.
    pub private_headers: Arc<[HeaderName]>,
}

impl RequestContext {
    /// The context the guard recorded for `req` (none: no app, no trusted hop).
    pub fn of(req: &HttpRequest) -> Self {
        req.extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self {
                app: None,
                trusted_hops: 0,
                private_headers: Arc::from(Vec::new()),
            })
    }
}

/// The `[forwarded]` settings, parsed.
#[derive(Debug, Clone)]
pub struct Forwarding {
    pub host_header: HeaderName,
    pub trusted_hops: usize,
    pub private_headers: Vec<HeaderName>,
}

/// The app origins by host, and the explicit cross-origin callers.
#[derive(Debug, Clone)]
pub struct AppOrigins(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    apps: Vec<Arc<Origin>>,
    by_host: HashMap<String, Arc<Origin>>,
    cross_origin: Vec<Origin>,
    host_header: HeaderName,
    trusted_hops: usize,
    private_headers: Arc<[HeaderName]>,
}

impl AppOrigins {
    /// Parses and checks the two sections.
    pub fn from_settings(
        cors: &CorsSettings,
        forwarded: &ForwardedSettings,
    ) -> Result<Self, SettingsError> {
        let parse_all = |setting: &str, raw: &[String]| -> Result<Vec<Origin>, SettingsError> {
            raw.iter()
                .map(|o| Origin::parse(o).map_err(|e| SettingsError::new(setting, e.to_string())))
                .collect()
        };
        let apps = parse_all("cors.allowed_origins", &cors.allowed_origins)?;
        let cross = parse_all("cors.cross_origin", &cors.cross_origin)?;
        let header_name = |setting: &str, raw: &str| {
            HeaderName::from_bytes(raw.trim().as_bytes())
                .map_err(|_| SettingsError::new(setting, format!("{raw:?} is not a header name")))
        };
        let host_header = header_name("forwarded.host_header", &forwarded.host_header)?;
        if forwarded.trusted_hops > 8 {
            return Err(SettingsError::new(
                "forwarded.trusted_hops",
                format!(
                    "{} is more than the 8 proxies a deployment plausibly has",
                    forwarded.trusted_hops
                ),
            ));
        }
        let private = forwarded
            .private_headers
            .iter()
            .map(|h| header_name("forwarded.private_headers", h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(
            &apps,
            &cross,
            Forwarding {
                host_header,
                trusted_hops: forwarded.trusted_hops,
                private_headers: private,
            },
        ))
    }

    /// The rules for these app origins and cross-origin callers.
    pub fn new(apps: &[Origin], cross_origin: &[Origin], forwarding: Forwarding) -> Self {
        let apps: Vec<Arc<Origin>> = apps.iter().cloned().map(Arc::new).collect();
        let mut by_host = HashMap::new();
        for app in &apps {
            for host in app.host_header_values() {
                by_host.entry(host).or_insert_with(|| app.clone());
            }
        }
        Self(Arc::new(Inner {
            apps,
            by_host,
            cross_origin: cross_origin.to_vec(),
            host_header: forwarding.host_header,
            trusted_hops: forwarding.trusted_hops,
            private_headers: forwarding.private_headers.into(),
        }))
    }

    /// The app origins, in configuration order.
    pub fn apps(&self) -> impl Iterator<Item = &Origin> {
        self.0.apps.iter().map(|a| a.as_ref())
    }

    /// The explicit cross-origin callers.
    pub fn cross_origin(&self) -> &[Origin] {
        &self.0.cross_origin
    }

    /// Whether every app origin and cross-origin caller is loopback: the
    /// only set-up in which cookies may go without `Secure`.
    pub fn all_loopback(&self) -> bool {
        self.apps()
            .chain(self.cross_origin())
            .all(Origin::is_loopback)
    }

    /// What the guard records for a request sent to `app`.
    pub fn context(&self, app: Option<Arc<Origin>>) -> RequestContext {
        RequestContext {
            app,
            trusted_hops: self.0.trusted_hops,
            private_headers: self.0.private_headers.clone(),
        }
    }

    /// The app whose host the request names in the configured header. Two
    /// values of that header, or an unknown host, name no app.
    pub fn app_for(&self, headers: &HeaderMap) -> Option<&Arc<Origin>> {
        let mut values = headers.get_all(&self.0.host_header);
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let host = value.to_str().ok()?.trim();
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.0.by_host.get(&host.to_ascii_lowercase());
        }
        self.0.by_host.get(host)
    }

    /// Whether a request sent to `app` may carry `origin`: the app's own
    /// origin, or an explicit cross-origin caller.
    pub fn allows(&self, app: Option<&Origin>, origin: &str) -> bool {
        app.is_some_and(|a| a.as_str() == origin)
            || self.0.cross_origin.iter().any(|o| o.as_str() == origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn rules(host_header: &str) -> AppOrigins {
        AppOrigins::from_settings(
            &CorsSettings {
                allowed_origins: vec![
                    "https://app.example.com".into(),
                    "https://admin.example.com".into(),
                ],
                cross_origin: vec!["http://localhost:8080".into()],
            },
            &ForwardedSettings {
                host_header: host_header.into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn the_host_names_the_app_in_any_case_and_with_the_default_port() {
        let rules = rules("host");
        for host in [
            "admin.example.com",
            "ADMIN.Example.com",
            "admin.example.com:443",
        ] {
            let mut map = HeaderMap::new();
            map.insert(
                HeaderName::from_static("host"),
                HeaderValue::from_str(host).unwrap(),
            );
            assert_eq!(
                rules.app_for(&map).map(|o| o.as_str()),
                Some("https://admin.example.com"),
                "{host}"
            );
        }
    }

    #[test]
    fn an_unknown_or_repeated_host_names_no_app() {
        let rules = rules("host");
        for map in [
            headers(&[("host", "evil.example.com")]),
            headers(&[("host", "app.example.com:8443")]),
            headers(&[("host", "app.example.com"), ("host", "admin.example.com")]),
            headers(&[]),
        ] {
            assert!(rules.app_for(&map).is_none(), "{map:?}");
        }
    }

    #[test]
    fn only_the_configured_header_names_the_app() {
        let rules = rules("x-forwarded-host");
        let map = headers(&[("host", "app.example.com")]);
        assert!(rules.app_for(&map).is_none());
        let map = headers(&[
            ("host", "bff.internal"),
            ("x-forwarded-host", "app.example.com"),
        ]);
        assert_eq!(
            rules.app_for(&map).map(|o| o.as_str()),
            Some("https://app.example.com")
        );
    }

    #[test]
    fn an_app_accepts_only_its_own_origin_and_the_cross_origin_list() {
        let rules = rules("host");
        let app = Origin::parse("https://app.example.com").unwrap();
        assert!(rules.allows(Some(&app), "https://app.example.com"));
        assert!(!rules.allows(Some(&app), "https://admin.example.com"));
        assert!(!rules.allows(None, "https://app.example.com"));
        assert!(rules.allows(None, "http://localhost:8080"));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = AppOrigins::from_settings(
            &CorsSettings::default(),
            &ForwardedSettings {
                host_header: "x forwarded".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("forwarded.host_header"),
            "{err}"
        );
    }
}
