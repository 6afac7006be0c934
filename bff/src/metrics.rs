//! What the BFF counts (names in `th_contract::metrics`; the recorder, the
//! listener and the HTTP middleware are the proxy crate's). One thin call
//! per event; every label value is from a fixed set. The calls cost nothing
//! until `[metrics] listen` installs a recorder.

use crate::error::BffError;
use crate::oidc::OidcError;
use crate::routes::login::LoginFailure;
use metrics::{counter, gauge, histogram};
use std::time::{Duration, Instant};
use th_contract::metrics::{
    BACKCHANNEL_LOGOUTS, DENY_LIST_ENTRIES, DENY_LIST_IN_MEMORY, LOGIN_COMPLETED, LOGIN_FAILED,
    LOGIN_RATE_LIMITED, LOGIN_STARTED, LOGOUTS, PROVIDER_DURATION, PROVIDER_ERRORS, REFRESHES,
    STORE_DURATION, STORE_ERRORS,
};

pub fn login_started() {
    counter!(LOGIN_STARTED).increment(1);
}

pub fn login_rate_limited() {
    counter!(LOGIN_RATE_LIMITED).increment(1);
}

pub fn login_completed() {
    counter!(LOGIN_COMPLETED).increment(1);
}

/// A login that came back and failed; answers the reason label.
pub fn login_failed(error: &BffError) -> &'static str {
    let reason = login_failure_reason(error);
    counter!(LOGIN_FAILED, "reason" => reason).increment(1);
    reason
}

/// The `reason` label of a failed login.
pub fn login_failure_reason(error: &BffError) -> &'static str {
    match error {
        BffError::LoginFailed(failure) => match failure {
            LoginFailure::NoLoginInProgress => "no_login_in_progress",
            LoginFailure::Expired => "expired",
            LoginFailure::OtherApp => "other_app",
            LoginFailure::StateMismatch => "state_mismatch",
            LoginFailure::WrongIssuer => "wrong_issuer",
            LoginFailure::MissingIssuer => "missing_issuer",
            // The provider's code is the client's to choose (it is in the
            // page URL the SPA posts): never a label value.
            LoginFailure::ProviderError(_) => "provider_error",
        },
        BffError::BadRequest(_) => "malformed_callback",
        BffError::Provider(OidcError::Refused(_)) => "code_refused",
        BffError::Provider(OidcError::InvalidIdToken(_)) => "invalid_id_token",
        BffError::Provider(OidcError::Timeout) => "provider_timeout",
        BffError::Provider(_) => "provider_unavailable",
        BffError::SessionStoreUnavailable(_) => "session_store_unavailable",
        BffError::Cookie(_) => "session_too_large",
        _ => "other",
    }
}

/// The outcome of a `POST /bff/refresh`.
pub fn refresh(outcome: &Result<(), &BffError>) {
    counter!(REFRESHES, "outcome" => refresh_outcome(outcome)).increment(1);
}

/// The `outcome` label of a refresh.
fn refresh_outcome(outcome: &Result<(), &BffError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        // No session to refresh: the browser's cookies were gone or ended.
        Err(BffError::RefreshRefused(refused)) if refused.is_no_session() => "no_session",
        // The provider refused the token, or its answer failed a check.
        Err(BffError::RefreshRefused(_) | BffError::Unauthorized(_)) => "refused",
        Err(BffError::Provider(_)) => "unavailable",
        Err(BffError::SessionStoreUnavailable(_)) => "store_unavailable",
        Err(_) => "other",
    }
}

pub fn logged_out() {
    counter!(LOGOUTS).increment(1);
}

/// The outcome of a back-channel logout.
pub fn backchannel_logout(outcome: &Result<(), &BffError>) {
    use crate::oidc::logout_token::LogoutTokenError;
    let outcome = match outcome {
        Ok(()) => "ok",
        Err(BffError::LogoutToken(LogoutTokenError::Replayed)) => "replayed",
        Err(BffError::LogoutToken(LogoutTokenError::Provider)) => "unavailable",
        Err(BffError::LogoutToken(_) | BffError::BadRequest(_)) => "invalid_token",
        Err(_) => "unavailable",
    };
    counter!(BACKCHANNEL_LOGOUTS, "outcome" => outcome).increment(1);
}

/// The provider's endpoints, as labels.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Token,
    Userinfo,
    Revocation,
    Par,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
            Self::Token => "token",
            Self::Userinfo => "userinfo",
            Self::Revocation => "revocation",
            Self::Par => "par",
        }
    }
}

/// Times one call to the provider and counts its failure; with traces on,
/// the call is a `provider` span (whose `traceparent` the request carries:
/// `oidc::provider::traced`).
pub async fn provider_call<T>(
    endpoint: Endpoint,
    call: impl Future<Output = Result<T, OidcError>>,
) -> Result<T, OidcError> {
    let started = Instant::now();
    let span = th_http::call_span!("provider", endpoint = endpoint.label());
    let result = tracing::Instrument::instrument(call, span).await;
    histogram!(PROVIDER_DURATION, "endpoint" => endpoint.label()).record(started.elapsed());
    if let Err(e) = &result {
        let kind = match e {
            OidcError::Timeout => "timeout",
            OidcError::Refused(_) => "refused",
            OidcError::InvalidIdToken(_) => "invalid_id_token",
            OidcError::Unavailable(_) | OidcError::Unsupported(_) => "unavailable",
        };
        counter!(PROVIDER_ERRORS, "endpoint" => endpoint.label(), "kind" => kind).increment(1);
    }
    result
}

/// The cookie store's deny-list in memory: whether it answers, how many
/// ended sessions it holds.
pub fn deny_list(in_memory: bool, entries: usize) {
    gauge!(DENY_LIST_IN_MEMORY).set(if in_memory { 1.0 } else { 0.0 });
    gauge!(DENY_LIST_ENTRIES).set(entries as f64);
}

/// One Redis call of the session store: `operation` is the store's fixed
/// description of it ("loading a session"), never a key.
pub fn store_call(operation: &str, elapsed: Duration, ok: bool) {
    histogram!(STORE_DURATION, "operation" => operation.to_owned()).record(elapsed);
    if !ok {
        counter!(STORE_ERRORS, "operation" => operation.to_owned()).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::refresh::RefreshRefused;

    fn refused(why: RefreshRefused) -> &'static str {
        refresh_outcome(&Err(&why.into()))
    }

    #[test]
    fn a_refresh_without_a_live_session_counts_as_no_session() {
        for why in [
            RefreshRefused::NoSession,
            RefreshRefused::SessionEnded,
            RefreshRefused::NoRefreshToken,
        ] {
            assert_eq!(refused(why), "no_session", "{why:?}");
        }
    }

    #[test]
    fn a_refresh_the_provider_or_a_check_refused_counts_as_refused() {
        for why in [
            RefreshRefused::ProviderRefused,
            RefreshRefused::InvalidIdToken,
            RefreshRefused::AccessTokenRefused,
            RefreshRefused::NoSubject,
            RefreshRefused::OtherUser,
        ] {
            assert_eq!(refused(why), "refused", "{why:?}");
        }
        assert_eq!(refresh_outcome(&Ok(())), "ok");
    }
}
