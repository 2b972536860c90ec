//! `colorid --local dev`: after `up`, the dev server serves the site as
//! published to the emulated bucket (not the working copy) through the edge
//! built from the distribution the emulator holds, and the function checks
//! the deployed origin header.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::TestStack;
use serde_json::{Value, json};

struct Dev {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Dev {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn start_dev(stack: &TestStack) -> Dev {
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
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Dev { child, url, http }
}

impl Dev {
    async fn get(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    }

    async fn token_of(&self, user: &str) -> String {
        common::test_idp_token(&self.http, &self.url, user).await
    }
}

#[tokio::test]
async fn dev_local_serves_the_deployed_site_through_the_deployed_distribution() {
    let stack = TestStack::new("devlocal");
    let site = stack.dir.path().join("site");
    std::fs::write(site.join("404.html"), "<h1>Page not found</h1>").unwrap();
    std::fs::create_dir_all(site.join("docs")).unwrap();
    std::fs::write(site.join("docs/index.html"), "<h1>the docs</h1>").unwrap();
    // An AAL2 stack: the [identity] table of TestStack's file, plus the level.
    let text = std::fs::read_to_string(stack.file()).unwrap();
    std::fs::write(stack.file(), format!("{text}required_level = \"AAL2\"\n")).unwrap();
    stack.ok(&["up"]);
    // Change the working copy after publishing: dev --local must not see it.
    std::fs::write(site.join("index.html"), "<h1>not published</h1>").unwrap();

    let dev = start_dev(&stack);
    let (status, headers, page) = dev.get("/", None).await;
    assert_eq!((status, page.as_str()), (200, "<h1>hi</h1>"));
    // The stack's own policy, applied by the edge in place of the managed one
    // the emulator's distribution carries.
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(headers.contains_key("strict-transport-security"));

    let (status, _, page) = dev.get("/missing", None).await;
    assert_eq!((status, page.as_str()), (404, "<h1>Page not found</h1>"));
    let (status, _, page) = dev.get("/docs/", None).await;
    assert_eq!((status, page.as_str()), (200, "<h1>the docs</h1>"));
    // publish wrote the manifest to the bucket; the distribution does not serve it.
    let (status, _, page) = dev.get("/.colorid/manifest.json", None).await;
    assert_eq!((status, page.as_str()), (404, "<h1>Page not found</h1>"));

    // The function answers only with the deployed origin header, which the edge sends.
    let (status, _, health) = dev.get("/api/health", None).await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, config) = dev.get("/config.json", None).await;
    assert!(status == 200 && config.contains(&stack.name), "{config}");

    let alice = dev.token_of("alice").await;
    let (status, headers, body) = dev.get("/api/color", Some(&alice)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"code": "insufficient_assurance", "required": "AAL2"})
    );
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    let bob = dev.token_of("bob").await;
    let (status, _, body) = dev.get("/api/color", Some(&bob)).await;
    assert_eq!(status, 200, "{body}");
    drop(dev);
    stack.ok(&["down", "--yes"]);
}
