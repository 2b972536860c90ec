//! Cold-start configuration: one SSM GetParameters call (served by a fake SSM
//! endpoint on 127.0.0.1), and 503 instead of a crash when it fails.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use colorid_lambda::App;
use colorid_lambda::ssm::SsmClient;
use common::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A fake SSM answering GetParameters from `params`, recording each request body.
async fn fake_ssm(params: HashMap<String, String>) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, len) = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (i + 4, len);
                }
            };
            while buf.len() < head_end + len {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let mut req: Value = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            log.lock()
                .unwrap()
                .push(json!({"body": req.clone(), "head": head}));
            req = req.clone();
            let (mut found, mut invalid) = (Vec::new(), Vec::new());
            for name in req["Names"].as_array().cloned().unwrap_or_default() {
                let name = name.as_str().unwrap_or_default().to_string();
                match params.get(&name) {
                    Some(v) => found.push(
                        json!({"Name": name, "Value": v, "Type": "SecureString", "Version": 1}),
                    ),
                    None => invalid.push(json!(name)),
                }
            }
            let body = json!({"Parameters": found, "InvalidParameters": invalid}).to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    (url, seen)
}

fn client(url: &str) -> SsmClient {
    SsmClient::new(
        url,
        "us-east-1",
        "AKIDTEST",
        "secret",
        Some("session".into()),
    )
    .unwrap()
}

/// [`parameter_env`] of an AAL2 stack with a level map, verified claims and a leeway.
fn env_for(issuer_param: &str) -> HashMap<&'static str, String> {
    let mut env = parameter_env(issuer_param);
    env.extend([
        ("COLORID_REQUIRED_LEVEL", "AAL2".into()),
        ("COLORID_LEVEL_MAP", r#"{"mfa":"AAL2"}"#.into()),
        ("COLORID_VERIFIED_CLAIMS", "email, birthdate".into()),
        ("COLORID_LEEWAY_SECONDS", "10".into()),
    ]);
    env
}

fn params(idp: &Idp) -> HashMap<String, String> {
    HashMap::from([
        ("/colorid/t/app-secret".to_string(), SECRET.to_string()),
        ("/colorid/t/signing-key".into(), keys().signing_pem.clone()),
        ("/colorid/t/origin".into(), ORIGIN.into()),
        ("/colorid/t/client-id".into(), CLIENT_ID.into()),
        ("/colorid/t/issuer".into(), idp.issuer.clone()),
    ])
}

#[tokio::test]
async fn settings_come_from_one_decrypting_get_parameters_call() {
    let idp = Idp::fast().await;
    let mut p = params(&idp);
    p.insert("/colorid/t/origin-previous".into(), ORIGIN_PREVIOUS.into());
    let (url, seen) = fake_ssm(p).await;
    let env = env_for("/colorid/t/issuer");
    let lookup = |k: &str| env.get(k).cloned();
    let s = colorid_lambda::Settings::from_env_and_ssm(&lookup, &client(&url))
        .await
        .unwrap();
    assert_eq!(s.issuer, idp.issuer);
    assert_eq!(s.client_id, CLIENT_ID);
    assert_eq!(s.app_secret, SECRET);
    assert_eq!(
        s.origin_verify,
        vec![ORIGIN.to_string(), ORIGIN_PREVIOUS.to_string()]
    );
    assert_eq!(s.required_level.as_deref(), Some("AAL2"));
    assert_eq!(s.level_map.get("mfa").map(String::as_str), Some("AAL2"));
    assert_eq!(s.verified_claims, ["email", "birthdate"]);
    assert_eq!(s.leeway, 10);
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "exactly one SSM call");
    assert_eq!(requests[0]["body"]["WithDecryption"], json!(true));
    assert_eq!(requests[0]["body"]["Names"].as_array().unwrap().len(), 6);
    // Signed with SigV4 for SSM, carrying the session token.
    let head = requests[0]["head"].as_str().unwrap().to_ascii_lowercase();
    assert!(head.starts_with("post / http/1.1"), "{head}");
    assert!(
        head.contains("x-amz-target: amazonssm.getparameters"),
        "{head}"
    );
    assert!(
        head.contains("authorization: aws4-hmac-sha256 credential=akidtest/"),
        "{head}"
    );
    assert!(head.contains("/us-east-1/ssm/aws4_request"), "{head}");
    assert!(head.contains("x-amz-security-token: session"), "{head}");
    // Secrets never show in Debug output.
    assert!(!format!("{s:?}").contains(SECRET));
}

