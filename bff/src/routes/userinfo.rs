//! `GET /bff/userinfo`: the provider's userinfo, fetched with the session's access token.

use super::with_cookies;
use crate::clock;
use crate::error::BffError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};

/// Answers the provider's userinfo JSON; 401 when the access token is
/// missing, expired or refused, so the SPA refreshes and retries.
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BffError> {
    let access = state
        .store
        .access_token(&req)
        .await?
        .filter(|a| !a.is_expired(clock::now()))
        .ok_or(BffError::Unauthorized(
            "no session, or its access token has expired",
        ))?;
    let info = state
        .oidc
        .userinfo(&access.token)
        .await?
        .ok_or(BffError::Unauthorized(
            "the provider refused the access token",
        ))?;
    Ok(with_cookies(&mut HttpResponse::Ok(), &[]).json(info))
}
