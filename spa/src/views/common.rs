//! Pieces every screen uses: the loading state, the error panel, a claims table.

use leptos::prelude::*;
use serde_json::Value;

use crate::bff::Json;
use crate::error::ApiError;

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
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let rows = claims
        .into_iter()
        .map(|(name, value)| {
            let when = match (&value, name.as_str()) {
                (Value::Number(n), "exp" | "iat" | "auth_time" | "nbf" | "updated_at") => n
                    .as_i64()
                    .map(|t| format!(" ({})", crate::time::relative(t, now))),
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
