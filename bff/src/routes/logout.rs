//! `POST /bff/logout`: clears the session, revokes the refresh token, and
//! answers the provider's end-session URL.

use super::login::request_app;
use super::{error_with_cookies, with_cookies};
use crate::clock;
use crate::error::BffError;
use crate::session::IdTokenPayload;
use crate::session::request_cookies;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use th_contract::LogoutResponse;
use th_cookies::CookieKind;
use th_cookies::Secret;

/// 200 and every cookie cleared: a failed revocation or an unreachable
/// provider is logged and the logout goes on. Only a server-side store that
/// cannot end the session answers 503 (the cookies are cleared even then,
/// and the SPA may try again).
pub async fn post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let mut cookies = state.store.clearing_cookies(&req);
    cookies.extend(state.vault.clear(&request_cookies(&req), CookieKind::Login));
    let (id, refresh) = match load(&req, &state).await {
        Ok(found) => found,
        Err(e) => return error_with_cookies(&e, &cookies),
    };
    if let Some(refresh_token) = refresh {
        match state.oidc.revoke(&refresh_token).await {
            Ok(true) => tracing::info!("revoked the refresh token at logout"),
            Ok(false) => tracing::info!("the provider has no revocation endpoint"),
            Err(e) => {
                tracing::warn!(error = %e, "revoking the refresh token failed; logging out anyway")
            }
        }
    }
    let app = request_app(&req);
    let after = state
        .oidc
        .post_logout_uri_for(app.as_ref().map(|a| a.as_str()));
    let logout_url = match state
        .oidc
        .logout_url(id.as_ref().map(|i| &i.token), after)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "no logout URL: the provider is unavailable");
            None
        }
    };
    // After the tokens were read for revocation: from here on, a copied
    // session cookie is worth nothing.
    if let Err(e) = state.store.end(&req).await {
        return error_with_cookies(&BffError::from(e), &cookies);
    }
    with_cookies(&mut HttpResponse::Ok(), &cookies).json(LogoutResponse { logout_url })
}

/// The session's ID and refresh tokens, either absent.
async fn load(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(Option<IdTokenPayload>, Option<Secret>), BffError> {
    let id = state.store.id_token(req, clock::now()).await?;
    let refresh = state.store.refresh_token(req).await?;
    Ok((id, refresh))
}
