//! The binary: `--help`, and settings errors that name the setting.

use std::process::Command;
use th_testkit::TEST_COOKIE_KEY;

fn bff() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bff"));
    // Keep the test's own environment out of the settings.
    for (key, _) in std::env::vars() {
        if key.starts_with("TH_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn help_describes_the_commands() {
    let out = bff().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["--config", "healthcheck", "check-config", "generate-key"] {
        assert!(text.contains(word), "{word} missing from --help");
    }
}

fn check(toml: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("bff-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "{:x}.toml",
        toml.len() * 31 + toml.bytes().map(usize::from).sum::<usize>()
    ));
    std::fs::write(&file, toml).unwrap();
    let out = bff()
        .arg("check-config")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A whole, valid settings file.
fn good() -> String {
    format!(
        r#"
[oidc]
issuer = "https://id.example.com"
client_id = "bff"
client_secret = "s"
redirect_uri = "https://app.example.com/"
[cors]
allowed_origins = ["https://app.example.com"]
[cookies]
keys = [{{ id = "k1", key = "{TEST_COOKIE_KEY}" }}]
"#
    )
}

#[test]
fn a_valid_file_passes_check_config() {
    let (ok, err) = check(&good());
    assert!(ok, "{err}");
}

#[test]
fn a_short_cookie_key_is_named() {
    let (ok, err) = check(&good().replace(TEST_COOKIE_KEY, "c2hvcnQ"));
    assert!(!ok);
    assert!(
        err.contains("cookies.keys") && err.contains("32 bytes"),
        "{err}"
    );
}

#[test]
fn a_missing_issuer_is_named() {
    let (ok, err) = check(&good().replace("issuer = \"https://id.example.com\"\n", ""));
    assert!(!ok);
    assert!(err.contains("issuer"), "{err}");
}

#[test]
fn an_origin_that_is_not_an_origin_is_named() {
    let (ok, err) = check(&good().replace(
        "[\"https://app.example.com\"]",
        "[\"https://app.example.com/path\"]",
    ));
    assert!(!ok);
    assert!(err.contains("cors.allowed_origins"), "{err}");
}

#[test]
fn the_client_secret_never_appears_in_errors() {
    let (ok, err) = check(&good().replace(
        "client_secret = \"s\"",
        "client_secret = \"hunter2-secret\"\nbogus = 1",
    ));
    assert!(!ok);
    assert!(!err.contains("hunter2-secret"), "{err}");
}
