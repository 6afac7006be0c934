//! Prints the `Cookie` header of a signed-in browser for the BFF settings in
//! a file: a session written through the configured store's own `save`,
//! exactly as a login writes it (the cookie store seals the tokens into
//! cookies; the Redis store puts them in Redis and seals only the session
//! key into `__Host-th-session`). The session carries a `sid` and a `sub`,
//! so with `[redis]` the cookie store's deny-list check runs on every
//! request. For the benchmark (`bench/proxy.sh`) and for trying the BFF's
//! API proxy by hand without a provider.
//!
//! `cargo run -p th-bff --example bench_session -- bff.toml <access token>`

use actix_web::test::TestRequest;
use th_bff::configuration::Settings;
use th_bff::session::{IdTokenPayload, NewTokens, RefreshUpdate};
use th_cookies::{AccessTokenPayload, Secret, SessionMark};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(token)) = (args.next(), args.next()) else {
        return Err("usage: bench_session <bff settings.toml> <access token>".into());
    };
    let config = Settings::load(Some(file.as_ref()))?.validate()?;
    actix_web::rt::System::new().block_on(async move {
        let store = th_bff::startup::session_store(&config).await?;
        let now = th_bff::clock::now();
        let ends = now + i64::try_from(config.session_lifetime.as_secs())?;
        let refresh = Secret::new("bench-refresh-token".to_owned());
        let tokens = NewTokens {
            access: AccessTokenPayload {
                token: Secret::new(token),
                expires_at: Some((now + 3600).min(ends)),
                app: None,
                session: Some(SessionMark {
                    sid: Some("bench-provider-session".to_owned()),
                    sub: Some("bench-user".to_owned()),
                    since: now,
                }),
            },
            refresh: RefreshUpdate::Replace(&refresh),
            id: IdTokenPayload {
                token: Secret::new("bench-id-token".to_owned()),
                session_expires_at: ends,
                app: None,
                sub: Some("bench-user".to_owned()),
                sid: Some("bench-provider-session".to_owned()),
                since: Some(now),
            },
            new_session: true,
        };
        // A request with no cookies and no app host: a fresh login.
        let req = TestRequest::default().to_http_request();
        let cookies = store.save(&req, tokens).await?;
        let header: Vec<String> = cookies
            .iter()
            .filter(|c| !c.value().is_empty())
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        println!("{}", header.join("; "));
        Ok(())
    })
}
