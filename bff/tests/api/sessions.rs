//! "Sign out my other devices": the user's sessions listed, one ended, the
//! others ended; only the user's own, only on the app that asks, and only
//! with the Redis store.

use crate::helpers::{TestApp, spawn_app_toml, spawn_on_cookies_with_provider};
use crate::redis_store::app_on;
use crate::several_apps::{ADMIN, ADMIN_REDIRECT, two_apps_provider, two_apps_toml};
use reqwest::Method;
use serde_json::{Value, json};
use th_testkit::{
    APP_HOST, APP_ORIGIN, Browser, ProviderOptions, REDIRECT, TestProvider, TestRedis,
};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// Signs `user` in on `origin`'s app from a browser that says `agent`.
async fn login_from(app: &mut TestApp, origin: &str, redirect: &str, user: &str, agent: &str) {
    let start = app
        .request_from(origin, Method::POST, "/bff/login/start")
        .header("user-agent", agent)
        .json(&json!({}));
    let start = app.send(start).await;
    let url = start.body["authorizationUrl"].as_str().unwrap().to_owned();
    let callback = Browser::new().sign_in(&url, user, redirect).await.unwrap();
    let end = app
        .request_from(origin, Method::POST, "/bff/login/end")
        .header("user-agent", agent)
        .json(&json!({ "pageUrl": callback }));
    let end = app.send(end).await;
    assert_eq!(end.status, 200, "{:?}", end.body);
}

async fn list(app: &mut TestApp) -> (u16, Vec<Value>) {
    let answer = app.get("/bff/sessions").await;
    let sessions = answer.body["sessions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (answer.status, sessions)
}

async fn delete(app: &mut TestApp, id: &str) -> u16 {
    let builder = app.request(Method::DELETE, &format!("/bff/sessions/{id}"));
    app.send(builder).await.status
}

/// Three browsers of one user and one of another, on one BFF.
async fn three_devices_of_ida(
    redis: &TestRedis,
    provider: &TestProvider,
) -> (TestApp, TestApp, TestApp, TestApp) {
    let mut laptop = app_on(redis, provider, 500).await;
    let mut phone = laptop.clone_handle();
    let mut tablet = laptop.clone_handle();
    let mut someone_else = laptop.clone_handle();
    login_from(&mut laptop, APP_ORIGIN, REDIRECT, "ida", CHROME_LINUX).await;
    login_from(&mut phone, APP_ORIGIN, REDIRECT, "ida", "SomeApp/1.0").await;
    login_from(&mut tablet, APP_ORIGIN, REDIRECT, "ida", CHROME_LINUX).await;
    login_from(&mut someone_else, APP_ORIGIN, REDIRECT, "jon", CHROME_LINUX).await;
    (laptop, phone, tablet, someone_else)
}

#[tokio::test]
async fn the_list_shows_the_users_sessions_with_this_one_first_and_no_key() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let (mut laptop, _phone, _tablet, mut someone_else) =
        three_devices_of_ida(&redis, &provider).await;
    let (status, sessions) = list(&mut laptop).await;
    assert_eq!(status, 200);
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert_eq!(sessions[0]["current"], true, "{sessions:?}");
    assert!(sessions[1..].iter().all(|s| s["current"] == false));
    assert_eq!(sessions[0]["userAgent"], "Chrome on Linux");
    assert!(sessions.iter().any(|s| s["userAgent"] == "Unknown browser"));
    let now = th_cookies::unix_now();
    for s in &sessions {
        let created = s["createdAt"].as_i64().unwrap();
        assert!((now - 120..=now).contains(&created), "{s}");
        assert!(s["lastSeenAt"].as_i64().unwrap() >= created, "{s}");
        let id = s["id"].as_str().unwrap();
        assert_eq!(id.len(), 32, "{s}");
    }
    // No session key, sealed or not, appears in the answer.
    let key_cookie = &laptop.jar["__Host-th-session"];
    let text = serde_json::to_string(&sessions).unwrap();
    assert!(!text.contains(key_cookie.as_str()));
    for (key, _) in redis.dump() {
        let raw = key.rsplit(':').next().unwrap();
        assert!(!text.contains(raw), "the list names a Redis key: {raw}");
    }
    // The other user sees only their own.
    let (_, theirs) = list(&mut someone_else).await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
}

#[tokio::test]
async fn ending_others_signs_out_every_other_device_at_once() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let (mut laptop, mut phone, mut tablet, mut someone_else) =
        three_devices_of_ida(&redis, &provider).await;
    let ended = laptop
        .post_json("/bff/sessions/end-others", json!({}))
        .await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
    assert_eq!(ended.body, json!({ "ended": 2 }));
    for device in [&mut phone, &mut tablet] {
        assert_eq!(device.session().await.body["isLoggedIn"], false);
        assert_eq!(device.get("/api/echo/x").await.status, 401);
        assert_eq!(device.refresh().await.status, 401);
    }
    assert_eq!(laptop.get("/api/echo/x").await.status, 200);
    assert_eq!(list(&mut laptop).await.1.len(), 1);
    assert_eq!(someone_else.get("/api/echo/x").await.status, 200);
    let again = laptop
        .post_json("/bff/sessions/end-others", json!({}))
        .await;
    assert_eq!(again.body, json!({ "ended": 0 }));
}

