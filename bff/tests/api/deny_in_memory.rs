//! The cookie store's deny-list held in memory (`deny_mirror.rs`): API calls
//! ask Redis nothing, an ending recorded by one replica is refused by every
//! other before the recording call answers, a replica started later loads
//! the endings already recorded, and memory is not trusted while Redis does
//! not answer (fail closed: 503).

use crate::backchannel_logout::{logout_claims, post_logout_token, sign_in};
use crate::helpers::{AppOptions, TestApp, spawn_app_toml};
use crate::stub_issuer::{StubIssuer, signed};
use std::time::Duration;
use th_testkit::TestRedis;

/// A cookie-store BFF on `redis` proxying `/api/echo` to `upstream`;
/// `redis_extra` goes into its `[redis]` section.
async fn replica(
    stub: &StubIssuer,
    redis: &TestRedis,
    upstream: &str,
    redis_extra: &str,
) -> TestApp {
    let toml = AppOptions::for_issuer(&stub.issuer).toml().replacen(
        "[session]",
        "[session]\nstore = \"cookie\"",
        1,
    ) + &format!(
        "\n[redis]\nurl = \"{}\"\ntimeout_ms = 300\n{redis_extra}\n[proxy]\n[[proxy.routes]]\n\
             prefix = \"/api/echo\"\nupstream = \"{upstream}\"\n",
        redis.url()
    );
    spawn_app_toml(&toml).await
}

/// Calls `/api/echo/x` until one call asks Redis nothing (the replica's
/// memory is in use), at most 5 s; answers every status seen.
async fn until_answered_from_memory(app: &mut TestApp, redis: &TestRedis) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..100 {
        let before = redis.calls_of("mget");
        statuses.push(app.get("/api/echo/x").await.status);
        if redis.calls_of("mget") == before {
            return statuses;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replica never answered from memory: {statuses:?}");
}

#[tokio::test]
async fn api_calls_ask_redis_nothing_and_an_ending_reaches_every_replica_before_it_answers() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let upstream = crate::api_proxy::start_upstream(stub.issuer.clone()).await;
    let mut first = replica(&stub, &redis, &upstream, "").await;
    let mut second = replica(&stub, &redis, &upstream, "").await;
    sign_in(&mut first, &stub, "mallory", "sid-mem-1").await;
    second.jar = first.jar.clone();
    let statuses = until_answered_from_memory(&mut second, &redis).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");

    // Still from memory well past the 1 s it trusts a ping for: the pings
    // on its subscription are answered.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (mget, get) = (redis.calls_of("mget"), redis.calls_of("get"));
    for _ in 0..20 {
        assert_eq!(second.get("/api/echo/x").await.status, 200);
    }
    assert_eq!(redis.calls_of("mget"), mget, "no deny-list read per call");
    assert_eq!(redis.calls_of("get"), get, "no other read either");

    // The provider tells the first replica; once it has answered, the
    // second refuses the session from memory.
    let token = signed(&logout_claims(&stub, Some("sid-mem-1"), None));
    assert_eq!(post_logout_token(&first, &token).await.0, 200);
    assert_eq!(second.get("/api/echo/x").await.status, 401);
    assert_eq!(second.session().await.body["isLoggedIn"], false);
    assert_eq!(redis.calls_of("mget"), mget, "refused from memory");
}

#[tokio::test]
async fn a_replica_started_after_an_ending_loads_it() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let upstream = crate::api_proxy::start_upstream(stub.issuer.clone()).await;
    let mut first = replica(&stub, &redis, &upstream, "").await;
    sign_in(&mut first, &stub, "mallory", "sid-mem-2").await;
    let copied = first.jar.clone();
    assert_eq!(first.logout().await.status, 200);

    let mut later = replica(&stub, &redis, &upstream, "").await;
    later.jar = copied;
    // Refused while it asks Redis, and once it answers from memory.
    let statuses = until_answered_from_memory(&mut later, &redis).await;
    assert!(statuses.iter().all(|&s| s == 401), "{statuses:?}");
}

#[tokio::test]
async fn with_no_room_in_memory_every_api_call_asks_redis() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let upstream = crate::api_proxy::start_upstream(stub.issuer.clone()).await;
    let mut app = replica(&stub, &redis, &upstream, "local_deny_list_max = 0").await;
    sign_in(&mut app, &stub, "mallory", "sid-mem-3").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = redis.calls_of("mget");
    for _ in 0..5 {
        assert_eq!(app.get("/api/echo/x").await.status, 200);
    }
    assert_eq!(redis.calls_of("mget"), before + 5);
}

#[tokio::test]
async fn memory_is_not_trusted_while_redis_does_not_answer() {
    let (stub, redis) = (StubIssuer::start().await, TestRedis::start());
    let upstream = crate::api_proxy::start_upstream(stub.issuer.clone()).await;
    let mut app = replica(&stub, &redis, &upstream, "").await;
    sign_in(&mut app, &stub, "mallory", "sid-mem-4").await;
    until_answered_from_memory(&mut app, &redis).await;

    // Frozen: nobody can record an ending, and after a short while
    // (a missed ping) this replica stops trusting its memory: 503.
    redis.pause();
    let mut refused = None;
    for _ in 0..40 {
        let answer = app.get("/api/echo/x").await;
        if answer.status != 200 {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = refused.expect("memory stopped being trusted");
    assert_eq!(refused.status, 503, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "session_store_unavailable");
    redis.resume();

    // Back by itself, memory again.
    let mut back = false;
    for _ in 0..50 {
        if app.get("/api/echo/x").await.status == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the session works again once Redis answers");
    until_answered_from_memory(&mut app, &redis).await;
}
