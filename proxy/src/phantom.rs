//! Phantom tokens: the browser's cookie holds an opaque access token; the
//! upstream gets a JWT the provider signed for it.
//!
//! The proxy introspects the opaque token (RFC 7662) as its own client and
//! asks for the signed response of RFC 9701 (`Accept:
//! application/token-introspection+jwt`). That JWT is what the upstream
//! receives as its bearer token: the provider signed it (`iss`), for the
//! gateway client (`aud`), with the token's claims under
//! `token_introspection` (`active`, `sub`, `scope`, `exp`, `client_id`). The
//! upstream checks it against the provider's JWKS as it would an access token
//! and needs no key of the proxy's: see `example-api/src/token.rs`.
//!
//! Results are cached by the SHA-256 of the opaque token, at most
//! `cache_max_secs` and never past the token's `exp`.

use crate::config::IntrospectionClient;
use crate::error::ForwardError;
use crate::phantom_cache::{PhantomCache, TokenHash, Verdict, hash};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use th_cookies::Secret;
use th_cookies::unix_now;
use tokio::sync::OnceCell;

/// The media type of an RFC 9701 introspection response.
pub const INTROSPECTION_JWT: &str = "application/token-introspection+jwt";

/// Introspects opaque tokens and caches the provider's JWTs.
pub(crate) struct Introspector {
    config: IntrospectionClient,
    client: reqwest::Client,
    endpoint: OnceCell<String>,
    cache: PhantomCache,
    max_age: Duration,
    /// How long an inactive verdict is kept.
    negative_age: Duration,
    /// One turn per token being introspected right now.
    inflight: Mutex<HashMap<TokenHash, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    introspection_endpoint: Option<String>,
}

#[derive(Deserialize)]
struct ResponseClaims {
    token_introspection: Introspection,
}

#[derive(Deserialize)]
struct Introspection {
    active: bool,
    exp: Option<i64>,
}

