//! Where a signed-in browser's tokens live: one seam, [`SessionStore`].
//!
//! The first store, [`CookieStore`], keeps them in sealed cookies, so the BFF
//! holds no state and replicas scale out freely. A server-side store (Redis,
//! through actix-session's `SessionStore`, for back-channel logout and tokens
//! too large for cookies) is a second implementation of this trait; the
//! handlers do not change.

mod cookie_store;

pub use cookie_store::{CookieStore, request_cookies};

use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use th_cookies::{AccessTokenPayload, Secret, WriteError};

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
}

impl IdTokenPayload {
    /// Whether the session may be used on a request sent to `app`.
    pub fn belongs_to(&self, app: Option<&str>) -> bool {
        self.app.is_none() || self.app.as_deref() == app
    }
}

/// Tokens to store after a login or a refresh.
#[derive(Debug)]
pub struct NewTokens<'a> {
    pub access: AccessTokenPayload,
    /// A rotated or first refresh token; `None` keeps the stored one.
    pub refresh: Option<&'a Secret>,
    pub id: IdTokenPayload,
}

/// Cookies to add to the response.
pub type SetCookies = Vec<th_cookies::CookieOut>;

/// The seam between the handlers and where tokens are kept.
#[async_trait::async_trait(?Send)]
pub trait SessionStore {
    /// The access token, if the request has a readable one.
    async fn access_token(&self, req: &HttpRequest) -> Option<AccessTokenPayload>;
    /// The ID token and session expiry, if the request has a live session.
    async fn id_token(&self, req: &HttpRequest, now: i64) -> Option<IdTokenPayload>;
    /// The refresh token. Only refresh and logout call this.
    async fn refresh_token(&self, req: &HttpRequest) -> Option<Secret>;
    /// Stores tokens; answers the cookies that carry them (or point to them).
    async fn save(
        &self,
        req: &HttpRequest,
        tokens: NewTokens<'_>,
    ) -> Result<SetCookies, WriteError>;
    /// Forgets the session; answers the cookies that remove it.
    async fn clear(&self, req: &HttpRequest) -> SetCookies;
}
