//! A bounded soak of the release `bff`: mixed traffic from a fixed number of
//! browsers for a set time, sampling the BFF's memory, descriptors and
//! latency; then SIGTERM under load. `bench/soak.sh` builds the binaries
//! and runs this, then plots the samples.
//!
//! ```text
//! soak <bff> <example-api> <seconds> <output folder>
//! ```
//!
//! Environment: `SOAK_BROWSERS` (16), `SOAK_SAMPLE_SECS` (5),
//! `SOAK_WARMUP_SECS` (a fifth of the run, at least 10), `SOAK_STORE`
//! (`cookie` or `redis`; `redis` starts a redis-server),
//! `SOAK_REFRESH_GRACE_SECS` (the BFF's `session.refresh_grace_secs`, 30;
//! a short run wants a short one, so that the refreshes kept for it reach
//! their steady state within the warm-up).
//!
//! Traffic, per browser, picked at random (a fixed seed per browser): sign in
//! through the provider's forms when signed out; `GET /bff/session`; API
//! calls through the proxy route, `GET` and `POST` with JSON bodies of 1 to
//! 32 KiB; `POST /bff/refresh`; logout; and bad inputs: a tampered session
//! cookie, no CSRF header, a body over the BFF's JSON limit and over the
//! route's limit, malformed JSON. Access tokens live 20 s, so API calls
//! also meet expired tokens and refresh as the SPA does.
//!
//! It fails (exit 1) when: any answer is a 5xx or a request fails; the RSS
//! peak of the last fifth of the samples after the warm-up is more than 10 %
//! over the peak of the first fifth (RSS is a sawtooth: the cookie store
//! keeps each refresh's cookies for the grace time and sweeps them as their
//! map doubles, so single samples vary by several MiB); the open descriptors grew
//! under load (the last 3 samples' highest over the first 3's, by more than
//! 8), or idle after the load (every client gone, the pools past their idle
//! timeout) against idle before it (by more than 2; with Redis, the
//! connections its pool and threads keep); or the windows' p99 over the last
//! third of the run after the warm-up (their median) is more than 50 % over
//! that of the first third, and by more than 2 ms (below that, a shared
//! 2-core machine's noise). Then the shutdown: API calls held 1 s at the upstream are in
//! flight when SIGTERM arrives; each must complete with 200, a new connection
//! must be refused, and the process must exit 0 within its 20 s shutdown
//! timeout.
//!
//! Writes `samples.csv` and `report.md` to the output folder.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use th_testkit::bff_settings::bff_settings;
use th_testkit::{
    APP_HOST as HOST, APP_ORIGIN as APP, Browser, Fault, FaultProxy, ProviderOptions, REDIRECT,
    TestProvider, TestRedis, TokenFormat, cookie_header, free_port,
};

const MAX_JSON: usize = 16 * 1024;
const ROUTE_MAX_BODY: usize = 64 * 1024;

/// What the browsers saw in one sampling window, and in all.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u64>,
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    failures: Vec<String>,
}

