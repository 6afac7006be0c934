//! ID-token validation: signature against the provider's JWKS (fetched again
//! once when a token names an unknown key), `iss`, `aud`, `azp`, `exp`, and
//! `nonce` at login. `openidconnect` does the JOSE work; this module decides
//! the policy: asymmetric algorithms only, so neither `alg: none` nor an HMAC
//! keyed with a public key can pass.

use super::OidcError;
use super::provider::Provider;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJwsSigningAlgorithm};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, Nonce, NonceVerifier, SignatureVerificationError,
};
use serde_json::{Map, Value};
use std::str::FromStr;

/// How the `nonce` claim is checked.
#[derive(Debug, Clone, Copy)]
pub enum NonceCheck<'a> {
    /// At login: the claim must equal the nonce sent with the authorization request.
    Equals(&'a str),
    /// After a refresh: the provider may repeat the original nonce or omit it.
    Any,
}

/// Validates `raw` and returns its claims.
pub async fn validate(
    raw: &str,
    provider: &Provider,
    http: &reqwest::Client,
    client_id: &str,
    issuer: &str,
    nonce: NonceCheck<'_>,
) -> Result<Map<String, Value>, OidcError> {
    let token = CoreIdToken::from_str(raw)
        .map_err(|_| OidcError::InvalidIdToken("it is not a well-formed JWT".into()))?;
    provider
        .verify_with_fresh_keys(
            http,
            || verify(&token, provider, client_id, issuer, nonce),
            |e| {
                matches!(
                    e,
                    ClaimsVerificationError::SignatureVerification(
                        SignatureVerificationError::NoMatchingKey,
                    )
                )
            },
        )
        .await?
        .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
    decode_claims(raw).ok_or_else(|| OidcError::InvalidIdToken("its payload is not JSON".into()))
}

fn verify(
    token: &CoreIdToken,
    provider: &Provider,
    client_id: &str,
    issuer: &str,
    nonce: NonceCheck<'_>,
) -> Result<(), ClaimsVerificationError> {
    let issuer = IssuerUrl::new(issuer.to_owned())
        .map_err(|_| ClaimsVerificationError::Other("bad issuer".into()))?;
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client_id.to_owned()),
        issuer,
        provider.jwks(),
    )
    .set_allowed_algs(allowed_algs(provider));
    let nonce_check = |found: Option<&Nonce>| match nonce {
        NonceCheck::Any => Ok(()),
        NonceCheck::Equals(expected) => (&Nonce::new(expected.to_owned())).verify(found),
    };
    token.claims(&verifier, nonce_check).map(|_| ())
}

/// The asymmetric algorithms the provider advertises (RS256 when it says none).
pub(crate) fn allowed_algs(provider: &Provider) -> Vec<CoreJwsSigningAlgorithm> {
    let algs: Vec<_> = provider
        .metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| is_asymmetric(alg))
        .cloned()
        .collect();
    if algs.is_empty() {
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    } else {
        algs
    }
}

fn is_asymmetric(alg: &CoreJwsSigningAlgorithm) -> bool {
    use CoreJwsSigningAlgorithm as A;
    matches!(
        alg,
        A::RsaSsaPkcs1V15Sha256
            | A::RsaSsaPkcs1V15Sha384
            | A::RsaSsaPkcs1V15Sha512
            | A::RsaSsaPssSha256
            | A::RsaSsaPssSha384
            | A::RsaSsaPssSha512
            | A::EcdsaP256Sha256
            | A::EcdsaP384Sha384
            | A::EcdsaP521Sha512
            | A::EdDsa
    )
}

/// The payload of a JWS as JSON. Only for a token already validated (or, in
/// a cookie, sealed by us after validation).
pub fn decode_claims(raw: &str) -> Option<Map<String, Value>> {
    let payload = raw.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_and_none_are_never_allowed() {
        use CoreJwsSigningAlgorithm as A;
        for alg in [A::HmacSha256, A::HmacSha384, A::HmacSha512, A::None] {
            assert!(!is_asymmetric(&alg), "{alg:?}");
        }
        assert!(is_asymmetric(&A::RsaSsaPkcs1V15Sha256));
    }

    #[test]
    fn claims_decode_from_the_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"alice"}"#);
        let claims = decode_claims(&format!("h.{payload}.s")).unwrap();
        assert_eq!(claims["sub"], "alice");
        assert!(decode_claims("not a jwt").is_none());
    }
}
