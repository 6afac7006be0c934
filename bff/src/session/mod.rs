//! Where a signed-in browser's tokens live: one seam, [`SessionStore`].
//!
//! * [`CookieStore`] (the default) keeps them in sealed cookies, so the BFF
//!   holds no state and replicas scale out freely.
//! * [`RedisStore`] keeps them in Redis through actix-session's Redis
//!   storage, sealed with the same key ring; the browser holds only a sealed
//!   session key. The server can then end a session: logout deletes it, and
//!   a copied cookie set stops working at once.
//!
//! With `[redis]` set, either store also has a [`SessionRegistry`]: what
//! only a server can remember (sessions by provider session and user, the
//! cookie store's deny-list, a refresh's turn), so even the cookie store
//! then ends copied cookies at logout and serves back-channel logout.
//!
//! The handlers and the API proxy (through [`StoreTokens`]) reach tokens
//! only through this trait. Where a set-up can do more or less, a handler
//! asks the trait, never the store's type: `registry()` (back-channel
//! logout, a refresh's turn across replicas), `shares_state()` (how a
//! refresh that waited its turn finds the result), `sessions()` (the list
//! of sessions, Redis store only). The login cookie (state, nonce and
//! verifier while a login is under way) is no session and not behind this
//! seam: `routes/login.rs` seals it with the key ring itself.

mod agent;
mod cookie_store;
mod deny_mirror;
mod redis_store;
mod registry;

pub use cookie_store::{CookieStore, request_cookies};
pub use redis_store::{RedisSettings, RedisStore, redis_pool};
pub use registry::{Ended, SessionRegistry};

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use th_contract::SessionSummary;
use th_cookies::{AccessTokenPayload, Secret, WriteError};
use th_proxy::{AccessTokenSource, TokenSourceError};

/// The ID-token cookie's content; its presence is the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenPayload {
    /// The raw ID token, validated at login or refresh.
    #[serde(rename = "t")]
    pub token: Secret,
    /// When the session ends, refreshes or not (Unix seconds).
    #[serde(rename = "s")]
    pub session_expires_at: i64,
    /// The app origin whose host the session was made on; the session is
    /// no session on another app's host. Absent in cookies written before.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The session's subject, from the ID token at login: every refresh
    /// must be for it, with or without a new ID token.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The provider's session id (`sid`), for back-channel logout.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// When the session began (Unix seconds): a logout recorded after it
    /// ends it, a later login is a new session.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
}

impl IdTokenPayload {
    /// Whether the session may be used on a request sent to `app`.
    pub fn belongs_to(&self, app: Option<&str>) -> bool {
        self.app.is_none() || self.app.as_deref() == app
    }
}

/// What a save does with the stored refresh token.
#[derive(Debug, Clone, Copy)]
pub enum RefreshUpdate<'a> {
    /// A refresh whose answer carried none: the current one stays valid.
    Keep,
    /// A new (first or rotated) refresh token.
    Replace(&'a Secret),
    /// A login whose answer carried none: the previous session's must go,
    /// or the next refresh would pair this identity with its token.
    Clear,
}

/// Tokens to store after a login or a refresh.
#[derive(Debug)]
pub struct NewTokens<'a> {
    pub access: AccessTokenPayload,
    pub refresh: RefreshUpdate<'a>,
    pub id: IdTokenPayload,
    /// A login: the session starts anew (a server-side store issues a new
    /// session key, so a key planted before the login is worth nothing).
    pub new_session: bool,
}

/// Cookies to add to the response.
pub type SetCookies = Vec<th_cookies::CookieOut>;

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server-side store did not answer (in time). The message names
    /// the failure, never a key or a token.
    #[error("the session store is unavailable: {0}")]
    Unavailable(String),
    /// A token too large for the cookies, even chunked.
    #[error(transparent)]
    Cookie(#[from] WriteError),
    /// The store keeps no list of sessions (the cookie store).
    #[error("listing and ending sessions needs session.store = \"redis\"")]
    NoSessionList,
}

/// Which of the user's sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    /// The one with this [`SessionSummary::id`].
    One(&'a str),
    /// All but the request's own.
    Others,
}

/// What ending sessions did.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndedSessions {
    pub count: u32,
    /// Whether the request's own session was among them.
    pub current: bool,
}

/// The seam between the handlers and where tokens are kept.
#[async_trait::async_trait(?Send)]
pub trait SessionStore: Send + Sync {
    /// The access token, if the request has a session with one.
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, StoreError>;
    /// The ID token and session expiry, if the request has a live session.
    async fn id_token(
        &self,
        req: &HttpRequest,
        now: i64,
    ) -> Result<Option<IdTokenPayload>, StoreError>;
    /// The refresh token. Only refresh and logout call this.
    async fn refresh_token(&self, req: &HttpRequest) -> Result<Option<Secret>, StoreError>;
    /// Stores tokens; answers the cookies that carry them (or point to them).
    async fn save(
        &self,
        req: &HttpRequest,
        tokens: NewTokens<'_>,
    ) -> Result<SetCookies, StoreError>;
    /// Ends the session on the server, where the store can.
    async fn end(&self, req: &HttpRequest) -> Result<(), StoreError>;
    /// The cookies that remove the session from the browser (no I/O).
    fn clearing_cookies(&self, req: &HttpRequest) -> SetCookies;
    /// Whether the store can serve requests (for `/readyz`).
    async fn is_ready(&self) -> bool;
    /// Ends every session of a provider session or user (back-channel
    /// logout): deleted, or recorded as ended for the cookie store.
    async fn end_matching(&self, ended: Ended<'_>) -> Result<(), StoreError>;
    /// The Redis side, when one is configured (back-channel logout needs it).
    fn registry(&self) -> Option<&SessionRegistry>;
    /// Whether every request of a session reads the same server-side state,
    /// so a request that waited for another's refresh sees its result.
    fn shares_state(&self) -> bool;
    /// The live sessions of the request's user on the request's app, its
    /// own first; `None` without a live session.
    async fn sessions(
        &self,
        _req: &HttpRequest,
        _now: i64,
    ) -> Result<Option<Vec<SessionSummary>>, StoreError> {
        Err(StoreError::NoSessionList)
    }
    /// Ends the sessions `pick` names among the user's (on this app);
    /// `None` without a live session.
    async fn end_sessions(
        &self,
        _req: &HttpRequest,
        _now: i64,
        _pick: Pick<'_>,
    ) -> Result<Option<EndedSessions>, StoreError> {
        Err(StoreError::NoSessionList)
    }
}

/// The cookies that remove every session cookie of either store (a
/// deployment may switch stores while browsers hold the other's cookies).
fn clear_all(vault: &th_cookies::Vault, req: &HttpRequest) -> SetCookies {
    let cookies = request_cookies(req);
    [
        th_cookies::CookieKind::Access,
        th_cookies::CookieKind::Refresh,
        th_cookies::CookieKind::Id,
        th_cookies::CookieKind::Session,
    ]
    .into_iter()
    .flat_map(|kind| vault.clear(&cookies, kind))
    .collect()
}

/// The API proxy's view of the store: the session's access token.
pub struct StoreTokens(pub Arc<dyn SessionStore>);

#[async_trait::async_trait(?Send)]
impl AccessTokenSource for StoreTokens {
    async fn access_token(
        &self,
        req: &HttpRequest,
    ) -> Result<Option<AccessTokenPayload>, TokenSourceError> {
        self.0.access_token(req).await.map_err(|e| match e {
            StoreError::Unavailable(why) => TokenSourceError::StoreUnavailable(why),
            other => TokenSourceError::StoreUnavailable(other.to_string()),
        })
    }
}
