//! Verify-and-derive benchmark with the JWKS cached: times `App::handle` on
//! `/api/color` for one token per algorithm, sequentially on one thread, and
//! writes the keys and tokens to a directory so `bench/jose.mjs` can do the
//! same work with Node's `jose`. Run by scripts/bench-function.
//! Also times the floor: the bare signature check of each token with the same
//! crypto library (jsonwebtoken's aws-lc-rs verifier, key already parsed).
//!
//! Usage: bench <out-dir> <iterations>

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

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
        // Warm up, which also fills the JWKS cache.
        for _ in 0..200 {
            let resp = app
                .handle(request("GET", "/api/color", Some(token), None))
                .await;
            assert_eq!(resp.status(), 200);
        }
        let mut times = Vec::with_capacity(n);
        let start = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let resp = app
                .handle(request("GET", "/api/color", Some(token), None))
                .await;
            times.push(t.elapsed().as_nanos());
            assert_eq!(resp.status(), 200);
        }
        let total = start.elapsed().as_secs_f64();
        times.sort_unstable();
        println!(
            "{}",
            json!({"impl": "rust", "alg": alg, "ops_per_s": (n as f64 / total).round(),
                   "p50_us": percentile(&times, 0.50), "p99_us": percentile(&times, 0.99)})
        );
        println!("{}", floor(alg, token, n));
    }
    assert_eq!(app.jwks_fetch_count(), 1, "the JWKS stayed cached");
}

/// The bare signature check of `token`, `n` times: what no verifier can skip.
fn floor(alg: &str, token: &str, n: usize) -> serde_json::Value {
    let (message, signature) = token.rsplit_once('.').expect("a JWT");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    let jwk = match alg {
        "RS256" => rsa_key().jwk.clone(),
        "ES256" => keys().ec_jwk.clone(),
        _ => keys().ed_jwk.clone(),
    };
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).expect("a JWK");
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a key");
    let verify = || jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, header.alg);
    for _ in 0..200 {
        assert!(verify().expect("verifies"));
    }
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let ok = verify();
        times.push(t.elapsed().as_nanos());
        assert!(matches!(ok, Ok(true)));
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_unstable();
    json!({"impl": "floor", "alg": alg, "ops_per_s": (n as f64 / total).round(),
           "p50_us": percentile(&times, 0.50), "p99_us": percentile(&times, 0.99)})
}
