//! Stub HTTP servers (an upstream API, an issuer that misbehaves, an OTLP
//! receiver): actix-web on a free loopback port, one worker, running on the
//! test's Tokio runtime until the test ends.

use actix_web::web::ServiceConfig;
use actix_web::{App, HttpServer};
use std::net::TcpListener;

/// A stub serving `routes`; answers its base URL (`http://127.0.0.1:<port>`).
/// Call it from within a Tokio runtime.
pub fn spawn_stub<F>(routes: F) -> String
where
    F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
{
    spawn_stub_knowing_base(|_| routes)
}

/// [`spawn_stub`] for routes that need the stub's own base URL (an issuer
/// names itself in its metadata): `make_routes` gets it before the server
/// starts.
pub fn spawn_stub_knowing_base<F>(make_routes: impl FnOnce(&str) -> F) -> String
where
    F: Fn(&mut ServiceConfig) + Send + Clone + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let base = format!("http://{addr}");
    let routes = make_routes(&base);
    let server = HttpServer::new(move || App::new().configure(routes.clone()))
        .workers(1)
        .listen(listener)
        .expect("listen on the bound port")
        .run();
    tokio::spawn(server);
    base
}
