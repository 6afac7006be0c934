//! The signed-out page: one clear way in.

use leptos::prelude::*;
use leptos::task::spawn_local;

use th_client::ApiError;

use crate::BFF;

/// The landing page for a visitor without a session.
#[component]
pub fn SignedOut(notice: Option<String>) -> impl IntoView {
    // The deep link the visitor opened; the BFF keeps it through the round trip.
    let page = window().location();
    let deep_link = format!(
        "{}{}{}",
        page.pathname().unwrap_or_default(),
        page.search().unwrap_or_default(),
        page.hash().unwrap_or_default()
    );
    let return_to = (deep_link != "/").then_some(deep_link);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<ApiError>);
    let sign_in = {
        let return_to = return_to.clone();
        move |_| {
            busy.set(true);
            failure.set(None);
            let return_to = return_to.clone();
            spawn_local(async move {
                match BFF.login_start(return_to).await {
                    Ok(start) => {
                        // Leaving for the provider; keep the button busy until then.
                        if window()
                            .location()
                            .assign(&start.authorization_url)
                            .is_err()
                        {
                            busy.set(false);
                        }
                    }
                    Err(e) => {
                        failure.set(Some(e));
                        busy.set(false);
                    }
                }
            });
        }
    };

    view! {
        <section class="card hero">
            {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <h1>"Sign in to continue"</h1>
            <p class="lead">
                "Sign in with your identity provider. This app never sees your tokens: "
                "they stay with the backend, in encrypted, HttpOnly cookies."
            </p>
            {return_to
                .map(|path| {
                    view! {
                        <p class="muted">
                            "After signing in you will return to " <code>{path}</code> "."
                        </p>
                    }
                })}
            <button
                class="button primary"
                id="sign-in"
                on:click=sign_in
                disabled=move || busy.get()
                aria-busy=move || busy.get().then_some("true")
            >
                {move || if busy.get() { "Redirecting…" } else { "Sign in" }}
            </button>
            {move || {
                failure
                    .get()
                    .map(|e| {
                        view! {
                            <p class="inline-error" role="alert">
                                {format!("Could not start sign-in. {e}")}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
