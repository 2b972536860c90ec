//! The built function under cargo-lambda's local runtime emulator
//! (`cargo lambda watch` on 127.0.0.1), answering real HTTP requests.
//!
//! Slow (it builds the binary through cargo-lambda), so it is ignored by
//! default; run it with `cargo test -p colorid-lambda --test emulator -- --ignored`
//! with `cargo-lambda` on PATH (scripts/test puts .venv/bin there).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Stops the emulator and every function process it started (found by a marker in their environment).
struct Emulator {
    child: Child,
    marker: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let Ok(procs) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in procs.flatten() {
            let pid = entry.file_name().to_string_lossy().to_string();
            if !pid.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let needle = format!("COLORID_TEST_MARKER={}", self.marker);
            if environ.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
                let _ = Command::new("kill").arg(&pid).status();
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "builds the function with cargo-lambda; run with --ignored (scripts/test does)"]
async fn built_function_answers_under_cargo_lambda_watch() {
    let Some(cargo_lambda) = on_path("cargo-lambda") else {
        panic!(
            "cargo-lambda is not on PATH. Install the pinned version into the project venv \
             (python3 -m venv .venv && .venv/bin/pip install -r requirements.txt) and put \
             .venv/bin on PATH, as scripts/test does."
        );
    };
    let idp = Idp::fast().await;
    let port = free_port();
    // Reuse this test run's target directory so the build is incremental.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let marker = format!("{}-{}", std::process::id(), port);
    let child = Command::new(cargo_lambda)
        .args([
            "lambda",
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .args(["--bin", "colorid-identity"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("COLORID_TEST_MARKER", &marker)
        .env("COLORID_DEV_CONFIG", "1")
        .env("COLORID_ISSUER", &idp.issuer)
        .env("COLORID_CLIENT_ID", CLIENT_ID)
        .env("COLORID_APP_SECRET", SECRET)
        .env("COLORID_SIGNING_KEY_PEM", &keys().signing_pem)
        .env("COLORID_SITE_URL", SITE)
        .env("COLORID_ORIGIN_VERIFY", ORIGIN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cargo-lambda starts");
    let _emulator = Emulator { child, marker };

    let base = format!("http://127.0.0.1:{port}/lambda-url/colorid-identity");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let health = loop {
        let attempt = http
            .get(format!("{base}/api/health"))
            .header("x-origin-verify", ORIGIN)
            .send()
            .await;
        match attempt {
            Ok(resp) => break resp,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("the emulator never answered: {e}"),
        }
    };
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );

    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    let color = http
        .get(format!("{base}/api/color"))
        .header("x-origin-verify", ORIGIN)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(color.status(), 200);
    let body: Value = color.json().await.unwrap();
    let expected = colorid_lambda::identity::derive(SECRET, &idp.issuer, "alice");
    assert_eq!(body["yourUserIdentity"], json!(expected.user_identity));
    assert_eq!(body["yourColorIdentity"], json!(expected.color));

    // The origin check is on in this mode: no header, no answer.
    let refused = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(refused.status(), 421);
}
