//! `colorid dev` end to end over HTTP on 127.0.0.1: the site, /config.json,
//! the test identity provider's code + PKCE flow, and /api/* in-process.

use std::net::{IpAddr, Ipv4Addr};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use colorid::dev::server::{self, DevOptions};
use colorid::dev::test_idp::challenge_of;
use serde_json::{Value, json};

struct Running {
    origin: String,
    http: reqwest::Client,
    _site: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start(required_level: Option<&str>) -> Running {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("index.html"), "<h1>the index</h1>").unwrap();
    std::fs::write(site.path().join("404.html"), "<h1>the not-found page</h1>").unwrap();
    let stack_file = site.path().join("stack.toml");
    let stack_config = colorid::config::parse(
        &stack_file,
        "name = \"dev-test\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\nsite_dir = \".\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\n",
    )
    .unwrap();
    let opts = DevOptions {
        stack: "dev-test".into(),
        stack_config,
        site_dir: site.path().to_path_buf(),
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        issuer: None,
        function: colorid_lambda::deployment::Plain {
            required_level: required_level.map(String::from),
            verified_claims: vec!["birthdate".into()],
            ..Default::default()
        },
        deployed: None,
    };
    let dev = server::bind(opts).await.unwrap();
    let origin = dev.origin.clone();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(dev.run(async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Running {
        origin,
        http,
        _site: site,
        stop: Some(tx),
    }
}

const VERIFIER: &str = "a-verifier-that-is-at-least-forty-three-characters-long-0123";

impl Running {
    /// Chooses `user` on the authorize page; returns the code.
    async fn code_for(&self, user: &str, redirect_uri: &str) -> reqwest::Response {
        let form = [
            ("response_type", "code"),
            ("client_id", "colorid-dev"),
            ("redirect_uri", redirect_uri),
            ("state", "s t&ate"),
            ("nonce", "n-1"),
            ("code_challenge", &challenge_of(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("user", user),
        ];
        self.http
            .post(format!("{}/idp/authorize", self.origin))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    async fn sign_in(&self, user: &str) -> String {
        let redirect = format!("{}/callback.html", self.origin);
        let resp = self.code_for(user, &redirect).await;
        assert_eq!(resp.status(), 303);
        let to = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with(&format!("{redirect}?code=")), "{to}");
        assert!(to.ends_with("&state=s%20t%26ate"), "{to}");
        let code = to.split("code=").nth(1).unwrap().split('&').next().unwrap();
        code.to_string()
    }

    async fn token(&self, code: &str, verifier: &str) -> (u16, Value) {
        let redirect = format!("{}/callback.html", self.origin);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect),
            ("client_id", "colorid-dev"),
            ("code_verifier", verifier),
        ];
        let resp = self
            .http
            .post(format!("{}/idp/token", self.origin))
            .form(&form)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = self.http.get(format!("{}{path}", self.origin));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn serves_the_site_config_and_the_test_provider() {
    let dev = start(None).await;
    let (status, body) = dev.get("/", None).await;
    assert_eq!((status, body.as_str()), (200, "<h1>the index</h1>"));
    let (status, body) = dev.get("/no/such/page", None).await;
    assert_eq!(
        (status, body.as_str()),
        (404, "<h1>the not-found page</h1>")
    );

    let (status, body) = dev.get("/config.json", None).await;
    assert_eq!(status, 200);
    let config: Value = serde_json::from_str(&body).unwrap();
    let issuer = format!("{}/idp", dev.origin);
    assert_eq!(
        config,
        json!({"issuer": issuer, "clientId": "colorid-dev", "apiBase": "/api",
               "requiredLevel": null, "stack": "dev-test", "testIdentityProvider": true,
               "scopes": ["openid", "profile", "email"], "signInOnLoad": false})
    );
    let (_, body) = dev.get("/idp/.well-known/openid-configuration", None).await;
    let discovery: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(discovery["issuer"], json!(issuer));
    assert_eq!(
        discovery["end_session_endpoint"],
        json!(format!("{issuer}/logout"))
    );

    let (status, page) = dev
        .get(
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

    let (status, health) = dev.get("/api/health", None).await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));
}

#[tokio::test]
async fn code_flow_with_pkce_gives_a_token_the_function_accepts() {
    let dev = start(None).await;
    let code = dev.sign_in("bob").await;
    let (status, body) = dev.token(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let claims = payload(id_token);
    assert_eq!(claims["nonce"], json!("n-1"));
    assert_eq!(claims["aud"], json!("colorid-dev"));
    assert_eq!(claims["acr"], json!("AAL2"));

    // One use per code.
    let (status, body) = dev.token(&code, VERIFIER).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));

    let (status, body) = dev.get("/api/color", Some(id_token)).await;
    assert_eq!(status, 200, "{body}");
    let color: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(color["level"], json!("AAL2"));
    assert!(color["yourColorIdentity"].as_u64().unwrap() <= 0xFF_FFFF);

    let (status, _) = dev.get("/api/color", Some("not.a.token")).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn wrong_verifier_foreign_redirect_and_unknown_user_are_refused() {
    let dev = start(None).await;
    let code = dev.sign_in("alice").await;
    let wrong = "b-verifier-that-is-at-least-forty-three-characters-long-0123";
    let (status, body) = dev.token(&code, wrong).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    // The failed attempt spent the code.
    let (status, _) = dev.token(&code, VERIFIER).await;
    assert_eq!(status, 400);

    let resp = dev
        .code_for("alice", "http://evil.test/callback.html")
        .await;
    assert_eq!(resp.status(), 400);
    let redirect = format!("{}/callback.html", dev.origin);
    let resp = dev.code_for("mallory", &redirect).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn required_level_is_enforced_by_the_function() {
    let dev = start(Some("AAL2")).await;
    let code = dev.sign_in("alice").await;
    let (_, body) = dev.token(&code, VERIFIER).await;
    let alice = body["id_token"].as_str().unwrap().to_string();
    let (status, body) = dev.get("/api/color", Some(&alice)).await;
    // RFC 9470 step-up: 401, which the distribution never maps to its 404 page.
    assert_eq!(status, 401);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"code": "insufficient_assurance", "required": "AAL2"})
    );
    let code = dev.sign_in("bob").await;
    let (_, body) = dev.token(&code, VERIFIER).await;
    let (status, _) = dev
        .get("/api/color", Some(body["id_token"].as_str().unwrap()))
        .await;
    assert_eq!(status, 200);
}
