//! The token handler's BFF from a Rust WASM app: what the Curity assistant
//! library is to JavaScript apps.
//!
//! The app never holds a token. Every call goes to the BFF with the session
//! cookies (`credentials: include`) and the CSRF header (`x-csrf: 1`); the
//! BFF keeps the tokens in encrypted, HttpOnly cookies and adds the access
//! token to API calls through its proxy.
//!
//! A call that needs a session and gets a 401 asks the BFF to refresh the
//! tokens once and is repeated once; only a second 401 means the user is
//! signed out ([`ApiError::SignedOut`]). Concurrent 401s share one refresh,
//! within the page and, where the browser has Web Locks, across the app's
//! tabs, because the provider rotates refresh tokens and a second refresh
//! with the old cookie would be refused as a replay.
//!
//! The core has no UI framework types, so a Yew or Dioxus app can use it as
//! it is; the `leptos` feature adds [`leptos::AuthState`], the session state
//! as a signal.
//!
//! ```no_run
//! use th_client::{ApiError, Client};
//!
//! /// The BFF on the page's own origin, at `/bff/…` and `/api/…`.
//! const BFF: Client = Client::same_origin();
//!
//! async fn who_is_there() -> Result<Option<String>, ApiError> {
//!     let session = BFF.session().await?;
//!     let name = session.claims.and_then(|c| c.get("sub")?.as_str().map(str::to_owned));
//!     Ok(name)
//! }
//! ```
//!
//! The crate compiles for the host too (`web-sys` and `js-sys` are bindings
//! only), so these examples are compiled by `cargo test`; the calls
//! themselves need a browser, and run in the SPA's browser test.

mod callback;
mod error;
mod fetch;
#[cfg(feature = "leptos")]
pub mod leptos;
mod refresh;
mod resume;

pub use callback::{is_authorization_response, without_auth_params};
pub use error::ApiError;
pub use fetch::Reply;
pub use refresh::REFRESH_LOCK;
pub use resume::{Resumed, SessionStatus};
pub use th_contract as contract;

use serde::de::DeserializeOwned;
use th_contract::{
    EndedSessionsResponse, ErrorBody, LoginEndRequest, LoginEndResponse, LoginStartRequest,
    LoginStartResponse, LogoutResponse, SessionResponse, SessionsResponse, paths,
};

use crate::fetch::send;
use crate::refresh::authed;

/// A JSON object as the provider sent it (claims, userinfo).
pub type Json = serde_json::Map<String, serde_json::Value>;

/// Where the BFF is; every call of the contract is a method.
///
/// `Copy` and `const`, so an app can keep one in a `const` and use it from
/// any closure or task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    base: &'static str,
}

impl Client {
    /// The BFF on the page's own origin (`/bff/…`, and `/api/…` for its
    /// proxy), as the token handler is deployed: the cookies are then
    /// first-party and `SameSite=Strict`.
    pub const fn same_origin() -> Self {
        Self { base: "" }
    }

    /// The BFF at `base` (an origin, `https://app.example.com`, without a
    /// trailing slash), which must be same-site with the page for its
    /// `SameSite=Strict` cookies to be sent.
    pub const fn at(base: &'static str) -> Self {
        Self { base }
    }

    /// `POST /bff/login/start`: where to send the browser to sign in;
    /// `return_to` is the same-origin path to come back to afterwards.
    pub async fn login_start(
        self,
        return_to: Option<String>,
    ) -> Result<LoginStartResponse, ApiError> {
        let body = to_json(&LoginStartRequest { return_to });
        decode(send("POST", &self.url(paths::LOGIN_START), Some(body)).await?)
    }

    /// `POST /bff/login/end`: completes a login when `page_url` (the page's
    /// `location.href`) is the provider's redirect, and says whether there
    /// is a session either way. [`Client::resume`] does the whole page load.
    pub async fn login_end(self, page_url: String) -> Result<LoginEndResponse, ApiError> {
        let body = to_json(&LoginEndRequest { page_url });
        decode(send("POST", &self.url(paths::LOGIN_END), Some(body)).await?)
    }

    /// `GET /bff/session`: whether there is a session, when its access token
    /// expires, and the ID token's user claims.
    pub async fn session(self) -> Result<SessionResponse, ApiError> {
        decode(self.call("GET", paths::SESSION).await?)
    }

    /// `GET /bff/claims`: the ID token's claims.
    pub async fn claims(self) -> Result<Json, ApiError> {
        decode(self.call("GET", paths::CLAIMS).await?)
    }

    /// `GET /bff/userinfo`: the provider's userinfo answer.
    pub async fn userinfo(self) -> Result<Json, ApiError> {
        decode(self.call("GET", paths::USERINFO).await?)
    }

