//! The request rules of the contract, as middleware shared by the BFF and the proxy.
//!
//! * [`origin_guard`]: records which app the request was sent to
//!   ([`crate::app_origin::RequestContext`]) and refuses (403) a request whose `Origin` header
//!   is present and is not that app's origin (nor an explicit cross-origin
//!   caller), on every path, preflights included.
//! * [`cors`]: credentialed CORS for the explicit cross-origin callers only,
//!   with the contract's headers; wrap it only when there are some.
//! * [`csrf_guard`]: the request must carry `x-csrf: 1`; a cross-site form
//!   cannot set a custom header, and a cross-origin script cannot without a
//!   preflight that CORS refuses. It is wrapped around the scopes it
//!   protects (`/bff`, each proxy route), so it applies to whatever the
//!   router matched, however the path was spelled.
//!
//! Wrap the app in this order (the last `wrap` runs first):
//! `.wrap(cors).wrap(origin)`; the CSRF guard goes on the scopes.

use crate::app_origin::AppOrigins;
use crate::json_error::json_error;
use actix_cors::Cors;
use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ORIGIN;
use actix_web::middleware::Next;
use th_contract::{CSRF_HEADER, CSRF_VALUE, codes};

/// Records the request's app; refuses an `Origin` that is not that app's.
pub async fn origin_guard(
    rules: AppOrigins,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let app = rules.app_for(req.headers()).cloned();
    if let Some(origin) = req.headers().get(ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| rules.allows(app.as_deref(), o));
        if !ok {
            tracing::info!(
                path = req.path(),
                app = app.as_ref().map(|a| a.as_str()),
                "refused a request whose Origin is not the app's it was sent to"
            );
            let response = json_error(
                StatusCode::FORBIDDEN,
                codes::ORIGIN,
                "the request's Origin is not allowed for this host",
            );
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    req.extensions_mut().insert(rules.context(app));
    Ok(next.call(req).await?.map_into_left_body())
}

/// Refuses a request that lacks `x-csrf: 1`. Wrap the scopes it protects.
pub async fn csrf_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let has_header = req
        .headers()
        .get(CSRF_HEADER)
        .is_some_and(|v| v.as_bytes() == CSRF_VALUE.as_bytes());
    if !has_header {
        let response = json_error(
            StatusCode::FORBIDDEN,
            codes::CSRF,
            format!("requests to this path must carry the header `{CSRF_HEADER}: {CSRF_VALUE}`"),
        );
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// CORS for the explicit cross-origin callers: credentials on, the
/// contract's headers only. Same-origin apps need none.
pub fn cors(rules: &AppOrigins) -> Cors {
    let allowed: Vec<String> = rules
        .cross_origin()
        .iter()
        .map(|o| o.as_str().to_owned())
        .collect();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.iter().any(|a| a == o))
        })
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers(["content-type", "accept", CSRF_HEADER])
        .supports_credentials()
        .max_age(600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_origin::{CorsSettings, ForwardedSettings};
    use actix_web::middleware::{Condition, from_fn};
    use actix_web::{App, HttpResponse, test, web};

    const APP: &str = "https://app.example";
    const ADMIN: &str = "https://admin.example";
    const DEV: &str = "http://localhost:8080";

    fn rules(cross_origin: &[&str]) -> AppOrigins {
        AppOrigins::from_settings(
            &CorsSettings {
                allowed_origins: vec![APP.into(), ADMIN.into()],
                cross_origin: cross_origin.iter().map(|o| o.to_string()).collect(),
            },
            &ForwardedSettings::default(),
        )
        .unwrap()
    }

    /// A CORS preflight for a POST with `x-csrf`, from `origin`, to `host`.
    fn preflight(origin: &str, host: &str) -> test::TestRequest {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/bff/x")
            .insert_header(("host", host))
            .insert_header(("origin", origin))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header(("access-control-request-headers", "x-csrf"))
    }

    fn get(uri: &str, host: &str) -> test::TestRequest {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("host", host))
    }

    macro_rules! app {
        ($cross:expr) => {{
            let r = rules($cross);
            let for_guard = r.clone();
            test::init_service(
                App::new()
                    .service(
                        web::scope("/bff")
                            .route("/x", web::get().to(HttpResponse::Ok))
                            .wrap(from_fn(csrf_guard)),
                    )
                    .route("/healthz", web::get().to(HttpResponse::Ok))
                    .wrap(Condition::new(!r.cross_origin().is_empty(), cors(&r)))
                    .wrap(from_fn(move |q, n| origin_guard(for_guard.clone(), q, n))),
            )
            .await
        }};
    }

    #[actix_web::test]
    async fn missing_csrf_header_is_403() {
        let app = app!(&[]);
        let res = test::call_service(&app, get("/bff/x", "app.example").to_request()).await;
        assert_eq!(res.status(), 403);
        let req = get("/bff/x", "app.example").insert_header(("x-csrf", "1"));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn the_csrf_guard_follows_the_router_not_the_raw_path() {
        let app = app!(&[]);
        for uri in ["/%62ff/x", "/%62%66%66/x", "/bf%66/%78"] {
            let res = test::call_service(&app, get(uri, "app.example").to_request()).await;
            assert_eq!(res.status(), 403, "{uri}");
        }
    }

    #[actix_web::test]
    async fn csrf_header_is_not_needed_outside_the_guarded_scopes() {
        let app = app!(&[]);
        let res = test::call_service(&app, get("/healthz", "app.example").to_request()).await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn an_app_origin_sent_to_another_apps_host_is_403() {
        let app = app!(&[]);
        let req = get("/bff/x", "admin.example")
            .insert_header(("x-csrf", "1"))
            .insert_header(("origin", APP));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 403);
        let req = get("/bff/x", "admin.example")
            .insert_header(("x-csrf", "1"))
            .insert_header(("origin", ADMIN));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn foreign_origin_is_403_and_gets_no_cors_headers() {
        let app = app!(&[DEV]);
        for origin in ["https://evil.example", "null", APP] {
            let res =
                test::call_service(&app, preflight(origin, "admin.example").to_request()).await;
            assert_eq!(res.status(), 403, "{origin}");
            assert!(res.headers().get("access-control-allow-origin").is_none());
        }
    }

    #[actix_web::test]
    async fn same_origin_apps_get_no_cors_headers() {
        let app = app!(&[]);
        let req = get("/bff/x", "app.example")
            .insert_header(("x-csrf", "1"))
            .insert_header(("origin", APP));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }

    #[actix_web::test]
    async fn an_explicit_cross_origin_preflight_gets_credentials_and_the_csrf_header() {
        let app = app!(&[DEV]);
        let res = test::call_service(&app, preflight(DEV, "127.0.0.1:8081").to_request()).await;
        assert!(res.status().is_success(), "{}", res.status());
        let h = res.headers();
        assert_eq!(h.get("access-control-allow-origin").unwrap(), DEV);
        assert_eq!(h.get("access-control-allow-credentials").unwrap(), "true");
    }
}
