//! `POST /bff/login/start` and `POST /bff/login/end`.
//!
//! The provider redirects the browser to the SPA (the registered redirect
//! URI); the SPA posts that URL here with a same-site `fetch`, which is why
//! every cookie can be `SameSite=Strict`.

use super::token_set::{expiry, save_tokens};
use super::{error_with_cookies, request_app, with_cookies};
use crate::clock;
use crate::error::BffError;
use crate::session::request_cookies;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use th_contract::{
    LoginEndRequest, LoginEndResponse, LoginStartRequest, LoginStartResponse, ReturnTo,
};
use th_cookies::{CookieKind, CookieOut, Secret};
use th_http::app_origin::RequestContext;
use th_http::forwarded::client_ip;
use url::Url;

/// The login cookie's content, from start to end of one login.
#[derive(Debug, Serialize, Deserialize)]
struct LoginState {
    state: Secret,
    nonce: Secret,
    verifier: Secret,
    return_to: Option<String>,
    /// The redirect URI sent with this login; the code exchange repeats it.
    redirect_uri: String,
    created_at: i64,
}

/// Starts a login: answers the authorization URL, sets the login cookie.
pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginStartRequest>,
) -> Result<HttpResponse, BffError> {
    let return_to = body
        .into_inner()
        .return_to
        .map(|raw| ReturnTo::parse(&raw))
        .transpose()
        .map_err(|e| BffError::BadRequest(e.to_string()))?;
    if let Some(limiter) = &state.login_limiter {
        let context = RequestContext::of(&req);
        if let Some(client) = client_ip(&req, context.trusted_hops) {
            limiter.check(client).map_err(|wait| {
                crate::metrics::login_rate_limited();
                BffError::TooManyRequests(wait)
            })?;
        }
    }
    let app = request_app(&req).ok_or_else(|| {
        BffError::BadRequest(
            "this host is not one of the configured app origins (cors.allowed_origins); \
             start the login from the app's own host"
                .into(),
        )
    })?;
    let redirect = state.oidc.redirect_uri_for(Some(app.as_str())).clone();
    let login = state.oidc.start_login(&redirect).await?;
    let saved = LoginState {
        state: login.state,
        nonce: login.nonce,
        verifier: login.pkce_verifier,
        return_to: return_to.map(|r| r.as_str().to_owned()),
        redirect_uri: redirect.to_string(),
        created_at: clock::now(),
    };
    let cookies = state.vault.write_json(
        &request_cookies(&req),
        CookieKind::Login,
        &saved,
        state.login_lifetime,
    )?;
    crate::metrics::login_started();
    Ok(
        with_cookies(&mut HttpResponse::Ok(), &cookies).json(LoginStartResponse {
            authorization_url: login.authorization_url,
        }),
    )
}

/// Ends a login when `pageUrl` is the provider's answer; otherwise reports the session.
pub async fn end(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginEndRequest>,
) -> HttpResponse {
    let page = match Url::parse(&body.page_url) {
        Ok(url) => url,
        Err(_) => {
            return BffError::BadRequest("pageUrl must be an absolute URL".into()).error_response();
        }
    };
    let callback = state.oidc.redirect_uris().iter().find_map(|redirect| {
        callback_params(&page, redirect)
            .transpose()
            .map(|p| (p, redirect))
    });
    let (params, redirect) = match callback {
        Some((Ok(params), redirect)) => (params, redirect.clone()),
        None => {
            let logged_in = match state.store.id_token(&req, clock::now()).await {
                Ok(id) => id.is_some(),
                Err(e) => return BffError::from(e).error_response(),
            };
            return with_cookies(&mut HttpResponse::Ok(), &[]).json(LoginEndResponse {
                handled: false,
                is_logged_in: logged_in,
                return_to: None,
            });
        }
        Some((Err(e), _)) => {
            let reason = crate::metrics::login_failed(&e);
            tracing::info!(reason, "login failed");
            // A malformed callback still ends the login: its cookie is single-use.
            let clear_login = state.vault.clear(&request_cookies(&req), CookieKind::Login);
            return error_with_cookies(&e, &clear_login);
        }
    };
    // The login cookie is single-use: it goes, whatever happens next.
    let clear_login = state.vault.clear(&request_cookies(&req), CookieKind::Login);
    match complete(&req, &state, &params, &redirect).await {
        Ok((mut cookies, return_to)) => {
            crate::metrics::login_completed();
            tracing::info!("login completed");
            cookies.extend(clear_login);
            with_cookies(&mut HttpResponse::Ok(), &cookies).json(LoginEndResponse {
                handled: true,
                is_logged_in: true,
                return_to,
            })
        }
        Err(e) => {
            // One line per failed login, named for the log metric filter
            // (terraform/modules/observability) to count.
            let reason = crate::metrics::login_failed(&e);
            tracing::info!(reason, "login failed");
            error_with_cookies(&e, &clear_login)
        }
    }
}

