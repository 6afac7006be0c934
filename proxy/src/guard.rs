//! The request rules of the contract, as middleware shared by the BFF and the proxy.
//!
//! * [`origin_guard`]: a request whose `Origin` header is present and not in
//!   the allow-list is refused (403) on every path, preflights included, so
//!   a foreign origin never sees an allow header.
//! * [`cors`]: CORS with credentials for the allow-list, and only the headers
//!   the contract uses.
//! * [`csrf_guard`]: every request under a protected prefix (`/bff/`, `/api/`)
//!   must carry `x-csrf: 1`; a cross-site form cannot set a custom header, and
//!   a cross-origin script cannot without a preflight that CORS refuses.
//!
//! Wrap in this order (the last `wrap` runs first):
//! `.wrap(csrf).wrap(cors).wrap(origin)`.

use crate::json_error::json_error;
use crate::origin::Origin;
use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ORIGIN;
use actix_web::middleware::Next;
use std::collections::HashSet;
use std::sync::Arc;
use th_contract::{CSRF_HEADER, CSRF_VALUE, codes};

/// The origins allowed to call, shared by the guards and CORS.
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Arc<HashSet<String>>);

impl AllowedOrigins {
    /// The allow-list.
    pub fn new(origins: &[Origin]) -> Self {
        Self(Arc::new(
            origins.iter().map(|o| o.as_str().to_owned()).collect(),
        ))
    }

    /// Whether an `Origin` header value is allowed (exact match, as sent).
    pub fn allows(&self, origin: &str) -> bool {
        self.0.contains(origin)
    }
}

/// Refuses a request whose `Origin` is present and not allowed.
pub async fn origin_guard(
    allowed: AllowedOrigins,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Some(origin) = req.headers().get(ORIGIN) {
        let ok = origin.to_str().map(|o| allowed.allows(o)).unwrap_or(false);
        if !ok {
            tracing::info!(path = req.path(), "refused a request from a foreign origin");
            let response = json_error(
                StatusCode::FORBIDDEN,
                codes::ORIGIN,
                "the request's Origin is not allowed",
            );
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Refuses a request under one of `prefixes` that lacks `x-csrf: 1`.
pub async fn csrf_guard(
    prefixes: Arc<[String]>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let protected = prefixes.iter().any(|p| req.path().starts_with(p.as_str()));
    let has_header = req
        .headers()
        .get(CSRF_HEADER)
        .is_some_and(|v| v.as_bytes() == CSRF_VALUE.as_bytes());
    if protected && !has_header {
        let response = json_error(
            StatusCode::FORBIDDEN,
            codes::CSRF,
            format!("requests to this path must carry the header `{CSRF_HEADER}: {CSRF_VALUE}`"),
        );
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// CORS for the allow-list: credentials on, the contract's headers only.
pub fn cors(allowed: &AllowedOrigins) -> Cors {
    let allowed = allowed.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, _| origin.to_str().is_ok_and(|o| allowed.allows(o)))
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["content-type", "accept", CSRF_HEADER])
        .supports_credentials()
        .max_age(600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};

    fn allowed() -> AllowedOrigins {
        AllowedOrigins::new(&[Origin::parse("https://app.example").unwrap()])
    }

    /// A CORS preflight for a POST with `x-csrf`, from `origin`.
    fn preflight(origin: &str) -> test::TestRequest {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/bff/x")
            .insert_header(("origin", origin))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header(("access-control-request-headers", "x-csrf"))
    }

    macro_rules! app {
        () => {{
            let a = allowed();
            let prefixes: Arc<[String]> = Arc::from(vec!["/bff/".to_owned()]);
            test::init_service(
                App::new()
                    .route("/bff/x", web::get().to(HttpResponse::Ok))
                    .route("/healthz", web::get().to(HttpResponse::Ok))
                    .wrap(from_fn(move |r, n| csrf_guard(prefixes.clone(), r, n)))
                    .wrap(cors(&a))
                    .wrap(from_fn(move |r, n| origin_guard(allowed(), r, n))),
            )
            .await
        }};
    }

    #[actix_web::test]
    async fn missing_csrf_header_is_403() {
        let app = app!();
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/bff/x").to_request()).await;
        assert_eq!(res.status(), 403);
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/bff/x")
                .insert_header(("x-csrf", "1"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn csrf_header_is_not_needed_outside_the_prefixes() {
        let app = app!();
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn foreign_origin_is_403_and_gets_no_cors_headers() {
        let app = app!();
        let res = test::call_service(&app, preflight("https://evil.example").to_request()).await;
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }

    #[actix_web::test]
    async fn allowed_preflight_gets_credentials_and_the_csrf_header() {
        let app = app!();
        let res = test::call_service(&app, preflight("https://app.example").to_request()).await;
        assert!(res.status().is_success(), "{}", res.status());
        let h = res.headers();
        assert_eq!(
            h.get("access-control-allow-origin").unwrap(),
            "https://app.example"
        );
        assert_eq!(h.get("access-control-allow-credentials").unwrap(), "true");
    }
}
