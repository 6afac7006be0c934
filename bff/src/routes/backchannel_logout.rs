//! `POST /bff/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0):
//! the provider, server to server, says a session or a user signed out.
//!
//! No CSRF header, no cookies, no `Origin`: the caller is the provider, and
//! the signed logout token is the proof (`oidc/logout_token.rs`). Its `jti`
//! is single-use (remembered in Redis until the token expires), so a token
//! that leaked cannot be replayed. Every session of that `sid` (or, when only
//! `sub` is given, of that user) ends: deleted from the Redis store, or
//! recorded as ended for the cookie store, which then refuses its cookies.
//! Without `[redis]` there is nowhere to record it: 501.

use crate::clock;
use crate::error::BffError;
use crate::session::Ended;
use crate::state::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};

/// 200 once every matching session is over; 400 for a bad logout token.
pub async fn post(state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, BffError> {
    let result = end_sessions(&state, &body).await;
    crate::metrics::backchannel_logout(&result.as_ref().map(|_| ()));
    result
}

async fn end_sessions(state: &AppState, body: &[u8]) -> Result<HttpResponse, BffError> {
    let Some(registry) = state.store.registry() else {
        return Err(BffError::BackchannelNeedsRedis);
    };
    let mut tokens = url::form_urlencoded::parse(body)
        .filter(|(name, _)| name == "logout_token")
        .map(|(_, value)| value.into_owned());
    let (Some(raw), None) = (tokens.next(), tokens.next()) else {
        return Err(BffError::BadRequest(
            "the body must be a form with exactly one logout_token".into(),
        ));
    };
    let token = state
        .oidc
        .logout_token(&raw, clock::now())
        .await
        .map_err(BffError::LogoutToken)?;
    if !registry
        .first_use_of_jti(&token.jti, token.remember_until)
        .await?
    {
        return Err(BffError::LogoutToken(
            crate::oidc::logout_token::LogoutTokenError::Replayed,
        ));
    }
    let ended = Ended {
        sid: token.sid.as_deref(),
        sub: token.sub.as_deref(),
    };
    state.store.end_matching(ended).await?;
    tracing::info!(
        by_sid = token.sid.is_some(),
        by_sub = token.sub.is_some(),
        "back-channel logout ended the matching sessions"
    );
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}
