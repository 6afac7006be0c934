//! The session state as a Leptos signal (feature `leptos`).
//!
//! [`AuthState::start`] resumes the session on page load and provides the
//! state as context; every component reads it with [`AuthState::get`], and
//! passes its own calls' results through [`AuthState::check`], so that a
//! session that ended shows the signed-out page wherever it was noticed.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use th_client::Client;
//! use th_client::leptos::{Auth, AuthState};
//!
//! const BFF: Client = Client::same_origin();
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     // Puts the clean address in the address bar after the provider's redirect.
//!     let auth = AuthState::start(BFF, |address| {
//!         let history = window().history().unwrap();
//!         let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&address));
//!     });
//!     move || match auth.read() {
//!         Auth::Checking => "Checking your session…".into_any(),
//!         Auth::SignedOut { .. } => view! { <SignIn /> }.into_any(),
//!         Auth::SignedIn(_) => view! { <Claims /> }.into_any(),
//!         Auth::Failed(error) => error.to_string().into_any(),
//!     }
//! }
//!
//! #[component]
//! fn SignIn() -> impl IntoView {
//!     let sign_in = |_| {
//!         leptos::task::spawn_local(async {
//!             if let Ok(start) = BFF.login_start(None).await {
//!                 let _ = window().location().assign(&start.authorization_url);
//!             }
//!         })
//!     };
//!     view! { <button on:click=sign_in>"Sign in"</button> }
//! }
//!
//! #[component]
//! fn Claims() -> impl IntoView {
//!     let auth = AuthState::get();
//!     // A 401 that a refresh could not cure switches the app to signed-out.
//!     let claims = LocalResource::new(move || async move { auth.check(BFF.claims().await) });
//!     move || claims.get().map(|c| format!("{:?}", c.map(|c| c.len())))
//! }
//!
//! fn main() {
//!     leptos::mount::mount_to_body(App);
//! }
//! ```

use ::leptos::prelude::*;
use ::leptos::task::spawn_local;
use th_contract::SessionResponse;

use crate::{ApiError, Client, SessionStatus};

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// Asking the BFF (and finishing a login, on the provider's redirect).
    Checking,
    /// No session; `notice` says why, when there is something to say.
    SignedOut { notice: Option<String> },
    /// A session; the BFF's view of it when the page loaded.
    SignedIn(SessionResponse),
    /// The BFF could not be asked; [`AuthState::recheck`] tries again.
    Failed(ApiError),
}

impl From<SessionStatus> for Auth {
    fn from(status: SessionStatus) -> Self {
        match status {
            SessionStatus::SignedOut { notice } => Self::SignedOut { notice },
            SessionStatus::SignedIn(session) => Self::SignedIn(session),
            SessionStatus::Failed(error) => Self::Failed(error),
        }
    }
}

/// The session state, shared through context; `Copy`, so closures and tasks
/// take it as it is.
#[derive(Clone, Copy)]
pub struct AuthState {
    auth: RwSignal<Auth>,
    client: Client,
    clean_address: Callback<String>,
}

impl AuthState {
    /// Provides the state as context and resumes the session (see
    /// [`Client::resume`]); `clean_address` puts the given same-origin
    /// address in the address bar after the provider's redirect (through
    /// the app's router, or `history.replaceState`).
    pub fn start(client: Client, clean_address: impl Fn(String) + Send + Sync + 'static) -> Self {
        let state = Self {
            auth: RwSignal::new(Auth::Checking),
            client,
            clean_address: Callback::new(clean_address),
        };
        provide_context(state);
        state.resume();
        state
    }

    /// The state provided by [`AuthState::start`].
    ///
    /// # Panics
    ///
    /// Outside the component tree below the one that called `start`.
    pub fn get() -> Self {
        expect_context()
    }

    /// The client the state was started with.
    pub fn client(&self) -> Client {
        self.client
    }

    /// The current state, tracked.
    pub fn read(&self) -> Auth {
        self.auth.get()
    }

    /// Passes `result` through, switching to signed-out if it says the
    /// session is gone (after the client's refresh-and-retry already failed).
    pub fn check<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        if let Err(ApiError::SignedOut) = &result {
            self.signed_out(&ApiError::SignedOut.to_string());
        }
        result
    }

    /// Asks the BFF again where the session stands (a "Try again" button).
    pub fn recheck(&self) {
        self.auth.set(Auth::Checking);
        self.resume();
    }

    /// Shows the signed-out state with `notice`, e.g. after a sign-out that
    /// no provider logout page follows.
    pub fn signed_out(&self, notice: &str) {
        self.auth.set(Auth::SignedOut {
            notice: Some(notice.to_owned()),
        });
    }

    fn resume(self) {
        spawn_local(async move {
            let resumed = self.client.resume().await;
            if let Some(address) = resumed.clean_address {
                self.clean_address.run(address);
            }
            self.auth.set(resumed.status.into());
        });
    }
}
