//! Prints the `Cookie` header of a logged-in browser: `token` sealed into the
//! access-token cookie with the key ring of a proxy settings file. For the
//! benchmark (`bench/proxy.sh`) and for trying the proxy by hand.
//!
//! `cargo run -p th-proxy --example session_cookie -- proxy.toml <token>`

use std::time::Duration;
use th_cookies::{AccessTokenPayload, CookieKind, RequestCookies, Secret};
use th_proxy::server::Settings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(token)) = (args.next(), args.next()) else {
        return Err("usage: session_cookie <settings.toml> <access token>".into());
    };
    let settings = Settings::load(config.as_ref())?;
    let vault = settings.cookies.vault()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let payload = AccessTokenPayload {
        token: Secret::new(token),
        expires_at: Some(now.as_secs() as i64 + 3600),
        app: None,
        session: None,
    };
    let cookies = vault.write_json(
        &RequestCookies::default(),
        CookieKind::Access,
        &payload,
        Duration::from_secs(3600),
    )?;
    let header: Vec<String> = cookies
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    println!("{}", header.join("; "));
    Ok(())
}
