//! `colorid --local dev`: after `up`, the dev server serves the site as
//! published to the emulated bucket (not the working copy) through the edge
//! built from the distribution the emulator holds, and the function checks
//! the deployed origin header.

use crate::common;

use common::TestStack;
use common::dev::Dev;
use serde_json::{Value, json};

/// `dev.get`: the status, the headers and the body.
async fn get(
    dev: &Dev,
    path: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let got = dev.get(path, token).await;
    (got.status, got.headers, got.body)
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

    let dev = common::dev::spawn(&stack, true, &[]);
    let (status, headers, page) = get(&dev, "/", None).await;
    assert_eq!((status, page.as_str()), (200, "<h1>hi</h1>"));
    // The stack's own policy, applied by the edge in place of the managed one
    // the emulator's distribution carries.
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(headers.contains_key("strict-transport-security"));

    let (status, _, page) = get(&dev, "/missing", None).await;
    assert_eq!((status, page.as_str()), (404, "<h1>Page not found</h1>"));
    let (status, _, page) = get(&dev, "/docs/", None).await;
    assert_eq!((status, page.as_str()), (200, "<h1>the docs</h1>"));
    // publish wrote the manifest to the bucket; the distribution does not serve it.
    let (status, _, page) = get(&dev, "/.colorid/manifest.json", None).await;
    assert_eq!((status, page.as_str()), (404, "<h1>Page not found</h1>"));

    // The function answers only with the deployed origin header, which the edge sends.
    let (status, _, health) = get(&dev, "/api/health", None).await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _, config) = get(&dev, "/config.json", None).await;
    assert!(status == 200 && config.contains(&stack.name), "{config}");

    let alice = dev.token("alice").await;
    let (status, headers, body) = get(&dev, "/api/color", Some(&alice)).await;
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
    let bob = dev.token("bob").await;
    let (status, _, body) = get(&dev, "/api/color", Some(&bob)).await;
    assert_eq!(status, 200, "{body}");
    drop(dev);
    stack.ok(&["down", "--yes"]);
}
