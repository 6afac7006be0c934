//! `GET /bff/claims`: the ID token's claims.

use super::with_cookies;
use crate::clock;
use crate::error::BffError;
use crate::oidc::id_token::decode_claims;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

/// Every claim of the session's ID token (validated at login or refresh).
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BffError> {
    let id = state
        .store
        .id_token(&req, clock::now())
        .await?
        .ok_or(BffError::Unauthorized("no session"))?;
    let claims = decode_claims(id.token.expose()).ok_or(BffError::Unauthorized("no session"))?;
    Ok(with_cookies(&mut HttpResponse::Ok(), &[]).json(claims))
}
