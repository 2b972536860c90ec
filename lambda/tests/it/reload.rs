//! The settings cache against a fake SSM endpoint (axum on 127.0.0.1):
//! throttling and 5xx are retried within one load, a failed load is retried
//! on later requests, and loaded settings are read again after their TTL, so
//! a deleted origin-verify value stops working in a warm instance.

use crate::common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use colorid_lambda::App;
use colorid_lambda::ssm::{RetryPolicy, SsmClient};
use common::*;
use serde_json::{Value, json};

/// One scripted answer of the fake SSM.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Throttled,
    ServerError,
    AccessDenied,
}

#[derive(Default)]
struct Fake {
    params: HashMap<String, String>,
    script: VecDeque<Answer>,
    /// Every call fails with 500 while set.
    down: bool,
    calls: usize,
}

type Shared = Arc<Mutex<Fake>>;

async fn get_parameters(State(fake): State<Shared>, body: String) -> axum::response::Response {
    let mut f = fake.lock().unwrap();
    f.calls += 1;
    let scripted = f.script.pop_front();
    let error = |status: StatusCode, kind: &str, message: &str| {
        let body = json!({"__type": kind, "message": message}).to_string();
        (
            status,
            [("content-type", "application/x-amz-json-1.1")],
            body,
        )
            .into_response()
    };
    match (scripted, f.down) {
        (Some(Answer::Throttled), _) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate exceeded",
            );
        }
        (Some(Answer::AccessDenied), _) => {
            return error(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                "not allowed",
            );
        }
        (Some(Answer::ServerError), _) | (None, true) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "try later",
            );
        }
        (None, false) => {}
    }
    let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    for name in req["Names"].as_array().cloned().unwrap_or_default() {
        let name = name.as_str().unwrap_or_default().to_string();
        match f.params.get(&name) {
            Some(v) => {
                found.push(json!({"Name": name, "Value": v, "Type": "SecureString", "Version": 1}))
            }
            None => invalid.push(json!(name)),
        }
    }
    let body = json!({"Parameters": found, "InvalidParameters": invalid}).to_string();
    ([("content-type", "application/x-amz-json-1.1")], body).into_response()
}

async fn fake_ssm(params: HashMap<String, String>, script: &[Answer]) -> (String, Shared) {
    let fake = Arc::new(Mutex::new(Fake {
        params,
        script: script.iter().copied().collect(),
        ..Fake::default()
    }));
    let app = Router::new()
        .route("/", post(get_parameters))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fake)
}

const FAST: RetryPolicy = RetryPolicy {
    attempts: 4,
    base_delay: Duration::from_millis(10),
    max_delay: Duration::from_millis(40),
    deadline: Duration::from_secs(3),
};

fn client(url: &str) -> SsmClient {
    SsmClient::new(url, "us-east-1", "AKIDTEST", "secret", None)
        .unwrap()
        .with_retry(FAST)
}

fn params(issuer: &str) -> HashMap<String, String> {
    HashMap::from([
        ("/colorid/t/app-secret".to_string(), SECRET.to_string()),
        ("/colorid/t/signing-key".into(), keys().signing_pem.clone()),
        ("/colorid/t/origin".into(), ORIGIN.into()),
        ("/colorid/t/origin-previous".into(), ORIGIN_PREVIOUS.into()),
        ("/colorid/t/client-id".into(), CLIENT_ID.into()),
        ("/colorid/t/issuer".into(), issuer.into()),
    ])
}

async fn start(url: &str) -> App {
    let env = common::parameter_env("/colorid/t/issuer");
    let lookup = |k: &str| env.get(k).cloned();
    App::from_lookup_and_ssm(&lookup, client(url)).await
}

async fn health(app: &App, origin: &str) -> u16 {
    let req = http::Request::builder()
        .uri("/api/health")
        .header("x-origin-verify", origin)
        .body(lambda_http::Body::Empty)
        .unwrap();
    call(app, req).await.0
}

#[tokio::test]
async fn throttling_then_a_server_error_are_retried_within_one_load() {
    let (url, fake) = fake_ssm(
        params("http://127.0.0.1:1"),
        &[Answer::Throttled, Answer::ServerError],
    )
    .await;
    let app = start(&url).await;
    assert_eq!(health(&app, ORIGIN).await, 200);
    assert_eq!(
        fake.lock().unwrap().calls,
        3,
        "throttled, 500, then success"
    );
}

#[tokio::test]
async fn access_denied_is_not_retried() {
    let (url, fake) = fake_ssm(params("http://127.0.0.1:1"), &[Answer::AccessDenied]).await;
    let app = start(&url)
        .await
        .with_reload_timing(Duration::from_secs(300), Duration::from_secs(300));
    assert_eq!(health(&app, ORIGIN).await, 503);
    assert_eq!(fake.lock().unwrap().calls, 1);
}

