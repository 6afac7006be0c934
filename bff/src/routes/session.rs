//! `GET /bff/session`: whether the browser is signed in, until when, as whom.

use super::with_cookies;
use crate::clock;
use crate::error::BffError;
use crate::oidc::id_token::decode_claims;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use th_contract::SessionResponse;

/// Protocol claims of the ID token that say nothing about the user.
const PROTOCOL_CLAIMS: [&str; 10] = [
    "iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "sid",
];

/// Reports the session; never an error for a browser without one.
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BffError> {
    let Some(id) = state.store.id_token(&req, clock::now()).await? else {
        return Ok(with_cookies(&mut HttpResponse::Ok(), &[]).json(SessionResponse::default()));
    };
    let access = state.store.access_token(&req).await?;
    let claims = decode_claims(id.token.expose()).map(|mut claims| {
        claims.retain(|name, _| !PROTOCOL_CLAIMS.contains(&name.as_str()));
        claims
    });
    Ok(
        with_cookies(&mut HttpResponse::Ok(), &[]).json(SessionResponse {
            is_logged_in: true,
            expires_at: access.and_then(|a| a.expires_at),
            claims,
        }),
    )
}
