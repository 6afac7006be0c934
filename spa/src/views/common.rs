//! Pieces every screen uses: a page's data as it loads (spinner, error panel
//! with "Try again", or the view of what arrived), and a claims table.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use th_client::leptos::AuthState;
use th_client::{ApiError, Json};

use crate::time;

/// What a page shows once its data has arrived, or why it could not.
pub type Shown = Result<ViewFn, ApiError>;

type Loader = Box<dyn Fn(Load) -> Pin<Box<dyn Future<Output = Shown>>>>;

/// A page's data: loads at once, and again on [`Load::reload`]. Not generic
/// over the data, so every page shares one copy of the loading machinery.
#[derive(Clone, Copy)]
pub struct Load {
    shown: RwSignal<Option<Shown>>,
    loader: StoredValue<Loader, LocalStorage>,
    auth: AuthState,
}

impl Load {
    /// Starts `load`, which gets this handle (for a "Call again" button in
    /// what it shows). A session that ended, even after a refresh, switches
    /// the app to signed-out (see [`AuthState::check`]).
    pub fn new<F>(load: impl Fn(Load) -> F + 'static) -> Self
    where
        F: Future<Output = Shown> + 'static,
    {
        let loader: Loader = Box::new(move |this| Box::pin(load(this)));
        let this = Self {
            shown: RwSignal::new(None),
            loader: StoredValue::new_local(loader),
            auth: AuthState::get(),
        };
        this.reload();
        this
    }

    /// Loads again, showing the spinner meanwhile.
    pub fn reload(self) {
        self.shown.set(None);
        let Some(pending) = self.loader.try_with_value(|load| load(self)) else {
            return;
        };
        spawn_local(async move {
            let shown = self.auth.check(pending.await);
            // The page may have gone meanwhile.
            self.shown.try_set(Some(shown));
        });
    }
}

/// The one loading / failed / loaded block of every page.
#[component]
pub fn Loaded(
    load: Load,
    /// What the spinner says it waits for.
    waiting: &'static str,
    /// The error panel's title.
    failed: &'static str,
) -> impl IntoView {
    move || match load.shown.get() {
        None => view! { <Loading label=waiting /> }.into_any(),
        Some(Ok(shown)) => shown.run(),
        Some(Err(error)) => {
            view! { <ErrorPanel title=failed error on_retry=move || load.reload() /> }.into_any()
        }
    }
}

/// A visible wait.
#[component]
pub fn Loading(label: &'static str) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {label}
        </div>
    }
}

/// A readable failure with a way to try again.
#[component]
pub fn ErrorPanel(
    title: &'static str,
    error: ApiError,
    on_retry: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <div class="card error" role="alert">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            <button class="button secondary" on:click=move |_| on_retry()>
                "Try again"
            </button>
        </div>
    }
}

/// Claims as a two-column table; times also shown in words.
#[component]
pub fn ClaimsTable(claims: Json) -> impl IntoView {
    let now = time::unix_now();
    let rows = claims
        .into_iter()
        .map(|(name, value)| {
            let when = match (&value, name.as_str()) {
                (Value::Number(n), "exp" | "iat" | "auth_time" | "nbf" | "updated_at") => {
                    n.as_i64().map(|t| format!(" ({})", time::relative(t, now)))
                }
                _ => None,
            };
            let shown = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            view! {
                <tr>
                    <th scope="row">{name}</th>
                    <td>
                        <code>{shown}</code>
                        <span class="muted">{when}</span>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="claims">
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The view of a claims answer.
pub fn claims_table(claims: Json) -> ViewFn {
    ViewFn::from(move || view! { <ClaimsTable claims=claims.clone() /> })
}
