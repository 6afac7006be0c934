//! The BFF's logs, as the real binary writes them (JSON lines on stderr,
//! every level from every crate): the request id's round trip, and a scan
//! of a whole run for any token, code, verifier, key, cookie value or
//! session key.

#[allow(dead_code)]
#[path = "../common/bff_process.rs"]
mod bff_process;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use actix_web::{HttpRequest, HttpResponse, web};
use bff_process::BffProcess;
use helpers::{AppOptions, query_param};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use th_cookies::{CookieKind, RequestCookies};
use th_testkit::{
    Browser, ProviderOptions, REDIRECT, TEST_COOKIE_KEY, TestProvider, cookie_header, spawn_stub,
};

/// The request id a JSON log line was written under, if any.
fn request_id(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "request")?["request_id"]
        .as_str()
}

/// An upstream that answers what it saw: the request id and the bearer token.
async fn start_upstream() -> String {
    spawn_stub(|cfg| {
        cfg.default_service(web::to(|req: HttpRequest| async move {
            let header = |name: &str| {
                req.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            HttpResponse::Ok().json(serde_json::json!({
                "request_id": header("x-request-id"),
                "authorization": header("authorization"),
            }))
        }));
    })
}

/// The settings: the provider, `/api/echo` to `upstream`, JSON logs of
/// every level.
fn settings(provider: &TestProvider, upstream: &str) -> String {
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml = format!(
        "[log]\nformat = \"json\"\nfilter = \"trace\"\n\
         [proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{upstream}\"\n"
    );
    options.on_cookies()
}

#[tokio::test]
async fn a_request_id_is_taken_logged_returned_and_sent_to_the_upstream() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream().await;
    let bff = BffProcess::start(&settings(&provider, &upstream)).await;
    let mut app = bff.app();
    app.login_as("rita").await;

    // Given by the load balancer: kept.
    let given = "lb-7f3a9c2e-0001";
    let builder = app
        .request(reqwest::Method::GET, "/api/echo/orders")
        .header("x-request-id", given);
    let answer = app.send(builder).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.headers["x-request-id"], given, "returned");
    assert_eq!(answer.body["request_id"], given, "seen by the upstream");
    let line = bff
        .wait_for_line(|l| request_id(l) == Some(given) && l["fields"]["message"] == "request")
        .await;
    assert_eq!(line["fields"]["path"], "/api/echo/orders", "{line}");
    assert_eq!(line["fields"]["status"], 200, "{line}");

    // None given: one is made, returned, sent and logged.
    let answer = app.get("/api/echo/orders").await;
    let made = answer.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 32, "{made}");
    assert!(made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    assert_eq!(answer.body["request_id"], made.as_str());
    bff.wait_for_line(|l| request_id(l) == Some(made.as_str()))
        .await;

    // One that is not sane (too long, or characters a log should not hold)
    // is replaced.
    for insane in ["has space", "quote\"d", &"x".repeat(200)] {
        let builder = app
            .request(reqwest::Method::GET, "/api/echo/orders")
            .header("x-request-id", insane);
        let answer = app.send(builder).await;
        let returned = answer.headers["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(returned, insane);
        assert_eq!(returned.len(), 32);
        assert_eq!(answer.body["request_id"], returned.as_str());
    }
    assert!(!bff.lines().iter().any(|l| l.contains("has space")));

    // Every line the BFF's own code wrote while serving a request carries
    // the request's id: those without one are from start-up.
    let lines: Vec<Value> = bff
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let ours_without_id: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"].as_str().is_some_and(|t| t.starts_with("th_")))
        .filter(|l| request_id(l).is_none())
        .collect();
    for line in &ours_without_id {
        let message = line["fields"]["message"].as_str().unwrap_or_default();
        assert!(
            [
                "listening",
                "loaded the provider's metadata",
                "metrics on /metrics",
            ]
            .contains(&message),
            "a line outside every request: {line}"
        );
    }
    let access_lines = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .count();
    assert!(access_lines >= 7, "{access_lines}");
}

/// Every string a sealed cookie holds (opened with the test's key), and
/// the sealed value itself.
fn secrets_in_cookies(jar: &BTreeMap<String, String>, out: &mut Vec<String>) {
    let toml = AppOptions::for_issuer("http://127.0.0.1:9").toml();
    let config = th_bff::configuration::Settings::from_toml(&toml)
        .unwrap()
        .validate()
        .unwrap();
    let header = cookie_header(jar);
    let cookies = RequestCookies::parse([header.as_str()]);
    for kind in CookieKind::ALL {
        let Ok(bytes) = config.vault.read(&cookies, kind) else {
            continue;
        };
        let text = String::from_utf8(bytes).unwrap();
        match serde_json::from_str::<Value>(&text) {
            Ok(json) => strings_in(&json, out),
            Err(_) => out.push(text),
        }
    }
    out.extend(jar.values().cloned());
}

fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn no_token_code_verifier_key_or_cookie_value_is_in_any_log_line() {
    scan_a_whole_run(None).await;
}

#[tokio::test]
async fn no_session_key_either_with_the_redis_store() {
    let redis = th_testkit::TestRedis::start();
    scan_a_whole_run(Some(&redis)).await;
}

/// Logs in, calls the API, refreshes, fails a few ways and logs out, then
/// searches every line the BFF wrote for every secret the run involved.
async fn scan_a_whole_run(redis: Option<&th_testkit::TestRedis>) {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = start_upstream().await;
    let mut toml = settings(&provider, &upstream);
    if let Some(redis) = redis {
        toml = toml.replace(helpers::COOKIE_STORE, "store = \"redis\"")
            + &format!("\n[redis]\nurl = \"{}\"\n", redis.url());
    }
    let bff = BffProcess::start(&toml).await;
    let mut app = bff.app();
    let mut secrets: Vec<String> = vec![
        TEST_COOKIE_KEY.to_owned(),
        ProviderOptions::default().client_secret,
    ];

    // A login, step by step: the login cookie (state, nonce, verifier),
    // then the code and state the provider sends back.
    let start = app.login_start(None).await;
    assert_eq!(start.status, 200);
    secrets_in_cookies(&app.jar, &mut secrets);
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    let callback = Browser::new()
        .sign_in(&url, "sybil", REDIRECT)
        .await
        .unwrap();
    secrets.push(query_param(&callback, "code").unwrap());
    secrets.push(query_param(&callback, "state").unwrap());
    assert_eq!(app.login_end(&callback).await.status, 200);
    assert_eq!(
        app.jar.keys().any(|k| k.ends_with("-session")),
        redis.is_some(),
        "{:?}",
        app.jar.keys()
    );
    secrets_in_cookies(&app.jar, &mut secrets);

    // The API, userinfo, a refresh (new tokens), the API again.
    let api = app.get("/api/echo/things").await;
    assert_eq!(api.status, 200);
    let bearer = api.body["authorization"].as_str().unwrap();
    secrets.push(bearer.strip_prefix("Bearer ").unwrap().to_owned());
    assert_eq!(app.get("/bff/userinfo").await.status, 200);
    assert_eq!(app.refresh().await.status, 204);
    secrets_in_cookies(&app.jar, &mut secrets);
    assert_eq!(app.get("/api/echo/things").await.status, 200);

    // Failures: a forged state, a tampered cookie, a replayed code.
    let mut other = app.clone_handle();
    other.login_start(None).await;
    secrets_in_cookies(&other.jar, &mut secrets);
    let forged = callback.replace("state=", "state=x");
    assert_eq!(other.login_end(&forged).await.status, 400);
    let mut tampered = app.clone_handle();
    tampered.jar = app.jar.clone();
    for value in tampered.jar.values_mut() {
        value.push('A');
    }
    assert_eq!(tampered.get("/api/echo/things").await.status, 401);
    other.login_start(None).await;
    assert_eq!(other.login_end(&callback).await.status, 400);

    // The logout (revocation, the end-session URL with the ID token).
    let logout = app.logout().await;
    assert_eq!(logout.status, 200);

    // Let the last lines arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(provider);

    // URLs (the app's origin, the redirect URI) are no secrets.
    secrets.retain(|s| s.len() >= 12 && !s.starts_with("http"));
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() >= 10, "{} secrets", secrets.len());
    let lines = bff.lines();
    assert!(lines.len() > 50, "{} lines", lines.len());
    // The whole run was logged, every level: debug and trace lines too.
    assert!(lines.iter().any(|l| l.contains("\"level\":\"TRACE\"")));
    for line in &lines {
        for secret in &secrets {
            assert!(
                !line.contains(secret.as_str()),
                "a log line holds a secret ({}…): {line}",
                &secret[..8]
            );
        }
    }
    // A URL-encoded copy would hide from the search above.
    for line in &lines {
        assert!(!line.contains("code="), "{line}");
        assert!(!line.contains("id_token_hint"), "{line}");
        assert!(!line.to_ascii_lowercase().contains("bearer "), "{line}");
    }
}
