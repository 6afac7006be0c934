//! The signed-in app: who you are, tabs for each page, and sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use th_client::ApiError;
use th_client::contract::SessionResponse;
use th_client::leptos::AuthState;

use crate::BFF;
use crate::route::{Link, Location, Route};
use crate::views::{api_call::ApiCall, overview::Overview, sessions::Sessions, userinfo::Userinfo};

/// The signed-in layout around the current page.
#[component]
pub fn SignedIn(session: SessionResponse) -> impl IntoView {
    let location = Location::get();
    let auth = AuthState::get();
    let claim = |name: &str| {
        session
            .claims
            .as_ref()
            .and_then(|c| c.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let name = claim("name")
        .or_else(|| claim("preferred_username"))
        .or_else(|| claim("sub"))
        .unwrap_or_else(|| "Signed in".into());
    let email = claim("email");
    // The browser's own upper-casing: Rust's would add its Unicode tables
    // to the wasm.
    let initial: String = js_sys::JsString::from(name.chars().next().unwrap_or('?'))
        .to_upper_case()
        .into();

    let leaving = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiError>);
    let sign_out = move |_| {
        leaving.set(true);
        failure.set(None);
        spawn_local(async move {
            match BFF.logout().await {
                Ok(out) => match out.logout_url {
                    // The provider ends its own session, then sends the browser back.
                    Some(url) if window().location().assign(&url).is_ok() => {}
                    _ => auth.signed_out("You have signed out."),
                },
                Err(e) => {
                    failure.set(Some(e));
                    leaving.set(false);
                }
            }
        });
    };

    view! {
        <div class="signed-in">
            <div class="userbar">
                <span class="avatar" aria-hidden="true">{initial}</span>
                <div class="who">
                    <strong id="user-name">{name}</strong>
                    {email.map(|e| view! { <span class="muted">{e}</span> })}
                </div>
                <button
                    class="button secondary"
                    id="sign-out"
                    on:click=sign_out
                    disabled=move || leaving.get()
                >
                    {move || if leaving.get() { "Signing out…" } else { "Sign out" }}
                </button>
            </div>
            {move || {
                failure
                    .get()
                    .map(|e| {
                        view! {
                            <p class="inline-error" role="alert">
                                {format!("Could not sign out. {e}")}
                            </p>
                        }
                    })
            }}
            <nav class="tabs" aria-label="Pages">
                {Route::TABS
                    .into_iter()
                    .map(|route| view! { <Link route>{route.label()}</Link> })
                    .collect_view()}
            </nav>
            {move || match location.route() {
                Route::Overview => view! { <Overview /> }.into_any(),
                Route::Userinfo => view! { <Userinfo /> }.into_any(),
                Route::Api => view! { <ApiCall /> }.into_any(),
                Route::Sessions => view! { <Sessions /> }.into_any(),
                Route::NotFound => {
                    view! {
                        <section class="card">
                            <h1>"Page not found"</h1>
                            <p>"There is nothing at this address."</p>
                            <Link route=Route::Overview>"Go to the overview"</Link>
                        </section>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
