//! `POST /bff/refresh`: new tokens from the refresh token (rotation honoured).

use super::token_set::{save_tokens, session_subject};
use super::{error_with_cookies, with_cookies};
use crate::clock;
use crate::error::BffError;
use crate::oidc::OidcError;
use crate::refresh_turns::{open_cookies, seal_cookies};
use crate::session::SessionRegistry;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use std::time::Duration;
use th_cookies::Secret;

/// 204 with rewritten cookies; 401 (and every cookie cleared) when there is
/// no session or the provider refuses the refresh token.
pub async fn post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let result = refresh(&req, &state).await;
    crate::metrics::refresh(&result.as_ref().map(|_| ()));
    match result {
        Ok(cookies) => with_cookies(&mut HttpResponse::NoContent(), &cookies).finish(),
        Err(e @ (BffError::RefreshRefused(_) | BffError::Unauthorized(_))) => {
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

/// Why a refresh answered 401 and ended the session: there was none to
/// refresh, or the provider (or a check of its answer) refused. A variant,
/// not a message, so `th_refresh_total` tells the two apart by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefreshRefused {
    #[error("no session, or it has ended")]
    NoSession,
    #[error("the session has ended")]
    SessionEnded,
    #[error("the session has no refresh token")]
    NoRefreshToken,
    #[error("the provider refused the refresh token")]
    ProviderRefused,
    #[error("the refreshed ID token failed validation")]
    InvalidIdToken,
    #[error("the provider refused the refreshed access token")]
    AccessTokenRefused,
    #[error(
        "the refresh answer has no ID token and the provider no userinfo to tie it to the session's user"
    )]
    NoSubject,
    #[error("the refreshed tokens are for another user")]
    OtherUser,
}

impl RefreshRefused {
    /// The browser brought no live session (cookies gone, or the session
    /// ended): nothing the provider said.
    pub fn is_no_session(self) -> bool {
        matches!(
            self,
            Self::NoSession | Self::SessionEnded | Self::NoRefreshToken
        )
    }
}

impl From<RefreshRefused> for BffError {
    fn from(refused: RefreshRefused) -> Self {
        Self::RefreshRefused(refused)
    }
}

/// How long one refresh may hold its session's turn.
const REFRESH_TURN: Duration = Duration::from_secs(15);

/// One refresh at a time per session, across tabs, clients and replicas,
/// so a rotated refresh token is never replayed (which would end the
/// session): with Redis, a refresh takes the session's turn there; without,
/// within this process ([`crate::refresh_turns`]).
async fn refresh(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Vec<th_cookies::CookieOut>, BffError> {
    let Some(before) = state.store.refresh_token(req).await? else {
        return refresh_now(req, state).await;
    };
    // Only a live session of this app gets another's refreshed cookies.
    if state.store.id_token(req, clock::now()).await?.is_none() {
        return Err(RefreshRefused::NoSession.into());
    }
    match state.store.registry() {
        Some(registry) => shared_turn(registry, &before, req, state).await,
        None => {
            state
                .refresh_turns
                .run(before.expose(), || refresh_now(req, state))
                .await
        }
    }
}

/// The session's turn in Redis. A request that waited finds the session
/// refreshed: in the Redis store by reading it again, in the cookie store
/// in the cookies the refresh left (sealed) for the same refresh token.
async fn shared_turn(
    registry: &SessionRegistry,
    before: &Secret,
    req: &HttpRequest,
    state: &AppState,
) -> Result<Vec<th_cookies::CookieOut>, BffError> {
    let turn = before.expose();
    let shares_state = state.store.shares_state();
    // What another request's refresh with this token left, if there was one.
    let done_already = || async {
        if shares_state {
            let after = state.store.refresh_token(req).await?;
            return match after {
                Some(t) if t.expose() == turn => Ok(None),
                // It refreshed the session: the browser's cookie stays.
                Some(_) => Ok(Some(Vec::new())),
                None => Err(RefreshRefused::SessionEnded.into()),
            };
        }
        let sealed = registry.handed_over(turn).await?;
        Ok::<_, BffError>(sealed.and_then(|s| open_cookies(state.vault.key_ring(), &s)))
    };
    if !shares_state && let Some(cookies) = done_already().await? {
        return Ok(cookies);
    }
    let deadline = tokio::time::Instant::now() + REFRESH_TURN;
    while !registry.try_lock(turn, REFRESH_TURN).await? {
        // Another request refreshes this session; wait for it to finish.
        while registry.is_locked(turn).await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(BffError::SessionStoreUnavailable(
                    "another refresh of this session did not finish in time".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        if let Some(cookies) = done_already().await? {
            return Ok(cookies);
        }
        // It failed, or went away: take the turn.
    }
    // The turn may have come free because a refresh just finished.
    let result = match done_already().await {
        Ok(Some(cookies)) => Ok(cookies),
        Ok(None) => refresh_now(req, state).await,
        Err(e) => Err(e),
    };
    if let (Ok(cookies), false) = (&result, shares_state)
        && !cookies.is_empty()
    {
        let sealed = seal_cookies(state.vault.key_ring(), cookies);
        // Kept at least a moment: the waiters on other replicas read it
        // right after the turn is released.
        let keep = state.refresh_grace.max(Duration::from_secs(2));
        if let Err(e) = registry.hand_over(turn, &sealed, keep).await {
            tracing::warn!(error = %e, "could not hand a refresh's cookies over");
        }
    }
    if let Err(e) = registry.unlock(turn).await {
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
        .ok_or(RefreshRefused::NoSession)?;
    let refresh_token = state
        .store
        .refresh_token(req)
        .await?
        .ok_or(RefreshRefused::NoRefreshToken)?;
    let tokens = match state.oidc.refresh(&refresh_token).await {
        Ok(tokens) => tokens,
        Err(OidcError::Refused(_)) => return Err(RefreshRefused::ProviderRefused.into()),
        Err(OidcError::InvalidIdToken(_)) => return Err(RefreshRefused::InvalidIdToken.into()),
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
            Ok(None) => return Err(RefreshRefused::AccessTokenRefused.into()),
            Err(OidcError::Unsupported(_)) => return Err(RefreshRefused::NoSubject.into()),
            Err(e) => return Err(e.into()),
        },
    };
    if expected.is_none() || refreshed_sub != expected {
        return Err(RefreshRefused::OtherUser.into());
    }
    save_tokens(req, state, &tokens, Some(&id), id.session_expires_at, now).await
}
