//! SIGTERM with requests in flight, on the real `bff` binary: they complete,
//! new connections are refused, and the process exits 0 well within its
//! 20 s shutdown timeout (an ECS task gets 30 s before SIGKILL).

use crate::helpers::{AppOptions, TestApp};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use th_testkit::{Fault, FaultProxy, ProviderOptions, TestProvider};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_calls_in_flight_finish_refuses_new_ones_and_exits_0() {
    let provider = TestProvider::start(ProviderOptions::default()).await;
    let upstream = crate::api_proxy::start_upstream(provider.issuer().to_owned()).await;
    let upstream_port: u16 = upstream.rsplit(':').next().unwrap().parse().unwrap();
    let held = FaultProxy::start(([127, 0, 0, 1], upstream_port).into());
    let port = th_testkit::free_port();
    let mut options = AppOptions::for_issuer(provider.issuer());
    options.extra_toml = format!(
        "[proxy]\n[[proxy.routes]]\nprefix = \"/api/echo\"\nupstream = \"{}\"\n",
        held.http_url()
    );
    let toml = options.on_cookies().replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    let dir = std::env::temp_dir().join(format!("th-shutdown-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("bff.toml");
    std::fs::write(&config, toml).unwrap();
    let mut bff = Command::new(env!("CARGO_BIN_EXE_bff"));
    // The binary reads TH_* variables as settings (this suite's own
    // TH_TEST_SESSION_STORE would be an unknown one).
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TH_")) {
        bff.env_remove(name);
    }
    let mut bff = bff
        .arg("--config")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bff binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Up to 30 s: a loaded CI machine starts a debug binary slowly.
    let mut up = false;
    for _ in 0..600 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        if let Some(exit) = bff.try_wait().unwrap() {
            panic!("the bff exited at start: {exit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the bff did not start within 30 s");
    let mut app = TestApp {
        on_redis: false,
        base,
        port,
        metrics_port: None,
        http,
        jar: Default::default(),
    };
    app.login_as("una").await;

    // Five calls held 2 s at the upstream.
    held.set(Fault::Delay(Duration::from_secs(2)));
    let calls: Vec<_> = (0..5)
        .map(|i| {
            let request = app.request(reqwest::Method::GET, &format!("/api/echo/{i}"));
            tokio::spawn(async move {
                let response = request.send().await?;
                let status = response.status().as_u16();
                response.bytes().await.map(|b| (status, b.len()))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let term_at = Instant::now();
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(bff.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "a new connection after SIGTERM is refused"
    );
    for call in calls {
        let (status, len) = call.await.unwrap().expect("the call in flight completes");
        assert_eq!(status, 200);
        assert!(len > 0);
    }
    let exit = loop {
        if let Some(status) = bff.try_wait().unwrap() {
            break status;
        }
        assert!(
            term_at.elapsed() < Duration::from_secs(20),
            "still running 20 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    assert!(
        term_at.elapsed() >= Duration::from_millis(1500),
        "it waited for the calls in flight: {:?}",
        term_at.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
