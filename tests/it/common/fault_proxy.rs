//! A fault-injecting HTTP proxy between `colorid` and the emulator, on
//! 127.0.0.1. It sees every AWS call, tells reads from mutations the way the
//! services do (HTTP verb for the REST services, `X-Amz-Target` for the JSON
//! ones, `Action` for the query ones), and can
//!
//! - count mutations and, after forwarding the k-th, hold it and everything
//!   after it (the caller never learns the outcome) and signal, so the test
//!   kills `colorid` right there — or, in pause mode, let it go on later;
//! - answer a seeded fraction of requests, without forwarding them, with the
//!   throttling or server error the real service returns. Whether a request
//!   fails is a function of the seed, the request and how often that same
//!   request was seen, so a run is reproducible whatever the interleaving.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;

use super::latency::{self, Model};
use super::realism::{Before, Realism, Seen};

/// What the proxy knows about one AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The signing name of the service (`s3`, `acm`, `cloudfront`, …).
    pub service: String,
    /// The operation, when the protocol names it (JSON and query services).
    pub operation: Option<String>,
    pub mutating: bool,
}

/// Classifies a request from its signature scope, verb, target header or form body.
pub fn classify(method: &Method, headers: &HeaderMap, body: &[u8]) -> Call {
    let service = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|cred| cred.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string)
        .or_else(|| {
            std::str::from_utf8(body).ok().and_then(|form| {
                form.split('&')
                    .find_map(|kv| kv.strip_prefix("Action="))
                    .map(str::to_string)
            })
        });
    let mutating = match &operation {
        Some(op) => !["Get", "List", "Describe", "Head"]
            .iter()
            .any(|p| op.starts_with(p)),
        None => !(method == Method::GET || method == Method::HEAD),
    };
    Call {
        service,
        operation,
        mutating,
    }
}

/// One call as the proxy passed it on, for the policy test (common/iam.rs):
/// enough to name its IAM action and resource.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub call: Call,
    /// The region of the signature scope.
    pub region: String,
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
    pub answer: Bytes,
}

/// An injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Throttle,
    /// Route53's `PriorRequestNotComplete`; a throttle elsewhere.
    Busy,
    ServerError,
}

/// The response the real service sends for `fault`.
pub fn fault_response(service: &str, fault: Fault, head: bool) -> Response {
    let request_id = "c0l0r1d-fault-proxy";
    let xml_error = |status: u16, code: &str, message: &str, xmlns: &str| {
        let body = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><ErrorResponse{xmlns}><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"#,
            if status >= 500 { "Receiver" } else { "Sender" }
        );
        (status, "text/xml", body, None)
    };
    let (status, content_type, body, error_type): (u16, &str, String, Option<&str>) = match (
        service, fault,
    ) {
        (_, Fault::Busy) if service != "route53" => {
            return fault_response(service, Fault::Throttle, head);
        }
        ("s3", Fault::Throttle) => (
            503,
            "application/xml",
            format!(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{request_id}</RequestId></Error>"
            ),
            None,
        ),
        ("s3", Fault::ServerError) => (
            500,
            "application/xml",
            format!(
                "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>{request_id}</RequestId></Error>"
            ),
            None,
        ),
        ("lambda", Fault::Throttle) => (
            429,
            "application/json",
            r#"{"Type":"User","message":"Rate exceeded","Reason":"CallerRateLimitExceeded"}"#
                .into(),
            Some("TooManyRequestsException"),
        ),
        ("lambda", Fault::ServerError) => (
            500,
            "application/json",
            r#"{"Type":"Service","message":"Service error"}"#.into(),
            Some("ServiceException"),
        ),
        ("acm" | "ssm" | "logs", Fault::Throttle) => (
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into(),
            None,
        ),
        ("acm" | "ssm" | "logs", Fault::ServerError) => (
            500,
            "application/x-amz-json-1.1",
            r#"{"__type":"InternalServerError","message":"An internal error occurred"}"#.into(),
            None,
        ),
        ("route53", Fault::Throttle | Fault::Busy) => xml_error(
            400,
            if fault == Fault::Busy {
                "PriorRequestNotComplete"
            } else {
                "Throttling"
            },
            "Rate exceeded",
            r#" xmlns="https://route53.amazonaws.com/doc/2013-04-01/""#,
        ),
        ("route53", Fault::ServerError) => xml_error(
            500,
            "InternalFailure",
            "An internal error occurred",
            r#" xmlns="https://route53.amazonaws.com/doc/2013-04-01/""#,
        ),
        ("cloudfront", Fault::Throttle) => xml_error(
            400,
            "Throttling",
            "Rate exceeded",
            r#" xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/""#,
        ),
        (_, Fault::Throttle | Fault::Busy) => xml_error(400, "Throttling", "Rate exceeded", ""),
        (_, Fault::ServerError) => xml_error(500, "ServiceUnavailable", "Service unavailable", ""),
    };
    let mut response = Response::new(if head {
        Body::empty()
    } else {
        Body::from(body)
    });
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    h.insert("x-amzn-requestid", HeaderValue::from_static(request_id));
    h.insert("x-amz-request-id", HeaderValue::from_static(request_id));
    if let Some(t) = error_type {
        h.insert("x-amzn-errortype", HeaderValue::from_static(t));
    }
    response
}

