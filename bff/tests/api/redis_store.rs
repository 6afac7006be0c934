//! The Redis store: the server holds the sessions, so it can end them, two
//! BFF processes share them, a dump reveals no token, and Redis failing is
//! a clear 503 that heals by itself.

use crate::api_proxy::start_upstream;
use crate::helpers::{AppOptions, TestApp, spawn_app_toml};
use th_testkit::{ProviderOptions, TestProvider, TestRedis};

/// A BFF on `redis`, with the reporting upstream at `/api/echo`.
pub async fn app_on(redis: &TestRedis, provider: &TestProvider, timeout_ms: u64) -> TestApp {
    app_on_url(&redis.url(), provider, timeout_ms).await
}

/// A BFF on the Redis at `url`, with the reporting upstream at `/api/echo`.
async fn app_on_url(url: &str, provider: &TestProvider, timeout_ms: u64) -> TestApp {
    let upstream = start_upstream(provider.issuer().to_owned()).await;
    let toml = AppOptions::for_issuer(provider.issuer()).toml().replacen(
        "[session]",
        "[session]\nstore = \"redis\"",
        1,
    ) + &format!(
        "\n[redis]\nurl = \"{url}\"\ntimeout_ms = {timeout_ms}\n\
             [proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{upstream}\"\n"
    );
    spawn_app_toml(&toml).await
}

#[tokio::test]
async fn the_browser_holds_only_a_session_key_cookie() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on(&redis, &provider, 500).await;
    app.login_as("vera").await;
    let names: Vec<&String> = app.jar.keys().collect();
    assert_eq!(names, ["__Host-th-session"], "{names:?}");
    assert!(app.jar["__Host-th-session"].len() < 300);
    assert_eq!(app.get("/bff/claims").await.body["sub"], "vera");
    assert_eq!(app.get("/api/echo/x").await.body["bearer"], true);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server_so_copied_cookies_stop_working() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on(&redis, &provider, 500).await;
    app.login_as("walt").await;
    let copied = app.jar.clone();
    assert_eq!(app.logout().await.status, 200);
    app.jar = copied;
    let session = app.session().await;
    assert_eq!(session.body["isLoggedIn"], false, "{:?}", session.body);
    for path in ["/bff/claims", "/bff/userinfo", "/api/echo/x"] {
        assert_eq!(app.get(path).await.status, 401, "{path}");
    }
    assert_eq!(app.refresh().await.status, 401);
}

#[tokio::test]
async fn a_redis_dump_after_login_holds_no_token() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on(&redis, &provider, 500).await;
    app.login_as("xena").await;
    app.refresh().await;
    let dump = redis.dump();
    assert!(
        dump.iter().any(|(k, _)| k.starts_with("th:session:")),
        "the session is in Redis: {dump:?}"
    );
    for (key, value) in &dump {
        assert!(key.starts_with("th:"), "{key}");
        assert!(!key.contains("xena"), "a key names the user: {key}");
        // Sealed ciphertext is random base64url and may spell anything
        // ("eyJ" in about one dump in a hundred): look outside it.
        let plain = outside_sealed(value);
        for needle in ["eyJ", "xena", "refresh", "access"] {
            assert!(!plain.contains(needle), "{key} holds {needle:?}: {value}");
        }
        if key.starts_with("th:seen:") {
            // When the session was last used: a Unix time, nothing else.
            let body = value.lines().filter(|l| !l.starts_with('$'));
            assert!(
                body.map(str::trim).all(|l| l.parse::<i64>().is_ok()),
                "{key}: {value}"
            );
            continue;
        }
        if !key.starts_with("th:session:") {
            // The index of the user's sessions (a set; GET answers WRONGTYPE).
            assert!(key.starts_with("th:by-s"), "{key}");
            continue;
        }
        assert!(value.contains("v1."), "sealed with the key ring: {value}");
    }
}

#[tokio::test]
async fn two_bff_processes_on_one_redis_share_the_session() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut first = app_on(&redis, &provider, 500).await;
    let mut second = app_on(&redis, &provider, 500).await;
    first.login_as("yusuf").await;
    second.jar = first.jar.clone();
    assert_eq!(second.get("/bff/claims").await.body["sub"], "yusuf");
    assert_eq!(second.get("/api/echo/x").await.status, 200);
    // Logout through the second ends it for the first too.
    assert_eq!(second.logout().await.status, 200);
    assert_eq!(first.get("/bff/claims").await.status, 401);
}

