//! JSON bodies: size limit and errors in the contract's shape.

use crate::error::BffError;
use actix_web::error::JsonPayloadError;
use actix_web::{HttpRequest, web};
use th_http::idle_timeout::payload_timed_out;

/// The `web::Json` settings: a size limit, and errors that are JSON, honest
/// (413 for too large, 400 for malformed) and never echo the body back.
pub fn config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req: &HttpRequest| {
            let mapped = match &err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => BffError::PayloadTooLarge(limit),
                JsonPayloadError::ContentType => BffError::BadRequest(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ),
                JsonPayloadError::Deserialize(e) => BffError::BadRequest(format!(
                    "the JSON body is malformed or has the wrong fields (line {}, column {})",
                    e.line(),
                    e.column()
                )),
                JsonPayloadError::Payload(e) if payload_timed_out(e) => BffError::RequestTimeout,
                _ => BffError::BadRequest("the request body could not be read".into()),
            };
            mapped.into()
        })
}
