//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4,
//! §2.6): the provider's signed statement that a session (`sid`) or a user
//! (`sub`) has signed out.
//!
//! `openidconnect` has no logout-token type and keeps its claims verifier
//! private, so the signature is checked with its JWK machinery
//! (`JsonWebKey::verify_signature` over the provider's JWKS, fetched again
//! once for an unknown `kid`, asymmetric algorithms the provider advertises
//! only) and the claim rules of §2.6 are this module's, each tested:
//! `iss` exact, `aud` has this client, `iat` not in the future (60 s skew),
//! `exp` not passed when present (and an `iat` no older than 5 min when it
//! is not), the back-channel `events` member, `sid` and/or `sub`, no
//! `nonce`, a `jti`. Single use of the `jti` is the caller's (it needs Redis).

use super::OidcError;
use super::id_token::allowed_algs;
use super::provider::Provider;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::{JsonWebKey, JsonWebKeyId};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The `events` member a logout token must carry.
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Allowed clock difference with the provider.
const SKEW_SECS: i64 = 60;
/// How old a token without `exp` may be.
const MAX_AGE_WITHOUT_EXP_SECS: i64 = 300;

/// A logout token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    /// The provider's session that ended, when it says.
    pub sid: Option<String>,
    /// The user whose sessions end, when it says.
    pub sub: Option<String>,
    /// The token's id, single-use.
    pub jti: String,
    /// How long the `jti` must be remembered (Unix seconds).
    pub remember_until: i64,
}

/// Why a logout token is refused; each is a 400 for the provider.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoutTokenError {
    #[error("the logout token is not a well-formed JWS")]
    Malformed,
    #[error("the logout token's algorithm is not one the provider signs with")]
    Algorithm,
    #[error("the logout token's signature does not verify against the provider's keys")]
    Signature,
    #[error("the logout token's iss is not the issuer")]
    Issuer,
    #[error("the logout token is not for this client (aud)")]
    Audience,
    #[error("the logout token has expired or is too old")]
    Expired,
    #[error("the logout token is issued in the future (iat)")]
    IssuedInTheFuture,
    #[error("the logout token lacks the back-channel logout event")]
    Events,
    #[error("the logout token names neither sid nor sub")]
    NoSubject,
    #[error("a logout token must not carry a nonce")]
    Nonce,
    #[error("the logout token has no jti")]
    NoJti,
    #[error("the provider's keys could not be fetched")]
    Provider,
    #[error("the logout token was already used (jti)")]
    Replayed,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Validates `raw` as a logout token of `issuer` for `client_id`, at `now`.
pub async fn validate(
    raw: &str,
    provider: &Provider,
    http: &reqwest::Client,
    client_id: &str,
    issuer: &str,
    now: i64,
) -> Result<LogoutToken, LogoutTokenError> {
    provider
        .verify_with_fresh_keys(
            http,
            || verify_signature(raw, provider),
            |e| matches!(e, LogoutTokenError::Signature),
        )
        .await
        .map_err(|_: OidcError| LogoutTokenError::Provider)??;
    let payload = raw.split('.').nth(1).ok_or(LogoutTokenError::Malformed)?;
    let claims: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(LogoutTokenError::Malformed)?;
    check_claims(&claims, client_id, issuer, now)
}

fn verify_signature(raw: &str, provider: &Provider) -> Result<(), LogoutTokenError> {
    let mut parts = raw.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LogoutTokenError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(LogoutTokenError::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LogoutTokenError::Malformed)?;
    let alg: CoreJwsSigningAlgorithm = serde_json::from_value(Value::String(header.alg))
        .map_err(|_| LogoutTokenError::Algorithm)?;
    if !allowed_algs(provider).contains(&alg) {
        return Err(LogoutTokenError::Algorithm);
    }
    let message = &raw[..raw.len() - raw.rsplit('.').next().map_or(0, str::len) - 1];
    debug_assert!(message.ends_with(payload));
    let kid = header.kid.map(JsonWebKeyId::new);
    let jwks = provider.jwks();
    let verified = jwks
        .keys()
        .iter()
        .filter(|key| kid.is_none() || key.key_id() == kid.as_ref())
        .any(|key| {
            key.verify_signature(&alg, message.as_bytes(), &signature)
                .is_ok()
        });
    if verified {
        Ok(())
    } else {
        Err(LogoutTokenError::Signature)
    }
}

