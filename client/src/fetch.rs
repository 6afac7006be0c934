//! One HTTP exchange with the BFF through the browser's `fetch`, always with
//! the session cookies (`credentials: include`) and the CSRF header.

use th_contract::{CSRF_HEADER, CSRF_VALUE};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

use crate::error::ApiError;

/// A response that arrived, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body as text (empty when there was none).
    pub body: String,
}

/// Sends one request to `url`; `json` becomes the body with its content type.
/// Any status is a [`Reply`]; only a request that got no answer fails.
pub async fn send(method: &str, url: &str, json: Option<String>) -> Result<Reply, ApiError> {
    exchange(method, url, json)
        .await
        .map_err(|_| ApiError::Network)
}

async fn exchange(method: &str, url: &str, json: Option<String>) -> Result<Reply, JsValue> {
    let headers = Headers::new()?;
    headers.set(CSRF_HEADER, CSRF_VALUE)?;
    headers.set("accept", "application/json")?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::Include);
    if let Some(json) = json {
        headers.set("content-type", "application/json")?;
        init.set_body(&JsValue::from_str(&json));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(url, &init)?;
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let body = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok(Reply {
        status: response.status(),
        body,
    })
}
