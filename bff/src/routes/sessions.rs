//! "Sign out my other devices": `GET /bff/sessions` lists the user's live
//! sessions on this app, `DELETE /bff/sessions/{id}` ends one,
//! `POST /bff/sessions/end-others` ends all but the caller's. Only a store
//! that holds sessions on the server can (501 with the cookie store).

use super::with_cookies;
use crate::clock;
use crate::error::BffError;
use crate::session::Pick;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use th_contract::{EndedSessionsResponse, SessionsResponse};

const NO_SESSION: BffError = BffError::Unauthorized("no session, or it has ended");

/// The user's sessions, this one first.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, BffError> {
    let sessions = state
        .store
        .sessions(&req, clock::now())
        .await?
        .ok_or(NO_SESSION)?;
    Ok(with_cookies(&mut HttpResponse::Ok(), &[]).json(SessionsResponse { sessions }))
}

/// Ends one of the user's sessions: 204, or 404 when none has this id.
/// Ending one's own session also clears its cookies.
pub async fn end_one(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BffError> {
    let ended = state
        .store
        .end_sessions(&req, clock::now(), Pick::One(&id))
        .await?
        .ok_or(NO_SESSION)?;
    if ended.count == 0 {
        return Err(BffError::SessionNotFound);
    }
    let cookies = if ended.current {
        state.store.clearing_cookies(&req)
    } else {
        Vec::new()
    };
    Ok(with_cookies(&mut HttpResponse::NoContent(), &cookies).finish())
}

/// Ends every session of the user's on this app but the caller's.
pub async fn end_others(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, BffError> {
    let ended = state
        .store
        .end_sessions(&req, clock::now(), Pick::Others)
        .await?
        .ok_or(NO_SESSION)?;
    Ok(with_cookies(&mut HttpResponse::Ok(), &[])
        .json(EndedSessionsResponse { ended: ended.count }))
}
