//! "Sign out my other devices": where the user is signed in to this app, and
//! ending those sessions. Only a BFF that keeps sessions on the server (the
//! Redis store) can list them; with the cookie store the page says so.

use leptos::prelude::*;
use leptos::task::spawn_local;
use th_client::ApiError;
use th_client::contract::{SessionSummary, codes};
use th_client::leptos::AuthState;

use crate::BFF;
use crate::time;
use crate::views::common::{Load, Loaded};

/// The sessions page.
#[component]
pub fn Sessions() -> impl IntoView {
    let auth = AuthState::get();
    let busy = RwSignal::new(false);
    // What the last sign-out did, or why it failed.
    let notice = RwSignal::new(None::<String>);
    let failure = RwSignal::new(None::<ApiError>);
    // `None` ends every session but this one; `list` is the list to reload.
    let end = move |id: Option<String>, list: Load| {
        busy.set(true);
        notice.set(None);
        failure.set(None);
        spawn_local(async move {
            let result = match id {
                Some(id) => BFF
                    .end_session(&id)
                    .await
                    .map(|()| "That device is signed out.".to_owned()),
                None => BFF
                    .end_other_sessions()
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
            list.reload();
        });
    };
    let list = Load::new(move |list| async move {
        let answer = match BFF.sessions().await {
            Ok(answer) => answer,
            Err(e) if e.has_code(codes::SESSIONS_UNAVAILABLE) => {
                return Ok(ViewFn::from(|| {
                    view! {
                        <p id="sessions-unavailable">
                            "This deployment keeps sessions in cookies only, so listing your devices and signing them out from here is not available. "
                            "Signing out signs out this browser."
                        </p>
                    }
                }));
            }
            Err(e) => return Err(e),
        };
        let now = time::unix_now();
        Ok(ViewFn::from(move || {
            let others = answer.sessions.iter().any(|s| !s.current);
            let rows = answer
                .sessions
                .iter()
                .cloned()
                .map(|s| row(s, now, busy, move |id| end(Some(id), list)))
                .collect_view();
            view! {
                <ul class="sessions">{rows}</ul>
                {others
                    .then(|| {
                        view! {
                            <button
                                class="button primary"
                                id="end-others"
                                on:click=move |_| end(None, list)
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
        }))
    });

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
                <Loaded load=list waiting="Loading your devices…" failed="Could not load your devices" />
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
    end: impl Fn(String) + Copy + 'static,
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
                    {format!("Signed in {} ({})", time::ago(created_at, now), time::local_date_time(created_at))}
                </span>
                <span class="muted">{format!("Last active {}", time::ago(last_seen_at, now))}</span>
            </div>
            {current.then(|| view! { <span class="badge">"This device"</span> })}
            {(!current)
                .then(|| {
                    view! {
                        <button
                            class="button secondary"
                            on:click=move |_| end(id.clone())
                            disabled=move || busy.get()
                        >
                            "Sign out"
                        </button>
                    }
                })}
        </li>
    }
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
