//! The calls of the authorization-code flow, as a confidential client.

use super::OidcError;
use super::id_token::{self, NonceCheck};
use super::logout_token::{self, LogoutToken, LogoutTokenError};
use super::provider::{Provider, trace_headers, traced};
use crate::configuration::{OidcConfig, RedirectUris};
use crate::metrics::{Endpoint, provider_call};
use openidconnect::core::{CoreClient, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;
use th_cookies::Secret;
use tokio::sync::RwLock;
use url::Url;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider and the client built from its metadata.
struct Discovered {
    provider: Provider,
    client: Client,
}

/// The provider-facing half of the BFF. Discovery happens at start and, if
/// the provider was down then, again on the next request that needs it.
pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

/// Which kind of token a revocation is for (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy)]
pub enum TokenHint {
    Access,
    Refresh,
}

impl TokenHint {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access_token",
            Self::Refresh => "refresh_token",
        }
    }
}

/// What [`Oidc::start_login`] produced: the URL for the browser and the
/// secrets the login cookie keeps until the browser comes back.
#[derive(Debug)]
pub struct LoginRequest {
    pub authorization_url: String,
    pub state: Secret,
    pub nonce: Secret,
    pub pkce_verifier: Secret,
}

/// Tokens from the token endpoint, the ID token validated.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: Secret,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub id_claims: Option<Map<String, Value>>,
}

impl Oidc {
    /// A client for the configured provider; nothing is fetched yet.
    pub fn new(config: OidcConfig) -> Self {
        let http = reqwest::Client::builder()
            // Following redirects from a token endpoint invites SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            // Well below the shortest idle timeout a provider's server
            // commonly keeps (Node's 5 s): a pooled connection idle for
            // longer may be closing at the far end just as a request is
            // written on it, which fails that request (a 502 in the storm
            // test, and with 4 s in a soak on a starved machine, where the
            // pool learns late how long a connection has been idle).
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("the TLS backend initialises");
        Self {
            config,
            http,
            discovered: RwLock::new(None),
        }
    }

    /// Whether the provider's metadata is loaded.
    pub async fn is_ready(&self) -> bool {
        self.discovered.read().await.is_some()
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, OidcError> {
        if let Some(d) = self.discovered.read().await.as_ref() {
            return Ok(d.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(d) = slot.as_ref() {
            return Ok(d.clone());
        }
        let provider = provider_call(
            Endpoint::Discovery,
            Provider::discover(self.config.issuer.as_str(), &self.http),
        )
        .await?;
        let redirect = RedirectUrl::from_url(self.config.redirect_uris.primary.clone());
        let client = CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose().to_owned(),
            )),
        )
        .set_redirect_uri(redirect);
        let d = Arc::new(Discovered { provider, client });
        *slot = Some(d.clone());
        tracing::info!(issuer = %self.config.issuer, "loaded the provider's metadata");
        Ok(d)
    }

    /// Loads the metadata now; used at start so `/readyz` turns green early.
    pub async fn warm_up(&self) -> Result<(), OidcError> {
        self.discovered().await.map(|_| ())
    }

    /// Whether the provider sends `iss` with the authorization response (RFC 9207).
    pub async fn sends_iss(&self) -> Result<bool, OidcError> {
        Ok(self
            .discovered()
            .await?
            .provider
            .extra()
            .authorization_response_iss_parameter_supported)
    }

    /// The issuer, exactly as configured.
    pub fn issuer(&self) -> &str {
        self.config.issuer.as_str()
    }

    /// The registered redirect URIs (the SPA's URLs).
    pub fn redirect_uris(&self) -> &RedirectUris {
        &self.config.redirect_uris
    }

    /// The redirect URI for a login started from `origin`: the one on that
    /// origin, else the primary.
    pub fn redirect_uri_for(&self, origin: Option<&str>) -> &Url {
        let uris = &self.config.redirect_uris;
        origin
            .and_then(|o| uris.iter().find(|u| u.origin().ascii_serialization() == o))
            .unwrap_or(&uris.primary)
    }

