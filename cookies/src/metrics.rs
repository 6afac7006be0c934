//! What the cookies count (names in `th_contract::metrics`): every sealed
//! value opened, by key id, and every one that did not open, by kind. The
//! calls cost nothing until a recorder is installed (`[metrics] listen`).

use crate::OpenError;
use th_contract::metrics::{COOKIE_FAILURES, COOKIES_OPENED};

/// A value opened with the key `key_id` (an id from the ring, never one a
/// client made up), counted by the key's own `counter`.
pub(crate) fn opened(
    counter: &std::sync::OnceLock<metrics::Counter>,
    key_id: &metrics::SharedString,
) {
    counter
        .get_or_init(|| metrics::counter!(COOKIES_OPENED, "key_id" => key_id.clone()))
        .increment(1);
}

/// A value that did not open.
pub(crate) fn open_failed(error: &OpenError) {
    failed(match error {
        OpenError::Malformed => "malformed",
        OpenError::UnknownKey => "unknown_key",
        OpenError::Forged => "tampered",
    });
}

/// A value that opened but whose content this version cannot read.
pub(crate) fn bad_content() {
    failed("bad_content");
}

/// A value that opened but has expired (the proxy's access-token cookie,
/// the login cookie): the callers decide expiry, so they report it.
pub fn expired() {
    failed("expired");
}

fn failed(kind: &'static str) {
    metrics::counter!(COOKIE_FAILURES, "kind" => kind).increment(1);
}
