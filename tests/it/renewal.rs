//! Staying signed in with `colorid dev`'s test provider: refresh tokens with
//! rotation under `offline_access`, and `prompt=none` answered from the
//! provider's session cookie (`login_required` without one).

use serde_json::Value;

use crate::common::dev::{self, Dev, location};

async fn start() -> Dev {
    dev::start(dev::Options {
        name: "renew",
        files: vec![("index.html", "<h1>index</h1>")],
        ..Default::default()
    })
    .await
}

/// The authorization request's own fields in these tests: `scope` and a state.
fn fields(scope: &str) -> [(&str, &str); 2] {
    [("scope", scope), ("state", "st")]
}

/// Signs `user` in with `scope`: the token endpoint's JSON.
async fn tokens(dev: &Dev, user: &str, scope: &str) -> Value {
    dev.sign_in(user, &fields(scope)).await.json()
}

async fn refresh(dev: &Dev, token: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", "colorid-dev"),
    ];
    let resp = dev
        .http
        .post(format!("{}/idp/token", dev.origin))
        .form(&form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// `GET /idp/authorize` with `form` as its query, and `cookie` when given.
async fn authorize_get(
    dev: &Dev,
    form: &[(String, String)],
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = dev
        .http
        .get(format!("{}/idp/authorize", dev.origin))
        .query(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn offline_access_gives_a_refresh_token_that_rotates() {
    let dev = start().await;

    // Without offline_access: no refresh token.
    let body = tokens(&dev, "alice", "openid profile").await;
    assert!(body.get("refresh_token").is_none(), "{body}");

    let body = tokens(&dev, "alice", "openid offline_access").await;
    let first = body["refresh_token"].as_str().unwrap().to_string();

    let (status, renewed) = refresh(&dev, &first).await;
    assert_eq!(status, 200, "{renewed}");
    let second = renewed["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "rotated");
    let id_token = renewed["id_token"].as_str().unwrap();
    let color = dev.get("/api/color", Some(id_token)).await;
    assert_eq!(color.status, 200);

    // A spent refresh token is refused; the rotated one works once.
    let (status, body) = refresh(&dev, &first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&dev, &second).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn prompt_none_answers_from_the_session_cookie() {
    let dev = start().await;
    let redirect = format!("{}/callback.html", dev.origin);
    let mut form = dev.authorize_form(&fields("openid"));
    form.push(("prompt".into(), "none".into()));

    // No session yet: login_required, back at the client with the state.
    let resp = authorize_get(&dev, &form, None).await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert_eq!(to, format!("{redirect}?error=login_required&state=st"));

    // Choosing a user starts the provider's session.
    let resp = dev.authorize("bob", &fields("openid")).await;
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("colorid_idp_session="), "{cookie}");

    let resp = authorize_get(&dev, &form, Some(&cookie)).await;
    let to = location(&resp);
    assert!(to.starts_with(&format!("{redirect}?code=")), "{to}");
    let body = dev.exchange(dev::code_in(&to), dev::VERIFIER).await.json();
    assert!(body["id_token"].is_string(), "{body}");

    // Signing out at the provider ends the session.
    dev.http
        .get(format!("{}/idp/logout", dev.origin))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let resp = authorize_get(&dev, &form, Some(&cookie)).await;
    assert!(location(&resp).contains("error=login_required"));
}

/// Signs in `user` with `offline_access`; the refresh token.
async fn refresh_token_for(dev: &Dev, user: &str) -> String {
    let body = tokens(dev, user, "openid offline_access").await;
    body["refresh_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_refresh_token_revoked_at_the_revocation_endpoint_is_refused() {
    let dev = start().await;
    let (_, discovery) = dev
        .get_json("/idp/.well-known/openid-configuration", None)
        .await;
    let revoke = discovery["revocation_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(revoke, format!("{}/idp/revoke", dev.origin));
    let post = |form: Vec<(&'static str, String)>| {
        let http = dev.http.clone();
        let revoke = revoke.clone();
        async move {
            let resp = http.post(revoke).form(&form).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };

    let revoked = refresh_token_for(&dev, "alice").await;
    let kept = refresh_token_for(&dev, "bob").await;
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
    let (status, body) = refresh(&dev, &revoked).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // Only that one: the other session's token still renews.
    let (status, body) = refresh(&dev, &kept).await;
    assert_eq!(status, 200, "{body}");
    // RFC 7009 2.2: an unknown (or already revoked) token is answered 200 too.
    let (status, _) = post(vec![
        ("token", revoked),
        ("client_id", "colorid-dev".into()),
    ])
    .await;
    assert_eq!(status, 200);
}