#[tokio::test]
async fn a_failed_load_answers_503_then_succeeds_on_a_later_request() {
    let (url, fake) = fake_ssm(params("http://127.0.0.1:1"), &[]).await;
    fake.lock().unwrap().down = true;
    let app = start(&url)
        .await
        .with_reload_timing(Duration::from_secs(300), Duration::from_millis(100));
    assert_eq!(health(&app, ORIGIN).await, 503);
    assert_eq!(
        fake.lock().unwrap().calls,
        FAST.attempts as usize,
        "bounded retries"
    );
    // Within the retry interval nothing more is tried.
    assert_eq!(health(&app, ORIGIN).await, 503);
    assert_eq!(fake.lock().unwrap().calls, FAST.attempts as usize);

    fake.lock().unwrap().down = false;
    sleep(150).await;
    assert_eq!(health(&app, ORIGIN).await, 200);
    let calls = fake.lock().unwrap().calls;
    assert_eq!(calls, FAST.attempts as usize + 1);
    // Loaded: further requests make no call until the TTL passes.
    assert_eq!(health(&app, ORIGIN).await, 200);
    assert_eq!(fake.lock().unwrap().calls, calls);
}

#[tokio::test]
async fn a_deleted_previous_origin_value_stops_working_after_the_ttl() {
    let (url, fake) = fake_ssm(params("http://127.0.0.1:1"), &[]).await;
    let app = start(&url)
        .await
        .with_reload_timing(Duration::from_millis(200), Duration::from_millis(50));
    assert_eq!(health(&app, ORIGIN_PREVIOUS).await, 200);
    // `up` retires the previous value.
    fake.lock()
        .unwrap()
        .params
        .remove("/colorid/t/origin-previous");
    sleep(250).await;
    assert_eq!(health(&app, ORIGIN_PREVIOUS).await, 421);
    assert_eq!(health(&app, ORIGIN).await, 200);
    assert_eq!(fake.lock().unwrap().calls, 2);
}

#[tokio::test]
async fn a_failed_reload_keeps_the_settings_last_loaded() {
    let (url, fake) = fake_ssm(params("http://127.0.0.1:1"), &[]).await;
    let app = start(&url)
        .await
        .with_reload_timing(Duration::from_millis(50), Duration::from_millis(10));
    fake.lock().unwrap().down = true;
    sleep(80).await;
    assert_eq!(health(&app, ORIGIN).await, 200);
    assert_eq!(fake.lock().unwrap().calls, 1 + FAST.attempts as usize);
}

/// A function loading its settings from a fake SSM that names `idp` as the
/// issuer, reloading them after `ttl`; and a token from `idp`.
async fn with_issuer(idp: &Idp, ttl: Duration) -> (App, Shared, String) {
    let (url, fake) = fake_ssm(params(&idp.issuer), &[]).await;
    let app = start(&url)
        .await
        .with_reload_timing(ttl, Duration::from_millis(10));
    let token = sign(
        jsonwebtoken::Algorithm::ES256,
        Some("ec-1"),
        &idp.claims("u"),
    );
    (app, fake, token)
}

#[tokio::test]
async fn a_reload_keeps_the_issuer_keys() {
    let idp = Idp::fast().await;
    let (app, fake, token) = with_issuer(&idp, Duration::from_millis(50)).await;
    for _ in 0..2 {
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(status, 200, "{body}");
        sleep(80).await;
    }
    // The settings were loaded again between the two calls (the 50 ms reload
    // interval passed), so the one JWKS fetch is a cache that survived a reload.
    assert!(
        fake.lock().unwrap().calls >= 2,
        "no reload happened: {} load(s)",
        fake.lock().unwrap().calls
    );
    assert_eq!(
        idp.fetches(),
        1,
        "the JWKS cache survives a settings reload"
    );
}

#[tokio::test]
async fn a_settings_reload_empties_the_verified_token_cache() {
    let idp = Idp::fast().await;
    let (app, fake, token) = with_issuer(&idp, Duration::from_millis(200)).await;
    for _ in 0..2 {
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(app.verified_token_hits(), 1, "the second call was a hit");
    // `up` moves the stack to another client: the cached token was for the old one.
    fake.lock()
        .unwrap()
        .params
        .insert("/colorid/t/client-id".into(), "client-2".into());
    sleep(250).await;
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!((status, &body["reason"]), (401, &json!("wrong_audience")));
    assert_eq!(
        app.verified_token_hits(),
        0,
        "the new settings' cache is new"
    );
    assert_eq!(fake.lock().unwrap().calls, 2);
}