/// How held requests end when the proxy is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// Still held.
    Hold,
    /// Sent on to the emulator (pause mode).
    Forward,
}

#[derive(Debug, Default)]
struct Counters {
    mutations: u32,
    forwarded: u32,
    injected: u32,
    /// Mutations by `service.operation` (`service METHOD path` for REST).
    by_operation: HashMap<String, u32>,
    /// The mutation that tripped the proxy.
    tripped_by: Option<String>,
    /// Every mutation, in the order forwarded.
    sequence: Vec<String>,
}

struct Control {
    counters: Counters,
    /// Hold everything after this many mutations.
    stop_after: Option<u32>,
    /// The k-th mutation has been forwarded and answered.
    tripped: bool,
    release: Release,
    /// Bumped by `reset`: requests held before it are dropped (their caller was
    /// killed, and they must never reach the emulator).
    generation: u64,
    /// Seed and fraction of requests to fail.
    faults: Option<(u64, f64)>,
    seen: HashMap<u64, u32>,
    /// Requests passed on to the emulator and not yet answered by it. A killed
    /// caller's requests still land (as on AWS, where a sent request is carried out
    /// whether or not its caller lives to read the answer); `disarm` waits for them.
    passing: usize,
    /// Forward the next request whose key starts with this, then answer it with a
    /// server error: the call happened, its caller never learns it (the SDK retries).
    lose_answer: Option<String>,
}

struct Shared {
    upstream: String,
    /// AWS's clock (common/latency.rs): each call takes at least its modelled latency.
    model: Option<Arc<Model>>,
    /// Under the model, one JSON line per call: operation, mutating, start and end.
    log: Mutex<Option<std::fs::File>>,
    /// AWS's documented behaviour where the emulator lacks it (on unless switched off).
    realism: Realism,
    client: reqwest::Client,
    control: Mutex<Control>,
    /// Every call passed on, while recording.
    recording: Mutex<Option<Vec<Recorded>>>,
    changed: Condvar,
    released: tokio::sync::Notify,
}

