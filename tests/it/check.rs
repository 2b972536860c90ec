//! `colorid check --url` against `colorid --local dev`'s edge: every probe
//! passes on the deployed stack, and a wrong stack file fails the
//! /config.json probe with exit code 1.

use crate::common;

use std::process::{Command, Stdio};

use common::TestStack;
use common::dev::Dev;

/// `colorid dev` on the deployed stack (`--local`) with the stack's own provider,
/// so /config.json is what `up` published; and its URL.
pub(crate) fn start_dev(stack: &TestStack) -> (Dev, String) {
    spawn_dev(stack, true)
}

/// `colorid dev` on the stack with the stack's own provider; `local`: the deployed stack on the emulator.
fn spawn_dev(stack: &TestStack, local: bool) -> (Dev, String) {
    let args = [
        "--issuer",
        common::issuer::shared(),
        "--client-id",
        "test-client",
    ];
    let dev = common::dev::spawn(stack, local, &args);
    let url = dev.origin.clone();
    (dev, url)
}

#[test]
fn check_passes_against_the_dev_edge_and_fails_on_a_stale_config() {
    let stack = TestStack::new("check");
    stack.ok(&["up"]);
    let (_dev, url) = start_dev(&stack);

    let out = stack.run(&["check", "--url", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "ok    dns",
        "skip  tls",
        "ok    /   ",
        "ok    /config.json",
        "ok    /api/v1/health",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    let probes: serde_json::Value =
        serde_json::from_str(&stack.ok(&["--output", "json", "check", "--url", &url])).unwrap();
    assert_eq!(probes.as_array().unwrap().len(), 5);

    // The stack file now names another client id than the one published.
    let text = std::fs::read_to_string(stack.file()).unwrap().replace(
        "client_id = \"test-client\"",
        "client_id = \"another-client\"",
    );
    std::fs::write(stack.file(), text).unwrap();
    let out = stack.run(&["check", "--url", &url]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAIL  /config.json") && stdout.contains("clientId"),
        "{stdout}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 of 5 check(s) failed"), "{err}");

    // Nothing listens here: every network probe fails.
    let out = stack.run(&["check", "--url", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Probing another site than the stack's own name (here `colorid dev`, not
/// deployed anywhere) makes no AWS call, so it works with no credentials at all.
#[test]
fn check_of_a_dev_server_needs_no_aws_credentials() {
    let stack = TestStack::new("checkdev");
    let (_dev, url) = spawn_dev(&stack, false);
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .arg("--stack")
        .arg(stack.file())
        .args(["check", "--url", &url])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in ["ok    dns", "ok    /config.json", "ok    /api/v1/health"] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
}
