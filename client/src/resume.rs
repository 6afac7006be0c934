//! A page load: finish the login if the page is the provider's redirect,
//! and find out where the session stands.

use th_contract::ReturnTo;

use crate::{ApiError, Client, callback};

/// Where the session stands after a page load.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionStatus {
    /// No session; `notice` says why, when there is something to say (a
    /// sign-in that did not complete).
    SignedOut { notice: Option<String> },
    /// A session; the BFF's view of it.
    SignedIn(th_contract::SessionResponse),
    /// The BFF could not be asked; the app can offer to try again.
    Failed(ApiError),
}

/// What [`Client::resume`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Resumed {
    /// Where the session stands.
    pub status: SessionStatus,
    /// When the page was the provider's redirect: the same-origin address
    /// to put in the address bar instead (with `history.replaceState`, or
    /// the app's router), so that no authorization code stays in the URL or
    /// in history. It is the deep link saved at login start, or the page's
    /// own address without the authorization response's parameters.
    pub clean_address: Option<String>,
}

impl Client {
    /// What an app does on every page load: completes the login when the
    /// page is the provider's redirect, then asks for the session.
    ///
    /// ```no_run
    /// use th_client::{Client, SessionStatus};
    ///
    /// # async fn start() {
    /// let resumed = Client::same_origin().resume().await;
    /// if let Some(address) = &resumed.clean_address {
    ///     let history = web_sys::window().unwrap().history().unwrap();
    ///     history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(address)).unwrap();
    /// }
    /// match resumed.status {
    ///     SessionStatus::SignedIn(session) => { /* show the app */ }
    ///     SessionStatus::SignedOut { notice } => { /* show a sign-in button */ }
    ///     SessionStatus::Failed(error) => { /* say so, offer to try again */ }
    /// }
    /// # }
    /// ```
    pub async fn resume(self) -> Resumed {
        let page = web_sys::window().map(|w| w.location());
        let part = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
            page.as_ref().and_then(|p| f(p).ok()).unwrap_or_default()
        };
        let href = part(web_sys::Location::href);
        let pathname = part(web_sys::Location::pathname);
        let search = part(web_sys::Location::search);
        let hash = part(web_sys::Location::hash);
        let query = search.trim_start_matches('?');
        let is_callback = callback::is_authorization_response(query);

        let ended = self.login_end(href).await;
        let clean_address = is_callback.then(|| {
            let deep_link = match &ended {
                Ok(end) if end.handled => end
                    .return_to
                    .as_deref()
                    .and_then(|r| ReturnTo::parse(r).ok())
                    .map(|r| r.as_str().to_owned()),
                _ => None,
            };
            deep_link.unwrap_or_else(|| callback::without_auth_params(&pathname, query, &hash))
        });
        let status = match ended {
            Ok(end) if end.is_logged_in => match self.session().await {
                Ok(session) if session.is_logged_in => SessionStatus::SignedIn(session),
                Ok(_) | Err(ApiError::SignedOut) => SessionStatus::SignedOut { notice: None },
                Err(e) => SessionStatus::Failed(e),
            },
            Ok(_) => SessionStatus::SignedOut { notice: None },
            Err(e) if is_callback => SessionStatus::SignedOut {
                notice: Some(format!("Sign-in did not complete. {e}")),
            },
            Err(e) => SessionStatus::Failed(e),
        };
        Resumed {
            status,
            clean_address,
        }
    }
}
