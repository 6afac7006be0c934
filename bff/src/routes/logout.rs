//! `POST /bff/logout`: clears the session, revokes the refresh token, and
//! answers the provider's end-session URL.

use super::login::request_app;
use super::with_cookies;
use crate::clock;
use crate::session::request_cookies;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use th_contract::LogoutResponse;
use th_cookies::CookieKind;

/// Always 200: a logout never fails for the browser. A failed revocation or
/// an unreachable provider is logged and the cookies are cleared anyway.
pub async fn post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let id = state.store.id_token(&req, clock::now()).await;
    if let Some(refresh_token) = state.store.refresh_token(&req).await {
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
    let mut cookies = state.store.clear(&req).await;
    cookies.extend(state.vault.clear(&request_cookies(&req), CookieKind::Login));
    with_cookies(&mut HttpResponse::Ok(), &cookies).json(LogoutResponse { logout_url })
}