struct Sample {
    at_secs: f64,
    rss_kib: u64,
    fds: usize,
    requests: u64,
    p50_ms: f64,
    p99_ms: f64,
    fives: u64,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bff, api, seconds, out] = &args[..] else {
        panic!("usage: soak <bff> <example-api> <seconds> <output folder>");
    };
    let duration = Duration::from_secs(seconds.parse().expect("seconds"));
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).expect("the output folder");
    let browsers = env_num("SOAK_BROWSERS", 16) as usize;
    let sample_every = Duration::from_secs(env_num("SOAK_SAMPLE_SECS", 5));
    let warmup = Duration::from_secs(env_num(
        "SOAK_WARMUP_SECS",
        (duration.as_secs() / 5).max(10),
    ));
    let on_redis = std::env::var("SOAK_STORE").as_deref() == Ok("redis");

    let provider = TestProvider::start(ProviderOptions {
        token_format: TokenFormat::Jwt,
        access_token_ttl_secs: 20,
        ..ProviderOptions::default()
    })
    .await;
    let api_port = free_port();
    let api = Process::start(
        Command::new(api)
            .env("EXAMPLE_API_LISTEN", format!("127.0.0.1:{api_port}"))
            .env("EXAMPLE_API_ISSUER", provider.issuer())
            .env("RUST_LOG", "warn"),
    );
    wait_for(&format!("http://127.0.0.1:{api_port}/healthz")).await;
    // The upstream behind a fault proxy: passing, until the shutdown check
    // holds its answers.
    let upstream = FaultProxy::start(([127, 0, 0, 1], api_port).into());
    let redis = on_redis.then(TestRedis::start);
    let port = free_port();
    let config = out.join("bff.toml");
    std::fs::write(
        &config,
        settings(
            provider.issuer(),
            port,
            &upstream.http_url(),
            redis.as_ref(),
        ),
    )
    .expect("the settings file");
    // Its warnings (a logout's revocation of a JWT access token, which
    // the provider refuses, is one each time) go to a file.
    let log = std::fs::File::create(out.join("bff.log")).expect("bff.log");
    let mut bff = Command::new(bff);
    // TH_* variables are settings to the binary: only the file counts here.
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TH_")) {
        bff.env_remove(name);
    }
    let mut server = Process::start(
        bff.arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/healthz")).await;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fds_idle_before = fds(pid);
    let rss_start = rss_kib(pid);
    eprintln!(
        "soak: {} s, {browsers} browsers, {} store, warm-up {} s, samples every {} s",
        duration.as_secs(),
        if on_redis { "redis" } else { "cookie" },
        warmup.as_secs(),
        sample_every.as_secs()
    );

    let window = Arc::new(Mutex::new(Window::default()));
    let total = Arc::new(Mutex::new(Window::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..browsers)
        .map(|i| {
            let (base, window, total, stop) =
                (base.clone(), window.clone(), total.clone(), stop.clone());
            tokio::spawn(async move {
                let mut b = SoakBrowser::new(i, base, window, total);
                while !stop.load(Ordering::Relaxed) {
                    b.step().await;
                }
            })
        })
        .collect();

    let mut samples = Vec::new();
    let mut csv = String::from("seconds,rss_kib,fds,requests,p50_ms,p99_ms,errors_5xx\n");
    while started.elapsed() < duration {
        tokio::time::sleep(sample_every).await;
        let w = std::mem::take(&mut *window.lock().unwrap());
        let mut lat = w.latencies_us;
        lat.sort_unstable();
        let q = |p: f64| {
            lat.get(((lat.len().max(1) - 1) as f64 * p) as usize)
                .map_or(0.0, |us| *us as f64 / 1000.0)
        };
        let s = Sample {
            at_secs: started.elapsed().as_secs_f64(),
            rss_kib: rss_kib(pid),
            fds: fds(pid),
            requests: w.requests,
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            fives: w
                .statuses
                .iter()
                .filter(|(s, _)| **s >= 500)
                .map(|(_, n)| n)
                .sum(),
        };
        let _ = writeln!(
            csv,
            "{:.1},{},{},{},{:.3},{:.3},{}",
            s.at_secs, s.rss_kib, s.fds, s.requests, s.p50_ms, s.p99_ms, s.fives
        );
        eprintln!(
            "  {:>6.1} s  RSS {:>6.1} MiB  fds {:>4}  {:>6} req  p50 {:>6.2} ms  p99 {:>7.2} ms  5xx {}",
            s.at_secs,
            s.rss_kib as f64 / 1024.0,
            s.fds,
            s.requests,
            s.p50_ms,
            s.p99_ms,
            s.fives
        );
        samples.push(s);
    }
    std::fs::write(out.join("samples.csv"), &csv).expect("samples.csv");

    // The load stops; every client goes, and the pools pass their idle
    // timeout (4 s): the descriptors left are the idle BFF's.
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    let fds_idle_after = fds(pid);

    // The shutdown, under load: calls held 1 s at the upstream are in flight
    // when SIGTERM arrives.
    upstream.set(Fault::Delay(Duration::from_secs(1)));
    const HELD: usize = 8;
    let ready = Arc::new(tokio::sync::Barrier::new(HELD + 1));
    let held: Vec<_> = (0..HELD)
        .map(|i| {
            let (base, ready) = (base.clone(), ready.clone());
            tokio::spawn(async move {
                let mut b = SoakBrowser::new(1000 + i, base, Arc::default(), Arc::default());
                b.login().await;
                ready.wait().await;
                b.api_get().await
            })
        })
        .collect();
    ready.wait().await;
    // They are at the upstream now, held there for a second.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term_at = Instant::now();
    sigterm(pid);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = std::net::TcpStream::connect(("127.0.0.1", port)).is_err();
    let mut held_ok = 0;
    for h in held {
        if let Ok(Some(200)) = h.await {
            held_ok += 1;
        }
    }
    let exit = server.wait_for_exit(Duration::from_secs(25));
    let exit_secs = term_at.elapsed().as_secs_f64();

    let total = std::mem::take(&mut *total.lock().unwrap());
    let fives: u64 = total
        .statuses
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let after_warmup: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at_secs >= warmup.as_secs_f64())
        .collect();
    let median = |xs: &[&Sample], f: fn(&Sample) -> f64| {
        let mut v: Vec<f64> = xs.iter().map(|s| f(s)).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let n = after_warmup.len();
    let (first, last) = (
        &after_warmup[..3.min(n)],
        &after_warmup[n.saturating_sub(3)..],
    );
    // RSS is a sawtooth (the refreshes kept for their grace time are swept
    // as their map doubles): the peaks of the first and the last fifth after
    // the warm-up, each long enough to hold several teeth, are compared.
    let fifth = (n / 5).max(3).min(n);
    let peak = |xs: &[&Sample]| xs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64;
    let rss_a = peak(&after_warmup[..fifth]);
    let rss_b = peak(&after_warmup[n - fifth..]);
    let fds_a = first.iter().map(|s| s.fds).max().unwrap_or(0);
    let fds_b = last.iter().map(|s| s.fds).max().unwrap_or(0);
    // p99 per window, medians over the first and the last third after the
    // warm-up: a few windows in which the shared machine stalled do not
    // decide it.
    let third = (n / 3).max(3).min(n);
    let p99_a = median(&after_warmup[..third], |s| s.p99_ms);
    let p99_b = median(&after_warmup[n - third..], |s| s.p99_ms);
    let rss_peak = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);

    let mut verdicts = Vec::new();
    let mut check = |name: &str, ok: bool, detail: String| {
        verdicts.push((name.to_owned(), ok, detail));
    };
    check(
        "enough samples after the warm-up",
        n >= 6,
        format!("{n} samples after {} s", warmup.as_secs()),
    );
    check(
        "no 5xx, no failed request",
        fives == 0 && total.failures.is_empty(),
        format!("{fives} 5xx, {} failures", total.failures.len()),
    );
    check(
        "RSS peak grew at most 10 % after the warm-up",
        rss_b <= rss_a * 1.10,
        format!(
            "{:.1} → {:.1} MiB ({:+.1} %)",
            rss_a / 1024.0,
            rss_b / 1024.0,
            (rss_b / rss_a - 1.0) * 100.0
        ),
    );
    check(
        "open descriptors did not grow under load (8 of noise)",
        fds_b <= fds_a + 8,
        format!("{fds_a} → {fds_b}"),
    );
    // Redis connections are made as the load needs them and kept: up to
    // the pool's 16 and one per worker thread.
    let kept = if on_redis { 16 + 4 } else { 2 };
    check(
        "open descriptors idle after the load as before it",
        fds_idle_after <= fds_idle_before + kept,
        format!("{fds_idle_before} → {fds_idle_after}"),
    );
    check(
        "p99 drifted at most 50 % (or 2 ms)",
        p99_b <= p99_a * 1.5 || p99_b - p99_a <= 2.0,
        format!("{p99_a:.2} → {p99_b:.2} ms"),
    );
    check(
        "SIGTERM: every in-flight call completed",
        held_ok == HELD,
        format!("{held_ok} of {HELD} held calls answered 200"),
    );
    check(
        "SIGTERM: new connections refused",
        refused,
        String::from("connect after SIGTERM"),
    );
    check(
        "SIGTERM: exit 0 within the 20 s shutdown timeout",
        exit == Some(0) && exit_secs < 20.0,
        format!("exit {exit:?} after {exit_secs:.1} s"),
    );

    let mut report = String::new();
    let _ = writeln!(
        report,
        "Soak of {} s ({browsers} browsers, {} store, warm-up {} s, a sample every {} s): \
         {} requests, statuses {:?}, RSS at start {:.1} MiB, peak {:.1} MiB.\n",
        duration.as_secs(),
        if on_redis { "Redis" } else { "cookie" },
        warmup.as_secs(),
        sample_every.as_secs(),
        total.requests,
        total.statuses,
        rss_start as f64 / 1024.0,
        rss_peak as f64 / 1024.0,
    );
    let _ = writeln!(report, "| check | result | measured |\n| --- | --- | --- |");
    for (name, ok, detail) in &verdicts {
        let _ = writeln!(
            report,
            "| {name} | {} | {detail} |",
            if *ok { "pass" } else { "FAIL" }
        );
    }
    for failure in total.failures.iter().take(20) {
        let _ = writeln!(report, "\n- {failure}");
    }
    std::fs::write(out.join("report.md"), &report).expect("report.md");
    println!("{report}");
    drop(api);
    drop(redis);
    if verdicts.iter().any(|(_, ok, _)| !ok) {
        std::process::exit(1);
    }
}

