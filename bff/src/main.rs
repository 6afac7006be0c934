//! `bff`: parses arguments, loads the settings, runs the server.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use th_bff::configuration::Settings;
use th_bff::startup::Application;
use th_bff::{healthcheck, telemetry};

// As in the proxy binary: measurably less CPU per proxied request than
// glibc's malloc under load (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The token handler's backend-for-frontend (OAuth agent and API proxy).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Settings file (TOML). Every setting can also come from the
    /// environment: TH_OIDC__CLIENT_SECRET sets oidc.client_secret.
    #[arg(long, short, env = "TH_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Run,
    /// Validate the settings and exit.
    CheckConfig,
    /// Probe a running server's health endpoint; exit 0 when healthy.
    Healthcheck {
        /// Default: /healthz on 127.0.0.1 at the port of `listen` (from
        /// TH_LISTEN or the settings file), else the default port.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print a fresh random cookie key (base64 of 32 bytes) for cookies.keys.
    GenerateKey,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Healthcheck { url } => match healthcheck::probe(&url.unwrap_or_else(|| {
            healthcheck::default_url(Settings::listen_only(cli.config.as_deref()).as_deref())
        })) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("unhealthy: {e}");
                ExitCode::FAILURE
            }
        },
        Command::GenerateKey => {
            println!("{}", th_cookies::generate_key_base64());
            ExitCode::SUCCESS
        }
        Command::CheckConfig => match load(cli.config) {
            Ok(_) => {
                println!("the settings are valid");
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Run => {
            let config = match load(cli.config) {
                Ok(config) => config,
                Err(code) => return code,
            };
            let telemetry = telemetry::init(&config.log, &config.traces, "th-bff");
            let runtime = actix_web::rt::System::new();
            let result = runtime.block_on(async {
                let app = Application::build(config).await?;
                tracing::info!(port = app.port(), "listening");
                app.run_until_stopped().await
            });
            telemetry.shutdown();
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn load(file: Option<PathBuf>) -> Result<th_bff::configuration::Config, ExitCode> {
    Settings::load(file.as_deref())
        .and_then(Settings::validate)
        .map_err(|e| {
            eprintln!("invalid settings: {e}");
            ExitCode::from(2)
        })
}
