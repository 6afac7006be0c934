//! What the token cookies hold, shared by the BFF (which writes them) and the
//! proxy (which reads the access token).

use crate::Secret;
use serde::{Deserialize, Serialize};

/// The access-token cookie's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenPayload {
    /// The access token as the provider issued it (opaque or JWT).
    #[serde(rename = "t")]
    pub token: Secret,
    /// When it expires, in seconds since the Unix epoch, when the provider said.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The app origin whose host the session was made on. A cookie shown on
    /// another app's host (a configured cookie domain shares them) is no
    /// session there. Absent in cookies written before it existed.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Which session the token belongs to, so a server that records ended
    /// sessions can refuse it from this cookie alone. Absent in cookies
    /// written before it existed.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionMark>,
}

/// What a logout can name a session by: the provider's session (`sid`), the
/// user (`sub`), and when the session began (a later login is a new one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMark {
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(rename = "c", default)]
    pub since: i64,
}

/// Seconds since the Unix epoch: the clock every expiry in a cookie is read against.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl AccessTokenPayload {
    /// Whether the token is past its expiry at `now` (Unix seconds).
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|exp| exp <= now)
    }

    /// Whether the cookie may be used on a request sent to `app`.
    pub fn belongs_to(&self, app: Option<&str>) -> bool {
        self.app.is_none() || self.app.as_deref() == app
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_checked_against_now() {
        let p = AccessTokenPayload {
            token: Secret::new("t"),
            expires_at: Some(100),
            app: None,
            session: None,
        };
        assert!(p.is_expired(100));
        assert!(!p.is_expired(99));
        let no_exp = AccessTokenPayload {
            token: Secret::new("t"),
            expires_at: None,
            app: None,
            session: None,
        };
        assert!(!no_exp.is_expired(i64::MAX));
    }

    #[test]
    fn a_cookie_bound_to_an_app_belongs_to_that_app_only() {
        let bound = AccessTokenPayload {
            token: Secret::new("t"),
            expires_at: None,
            app: Some("https://app.example".into()),
            session: None,
        };
        assert!(bound.belongs_to(Some("https://app.example")));
        assert!(!bound.belongs_to(Some("https://admin.example")));
        assert!(!bound.belongs_to(None));
    }
}
