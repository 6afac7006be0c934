//! What the server can do with Redis. Back-channel logout: the provider's
//! signed logout token ends the matching sessions in both stores (Redis:
//! deleted; cookies: recorded as ended, so the cookies a browser still holds
//! are refused), a bad or replayed token is 400 and ends nothing, and
//! without Redis the endpoint says it cannot. And one refresh at a time per
//! session across BFF processes.

use crate::helpers::{AppOptions, TestApp, query_param, spawn_app_toml};
use crate::stub_issuer::{StubIssuer, TokenAnswer, signed, signed_by_unknown_key};
use serde_json::{Value, json};
use th_testkit::{REDIRECT, TestRedis};

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

async fn app(stub: &StubIssuer, redis: Option<&TestRedis>, store: &str) -> TestApp {
    let mut toml = AppOptions::for_issuer(&stub.issuer).toml().replacen(
        "[session]",
        &format!("[session]\nstore = \"{store}\""),
        1,
    );
    if let Some(redis) = redis {
        toml += &format!("\n[redis]\nurl = \"{}\"\n", redis.url());
    }
    spawn_app_toml(&toml).await
}

/// Signs in through the stub as `sub` in provider session `sid`.
pub(crate) async fn sign_in(app: &mut TestApp, stub: &StubIssuer, sub: &str, sid: &str) {
    let start = app.login_start(None).await;
    let url = start.body["authorizationUrl"].as_str().unwrap();
    let (nonce, state) = (
        query_param(url, "nonce").unwrap(),
        query_param(url, "state").unwrap(),
    );
    let mut claims = stub.claims(&nonce);
    claims["sub"] = json!(sub);
    claims["sid"] = json!(sid);
    stub.answer(TokenAnswer::Json(json!({
        "access_token": format!("at-{sub}-{sid}"), "token_type": "Bearer",
        "expires_in": 300, "refresh_token": format!("rt-{sid}"), "id_token": signed(&claims),
    })));
    let end = app
        .login_end(&format!("{REDIRECT}?code=c&state={state}"))
        .await;
    assert_eq!(end.status, 200, "{:?}", end.body);
}

pub(crate) fn logout_claims(stub: &StubIssuer, sid: Option<&str>, sub: Option<&str>) -> Value {
    let now = th_bff::clock::now();
    let mut claims = json!({
        "iss": stub.issuer, "aud": "token-handler", "iat": now, "exp": now + 120,
        "jti": format!("jti-{}", rand_suffix()), "events": { EVENT: {} },
    });
    if let Some(sid) = sid {
        claims["sid"] = json!(sid);
    }
    if let Some(sub) = sub {
        claims["sub"] = json!(sub);
    }
    claims
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub(crate) async fn post_logout_token(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/bff/backchannel-logout", app.base))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn signed_in(app: &mut TestApp) -> bool {
    app.session().await.body["isLoggedIn"] == true
}

#[tokio::test]
async fn a_logout_token_for_the_sid_deletes_the_session_from_the_redis_store() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "redis").await;
    sign_in(&mut browser, &stub, "mallory", "sid-1").await;
    assert!(signed_in(&mut browser).await);
    let (status, body) = post_logout_token(
        &browser,
        &signed(&logout_claims(&stub, Some("sid-1"), None)),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert!(!signed_in(&mut browser).await);
    assert_eq!(browser.get("/bff/claims").await.status, 401);
}

#[tokio::test]
async fn a_logout_token_ends_a_cookie_store_session_whose_cookies_live_on() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "cookie").await;
    sign_in(&mut browser, &stub, "mallory", "sid-2").await;
    let (status, _) = post_logout_token(
        &browser,
        &signed(&logout_claims(&stub, Some("sid-2"), None)),
    )
    .await;
    assert_eq!(status, 200);
    // The browser still holds every cookie; the server refuses them.
    assert!(browser.cookie_named("-id").is_some());
    assert!(!signed_in(&mut browser).await);
    assert_eq!(browser.get("/bff/userinfo").await.status, 401);
    // Signing in again is a new session, not refused.
    sign_in(&mut browser, &stub, "mallory", "sid-3").await;
    assert!(signed_in(&mut browser).await);
}

