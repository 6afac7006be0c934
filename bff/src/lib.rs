//! The backend-for-frontend: it runs the OpenID Connect flow for a browser
//! app, keeps every token in sealed cookies, and mounts the API proxy.
//!
//! A request's path: `startup.rs` (middleware: origin, CORS, CSRF) →
//! `routes/<endpoint>.rs` → `oidc/` (the provider) → `session/` (the cookies).

pub mod clock;
pub mod configuration;
pub mod error;
pub mod healthcheck;
pub mod metrics;
pub mod oidc;
pub mod rate_limit;
pub mod refresh_turns;
pub mod routes;
pub mod session;
pub mod startup;
pub mod state;
pub mod telemetry;

#[cfg(test)]
mod import_rules;
