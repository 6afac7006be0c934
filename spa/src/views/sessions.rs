//! "Sign out my other devices": where the user is signed in to this app, and
//! ending those sessions. Only a BFF that keeps sessions on the server (the
//! Redis store) can list them; with the cookie store the page says so.

use leptos::prelude::*;
use leptos::task::spawn_local;
use th_contract::{SessionSummary, codes};

use crate::app::AuthState;
use crate::bff;
use crate::error::ApiError;
use crate::time;
use crate::views::common::{ErrorPanel, Loading};

/// The sessions page.
#[component]
pub fn Sessions() -> impl IntoView {
    let auth = AuthState::get();
    let list = LocalResource::new(move || async move { auth.check(bff::sessions().await) });
    let busy = RwSignal::new(false);
    // What the last sign-out did, or why it failed.
    let notice = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<ApiError>);
    // `None` ends every session but this one.
    let end = move |id: Option<String>| {
        busy.set(true);
        notice.set(None);
        failure.set(None);
        spawn_local(async move {
            let result = match id {
                Some(id) => bff::end_session(&id)
                    .await
                    .map(|()| "That device is signed out.".to_owned()),
                None => bff::end_other_sessions()
                    .await
                    .map(|e| ended_message(e.ended)),
            };
            match auth.check(result) {
                Ok(done) => notice.set(Some(done)),
                // The app shows the signed-out page instead.
                Err(ApiError::SignedOut) => return,
                Err(e) if e.has_code(codes::SESSION_NOT_FOUND) => {
                    notice.set(Some("That device had already signed out.".into()));
                }
                Err(e) => failure.set(Some(e)),
            }
            busy.set(false);
            list.refetch();
        });
    };

    view! {
        <section class="card">
            <h1>"Your devices"</h1>
            <p class="muted">
                "Where you are signed in to this app. A device you sign out here has to sign in again."
            </p>
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            {move || {
                failure
                    .get()
                    .map(|e| {
                        view! {
                            <p class="inline-error" role="alert">
                                {format!("Could not sign that device out. {e}")}
                            </p>
                        }
                    })
            }}
            <div id="sessions">
                {move || match list.get() {
                    None => view! { <Loading label="Loading your devices…" /> }.into_any(),
                    Some(Err(e)) if e.has_code(codes::SESSIONS_UNAVAILABLE) => {
                        view! {
                            <p id="sessions-unavailable">
                                "This deployment keeps sessions in cookies only, so listing your devices and signing them out from here is not available. "
                                "Signing out signs out this browser."
                            </p>
                        }
                            .into_any()
                    }
                    Some(Err(error)) => {
                        view! {
                            <ErrorPanel
                                title="Could not load your devices"
                                error
                                on_retry=move || list.refetch()
                            />
                        }
                            .into_any()
                    }
                    Some(Ok(answer)) => {
                        let now = (js_sys::Date::now() / 1000.0) as i64;
                        let others = answer.sessions.iter().any(|s| !s.current);
                        let rows = answer
                            .sessions
                            .into_iter()
                            .map(|s| row(s, now, busy, end))
                            .collect_view();
                        view! {
                            <ul class="sessions">{rows}</ul>
                            {others
                                .then(|| {
                                    view! {
                                        <button
                                            class="button primary"
                                            id="end-others"
                                            on:click=move |_| end(None)
                                            disabled=move || busy.get()
                                        >
                                            "Sign out all other devices"
                                        </button>
                                    }
                                })}
                            {(!others)
                                .then(|| {
                                    view! {
                                        <p class="muted">"You are not signed in on any other device."</p>
                                    }
                                })}
                        }
                            .into_any()
                    }
                }}
            </div>
        </section>
    }
}

/// One device: its browser, when it signed in and was last active, and a
/// sign-out button unless it is this one. The id stays out of the page.
fn row(
    s: SessionSummary,
    now: i64,
    busy: RwSignal<bool>,
    end: impl Fn(Option<String>) + Copy + 'static,
) -> impl IntoView {
    let SessionSummary {
        id,
        created_at,
        last_seen_at,
        user_agent,
        current,
    } = s;
    view! {
        <li class="session">
            <div class="session-about">
                <strong>{user_agent}</strong>
                <span class="muted">
                    {format!("Signed in {} ({})", time::ago(created_at, now), local(created_at))}
                </span>
                <span class="muted">{format!("Last active {}", time::ago(last_seen_at, now))}</span>
            </div>
            {current.then(|| view! { <span class="badge">"This device"</span> })}
            {(!current)
                .then(|| {
                    view! {
                        <button
                            class="button secondary"
                            on:click=move |_| end(Some(id.clone()))
                            disabled=move || busy.get()
                        >
                            "Sign out"
                        </button>
                    }
                })}
        </li>
    }
}

/// A Unix time as this browser's local date and time.
fn local(at: i64) -> String {
    js_sys::Date::new(&((at as f64) * 1000.0).into())
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// What "Sign out all other devices" did, in words.
fn ended_message(ended: u32) -> String {
    match ended {
        0 => "No other device was signed in.".into(),
        1 => "Signed out 1 other device.".into(),
        n => format!("Signed out {n} other devices."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ended_count_reads_as_a_sentence() {
        assert_eq!(ended_message(0), "No other device was signed in.");
        assert_eq!(ended_message(1), "Signed out 1 other device.");
        assert_eq!(ended_message(3), "Signed out 3 other devices.");
    }
}
