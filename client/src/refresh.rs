//! The 401 → one refresh → retry rule. Concurrent 401s share one refresh,
//! because the provider rotates refresh tokens and a second refresh with the
//! old cookie would be refused as a replay (and the session revoked). Other
//! tabs share the cookies, so where the browser has Web Locks the tabs also
//! take turns: each refreshes under one exclusive lock, and first repeats the
//! failed call to see whether another tab has refreshed meanwhile.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::error::ApiError;
use crate::fetch::{Reply, send};

/// The Web Lock every tab of the app takes around `POST /bff/refresh`.
pub const REFRESH_LOCK: &str = "th-refresh";

/// `method` `url`, refreshing once and repeating once on a 401;
/// `refresh_url` is the BFF's `/bff/refresh`. A second 401 is [`ApiError::SignedOut`].
pub async fn authed(method: &str, url: &str, refresh_url: &str) -> Result<Reply, ApiError> {
    let first = send(method, url, None).await?;
    if first.status != 401 {
        return Ok(first);
    }
    refresh(refresh_url, Some((method, url))).await?;
    let second = send(method, url, None).await?;
    if second.status == 401 {
        return Err(ApiError::SignedOut);
    }
    Ok(second)
}

type Refresh = Shared<LocalBoxFuture<'static, Result<(), ApiError>>>;

thread_local! {
    static REFRESH_IN_FLIGHT: RefCell<Option<Refresh>> = const { RefCell::new(None) };
}

/// `POST refresh_url`, shared by every caller that asks while one is running;
/// `failed` is the call that got the 401, if one did.
pub async fn refresh(refresh_url: &str, failed: Option<(&str, &str)>) -> Result<(), ApiError> {
    let shared = REFRESH_IN_FLIGHT.with(|slot| {
        slot.borrow_mut()
            .get_or_insert_with(|| {
                let refresh_url = refresh_url.to_owned();
                let failed = failed.map(|(m, u)| (m.to_owned(), u.to_owned()));
                async move {
                    let result = refresh_in_turn(refresh_url, failed).await;
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
async fn refresh_in_turn(
    refresh_url: String,
    failed: Option<(String, String)>,
) -> Result<(), ApiError> {
    let Some(locks) = web_locks() else {
        return post_refresh(&refresh_url).await;
    };
    let outcome = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&outcome);
    let url = refresh_url.clone();
    let in_lock = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        future_to_promise(async move {
            let again = match &failed {
                Some((method, path)) => send(method, path, None).await.ok(),
                None => None,
            };
            let result = match again {
                Some(again) if again.status != 401 => Ok(()),
                _ => post_refresh(&url).await,
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
        None => post_refresh(&refresh_url).await,
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
async fn post_refresh(refresh_url: &str) -> Result<(), ApiError> {
    let reply = send("POST", refresh_url, None).await?;
    crate::ok(reply).map(drop)
}
