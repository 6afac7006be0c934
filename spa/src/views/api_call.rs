//! A call to the example API through the BFF's proxy: the browser sends a
//! cookie, the API receives a bearer token.

use js_sys::JSON;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

use crate::BFF;
use crate::views::common::{Load, Loaded};

/// The example API's route on the proxy.
pub const EXAMPLE_API: &str = "/api/example/hello";

/// The API page.
#[component]
pub fn ApiCall() -> impl IntoView {
    let answer = Load::new(|this| async move {
        let reply = BFF.call("GET", EXAMPLE_API).await?;
        let status = reply.status;
        let body = pretty(reply.body);
        Ok(ViewFn::from(move || {
            view! {
                <p class="status-line">
                    <span class="dot ok" aria-hidden="true"></span>
                    {format!("HTTP {status}")}
                </p>
                <pre class="json" id="api-body">{body.clone()}</pre>
                <button class="button secondary" id="call-api" on:click=move |_| this.reload()>
                    "Call again"
                </button>
            }
        }))
    });
    view! {
        <section class="card">
            <h1>"Example API"</h1>
            <p class="muted">
                "The browser calls " <code>{EXAMPLE_API}</code>
                " with its cookie; the backend forwards the call with a bearer token in its place."
            </p>
            <div id="api-answer">
                <Loaded load=answer waiting="Calling the API…" failed="The API call failed" />
            </div>
        </section>
    }
}

/// A JSON answer indented by the browser's own `JSON` (smaller than doing it
/// in Rust); anything else as it came.
fn pretty(body: String) -> String {
    JSON::parse(&body)
        .and_then(|v| JSON::stringify_with_replacer_and_space(&v, &JsValue::NULL, &2.into()))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or(body)
}
