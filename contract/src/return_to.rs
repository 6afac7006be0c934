//! `returnTo`: a deep link that can only point back into the app.

use std::fmt;

/// The longest `returnTo` accepted; a deep link has no reason to be longer.
const MAX_LEN: usize = 2048;

/// A same-origin, absolute-path reference (`/orders/42?tab=2#x`).
///
/// Exists only once parsed, so a value of this type is always safe to
/// redirect to: it has no scheme, no authority, and nothing a browser would
/// normalise into one (`//host`, `/\host`, control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnTo(String);

/// Why a `returnTo` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnToError {
    /// It does not start with a single `/`.
    NotAPath,
    /// It could be read as another host (`//`, `/\`, `\`).
    OtherHost,
    /// It holds control characters or whitespace.
    BadCharacter,
    /// It is longer than the limit.
    TooLong,
}

impl fmt::Display for ReturnToError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotAPath => "returnTo must be a path that starts with '/'",
            Self::OtherHost => "returnTo must not name another host",
            Self::BadCharacter => "returnTo must not contain control characters or spaces",
            Self::TooLong => "returnTo is longer than 2048 characters",
        })
    }
}

impl std::error::Error for ReturnToError {}

impl ReturnTo {
    /// Parses a candidate deep link.
    pub fn parse(raw: &str) -> Result<Self, ReturnToError> {
        if raw.len() > MAX_LEN {
            return Err(ReturnToError::TooLong);
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ReturnToError::BadCharacter);
        }
        // Browsers treat '\' like '/' in special URLs, so "/\evil" is "//evil".
        if raw.contains('\\') {
            return Err(ReturnToError::OtherHost);
        }
        let mut chars = raw.chars();
        match (chars.next(), chars.next()) {
            (Some('/'), Some('/')) => Err(ReturnToError::OtherHost),
            (Some('/'), _) => Ok(Self(raw.to_owned())),
            _ => Err(ReturnToError::NotAPath),
        }
    }

    /// The path, ready to navigate to.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_accepted() {
        for ok in ["/", "/orders/42", "/a?b=c#d", "/%2F%2Fevil"] {
            assert_eq!(ReturnTo::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/\tx",
            "/ /evil",
        ] {
            assert!(ReturnTo::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn overlong_paths_are_refused() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(ReturnTo::parse(&long), Err(ReturnToError::TooLong));
    }
}

/// Whatever passes is a path on the app's own origin, as a browser's URL
/// parser (the WHATWG rules, here the `url` crate) resolves it.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const APP: &str = "https://app.example.test/some/page";

    fn stays_on_the_app(link: &ReturnTo) -> bool {
        let base = url::Url::parse(APP).unwrap();
        base.join(link.as_str())
            .is_ok_and(|u| u.origin() == base.origin())
    }

    proptest! {
        #[test]
        fn anything_that_passes_stays_on_the_app(raw in ".{0,80}") {
            if let Ok(link) = ReturnTo::parse(&raw) {
                prop_assert!(stays_on_the_app(&link), "{raw:?}");
            }
        }

        #[test]
        fn url_like_inputs_that_pass_stay_on_the_app(
            lead in prop::sample::select(vec!["/", "//", "/\\", "\\", "/%2f", "/%5c", "http:", "https://", "javascript:", "/\t/", " /", "/./", "/../"]),
            host in "[a-z.@:%0-9\\\\/]{0,20}",
            rest in "[ -~]{0,20}",
        ) {
            let raw = format!("{lead}{host}{rest}");
            if let Ok(link) = ReturnTo::parse(&raw) {
                prop_assert!(stays_on_the_app(&link), "{raw:?}");
            }
        }
    }
}
