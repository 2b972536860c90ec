//! `colorid dev` end to end over HTTP on 127.0.0.1: the site, /config.json,
//! the test identity provider's code + PKCE flow, and /api/* in-process.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::common::dev::{self, Dev, VERIFIER, code_in, location};

async fn start(required_level: Option<&'static str>) -> Dev {
    dev::start(dev::Options {
        name: "dev-test",
        files: vec![
            ("index.html", "<h1>the index</h1>"),
            ("404.html", "<h1>the not-found page</h1>"),
        ],
        required_level,
        verified_claims: vec!["birthdate"],
        ..Default::default()
    })
    .await
}

/// Chooses `user` on the authorize page (with a state and a nonce); the provider's answer.
async fn code_for(dev: &Dev, user: &str, redirect_uri: &str) -> reqwest::Response {
    let extra = [
        ("redirect_uri", redirect_uri),
        ("state", "s t&ate"),
        ("nonce", "n-1"),
    ];
    dev.authorize(user, &extra).await
}

/// Signs `user` in; the code, from a redirect that carries the state back.
async fn sign_in(dev: &Dev, user: &str) -> String {
    let redirect = format!("{}/callback.html", dev.origin);
    let resp = code_for(dev, user, &redirect).await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert!(to.starts_with(&format!("{redirect}?code=")), "{to}");
    assert!(to.ends_with("&state=s%20t%26ate"), "{to}");
    code_in(&to).to_string()
}

/// Exchanges `code` with `verifier`: the status and the JSON answer.
async fn token(dev: &Dev, code: &str, verifier: &str) -> (u16, Value) {
    let got = dev.exchange(code, verifier).await;
    (got.status, got.json())
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn serves_the_site_config_and_the_test_provider() {
    let dev = start(None).await;
    let (status, body) = dev.get_text("/", None).await;
    assert_eq!((status, body.as_str()), (200, "<h1>the index</h1>"));
    let (status, body) = dev.get_text("/no/such/page", None).await;
    assert_eq!(
        (status, body.as_str()),
        (404, "<h1>the not-found page</h1>")
    );

    let (status, body) = dev.get_text("/config.json", None).await;
    assert_eq!(status, 200);
    let config: Value = serde_json::from_str(&body).unwrap();
    let issuer = format!("{}/idp", dev.origin);
    assert_eq!(
        config,
        json!({"issuer": issuer, "clientId": "colorid-dev", "apiBase": "/api",
               "requiredLevel": null, "stack": "dev-test", "testIdentityProvider": true,
               "scopes": ["openid", "profile", "email"], "signInOnLoad": false})
    );
    let (_, body) = dev
        .get_text("/idp/.well-known/openid-configuration", None)
        .await;
    let discovery: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], json!(issuer));
    assert_eq!(
        discovery["end_session_endpoint"],
        json!(format!("{issuer}/logout"))
    );

    let (status, page) = dev
        .get_text(
            &format!(
                "/idp/authorize?response_type=code&client_id=colorid-dev&redirect_uri={}/callback.html&code_challenge=x&code_challenge_method=S256&state=%22%3Cb%3E",
                dev.origin
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("test identity provider — for local development only"));
    for user in ["alice", "bob", "carol"] {
        assert!(page.contains(&format!("Sign in as {user}")), "{user}");
    }
    assert!(page.contains("1950-01-01"), "claims are shown");
    assert!(
        page.contains("value=\"&quot;&lt;b&gt;\""),
        "values are escaped"
    );
    assert!(!page.contains("\"<b>"));

    let (status, health) = dev.get_text("/api/health", None).await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
}

#[tokio::test]
async fn code_flow_with_pkce_gives_a_token_the_function_accepts() {
    let dev = start(None).await;
    let code = sign_in(&dev, "bob").await;
    let (status, body) = token(&dev, &code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let claims = payload(id_token);
    assert_eq!(claims["nonce"], json!("n-1"));
    assert_eq!(claims["aud"], json!("colorid-dev"));
    assert_eq!(claims["acr"], json!("AAL2"));

    // One use per code.
    let (status, body) = token(&dev, &code, VERIFIER).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));

    let (status, body) = dev.get_text("/api/color", Some(id_token)).await;
    assert_eq!(status, 200, "{body}");
    let color: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(color["level"], json!("AAL2"));
    assert!(color["yourColorIdentity"].as_u64().unwrap() <= 0xFF_FFFF);

    let (status, _) = dev.get_text("/api/color", Some("not.a.token")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn wrong_verifier_foreign_redirect_and_unknown_user_are_refused() {
    let dev = start(None).await;
    let code = sign_in(&dev, "alice").await;
    let wrong = "b-verifier-that-is-at-least-forty-three-characters-long-0123";
    let (status, body) = token(&dev, &code, wrong).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    // The failed attempt spent the code.
    let (status, _) = token(&dev, &code, VERIFIER).await;
    assert_eq!(status, 400);

    let resp = code_for(&dev, "alice", "http://evil.test/callback.html").await;
    assert_eq!(resp.status(), 400);
    let redirect = format!("{}/callback.html", dev.origin);
    let resp = code_for(&dev, "mallory", &redirect).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn required_level_is_enforced_by_the_function() {
    let dev = start(Some("AAL2")).await;
    let code = sign_in(&dev, "alice").await;
    let (_, body) = token(&dev, &code, VERIFIER).await;
    let alice = body["id_token"].as_str().unwrap().to_string();
    let (status, body) = dev.get_text("/api/color", Some(&alice)).await;
    // RFC 9470 step-up: 401, which the distribution never maps to its 404 page.
    assert_eq!(status, 401);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"code": "insufficient_assurance", "required": "AAL2"})
    );
    let code = sign_in(&dev, "bob").await;
    let (_, body) = token(&dev, &code, VERIFIER).await;
    let (status, _) = dev
        .get_text("/api/color", Some(body["id_token"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
}
