//! `[identity] api_audience` in `colorid dev`: `/config.json` tells the site
//! the audience, the test provider issues a JWT access token for it when the
//! authorization request names it (`audience=`, as Auth0 wants), and the
//! function behind the local edge accepts that token beside the ID token.

use crate::common;

use std::net::{IpAddr, Ipv4Addr};

use colorid::dev::server::{self, DevOptions};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

#[tokio::test]
async fn dev_issues_and_accepts_access_tokens_for_the_api_audience() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<h1>index</h1>").unwrap();
    let text = format!(
        "name = \"at\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\nsite_dir = \".\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\napi_audience = \"{API}\"\n"
    );
    let stack_config = colorid::config::parse(&site.path().join("stack.toml"), &text).unwrap();
    let opts = DevOptions {
        stack: "at".into(),
        function: colorid::stack::function::plain_settings(&stack_config),
        stack_config,
        site_dir: site.path().to_path_buf(),
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        issuer: None,
        deployed: None,
    };
    let dev = server::bind(opts).await.unwrap();
    let origin = dev.origin.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(dev.run(async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let config: Value = http
        .get(format!("{origin}/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["apiAudience"], json!(API));

    // The code flow with `audience`, as colorid.js sends it.
    let redirect = format!("{origin}/callback.html");
    let challenge = colorid::dev::test_idp::challenge_of(common::VERIFIER);
    let form = [
        ("response_type", "code"),
        ("client_id", "colorid-dev"),
        ("redirect_uri", redirect.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("audience", API),
        ("user", "alice"),
    ];
    let resp = http
        .post(format!("{origin}/idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    let code = to.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("client_id", "colorid-dev"),
        ("code_verifier", common::VERIFIER),
    ];
    let body: Value = http
        .post(format!("{origin}/idp/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = body["access_token"].as_str().unwrap().to_string();
    let id = body["id_token"].as_str().unwrap().to_string();
    assert_eq!(access.split('.').count(), 3, "a JWT access token: {access}");

    let get = |path: &'static str, token: String| {
        let http = http.clone();
        let origin = origin.clone();
        async move {
            let resp = http
                .get(format!("{origin}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, by_access) = get("/api/color", access.clone()).await;
    assert_eq!(status, 200, "{by_access}");
    let (status, by_id) = get("/api/color", id).await;
    assert_eq!(status, 200, "{by_id}");
    assert_eq!(by_access["yourUserIdentity"], by_id["yourUserIdentity"]);
    let (status, body) = get("/api/v1/customer_shared", access).await;
    assert_eq!(status, 200, "{body}");
    let _ = stop.send(());
}