    /// `POST /bff/refresh`: new tokens now. Calls that need a session refresh
    /// by themselves on a 401; this is for an app that wants to renew ahead.
    /// It shares the refresh of any call that is already refreshing.
    pub async fn refresh(self) -> Result<(), ApiError> {
        refresh::refresh(&self.url(paths::REFRESH), None).await
    }

    /// `POST /bff/logout`: ends the session; the provider's logout URL, when
    /// it has one, for the app to navigate to.
    pub async fn logout(self) -> Result<LogoutResponse, ApiError> {
        decode(send("POST", &self.url(paths::LOGOUT), None).await?)
    }

    /// `GET /bff/sessions`: the user's sessions on this app, this one first.
    /// A BFF that keeps sessions in cookies only answers 501
    /// ([`contract::codes::SESSIONS_UNAVAILABLE`]).
    pub async fn sessions(self) -> Result<SessionsResponse, ApiError> {
        decode(self.call("GET", paths::SESSIONS).await?)
    }

    /// `DELETE /bff/sessions/{id}`: ends one of the user's sessions.
    pub async fn end_session(self, id: &str) -> Result<(), ApiError> {
        self.call("DELETE", &session_path(id)).await.map(drop)
    }

    /// `POST /bff/sessions/end-others`: ends every session of the user but
    /// this one; how many it ended.
    pub async fn end_other_sessions(self) -> Result<EndedSessionsResponse, ApiError> {
        decode(self.call("POST", paths::SESSIONS_END_OTHERS).await?)
    }

    /// A call that needs the session, to the BFF or through its proxy
    /// (`path` such as `/api/orders`), with the refresh-once rule; any
    /// 2xx answer as it came.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), th_client::ApiError> {
    /// let reply = th_client::Client::same_origin().call("GET", "/api/example/hello").await?;
    /// assert!((200..300).contains(&reply.status));
    /// # Ok(()) }
    /// ```
    pub async fn call(self, method: &str, path: &str) -> Result<Reply, ApiError> {
        let url = self.url(path);
        let refresh = self.url(paths::REFRESH);
        ok(authed(method, &url, &refresh).await?)
    }

    fn url(self, path: &str) -> String {
        [self.base, path].concat()
    }
}

/// `/bff/sessions/{id}`, the id percent-encoded: it comes from the server
/// and is opaque, so nothing in it may change the path.
fn session_path(id: &str) -> String {
    let mut path = format!("{}/", paths::SESSIONS);
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// A 2xx reply, or the error it stands for.
fn ok(reply: Reply) -> Result<Reply, ApiError> {
    match reply.status {
        200..=299 => Ok(reply),
        401 => Err(ApiError::SignedOut),
        status => Err(ApiError::Status {
            status,
            body: serde_json::from_str::<ErrorBody>(&reply.body).ok(),
        }),
    }
}

fn decode<T: DeserializeOwned>(reply: Reply) -> Result<T, ApiError> {
    let reply = ok(reply)?;
    serde_json::from_str(&reply.body).map_err(|_| ApiError::Decode)
}

/// The contract's request types always serialise (strings and options), so
/// the error, which cannot happen, is not kept: its `Debug` alone would add
/// to the wasm.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_one_path_segment() {
        assert_eq!(session_path("0a1b2c3d4e5f"), "/bff/sessions/0a1b2c3d4e5f");
        assert_eq!(
            session_path("../end-others?x=1#y"),
            "/bff/sessions/..%2Fend-others%3Fx%3D1%23y"
        );
        assert_eq!(session_path("é"), "/bff/sessions/%C3%A9");
    }

    #[test]
    fn a_client_puts_its_base_before_the_path() {
        assert_eq!(Client::same_origin().url(paths::SESSION), "/bff/session");
        assert_eq!(
            Client::at("https://app.example.com").url(paths::SESSION),
            "https://app.example.com/bff/session"
        );
    }

    #[test]
    fn statuses_become_errors() {
        let reply = |status, body: &str| Reply {
            status,
            body: body.into(),
        };
        assert!(ok(reply(204, "")).is_ok());
        assert_eq!(ok(reply(401, "")).unwrap_err(), ApiError::SignedOut);
        let e = ok(reply(
            501,
            r#"{"code":"sessions_unavailable","message":"no"}"#,
        ))
        .unwrap_err();
        assert!(e.has_code(th_contract::codes::SESSIONS_UNAVAILABLE));
        assert_eq!(
            ok(reply(502, "<html>")).unwrap_err(),
            ApiError::Status {
                status: 502,
                body: None
            }
        );
        assert_eq!(
            decode::<SessionResponse>(reply(200, "not json")).unwrap_err(),
            ApiError::Decode
        );
    }
}
