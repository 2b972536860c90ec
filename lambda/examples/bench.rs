//! Verify-and-derive benchmark with the JWKS cached: times `App::handle` on
//! `/api/color` per algorithm, sequentially on one thread, and writes the keys
//! and tokens to a directory so `bench/jose.mjs` and `bench/peers.mjs` can do
//! the same work in Node. Run by scripts/bench-function. Three rows per algorithm:
//! - `rust`: first sight, every token new to the verified-token cache (the
//!   tokens cycle through more than it holds, so each one is verified in full);
//! - `rust-repeated`: one token again and again, as a signed-in user's calls are;
//! - `floor`: the bare signature check of the same tokens, in the same order,
//!   with the same crypto library (jsonwebtoken's aws-lc-rs verifier, key
//!   already decoded);
//! - `floor-one`: the same check of one token again and again (the floor of
//!   earlier runs): its bytes and the curve's tables stay in the CPU's caches,
//!   which 2,049 distinct tokens do not allow.
//!
//! Usage: bench <out-dir> <iterations>

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::Instant;

use colorid_lambda::App;
use colorid_lambda::token_cache::CAPACITY;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// Distinct tokens per algorithm for the first-sight rows: more than the
/// cache holds, so cycling through them never meets one still cached.
const DISTINCT: usize = 2 * CAPACITY + 1;

fn percentile(sorted: &[u128], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).expect("usage: bench <out-dir> <iterations>"));
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    std::fs::create_dir_all(&out).unwrap();

    let idp = Idp::standard().await;
    let app = idp.app();
    let k = keys();
    let tokens = [
        (
            "RS256",
            sign(Algorithm::RS256, Some("rsa-1"), &idp.claims("alice")),
        ),
        (
            "ES256",
            sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice")),
        ),
        (
            "EdDSA",
            sign(Algorithm::EdDSA, Some("ed-1"), &idp.claims("alice")),
        ),
    ];
    let fixture = json!({
        "issuer": idp.issuer, "client_id": CLIENT_ID, "secret": SECRET,
        "jwks": {"keys": [rsa_key().jwk, k.ec_jwk, k.ed_jwk]},
        "tokens": tokens.iter().map(|(a, t)| json!({"alg": a, "token": t})).collect::<Vec<_>>(),
        "iterations": n,
    });
    std::fs::write(out.join("fixture.json"), fixture.to_string()).unwrap();

    for (alg, token) in &tokens {
        let fresh = distinct(&idp, alg);
        let hits = app.verified_token_hits();
        println!("{}", time(&app, "rust", alg, &fresh, n).await);
        assert_eq!(
            app.verified_token_hits(),
            hits,
            "every first-sight token was a miss"
        );
        println!(
            "{}",
            time(&app, "rust-repeated", alg, std::slice::from_ref(token), n).await
        );
        assert!(
            app.verified_token_hits() >= hits + n as u64,
            "the repeated token was a hit"
        );
        println!("{}", floor("floor", alg, &fresh, n));
        println!(
            "{}",
            floor("floor-one", alg, std::slice::from_ref(token), n)
        );
    }
    assert_eq!(app.jwks_fetch_count(), 1, "the JWKS stayed cached");
}

/// `n` requests through `App::handle`, cycling through `tokens`.
async fn time(app: &App, name: &str, alg: &str, tokens: &[String], n: usize) -> serde_json::Value {
    let mut cycle = tokens.iter().cycle();
    // Warm up (which also fills the JWKS cache), past the end of the cycle.
    for _ in 0..200.max(tokens.len()) {
        let resp = app
            .handle(request(
                "GET",
                "/api/color",
                cycle.next().map(String::as_str),
                None,
            ))
            .await;
        assert_eq!(resp.status(), 200);
    }
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let token = cycle.next();
        let t = Instant::now();
        let resp = app
            .handle(request(
                "GET",
                "/api/color",
                token.map(String::as_str),
                None,
            ))
            .await;
        times.push(t.elapsed().as_nanos());
        assert_eq!(resp.status(), 200);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_unstable();
    json!({"impl": name, "alg": alg, "ops_per_s": (n as f64 / total).round(),
           "p50_us": percentile(&times, 0.50), "p99_us": percentile(&times, 0.99)})
}

/// [`DISTINCT`] tokens of one algorithm, one per user.
fn distinct(idp: &Idp, alg: &str) -> Vec<String> {
    let (algorithm, kid, key) = match alg {
        "RS256" => (
            Algorithm::RS256,
            "rsa-1",
            EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()),
        ),
        "ES256" => (
            Algorithm::ES256,
            "ec-1",
            EncodingKey::from_ec_pem(keys().ec_pem.as_bytes()),
        ),
        _ => (
            Algorithm::EdDSA,
            "ed-1",
            EncodingKey::from_ed_pem(keys().ed_pem.as_bytes()),
        ),
    };
    let key = key.expect("a test key");
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.into());
    (0..DISTINCT)
        .map(|i| {
            let claims = idp.claims(&format!("user-{i:05}"));
            jsonwebtoken::encode(&header, &claims, &key).expect("signed")
        })
        .collect()
}

/// The bare signature check of `tokens` in turn, `n` times: what no verifier can skip.
fn floor(name: &str, alg: &str, tokens: &[String], n: usize) -> serde_json::Value {
    let split: Vec<(&str, &str)> = tokens
        .iter()
        .map(|t| t.rsplit_once('.').expect("a JWT"))
        .collect();
    let header = jsonwebtoken::decode_header(&tokens[0]).expect("a JWT header");
    let jwk = match alg {
        "RS256" => rsa_key().jwk.clone(),
        "ES256" => keys().ec_jwk.clone(),
        _ => keys().ed_jwk.clone(),
    };
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).expect("a JWK");
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a key");
    let verify = |(message, signature): &(&str, &str)| {
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg)
    };
    let mut cycle = split.iter().cycle();
    for _ in 0..200.max(split.len()) {
        assert!(verify(cycle.next().unwrap()).expect("verifies"));
    }
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let next = cycle.next().unwrap();
        let t = Instant::now();
        let ok = verify(next);
        times.push(t.elapsed().as_nanos());
        assert!(matches!(ok, Ok(true)));
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_unstable();
    json!({"impl": name, "alg": alg, "ops_per_s": (n as f64 / total).round(),
           "p50_us": percentile(&times, 0.50), "p99_us": percentile(&times, 0.99)})
}
