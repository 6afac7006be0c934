//! An example upstream API for the local stack and the tests: every request
//! must carry a bearer JWT the provider signed ([`token`]); the answer says
//! who called and what arrived, so a test can prove the token reached it.

pub mod token;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::TcpListener;
use std::sync::Arc;
use th_contract::{ErrorBody, codes};
pub use token::{Caller, TokenError, Verifier, VerifierSettings};

/// The largest request body the example reads.
const MAX_BODY: usize = 1024 * 1024;

/// What the API answers to an authenticated call.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Echo {
    /// The caller's subject.
    pub sub: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// `at+jwt` or `token-introspection+jwt`.
    pub token_type: String,
    pub method: String,
    pub path: String,
    pub query: String,
    /// Whether any `Cookie` header arrived (through the proxy: none should).
    pub cookie_header: bool,
    /// The request body's length and SHA-256 (hex).
    pub body_bytes: usize,
    pub body_sha256: String,
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `listen` (port 0 picks one) and builds the server.
    pub fn build(listen: &str, settings: VerifierSettings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        let port = listener.local_addr()?.port();
        let verifier = web::Data::from(Arc::new(Verifier::new(settings)));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(verifier.clone())
                .route("/healthz", web::get().to(HttpResponse::NoContent))
                .default_service(web::to(echo))
        })
        .workers(2)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn echo(
    req: HttpRequest,
    mut payload: web::Payload,
    verifier: web::Data<Verifier>,
) -> HttpResponse {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(TokenError::Missing);
    let caller = match token {
        Ok(t) => verifier.verify(t).await,
        Err(e) => Err(e),
    };
    let caller = match caller {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(reason = %e, "refused a token");
            return HttpResponse::build(StatusCode::UNAUTHORIZED)
                .insert_header(("www-authenticate", "Bearer error=\"invalid_token\""))
                .json(ErrorBody {
                    code: codes::UNAUTHORIZED.into(),
                    message: e.to_string(),
                });
        }
    };
    let mut hasher = Sha256::new();
    let mut body_bytes = 0;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return HttpResponse::BadRequest().finish();
        };
        body_bytes += chunk.len();
        if body_bytes > MAX_BODY {
            return HttpResponse::PayloadTooLarge().finish();
        }
        hasher.update(&chunk);
    }
    let body_sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    HttpResponse::Ok().json(Echo {
        sub: caller.sub,
        scopes: caller.scopes,
        client_id: caller.client_id,
        token_type: caller.token_type.into(),
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        cookie_header: req.headers().contains_key("cookie"),
        body_bytes,
        body_sha256,
    })
}
