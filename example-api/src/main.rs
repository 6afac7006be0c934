//! `example-api`: the example upstream API of the local stack.

use clap::Parser;
use th_example_api::{Application, VerifierSettings};

/// An API that accepts bearer JWTs signed by the provider and answers with
/// the caller's `sub` and scopes.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// `host:port` to listen on.
    #[arg(long, env = "EXAMPLE_API_LISTEN", default_value = "127.0.0.1:9000")]
    listen: String,
    /// The provider's issuer URL.
    #[arg(
        long,
        env = "EXAMPLE_API_ISSUER",
        default_value = "http://127.0.0.1:3000"
    )]
    issuer: String,
    /// This API's audience in RFC 9068 access tokens.
    #[arg(long, env = "EXAMPLE_API_AUDIENCE", default_value = "http://api.local")]
    audience: String,
    /// The introspection client whose RFC 9701 JWTs (phantom tokens) are
    /// accepted; empty refuses them.
    #[arg(
        long,
        env = "EXAMPLE_API_GATEWAY_CLIENT_ID",
        default_value = "api-gateway"
    )]
    gateway_client_id: String,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let app = Application::build(
        &args.listen,
        VerifierSettings {
            issuer: args.issuer,
            audience: args.audience,
            gateway_client_id: Some(args.gateway_client_id).filter(|g| !g.is_empty()),
        },
    )?;
    tracing::info!(port = app.port(), "the example API listens");
    app.run_until_stopped().await
}
