//! The binary: settings errors name the setting and exit with 2, as the BFF's do.

use std::process::Command;
use th_testkit::TEST_COOKIE_KEY;

/// Runs `proxy --config <file with toml>` with no `TH_` variables of the
/// test's own; the exit code and stderr.
fn run(toml: &str, name: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("proxy-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, toml).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_proxy"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TH_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd.arg("--config").arg(&file).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file the proxy starts with.
fn good() -> String {
    format!(
        r#"
listen = "127.0.0.1:0"
[cors]
allowed_origins = ["https://app.example.com"]
[cookies]
keys = [{{ id = "k1", key = "{TEST_COOKIE_KEY}" }}]
[[proxy.routes]]
prefix = "/api/example"
upstream = "http://127.0.0.1:9"
"#
    )
}

#[test]
fn a_bad_setting_is_named_and_exits_2() {
    for (name, toml, setting) in [
        (
            "upstream",
            good().replace("http://127.0.0.1:9", "ftp://x"),
            "proxy.routes[0].upstream",
        ),
        (
            "origin",
            good().replace("https://app.example.com", "app.example.com"),
            "cors.allowed_origins",
        ),
        (
            "key",
            good().replace(TEST_COOKIE_KEY, "c2hvcnQ"),
            "cookies.keys",
        ),
        (
            "secure",
            good().replace("[cookies]", "[cookies]\nsecure = false"),
            "cookies.secure",
        ),
    ] {
        let (code, err) = run(&toml, name);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{setting}: ")), "{name}: {err}");
    }
}

#[test]
fn an_unknown_setting_is_named_and_exits_2() {
    let (code, err) = run(&good().replace("[cors]", "[cors]\nallowed = []"), "unknown");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("allowed"), "{err}");
}