    /// Where the provider sends the browser after a logout from `origin`:
    /// that app's own URL when it is an extra redirect URI's origin, else
    /// `post_logout_redirect_uri`.
    pub fn post_logout_uri_for(&self, origin: Option<&str>) -> Option<&Url> {
        let uris = &self.config.redirect_uris;
        origin
            .and_then(|o| {
                uris.extra
                    .iter()
                    .find(|u| u.origin().ascii_serialization() == o)
            })
            .or(self.config.post_logout_redirect_uri.as_ref())
    }

    /// Builds the authorization request: PKCE S256, a random `state` and
    /// `nonce`, pushed first (PAR) when configured and advertised.
    pub async fn start_login(&self, redirect: &Url) -> Result<LoginRequest, OidcError> {
        let d = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = d
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect.clone())))
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        for (name, value) in &self.config.extra_authorize_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let (url, state, nonce) = request.url();
        let url = match (
            self.config.use_par,
            &d.provider.extra().pushed_authorization_request_endpoint,
        ) {
            (true, Some(par)) => self.push(&d, par, &url).await?,
            (true, None) => {
                tracing::warn!("oidc.use_par is set but the provider does not advertise PAR");
                url
            }
            _ => url,
        };
        Ok(LoginRequest {
            authorization_url: url.to_string(),
            state: Secret::new(state.secret().clone()),
            nonce: Secret::new(nonce.secret().clone()),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        })
    }

    /// RFC 9126: posts the request's parameters, answers the short URL.
    async fn push(&self, d: &Discovered, endpoint: &str, url: &Url) -> Result<Url, OidcError> {
        #[derive(serde::Deserialize)]
        struct Pushed {
            request_uri: String,
        }
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let pushed: Pushed = provider_call(Endpoint::Par, async {
            let response = self
                .authenticated_post(endpoint)
                .form(&params)
                .send()
                .await
                .map_err(|e| OidcError::from_reqwest(&e))?;
            if !response.status().is_success() {
                return Err(OidcError::Unavailable(format!(
                    "its PAR endpoint answered HTTP {}",
                    response.status().as_u16()
                )));
            }
            response
                .json()
                .await
                .map_err(|_| OidcError::Unavailable("its PAR response is not valid JSON".into()))
        })
        .await?;
        let mut short = d.provider.metadata.authorization_endpoint().url().clone();
        short
            .query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("request_uri", &pushed.request_uri);
        Ok(short)
    }

    /// Exchanges the code and validates the ID token against `nonce`.
    pub async fn finish_login(
        &self,
        code: &str,
        pkce_verifier: &Secret,
        nonce: &Secret,
        redirect: &Url,
    ) -> Result<TokenSet, OidcError> {
        let d = self.discovered().await?;
        let request = d
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| OidcError::Unsupported("token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose().to_owned()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect.clone())));
        let response = provider_call(Endpoint::Token, async {
            request
                .request_async(&traced(&self.http))
                .await
                .map_err(OidcError::from_token_error)
        })
        .await?;
        let tokens = self
            .token_set(&d, &response, NonceCheck::Equals(nonce.expose()))
            .await?;
        if tokens.id_token.is_none() {
            return Err(OidcError::InvalidIdToken(
                "the token response has no ID token".into(),
            ));
        }
        Ok(tokens)
    }

    /// Uses a refresh token; the answer may carry a rotated one.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, OidcError> {
        let d = self.discovered().await?;
        let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
        let request = d
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|_| OidcError::Unsupported("token endpoint"))?;
        let response = provider_call(Endpoint::Token, async {
            request
                .request_async(&traced(&self.http))
                .await
                .map_err(OidcError::from_token_error)
        })
        .await?;
        self.token_set(&d, &response, NonceCheck::Any).await
    }

    async fn token_set(
        &self,
        d: &Discovered,
        response: &openidconnect::core::CoreTokenResponse,
        nonce: NonceCheck<'_>,
    ) -> Result<TokenSet, OidcError> {
        let id_token = response.id_token().map(|t| t.to_string());
        let id_claims = match &id_token {
            Some(raw) => Some(
                id_token::validate(
                    raw,
                    &d.provider,
                    &self.http,
                    &self.config.client_id,
                    self.config.issuer.as_str(),
                    nonce,
                )
                .await?,
            ),
            None => None,
        };
        Ok(TokenSet {
            access_token: Secret::new(response.access_token().secret().clone()),
            expires_in: response.expires_in().map(|d| d.as_secs()),
            refresh_token: response
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            id_token: id_token.map(Secret::new),
            id_claims,
        })
    }

    /// Revokes a token (RFC 7009) when the provider has an endpoint;
    /// `Ok(false)` when it has none. `hint` is `refresh_token` or `access_token`.
    ///
    /// A plain form POST rather than `oauth2`'s `revoke_token`, which refuses
    /// a non-https endpoint and so every local development provider.
    pub async fn revoke(&self, token: &Secret, hint: TokenHint) -> Result<bool, OidcError> {
        let d = self.discovered().await?;
        let Some(endpoint) = &d.provider.extra().revocation_endpoint else {
            return Ok(false);
        };
        provider_call(Endpoint::Revocation, async {
            let response = self
                .authenticated_post(endpoint)
                .form(&[
                    ("token", token.expose()),
                    ("token_type_hint", hint.as_str()),
                ])
                .send()
                .await
                .map_err(|e| OidcError::from_reqwest(&e))?;
            if response.status().is_success() {
                Ok(true)
            } else {
                Err(OidcError::Unavailable(format!(
                    "its revocation endpoint answered HTTP {}",
                    response.status().as_u16()
                )))
            }
        })
        .await
    }

    /// Calls the userinfo endpoint. `Ok(None)` when the provider refused the
    /// access token (401), so the SPA can refresh and retry.
    pub async fn userinfo(&self, access_token: &Secret) -> Result<Option<Value>, OidcError> {
        let d = self.discovered().await?;
        let endpoint = d
            .provider
            .metadata
            .userinfo_endpoint()
            .ok_or(OidcError::Unsupported("userinfo endpoint"))?;
        provider_call(Endpoint::Userinfo, async {
            let response = self
                .http
                .get(endpoint.url().clone())
                .bearer_auth(access_token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .headers(trace_headers())
                .send()
                .await
                .map_err(|e| OidcError::from_reqwest(&e))?;
            match response.status().as_u16() {
                200 => response
                    .json()
                    .await
                    .map(Some)
                    .map_err(|_| OidcError::Unavailable("its userinfo is not JSON".into())),
                401 => Ok(None),
                status => Err(OidcError::Unavailable(format!(
                    "userinfo answered HTTP {status}"
                ))),
            }
        })
        .await
    }

    /// Validates a back-channel logout token from the provider.
    pub async fn logout_token(&self, raw: &str, now: i64) -> Result<LogoutToken, LogoutTokenError> {
        let d = self
            .discovered()
            .await
            .map_err(|_| LogoutTokenError::Provider)?;
        logout_token::validate(
            raw,
            &d.provider,
            &self.http,
            &self.config.client_id,
            self.config.issuer.as_str(),
            now,
        )
        .await
    }

    /// The provider's end-session URL for RP-initiated logout, if it has one.
    pub async fn logout_url(
        &self,
        id_token: Option<&Secret>,
        post_logout: Option<&Url>,
    ) -> Result<Option<String>, OidcError> {
        let d = self.discovered().await?;
        let Some(endpoint) = &d.provider.extra().end_session_endpoint else {
            return Ok(None);
        };
        let Ok(mut url) = Url::parse(endpoint) else {
            return Ok(None);
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("client_id", &self.config.client_id);
            if let Some(hint) = id_token {
                query.append_pair("id_token_hint", hint.expose());
            }
            if let Some(after) = post_logout {
                query.append_pair("post_logout_redirect_uri", after.as_str());
            }
        }
        Ok(Some(url.to_string()))
    }
}

impl Oidc {
    /// A POST that authenticates this client with `client_secret_basic`.
    fn authenticated_post(&self, endpoint: &str) -> reqwest::RequestBuilder {
        self.http
            .post(endpoint)
            .headers(trace_headers())
            .basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(self.config.client_secret.expose())),
            )
    }
}

/// `application/x-www-form-urlencoded` for client credentials in Basic auth (RFC 6749 §2.3.1).
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