/// A running proxy; stops with the test process.
pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:5000`) on a free loopback port.
    pub fn start(upstream: &str) -> FaultProxy {
        Self::start_with(upstream, None, None)
    }

    /// A proxy on AWS's clock: every call takes at least its modelled latency, the
    /// realism rules hold their states for the modelled durations, and each call is
    /// appended to `log` (JSON lines) when given.
    pub fn start_modelled(upstream: &str, model: Model, log: Option<&Path>) -> FaultProxy {
        let log = log.map(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .expect("open the call log")
        });
        Self::start_with(upstream, Some(Arc::new(model)), log)
    }

    fn start_with(
        upstream: &str,
        model: Option<Arc<Model>>,
        log: Option<std::fs::File>,
    ) -> FaultProxy {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            realism: match &model {
                Some(m) => Realism::modelled(m.clone()),
                None => Realism::default(),
            },
            model,
            log: Mutex::new(log),
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("http client"),
            control: Mutex::new(Control {
                counters: Counters::default(),
                stop_after: None,
                tripped: false,
                release: Release::Hold,
                generation: 0,
                faults: None,
                seen: HashMap::new(),
                passing: 0,
                lose_answer: None,
            }),
            recording: Mutex::new(None),
            changed: Condvar::new(),
            released: tokio::sync::Notify::new(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        FaultProxy { port, shared }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The realism layer's rules (see common/realism.rs).
    pub fn realism(&self) -> &Realism {
        &self.shared.realism
    }

    /// Forgets every count and setting; requests still held are dropped.
    /// The realism layer forgets what it knew of the (reset) emulator.
    pub fn reset(&self) {
        self.shared.realism.reset();
        let mut c = self.shared.control.lock().unwrap();
        c.generation += 1;
        self.shared.released.notify_waiters();
        c.counters = Counters::default();
        c.stop_after = None;
        c.tripped = false;
        c.faults = None;
        c.lose_answer = None;
        c.seen.clear();
        c.release = Release::Hold;
    }

    /// Records every call passed on from now on (see [`Recorded`]).
    pub fn record(&self) {
        *self.shared.recording.lock().unwrap() = Some(Vec::new());
    }

    /// The calls recorded so far, in the order answered.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared
            .recording
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_default()
    }

    /// Holds the `k`-th mutation's answer and every request after it.
    pub fn stop_after(&self, k: u32) {
        self.shared.control.lock().unwrap().stop_after = Some(k);
    }

    /// Fails `fraction` of requests with throttling or server errors, decided by `seed`.
    pub fn inject_faults(&self, seed: u64, fraction: f64) {
        self.shared.control.lock().unwrap().faults = Some((seed, fraction));
    }

    /// Loses the answer of the next request whose key (`acm.RequestCertificate`, or
    /// `cloudfront POST /2020-05-31/distribution?WithTags` for REST) starts with `prefix`.
    pub fn lose_answer_of(&self, prefix: &str) {
        self.shared.control.lock().unwrap().lose_answer = Some(prefix.to_string());
    }

    /// Waits until the k-th mutation was forwarded; `false` on timeout.
    pub fn wait_tripped(&self, timeout: Duration) -> bool {
        let c = self.shared.control.lock().unwrap();
        let (c, _) = self
            .shared
            .changed
            .wait_timeout_while(c, timeout, |c| !c.tripped)
            .unwrap();
        c.tripped
    }

    /// After a kill: drops the requests held since the k-th mutation (their
    /// client is gone) and lets later requests through, keeping what the realism
    /// layer knows, so the next run meets what is left of AWS's windows, as a run
    /// after a crash does.
    pub fn disarm(&self) {
        // The killed run's requests already passed on land first: the next run
        // starts after them, as one a user starts after a crash does.
        let c = self.shared.control.lock().unwrap();
        let (mut c, _) = self
            .shared
            .changed
            .wait_timeout_while(c, Duration::from_secs(60), |c| c.passing > 0)
            .unwrap();
        c.generation += 1;
        self.shared.released.notify_waiters();
        c.stop_after = None;
        c.tripped = false;
    }

    /// Lets held requests through to the emulator (pause mode).
    pub fn resume(&self) {
        let mut c = self.shared.control.lock().unwrap();
        c.stop_after = None;
        c.release = Release::Forward;
        self.shared.released.notify_waiters();
    }

    pub fn mutations(&self) -> u32 {
        self.shared.control.lock().unwrap().counters.mutations
    }

    /// The mutation that tripped the proxy, e.g. `acm.RequestCertificate` or `s3 PUT /bucket/key`.
    pub fn tripped_by(&self) -> Option<String> {
        self.shared
            .control
            .lock()
            .unwrap()
            .counters
            .tripped_by
            .clone()
    }

    pub fn injected(&self) -> u32 {
        self.shared.control.lock().unwrap().counters.injected
    }

    pub fn forwarded(&self) -> u32 {
        self.shared.control.lock().unwrap().counters.forwarded
    }

    /// Every mutation so far, in order.
    pub fn sequence(&self) -> Vec<String> {
        self.shared
            .control
            .lock()
            .unwrap()
            .counters
            .sequence
            .clone()
    }

    /// Mutations by operation, sorted, for messages.
    pub fn mutations_by_operation(&self) -> Vec<(String, u32)> {
        let c = self.shared.control.lock().unwrap();
        let mut v: Vec<_> = c
            .counters
            .by_operation
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect();
        v.sort();
        v
    }
}

/// What to do with one request, decided under the lock.
enum Decision {
    Forward { kth: bool, generation: u64 },
    Hold(u64),
    Fail(Fault),
}

fn decide(shared: &Shared, call: &Call, path: &str, fingerprint: u64) -> Decision {
    let mut c = shared.control.lock().unwrap();
    if c.stop_after.is_some_and(|k| c.counters.mutations >= k) {
        return Decision::Hold(c.generation);
    }
    if let Some((seed, fraction)) = c.faults {
        let attempt = c.seen.entry(fingerprint).or_default();
        *attempt += 1;
        let mut h = DefaultHasher::new();
        (seed, fingerprint, *attempt).hash(&mut h);
        let draw = h.finish();
        if (draw % 1_000_000) as f64 / 1_000_000.0 < fraction {
            c.counters.injected += 1;
            let fault = match (draw >> 32) % 3 {
                0 => Fault::Throttle,
                1 => Fault::Busy,
                _ => Fault::ServerError,
            };
            return Decision::Fail(fault);
        }
    }
    let mut kth = false;
    if call.mutating {
        c.counters.mutations += 1;
        let key = match &call.operation {
            Some(op) => format!("{}.{op}", call.service),
            None => format!("{} {path}", call.service),
        };
        kth = c.stop_after == Some(c.counters.mutations);
        if kth {
            c.counters.tripped_by = Some(key.clone());
        }
        c.counters.sequence.push(key.clone());
        *c.counters.by_operation.entry(key).or_default() += 1;
    }
    c.counters.forwarded += 1;
    c.passing += 1;
    Decision::Forward {
        kth,
        generation: c.generation,
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let call = classify(&parts.method, &parts.headers, &body);
    let Some(model) = shared.model.clone() else {
        return carried_out(shared, call, parts, body).await;
    };
    // On AWS's clock the call costs its modelled latency, or what the emulator
    // took if that was longer.
    let op = latency::operation(
        &call,
        &parts.method,
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
    );
    let mutating = call.mutating;
    let start = Instant::now();
    let wall = SystemTime::now();
    let response = carried_out(shared.clone(), call, parts, body).await;
    let floor = model.call(&op, mutating);
    tokio::time::sleep(floor.saturating_sub(start.elapsed())).await;
    let epoch = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let line = serde_json::json!({
        "op": op,
        "mutating": mutating,
        "status": response.status().as_u16(),
        "start": epoch(wall),
        "end": epoch(wall + start.elapsed()),
    });
    if let Some(file) = shared.log.lock().unwrap().as_mut() {
        let _ = writeln!(file, "{line}");
    }
    response
}

/// Decides and passes the request on in a task of its own, which runs to the end
/// even when the caller is killed and its connection closes.
async fn carried_out(
    shared: Arc<Shared>,
    call: Call,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Response {
    tokio::spawn(async move { decide_and_pass(&shared, call, parts, body).await })
        .await
        .unwrap_or_else(|_| dropped())
}

/// Counts a request passed on until the emulator answers it (see `Control::passing`).
struct Passing<'a>(&'a Shared);

impl<'a> Passing<'a> {
    /// For a request counted by `decide` (under the lock, with its decision).
    fn counted(shared: &'a Shared) -> Self {
        Passing(shared)
    }

    fn start(shared: &'a Shared) -> Self {
        shared.control.lock().unwrap().passing += 1;
        Passing(shared)
    }
}

impl Drop for Passing<'_> {
    fn drop(&mut self) {
        self.0.control.lock().unwrap().passing -= 1;
        self.0.changed.notify_all();
    }
}

async fn decide_and_pass(
    shared: &Arc<Shared>,
    call: Call,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Response {
    let shared = shared.clone();
    let fingerprint = {
        let mut h = DefaultHasher::new();
        parts.method.as_str().hash(&mut h);
        parts.uri.to_string().hash(&mut h);
        call.operation.hash(&mut h);
        body.hash(&mut h);
        h.finish()
    };
    let head = parts.method == Method::HEAD;
    let path = format!(
        "{} {}",
        parts.method,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    match decide(&shared, &call, &path, fingerprint) {
        Decision::Fail(fault) => fault_response(&call.service, fault, head),
        Decision::Hold(generation) => {
            if hold(&shared, generation).await {
                let _passing = Passing::start(&shared);
                pass(&shared, &call, &parts, body).await
            } else {
                dropped()
            }
        }
        Decision::Forward { kth: false, .. } => {
            let key = match &call.operation {
                Some(op) => format!("{}.{op}", call.service),
                None => format!("{} {path}", call.service),
            };
            let lose = {
                let mut c = shared.control.lock().unwrap();
                let hit = c.lose_answer.as_ref().is_some_and(|p| key.starts_with(p));
                if hit {
                    c.lose_answer = None;
                }
                hit
            };
            let response = {
                let _passing = Passing::counted(&shared);
                pass(&shared, &call, &parts, body).await
            };
            if lose {
                fault_response(&call.service, Fault::ServerError, head)
            } else {
                response
            }
        }
        Decision::Forward {
            kth: true,
            generation,
        } => {
            let response = {
                let _passing = Passing::counted(&shared);
                pass(&shared, &call, &parts, body).await
            };
            {
                let mut c = shared.control.lock().unwrap();
                c.tripped = true;
                shared.changed.notify_all();
            }
            if hold(&shared, generation).await {
                response
            } else {
                dropped()
            }
        }
    }
}

/// Waits for a release; `true` to forward, `false` to drop.
async fn hold(shared: &Shared, generation: u64) -> bool {
    loop {
        let notified = shared.released.notified();
        {
            let c = shared.control.lock().unwrap();
            if c.generation != generation {
                return false;
            }
            if c.release == Release::Forward {
                return true;
            }
        }
        notified.await;
    }
}

fn dropped() -> Response {
    let mut r = Response::new(Body::from("held request dropped by the fault proxy"));
    *r.status_mut() = StatusCode::BAD_GATEWAY;
    r
}

/// Through the realism layer to the emulator and back.
async fn pass(
    shared: &Shared,
    call: &Call,
    parts: &axum::http::request::Parts,
    request: Bytes,
) -> Response {
    let (path, query) = parts
        .uri
        .path_and_query()
        .map(|p| (p.path(), p.query().unwrap_or("")))
        .unwrap_or(("/", ""));
    let seen = Seen {
        call,
        method: &parts.method,
        path,
        query,
        headers: &parts.headers,
    };
    let mut body = request.clone();
    let merge = match shared.realism.before(&seen, &mut body) {
        Before::Answer(response) => {
            let (head, answer) = response.into_parts();
            let answer = axum::body::to_bytes(answer, usize::MAX)
                .await
                .unwrap_or_default();
            record(shared, &seen, &request, head.status, &answer);
            return Response::from_parts(head, Body::from(answer));
        }
        Before::Forward => None,
        Before::ForwardMerging(m) => Some(m),
    };
    let rewritten = body != request;
    let response = forward(shared, parts, body, rewritten).await;
    let (mut head, answer) = response.into_parts();
    let mut answer = axum::body::to_bytes(answer, usize::MAX)
        .await
        .unwrap_or_default();
    let before = answer.clone();
    shared.realism.after(
        &seen,
        merge.as_deref(),
        &request,
        head.status,
        &mut head.headers,
        &mut answer,
    );
    if answer != before {
        head.headers.remove("content-length");
        head.headers.remove("content-md5");
    }
    record(shared, &seen, &request, head.status, &answer);
    Response::from_parts(head, Body::from(answer))
}

fn record(shared: &Shared, seen: &Seen, request: &Bytes, status: StatusCode, answer: &Bytes) {
    let mut recording = shared.recording.lock().unwrap();
    let Some(calls) = recording.as_mut() else {
        return;
    };
    let region = seen
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|cred| cred.split('/').nth(2))
        .unwrap_or("")
        .to_string();
    calls.push(Recorded {
        call: seen.call.clone(),
        region,
        method: seen.method.clone(),
        path: seen.path.to_string(),
        query: seen.query.to_string(),
        headers: seen.headers.clone(),
        body: request.clone(),
        status: status.as_u16(),
        answer: answer.clone(),
    });
}

/// `rewritten`: the realism layer changed the body, so its checksums no longer hold.
async fn forward(
    shared: &Shared,
    parts: &axum::http::request::Parts,
    body: Bytes,
    rewritten: bool,
) -> Response {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut request = shared
        .client
        .request(parts.method.clone(), format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        let checksum = name == "content-md5" || name.as_str().starts_with("x-amz-checksum-");
        if rewritten && checksum {
            continue;
        }
        if name != "host" && name != "content-length" && name != "transfer-encoding" {
            request = request.header(name, value);
        }
    }
    // The signature covers the Host header; keep what the client sent.
    if let Some(host) = parts.headers.get("host") {
        request = request.header("host", host);
    }
    match request.send().await {
        Ok(upstream) => {
            let status = upstream.status();
            let headers = upstream.headers().clone();
            let bytes = upstream.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            for (name, value) in &headers {
                if name != "transfer-encoding" && name != "connection" {
                    response.headers_mut().append(name, value.clone());
                }
            }
            response
        }
        Err(e) => {
            let mut r = Response::new(Body::from(format!("fault proxy: upstream failed: {e}")));
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            r
        }
    }
}
