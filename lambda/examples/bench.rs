//! Verify-and-derive benchmark with the JWKS cached: times `App::handle` on
//! `/api/color` per algorithm, sequentially on one thread, and writes the keys
//! and tokens to a directory so `bench/jose.mjs` and `bench/peers.mjs` can do
//! the same work in Node. Run by scripts/bench-function. Four rows per algorithm:
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
//! Each row times its operations alone: a request is built before its clock
//! starts (Node's verifiers are handed the token, the floor its split parts),
//! and throughput is the count over the summed times. `rust` and `floor` run in
//! alternating blocks, so the machine's slow spells fall on both alike.
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
        // First sight and its floor in alternating blocks, so a slow spell of
        // the machine falls on both rows alike instead of on one of them.
        let mut rust = Handled::warm(&app, &fresh).await;
        let mut bare = Floor::warm(alg, &fresh);
        let (mut rust_times, mut floor_times) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for block in 0..BLOCKS {
            let size = n / BLOCKS + usize::from(block < n % BLOCKS);
            rust_times.extend(rust.times(size).await);
            floor_times.extend(bare.times(size));
        }
        println!("{}", row("rust", alg, rust_times));
        assert_eq!(
            app.verified_token_hits(),
            hits,
            "every first-sight token was a miss"
        );
        let mut repeated = Handled::warm(&app, std::slice::from_ref(token)).await;
        println!("{}", row("rust-repeated", alg, repeated.times(n).await));
        assert!(
            app.verified_token_hits() >= hits + n as u64,
            "the repeated token was a hit"
        );
        println!("{}", row("floor", alg, floor_times));
        let mut one = Floor::warm(alg, std::slice::from_ref(token));
        println!("{}", row("floor-one", alg, one.times(n)));
    }
    assert_eq!(app.jwks_fetch_count(), 1, "the JWKS stayed cached");
}

/// How many alternating blocks the first-sight rows and their floor are timed in.
const BLOCKS: usize = 20;

/// Requests through `App::handle`, cycling through tokens.
struct Handled<'a> {
    app: &'a App,
    cycle: std::iter::Cycle<std::slice::Iter<'a, String>>,
}

impl<'a> Handled<'a> {
    /// Warmed up (which also fills the JWKS cache) past the end of the cycle.
    async fn warm(app: &'a App, tokens: &'a [String]) -> Self {
        let mut handled = Handled {
            app,
            cycle: tokens.iter().cycle(),
        };
        handled.times(200.max(tokens.len())).await;
        handled
    }

    /// The time of each of the next `n` requests.
    async fn times(&mut self, n: usize) -> Vec<u128> {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            // The request is the harness's, built before the clock starts: the
            // Node rows are handed the token too, and the floor its split parts.
            let token = self.cycle.next().map(String::as_str);
            let req = request("GET", "/api/color", token, None);
            let t = Instant::now();
            let resp = self.app.handle(req).await;
            times.push(t.elapsed().as_nanos());
            assert_eq!(resp.status(), 200);
        }
        times
    }
}

/// Throughput (from the summed times of the requests themselves), p50 and p99.
fn row(name: &str, alg: &str, mut times: Vec<u128>) -> serde_json::Value {
    let total = times.iter().sum::<u128>() as f64 / 1e9;
    times.sort_unstable();
    json!({"impl": name, "alg": alg, "ops_per_s": (times.len() as f64 / total).round(),
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

/// The bare signature check of tokens in turn: what no verifier can skip.
struct Floor {
    split: Vec<(String, String)>,
    key: jsonwebtoken::DecodingKey,
    alg: Algorithm,
    next: usize,
}

impl Floor {
    /// The check of `tokens` with the algorithm's key, warmed up past the end of the cycle.
    fn warm(alg: &str, tokens: &[String]) -> Self {
        let split = tokens
            .iter()
            .map(|t| {
                let (message, signature) = t.rsplit_once('.').expect("a JWT");
                (message.to_string(), signature.to_string())
            })
            .collect();
        let header = jsonwebtoken::decode_header(&tokens[0]).expect("a JWT header");
        let jwk = match alg {
            "RS256" => rsa_key().jwk.clone(),
            "ES256" => keys().ec_jwk.clone(),
            _ => keys().ed_jwk.clone(),
        };
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).expect("a JWK");
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("a key");
        let mut floor = Floor {
            split,
            key,
            alg: header.alg,
            next: 0,
        };
        floor.times(200.max(tokens.len()));
        floor
    }

    /// The time of each of the next `n` checks.
    fn times(&mut self, n: usize) -> Vec<u128> {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let (message, signature) = &self.split[self.next];
            self.next = (self.next + 1) % self.split.len();
            let t = Instant::now();
            let ok =
                jsonwebtoken::crypto::verify(signature, message.as_bytes(), &self.key, self.alg);
            times.push(t.elapsed().as_nanos());
            assert!(matches!(ok, Ok(true)));
        }
        times
    }
}
