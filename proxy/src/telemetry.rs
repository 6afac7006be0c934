//! Logging set-up for both servers, in one place: JSON lines by default
//! (what a log collector reads; CloudWatch's metric filters match their
//! fields), text for people (`format = "pretty"`, as the local stack sets).
//!
//! Every line of a request carries its `request_id` (the `request` span of
//! [`crate::request_id`]): in JSON, in the line's `spans`; in text, before
//! the message. Fields never carry a secret: secrets are
//! `th_cookies::Secret`, whose `Debug` is redacted and which has no `Display`.

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `json` (the default) for log collectors, `pretty` for people.
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `th_bff=debug,info`.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            filter: "info".into(),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Installs the global subscriber, writing to stderr; `RUST_LOG` overrides
/// `filter`. A second call (tests) is harmless.
pub fn init(settings: &LogSettings) {
    init_with_writer(settings, std::io::stderr);
}

/// [`init`] with another writer (the tests read the lines back).
pub fn init_with_writer<W>(settings: &LogSettings, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match settings.format {
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
