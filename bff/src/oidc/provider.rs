//! Discovery: the provider's metadata and signing keys.

use super::OidcError;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AsyncHttpClient, DiscoveryError, HttpClientError, HttpRequest,
    IssuerUrl, ProviderMetadata,
};
use serde::{Deserialize, Serialize};
use std::sync::RwLock;

/// Metadata fields `openidconnect` does not model but this flow uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RP-initiated logout.
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// RFC 7009.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// RFC 9126 (PAR).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// RFC 9207: the provider sends `iss` with the authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// The provider's metadata, with [`ExtraMetadata`].
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A discovered provider: its metadata and its current signing keys.
#[derive(Debug)]
pub struct Provider {
    pub metadata: Metadata,
    jwks: RwLock<CoreJsonWebKeySet>,
    /// When the keys were last fetched again for an unknown key.
    refetched_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// The least time between two fetches of the JWKS for tokens naming keys
/// we do not know: the back-channel endpoint is public, and a forged token
/// with a made-up `kid` must not make the BFF call the provider each time.
const JWKS_REFETCH_COOLDOWN: std::time::Duration = std::time::Duration::from_secs(10);

impl Provider {
    /// Fetches `<issuer>/.well-known/openid-configuration` and the JWKS;
    /// `openidconnect` checks that the metadata's issuer is exactly ours.
    pub async fn discover(issuer: &str, http: &reqwest::Client) -> Result<Self, OidcError> {
        let issuer = IssuerUrl::new(issuer.to_owned())
            .map_err(|_| OidcError::Unavailable("the issuer is not a URL".into()))?;
        let metadata = Metadata::discover_async(issuer, &traced(http))
            .await
            .map_err(discovery_error)?;
        let jwks = metadata.jwks().clone();
        Ok(Self {
            metadata,
            jwks: RwLock::new(jwks),
            refetched_at: std::sync::Mutex::new(None),
        })
    }

    /// The signing keys last fetched.
    pub fn jwks(&self) -> CoreJsonWebKeySet {
        self.jwks.read().expect("jwks lock").clone()
    }

    /// Runs `verify` against the keys; when it finds no key for the token
    /// (`no_key`), fetches the JWKS again, since the provider may have
    /// rotated its keys, and runs it once more. The outer error is the
    /// fetch's. Fetches at most once per [`JWKS_REFETCH_COOLDOWN`].
    pub async fn verify_with_fresh_keys<T, E>(
        &self,
        http: &reqwest::Client,
        verify: impl Fn() -> Result<T, E>,
        no_key: impl Fn(&E) -> bool,
    ) -> Result<Result<T, E>, OidcError> {
        match verify() {
            Err(e) if no_key(&e) => {
                if self.refetch_allowed() {
                    self.refetch_jwks(http).await?;
                    Ok(verify())
                } else {
                    Ok(Err(e))
                }
            }
            other => Ok(other),
        }
    }

    fn refetch_allowed(&self) -> bool {
        let mut last = self.refetched_at.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < JWKS_REFETCH_COOLDOWN) {
            return false;
        }
        *last = Some(now);
        true
    }

    async fn refetch_jwks(&self, http: &reqwest::Client) -> Result<(), OidcError> {
        let fresh = crate::metrics::provider_call(crate::metrics::Endpoint::Jwks, async {
            CoreJsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &traced(http))
                .await
                .map_err(discovery_error)
        })
        .await?;
        *self.jwks.write().expect("jwks lock") = fresh;
        Ok(())
    }

    /// The additional metadata.
    pub fn extra(&self) -> &ExtraMetadata {
        self.metadata.additional_metadata()
    }
}

/// `http`, sending the current span's `traceparent` with every request
/// (when traces are on): the provider's calls continue the request's trace.
pub(crate) fn traced<'c>(
    http: &'c reqwest::Client,
) -> impl Fn(HttpRequest) -> <reqwest::Client as AsyncHttpClient<'c>>::Future + 'c {
    move |mut request: HttpRequest| {
        th_http::telemetry::inject(&tracing::Span::current(), request.headers_mut());
        http.call(request)
    }
}

/// The current span's `traceparent`, for a request built with reqwest.
pub(crate) fn trace_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    th_http::telemetry::inject(&tracing::Span::current(), &mut headers);
    headers
}

fn discovery_error(err: DiscoveryError<HttpClientError<reqwest::Error>>) -> OidcError {
    match err {
        DiscoveryError::Request(HttpClientError::Reqwest(e)) => OidcError::from_reqwest(&e),
        DiscoveryError::Response(status, _, _) => {
            OidcError::Unavailable(format!("discovery answered HTTP {status}"))
        }
        DiscoveryError::Parse(_) => OidcError::Unavailable("its metadata is not valid JSON".into()),
        DiscoveryError::Validation(msg) => {
            OidcError::Unavailable(format!("its metadata is invalid: {msg}"))
        }
        _ => OidcError::Unavailable("discovery failed".into()),
    }
}
