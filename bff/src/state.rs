//! What every handler shares.

use crate::oidc::Oidc;
use crate::rate_limit::LoginLimiter;
use crate::session::SessionStore;
use std::sync::Arc;
use std::time::Duration;
use th_cookies::Vault;

/// The application's state, behind `web::Data`.
pub struct AppState {
    pub oidc: Oidc,
    pub store: Arc<dyn SessionStore>,
    /// For the temporary login cookie, which is not part of the session store.
    pub vault: Arc<Vault>,
    /// `limits.login_starts_per_minute`; `None` when off.
    pub login_limiter: Option<LoginLimiter>,
    pub session_lifetime: Duration,
    /// The access token's lifetime when the provider does not say.
    pub default_access_lifetime: Duration,
    pub login_lifetime: Duration,
    /// One refresh at a time per session within this process (cookie store
    /// without Redis).
    pub refresh_turns: crate::refresh_turns::LocalTurns,
    /// `session.refresh_grace_secs`.
    pub refresh_grace: Duration,
}