/// One simulated browser.
struct SoakBrowser {
    id: usize,
    base: String,
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
    rng: u64,
    signed_in: bool,
    window: Arc<Mutex<Window>>,
    total: Arc<Mutex<Window>>,
}

impl SoakBrowser {
    fn new(id: usize, base: String, window: Arc<Mutex<Window>>, total: Arc<Mutex<Window>>) -> Self {
        Self {
            id,
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar: BTreeMap::new(),
            rng: 0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
            signed_in: false,
            window,
            total,
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    async fn step(&mut self) {
        if !self.signed_in {
            self.login().await;
            return;
        }
        match self.next() % 100 {
            0..=29 => {
                let (status, body) = self.send("GET", "/bff/session", None, true).await;
                if status == 200 && body["isLoggedIn"] != true {
                    self.signed_in = false;
                }
            }
            30..=54 => {
                self.api_get().await;
            }
            55..=66 => {
                let size = 1024 + (self.next() % (31 * 1024)) as usize;
                let body = serde_json::json!({ "pad": "x".repeat(size) }).to_string();
                let path = format!("/api/example/items/{}", self.id);
                let (status, _) = self.send("POST", &path, Some(body.clone()), true).await;
                if status == 401 && self.refresh().await {
                    self.send("POST", &path, Some(body), true).await;
                }
            }
            67..=72 => {
                self.refresh().await;
            }
            73..=75 => {
                self.send("POST", "/bff/logout", None, true).await;
                self.jar.clear();
                self.signed_in = false;
            }
            76..=79 => self.bad(4, "a tampered cookie").await,
            80..=83 => self.bad(0, "no CSRF header").await,
            84..=87 => self.bad(1, "a JSON body over the limit").await,
            88..=91 => self.bad(2, "an API body over the route's limit").await,
            92..=95 => self.bad(3, "malformed JSON").await,
            _ => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Start, the provider's forms, end.
    async fn login(&mut self) {
        self.jar.clear();
        let (status, body) = self
            .send("POST", "/bff/login/start", Some("{}".into()), true)
            .await;
        if status != 200 {
            return;
        }
        let Some(url) = body["authorizationUrl"].as_str() else {
            return;
        };
        let user = format!("soak-{}", self.id);
        let Ok(callback) = Browser::new().sign_in(url, &user, REDIRECT).await else {
            self.fail(format!("{user}: sign-in at the provider failed"));
            return;
        };
        let end = serde_json::json!({ "pageUrl": callback }).to_string();
        let (status, _) = self.send("POST", "/bff/login/end", Some(end), true).await;
        self.signed_in = status == 200;
    }

    /// `GET` through the route (refreshing on a 401, as the SPA does);
    /// answers the final status.
    async fn api_get(&mut self) -> Option<u16> {
        let path = format!("/api/example/items/{}", self.id);
        let (mut status, mut body) = self.send("GET", &path, None, true).await;
        if status == 401 && self.refresh().await {
            (status, body) = self.send("GET", &path, None, true).await;
        }
        if status == 200 && body["sub"] != format!("soak-{}", self.id).as_str() {
            self.fail(format!("soak-{}: the API saw {:?}", self.id, body["sub"]));
        }
        Some(status)
    }

    async fn refresh(&mut self) -> bool {
        let (status, _) = self.send("POST", "/bff/refresh", None, true).await;
        if status == 401 {
            self.signed_in = false;
        }
        status == 204
    }

    /// A bad input, which must be refused with a 4xx.
    async fn bad(&mut self, kind: u8, what: &str) {
        let path = format!("/api/example/items/{}", self.id);
        let status = match kind {
            0 => self.send("GET", &path, None, false).await.0,
            1 => {
                let body = format!("{{\"returnTo\":\"/{}\"}}", "a".repeat(MAX_JSON));
                self.send("POST", "/bff/login/start", Some(body), true)
                    .await
                    .0
            }
            2 => {
                let body = format!("{{\"pad\":\"{}\"}}", "b".repeat(ROUTE_MAX_BODY));
                self.send("POST", &path, Some(body), true).await.0
            }
            3 => {
                self.send(
                    "POST",
                    "/bff/login/start",
                    Some("{\"returnTo\": ".into()),
                    true,
                )
                .await
                .0
            }
            _ => {
                // A copy of the jar with one character of each value changed.
                let saved = self.jar.clone();
                for value in self.jar.values_mut() {
                    let flip = if value.ends_with('A') { "B" } else { "A" };
                    value.pop();
                    value.push_str(flip);
                }
                let status = self.send("GET", &path, None, true).await.0;
                self.jar = saved;
                status
            }
        };
        if !(400..500).contains(&status) {
            self.fail(format!("soak-{}: {what} answered {status}", self.id));
        }
    }

    fn fail(&self, what: String) {
        self.total.lock().unwrap().failures.push(what);
    }

    /// One request as the SPA sends it; records its latency and status.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        json: Option<String>,
        csrf: bool,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("origin", APP)
            .header("host", HOST);
        if csrf {
            request = request.header("x-csrf", "1");
        }
        if !self.jar.is_empty() {
            request = request.header("cookie", cookie_header(&self.jar));
        }
        if let Some(json) = json {
            request = request
                .header("content-type", "application/json")
                .body(json);
        }
        let started = Instant::now();
        let response = request.send().await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                self.fail(format!("{path}: the request failed: {e}"));
                return (0, serde_json::Value::Null);
            }
        };
        let status = response.status().as_u16();
        for line in response.headers().get_all("set-cookie") {
            let line = line.to_str().unwrap_or_default();
            if let Some((name, value)) = line.split(';').next().and_then(|p| p.split_once('=')) {
                if value.is_empty() || line.contains("Max-Age=0") {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let text = response.text().await;
        let micros = started.elapsed().as_micros() as u64;
        let body = text
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        {
            let mut w = self.window.lock().unwrap();
            w.requests += 1;
            w.latencies_us.push(micros);
            *w.statuses.entry(status).or_default() += 1;
        }
        let mut t = self.total.lock().unwrap();
        t.requests += 1;
        *t.statuses.entry(status).or_default() += 1;
        if status >= 500 {
            t.failures.push(format!("{path}: {status} {body}"));
        }
        (status, body)
    }
}

fn settings(issuer: &str, port: u16, upstream: &str, redis: Option<&TestRedis>) -> String {
    let store = match redis {
        Some(r) => format!("store = \"redis\"\n[redis]\nurl = \"{}\"\n", r.url()),
        None => String::new(),
    };
    format!(
        r#"{base}[limits]
login_starts_per_minute = 0
max_json_bytes = {MAX_JSON}
[log]
filter = "warn"
[[proxy.routes]]
prefix = "/api/example"
upstream = "{upstream}"
max_body_bytes = {ROUTE_MAX_BODY}
[session]
refresh_grace_secs = {grace}
{store}"#,
        base = bff_settings(issuer, port),
        grace = env_num("SOAK_REFRESH_GRACE_SECS", 30),
    )
}

/// A child process, killed when dropped.
struct Process(Child);

impl Process {
    fn start(command: &mut Command) -> Self {
        Self(
            command
                .stdin(Stdio::null())
                .spawn()
                .expect("the binary starts"),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exited(&mut self) -> Option<i32> {
        // A signal's death has no code: -1, never 0.
        self.0
            .try_wait()
            .ok()
            .flatten()
            .map(|s| s.code().unwrap_or(-1))
    }

    fn wait_for_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(code) = self.exited() {
                return Some(code);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGTERM to `pid`, by the `kill` command (no libc binding here).
fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM {pid}");
}

async fn wait_for(url: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not answer");
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
