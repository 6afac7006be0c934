//! The overview: the session's expiry and the ID token's claims.

use leptos::prelude::*;

use crate::app::AuthState;
use crate::bff;
use crate::time;
use crate::views::common::{ClaimsTable, ErrorPanel, Loading};

/// Session expiry and claims.
#[component]
pub fn Overview() -> impl IntoView {
    let auth = AuthState::get();
    let session = LocalResource::new(move || async move { auth.check(bff::session().await) });
    let claims = LocalResource::new(move || async move { auth.check(bff::claims().await) });
    let now = RwSignal::new(unix_now());
    let ticker = set_interval_with_handle(
        move || now.set(unix_now()),
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });

    view! {
        <section class="card">
            <h1>"Your session"</h1>
            {move || match session.get() {
                None => view! { <Loading label="Loading your session…" /> }.into_any(),
                Some(Err(error)) => {
                    view! {
                        <ErrorPanel
                            title="Could not load your session"
                            error
                            on_retry=move || session.refetch()
                        />
                    }
                        .into_any()
                }
                Some(Ok(s)) => {
                    let expiry = s
                        .expires_at
                        .map(|at| {
                            let local = js_sys::Date::new(&((at as f64) * 1000.0).into())
                                .to_locale_time_string("default");
                            view! {
                                <p id="session-expiry">
                                    "The access token "
                                    {move || if at > now.get() { "expires " } else { "expired " }}
                                    <strong>{move || time::relative(at, now.get())}</strong>
                                    " (" {String::from(local)} "). "
                                    <span class="muted">
                                        "The backend renews it when an API call needs it."
                                    </span>
                                </p>
                            }
                        });
                    view! {
                        <p class="status-line">
                            <span class="dot ok" aria-hidden="true"></span>
                            "Signed in"
                        </p>
                        {expiry}
                    }
                        .into_any()
                }
            }}
        </section>
        <section class="card">
            <h2>"Claims"</h2>
            <p class="muted">"What the ID token says about you, as the backend validated it."</p>
            <div id="claims">
                {move || match claims.get() {
                    None => view! { <Loading label="Loading claims…" /> }.into_any(),
                    Some(Ok(c)) => view! { <ClaimsTable claims=c /> }.into_any(),
                    Some(Err(error)) => {
                        view! {
                            <ErrorPanel
                                title="Could not load your claims"
                                error
                                on_retry=move || claims.refetch()
                            />
                        }
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}

fn unix_now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
