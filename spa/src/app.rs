//! The app shell: where the session stands, and which view that means.

use leptos::prelude::*;
use leptos::task::spawn_local;
use th_contract::{ReturnTo, SessionResponse};

use crate::bff;
use crate::callback;
use crate::error::ApiError;
use crate::route::Location;
use crate::views::{signed_in::SignedIn, signed_out::SignedOut};

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// Asking the BFF (and finishing a login, on the provider's redirect).
    Checking,
    /// No session; `notice` says why, when there is something to say.
    SignedOut { notice: Option<String> },
    /// A session; the BFF's view of it at start.
    SignedIn(SessionResponse),
    /// The BFF could not be asked; the user can retry.
    Failed(ApiError),
}

/// The session state, shared by every view through context.
#[derive(Clone, Copy)]
pub struct AuthState {
    auth: RwSignal<Auth>,
    location: Location,
}

impl AuthState {
    /// The state provided by [`App`].
    pub fn get() -> Self {
        expect_context()
    }

    /// The current state, tracked.
    pub fn read(&self) -> Auth {
        self.auth.get()
    }

    /// Passes `result` through, switching to signed-out if it says the session
    /// is gone (after the refresh-and-retry in [`bff`] already failed).
    pub fn check<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if let Err(ApiError::SignedOut) = &result {
            self.auth.set(Auth::SignedOut {
                notice: Some(ApiError::SignedOut.to_string()),
            });
        }
        result
    }

    /// Asks the BFF again where the session stands (the retry button).
    pub fn recheck(&self) {
        let state = *self;
        state.auth.set(Auth::Checking);
        spawn_local(async move { state.auth.set(resume(state.location).await) });
    }

    /// The user signed out and no provider logout page follows.
    pub fn signed_out(&self, notice: &str) {
        self.auth.set(Auth::SignedOut {
            notice: Some(notice.to_owned()),
        });
    }
}

/// Finishes a login if this page load is the provider's redirect, cleans the
/// address bar, and asks for the session.
async fn resume(location: Location) -> Auth {
    let page = window().location();
    let href = page.href().unwrap_or_default();
    let pathname = page.pathname().unwrap_or_else(|_| "/".into());
    let search = page.search().unwrap_or_default();
    let query = search.trim_start_matches('?');
    let hash = page.hash().unwrap_or_default();
    let is_callback = callback::is_authorization_response(query);

    let ended = bff::login_end(href).await;
    if is_callback {
        // Never leave the code in the address bar or in history.
        let deep_link = match &ended {
            Ok(end) if end.handled => end
                .return_to
                .as_deref()
                .and_then(|r| ReturnTo::parse(r).ok())
                .map(|r| r.as_str().to_owned()),
            _ => None,
        };
        let target =
            deep_link.unwrap_or_else(|| callback::without_auth_params(&pathname, query, &hash));
        location.replace(&target);
    }
    match ended {
        Ok(end) if end.is_logged_in => match bff::session().await {
            Ok(session) if session.is_logged_in => Auth::SignedIn(session),
            Ok(_) | Err(ApiError::SignedOut) => Auth::SignedOut { notice: None },
            Err(e) => Auth::Failed(e),
        },
        Ok(_) => Auth::SignedOut { notice: None },
        Err(e) if is_callback => Auth::SignedOut {
            notice: Some(format!("Sign-in did not complete. {e}")),
        },
        Err(e) => Auth::Failed(e),
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let location = Location::install();
    let state = AuthState {
        auth: RwSignal::new(Auth::Checking),
        location,
    };
    provide_context(state);
    spawn_local(async move { state.auth.set(resume(location).await) });

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
                    Auth::Checking => {
                        view! { <crate::views::common::Loading label="Checking your session…" /> }
                            .into_any()
                    }
                    Auth::SignedOut { notice } => view! { <SignedOut notice /> }.into_any(),
                    Auth::SignedIn(session) => view! { <SignedIn session /> }.into_any(),
                    Auth::Failed(error) => {
                        view! {
                            <crate::views::common::ErrorPanel
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
