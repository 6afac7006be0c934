//! The `bff` binary as a process of its own, for the tests that read what
//! it writes (its logs) or sends (its spans).

use crate::helpers::TestApp;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `bff` binary, started with a settings file, its stderr collected
/// line by line. A shell holds it and kills it when its stdin closes (the
/// test ends, however it ends).
pub struct BffProcess {
    shell: Child,
    lines: Arc<Mutex<Vec<String>>>,
    port: u16,
}

impl BffProcess {
    pub async fn start(toml: &str) -> Self {
        Self::start_with_env(toml, &[]).await
    }

    /// [`Self::start`] with more environment variables.
    pub async fn start_with_env(toml: &str, env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "th-test-logs-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("bff.toml");
        std::fs::write(&config, toml).unwrap();
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(r#""$@" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid""#)
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_bff"))
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the bff binary runs");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = shell.stderr.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            let found = lines.lock().unwrap().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                (v["fields"]["message"] == "listening").then(|| v["fields"]["port"].as_u64())?
            });
            if let Some(port) = found {
                break port as u16;
            }
            assert!(
                Instant::now() < deadline,
                "the bff did not start: {:?}",
                lines.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Self { shell, lines, port }
    }

    /// A browser with an empty jar, calling this BFF.
    pub fn app(&self) -> TestApp {
        TestApp::at_port(self.port)
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a line satisfies `found` (the access log is written as
    /// the response goes out, which may be after the client has it).
    pub async fn wait_for_line(&self, found: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let hit = self
                .lines()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| found(v));
            if let Some(hit) = hit {
                return hit;
            }
            assert!(Instant::now() < deadline, "no such log line");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for BffProcess {
    fn drop(&mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