/// The claim rules of §2.6, on a payload whose signature verified.
pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    issuer: &str,
    now: i64,
) -> Result<LogoutToken, LogoutTokenError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if text("iss").as_deref() != Some(issuer) {
        return Err(LogoutTokenError::Issuer);
    }
    let for_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_us {
        return Err(LogoutTokenError::Audience);
    }
    let iat = number("iat").ok_or(LogoutTokenError::Malformed)?;
    if iat > now.saturating_add(SKEW_SECS) {
        return Err(LogoutTokenError::IssuedInTheFuture);
    }
    let remember_until = match claims.get("exp") {
        Some(exp) => {
            let exp = exp.as_i64().ok_or(LogoutTokenError::Malformed)?;
            if exp.saturating_add(SKEW_SECS) <= now {
                return Err(LogoutTokenError::Expired);
            }
            exp.saturating_add(SKEW_SECS)
        }
        None => {
            if iat.saturating_add(MAX_AGE_WITHOUT_EXP_SECS) < now {
                return Err(LogoutTokenError::Expired);
            }
            iat.saturating_add(MAX_AGE_WITHOUT_EXP_SECS + SKEW_SECS)
        }
    };
    let has_event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_EVENT))
        .is_some_and(Value::is_object);
    if !has_event {
        return Err(LogoutTokenError::Events);
    }
    if claims.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or(LogoutTokenError::NoJti)?;
    Ok(LogoutToken {
        sid,
        sub,
        jti,
        remember_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn good() -> Value {
        json!({
            "iss": "https://id.example",
            "aud": "bff",
            "iat": NOW - 5,
            "exp": NOW + 120,
            "jti": "j-1",
            "sid": "s-1",
            "events": { BACKCHANNEL_EVENT: {} },
        })
    }

    fn check(claims: Value) -> Result<LogoutToken, LogoutTokenError> {
        check_claims(
            claims.as_object().unwrap(),
            "bff",
            "https://id.example",
            NOW,
        )
    }

    fn without(name: &str) -> Value {
        let mut c = good();
        c.as_object_mut().unwrap().remove(name);
        c
    }

    fn with(name: &str, value: Value) -> Value {
        let mut c = good();
        c[name] = value;
        c
    }

    #[test]
    fn a_good_token_names_the_session_and_how_long_to_remember_it() {
        let token = check(good()).unwrap();
        assert_eq!(token.sid.as_deref(), Some("s-1"));
        assert_eq!(token.sub, None);
        assert_eq!(token.jti, "j-1");
        assert_eq!(token.remember_until, NOW + 120 + SKEW_SECS);
        let sub_only = with("sub", json!("alice"));
        let mut sub_only = sub_only.as_object().unwrap().clone();
        sub_only.remove("sid");
        let token = check(Value::Object(sub_only)).unwrap();
        assert_eq!(token.sub.as_deref(), Some("alice"));
        assert!(check(with("aud", json!(["other", "bff"]))).is_ok());
        assert!(check(without("exp")).is_ok(), "exp is optional");
    }

    #[test]
    fn each_broken_rule_is_refused() {
        for (claims, why) in [
            (
                with("iss", json!("https://evil.example")),
                LogoutTokenError::Issuer,
            ),
            (without("iss"), LogoutTokenError::Issuer),
            (with("aud", json!("other")), LogoutTokenError::Audience),
            (with("aud", json!(["other"])), LogoutTokenError::Audience),
            (without("aud"), LogoutTokenError::Audience),
            (with("exp", json!(NOW - 120)), LogoutTokenError::Expired),
            (
                with("iat", json!(NOW + 600)),
                LogoutTokenError::IssuedInTheFuture,
            ),
            (without("iat"), LogoutTokenError::Malformed),
            (without("events"), LogoutTokenError::Events),
            (
                with("events", json!({ "other": {} })),
                LogoutTokenError::Events,
            ),
            (
                with("events", json!({ BACKCHANNEL_EVENT: "yes" })),
                LogoutTokenError::Events,
            ),
            (with("nonce", json!("n")), LogoutTokenError::Nonce),
            (without("sid"), LogoutTokenError::NoSubject),
            (without("jti"), LogoutTokenError::NoJti),
            (with("jti", json!("")), LogoutTokenError::NoJti),
        ] {
            assert_eq!(check(claims.clone()), Err(why), "{claims}");
        }
        let mut old = without("exp");
        old["iat"] = json!(NOW - 3600);
        assert_eq!(check(old), Err(LogoutTokenError::Expired));
    }
}

/// Any claim of a good token replaced by any JSON value: no panic, and what
/// is accepted still meets every rule of §2.6 that the claims carry.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;
    const CLAIMS: [&str; 9] = [
        "iss", "aud", "iat", "exp", "jti", "sid", "sub", "events", "nonce",
    ];

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            prop::sample::select(vec![i64::MIN, i64::MAX, 0, NOW, NOW + 60, NOW - 600])
                .prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
            Just(json!("bff")),
            Just(json!("https://id.example")),
            Just(json!(BACKCHANNEL_EVENT)),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![Just(BACKCHANNEL_EVENT.to_owned()), ".{0,8}"],
                    inner,
                    0..3
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_claim_any_value_never_panics_and_what_passes_is_valid(
            changes in prop::collection::vec((prop::sample::select(CLAIMS.to_vec()), prop::option::of(any_json())), 0..4),
        ) {
            let mut claims = json!({
                "iss": "https://id.example", "aud": "bff", "iat": NOW - 5, "exp": NOW + 120,
                "jti": "j-1", "sid": "s-1", "events": { BACKCHANNEL_EVENT: {} },
            });
            let map = claims.as_object_mut().unwrap();
            for (name, value) in changes {
                match value {
                    Some(v) => { map.insert(name.to_owned(), v); }
                    None => { map.remove(name); }
                }
            }
            if let Ok(token) = check_claims(map, "bff", "https://id.example", NOW) {
                prop_assert_eq!(map["iss"].as_str(), Some("https://id.example"));
                prop_assert!(!map.contains_key("nonce"));
                prop_assert!(map["events"][BACKCHANNEL_EVENT].is_object());
                prop_assert!(token.sid.is_some() || token.sub.is_some());
                prop_assert!(!token.jti.is_empty());
                prop_assert!(token.remember_until >= NOW - SKEW_SECS);
                let iat = map["iat"].as_i64().unwrap();
                prop_assert!(iat <= NOW + SKEW_SECS);
            }
        }
    }
}
