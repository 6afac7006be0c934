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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_checked_against_now() {
        let p = AccessTokenPayload {
            token: Secret::new("t"),
            expires_at: Some(100),
        };
        assert!(p.is_expired(100));
        assert!(!p.is_expired(99));
        let no_exp = AccessTokenPayload {
            token: Secret::new("t"),
            expires_at: None,
        };
        assert!(!no_exp.is_expired(i64::MAX));
    }
}
