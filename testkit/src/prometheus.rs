//! A real Prometheus server (Debian's `prometheus`, installed by
//! `scripts/setup.d/35-servers.sh`) on a free loopback port, scraping the
//! given targets every second, its data in a temporary folder. Killed when
//! dropped, and when the test process ends without dropping it: a small
//! shell watchdog holds it and kills it once its standard input closes.
//! Queried over its HTTP API, as an operator's dashboards would.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WATCHDOG: &str = r#"prometheus "$@" >"$LOG" 2>&1 & pid=$!; echo "$pid"; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid""#;

/// A running Prometheus.
pub struct TestPrometheus {
    base: String,
    dir: std::path::PathBuf,
    shell: Option<Child>,
    http: reqwest::Client,
}

impl TestPrometheus {
    /// Starts one scraping `targets` (`host:port`, path `/metrics`) every
    /// second, and waits until it is ready.
    pub async fn start(targets: &[String]) -> Self {
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("th-test-prometheus-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).expect("a temporary folder");
        let targets = targets
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: th\n    static_configs:\n      - targets: [{targets}]\n"
        );
        let config_path = dir.join("prometheus.yml");
        std::fs::write(&config_path, config).expect("the config file is written");
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .args([
                format!("--config.file={}", config_path.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--storage.tsdb.retention.time=1h".to_owned(),
            ])
            .env("LOG", dir.join("prometheus.log"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh and prometheus run (scripts/setup.d/35-servers.sh installs it)");
        let mut first_line = String::new();
        if let Some(out) = shell.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut first_line);
        }
        let prometheus = Self {
            base: format!("http://127.0.0.1:{port}"),
            dir,
            shell: Some(shell),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = prometheus
                .http
                .get(format!("{}/-/ready", prometheus.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus did not get ready: {}",
                prometheus.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        prometheus
    }

    /// Its log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query's result: each series' labels and value.
    pub async fn query(&self, promql: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
        let body: Value = self
            .http
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", promql)])
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("prometheus answers JSON");
        assert_eq!(body["status"], "success", "{promql}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|series| {
                let labels = series["metric"].as_object().cloned().unwrap_or_default();
                let value = series["value"][1]
                    .as_str()
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(f64::NAN);
                (labels, value)
            })
            .collect()
    }

    /// The one value of `promql` once it equals `expected`, waiting up to
    /// `within` for the scrapes to catch up; panics with the last answer.
    pub async fn wait_for(&self, promql: &str, expected: f64, within: Duration) -> f64 {
        let deadline = Instant::now() + within;
        loop {
            let result = self.query(promql).await;
            if let [(_, value)] = result.as_slice()
                && (*value - expected).abs() < 1e-9
            {
                return *value;
            }
            assert!(
                Instant::now() < deadline,
                "{promql}: expected {expected}, Prometheus answers {result:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Whether the last scrape of every target succeeded (`up == 1`).
    pub async fn targets_up(&self) -> bool {
        let up = self.query("up").await;
        !up.is_empty() && up.iter().all(|(_, v)| *v == 1.0)
    }
}

impl Drop for TestPrometheus {
    fn drop(&mut self) {
        if let Some(mut shell) = self.shell.take() {
            drop(shell.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = shell.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = shell.kill();
            let _ = shell.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
