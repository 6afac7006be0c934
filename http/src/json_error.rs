//! The contract's error body, `{ "code": "…", "message": "…" }`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use th_contract::ErrorBody;

/// A JSON error response. `message` must never hold a secret.
pub fn json_error(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(ErrorBody {
            code: code.to_owned(),
            message: message.into(),
        })
}