#[tokio::test]
async fn a_logout_token_with_only_sub_ends_every_session_of_the_user() {
    for store in ["redis", "cookie"] {
        let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
        let mut laptop = app(&stub, Some(&redis), store).await;
        let mut phone = TestApp {
            jar: Default::default(),
            ..laptop.clone_handle()
        };
        let mut other_user = TestApp {
            jar: Default::default(),
            ..laptop.clone_handle()
        };
        sign_in(&mut laptop, &stub, "mallory", "sid-a").await;
        sign_in(&mut phone, &stub, "mallory", "sid-b").await;
        sign_in(&mut other_user, &stub, "eve", "sid-c").await;
        let (status, _) = post_logout_token(
            &laptop,
            &signed(&logout_claims(&stub, None, Some("mallory"))),
        )
        .await;
        assert_eq!(status, 200, "{store}");
        assert!(!signed_in(&mut laptop).await, "{store}");
        assert!(!signed_in(&mut phone).await, "{store}");
        assert!(
            signed_in(&mut other_user).await,
            "{store}: eve is not mallory"
        );
    }
}

#[tokio::test]
async fn logout_with_the_cookie_store_and_redis_ends_copied_cookies_too() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "cookie").await;
    sign_in(&mut browser, &stub, "mallory", "sid-4").await;
    let copied = browser.jar.clone();
    assert_eq!(browser.logout().await.status, 200);
    browser.jar = copied;
    assert!(!signed_in(&mut browser).await);
    assert_eq!(browser.get("/bff/claims").await.status, 401);
}

#[tokio::test]
async fn the_api_refuses_an_ended_cookie_store_session_from_its_access_cookie_alone() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let upstream = crate::api_proxy::start_upstream(stub.issuer.clone()).await;
    let toml = AppOptions::for_issuer(&stub.issuer).toml().replacen(
        "[session]",
        "[session]\nstore = \"cookie\"",
        1,
    ) + &format!(
        "\n[redis]\nurl = \"{}\"\n[proxy]\n[[proxy.routes]]\n\
             prefix = \"/api/echo\"\nupstream = \"{upstream}\"\n",
        redis.url()
    );
    let mut browser = spawn_app_toml(&toml).await;
    sign_in(&mut browser, &stub, "mallory", "sid-12").await;
    // Only the access cookie: the API call needs no other to be checked.
    let mut api_only = browser.clone_handle();
    api_only.jar = browser
        .jar
        .iter()
        .filter(|(name, _)| name.ends_with("-at"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(api_only.jar.len(), 1, "{:?}", browser.jar.keys());
    assert_eq!(api_only.get("/api/echo/x").await.status, 200);
    let token = signed(&logout_claims(&stub, Some("sid-12"), None));
    assert_eq!(post_logout_token(&browser, &token).await.0, 200);
    assert_eq!(api_only.get("/api/echo/x").await.status, 401);
    assert_eq!(browser.get("/api/echo/x").await.status, 401);
}

/// Posts the token made from good claims by `spoil` (or `token` itself)
/// to a signed-in BFF: 400 `invalid_logout_token`, and the session lives.
async fn refused(case: &str, make: impl FnOnce(&StubIssuer, Value) -> String) {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "redis").await;
    sign_in(&mut browser, &stub, "mallory", "sid-5").await;
    let token = make(&stub, logout_claims(&stub, Some("sid-5"), None));
    let (status, body) = post_logout_token(&browser, &token).await;
    assert_eq!(status, 400, "{case}: {body:?}");
    assert_eq!(body["code"], "invalid_logout_token", "{case}");
    assert!(signed_in(&mut browser).await, "{case} ended the session");
}

/// Signs `claims` after `change`.
fn spoiled(change: impl FnOnce(&mut Value)) -> impl FnOnce(&StubIssuer, Value) -> String {
    move |_, mut claims| {
        change(&mut claims);
        signed(&claims)
    }
}

#[tokio::test]
async fn a_logout_token_with_a_bad_signature_is_400() {
    refused("bad signature", |_, c| signed_by_unknown_key(&c)).await;
}

