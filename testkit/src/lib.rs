//! Test support shared by the crates' integration tests: the real OpenID
//! Connect provider (`dev/provider.mjs`, npm `oidc-provider`) on a free
//! loopback port, a browser-like client that signs in through its forms,
//! a real Redis and a real Prometheus.

pub mod bff_settings;
mod direct_flow;
mod faults;
mod login_forms;
mod prometheus;
mod provider;
mod redis;

pub use direct_flow::Tokens;
pub use faults::{Fault, FaultProxy};
pub use login_forms::{Browser, LoginError};
pub use prometheus::TestPrometheus;
pub use provider::{ProviderOptions, ReceivedTraceparent, TestProvider, TokenFormat};
pub use redis::TestRedis;
