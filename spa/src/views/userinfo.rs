//! The provider's userinfo, fetched by the backend with the access token.

use leptos::prelude::*;

use crate::app::AuthState;
use crate::bff;
use crate::views::common::{ClaimsTable, ErrorPanel, Loading};

/// The userinfo page.
#[component]
pub fn Userinfo() -> impl IntoView {
    let auth = AuthState::get();
    let info = LocalResource::new(move || async move { auth.check(bff::userinfo().await) });
    view! {
        <section class="card">
            <h1>"Userinfo"</h1>
            <p class="muted">
                "The provider's userinfo endpoint, called by the backend with your access token."
            </p>
            <div id="userinfo">
                {move || match info.get() {
                    None => view! { <Loading label="Asking the provider…" /> }.into_any(),
                    Some(Ok(c)) => view! { <ClaimsTable claims=c /> }.into_any(),
                    Some(Err(error)) => {
                        view! {
                            <ErrorPanel
                                title="Could not load userinfo"
                                error
                                on_retry=move || info.refetch()
                            />
                        }
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}
