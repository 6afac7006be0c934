//! What can go wrong talking to the BFF, worded for the person using the app.

use std::fmt;
use th_contract::ErrorBody;

/// A failed call to the BFF or, through its proxy, to an API. `Display`
/// words it for the person using the app.
///
/// ```
/// use th_client::ApiError;
/// use th_client::contract::{ErrorBody, codes};
///
/// let e = ApiError::Status {
///     status: 501,
///     body: Some(ErrorBody {
///         code: codes::SESSIONS_UNAVAILABLE.into(),
///         message: "listing sessions needs the Redis store".into(),
///     }),
/// };
/// assert!(e.has_code(codes::SESSIONS_UNAVAILABLE));
/// assert_eq!(e.to_string(), "Listing sessions needs the Redis store (HTTP 501).");
/// assert_eq!(ApiError::SignedOut.to_string(), "Your session has ended. Please sign in again.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The request never got an answer (offline, server down, blocked).
    Network,
    /// No session, or it ended and a refresh could not renew it.
    SignedOut,
    /// An answer with an error status; the BFF's JSON error when it sent one.
    Status {
        /// The HTTP status.
        status: u16,
        /// The JSON error body, when the answer had one.
        body: Option<ErrorBody>,
    },
    /// A success status with a body that is not what the contract promises.
    Decode,
}

impl ApiError {
    /// Whether the BFF answered with this error `code` (see [`th_contract::codes`]).
    pub fn has_code(&self, code: &str) -> bool {
        matches!(self, Self::Status { body: Some(body), .. } if body.code == code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network => {
                f.write_str("Could not reach the server. Check your connection, then try again.")
            }
            Self::SignedOut => f.write_str("Your session has ended. Please sign in again."),
            Self::Status {
                status,
                body: Some(body),
            } => {
                let message = body.message.trim().trim_end_matches('.');
                // The BFF's messages are English: ASCII upper-casing spares the
                // wasm the Unicode case tables.
                let mut chars = message.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}{}", first.to_ascii_uppercase(), chars.as_str())?;
                }
                write!(f, " (HTTP {status}).")
            }
            Self::Status { status, body: None } => match status {
                502..=504 => write!(
                    f,
                    "A service behind this app is unavailable (HTTP {status}). Try again in a moment."
                ),
                _ => write!(
                    f,
                    "The server could not handle the request (HTTP {status})."
                ),
            },
            Self::Decode => f.write_str("The server sent an answer this app does not understand."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bff_error_message_is_shown_with_its_status() {
        let e = ApiError::Status {
            status: 502,
            body: Some(ErrorBody {
                code: "provider_unavailable".into(),
                message: "The identity provider did not answer.".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "The identity provider did not answer (HTTP 502)."
        );
    }

    #[test]
    fn bff_error_message_starts_with_a_capital() {
        let e = ApiError::Status {
            status: 400,
            body: Some(ErrorBody {
                code: "login_failed".into(),
                message: "the provider answered access_denied".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "The provider answered access_denied (HTTP 400)."
        );
    }

    #[test]
    fn the_bff_error_code_is_recognised() {
        let e = ApiError::Status {
            status: 501,
            body: Some(ErrorBody {
                code: "sessions_unavailable".into(),
                message: "listing and ending sessions needs session.store = \"redis\"".into(),
            }),
        };
        assert!(e.has_code("sessions_unavailable"));
        assert!(!e.has_code("session_not_found"));
        let bare = ApiError::Status {
            status: 501,
            body: None,
        };
        assert!(!bare.has_code("sessions_unavailable"));
        assert!(!ApiError::SignedOut.has_code("sessions_unavailable"));
    }

    #[test]
    fn gateway_errors_without_body_suggest_retrying() {
        let e = ApiError::Status {
            status: 504,
            body: None,
        };
        assert!(e.to_string().contains("Try again"));
    }
}
