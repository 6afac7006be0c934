//! `proxy`: the OAuth proxy on its own, for teams that run it at the gateway.

use clap::Parser;
use std::path::PathBuf;
use th_proxy::server::{RunError, Settings, run};

// glibc's malloc was 12 % of the proxy's CPU under load (docs/benchmarks.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Forwards browser API calls to upstreams, turning the encrypted access-token
/// cookie into `Authorization: Bearer`.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The settings file (TOML); `TH_`-prefixed environment variables override
    /// it, `__` between section and key (e.g. `TH_PROXY__INTROSPECTION__CLIENT_SECRET`).
    #[arg(long, short, env = "TH_CONFIG", default_value = "proxy.toml")]
    config: PathBuf,
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let settings = match Settings::load(&args.config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("proxy: bad configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let telemetry = th_http::telemetry::init(&settings.log, &settings.traces, "th-proxy");
    let result = run(settings).await;
    telemetry.shutdown();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // A setting at fault exits as a file that does not read does, and
        // as the BFF's binary does.
        Err(RunError::Start(e)) if e.is_settings() => {
            eprintln!("proxy: bad configuration: {e}");
            std::process::ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("proxy: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
