//! The BFF's contract as async functions. Types come from `th-contract`, the
//! same definitions the server uses.
//!
//! Calls that need a session go through [`authed`]: on a 401 it asks the BFF
//! to refresh the tokens once and retries once; only a second failure means
//! the user is signed out. Concurrent 401s share one refresh, because the
//! provider rotates refresh tokens and a second refresh with the old cookie
//! would be refused as a replay (and the session revoked). Other tabs share
//! the cookies, so where the browser has Web Locks the tabs also take turns:
//! each refreshes under one exclusive lock, and first repeats the failed call
//! to see whether another tab has refreshed meanwhile.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use th_contract::{
    EndedSessionsResponse, ErrorBody, LoginEndRequest, LoginEndResponse, LoginStartRequest,
    LoginStartResponse, LogoutResponse, SessionResponse, SessionsResponse, paths,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::error::ApiError;
use crate::fetch::{Reply, send};

/// The Web Lock every tab of the app takes around `POST /bff/refresh`.
const REFRESH_LOCK: &str = "th-refresh";

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

/// `GET /bff/sessions`: the user's sessions on this app, this one first.
pub async fn sessions() -> Result<SessionsResponse, ApiError> {
    authed("GET", paths::SESSIONS).await.and_then(decode)
}

/// `DELETE /bff/sessions/{id}`: ends one of the user's sessions.
pub async fn end_session(id: &str) -> Result<(), ApiError> {
    authed("DELETE", &session_path(id)).await.map(drop)
}

/// `POST /bff/sessions/end-others`: ends every session but this one; how many.
pub async fn end_other_sessions() -> Result<EndedSessionsResponse, ApiError> {
    authed("POST", paths::SESSIONS_END_OTHERS)
        .await
        .and_then(decode)
}

/// `/bff/sessions/{id}`, the id percent-encoded: it comes from the server
/// and is opaque, so nothing in it may change the path.
fn session_path(id: &str) -> String {
    let mut path = format!("{}/", paths::SESSIONS);
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
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
    refresh(method, path).await?;
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

/// `POST /bff/refresh`, shared by every caller that asks while one is running;
/// `method` and `path` are the call that got the 401.
async fn refresh(method: &str, path: &str) -> Result<(), ApiError> {
    let shared = REFRESH_IN_FLIGHT.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| {
                let (method, path) = (method.to_owned(), path.to_owned());
                async move {
                    let result = refresh_in_turn(method, path).await;
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

/// Refreshes under the tabs' exclusive Web Lock, unless the call that got
/// the 401 succeeds now (another tab refreshed while this one waited).
/// Without Web Locks (or if the lock request fails), refreshes straight away.
async fn refresh_in_turn(method: String, path: String) -> Result<(), ApiError> {
    let Some(locks) = web_locks() else {
        return post_refresh().await;
    };
    let outcome = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&outcome);
    let in_lock = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        future_to_promise(async move {
            let result = match send(&method, &path, None).await {
                Ok(again) if again.status != 401 => Ok(()),
                _ => post_refresh().await,
            };
            *slot.borrow_mut() = Some(result);
            Ok(JsValue::UNDEFINED)
        })
    });
    // The lock is held until the callback's promise settles.
    let _ = request_lock(&locks, &in_lock).await;
    let result = outcome.borrow_mut().take();
    match result {
        Some(result) => result,
        None => post_refresh().await,
    }
}

/// `navigator.locks`, where the browser has it (secure contexts only).
fn web_locks() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    locks.is_object().then_some(locks)
}

/// `navigator.locks.request(REFRESH_LOCK, callback)`, awaited. Through
/// `Reflect` because web-sys has the Locks API only behind
/// `web_sys_unstable_apis`.
async fn request_lock(locks: &JsValue, callback: &JsValue) -> Result<JsValue, JsValue> {
    let request: Function = Reflect::get(locks, &JsValue::from_str("request"))?.dyn_into()?;
    let name = JsValue::from_str(REFRESH_LOCK);
    let promise: Promise = request.call2(locks, &name, callback)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// One `POST /bff/refresh`.
async fn post_refresh() -> Result<(), ApiError> {
    match send("POST", paths::REFRESH, None).await {
        Ok(r) if r.status == 401 => Err(ApiError::SignedOut),
        Ok(r) => ok(r).map(drop),
        Err(e) => Err(e),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_one_path_segment() {
        assert_eq!(session_path("0a1b2c3d4e5f"), "/bff/sessions/0a1b2c3d4e5f");
        assert_eq!(
            session_path("../end-others?x=1#y"),
            "/bff/sessions/..%2Fend-others%3Fx%3D1%23y"
        );
        assert_eq!(session_path("é"), "/bff/sessions/%C3%A9");
    }
}
