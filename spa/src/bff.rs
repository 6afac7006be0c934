//! The BFF's contract as async functions. Types come from `th-contract`, the
//! same definitions the server uses.
//!
//! Calls that need a session go through [`authed`]: on a 401 it asks the BFF
//! to refresh the tokens once and retries once; only a second failure means
//! the user is signed out. Concurrent 401s share one refresh, because the
//! provider rotates refresh tokens and a second refresh with the old cookie
//! would be refused as a replay.

use std::cell::RefCell;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use th_contract::{
    ErrorBody, LoginEndRequest, LoginEndResponse, LoginStartRequest, LoginStartResponse,
    LogoutResponse, SessionResponse, paths,
};

use crate::error::ApiError;
use crate::fetch::{Reply, send};

/// A JSON object as the provider sent it (claims, userinfo).
pub type Json = Map<String, Value>;

/// `POST /bff/login/start`: where to send the browser to sign in.
pub async fn login_start(return_to: Option<String>) -> Result<LoginStartResponse, ApiError> {
    let body = to_json(&LoginStartRequest { return_to });
    decode(send("POST", paths::LOGIN_START, Some(body)).await?)
}

/// `POST /bff/login/end`: completes a login when the page URL is the
/// provider's redirect, and reports the session either way.
pub async fn login_end(page_url: String) -> Result<LoginEndResponse, ApiError> {
    let body = to_json(&LoginEndRequest { page_url });
    decode(send("POST", paths::LOGIN_END, Some(body)).await?)
}

/// `GET /bff/session`.
pub async fn session() -> Result<SessionResponse, ApiError> {
    authed("GET", paths::SESSION).await.and_then(decode)
}

/// `GET /bff/claims`: the ID token's claims.
pub async fn claims() -> Result<Json, ApiError> {
    authed("GET", paths::CLAIMS).await.and_then(decode)
}

/// `GET /bff/userinfo`: the provider's userinfo answer.
pub async fn userinfo() -> Result<Json, ApiError> {
    authed("GET", paths::USERINFO).await.and_then(decode)
}

/// `POST /bff/logout`: clears the session; the provider's logout URL, if any.
pub async fn logout() -> Result<LogoutResponse, ApiError> {
    decode(send("POST", paths::LOGOUT, None).await?)
}

/// A call through the BFF's API proxy; the answer as pretty-printed text.
pub async fn api_get(path: &str) -> Result<(u16, String), ApiError> {
    let reply = authed("GET", path).await?;
    let text = match serde_json::from_str::<Value>(&reply.body) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or(reply.body),
        Err(_) => reply.body,
    };
    Ok((reply.status, text))
}

async fn authed(method: &str, path: &str) -> Result<Reply, ApiError> {
    let first = send(method, path, None).await?;
    if first.status != 401 {
        return ok(first);
    }
    refresh().await?;
    let second = send(method, path, None).await?;
    if second.status == 401 {
        return Err(ApiError::SignedOut);
    }
    ok(second)
}

type Refresh = Shared<LocalBoxFuture<'static, Result<(), ApiError>>>;

thread_local! {
    static REFRESH_IN_FLIGHT: RefCell<Option<Refresh>> = const { RefCell::new(None) };
}

/// `POST /bff/refresh`, shared by every caller that asks while one is running.
async fn refresh() -> Result<(), ApiError> {
    let shared = REFRESH_IN_FLIGHT.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| {
                async {
                    let result = match send("POST", paths::REFRESH, None).await {
                        Ok(r) if r.status == 401 => Err(ApiError::SignedOut),
                        Ok(r) => ok(r).map(drop),
                        Err(e) => Err(e),
                    };
                    REFRESH_IN_FLIGHT.with(|slot| slot.borrow_mut().take());
                    result
                }
                .boxed_local()
                .shared()
            })
            .clone()
    });
    shared.await
}

fn ok(reply: Reply) -> Result<Reply, ApiError> {
    match reply.status {
        200..=299 => Ok(reply),
        401 => Err(ApiError::SignedOut),
        status => Err(ApiError::Status {
            status,
            body: serde_json::from_str::<ErrorBody>(&reply.body).ok(),
        }),
    }
}

fn decode<T: DeserializeOwned>(reply: Reply) -> Result<T, ApiError> {
    let reply = ok(reply)?;
    serde_json::from_str(&reply.body).map_err(|_| ApiError::Decode)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("contract types always serialise")
}