#[tokio::test]
async fn ending_one_session_by_its_id_leaves_the_others() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let (mut laptop, mut phone, mut tablet, _) = three_devices_of_ida(&redis, &provider).await;
    let (_, on_phone) = list(&mut phone).await;
    let phone_id = on_phone[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(delete(&mut laptop, &phone_id).await, 204);
    assert_eq!(phone.get("/api/echo/x").await.status, 401);
    assert_eq!(tablet.get("/api/echo/x").await.status, 200);
    assert_eq!(laptop.get("/api/echo/x").await.status, 200);
    // Gone already: 404, as for an id that never was.
    assert_eq!(delete(&mut laptop, &phone_id).await, 404);
}

#[tokio::test]
async fn ids_in_other_spellings_or_of_another_user_end_nothing() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let (mut laptop, mut phone, _, mut someone_else) =
        three_devices_of_ida(&redis, &provider).await;
    let (_, on_phone) = list(&mut phone).await;
    let id = on_phone[0]["id"].as_str().unwrap().to_owned();
    for spelling in [
        id.to_uppercase(),
        format!("{id}%20"),
        format!("{id};x=1"),
        format!("%2e%2e%2f{id}"),
        id[..31].to_owned(),
        "x".repeat(5000),
    ] {
        let status = delete(&mut laptop, &spelling).await;
        assert!(matches!(status, 400 | 404), "{spelling}: {status}");
    }
    // Another user's session, by its real id: not theirs to end.
    assert_eq!(delete(&mut someone_else, &id).await, 404);
    assert_eq!(phone.get("/api/echo/x").await.status, 200);
    // And without the CSRF header, nothing at all.
    let bare = reqwest::Client::new()
        .delete(format!("{}/bff/sessions/{id}", laptop.base))
        .header("cookie", laptop.cookie_header())
        .header("origin", APP_ORIGIN)
        .header("host", APP_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);
    assert_eq!(phone.get("/api/echo/x").await.status, 200);
}

#[tokio::test]
async fn ending_ones_own_session_signs_out_and_clears_its_cookie() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let (mut laptop, mut phone, _, _) = three_devices_of_ida(&redis, &provider).await;
    let (_, sessions) = list(&mut laptop).await;
    let own = sessions[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(delete(&mut laptop, &own).await, 204);
    assert!(laptop.jar.is_empty(), "{:?}", laptop.jar);
    assert_eq!(phone.get("/api/echo/x").await.status, 200);
    assert_eq!(list(&mut laptop).await.0, 401);
}

#[tokio::test]
async fn another_apps_sessions_are_not_listed_nor_ended() {
    let redis = TestRedis::start();
    let provider = two_apps_provider().await;
    let toml = two_apps_toml(&provider).replacen("[session]", "[session]\nstore = \"redis\"", 1)
        + &format!("\n[redis]\nurl = \"{}\"\n", redis.url());
    let mut app = spawn_app_toml(&toml).await;
    let mut admin = app.clone_handle();
    login_from(&mut app, APP_ORIGIN, REDIRECT, "kim", CHROME_LINUX).await;
    login_from(&mut admin, ADMIN, ADMIN_REDIRECT, "kim", CHROME_LINUX).await;
    let (_, sessions) = list(&mut app).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let ended = app.post_json("/bff/sessions/end-others", json!({})).await;
    assert_eq!(ended.body, json!({ "ended": 0 }));
    let builder = admin.request_from(ADMIN, Method::GET, "/bff/sessions");
    let theirs = admin.send(builder).await;
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.body["sessions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn without_a_session_it_is_401_and_with_the_cookie_store_501() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut nobody = app_on(&redis, &provider, 500).await;
    assert_eq!(list(&mut nobody).await.0, 401);
    assert_eq!(delete(&mut nobody, &"a".repeat(32)).await, 401);
    let others = nobody
        .post_json("/bff/sessions/end-others", json!({}))
        .await;
    assert_eq!(others.status, 401);

    let (_provider, mut on_cookies) = spawn_on_cookies_with_provider().await;
    on_cookies.login_as("lou").await;
    let answer = on_cookies.get("/bff/sessions").await;
    assert_eq!(answer.status, 501, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "sessions_unavailable");
    let others = on_cookies
        .post_json("/bff/sessions/end-others", json!({}))
        .await;
    assert_eq!(others.status, 501);
    assert_eq!(on_cookies.get("/bff/claims").await.status, 200);
}

#[tokio::test]
async fn redis_down_is_503_for_the_list() {
    let redis = TestRedis::start();
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let mut app = app_on(&redis, &provider, 300).await;
    app.login_as("max").await;
    redis.pause();
    let answer = app.get("/bff/sessions").await;
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "session_store_unavailable");
    redis.resume();
    assert_eq!(list(&mut app).await.0, 200);
}
