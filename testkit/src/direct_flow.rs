//! A whole authorization-code flow against the provider, without the BFF, for
//! tests that need real tokens (the proxy's).

use crate::{Browser, TestProvider};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

/// Tokens from the provider's token endpoint.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
}

impl TestProvider {
    /// Signs `user` in through the forms and exchanges the code; `scope` as in
    /// the authorization request (include `offline_access` for a refresh token).
    pub async fn tokens_for(&self, user: &str, scope: &str) -> Tokens {
        let options = self.options();
        let redirect = &options.redirect_uris[0];
        let verifier = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{user}{}", self.issuer())));
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut auth = Url::parse(&format!("{}/auth", self.issuer())).unwrap();
        auth.query_pairs_mut()
            .append_pair("client_id", &options.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", scope)
            .append_pair("state", "test-state")
            .append_pair("prompt", "consent")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let back = Browser::new()
            .sign_in(auth.as_str(), user, redirect)
            .await
            .expect("sign in through the provider's forms");
        let code = Url::parse(&back)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code in the redirect");
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer()))
            .basic_auth(&options.client_id, Some(&options.client_secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect),
                ("code_verifier", &verifier),
            ])
            .send()
            .await
            .expect("token endpoint");
        assert!(
            response.status().is_success(),
            "token endpoint answered {}",
            response.status()
        );
        response.json().await.expect("token response")
    }
}

#[cfg(test)]
mod tests {
    use crate::{ProviderOptions, TestProvider};

    #[tokio::test]
    async fn direct_flow_yields_tokens() {
        let provider = TestProvider::start(ProviderOptions::default()).await;
        let tokens = provider
            .tokens_for("alice", "openid profile offline_access")
            .await;
        assert!(!tokens.access_token.is_empty());
        assert!(
            tokens.refresh_token.is_some(),
            "offline_access with prompt=consent gives a refresh token"
        );
        assert!(tokens.id_token.is_some());
    }
}