impl Introspector {
    /// An introspector for the parsed `[proxy.introspection]`.
    pub fn new(config: IntrospectionClient) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            endpoint: match &config.endpoint {
                Some(e) => OnceCell::new_with(Some(e.to_string())),
                None => OnceCell::new(),
            },
            cache: PhantomCache::new(config.cache_max_entries),
            max_age: config.cache_max_age,
            negative_age: config.negative_cache_age,
            inflight: Mutex::new(HashMap::new()),
            config,
            client,
        })
    }

    /// The JWT to forward for an opaque token, from the cache or the provider.
    ///
    /// Concurrent lookups of one token make one provider call: the first
    /// takes the token's turn, the others wait for it and read its answer
    /// from the cache. An inactive answer is cached too, briefly
    /// (`negative_cache_secs`), so a revoked or made-up token cannot make
    /// every request cost a provider call. Failures are not cached.
    pub async fn jwt_for(&self, token: &Secret) -> Result<Secret, ForwardError> {
        let key = hash(token);
        if let Some(verdict) = self.cache.get(&key, Instant::now()) {
            crate::metrics::introspection_cache(true);
            return verdict.into_result();
        }
        let turn = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
            inflight.entry(key).or_default().clone()
        };
        let result = {
            let _held = turn.lock().await;
            match self.cache.get(&key, Instant::now()) {
                Some(verdict) => {
                    crate::metrics::introspection_cache(true);
                    verdict.into_result()
                }
                None => {
                    crate::metrics::introspection_cache(false);
                    let started = Instant::now();
                    let span = th_http::call_span!("introspection");
                    let result =
                        tracing::Instrument::instrument(self.introspect(key, token), span).await;
                    let ok = !matches!(
                        result,
                        Err(ForwardError::ProviderUnavailable(_) | ForwardError::ProviderTimeout)
                    );
                    crate::metrics::introspection(started.elapsed(), ok);
                    result
                }
            }
        };
        let mut inflight = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map and this call hold the turn: nobody waits on it.
        if Arc::strong_count(&turn) == 2 {
            inflight.remove(&key);
        }
        result
    }

    /// Asks the provider, and caches its verdict.
    async fn introspect(&self, key: TokenHash, token: &Secret) -> Result<Secret, ForwardError> {
        let endpoint = self.endpoint().await?;
        let mut trace = reqwest::header::HeaderMap::new();
        th_http::telemetry::inject(&tracing::Span::current(), &mut trace);
        let response = self
            .client
            .post(endpoint)
            .headers(trace)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .header(reqwest::header::ACCEPT, INTROSPECTION_JWT)
            .form(&[
                ("token", token.expose()),
                ("token_type_hint", "access_token"),
            ])
            .send()
            .await
            .map_err(provider_error)?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(%status, "the introspection endpoint refused the request");
            return Err(ForwardError::ProviderUnavailable(format!(
                "the introspection endpoint answered {status}"
            )));
        }
        let is_jwt = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(INTROSPECTION_JWT));
        if !is_jwt {
            return Err(ForwardError::ProviderUnavailable(
                "the provider did not answer with an RFC 9701 JWT; enable JWT introspection responses for the introspection client".into(),
            ));
        }
        let jwt = response.text().await.map_err(provider_error)?;
        let claims = read_claims(&jwt).ok_or_else(|| {
            ForwardError::ProviderUnavailable("the introspection JWT is malformed".into())
        })?;
        let now_unix = unix_now();
        let now = Instant::now();
        let left = match claims.token_introspection {
            Introspection {
                active: true,
                exp: Some(exp),
            } if exp > now_unix => Duration::from_secs((exp - now_unix) as u64).min(self.max_age),
            Introspection {
                active: true,
                exp: None,
            } => self.max_age,
            _ => {
                self.cache
                    .insert(key, Verdict::Inactive, now + self.negative_age, now);
                return Err(ForwardError::Inactive);
            }
        };
        let jwt = Secret::new(jwt);
        self.cache
            .insert(key, Verdict::Active(jwt.clone()), now + left, now);
        Ok(jwt)
    }

    /// The introspection endpoint: configured, or from the provider's metadata.
    async fn endpoint(&self) -> Result<&str, ForwardError> {
        self.endpoint
            .get_or_try_init(|| self.discover())
            .await
            .map(String::as_str)
    }

    async fn discover(&self) -> Result<String, ForwardError> {
        let issuer = self.config.issuer.as_str().trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        let response = self.client.get(&url).send().await.map_err(provider_error)?;
        if !response.status().is_success() {
            return Err(ForwardError::ProviderUnavailable(format!(
                "the provider's metadata answered {}",
                response.status()
            )));
        }
        let metadata: Metadata = response.json().await.map_err(|_| {
            ForwardError::ProviderUnavailable("the provider's metadata is not valid JSON".into())
        })?;
        if metadata.issuer != self.config.issuer.as_str() {
            return Err(ForwardError::ProviderUnavailable(format!(
                "the provider's metadata names issuer {:?}, not the configured {:?}",
                metadata.issuer,
                self.config.issuer.as_str()
            )));
        }
        let endpoint = metadata.introspection_endpoint.ok_or_else(|| {
            ForwardError::ProviderUnavailable(
                "the provider advertises no introspection_endpoint".into(),
            )
        })?;
        tracing::info!(%endpoint, "discovered the introspection endpoint");
        Ok(endpoint)
    }
}

impl Verdict {
    fn into_result(self) -> Result<Secret, ForwardError> {
        match self {
            Verdict::Active(jwt) => Ok(jwt),
            Verdict::Inactive => Err(ForwardError::Inactive),
        }
    }
}

/// The payload of a JWT, not verified: it came straight from the provider
/// over the authenticated introspection call, and the upstream verifies it.
fn read_claims(jwt: &str) -> Option<ResponseClaims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn provider_error(e: reqwest::Error) -> ForwardError {
    if e.is_timeout() {
        tracing::warn!("token introspection timed out");
        ForwardError::ProviderTimeout
    } else {
        tracing::warn!(error = %e.without_url(), "token introspection failed");
        ForwardError::ProviderUnavailable("the provider could not be reached".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.sig",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn introspection_claims_are_read_from_the_payload() {
        let claims = read_claims(&jwt(
            r#"{"iss":"x","token_introspection":{"active":true,"exp":5}}"#,
        ))
        .unwrap();
        assert!(claims.token_introspection.active);
        assert_eq!(claims.token_introspection.exp, Some(5));
        assert!(read_claims("not-a-jwt").is_none());
    }
}
