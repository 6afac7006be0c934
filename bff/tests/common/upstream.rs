//! An upstream for the proxy's route: every request answered by `handler`,
//! on a free loopback port; answers its base URL.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

pub fn spawn_upstream<F, Fut>(handler: F) -> String
where
    F: Fn(HttpRequest) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = HttpResponse> + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = HttpServer::new(move || App::new().default_service(web::to(handler.clone())))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    base
}
