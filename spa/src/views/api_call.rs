//! A call to the example API through the BFF's proxy: the browser sends a
//! cookie, the API receives a bearer token.

use leptos::prelude::*;

use crate::app::AuthState;
use crate::bff;
use crate::views::common::{ErrorPanel, Loading};

/// The example API's route on the proxy.
pub const EXAMPLE_API: &str = "/api/example/hello";

/// The API page.
#[component]
pub fn ApiCall() -> impl IntoView {
    let auth = AuthState::get();
    let answer =
        LocalResource::new(move || async move { auth.check(bff::api_get(EXAMPLE_API).await) });
    view! {
        <section class="card">
            <h1>"Example API"</h1>
            <p class="muted">
                "The browser calls " <code>{EXAMPLE_API}</code>
                " with its cookie; the backend forwards the call with a bearer token in its place."
            </p>
            <div id="api-answer">
                {move || match answer.get() {
                    None => view! { <Loading label="Calling the API…" /> }.into_any(),
                    Some(Ok((status, body))) => {
                        view! {
                            <p class="status-line">
                                <span class="dot ok" aria-hidden="true"></span>
                                {format!("HTTP {status}")}
                            </p>
                            <pre class="json" id="api-body">{body}</pre>
                            <button class="button secondary" id="call-api" on:click=move |_| answer.refetch()>
                                "Call again"
                            </button>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => {
                        view! {
                            <ErrorPanel
                                title="The API call failed"
                                error
                                on_retry=move || answer.refetch()
                            />
                        }
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}
