//! Logging set-up: `th_http`'s, shared by both servers (JSON lines by
//! default, text with `log.format = "pretty"`; every line of a request
//! carries its request id). Fields never carry a secret: secrets are
//! `th_cookies::Secret`, whose `Debug` is redacted and which has no `Display`.

pub use th_http::telemetry::{init, init_with_writer};
