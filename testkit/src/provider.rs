//! Starts `dev/provider.mjs` and stops it when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The access-token format the provider issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// Opaque reference tokens (the default; the userinfo endpoint accepts them).
    Opaque,
    /// RFC 9068 JWTs for the API audience.
    Jwt,
}

/// How to configure the provider.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub access_token_ttl_secs: u64,
    pub token_format: TokenFormat,
    pub api_audience: String,
    pub introspect_client_id: String,
    pub introspect_client_secret: String,
    /// Where the provider POSTs back-channel logout tokens (none: off).
    pub backchannel_logout_uri: Option<String>,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            client_id: "token-handler".into(),
            client_secret: "test-client-secret".into(),
            redirect_uris: vec!["https://app.example.test/".into()],
            post_logout_redirect_uris: vec!["https://app.example.test/".into()],
            access_token_ttl_secs: 3600,
            token_format: TokenFormat::Opaque,
            api_audience: "http://api.local".into(),
            introspect_client_id: "api-gateway".into(),
            introspect_client_secret: "test-introspect-secret".into(),
            backchannel_logout_uri: None,
        }
    }
}

/// A running provider; killed on drop.
pub struct TestProvider {
    issuer: String,
    options: ProviderOptions,
    _child: Child,
}

/// The repository's root, from this crate's manifest directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

impl TestProvider {
    /// Starts the provider and waits until it listens.
    ///
    /// Panics with a hint when Node or the npm packages are missing: run
    /// `scripts/setup.sh` first.
    pub async fn start(options: ProviderOptions) -> Self {
        let dev = repo_root().join("dev");
        let mut child = Command::new("node")
            .arg(dev.join("provider.mjs"))
            .current_dir(&dev)
            .env("PROVIDER_PORT", "0")
            .env("CLIENT_ID", &options.client_id)
            .env("CLIENT_SECRET", &options.client_secret)
            .env("REDIRECT_URIS", options.redirect_uris.join(","))
            .env(
                "POST_LOGOUT_REDIRECT_URIS",
                options.post_logout_redirect_uris.join(","),
            )
            .env(
                "ACCESS_TOKEN_TTL",
                options.access_token_ttl_secs.to_string(),
            )
            .env(
                "ACCESS_TOKEN_FORMAT",
                match options.token_format {
                    TokenFormat::Opaque => "opaque",
                    TokenFormat::Jwt => "jwt",
                },
            )
            .env("API_AUDIENCE", &options.api_audience)
            .env("INTROSPECT_CLIENT_ID", &options.introspect_client_id)
            .env(
                "INTROSPECT_CLIENT_SECRET",
                &options.introspect_client_secret,
            )
            .env(
                "BACKCHANNEL_LOGOUT_URI",
                options.backchannel_logout_uri.as_deref().unwrap_or(""),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` must be on PATH (run scripts/setup.sh)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        assert!(
            matches!(read, Ok(Ok(n)) if n > 0),
            "the provider did not start; run scripts/setup.sh (npm packages in dev/)"
        );
        let ready: serde_json::Value = serde_json::from_str(&line).expect("provider ready line");
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        Self {
            issuer,
            options,
            _child: child,
        }
    }

    /// The issuer URL (`http://127.0.0.1:<port>`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The options it was started with.
    pub fn options(&self) -> &ProviderOptions {
        &self.options
    }
}
