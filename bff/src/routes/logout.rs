//! `POST /bff/logout`: ends the session (in the browser and, with a
//! server-side store, on the server), revokes the refresh and access
//! tokens, and answers the provider's end-session URL.

use super::{error_with_cookies, request_app, with_cookies};
use crate::clock;
use crate::error::BffError;
use crate::oidc::TokenHint;
use crate::session::IdTokenPayload;
use crate::session::request_cookies;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use th_contract::LogoutResponse;
use th_cookies::{CookieKind, Secret};

/// 200 and every cookie cleared: a failed revocation or an unreachable
/// provider is logged and the logout goes on. Only a server-side store that
/// cannot end the session answers 503 (the cookies are cleared even then,
/// and the SPA may try again).
pub async fn post(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let mut cookies = state.store.clearing_cookies(&req);
    cookies.extend(state.vault.clear(&request_cookies(&req), CookieKind::Login));
    let session = match load(&req, &state).await {
        Ok(found) => found,
        Err(e) => return error_with_cookies(&e, &cookies),
    };
    // The access token too: a copied access-token cookie (or a token an
    // upstream logged) must stop working now, not when it expires.
    for (token, hint) in [
        (session.refresh.as_ref(), TokenHint::Refresh),
        (session.access.as_ref(), TokenHint::Access),
    ] {
        let Some(token) = token else { continue };
        match state.oidc.revoke(token, hint).await {
            Ok(true) => tracing::info!(?hint, "revoked a token at logout"),
            Ok(false) => tracing::info!("the provider has no revocation endpoint"),
            Err(e) => {
                tracing::warn!(?hint, error = %e, "revoking a token failed; logging out anyway")
            }
        }
    }
    let app = request_app(&req);
    let after = state
        .oidc
        .post_logout_uri_for(app.as_ref().map(|a| a.as_str()));
    let logout_url = match state
        .oidc
        .logout_url(session.id.as_ref().map(|i| &i.token), after)
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
    crate::metrics::logged_out();
    with_cookies(&mut HttpResponse::Ok(), &cookies).json(LogoutResponse { logout_url })
}

/// What logout needs of the session; each part may be absent.
struct Ending {
    id: Option<IdTokenPayload>,
    refresh: Option<Secret>,
    access: Option<Secret>,
}

async fn load(req: &HttpRequest, state: &AppState) -> Result<Ending, BffError> {
    Ok(Ending {
        id: state.store.id_token(req, clock::now()).await?,
        refresh: state.store.refresh_token(req).await?,
        access: state.store.access_token(req).await?.map(|a| a.token),
    })
}
