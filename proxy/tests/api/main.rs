//! The proxy's integration tests, one binary: the real provider
//! (`th-testkit`), the real example API, and small stub upstreams for the
//! faults and the streaming a real API would not show on demand.

mod config_errors;
mod connections;
mod errors;
mod forwarding;
mod helpers;
mod idle_timeouts;
mod phantom;
mod request_rules;
mod streaming;
