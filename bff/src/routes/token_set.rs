//! Storing a token set after a login or a refresh: shared by both routes.
//!
//! Provider data is untrusted arithmetic input: lifetimes saturate, and no
//! token outlives the session (`session.lifetime_secs`). A token response
//! without `expires_in` gets `session.default_access_token_lifetime_secs`,
//! so no access token is ever good forever.

use crate::error::BffError;
use crate::oidc::TokenSet;
use crate::oidc::id_token::decode_claims;
use crate::session::{IdTokenPayload, NewTokens, RefreshUpdate};
use crate::state::AppState;
use actix_web::HttpRequest;
use th_cookies::{AccessTokenPayload, CookieOut, SessionMark};

/// `now + secs`, saturating, never past `cap`.
pub(crate) fn expiry(now: i64, secs: u64, cap: i64) -> i64 {
    now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
        .min(cap)
}

/// Stores a token set. `previous` is the session being refreshed (`None`
/// at login): its ID token stays when the answer has none, its refresh
/// token stays when the answer has none, and its subject is kept.
pub(crate) async fn save_tokens(
    req: &HttpRequest,
    state: &AppState,
    tokens: &TokenSet,
    previous: Option<&IdTokenPayload>,
    session_expires_at: i64,
    now: i64,
) -> Result<Vec<CookieOut>, BffError> {
    let id_token = tokens
        .id_token
        .clone()
        .or_else(|| previous.map(|p| p.token.clone()))
        .ok_or(BffError::Unauthorized("the session has no ID token"))?;
    let claim = |name: &str| {
        tokens
            .id_claims
            .as_ref()
            .and_then(|c| c.get(name))
            .and_then(|s| s.as_str())
            .map(str::to_owned)
    };
    let sub = claim("sub").or_else(|| previous.and_then(session_subject));
    let sid = claim("sid").or_else(|| previous.and_then(|p| p.sid.clone()));
    let since = previous.and_then(|p| p.since).unwrap_or(now);
    let refresh = match (&tokens.refresh_token, previous) {
        (Some(token), _) => RefreshUpdate::Replace(token),
        (None, Some(_)) => RefreshUpdate::Keep,
        (None, None) => RefreshUpdate::Clear,
    };
    let lifetime = tokens
        .expires_in
        .unwrap_or(state.default_access_lifetime.as_secs());
    let app = super::request_app(req).map(|a| a.as_str().to_owned());
    let new = NewTokens {
        access: AccessTokenPayload {
            token: tokens.access_token.clone(),
            expires_at: Some(expiry(now, lifetime, session_expires_at)),
            app: app.clone(),
            session: Some(SessionMark {
                sid: sid.clone(),
                sub: sub.clone(),
                since,
            }),
        },
        refresh,
        id: IdTokenPayload {
            token: id_token,
            session_expires_at,
            app,
            sub,
            sid,
            since: Some(since),
        },
        new_session: previous.is_none(),
    };
    Ok(state.store.save(req, new).await?)
}

/// The subject a session is for: kept since login, or (a session written
/// before it was kept) its ID token's.
pub(crate) fn session_subject(id: &IdTokenPayload) -> Option<String> {
    id.sub.clone().or_else(|| {
        decode_claims(id.token.expose())
            .and_then(|c| c.get("sub").and_then(|s| s.as_str()).map(str::to_owned))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_saturates_and_never_passes_the_cap() {
        assert_eq!(expiry(1_000, 300, 10_000), 1_300);
        assert_eq!(expiry(1_000, 300, 1_100), 1_100);
        assert_eq!(expiry(1_000, i64::MAX as u64, 5_000), 5_000);
        assert_eq!(expiry(1_000, u64::MAX, 5_000), 5_000);
        assert_eq!(expiry(i64::MAX - 1, 10, i64::MAX), i64::MAX);
    }
}