#[tokio::test]
async fn forged_logout_tokens_with_unknown_keys_do_not_make_the_bff_fetch_keys_each_time() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "redis").await;
    sign_in(&mut browser, &stub, "mallory", "sid-9").await;
    let before = stub.scenario.lock().unwrap().jwks_fetches;
    for _ in 0..20 {
        let forged = signed_by_unknown_key(&logout_claims(&stub, Some("sid-9"), None));
        let (status, _) = post_logout_token(&browser, &forged).await;
        assert_eq!(status, 400);
    }
    let fetches = stub.scenario.lock().unwrap().jwks_fetches - before;
    assert!(fetches <= 1, "{fetches} JWKS fetches for 20 forged tokens");
    assert!(signed_in(&mut browser).await);
}

#[tokio::test]
async fn a_logout_token_that_is_not_a_jwt_is_400() {
    refused("not a JWT", |_, _| "not.a.jwt".into()).await;
}

#[tokio::test]
async fn a_logout_token_for_another_audience_is_400() {
    refused("wrong aud", spoiled(|c| c["aud"] = json!("another-client"))).await;
}

#[tokio::test]
async fn a_logout_token_from_another_issuer_is_400() {
    refused(
        "wrong iss",
        spoiled(|c| c["iss"] = json!("https://evil.example")),
    )
    .await;
}

#[tokio::test]
async fn a_logout_token_without_events_is_400() {
    let remove = |c: &mut Value| {
        c.as_object_mut().unwrap().remove("events");
    };
    refused("no events", spoiled(remove)).await;
}

#[tokio::test]
async fn a_logout_token_with_a_nonce_is_400() {
    refused("a nonce", spoiled(|c| c["nonce"] = json!("n"))).await;
}

#[tokio::test]
async fn a_logout_token_with_neither_sid_nor_sub_is_400() {
    let remove = |c: &mut Value| {
        c.as_object_mut().unwrap().remove("sid");
    };
    refused("neither sid nor sub", spoiled(remove)).await;
}

#[tokio::test]
async fn an_expired_logout_token_is_400() {
    let now = th_bff::clock::now();
    let expire = move |c: &mut Value| {
        c["iat"] = json!(now - 600);
        c["exp"] = json!(now - 300);
    };
    refused("expired", spoiled(expire)).await;
}

#[tokio::test]
async fn a_logout_token_issued_in_the_future_is_400() {
    let now = th_bff::clock::now();
    refused(
        "issued in the future",
        spoiled(move |c| c["iat"] = json!(now + 3600)),
    )
    .await;
}

#[tokio::test]
async fn a_replayed_logout_token_is_400() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let mut browser = app(&stub, Some(&redis), "redis").await;
    sign_in(&mut browser, &stub, "mallory", "sid-6").await;
    let token = signed(&logout_claims(&stub, Some("sid-6"), None));
    assert_eq!(post_logout_token(&browser, &token).await.0, 200);
    sign_in(&mut browser, &stub, "mallory", "sid-6").await;
    let (status, body) = post_logout_token(&browser, &token).await;
    assert_eq!(status, 400, "{body:?}");
    assert!(signed_in(&mut browser).await, "the replay ended nothing");
}

#[tokio::test]
async fn without_redis_back_channel_logout_is_501() {
    let stub = StubIssuer::start().await;
    let toml = AppOptions::for_issuer(&stub.issuer).on_cookies();
    let browser = spawn_app_toml(&toml).await;
    let (status, body) =
        post_logout_token(&browser, &signed(&logout_claims(&stub, Some("s"), None))).await;
    assert_eq!(status, 501, "{body:?}");
    assert_eq!(body["code"], "backchannel_logout_unavailable");
}

