//! `GET /healthz` (the process answers) and `GET /readyz` (the provider's metadata is loaded).

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use th_contract::codes;
use th_http::json_error::json_error;

/// Liveness.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: tries discovery again if it has not succeeded yet.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let provider = state.oidc.is_ready().await || state.oidc.warm_up().await.is_ok();
    if !provider {
        return not_ready("the identity provider's metadata is not loaded yet");
    }
    if !state.store.is_ready().await {
        return not_ready("the session store does not answer");
    }
    HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
}

fn not_ready(why: &str) -> HttpResponse {
    json_error(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        codes::NOT_READY,
        why,
    )
}