/// The authorization response's parameters, when `page` is one: the
/// redirect URI's origin and path, with `state` and `code` or `error`.
fn callback_params(
    page: &Url,
    redirect_uri: &Url,
) -> Result<Option<HashMap<String, String>>, BffError> {
    if page.origin() != redirect_uri.origin() || page.path() != redirect_uri.path() {
        return Ok(None);
    }
    let mut params = HashMap::new();
    for (key, value) in page.query_pairs() {
        if params.insert(key.to_string(), value.to_string()).is_some() {
            return Err(BffError::BadRequest(format!(
                "pageUrl repeats the parameter {key:?}"
            )));
        }
    }
    let is_callback = params.contains_key("state")
        && (params.contains_key("code") || params.contains_key("error"));
    Ok(is_callback.then_some(params))
}

async fn complete(
    req: &HttpRequest,
    state: &AppState,
    params: &HashMap<String, String>,
    redirect: &Url,
) -> Result<(Vec<CookieOut>, Option<String>), BffError> {
    let login: LoginState = state
        .vault
        .read_json(&request_cookies(req), CookieKind::Login)
        .map_err(|_| LoginFailure::NoLoginInProgress)?;
    let age = clock::now() - login.created_at;
    if age < 0 || age as u64 > state.login_lifetime.as_secs() {
        th_cookies::metrics::expired();
        return Err(LoginFailure::Expired.into());
    }
    let same_app =
        request_app(req).is_some_and(|app| app.as_str() == redirect.origin().ascii_serialization());
    if login.redirect_uri != redirect.as_str() || !same_app {
        return Err(LoginFailure::OtherApp.into());
    }
    if !constant_time_eq(params["state"].as_bytes(), login.state.expose().as_bytes()) {
        return Err(LoginFailure::StateMismatch.into());
    }
    // RFC 9207: a response must come from the issuer we sent the browser to.
    match params.get("iss") {
        Some(iss) if iss != state.oidc.issuer() => {
            return Err(LoginFailure::WrongIssuer.into());
        }
        None if state.oidc.sends_iss().await? => {
            return Err(LoginFailure::MissingIssuer.into());
        }
        _ => {}
    }
    if let Some(error) = params.get("error") {
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(LoginFailure::ProviderError(code).into());
    }
    let code = params
        .get("code")
        .ok_or_else(|| BffError::BadRequest("the response has no code".into()))?;
    let tokens = state
        .oidc
        .finish_login(code, &login.verifier, &login.nonce, redirect)
        .await?;
    let now = clock::now();
    let session_expires_at = expiry(now, state.session_lifetime.as_secs(), i64::MAX);
    let cookies = save_tokens(req, state, &tokens, None, session_expires_at, now).await?;
    Ok((cookies, login.return_to))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect() -> Url {
        Url::parse("https://app.example/").unwrap()
    }

    #[test]
    fn a_callback_needs_the_redirect_uri_state_and_code() {
        let page = Url::parse("https://app.example/?code=c&state=s").unwrap();
        assert!(callback_params(&page, &redirect()).unwrap().is_some());
        let other_path = Url::parse("https://app.example/orders?code=c&state=s").unwrap();
        assert!(callback_params(&other_path, &redirect()).unwrap().is_none());
        let other_origin = Url::parse("https://evil.example/?code=c&state=s").unwrap();
        assert!(
            callback_params(&other_origin, &redirect())
                .unwrap()
                .is_none()
        );
        let no_state = Url::parse("https://app.example/?code=c").unwrap();
        assert!(callback_params(&no_state, &redirect()).unwrap().is_none());
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        let page = Url::parse("https://app.example/?code=c&state=s&state=t").unwrap();
        assert!(callback_params(&page, &redirect()).is_err());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

/// Why a browser's login could not complete; the SPA should start again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginFailure {
    #[error(
        "no login is in progress in this browser (the login cookie is missing or unreadable); start again"
    )]
    NoLoginInProgress,
    #[error("the login took too long; start again")]
    Expired,
    #[error("the response arrived at another app than the one that started the login")]
    OtherApp,
    #[error("the state does not match this browser's login")]
    StateMismatch,
    #[error("the response's iss is not the configured issuer")]
    WrongIssuer,
    #[error("the response lacks the iss parameter the provider promises")]
    MissingIssuer,
    /// The provider's `error` code (sanitized: letters, digits, `_`).
    #[error("the provider answered {0}")]
    ProviderError(String),
}

impl From<LoginFailure> for BffError {
    fn from(failure: LoginFailure) -> Self {
        Self::LoginFailed(failure)
    }
}
