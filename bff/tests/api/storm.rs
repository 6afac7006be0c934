//! A concurrency storm: many browsers at once, each with its own cookies,
//! signing in through the real provider's forms, calling the real example
//! API through the BFF's proxy route, refreshing (their access tokens live
//! a few seconds, so refreshes overlap, and each browser once refreshes from
//! two tabs at the same moment), and half of them signing out.
//!
//! It holds when: no answer is a 5xx; every API answer names the browser's
//! own user; every refresh succeeds (the provider rotates refresh tokens and
//! revokes the whole grant when one is replayed, so a single replay would
//! show as a 401 from a refresh or an API call); and every browser ends as
//! its actions say: signed out, or still signed in as itself.
//!
//! `TH_STORM_BROWSERS` sets how many (default 40, CI's size: each sign-in
//! is several requests to one Node process on a 2-core machine);
//! `bench/storm.sh` runs 200.

use crate::helpers::{AppOptions, TestApp, spawn_app_toml};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use th_testkit::{Browser, ProviderOptions, REDIRECT, TestProvider, TokenFormat};

/// What the storm saw, over every browser.
#[derive(Default, Debug)]
struct Tally {
    requests: u64,
    /// Status → count.
    statuses: BTreeMap<u16, u64>,
    refreshes: u64,
    /// Refreshes after an API call found the access token expired.
    on_expiry: u64,
    api_calls: u64,
    /// Every broken promise, described.
    failures: Vec<String>,
    /// Slowest answers (ms), for the report.
    latencies_ms: Vec<u64>,
}

type Shared = Arc<Mutex<Tally>>;

fn browsers() -> usize {
    std::env::var("TH_STORM_BROWSERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Sends, and counts the answer.
async fn counted(
    tally: &Shared,
    app: &mut TestApp,
    builder: reqwest::RequestBuilder,
) -> crate::helpers::Answer {
    let started = Instant::now();
    let answer = app.send(builder).await;
    let mut t = tally.lock().unwrap();
    t.requests += 1;
    *t.statuses.entry(answer.status).or_default() += 1;
    t.latencies_ms.push(started.elapsed().as_millis() as u64);
    if answer.status >= 500 {
        t.failures
            .push(format!("{} {:?}", answer.status, answer.body));
    }
    answer
}

/// `method path` as the SPA sends it, counted.
async fn call(
    tally: &Shared,
    app: &mut TestApp,
    method: reqwest::Method,
    path: &str,
) -> crate::helpers::Answer {
    let builder = app.request(method, path);
    counted(tally, app, builder).await
}

fn fail(tally: &Shared, what: String) {
    tally.lock().unwrap().failures.push(what);
}

/// One browser's life. `stays` says whether it ends signed in.
async fn browser(port: u16, i: usize, stays: bool, tally: Shared) {
    let user = format!("storm-{i}");
    let mut app = TestApp::at_port(port);
    // Sign in, through the provider's own forms.
    let start = login_start(&app);
    let start = counted(&tally, &mut app, start).await;
    if start.status != 200 {
        return fail(&tally, format!("{user}: login start {}", start.status));
    }
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    let callback = match Browser::new().sign_in(&url, &user, REDIRECT).await {
        Ok(c) => c,
        Err(e) => return fail(&tally, format!("{user}: sign in at the provider: {e:?}")),
    };
    let end = app
        .request(reqwest::Method::POST, "/bff/login/end")
        .json(&serde_json::json!({ "pageUrl": callback }));
    let end = counted(&tally, &mut app, end).await;
    if end.status != 200 {
        return fail(
            &tally,
            format!("{user}: login end {} {:?}", end.status, end.body),
        );
    }

    // Calls for two or three access-token lifetimes, as an SPA makes them: on a
    // 401, refresh once and call again.
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(
            250 + (i as u64 * 37 + round * 53) % 500,
        ))
        .await;
        let path = format!("/api/example/items/{i}?round={round}");
        let mut answer = call(&tally, &mut app, reqwest::Method::GET, &path).await;
        if answer.status == 401 {
            tally.lock().unwrap().on_expiry += 1;
            if !refresh(&tally, &mut app, &user).await {
                return;
            }
            answer = call(&tally, &mut app, reqwest::Method::GET, &path).await;
        }
        tally.lock().unwrap().api_calls += 1;
        if answer.status != 200 || answer.body["sub"] != user.as_str() {
            return fail(
                &tally,
                format!("{user}: {path}: {} {}", answer.status, answer.body),
            );
        }
        if round == 4 {
            // Two tabs refresh at the same moment with the same cookies.
            let (a, b) = (
                app.request(reqwest::Method::POST, "/bff/refresh"),
                app.request(reqwest::Method::POST, "/bff/refresh"),
            );
            let (mut tab_a, mut tab_b) = (app.clone_handle(), app.clone_handle());
            tab_a.jar = app.jar.clone();
            tab_b.jar = app.jar.clone();
            let (a, b) = tokio::join!(
                counted(&tally, &mut tab_a, a),
                counted(&tally, &mut tab_b, b)
            );
            tally.lock().unwrap().refreshes += 2;
            if a.status != 204 || b.status != 204 {
                return fail(
                    &tally,
                    format!("{user}: two tabs' refresh: {} {}", a.status, b.status),
                );
            }
            // The browser keeps the cookies the later answer set.
            app.jar = tab_b.jar;
        }
        if round == 12 && !refresh(&tally, &mut app, &user).await {
            return;
        }
        let session = call(&tally, &mut app, reqwest::Method::GET, "/bff/session").await;
        if session.body["isLoggedIn"] != true {
            return fail(
                &tally,
                format!("{user}: signed out by itself: {:?}", session.body),
            );
        }
    }

    if stays {
        let claims = call(&tally, &mut app, reqwest::Method::GET, "/bff/claims").await;
        if claims.body["sub"] != user.as_str() {
            fail(&tally, format!("{user}: ends as {:?}", claims.body["sub"]));
        }
        return;
    }
    let logout = call(&tally, &mut app, reqwest::Method::POST, "/bff/logout").await;
    if logout.status != 200 {
        return fail(&tally, format!("{user}: logout {}", logout.status));
    }
    let session = call(&tally, &mut app, reqwest::Method::GET, "/bff/session").await;
    let api = call(
        &tally,
        &mut app,
        reqwest::Method::GET,
        "/api/example/after-logout",
    )
    .await;
    if session.body["isLoggedIn"] != false || api.status != 401 {
        fail(
            &tally,
            format!(
                "{user}: after logout: {:?}, api {}",
                session.body, api.status
            ),
        );
    }
}

