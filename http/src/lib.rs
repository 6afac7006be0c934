//! The HTTP rules the BFF and the proxy share, so that neither imports the
//! other for them (the crates depend one way: contract ← cookies ← http ←
//! proxy ← bff).
//!
//! * [`middleware`]: the shared middleware in its one order ([`middleware::wrap`]);
//! * [`guard`]: the contract's CSRF header, the per-host `Origin` rule, CORS;
//! * [`app_origin`] (`[cors]`, `[forwarded]`): which app a request was sent
//!   to; [`origin`]: a web origin, parsed once; [`forwarded`]: who the
//!   client is, as far as the trusted proxies in front vouch;
//! * [`json_error`]: the contract's JSON error body;
//! * [`request_id`], [`access_log`], [`idle_timeout`]: per-request middleware;
//! * [`request_cookies`]: the request's cookies, for the vault;
//! * [`metrics`] (`[metrics]`): the Prometheus recorder, its listener, the
//!   HTTP counters; [`telemetry`] (`[log]`, `[traces]`): logs and spans;
//! * [`settings`]: the `TH_` settings loader, the settings error, the URL
//!   types settings parse into.

pub mod access_log;
pub mod app_origin;
pub mod forwarded;
pub mod guard;
pub mod idle_timeout;
pub mod json_error;
pub mod metrics;
pub mod middleware;
pub mod origin;
pub mod request_cookies;
pub mod request_id;
pub mod settings;
pub mod telemetry;
