//! The OAuth proxy, and the request rules it shares with the BFF.
//!
//! * [`guard`]: the contract's CSRF header and `Origin` allow-list, and CORS.
//! * [`json_error`]: the contract's JSON error body.

pub mod guard;
pub mod json_error;
pub mod origin;