/// Ten refreshes of one session at once, alternating between `first` and
/// `second` (the same process or two): one token-endpoint call, ten 204s,
/// and the session works through both afterwards.
async fn ten_concurrent_refreshes(stub: &StubIssuer, mut first: TestApp, second: TestApp) {
    sign_in(&mut first, stub, "mallory", "sid-7").await;
    stub.answer(TokenAnswer::Json(json!({
        "access_token": "at-rotated", "token_type": "Bearer", "expires_in": 300,
        "refresh_token": "rt-2",
    })));
    let mut tasks = Vec::new();
    for i in 0..10 {
        let mut browser = if i % 2 == 0 {
            first.clone_handle()
        } else {
            second.clone_handle()
        };
        browser.jar = first.jar.clone();
        tasks.push(tokio::spawn(async move {
            let answer = browser.refresh().await;
            (answer.status, browser.jar)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let refreshes = |stub: &StubIssuer| {
        let grants = stub.scenario.lock().unwrap().grants.clone();
        grants.iter().filter(|g| *g == "refresh_token").count()
    };
    assert_eq!(
        refreshes(stub),
        1,
        "one token-endpoint call for ten refreshes"
    );
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    // Every caller ends with the same working session, through either process.
    for (i, (_, jar)) in results.into_iter().enumerate() {
        let mut browser = if i % 2 == 0 {
            first.clone_handle()
        } else {
            second.clone_handle()
        };
        browser.jar = jar;
        assert_eq!(browser.get("/bff/claims").await.status, 200);
    }
    if first.on_redis {
        // The browser holds only a session key: the next refresh is a new one.
        return;
    }
    // A tab that sends the rotated-out refresh token just too late gets the
    // new session too, without another call to the provider.
    let late = first.refresh().await;
    assert_eq!(late.status, 204, "{:?}", late.body);
    assert_eq!(
        refreshes(stub),
        1,
        "the late refresh replayed the old token"
    );
    assert_eq!(first.get("/bff/claims").await.status, 200);
}

#[tokio::test]
async fn ten_concurrent_refreshes_across_two_processes_make_one_token_call() {
    for store in ["redis", "cookie"] {
        let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
        let first = app(&stub, Some(&redis), store).await;
        let second = app(&stub, Some(&redis), store).await;
        ten_concurrent_refreshes(&stub, first, second).await;
    }
}

#[tokio::test]
async fn ten_concurrent_refreshes_in_one_process_without_redis_make_one_token_call() {
    let stub = StubIssuer::start().await;
    let only = app(&stub, None, "cookie").await;
    let same = only.clone_handle();
    ten_concurrent_refreshes(&stub, only, same).await;
}

#[tokio::test]
async fn the_real_provider_ends_the_session_through_the_back_channel() {
    for store in ["cookie", "redis"] {
        let redis = TestRedis::start();
        let port = th_testkit::free_port();
        let provider = th_testkit::TestProvider::start(th_testkit::ProviderOptions {
            backchannel_logout_uri: Some(format!("http://127.0.0.1:{port}/bff/backchannel-logout")),
            ..Default::default()
        })
        .await;
        let upstream = crate::api_proxy::start_upstream(provider.issuer().to_owned()).await;
        let toml = AppOptions::for_issuer(provider.issuer()).toml().replacen(
            "[session]",
            &format!("[session]\nstore = \"{store}\""),
            1,
        ) + &format!(
            "\n[redis]\nurl = \"{}\"\n[proxy]\n[[proxy.routes]]\n\
                 prefix = \"/api/echo\"\nupstream = \"{upstream}\"\n",
            redis.url()
        );
        // Two replicas on one Redis; the provider calls only the first.
        let mut app = spawn_app_toml(&toml.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        ))
        .await;
        let mut replica = spawn_app_toml(&toml).await;
        let start = app.login_start(None).await;
        let url = start.body["authorizationUrl"].as_str().unwrap();
        // One browser: it keeps the provider's session cookie for the logout.
        let browser = th_testkit::Browser::new();
        let callback = browser.sign_in(url, "nina", REDIRECT).await.unwrap();
        assert_eq!(app.login_end(&callback).await.status, 200);
        assert!(signed_in(&mut app).await, "{store}");
        replica.jar = app.jar.clone();
        assert_eq!(replica.get("/api/echo/x").await.status, 200, "{store}");

        // The user signs out at the provider (another app, say); the
        // provider tells the BFF server to server.
        browser
            .confirm_logout(&format!(
                "{}/session/end?client_id=token-handler",
                provider.issuer()
            ))
            .await
            .unwrap();
        let mut ended = false;
        for _ in 0..50 {
            if !signed_in(&mut app).await {
                ended = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            ended,
            "{store}: the provider's back-channel call ended the session"
        );
        assert_eq!(app.get("/bff/userinfo").await.status, 401, "{store}");
        assert_eq!(app.get("/api/echo/x").await.status, 401, "{store}");
        // The replica that got no call refuses the session too.
        assert_eq!(replica.get("/api/echo/x").await.status, 401, "{store}");
        assert!(!signed_in(&mut replica).await, "{store}");
    }
}
