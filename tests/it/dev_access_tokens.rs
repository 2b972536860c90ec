//! `[identity] api_audience` in `colorid dev`: `/config.json` tells the site
//! the audience, the test provider issues a JWT access token for it when the
//! authorization request names it (`audience=`, as Auth0 wants), and the
//! function behind the local edge accepts that token beside the ID token.

use crate::common::dev;

use serde_json::json;

const API: &str = "https://api.example.com";

#[tokio::test]
async fn dev_issues_and_accepts_access_tokens_for_the_api_audience() {
    let dev = dev::start(dev::Options {
        name: "at",
        stack_lines: format!("api_audience = \"{API}\""),
        files: vec![("index.html", "<h1>index</h1>")],
        ..Default::default()
    })
    .await;

    let (_, config) = dev.get_json("/config.json", None).await;
    assert_eq!(config["apiAudience"], json!(API));

    // The code flow with `audience`, as colorid.js sends it.
    let body = dev.sign_in("alice", &[("audience", API)]).await.json();
    let access = body["access_token"].as_str().unwrap().to_string();
    let id = body["id_token"].as_str().unwrap().to_string();
    assert_eq!(access.split('.').count(), 3, "a JWT access token: {access}");

    let (status, by_access) = dev.get_json("/api/color", Some(&access)).await;
    assert_eq!(status, 200, "{by_access}");
    let (status, by_id) = dev.get_json("/api/color", Some(&id)).await;
    assert_eq!(status, 200, "{by_id}");
    assert_eq!(by_access["yourUserIdentity"], by_id["yourUserIdentity"]);
    let (status, body) = dev.get_json("/api/v1/customer_shared", Some(&access)).await;
    assert_eq!(status, 200, "{body}");
}
