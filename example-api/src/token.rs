//! Bearer-token validation against the provider's JWKS.
//!
//! Two kinds of JWT are accepted, told apart by their `typ` header:
//!
//! * `at+jwt` (RFC 9068): an access token the provider issued for this API.
//!   Checked: signature, `iss`, `aud` = this API's audience, `exp`.
//! * `token-introspection+jwt` (RFC 9701): what the proxy forwards in
//!   phantom-token mode. The provider signed it for the gateway's
//!   introspection client, so `aud` must be that client (the one gateway this
//!   API trusts), and it has no `exp` of its own (RFC 9701 §5 advises against
//!   one). The access token's own claims sit under `token_introspection`:
//!   it must be `active`, its `iss` (when present) the provider, and its
//!   `exp` in the future.
//!
//! Any other `typ` (an ID token, a logout token) is refused: a JWT that the
//! provider signed for another purpose is not an access token.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Who called, from a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub scopes: Vec<String>,
    pub client_id: Option<String>,
    /// `at+jwt` or `token-introspection+jwt`.
    pub token_type: &'static str,
}

/// Why a token is refused. The messages name the check, never the token.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is not a JWT this API accepts: {0}")]
    Malformed(&'static str),
    #[error("the token's type {0:?} is not an access token")]
    WrongType(String),
    #[error("the token is not signed with a key of the provider")]
    UnknownKey,
    #[error("the token failed validation: {0}")]
    Invalid(String),
    #[error("the token is not active")]
    Inactive,
    #[error("the provider's keys could not be loaded: {0}")]
    Keys(String),
}

/// What [`Verifier`] checks.
#[derive(Debug, Clone)]
pub struct VerifierSettings {
    /// The provider's issuer, compared exactly.
    pub issuer: String,
    /// This API's audience in RFC 9068 access tokens.
    pub audience: String,
    /// The introspection client whose RFC 9701 JWTs this API accepts; `None`
    /// refuses phantom tokens.
    pub gateway_client_id: Option<String>,
}

struct Keys {
    set: JwkSet,
    fetched: Instant,
}

/// Validates bearer JWTs; loads the JWKS on first use and again when a token
/// names a key it does not know (the provider rotated), at most every 10 s.
pub struct Verifier {
    settings: VerifierSettings,
    http: reqwest::Client,
    keys: RwLock<Option<Keys>>,
}

const REFETCH_AFTER: Duration = Duration::from_secs(10);
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

#[derive(Deserialize)]
struct AccessClaims {
    sub: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct IntrospectionClaims {
    token_introspection: Introspection,
}

#[derive(Deserialize)]
struct Introspection {
    active: bool,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    exp: Option<u64>,
    #[serde(default)]
    iss: Option<String>,
}

impl Verifier {
    /// A verifier; nothing is fetched until the first token.
    pub fn new(settings: VerifierSettings) -> Self {
        Self {
            settings,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with default settings builds"),
            keys: RwLock::new(None),
        }
    }

    /// Validates a bearer token.
    pub async fn verify(&self, token: &str) -> Result<Caller, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed("bad header"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::Malformed("not an asymmetric signature"));
        }
        let typ = header.typ.as_deref().unwrap_or("").to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ).to_owned();
        let kid = header.kid.ok_or(TokenError::Malformed("no kid"))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.leeway = 5;
        match typ.as_str() {
            "at+jwt" => {
                validation.set_audience(&[&self.settings.audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                let claims = decode::<AccessClaims>(token, &key, &validation)
                    .map_err(|e| TokenError::Invalid(e.to_string()))?
                    .claims;
                Ok(Caller {
                    sub: claims.sub,
                    scopes: split_scope(claims.scope),
                    client_id: claims.client_id,
                    token_type: "at+jwt",
                })
            }
            "token-introspection+jwt" => {
                let Some(gateway) = &self.settings.gateway_client_id else {
                    return Err(TokenError::WrongType(typ));
                };
                validation.set_audience(&[gateway]);
                validation.validate_exp = false;
                validation.set_required_spec_claims(&["iss", "aud", "iat"]);
                let ti = decode::<IntrospectionClaims>(token, &key, &validation)
                    .map_err(|e| TokenError::Invalid(e.to_string()))?
                    .claims
                    .token_introspection;
                let now = jsonwebtoken::get_current_timestamp();
                let issued_here = ti.iss.as_deref().is_none_or(|i| i == self.settings.issuer);
                let live = ti.exp.is_some_and(|exp| exp > now);
                if !ti.active || !live || !issued_here {
                    return Err(TokenError::Inactive);
                }
                Ok(Caller {
                    sub: ti.sub.ok_or(TokenError::Malformed("no sub"))?,
                    scopes: split_scope(ti.scope),
                    client_id: ti.client_id,
                    token_type: "token-introspection+jwt",
                })
            }
            _ => Err(TokenError::WrongType(typ)),
        }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        let stale = {
            let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = keys.as_ref() {
                if let Some(jwk) = k.set.find(kid) {
                    return DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey);
                }
                k.fetched.elapsed() >= REFETCH_AFTER
            } else {
                true
            }
        };
        if !stale {
            return Err(TokenError::UnknownKey);
        }
        let set = self.fetch_jwks().await?;
        let key = set.find(kid).map(DecodingKey::from_jwk);
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Some(Keys {
            set,
            fetched: Instant::now(),
        });
        match key {
            Some(Ok(k)) => Ok(k),
            _ => Err(TokenError::UnknownKey),
        }
    }

    async fn fetch_jwks(&self) -> Result<JwkSet, TokenError> {
        #[derive(Deserialize)]
        struct Metadata {
            issuer: String,
            jwks_uri: String,
        }
        let keys_error = |e: reqwest::Error| TokenError::Keys(e.without_url().to_string());
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.settings.issuer.trim_end_matches('/')
        );
        let metadata: Metadata = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(keys_error)?
            .json()
            .await
            .map_err(keys_error)?;
        if metadata.issuer != self.settings.issuer {
            return Err(TokenError::Keys(format!(
                "the metadata names issuer {:?}",
                metadata.issuer
            )));
        }
        self.http
            .get(&metadata.jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(keys_error)?
            .json()
            .await
            .map_err(keys_error)
    }
}

fn split_scope(scope: Option<String>) -> Vec<String> {
    scope
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect()
}