#[tokio::test]
async fn redis_down_is_503_and_not_ready_then_the_same_session_works_again() {
    let mut redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on(&redis, &provider, 300).await;
    app.login_as("zoe").await;
    let signed_in = app.jar.clone();

    // Frozen: connections open, nothing answers.
    redis.pause();
    for path in ["/bff/session", "/bff/claims", "/api/echo/x"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 503, "{path}: {:?}", answer.body);
        assert_eq!(answer.body["code"], "session_store_unavailable", "{path}");
        let text = answer.body.to_string();
        assert!(!text.contains("th:session"), "no key in the answer: {text}");
    }
    assert_eq!(app.get("/readyz").await.status, 503);
    let logout = app.logout().await;
    assert_eq!(logout.status, 503, "{:?}", logout.body);
    redis.resume();

    // Back: no restart of the BFF, and the same session (the failed logout
    // cleared the browser's cookie, not the session in Redis).
    assert_eq!(app.get("/readyz").await.status, 200);
    app.jar = signed_in;
    assert_eq!(app.get("/bff/claims").await.body["sub"], "zoe");

    // Stopped and started again (its data saved): connections are remade.
    redis.stop();
    assert_eq!(app.get("/bff/claims").await.status, 503);
    assert_eq!(app.get("/readyz").await.status, 503);
    redis.start_again();
    let mut ok = false;
    for _ in 0..20 {
        if app.get("/bff/claims").await.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "the session works again once Redis is back");
    assert_eq!(app.get("/readyz").await.status, 200);
}

/// Reads the session through every path that opens it: all `status`.
async fn every_read_is(app: &mut TestApp, status: u16, what: &str) {
    for path in ["/bff/session", "/bff/claims", "/api/echo/x"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, status, "{what}: {path}: {:?}", answer.body);
        if status == 503 {
            assert_eq!(answer.body["code"], "session_store_unavailable", "{what}");
        }
    }
}

/// Waits (up to 2 s) until the session reads again.
async fn heals(app: &mut TestApp, user: &str, what: &str) {
    for _ in 0..20 {
        if app.get("/bff/claims").await.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.get("/bff/claims").await.body["sub"], user, "{what}");
    every_read_is(app, 200, what).await;
    assert_eq!(app.get("/readyz").await.status, 200, "{what}");
}

#[tokio::test]
async fn redis_slow_or_resetting_its_connections_is_503_at_worst_and_heals_by_itself() {
    use std::time::{Duration, Instant};
    use th_testkit::{Fault, FaultProxy};
    let redis = TestRedis::start();
    let port: u16 = redis.url().rsplit(':').next().unwrap().parse().unwrap();
    let proxy = FaultProxy::start(([127, 0, 0, 1], port).into());
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on_url(&format!("redis://{}", proxy.addr()), &provider, 300).await;
    app.login_as("abe").await;

    // Slow within the 300 ms timeout: only slow.
    proxy.set(Fault::Delay(Duration::from_millis(50)));
    every_read_is(&mut app, 200, "50 ms late").await;

    // Slower than the timeout: 503, in time.
    proxy.set(Fault::Delay(Duration::from_millis(800)));
    let started = Instant::now();
    every_read_is(&mut app, 503, "800 ms late").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    proxy.set(Fault::Pass);
    heals(&mut app, "abe", "after the slowness").await;

    // Every connection reset, and each new one (down): 503, then back.
    proxy.set(Fault::Close);
    every_read_is(&mut app, 503, "down").await;
    assert_eq!(app.get("/readyz").await.status, 503);
    proxy.set(Fault::Pass);
    heals(&mut app, "abe", "after the resets").await;

    // Answers cut mid-reply.
    proxy.set(Fault::ResetAfter(3));
    let cut = app.get("/bff/claims").await;
    assert_eq!(cut.status, 503, "{:?}", cut.body);
    proxy.set(Fault::Pass);
    heals(&mut app, "abe", "after the cut replies").await;
    assert_eq!(app.logout().await.status, 200);
}

#[tokio::test]
async fn the_redis_store_without_a_redis_section_names_the_setting() {
    let toml = AppOptions::for_issuer("https://id.example.com")
        .toml()
        .replacen("[session]", "[session]\nstore = \"redis\"", 1);
    let err = th_bff::configuration::Settings::from_toml(&toml)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("[redis]"), "{err}");
    let bad_url = toml + "\n[redis]\nurl = \"http://127.0.0.1:6379\"\n";
    let err = th_bff::configuration::Settings::from_toml(&bad_url)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(err.contains("redis.url"), "{err}");
}

/// `value` with every sealed part (`v1.<key id>.<base64url>`) cut out.
fn outside_sealed(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find("v1.") {
        out.push_str(&rest[..at]);
        let sealed = &rest[at + 3..];
        let kid_end = sealed.find('.').map_or(sealed.len(), |i| i + 1);
        let body = &sealed[kid_end..];
        let body_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(body.len());
        rest = &body[body_end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn sealed_parts_are_cut_out_and_the_rest_kept() {
    assert_eq!(
        outside_sealed(r#"{"s":"v1.k1.abc-eyJ_xyz","t":"eyJx"}"#),
        r#"{"s":"","t":"eyJx"}"#
    );
}
