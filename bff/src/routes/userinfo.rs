//! `GET /bff/userinfo`: the provider's userinfo, fetched with the session's access token.

use super::token_set::session_subject;
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
    // OpenID Connect Core §5.3.4: a userinfo answer for another subject than
    // the ID token's must not be used (token substitution).
    let session_sub = state
        .store
        .id_token(&req, clock::now())
        .await?
        .as_ref()
        .and_then(session_subject);
    let answered_sub = info.get("sub").and_then(|s| s.as_str());
    if session_sub.is_none() || answered_sub != session_sub.as_deref() {
        return Err(BffError::UserinfoSubjectMismatch);
    }
    Ok(with_cookies(&mut HttpResponse::Ok(), &[]).json(info))
}
