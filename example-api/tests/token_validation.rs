//! The example API against the real provider: it accepts only access-token
//! JWTs the provider signed for it, and says who called.

use th_example_api::Echo;
use th_testkit::{
    ProviderOptions, TestProvider, TokenFormat, spawn_example_api, spawn_example_api_for,
};

async fn jwt_provider() -> TestProvider {
    TestProvider::start(ProviderOptions {
        token_format: TokenFormat::Jwt,
        ..Default::default()
    })
    .await
}

async fn call(base: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}/things"));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn access_token_for_this_api_is_accepted_with_its_sub_and_scopes() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let tokens = provider.tokens_for("alice", "openid api").await;

    let response = call(&api, Some(&tokens.access_token)).await;

    assert_eq!(response.status(), 200);
    let echo: Echo = response.json().await.unwrap();
    assert_eq!(echo.sub, "alice");
    assert_eq!(echo.token_type, "at+jwt");
    assert!(echo.scopes.contains(&"api".to_owned()), "{:?}", echo.scopes);
}

#[tokio::test]
async fn request_without_a_token_is_401() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let response = call(&api, None).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn token_for_another_audience_is_401() {
    let provider = jwt_provider().await;
    let api = spawn_example_api_for(&provider, "http://another-api.local");
    let tokens = provider.tokens_for("alice", "openid api").await;
    assert_eq!(call(&api, Some(&tokens.access_token)).await.status(), 401);
}

#[tokio::test]
async fn id_token_is_not_an_access_token() {
    let provider = jwt_provider().await;
    let api = spawn_example_api_for(&provider, "token-handler");
    let tokens = provider.tokens_for("alice", "openid api").await;
    let id_token = tokens.id_token.expect("an ID token");
    assert_eq!(call(&api, Some(&id_token)).await.status(), 401);
}

#[tokio::test]
async fn token_with_a_tampered_signature_is_401() {
    let provider = jwt_provider().await;
    let api = spawn_example_api(&provider);
    let tokens = provider.tokens_for("alice", "openid api").await;
    let mut parts: Vec<String> = tokens.access_token.split('.').map(str::to_owned).collect();
    let signature = &mut parts[2];
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    signature.replace_range(0..1, flipped);
    assert_eq!(call(&api, Some(&parts.join("."))).await.status(), 401);
}

#[tokio::test]
async fn opaque_token_is_401() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let api = spawn_example_api(&provider);
    let tokens = provider.tokens_for("alice", "openid").await;
    assert_eq!(call(&api, Some(&tokens.access_token)).await.status(), 401);
}
