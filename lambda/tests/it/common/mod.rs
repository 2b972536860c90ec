//! Shared test fixtures: keys generated per test binary, a JWKS/discovery
//! server on 127.0.0.1, token minting and request building.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use colorid_lambda::{App, Settings};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lambda_http::{Body, Request, Response};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const CLIENT_ID: &str = "client-1";
pub const SECRET: &str = "app-secret-value";
pub const ORIGIN: &str = "origin-current";
pub const ORIGIN_PREVIOUS: &str = "origin-previous";
pub const SITE: &str = "https://color.example.com";

/// Key material generated once per test binary (RSA generation is slow in debug builds).
pub struct Keys {
    pub ec_pem: String,
    pub ec_jwk: Value,
    pub ed_pem: String,
    pub ed_jwk: Value,
    /// A second P-256 key, e.g. for rotation.
    pub ec2_pem: String,
    pub ec2_jwk: Value,
    /// The stack's attribute signing key.
    pub signing_pem: String,
}

fn ec_key(kid: &str) -> (String, Value) {
    let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let point = key.public_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
        "x": B64.encode(point.x().unwrap()), "y": B64.encode(point.y().unwrap())});
    (pem, jwk)
}

/// The RSA test key, generated only by tests that need it (slow in debug builds).
pub struct RsaKey {
    pub pem: String,
    pub public_pem: String,
    pub jwk: Value,
}

/// The environment of a function whose parameters live under `/colorid/t/` (the
/// issuer's at `issuer_param`), serving `SITE`. The test provider is plain http on
/// loopback, as an `up --local` stack's may be.
pub fn parameter_env(issuer_param: &str) -> std::collections::HashMap<&'static str, String> {
    std::collections::HashMap::from([
        (
            "COLORID_APP_SECRET_PARAM",
            "/colorid/t/app-secret".to_string(),
        ),
        ("COLORID_SIGNING_KEY_PARAM", "/colorid/t/signing-key".into()),
        ("COLORID_ORIGIN_VERIFY_PARAM", "/colorid/t/origin".into()),
        (
            "COLORID_ORIGIN_VERIFY_PREVIOUS_PARAM",
            "/colorid/t/origin-previous".into(),
        ),
        ("COLORID_CLIENT_ID_PARAM", "/colorid/t/client-id".into()),
        ("COLORID_ISSUER_PARAM", issuer_param.into()),
        ("COLORID_LOOPBACK_ISSUER", "1".into()),
        ("COLORID_SITE_URL", SITE.into()),
    ])
}

pub fn rsa_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let rsa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let pem = rsa.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let public_pem = rsa
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let jwk = json!({"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
            "n": B64.encode(rsa.n().to_bytes_be()), "e": B64.encode(rsa.e().to_bytes_be())});
        RsaKey {
            pem,
            public_pem,
            jwk,
        }
    })
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (ec_pem, ec_jwk) = ec_key("ec-1");
        let (ec2_pem, ec2_jwk) = ec_key("ec-2");
        let (signing_pem, _) = ec_key("signing");
        let ed = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let ed_pem = ed.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let ed_jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "use": "sig",
            "x": B64.encode(ed.verifying_key().as_bytes())});
        Keys {
            ec_pem,
            ec_jwk,
            ed_pem,
            ed_jwk,
            ec2_pem,
            ec2_jwk,
            signing_pem,
        }
    })
}

/// The function's refusal of an opaque access token: 401, saying only its issuer can check it.
pub fn assert_opaque_refused(status: u16, body: &Value) {
    assert_eq!((status, &body["reason"]), (401, &json!("opaque_token")));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot be verified here"),
        "{body}"
    );
}

/// Reads a request's head from `sock`: its path (`None` if the peer left first).
pub async fn request_path(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&buf);
    Some(head.split_whitespace().nth(1).unwrap_or("/").to_string())
}

