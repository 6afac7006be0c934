//! Cookie names and attributes.

use cookie::{Cookie, SameSite};
use std::time::Duration;

/// What a cookie holds: one cookie per concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieKind {
    /// The temporary login state (state, nonce, PKCE verifier, returnTo).
    Login,
    /// The access token and its expiry.
    Access,
    /// The refresh token; only the refresh endpoint opens it.
    Refresh,
    /// The ID token, for its claims and for `id_token_hint` at logout.
    Id,
    /// The server-side store's session key (the tokens are in the store).
    Session,
}

impl CookieKind {
    /// Every kind, for clearing a whole session.
    pub const ALL: [CookieKind; 5] = [
        Self::Login,
        Self::Access,
        Self::Refresh,
        Self::Id,
        Self::Session,
    ];

    /// Its place in [`CookieKind::ALL`] (and in a policy's names).
    fn index(self) -> usize {
        self as usize
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Access => "at",
            Self::Refresh => "rt",
            Self::Id => "id",
            Self::Session => "session",
        }
    }
}

/// Why a cookie policy could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("cookie prefix {0:?} must be 1-32 characters of A-Z, a-z, 0-9, '_' or '-'")]
    BadPrefix(String),
    #[error("cookie domain {0:?} is not a domain name")]
    BadDomain(String),
}

/// How the token cookies are named and which attributes they carry.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    secure: bool,
    domain: Option<String>,
    /// Each kind's name, in [`CookieKind::ALL`]'s order: made once, as the
    /// proxy reads one on every request.
    names: [String; CookieKind::ALL.len()],
}

impl CookiePolicy {
    /// A policy. `secure: false` is for loopback development only; the caller
    /// decides when that is allowed.
    pub fn new(prefix: &str, secure: bool, domain: Option<&str>) -> Result<Self, PolicyError> {
        let prefix_ok = (1..=32).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !prefix_ok {
            return Err(PolicyError::BadPrefix(prefix.to_owned()));
        }
        let domain = match domain {
            None => None,
            Some(d) => {
                let d = d.trim_start_matches('.');
                let ok = !d.is_empty()
                    && d.split('.').all(|label| {
                        !label.is_empty()
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    });
                if !ok {
                    return Err(PolicyError::BadDomain(d.to_owned()));
                }
                Some(d.to_owned())
            }
        };
        let host = if secure && domain.is_none() {
            "__Host-"
        } else {
            ""
        };
        let names = CookieKind::ALL.map(|kind| format!("{host}{prefix}-{}", kind.suffix()));
        Ok(Self {
            secure,
            domain,
            names,
        })
    }

    /// Whether names carry `__Host-`: only when the browser will enforce what
    /// it promises (Secure, no Domain).
    pub fn host_prefixed(&self) -> bool {
        self.secure && self.domain.is_none()
    }

    /// Whether cookies carry `Secure`.
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The name of the (first) cookie of a kind.
    pub fn name(&self, kind: CookieKind) -> &str {
        &self.names[kind.index()]
    }

    /// A cookie with this policy's attributes.
    pub fn cookie(&self, name: String, value: String, max_age: Duration) -> Cookie<'static> {
        let mut builder = Cookie::build((name, value))
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .path("/")
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ));
        if let Some(domain) = &self.domain {
            builder = builder.domain(domain.clone());
        }
        builder.build()
    }

    /// A cookie that tells the browser to drop `name` now.
    pub fn removal(&self, name: String) -> Cookie<'static> {
        self.cookie(name, String::new(), Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_carry_the_host_prefix() {
        let policy = CookiePolicy::new("th", true, None).unwrap();
        assert_eq!(policy.name(CookieKind::Access), "__Host-th-at");
        assert_eq!(policy.name(CookieKind::Refresh), "__Host-th-rt");
    }

    #[test]
    fn a_domain_or_insecure_mode_drops_the_prefix() {
        let with_domain = CookiePolicy::new("th", true, Some("example.com")).unwrap();
        assert_eq!(with_domain.name(CookieKind::Id), "th-id");
        let insecure = CookiePolicy::new("th", false, None).unwrap();
        assert_eq!(insecure.name(CookieKind::Login), "th-login");
    }

    #[test]
    fn cookies_have_the_strict_attributes() {
        let policy = CookiePolicy::new("th", true, None).unwrap();
        let c = policy
            .cookie("__Host-th-at".into(), "v".into(), Duration::from_secs(60))
            .to_string();
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(attr), "{c} lacks {attr}");
        }
        assert!(!c.contains("Domain"));
    }

    #[test]
    fn bad_prefix_and_domain_are_refused() {
        assert!(CookiePolicy::new("a b", true, None).is_err());
        assert!(CookiePolicy::new("th", true, Some("exa mple.com")).is_err());
    }
}
