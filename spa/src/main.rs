//! The browser app: only views. It never holds a token; `th-client` makes
//! every call to the BFF, with the session cookies and the CSRF header, and
//! keeps the session state (`th_client::leptos::AuthState`).

mod app;
mod route;
mod time;
mod views;

/// The BFF, on the page's own origin.
const BFF: th_client::Client = th_client::Client::same_origin();

fn main() {
    leptos::mount::mount_to_body(app::App);
}