fn login_start(app: &TestApp) -> reqwest::RequestBuilder {
    app.request(reqwest::Method::POST, "/bff/login/start")
        .json(&serde_json::json!({}))
}

async fn refresh(tally: &Shared, app: &mut TestApp, user: &str) -> bool {
    let answer = call(tally, app, reqwest::Method::POST, "/bff/refresh").await;
    tally.lock().unwrap().refreshes += 1;
    if answer.status != 204 {
        fail(
            tally,
            format!("{user}: refresh {} {:?}", answer.status, answer.body),
        );
        return false;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_browsers_loses_nothing_and_never_sees_a_5xx() {
    let count = browsers();
    let provider = TestProvider::start(ProviderOptions {
        token_format: TokenFormat::Jwt,
        access_token_ttl_secs: 8,
        ..ProviderOptions::default()
    })
    .await;
    let api_base = th_testkit::spawn_example_api(&provider);
    let mut settings = AppOptions::for_issuer(provider.issuer());
    // A provider queueing a burst of sign-ins may take a while per call.
    settings.http_timeout_secs = 30;
    settings.extra_toml = format!(
        "[proxy]\n[[proxy.routes]]\nprefix = \"/api/example\"\nupstream = \"{api_base}\"\n"
    );
    let toml = settings
        .toml()
        // Every browser here calls from 127.0.0.1.
        .replace("[limits]", "[limits]\nlogin_starts_per_minute = 0");
    // On the Redis store: a Redis of its own, and `TH_STORM_REDIS_TIMEOUT_MS`
    // for redis.timeout_ms (default: the setting's own default).
    let _redis = crate::helpers::redis_mode().then(th_testkit::TestRedis::start);
    let toml = match &_redis {
        Some(redis) => {
            let timeout = std::env::var("TH_STORM_REDIS_TIMEOUT_MS")
                .map(|t| format!("timeout_ms = {t}\n"))
                .unwrap_or_default();
            toml.replacen("[session]", "[session]\nstore = \"redis\"", 1)
                + &format!("\n[redis]\nurl = \"{}\"\n{timeout}", redis.url())
        }
        None => toml,
    };
    let app = spawn_app_toml(&toml).await;

    let tally: Shared = Arc::default();
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|i| tokio::spawn(browser(app.port, i, i % 2 == 1, tally.clone())))
        .collect();
    for task in tasks {
        task.await.expect("a browser panicked");
    }
    let took = started.elapsed();

    let mut t = tally.lock().unwrap();
    t.latencies_ms.sort_unstable();
    let p = |q: f64| t.latencies_ms[((t.latencies_ms.len() - 1) as f64 * q) as usize];
    let fives: u64 = t
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    println!(
        "storm ({} store): {count} browsers, {} requests ({} API calls, {} refreshes, {} of them on an expired token) in {:.1} s; \
         statuses {:?}; 5xx {fives}; p50 {} ms, p99 {} ms, max {} ms",
        if app.on_redis { "redis" } else { "cookie" },
        t.requests,
        t.api_calls,
        t.refreshes,
        t.on_expiry,
        took.as_secs_f64(),
        t.statuses,
        p(0.5),
        p(0.99),
        p(1.0),
    );
    assert!(
        t.failures.is_empty(),
        "{} failures: {:#?}",
        t.failures.len(),
        t.failures
    );
    assert_eq!(fives, 0);
    assert!(
        t.refreshes >= 3 * count as u64,
        "refreshes overlapped: {}",
        t.refreshes
    );
}
