//! The app shell: which view the session state means.

use leptos::prelude::*;
use th_client::leptos::{Auth, AuthState};

use crate::BFF;
use crate::route::Location;
use crate::views::common::{ErrorPanel, Loading};
use crate::views::{signed_in::SignedIn, signed_out::SignedOut};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let location = Location::install();
    let state = AuthState::start(BFF, move |address| location.replace(&address));

    view! {
        <div class="shell">
            <header class="topbar">
                <div class="topbar-inner">
                    <a class="brand" href="/">
                        <span class="brand-mark" aria-hidden="true"></span>
                        "Token Handler"
                    </a>
                </div>
            </header>
            <main class="content" id="main">
                {move || match state.read() {
                    Auth::Checking => view! { <Loading label="Checking your session…" /> }.into_any(),
                    Auth::SignedOut { notice } => view! { <SignedOut notice /> }.into_any(),
                    Auth::SignedIn(session) => view! { <SignedIn session /> }.into_any(),
                    Auth::Failed(error) => {
                        view! {
                            <ErrorPanel
                                title="We could not check your session"
                                error
                                on_retry=move || state.recheck()
                            />
                        }
                            .into_any()
                    }
                }}
            </main>
            <footer class="footer">
                "Your tokens never reach this page: the backend keeps them in encrypted, HttpOnly cookies."
            </footer>
        </div>
    }
}
