//! The provider's userinfo, fetched by the backend with the access token.

use leptos::prelude::*;

use crate::BFF;
use crate::views::common::{Load, Loaded, claims_table};

/// The userinfo page.
#[component]
pub fn Userinfo() -> impl IntoView {
    let info = Load::new(|_| async { BFF.userinfo().await.map(claims_table) });
    view! {
        <section class="card">
            <h1>"Userinfo"</h1>
            <p class="muted">
                "The provider's userinfo endpoint, called by the backend with your access token."
            </p>
            <div id="userinfo">
                <Loaded load=info waiting="Asking the provider…" failed="Could not load userinfo" />
            </div>
        </section>
    }
}
