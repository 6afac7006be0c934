//! The BFF's own costs, with the provider's time left out (it is another
//! process): CPU per login (start + end), per `GET /bff/session`, per
//! `POST /bff/refresh`; RSS idle after start and with 1,000 idle keep-alive
//! connections open. `bench/bff.sh` builds the release `bff` and runs this:
//!
//! ```text
//! bff_costs <path to bff> [logins, default 300]
//! ```
//!
//! CPU is the BFF process's own (`/proc/<pid>/stat`), so the load generator
//! and the provider, which share the machine, are not counted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use th_testkit::bff_settings::bff_settings;
use th_testkit::{
    APP_HOST as HOST, APP_ORIGIN as APP, Browser, ProviderOptions, REDIRECT, TestProvider,
    cookie_header, free_port,
};

/// Idle keep-alive connections held open for the RSS measurement.
const IDLE_CONNECTIONS: usize = 1000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bff = args
        .next()
        .expect("usage: bff_costs <path to bff> [logins]");
    let logins: u32 = args.next().map_or(300, |n| n.parse().expect("a number"));

    let provider = TestProvider::start(ProviderOptions::default()).await;
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("th-bff-costs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let config = dir.join("bff.toml");
    std::fs::write(&config, settings(provider.issuer(), port)).expect("the settings file");
    let mut server = BffProcess::start(Path::new(&bff), &config);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base).await;
    // Idle after start and one request (the first request sets up the
    // worker's state; a BFF behind a load balancer never sits before it).
    let _ = http.get(format!("{base}/healthz")).send().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = rss_kib(server.pid());

    // Warm-up: the provider's metadata and JWKS, the connection pools.
    let jar = login(&http, &base, "warm-up").await;

    let before = cpu_ns(server.pid());
    let mut jars = Vec::with_capacity(logins as usize);
    for i in 0..logins {
        jars.push(login(&http, &base, &format!("user-{i}")).await);
    }
    let per_login = (cpu_ns(server.pid()) - before) / u64::from(logins);

    let reads = 20_000u32;
    let before = cpu_ns(server.pid());
    for _ in 0..reads {
        let answer = call(&http, &base, "GET", "/bff/session", &jar).await;
        assert_eq!(answer.0, 200);
    }
    let per_session = (cpu_ns(server.pid()) - before) / u64::from(reads);

    // The provider keeps its grants in an in-memory LRU of about a thousand
    // entries: the refresh tokens of the earliest logins are gone by now.
    let refreshes = jars.len().min(100);
    let recent = jars.len() - refreshes;
    let before = cpu_ns(server.pid());
    for jar in &mut jars[recent..] {
        let (status, body, cookies) = send(&http, &base, "POST", "/bff/refresh", jar, None).await;
        assert_eq!(status, 204, "a refresh: {body}");
        merge(jar, &cookies);
    }
    let per_refresh = (cpu_ns(server.pid()) - before) / refreshes as u64;

    let rss_after_run = rss_kib(server.pid());
    let idle = open_idle_connections(port, IDLE_CONNECTIONS);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle_connections = rss_kib(server.pid());
    drop(idle);

    println!("| figure | value |");
    println!("| --- | ---: |");
    println!("| logins measured | {logins} |");
    println!("| CPU per login (start + end) | {:.3} ms |", ms(per_login));
    println!("| CPU per `GET /bff/session` | {:.1} µs |", us(per_session));
    println!(
        "| CPU per `POST /bff/refresh` ({refreshes} refreshes) | {:.3} ms |",
        ms(per_refresh)
    );
    println!("| RSS idle after start | {:.1} MiB |", mib(rss_idle));
    println!("| RSS after the run | {:.1} MiB |", mib(rss_after_run));
    println!(
        "| RSS with {IDLE_CONNECTIONS} idle keep-alive connections | {:.1} MiB |",
        mib(rss_idle_connections)
    );
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

fn settings(issuer: &str, port: u16) -> String {
    bff_settings(issuer, port) + "[limits]\nlogin_starts_per_minute = 0\n[log]\nfilter = \"warn\"\n"
}

/// The `bff` process, killed when dropped.
struct BffProcess(Child);

impl BffProcess {
    fn start(bff: &Path, config: &Path) -> Self {
        let child = Command::new(bff)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the bff binary starts");
        Self(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for BffProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_until_up(http: &reqwest::Client, base: &str) {
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bff did not start");
}

/// A whole login through the provider's forms; answers the session's cookies.
async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (status, body, cookies) =
        send(http, base, "POST", "/bff/login/start", "", Some("{}")).await;
    assert_eq!(status, 200, "login start: {body}");
    let start: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let url = start["authorizationUrl"].as_str().expect("a URL");
    let callback = Browser::new()
        .sign_in(url, user, REDIRECT)
        .await
        .expect("sign in at the provider");
    let mut jar = String::new();
    merge(&mut jar, &cookies);
    let end = serde_json::json!({ "pageUrl": callback }).to_string();
    let (status, body, cookies) =
        send(http, base, "POST", "/bff/login/end", &jar, Some(&end)).await;
    assert_eq!(status, 200, "login end: {body}");
    let mut session = String::new();
    merge(&mut session, &cookies);
    session
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    jar: &str,
) -> (u16, Vec<String>) {
    let (status, _, cookies) = send(http, base, method, path, jar, None).await;
    (status, cookies)
}

/// One request as the SPA sends it; answers status, body and `Set-Cookie`s.
async fn send(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    jar: &str,
    json: Option<&str>,
) -> (u16, String, Vec<String>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = http
        .request(method, format!("{base}{path}"))
        .header("x-csrf", "1")
        .header("origin", APP)
        .header("host", HOST);
    if !jar.is_empty() {
        request = request.header("cookie", jar);
    }
    if let Some(json) = json {
        request = request
            .header("content-type", "application/json")
            .body(json.to_owned());
    }
    let response = request.send().await.expect("the bff answers");
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    (status, response.text().await.unwrap_or_default(), cookies)
}

/// Applies `Set-Cookie` lines to a `Cookie` header value.
fn merge(jar: &mut String, set_cookies: &[String]) {
    let mut pairs: Vec<(String, String)> = jar
        .split("; ")
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for line in set_cookies {
        let Some((name, value)) = line.split(';').next().and_then(|p| p.split_once('=')) else {
            continue;
        };
        pairs.retain(|(k, _)| k != name);
        if !value.is_empty() && !line.contains("Max-Age=0") {
            pairs.push((name.to_owned(), value.to_owned()));
        }
    }
    *jar = cookie_header(pairs);
}

/// Connections that made one request each and stay open, idle.
fn open_idle_connections(port: u16, n: usize) -> Vec<TcpStream> {
    let mut open = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("a connection");
        let request = format!("GET /healthz HTTP/1.1\r\nhost: {HOST}\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("a request");
        let mut buf = [0u8; 512];
        let _ = stream.read(&mut buf).expect("an answer");
        open.push(stream);
    }
    open
}

/// CPU time (user + system) of `pid`, every thread, exited ones included,
/// in nanoseconds. `/proc` counts it in clock ticks (1/100 s here), so each
/// phase runs long enough for a tick to be under 2 % of it.
fn cpu_ns(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is alive");
    // Fields after the command name (which is in parentheses): state is
    // field 3, utime 14, stime 15.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks * 10_000_000
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("the process is alive")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
