//! The overview: the session's expiry and the ID token's claims.

use leptos::prelude::*;

use crate::BFF;
use crate::time::{self, unix_now};
use crate::views::common::{Load, Loaded, claims_table};

/// Session expiry and claims.
#[component]
pub fn Overview() -> impl IntoView {
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
    let session = Load::new(move |_| async move {
        let expires_at = BFF.session().await?.expires_at;
        Ok(ViewFn::from(move || {
            let expiry = expires_at.map(|at| {
                view! {
                    <p id="session-expiry">
                        "The access token "
                        {move || if at > now.get() { "expires " } else { "expired " }}
                        <strong>{move || time::relative(at, now.get())}</strong>
                        " (" {time::local_time(at)} "). "
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
        }))
    });
    let claims = Load::new(|_| async { BFF.claims().await.map(claims_table) });

    view! {
        <section class="card">
            <h1>"Your session"</h1>
            <Loaded load=session waiting="Loading your session…" failed="Could not load your session" />
        </section>
        <section class="card">
            <h2>"Claims"</h2>
            <p class="muted">"What the ID token says about you, as the backend validated it."</p>
            <div id="claims">
                <Loaded load=claims waiting="Loading claims…" failed="Could not load your claims" />
            </div>
        </section>
    }
}
