#[path = "../tests/it/common/mod.rs"]
mod common;
use colorid_lambda::jwks::JwksCache;
use colorid_lambda::token::Verifier;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let idp = Idp::standard().await;
    let app = idp.app();
    let v = Verifier::new(
        &idp.issuer,
        CLIENT_ID,
        30,
        vec!["RS256".into(), "ES256".into(), "EdDSA".into()],
        JwksCache::new(&idp.issuer, Duration::from_secs(1)).unwrap(),
    );
    for (alg, kid, key) in [
        (
            Algorithm::EdDSA,
            "ed-1",
            EncodingKey::from_ed_pem(keys().ed_pem.as_bytes()).unwrap(),
        ),
        (
            Algorithm::RS256,
            "rsa-1",
            EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()).unwrap(),
        ),
    ] {
        let mut h = Header::new(alg);
        h.kid = Some(kid.into());
        let toks: Vec<String> = (0..2049)
            .map(|i| jsonwebtoken::encode(&h, &idp.claims(&format!("user-{i:05}")), &key).unwrap())
            .collect();
        let split: Vec<(String, String)> = toks
            .iter()
            .map(|t| {
                let (m, s) = t.rsplit_once('.').unwrap();
                (m.to_string(), s.to_string())
            })
            .collect();
        let jwk = match alg {
            Algorithm::RS256 => rsa_key().jwk.clone(),
            _ => keys().ed_jwk.clone(),
        };
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
        let dk = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        for t in &toks {
            v.verify(t).await.unwrap();
            app.handle(request("GET", "/api/color", Some(t), None))
                .await;
        }
        let (mut a, mut b, mut c, mut d) = (0u128, 0u128, 0u128, 0u128);
        let (mut i, mut j, mut k, mut l) = (0usize, 0usize, 0usize, 0usize);
        for _ in 0..20 {
            for _ in 0..500 {
                let t = &toks[i % 2049];
                i += 1;
                let s = Instant::now();
                v.verify(t).await.unwrap();
                a += s.elapsed().as_nanos();
            }
            for _ in 0..500 {
                let (m, sg) = &split[j % 2049];
                j += 1;
                let s = Instant::now();
                assert!(jsonwebtoken::crypto::verify(sg, m.as_bytes(), &dk, alg).unwrap());
                b += s.elapsed().as_nanos();
            }
            for _ in 0..500 {
                let t = &toks[k % 2049];
                k += 1;
                let r = request("GET", "/api/color", Some(t), None);
                let s = Instant::now();
                let resp = app.handle(r).await;
                c += s.elapsed().as_nanos();
                assert_eq!(resp.status(), 200);
            }
            for _ in 0..500 {
                let t = &toks[l % 2049];
                l += 1;
                let s = Instant::now();
                let _ = colorid_lambda::token::parse_header(t).unwrap();
                d += s.elapsed().as_nanos();
            }
        }
        let f = |x: u128| x as f64 / 10000e3;
        println!(
            "{alg:?}: verify {:.2} us, floor {:.2} us, handle {:.2} us, parse_header {:.3} us",
            f(a),
            f(b),
            f(c),
            f(d)
        );
    }
}
