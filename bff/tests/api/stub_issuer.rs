//! A small OpenID provider that misbehaves on purpose: it serves discovery,
//! a JWKS and a token endpoint whose answer each test chooses (forged ID
//! tokens, 500s, slowness, malformed JSON). The real provider will not do these.

use actix_web::web::ServiceConfig;
use actix_web::{HttpResponse, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use th_testkit::spawn_stub_knowing_base;

const SIGNING_KEY: &str = include_str!("fixtures/test-only-signing-key.pem");
const SIGNING_PUBLIC: &str = include_str!("fixtures/test-only-signing-public.pem");
const SIGNING_JWK: &str = include_str!("fixtures/test-only-signing-jwk.json");
const UNKNOWN_KEY: &str = include_str!("fixtures/test-only-unknown-key.pem");
const UNKNOWN_JWK: &str = include_str!("fixtures/test-only-unknown-jwk.json");

/// What the token endpoint does.
#[derive(Clone)]
pub enum TokenAnswer {
    /// 200 with this ID token.
    IdToken(String),
    /// This status and body.
    Raw(u16, String),
    /// Waits this long, then answers 200 with an empty ID token.
    Slow(Duration),
    /// 200 with exactly this JSON (token responses a real provider will not
    /// send: no `expires_in`, a huge one, no refresh or ID token).
    Json(Value),
}

pub struct Scenario {
    pub token: TokenAnswer,
    pub discovery_delay: Duration,
    /// Whether the JWKS lists the second ("unknown") key too.
    pub publish_unknown_key: bool,
    /// What the userinfo endpoint answers.
    pub userinfo: Value,
    /// The `grant_type` of every token request, in order.
    pub grants: Vec<String>,
    /// The `token_type_hint` of every revocation, in order.
    pub revoked: Vec<String>,
    /// How many times the JWKS was fetched.
    pub jwks_fetches: usize,
}

pub struct StubIssuer {
    pub issuer: String,
    pub scenario: Arc<Mutex<Scenario>>,
}

impl StubIssuer {
    pub async fn start() -> Self {
        let scenario = Arc::new(Mutex::new(Scenario {
            token: TokenAnswer::Raw(500, "{}".into()),
            discovery_delay: Duration::ZERO,
            publish_unknown_key: false,
            userinfo: json!({ "sub": "mallory" }),
            grants: Vec::new(),
            revoked: Vec::new(),
            jwks_fetches: 0,
        }));
        let issuer = spawn_stub_knowing_base(|issuer| {
            let state = web::Data::new((issuer.to_owned(), scenario.clone()));
            move |cfg: &mut ServiceConfig| {
                cfg.app_data(state.clone())
                    .route(
                        "/.well-known/openid-configuration",
                        web::get().to(discovery),
                    )
                    .route("/jwks", web::get().to(jwks))
                    .route("/token", web::post().to(token))
                    .route("/userinfo", web::get().to(userinfo))
                    .route("/revoke", web::post().to(revoke));
            }
        });
        Self { issuer, scenario }
    }

    pub fn answer(&self, token: TokenAnswer) {
        self.scenario.lock().unwrap().token = token;
    }

    /// Standard claims for a login with `nonce`; tests then spoil one.
    pub fn claims(&self, nonce: &str) -> Value {
        let now = th_bff::clock::now();
        json!({
            "iss": self.issuer,
            "aud": "token-handler",
            "sub": "mallory",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        })
    }
}

/// Starts a login on `app`, lets `make` build the ID token from the stub and
/// the login's nonce, and completes the login with it.
pub async fn login_through(
    app: &mut crate::helpers::TestApp,
    stub: &StubIssuer,
    make: impl FnOnce(&StubIssuer, &str) -> String,
) -> crate::helpers::Answer {
    use crate::helpers::query_param;
    use th_testkit::REDIRECT;
    let start = app.login_start(None).await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    let url = start.body["authorizationUrl"].as_str().unwrap();
    let nonce = query_param(url, "nonce").unwrap();
    let state = query_param(url, "state").unwrap();
    stub.answer(TokenAnswer::IdToken(make(stub, &nonce)));
    app.login_end(&format!("{REDIRECT}?code=stub-code&state={state}"))
        .await
}

type State = web::Data<(String, Arc<Mutex<Scenario>>)>;

async fn discovery(state: State) -> HttpResponse {
    let delay = state.1.lock().unwrap().discovery_delay;
    tokio::time::sleep(delay).await;
    let issuer = &state.0;
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
    }))
}

async fn jwks(state: State) -> HttpResponse {
    let mut keys = vec![serde_json::from_str::<Value>(SIGNING_JWK).unwrap()];
    state.1.lock().unwrap().jwks_fetches += 1;
    if state.1.lock().unwrap().publish_unknown_key {
        keys.push(serde_json::from_str(UNKNOWN_JWK).unwrap());
    }
    HttpResponse::Ok().json(json!({ "keys": keys }))
}

async fn userinfo(state: State) -> HttpResponse {
    HttpResponse::Ok().json(state.1.lock().unwrap().userinfo.clone())
}

async fn revoke(state: State, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let hint = form.get("token_type_hint").cloned().unwrap_or_default();
    state.1.lock().unwrap().revoked.push(hint);
    HttpResponse::Ok().finish()
}

async fn token(state: State, form: web::Form<HashMap<String, String>>) -> HttpResponse {
    let answer = {
        let mut scenario = state.1.lock().unwrap();
        let grant = form.get("grant_type").cloned().unwrap_or_default();
        scenario.grants.push(grant);
        scenario.token.clone()
    };
    match answer {
        TokenAnswer::Json(body) => HttpResponse::Ok().json(body),
        TokenAnswer::IdToken(id_token) => HttpResponse::Ok().json(json!({
            "access_token": "stub-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        })),
        TokenAnswer::Raw(status, body) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(body)
        }
        TokenAnswer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok().json(json!({ "access_token": "late", "token_type": "Bearer" }))
        }
    }
}

/// Signed with the published key (RS256, its `kid`).
pub fn signed(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("signing-kid".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(SIGNING_KEY.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// Signed with a key the JWKS does not list (yet).
pub fn signed_by_unknown_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("unknown-kid".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(UNKNOWN_KEY.as_bytes()).unwrap(),
    )
    .unwrap()
}

/// HS256 keyed with the provider's public key: the classic confusion attack.
pub fn hmac_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("signing-kid".into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(SIGNING_PUBLIC.as_bytes()),
    )
    .unwrap()
}

/// `alg: none`, no signature.
pub fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    )
}