/// Answers with `status` (`"200 OK"`), `extra` header lines and a JSON `body`, then closes.
pub async fn answer_json(sock: &mut tokio::net::TcpStream, status: &str, extra: &str, body: &str) {
    let resp = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = sock.write_all(resp.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// A discovery + JWKS server on 127.0.0.1 that counts JWKS fetches.
pub struct Idp {
    pub issuer: String,
    pub jwks: Arc<Mutex<Value>>,
    pub jwks_fetches: Arc<AtomicUsize>,
    /// When set, every response is a 500.
    pub broken: Arc<std::sync::atomic::AtomicBool>,
    /// The `Cache-Control: max-age` of JWKS responses, when set.
    pub max_age: Arc<Mutex<Option<u64>>>,
    /// The `issuer` the discovery document states, when not the real one.
    pub discovery_issuer: Arc<Mutex<Option<String>>>,
}

impl Idp {
    pub async fn start(keys: Vec<Value>) -> Idp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let jwks = Arc::new(Mutex::new(json!({ "keys": keys })));
        let jwks_fetches = Arc::new(AtomicUsize::new(0));
        let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let max_age = Arc::new(Mutex::new(None::<u64>));
        let discovery_issuer = Arc::new(Mutex::new(None::<String>));
        let (j, f, b, iss) = (
            jwks.clone(),
            jwks_fetches.clone(),
            broken.clone(),
            issuer.clone(),
        );
        let (ma, di) = (max_age.clone(), discovery_issuer.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (j, f, b, iss) = (j.clone(), f.clone(), b.clone(), iss.clone());
                let (ma, di) = (ma.clone(), di.clone());
                tokio::spawn(async move {
                    let Some(path) = request_path(&mut sock).await else {
                        return;
                    };
                    let mut extra = String::new();
                    let (status, body) = if b.load(Ordering::SeqCst) {
                        ("500 Internal Server Error", "{}".to_string())
                    } else if path == "/.well-known/openid-configuration" {
                        let stated = di.lock().unwrap().clone().unwrap_or_else(|| iss.clone());
                        (
                            "200 OK",
                            json!({"issuer": stated, "jwks_uri": format!("{iss}/jwks")})
                                .to_string(),
                        )
                    } else if path == "/jwks" {
                        f.fetch_add(1, Ordering::SeqCst);
                        if let Some(age) = *ma.lock().unwrap() {
                            extra = format!("cache-control: public, max-age={age}\r\n");
                        }
                        ("200 OK", j.lock().unwrap().to_string())
                    } else {
                        ("404 Not Found", "{}".to_string())
                    };
                    answer_json(&mut sock, status, &extra, &body).await;
                });
            }
        });
        Idp {
            issuer,
            jwks,
            jwks_fetches,
            broken,
            max_age,
            discovery_issuer,
        }
    }

    /// An IdP publishing the P-256 and Ed25519 test keys (no RSA: its generation is slow).
    pub async fn fast() -> Idp {
        let k = keys();
        Idp::start(vec![k.ec_jwk.clone(), k.ed_jwk.clone()]).await
    }

    /// An IdP publishing the RSA, P-256 and Ed25519 test keys.
    pub async fn standard() -> Idp {
        let k = keys();
        Idp::start(vec![
            rsa_key().jwk.clone(),
            k.ec_jwk.clone(),
            k.ed_jwk.clone(),
        ])
        .await
    }

    pub fn publish(&self, key: Value) {
        self.jwks.lock().unwrap()["keys"]
            .as_array_mut()
            .unwrap()
            .push(key);
    }

    pub fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn settings(&self) -> Settings {
        Settings::new(
            self.issuer.clone(),
            CLIENT_ID,
            SECRET,
            keys().signing_pem.clone(),
            SITE,
            vec![ORIGIN.into(), ORIGIN_PREVIOUS.into()],
        )
    }

    pub fn app(&self) -> App {
        App::new(self.settings()).expect("valid settings")
    }

    /// Standard claims for a valid token from this IdP.
    pub fn claims(&self, sub: &str) -> Value {
        let now = now();
        json!({"iss": self.issuer, "sub": sub, "aud": CLIENT_ID, "exp": now + 300, "iat": now,
               "nbf": now - 5})
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Signs `claims` with the named test key ("rsa", "ec", "ed", "ec2") under `kid`.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let k = keys();
    let key = match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::PS256 => {
            EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()).unwrap()
        }
        Algorithm::ES256 => EncodingKey::from_ec_pem(k.ec_pem.as_bytes()).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(k.ed_pem.as_bytes()).unwrap(),
        Algorithm::HS256 | Algorithm::HS512 => {
            EncodingKey::from_secret(rsa_key().public_pem.as_bytes())
        }
        other => panic!("no test key for {other:?}"),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

pub fn sign_with_pem(alg: Algorithm, pem: &str, kid: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// An RS256 token under `rsa-1` over payload JSON given as text, for payloads a
/// `Value` cannot hold (a duplicate claim).
pub fn sign_rs256_text(payload: &str) -> String {
    let message = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"RS256","kid":"rsa-1"}"#),
        B64.encode(payload)
    );
    let key = EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()).unwrap();
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::RS256).unwrap();
    format!("{message}.{sig}")
}

/// A token from raw header and payload JSON with the given signature bytes.
pub fn raw(header: &str, payload: &str, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header),
        B64.encode(payload),
        B64.encode(sig)
    )
}

pub fn request(method: &str, uri: &str, token: Option<&str>, body: Option<Value>) -> Request {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("x-origin-verify", ORIGIN);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let body = body.map_or(Body::Empty, |v| Body::from(v.to_string()));
    b.body(body).unwrap()
}

/// Status and JSON body (Null when empty).
pub async fn call(app: &App, req: Request) -> (u16, Value) {
    let resp: Response<Body> = app.handle(req).await;
    let status = resp.status().as_u16();
    let bytes = resp.body().as_ref();
    if bytes.is_empty() {
        return (status, Value::Null);
    }
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "status {status} without a JSON content type"
    );
    (status, serde_json::from_slice(bytes).expect("JSON body"))
}

pub fn sleep(ms: u64) -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(ms))
}
