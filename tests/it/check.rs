//! `colorid check --url` against `colorid --local dev`'s edge: every probe
//! passes on the deployed stack, and a wrong stack file fails the
//! /config.json probe with exit code 1.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::TestStack;

pub(crate) struct Dev(Child);

impl Drop for Dev {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

pub(crate) fn start_dev(stack: &TestStack) -> (Dev, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .args(["--local", "--stack"])
        .arg(stack.file())
        // The stack's own provider, so /config.json is what `up` published.
        .args([
            "dev",
            "--port",
            "0",
            "--issuer",
            common::issuer::shared(),
            "--client-id",
            "test-client",
        ])
        .env("COLORID_LOCAL_ENDPOINT", common::endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("open:") {
                let _ = tx.send(u.trim().trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("colorid dev printed no URL");
    (Dev(child), url)
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
