//! Staying signed in with `colorid dev`'s test provider: refresh tokens with
//! rotation under `offline_access`, and `prompt=none` answered from the
//! provider's session cookie (`login_required` without one).

use crate::common;

use std::net::{IpAddr, Ipv4Addr};

use colorid::dev::server::{self, DevOptions};
use serde_json::Value;

async fn start() -> (String, tempfile::TempDir, tokio::sync::oneshot::Sender<()>) {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<h1>index</h1>").unwrap();
    let text = "name = \"renew\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\nsite_dir = \".\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\n";
    let stack_config = colorid::config::parse(&site.path().join("stack.toml"), text).unwrap();
    let dev = server::bind(DevOptions {
        stack: "renew".into(),
        stack_config,
        site_dir: site.path().to_path_buf(),
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        issuer: None,
        function: colorid_lambda::deployment::Plain {
            required_level: None,
            verified_claims: vec![],
            ..Default::default()
        },
        deployed: None,
    })
    .await
    .unwrap();
    let origin = dev.origin.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(dev.run(async {
        let _ = rx.await;
    }));
    (origin, site, tx)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn authorize_form<'a>(
    redirect: &'a str,
    challenge: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "colorid-dev"),
        ("redirect_uri", redirect),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("scope", scope),
        ("state", "st"),
    ]
}

async fn exchange(http: &reqwest::Client, origin: &str, location: &str) -> Value {
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let redirect = format!("{origin}/callback.html");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("client_id", "colorid-dev"),
        ("code_verifier", common::VERIFIER),
    ];
    let resp = http
        .post(format!("{origin}/idp/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

async fn refresh(http: &reqwest::Client, origin: &str, token: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", "colorid-dev"),
    ];
    let resp = http
        .post(format!("{origin}/idp/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn offline_access_gives_a_refresh_token_that_rotates() {
    let (origin, _site, _stop) = start().await;
    let http = client();
    let redirect = format!("{origin}/callback.html");
    let challenge = colorid::dev::test_idp::challenge_of(common::VERIFIER);

    // Without offline_access: no refresh token.
    let mut form = authorize_form(&redirect, &challenge, "openid profile");
    form.push(("user", "alice"));
    let resp = http
        .post(format!("{origin}/idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = exchange(&http, &origin, resp.headers()["location"].to_str().unwrap()).await;
    assert!(body.get("refresh_token").is_none(), "{body}");

    let mut form = authorize_form(&redirect, &challenge, "openid offline_access");
    form.push(("user", "alice"));
    let resp = http
        .post(format!("{origin}/idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = exchange(&http, &origin, resp.headers()["location"].to_str().unwrap()).await;
    let first = body["refresh_token"].as_str().unwrap().to_string();

    let (status, renewed) = refresh(&http, &origin, &first).await;
    assert_eq!(status, 200, "{renewed}");
    let second = renewed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "rotated");
    let id_token = renewed["id_token"].as_str().unwrap();
    let color = http
        .get(format!("{origin}/api/color"))
        .bearer_auth(id_token)
        .send()
        .await
        .unwrap();
    assert_eq!(color.status(), 200);

    // A spent refresh token is refused; the rotated one works once.
    let (status, body) = refresh(&http, &origin, &first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&http, &origin, &second).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn prompt_none_answers_from_the_session_cookie() {
    let (origin, _site, _stop) = start().await;
    let http = client();
    let redirect = format!("{origin}/callback.html");
    let challenge = colorid::dev::test_idp::challenge_of(common::VERIFIER);
    let mut form = authorize_form(&redirect, &challenge, "openid");
    form.push(("prompt", "none"));

    // No session yet: login_required, back at the client with the state.
    let resp = http
        .get(format!("{origin}/idp/authorize"))
        .query(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let to = resp.headers()["location"].to_str().unwrap();
    assert_eq!(to, format!("{redirect}?error=login_required&state=st"));

    // Choosing a user starts the provider's session.
    let mut chosen = authorize_form(&redirect, &challenge, "openid");
    chosen.push(("user", "bob"));
    let resp = http
        .post(format!("{origin}/idp/authorize"))
        .form(&chosen)
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("colorid_idp_session="), "{cookie}");

    let resp = http
        .get(format!("{origin}/idp/authorize"))
        .query(&form)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&format!("{redirect}?code=")), "{to}");
    let body = exchange(&http, &origin, &to).await;
    assert!(body["id_token"].is_string(), "{body}");

    // Signing out at the provider ends the session.
    http.get(format!("{origin}/idp/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let resp = http
        .get(format!("{origin}/idp/authorize"))
        .query(&form)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=login_required")
    );
}

/// Signs in `user` with `offline_access`; the refresh token.
async fn refresh_token_for(http: &reqwest::Client, origin: &str, user: &str) -> String {
    let redirect = format!("{origin}/callback.html");
    let challenge = colorid::dev::test_idp::challenge_of(common::VERIFIER);
    let mut form = authorize_form(&redirect, &challenge, "openid offline_access");
    form.push(("user", user));
    let resp = http
        .post(format!("{origin}/idp/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let body = exchange(http, origin, resp.headers()["location"].to_str().unwrap()).await;
    body["refresh_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_refresh_token_revoked_at_the_revocation_endpoint_is_refused() {
    let (origin, _site, _stop) = start().await;
    let http = client();
    let discovery: Value = http
        .get(format!("{origin}/idp/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let revoke = discovery["revocation_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(revoke, format!("{origin}/idp/revoke"));
    let post = |form: Vec<(&'static str, String)>| {
        let http = http.clone();
        let revoke = revoke.clone();
        async move {
            let resp = http.post(revoke).form(&form).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };

    let revoked = refresh_token_for(&http, &origin, "alice").await;
    let kept = refresh_token_for(&http, &origin, "bob").await;
    // Another client cannot revoke it (RFC 6749 5.2).
    let (status, body) = post(vec![
        ("token", revoked.clone()),
        ("client_id", "someone-else".into()),
    ])
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
    // RFC 7009 2.1: token, token_type_hint, and the public client's id.
    let (status, body) = post(vec![
        ("token", revoked.clone()),
        ("token_type_hint", "refresh_token".into()),
        ("client_id", "colorid-dev".into()),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = refresh(&http, &origin, &revoked).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Only that one: the other session's token still renews.
    let (status, body) = refresh(&http, &origin, &kept).await;
    assert_eq!(status, 200, "{body}");
    // RFC 7009 2.2: an unknown (or already revoked) token is answered 200 too.
    let (status, _) = post(vec![
        ("token", revoked),
        ("client_id", "colorid-dev".into()),
    ])
    .await;
    assert_eq!(status, 200);
}
