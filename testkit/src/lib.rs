//! Test support shared by the crates' integration tests: the real OpenID
//! Connect provider (`dev/provider.mjs`, npm `oidc-provider`) on a free
//! loopback port, a browser-like client that signs in through its forms,
//! a real Redis and a real Prometheus, the example API; the test app's
//! origin and cookie keys, the BFF's test settings, stub servers and free
//! ports.

pub mod bff_settings;
mod direct_flow;
mod example_api;
mod faults;
mod login_forms;
mod port;
mod prometheus;
mod provider;
mod redis;
mod stub;
mod test_app;

pub use direct_flow::Tokens;
pub use example_api::{spawn_example_api, spawn_example_api_for};
pub use faults::{Fault, FaultProxy};
pub use login_forms::{Browser, LoginError};
pub use port::free_port;
pub use prometheus::TestPrometheus;
pub use provider::{ProviderOptions, ReceivedTraceparent, TestProvider, TokenFormat};
pub use redis::TestRedis;
pub use stub::{spawn_stub, spawn_stub_knowing_base};
pub use test_app::{
    APP_HOST, APP_ORIGIN, REDIRECT, TEST_COOKIE_KEY, TEST_COOKIE_KEY_2, cookie_header,
};
