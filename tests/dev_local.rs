//! `colorid --local dev`: after `up`, the dev server serves the site as
//! published to the emulated bucket (not the working copy) and answers /api.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::TestStack;

#[tokio::test]
async fn dev_local_serves_the_deployed_site() {
    let stack = TestStack::new("devlocal");
    stack.ok(&["up"]);
    // Change the working copy after publishing: dev --local must not see it.
    std::fs::write(
        stack.dir.path().join("site/index.html"),
        "<h1>not published</h1>",
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .args(["--local", "--stack"])
        .arg(stack.file())
        .args(["dev", "--port", "0"])
        .env("COLORID_LOCAL_ENDPOINT", common::endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read stdout to its end on a thread: a closed pipe would end the server
    // when it prints its next line.
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

    let get = |path: &str| {
        let url = format!("{url}{path}");
        std::thread::spawn(move || {
            let out = Command::new("curl")
                .args(["-sS", "-w", "\n%{http_code}", &url])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).to_string()
        })
        .join()
        .unwrap()
    };
    let page = get("/");
    let health = get("/api/health");
    let config = get("/config.json");
    child.kill().ok();
    child.wait().ok();
    assert!(
        page.starts_with("<h1>hi</h1>"),
        "not the published page: {page}"
    );
    assert!(page.ends_with("200"), "{page}");
    assert!(
        health.contains(r#""status":"ok""#) && health.ends_with("200"),
        "{health}"
    );
    assert!(
        config.contains(&stack.name) && config.ends_with("200"),
        "{config}"
    );
    stack.ok(&["down", "--yes"]);
}