/// Issue 25, item 6: a deployed function refuses a plain-http issuer, even on
/// loopback, unless `up --local` marked the stack as using one.
#[tokio::test]
async fn a_deployed_function_refuses_a_plain_http_issuer() {
    let idp = Idp::fast().await;
    let (url, _) = fake_ssm(params(&idp)).await;
    let mut env = env_for("/colorid/t/issuer");
    env.remove("COLORID_LOOPBACK_ISSUER");
    let lookup = |k: &str| env.get(k).cloned();
    let err = colorid_lambda::Settings::from_env_and_ssm(&lookup, &client(&url))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("issuer"), "{err}");
    let app = App::from_lookup_and_ssm(&lookup, client(&url)).await;
    let (status, _) = call(&app, request("GET", "/api/health", None, None)).await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn missing_previous_origin_value_is_not_an_error() {
    let idp = Idp::fast().await;
    let (url, _) = fake_ssm(params(&idp)).await;
    let env = env_for("/colorid/t/issuer");
    let lookup = |k: &str| env.get(k).cloned();
    let app = App::from_lookup_and_ssm(&lookup, client(&url)).await;
    let (status, _) = call(&app, request("GET", "/api/health", None, None)).await;
    assert_eq!(status, 200);
    let old = http::Request::builder()
        .uri("/api/health")
        .header("x-origin-verify", ORIGIN_PREVIOUS)
        .body(lambda_http::Body::Empty)
        .unwrap();
    assert_eq!(call(&app, old).await.0, 421);
}

#[tokio::test]
async fn missing_parameter_or_unreachable_ssm_gives_503() {
    let idp = Idp::fast().await;
    let (url, _) = fake_ssm(params(&idp)).await;
    let env = env_for("/colorid/t/no-such-issuer");
    let lookup = |k: &str| env.get(k).cloned();
    let app = App::from_lookup_and_ssm(&lookup, client(&url)).await;
    let (status, body) = call(&app, request("GET", "/api/health", None, None)).await;
    assert_eq!(
        (status, &body["code"]),
        (503, &json!("configuration_unavailable"))
    );

    // Nothing listens on this port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let env = env_for("/colorid/t/issuer");
    let lookup = |k: &str| env.get(k).cloned();
    let app = App::from_lookup_and_ssm(&lookup, client(&closed)).await;
    assert_eq!(
        call(&app, request("GET", "/api/health", None, None))
            .await
            .0,
        503
    );

    // A parameter name missing from the environment.
    let lookup = |k: &str| {
        (k != "COLORID_ISSUER_PARAM")
            .then(|| env.get(k).cloned())
            .flatten()
    };
    let app = App::from_lookup_and_ssm(&lookup, client(&url)).await;
    assert_eq!(
        call(&app, request("GET", "/api/health", None, None))
            .await
            .0,
        503
    );
}

#[test]
fn dev_mode_reads_values_from_the_environment() {
    let pem = keys().signing_pem.clone();
    let base = HashMap::from([
        ("COLORID_ISSUER", "http://127.0.0.1:1".to_string()),
        ("COLORID_CLIENT_ID", "c".into()),
        ("COLORID_APP_SECRET", "s".into()),
        ("COLORID_SIGNING_KEY_PEM", pem),
        ("COLORID_SITE_URL", SITE.into()),
        ("COLORID_SKIP_ORIGIN_VERIFY", "1".into()),
    ]);
    let lookup = |k: &str| base.get(k).cloned();
    let s = colorid_lambda::Settings::from_dev_env(&lookup).unwrap();
    assert!(s.skip_origin_verify && s.origin_verify.is_empty());
    assert_eq!(s.leeway, 30);
    let without_secret = |k: &str| {
        (k != "COLORID_APP_SECRET")
            .then(|| base.get(k).cloned())
            .flatten()
    };
    assert!(colorid_lambda::Settings::from_dev_env(&without_secret).is_err());
    let big_leeway = |k: &str| match k {
        "COLORID_LEEWAY_SECONDS" => Some("61".to_string()),
        _ => base.get(k).cloned(),
    };
    assert!(colorid_lambda::Settings::from_dev_env(&big_leeway).is_err());
    let no_origin = |k: &str| {
        (k != "COLORID_SKIP_ORIGIN_VERIFY")
            .then(|| base.get(k).cloned())
            .flatten()
    };
    assert!(
        colorid_lambda::Settings::from_dev_env(&no_origin).is_err(),
        "origin check needs a value or an explicit switch-off"
    );
}
