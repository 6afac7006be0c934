//! `POST /bff/refresh`: new tokens from the refresh token (rotation honoured).

use super::token_set::{save_tokens, session_subject};
use super::{error_with_cookies, with_cookies};
use crate::clock;
use crate::error::BffError;
use crate::oidc::OidcError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use std::time::Duration;

/// 204 with rewritten cookies; 401 (and every cookie cleared) when there is
/// no session or the provider refuses the refresh token.
pub async fn post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match refresh(&req, &state).await {
        Ok(cookies) => with_cookies(&mut HttpResponse::NoContent(), &cookies).finish(),
        Err(e @ BffError::Unauthorized(_)) => {
            // The provider refused: the session is over, here and in the store.
            if let Err(end) = state.store.end(&req).await {
                tracing::warn!(error = %end, "could not end the refused session in the store");
            }
            error_with_cookies(&e, &state.store.clearing_cookies(&req))
        }
        // The provider being down is no reason to end the session.
        Err(e) => e.error_response(),
    }
}

/// How long one refresh may hold its session's turn.
const REFRESH_TURN: Duration = Duration::from_secs(15);

/// One refresh at a time per session, across tabs, clients and replicas:
/// with a server-side store, a refresh takes the session's turn in Redis;
/// a concurrent one waits for it and then finds the session refreshed, so a
/// rotated refresh token is never replayed (which would end the session).
async fn refresh(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Vec<th_cookies::CookieOut>, BffError> {
    let registry = match state.store.registry() {
        Some(registry) if state.store.shares_state() => registry,
        _ => return refresh_now(req, state).await,
    };
    let Some(before) = state.store.refresh_token(req).await? else {
        return refresh_now(req, state).await;
    };
    let turn = before.expose().to_owned();
    let deadline = tokio::time::Instant::now() + REFRESH_TURN;
    while !registry.try_lock(&turn, REFRESH_TURN).await? {
        // Another request refreshes this session; wait for it to finish.
        while registry.is_locked(&turn).await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(BffError::SessionStoreUnavailable(
                    "another refresh of this session did not finish in time".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let after = state.store.refresh_token(req).await?;
        if after.as_ref().is_none_or(|t| t.expose() != before.expose()) {
            // It refreshed (or ended) the session: nothing left to do.
            return match after {
                Some(_) => Ok(Vec::new()),
                None => Err(BffError::Unauthorized("the session has ended")),
            };
        }
    }
    let result = refresh_now(req, state).await;
    if let Err(e) = registry.unlock(&turn).await {
        tracing::warn!(error = %e, "could not release a refresh turn; it expires by itself");
    }
    result
}

async fn refresh_now(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Vec<th_cookies::CookieOut>, BffError> {
    let now = clock::now();
    let id = state
        .store
        .id_token(req, now)
        .await?
        .ok_or(BffError::Unauthorized("no session, or it has ended"))?;
    let refresh_token = state
        .store
        .refresh_token(req)
        .await?
        .ok_or(BffError::Unauthorized("the session has no refresh token"))?;
    let tokens = match state.oidc.refresh(&refresh_token).await {
        Ok(tokens) => tokens,
        Err(OidcError::Refused(_)) => {
            return Err(BffError::Unauthorized(
                "the provider refused the refresh token",
            ));
        }
        Err(OidcError::InvalidIdToken(_)) => {
            return Err(BffError::Unauthorized(
                "the refreshed ID token failed validation",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // OpenID Connect Core §12.2: a refreshed ID token is for the same user;
    // without one, the new access token's userinfo must be (§5.3.4).
    let expected = session_subject(&id);
    let refreshed_sub = match &tokens.id_claims {
        Some(claims) => claims
            .get("sub")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        None => match state.oidc.userinfo(&tokens.access_token).await {
            Ok(Some(info)) => info.get("sub").and_then(|s| s.as_str()).map(str::to_owned),
            Ok(None) => {
                return Err(BffError::Unauthorized(
                    "the provider refused the refreshed access token",
                ));
            }
            Err(OidcError::Unsupported(_)) => {
                return Err(BffError::Unauthorized(
                    "the refresh answer has no ID token and the provider no userinfo to tie it to the session's user",
                ));
            }
            Err(e) => return Err(e.into()),
        },
    };
    if expected.is_none() || refreshed_sub != expected {
        return Err(BffError::Unauthorized(
            "the refreshed tokens are for another user",
        ));
    }
    save_tokens(req, state, &tokens, Some(&id), id.session_expires_at, now).await
}
