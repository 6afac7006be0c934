//! The shared middleware, in its one order, for both servers.
//!
//! From the outside in (the last `wrap` runs first):
//!
//! 1. [`request_id`](crate::request_id::request_id): outermost, so every
//!    line the others log carries the id;
//! 2. [`record_http`](crate::metrics::record_http) (when metrics are on):
//!    counts every answer, the guards' refusals included;
//! 3. the access log (when asked for): one line per request;
//! 4. [`body_idle_timeout`](crate::idle_timeout::body_idle_timeout): every
//!    request body, whoever reads it;
//! 5. the security headers (when asked for): on every answer, refusals too;
//! 6. [`origin_guard`](crate::guard::origin_guard): records the app, refuses
//!    a foreign `Origin`, preflights included, before CORS can answer them;
//! 7. [`cors`](crate::guard::cors), only when cross-origin callers are
//!    configured.
//!
//! The CSRF guard is not here: it goes on the scopes it protects.

use crate::access_log;
use crate::app_origin::AppOrigins;
use crate::guard::{cors, origin_guard};
use crate::idle_timeout::body_idle_timeout;
use crate::metrics::record_http;
use crate::request_id::request_id;
use actix_web::App;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, DefaultHeaders, from_fn};
use std::time::Duration;

/// What [`wrap`] puts around an app.
#[derive(Debug, Clone)]
pub struct Options {
    /// The app origins and cross-origin callers the guards check against.
    pub origins: AppOrigins,
    /// The longest a request body may go without sending data.
    pub body_idle: Duration,
    /// Whether requests are counted (`[metrics] listen` is set).
    pub metrics: bool,
    /// Whether each request gets an access-log line.
    pub access_log: bool,
    /// Whether every answer carries `x-content-type-options: nosniff` and
    /// `referrer-policy: no-referrer` (unless it sets its own).
    pub security_headers: bool,
}

/// Wraps `app`, whose routes are registered, in the shared middleware.
pub fn wrap<T, B>(
    app: App<T>,
    options: &Options,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<T, B>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<T, B>,
>
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let origins = options.origins.clone();
    let body_idle = options.body_idle;
    app.wrap(Condition::new(
        !options.origins.cross_origin().is_empty(),
        cors(&options.origins),
    ))
    .wrap(from_fn(move |req, next| {
        origin_guard(origins.clone(), req, next)
    }))
    .wrap(Condition::new(
        options.security_headers,
        DefaultHeaders::new()
            .add(("x-content-type-options", "nosniff"))
            .add(("referrer-policy", "no-referrer")),
    ))
    .wrap(from_fn(move |req, next| {
        body_idle_timeout(body_idle, req, next)
    }))
    .wrap(Condition::new(options.access_log, from_fn(access_log::log)))
    .wrap(Condition::new(options.metrics, from_fn(record_http)))
    .wrap(from_fn(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_origin::{CorsSettings, ForwardedSettings};
    use actix_web::{HttpResponse, test, web};

    fn options(cross_origin: &[&str]) -> Options {
        Options {
            origins: AppOrigins::from_settings(
                &CorsSettings {
                    allowed_origins: vec!["https://app.example".into()],
                    cross_origin: cross_origin.iter().map(|o| o.to_string()).collect(),
                },
                &ForwardedSettings::default(),
            )
            .unwrap(),
            body_idle: Duration::from_secs(30),
            metrics: false,
            access_log: true,
            security_headers: true,
        }
    }

    #[actix_web::test]
    async fn a_refused_origin_still_gets_the_request_id_and_the_security_headers() {
        let app = test::init_service(wrap(
            App::new().route("/x", web::get().to(HttpResponse::Ok)),
            &options(&[]),
        ))
        .await;
        let req = test::TestRequest::get()
            .uri("/x")
            .insert_header(("host", "app.example"))
            .insert_header(("origin", "https://evil.example"));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), 403);
        let h = res.headers();
        assert!(h.get(th_contract::REQUEST_ID_HEADER).is_some());
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
    }

    #[actix_web::test]
    async fn the_origin_guard_runs_before_cors_can_answer_a_preflight() {
        let app = test::init_service(wrap(
            App::new().route("/x", web::post().to(HttpResponse::Ok)),
            &options(&["http://localhost:8080"]),
        ))
        .await;
        let preflight = |origin: &str| {
            test::TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/x")
                .insert_header(("host", "app.example"))
                .insert_header(("origin", origin.to_owned()))
                .insert_header(("access-control-request-method", "POST"))
                .to_request()
        };
        let res = test::call_service(&app, preflight("https://evil.example")).await;
        assert_eq!(res.status(), 403);
        assert!(res.headers().get("access-control-allow-origin").is_none());
        let res = test::call_service(&app, preflight("http://localhost:8080")).await;
        assert!(res.status().is_success(), "{}", res.status());
        assert_eq!(
            res.headers().get("access-control-allow-origin").unwrap(),
            "http://localhost:8080"
        );
    }
}
