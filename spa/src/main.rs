//! The browser app. It never holds a token: every call goes to the BFF with
//! `credentials: include`, and the BFF keeps the tokens in encrypted,
//! HttpOnly cookies that script cannot read.

mod app;
mod bff;
mod callback;
mod error;
mod fetch;
mod route;
mod time;
mod views;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
