//! Starts `dev/provider.mjs` and stops it when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

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
    /// The issuer the provider names itself, when it is not its own address:
    /// the URL of a [`crate::FaultProxy`] in front of it, so that every
    /// endpoint in its metadata is reached through the proxy.
    pub public_issuer: Option<String>,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            client_id: "token-handler".into(),
            client_secret: "test-client-secret".into(),
            redirect_uris: vec![crate::REDIRECT.into()],
            post_logout_redirect_uris: vec![crate::REDIRECT.into()],
            access_token_ttl_secs: 3600,
            token_format: TokenFormat::Opaque,
            api_audience: "http://api.local".into(),
            introspect_client_id: "api-gateway".into(),
            introspect_client_secret: "test-introspect-secret".into(),
            backchannel_logout_uri: None,
            public_issuer: None,
        }
    }
}

/// One request the provider received with a `traceparent` header.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReceivedTraceparent {
    pub method: String,
    /// Without the query.
    pub path: String,
    pub traceparent: String,
}

/// A running provider; killed on drop.
pub struct TestProvider {
    issuer: String,
    /// Where it listens (the issuer's address unless `public_issuer` is set).
    listens: std::net::SocketAddr,
    options: ProviderOptions,
    /// Commands to it (and, closed, its end).
    stdin: tokio::sync::Mutex<ChildStdin>,
    /// Its answers to them.
    stdout: tokio::sync::Mutex<Lines<BufReader<ChildStdout>>>,
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
            .env("ISSUER", options.public_issuer.as_deref().unwrap_or(""))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` must be on PATH (run scripts/setup.sh)");
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut lines = BufReader::new(stdout).lines();
        // Node loads oidc-provider in about a second; a suite starts many at
        // once on two cores, so the wait is generous.
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line()).await;
        let line = match read {
            Ok(Ok(Some(line))) => line,
            Err(_) => panic!("the provider printed nothing within 60 s (a starved machine?)"),
            Ok(_) => panic!(
                "the provider exited before it listened; run scripts/setup.sh (npm packages in dev/)"
            ),
        };
        let ready: serde_json::Value = serde_json::from_str(&line).expect("provider ready line");
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        let listens = ready["listens"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .expect("the address it listens on");
        Self {
            issuer,
            listens,
            options,
            stdin: tokio::sync::Mutex::new(stdin),
            stdout: tokio::sync::Mutex::new(lines),
            _child: child,
        }
    }

    /// The address it listens on: the target of a proxy in front of it.
    pub fn listens(&self) -> std::net::SocketAddr {
        self.listens
    }

    /// Rotates its signing key: from now on it signs with a new key (new
    /// `kid`), and its JWKS lists only that one. Its grants, sessions and
    /// tokens live on. Answers the new key's `kid`.
    pub async fn rotate_signing_key(&self) -> String {
        let answer = self.command("rotate").await;
        answer["rotated"].as_str().expect("the new kid").to_owned()
    }

    /// The latest requests it received that carried a W3C `traceparent`
    /// (at most 100), oldest first.
    pub async fn traceparents(&self) -> Vec<ReceivedTraceparent> {
        let answer = self.command("traceparents").await;
        serde_json::from_value(answer["traceparents"].clone()).expect("traceparents line")
    }

    /// Sends one command line on its standard input and reads its answer line.
    async fn command(&self, command: &str) -> serde_json::Value {
        let mut stdout = self.stdout.lock().await;
        let mut stdin = self.stdin.lock().await;
        stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .expect("write to the provider");
        stdin.flush().await.expect("flush");
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(10), stdout.next_line()).await;
        let Ok(Ok(Some(line))) = read else {
            panic!("the provider did not answer {command:?}")
        };
        serde_json::from_str(&line).expect("a JSON answer line")
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
