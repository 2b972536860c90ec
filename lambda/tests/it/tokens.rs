//! Identity token verification through the handler, with a JWKS served on 127.0.0.1.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use colorid_lambda::App;
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::Sha256;

/// The identity and colour computed here, independently of the library.
fn expected(iss: &str, sub: &str) -> (String, u64) {
    let mac = |msg: String| {
        let mut m = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        m.update(msg.as_bytes());
        m.finalize().into_bytes()
    };
    let user = B64.encode(mac(format!("user|{iss}|{sub}")))[..22].to_string();
    let c = mac(format!("color|{iss}|{sub}"));
    (
        user,
        (u64::from(c[0]) << 16) | (u64::from(c[1]) << 8) | u64::from(c[2]),
    )
}

#[tokio::test]
async fn valid_tokens_of_each_algorithm_give_identity_and_colour() {
    let idp = Idp::standard().await;
    let app = idp.app();
    let (user, color) = expected(&idp.issuer, "alice");
    for (alg, kid) in [
        (Algorithm::RS256, "rsa-1"),
        (Algorithm::ES256, "ec-1"),
        (Algorithm::EdDSA, "ed-1"),
    ] {
        let token = sign(alg, Some(kid), &idp.claims("alice"));
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(body["yourUserIdentity"], json!(user));
        assert_eq!(body["yourColorIdentity"], json!(color));
        assert_eq!(body["level"], Value::Null);
    }
    // One fetch served all three algorithms.
    assert_eq!(idp.fetches(), 1);
    let (other_user, _) = expected(&idp.issuer, "bob");
    let token = sign(Algorithm::RS256, Some("rsa-1"), &idp.claims("bob"));
    let (_, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!(body["yourUserIdentity"], json!(other_user));
    assert_ne!(other_user, user);
}

/// A token without `kid` verifies with the one published key that fits its
/// algorithm; when two fit, it is refused (`missing_kid`), never tried with each.
#[tokio::test]
async fn a_token_without_kid_uses_the_one_key_that_fits() {
    let idp = Idp::standard().await;
    let app = idp.app();
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = sign(alg, None, &idp.claims("alice"));
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
    }
    let k = keys();
    let two = Idp::start(vec![k.ec_jwk.clone(), k.ec2_jwk.clone()]).await;
    let token = sign(Algorithm::ES256, None, &two.claims("alice"));
    let (status, body) = call(&two.app(), request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!(
        (status, &body["reason"]),
        (401, &json!("missing_kid")),
        "{body}"
    );
}

/// A token of exactly the size limit verifies (the limit is inclusive); the
/// table of bad tokens has one over it.
#[tokio::test]
async fn a_token_of_exactly_the_size_limit_verifies() {
    use colorid_lambda::token::MAX_TOKEN_BYTES;
    let idp = Idp::fast().await;
    let app = idp.app();
    // base64url cannot make every length from a payload alone: vary the header too.
    let token = [Some("JWT".to_string()), None]
        .into_iter()
        .flat_map(|typ| (5_000..MAX_TOKEN_BYTES).map(move |pad| (typ.clone(), pad)))
        .map(|(typ, pad)| {
            let mut claims = idp.claims("alice");
            claims["pad"] = json!("x".repeat(pad));
            let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
            header.kid = Some("ec-1".into());
            header.typ = typ;
            let key = jsonwebtoken::EncodingKey::from_ec_pem(keys().ec_pem.as_bytes()).unwrap();
            jsonwebtoken::encode(&header, &claims, &key).unwrap()
        })
        .find(|t| t.len() == MAX_TOKEN_BYTES)
        .expect("a token of exactly the limit");
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!(status, 200, "{body}");
}

/// Every RSA algorithm verifies when the stack allows it and the key does not pin
/// one (a JWK without `alg`): each is parsed with its own hash and padding.
#[tokio::test]
async fn every_allowed_rsa_algorithm_verifies_with_an_unpinned_key() {
    let idp = Idp::standard().await;
    let mut jwk = rsa_key().jwk.clone();
    jwk["kid"] = json!("rsa-any");
    jwk.as_object_mut().unwrap().remove("alg");
    idp.publish(jwk);
    let mut settings = idp.settings();
    let all = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ];
    settings.algorithms = all.iter().map(|a| format!("{a:?}")).collect();
    let app = App::new(settings).expect("valid settings");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()).unwrap();
    for alg in all {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some("rsa-any".into());
        let token = jsonwebtoken::encode(&header, &idp.claims("alice"), &key).unwrap();
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        // The same signature under another algorithm of the family is refused.
        let other = if alg == Algorithm::RS256 {
            "RS384"
        } else {
            "RS256"
        };
        let parts: Vec<&str> = token.split('.').collect();
        let relabelled = format!(
            "{}.{}.{}",
            B64.encode(format!(r#"{{"alg":"{other}","kid":"rsa-any"}}"#)),
            parts[1],
            parts[2]
        );
        let (status, _) = call(&app, request("GET", "/api/color", Some(&relabelled), None)).await;
        assert_eq!(status, 401, "{alg:?} relabelled {other}");
    }
}

/// ES384 with a P-384 key (no fixture holds one: made here with aws-lc-rs).
#[tokio::test]
async fn es384_verifies_when_allowed() {
    use aws_lc_rs::signature::{ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 97, "uncompressed P-384 point");
    let idp = Idp::standard().await;
    idp.publish(
        json!({"kty": "EC", "crv": "P-384", "kid": "ec384", "use": "sig",
        "x": B64.encode(&point[1..49]), "y": B64.encode(&point[49..])}),
    );
    let mut settings = idp.settings();
    settings.algorithms = vec!["ES384".into()];
    let app = App::new(settings).expect("valid settings");
    let mut header = jsonwebtoken::Header::new(Algorithm::ES384);
    header.kid = Some("ec384".into());
    let key = jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref());
    let token = jsonwebtoken::encode(&header, &idp.claims("alice"), &key).unwrap();
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bare_token_and_leeway_are_accepted() {
    let idp = Idp::standard().await;
    let app = idp.app();
    let mut claims = idp.claims("alice");
    claims["exp"] = json!(now() - 10); // within the default 30 s leeway
    let token = sign(Algorithm::ES256, Some("ec-1"), &claims);
    let req = http::Request::builder()
        .uri("/api/color")
        .header("x-origin-verify", ORIGIN)
        .header("authorization", token)
        .body(lambda_http::Body::Empty)
        .unwrap();
    let (status, body) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    // A NumericDate may be fractional (RFC 7519, section 2).
    claims["exp"] = json!(now() as f64 + 300.5);
    let token = sign(Algorithm::ES256, Some("ec-1"), &claims);
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!(status, 200, "{body}");
}

/// The leeway's edges are inclusive: `exp` exactly the leeway ago and `nbf`
/// exactly the leeway ahead still verify; a second further does not.
#[tokio::test]
async fn the_leeway_edges_are_inclusive() {
    let idp = Idp::standard().await;
    let app = idp.app();
    const LEEWAY: u64 = 30; // the default
    for (claim, offset, want) in [
        ("exp", -(LEEWAY as i64), 200),
        ("exp", -(LEEWAY as i64) - 1, 401),
        ("nbf", LEEWAY as i64, 200),
        ("nbf", LEEWAY as i64 + 1, 401),
    ] {
        // The check reads the clock in whole seconds: retry when it ticked meanwhile.
        loop {
            let t0 = now();
            let mut claims = idp.claims(&format!("user-{claim}{offset}"));
            claims[claim] = json!(t0.saturating_add_signed(offset));
            let token = sign(Algorithm::ES256, Some("ec-1"), &claims);
            let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
            if now() == t0 {
                assert_eq!(status, want, "{claim} {offset:+}: {body}");
                break;
            }
        }
    }
}

/// Builds the table of bad tokens; each entry is (description, token, reason code).
fn bad_tokens(idp: &Idp) -> Vec<(&'static str, String, &'static str)> {
    let k = keys();
    let good = idp.claims("mallory");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        c
    };
    let rs = |c: &Value| sign(Algorithm::RS256, Some("rsa-1"), c);
    let valid = rs(&good);
    let parts: Vec<&str> = valid.split('.').collect();
    let payload = B64.encode(good.to_string());
    let tampered = {
        let evil = with(&|c| c["sub"] = json!("admin"));
        format!("{}.{}.{}", parts[0], B64.encode(evil.to_string()), parts[2])
    };
    let mut flipped_sig = parts[2].to_string().into_bytes();
    flipped_sig[10] = if flipped_sig[10] == b'A' { b'B' } else { b'A' };
    let flipped_sig = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(flipped_sig).unwrap()
    );
    let signed_attrs = colorid_lambda::signing::Signer::from_pem(&k.signing_pem, SITE)
        .unwrap()
        .sign("u", vec![json!({"name": "Email"})], now())
        .unwrap();

    vec![
        (
            "alg none",
            raw(r#"{"alg":"none","kid":"rsa-1"}"#, &good.to_string(), b""),
            "alg_not_allowed",
        ),
        (
            "alg None",
            raw(r#"{"alg":"None"}"#, &good.to_string(), b""),
            "alg_not_allowed",
        ),
        (
            "HS256 with the RSA public key as secret",
            sign(Algorithm::HS256, Some("rsa-1"), &good),
            "alg_not_allowed",
        ),
        (
            "HS256 without kid",
            sign(Algorithm::HS256, None, &good),
            "alg_not_allowed",
        ),
        (
            "HS512",
            sign(Algorithm::HS512, Some("rsa-1"), &good),
            "alg_not_allowed",
        ),
        (
            "RS384 not on the allow-list",
            sign(Algorithm::RS384, Some("rsa-1"), &good),
            "alg_not_allowed",
        ),
        (
            "PS256 not on the allow-list",
            sign(Algorithm::PS256, Some("rsa-1"), &good),
            "alg_not_allowed",
        ),
        (
            "RS256 naming the EC key",
            sign(Algorithm::RS256, Some("ec-1"), &good),
            "key_alg_mismatch",
        ),
        (
            "ES256 naming the RSA key",
            sign(Algorithm::ES256, Some("rsa-1"), &good),
            "key_alg_mismatch",
        ),
        (
            "EdDSA naming the EC key",
            sign(Algorithm::EdDSA, Some("ec-1"), &good),
            "key_alg_mismatch",
        ),
        (
            // ed-1 pins no `alg`: its key type alone refuses another algorithm.
            "RS256 naming the Ed25519 key",
            sign(Algorithm::RS256, Some("ed-1"), &good),
            "key_alg_mismatch",
        ),
        (
            "unknown kid",
            sign(Algorithm::RS256, Some("nobody"), &good),
            "unknown_kid",
        ),
        (
            "signed by another EC key under ec-1",
            sign_with_pem(Algorithm::ES256, &k.ec2_pem, "ec-1", &good),
            "bad_signature",
        ),
        ("payload changed after signing", tampered, "bad_signature"),
        ("signature changed", flipped_sig, "bad_signature"),
        (
            "signature stripped",
            format!("{}.{}.", parts[0], parts[1]),
            "bad_signature",
        ),
        (
            "expired",
            rs(&with(&|c| c["exp"] = json!(now() - 120))),
            "expired",
        ),
        (
            "nbf in the future",
            rs(&with(&|c| c["nbf"] = json!(now() + 300))),
            "not_yet_valid",
        ),
        (
            "iat in the future",
            rs(&with(&|c| c["iat"] = json!(now() + 300))),
            "issued_in_future",
        ),
        (
            "wrong iss",
            rs(&with(&|c| c["iss"] = json!("https://evil.example.com"))),
            "wrong_issuer",
        ),
        (
            "iss with a trailing slash",
            rs(&with(&|c| c["iss"] = json!(format!("{}/", idp.issuer)))),
            "wrong_issuer",
        ),
        (
            "iss as an array",
            rs(&with(&|c| c["iss"] = json!([idp.issuer]))),
            "invalid_iss",
        ),
        (
            "iss as an array of another issuer",
            rs(&with(&|c| c["iss"] = json!(["https://evil.example.com"]))),
            "wrong_issuer",
        ),
        (
            "missing iss",
            rs(&with(&|c| {
                c.as_object_mut().unwrap().remove("iss");
            })),
            "missing_iss",
        ),
        (
            "wrong aud",
            rs(&with(&|c| c["aud"] = json!("other-client"))),
            "wrong_audience",
        ),
        (
            "aud array without us",
            rs(&with(&|c| c["aud"] = json!(["a", "b"]))),
            "wrong_audience",
        ),
        (
            "missing aud",
            rs(&with(&|c| {
                c.as_object_mut().unwrap().remove("aud");
            })),
            "missing_aud",
        ),
        (
            // Present only as a string or an array of strings (as jsonwebtoken read it).
            "aud as a number",
            rs(&with(&|c| c["aud"] = json!(42))),
            "missing_aud",
        ),
        (
            "aud with a number beside the client",
            rs(&with(&|c| c["aud"] = json!([CLIENT_ID, 1]))),
            "missing_aud",
        ),
        (
            "several audiences and no azp",
            rs(&with(&|c| c["aud"] = json!([CLIENT_ID, "other"]))),
            "missing_azp",
        ),
        (
            "azp mismatch",
            rs(&with(&|c| c["azp"] = json!("other-client"))),
            "wrong_azp",
        ),
        (
            "azp as a number",
            rs(&with(&|c| c["azp"] = json!(7))),
            "invalid_azp",
        ),
        (
            "missing exp",
            rs(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
            "missing_exp",
        ),
        (
            "exp as a string",
            rs(&with(&|c| c["exp"] = json!((now() + 300).to_string()))),
            "invalid_exp",
        ),
        (
            "exp as a string in the past",
            rs(&with(&|c| c["exp"] = json!("1"))),
            "invalid_exp",
        ),
        (
            // Not rounded into 0 (which would read as long expired).
            "exp a negative fraction",
            rs(&with(&|c| c["exp"] = json!(-1.5))),
            "invalid_exp",
        ),
        (
            "exp past the largest NumericDate",
            rs(&with(&|c| c["exp"] = json!(u64::MAX as f64))),
            "invalid_exp",
        ),
        (
            "nbf as a string",
            rs(&with(&|c| c["nbf"] = json!("0"))),
            "invalid_nbf",
        ),
        (
            "iat as a string",
            rs(&with(&|c| c["iat"] = json!("0"))),
            "invalid_iat",
        ),
        (
            "missing sub",
            rs(&with(&|c| {
                c.as_object_mut().unwrap().remove("sub");
            })),
            "missing_sub",
        ),
        (
            "sub as a number",
            rs(&with(&|c| c["sub"] = json!(42))),
            "invalid_sub",
        ),
        (
            "empty sub",
            rs(&with(&|c| c["sub"] = json!(""))),
            "invalid_sub",
        ),
        (
            "9 KiB token",
            rs(&with(&|c| c["pad"] = json!("x".repeat(9 * 1024)))),
            "token_too_large",
        ),
        (
            "broken base64 in the header",
            format!("{}*.{}.{}", parts[0], parts[1], parts[2]),
            "malformed_token",
        ),
        (
            "broken base64 in the payload",
            format!("{}.{}=.{}", parts[0], parts[1], parts[2]),
            "malformed_token",
        ),
        (
            "header that is not base64 of anything",
            format!("A.{}.{}", parts[1], parts[2]),
            "malformed_token",
        ),
        (
            "two parts",
            format!("{}.{}", parts[0], parts[1]),
            "malformed_token",
        ),
        ("four parts", format!("{valid}.xyz"), "malformed_token"),
        (
            "empty payload part",
            format!("{}..{}", parts[0], parts[2]),
            "malformed_token",
        ),
        (
            "a claim given twice",
            sign_rs256_text(&format!(
                r#"{},"sub":"admin"}}"#,
                good.to_string().strip_suffix('}').unwrap()
            )),
            "malformed_payload",
        ),
        (
            "JSON array as payload",
            rs(&json!([good.clone()])),
            "malformed_payload",
        ),
        (
            "header not JSON",
            format!("{}.{payload}.{}", B64.encode("not json"), parts[2]),
            "malformed_header",
        ),
        (
            "header a JSON array",
            raw(r#"["RS256"]"#, &good.to_string(), b"x"),
            "malformed_header",
        ),
        (
            "kid as a number",
            raw(r#"{"alg":"RS256","kid":5}"#, &good.to_string(), b"x"),
            "malformed_header",
        ),
        (
            "crit header",
            raw(
                r#"{"alg":"RS256","kid":"rsa-1","crit":["exp"]}"#,
                &good.to_string(),
                b"x",
            ),
            "malformed_header",
        ),
        (
            "signed attributes sent as identity token",
            signed_attrs,
            "wrong_token_type",
        ),
    ]
}

#[tokio::test]
async fn bad_tokens_get_401_with_their_reason_code() {
    let idp = Idp::standard().await;
    let app = idp.app();
    let table = bad_tokens(&idp);
    assert!(table.len() >= 30);
    let mut wrong = Vec::new();
    for (what, token, code) in &table {
        let (status, body) = call(&app, request("GET", "/api/color", Some(token), None)).await;
        if status != 401 || body["reason"] != json!(code) || body["code"] != json!("invalid_token")
        {
            wrong.push(format!("{what}: expected 401 {code}, got {status} {body}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn missing_or_unusable_authorization_is_401() {
    let idp = Idp::standard().await;
    let app = idp.app();
    for auth in [None, Some("Bearer "), Some("Basic dXNlcjpwYXNz")] {
        let mut b = http::Request::builder()
            .uri("/api/color")
            .header("x-origin-verify", ORIGIN);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let (status, body) = call(&app, b.body(lambda_http::Body::Empty).unwrap()).await;
        assert_eq!(
            (status, &body["reason"]),
            (401, &json!("missing_token")),
            "{auth:?}"
        );
    }
    // No key was needed, so none was fetched.
    assert_eq!(idp.fetches(), 0);
}

#[tokio::test]
async fn newly_published_key_verifies_after_exactly_one_refetch() {
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.jwks_refetch_penalty = Duration::from_millis(200);
    let app = App::new(settings).unwrap();
    let first = sign(Algorithm::RS256, Some("rsa-1"), &idp.claims("alice"));
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&first), None))
            .await
            .0,
        200
    );
    assert_eq!(idp.fetches(), 1);

    sleep(250).await;
    idp.publish(keys().ec2_jwk.clone());
    let rotated = sign_with_pem(
        Algorithm::ES256,
        &keys().ec2_pem,
        "ec-2",
        &idp.claims("alice"),
    );
    let (status, body) = call(&app, request("GET", "/api/color", Some(&rotated), None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(idp.fetches(), 2);
    // Cached from now on.
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&rotated), None))
            .await
            .0,
        200
    );
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&first), None))
            .await
            .0,
        200
    );
    assert_eq!(idp.fetches(), 2);
    assert_eq!(app.jwks_fetch_count(), 2);
}

/// Requests that waited while another fetched the keys use what it fetched: a
/// burst of first requests makes one fetch even with no penalty period at all.
#[tokio::test]
async fn requests_waiting_on_a_fetch_use_its_keys() {
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.jwks_refetch_penalty = Duration::ZERO;
    let app = Arc::new(App::new(settings).unwrap());
    let good = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (app, good) = (app.clone(), good.clone());
        set.spawn(async move { call(&app, request("GET", "/api/color", Some(&good), None)).await });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().0, 200);
    }
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn burst_of_unknown_kids_fetches_at_most_once_per_penalty_period() {
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.jwks_refetch_penalty = Duration::from_millis(500);
    let app = Arc::new(App::new(settings).unwrap());
    let good = sign(Algorithm::RS256, Some("rsa-1"), &idp.claims("alice"));
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&good), None))
            .await
            .0,
        200
    );
    assert_eq!(idp.fetches(), 1);

    // Within the penalty period: no fetch at all.
    let burst = |n: usize| {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let app = app.clone();
            // The kid is looked up before the signature is checked, so no signature is needed.
            let header = format!(r#"{{"alg":"RS256","kid":"flood-{i}"}}"#);
            let token = raw(&header, &idp.claims("x").to_string(), b"sig");
            set.spawn(
                async move { call(&app, request("GET", "/api/color", Some(&token), None)).await },
            );
        }
        set
    };
    let mut set = burst(50);
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!((status, &body["reason"]), (401, &json!("unknown_kid")));
    }
    assert_eq!(idp.fetches(), 1);

    // After the period: one fetch for the whole burst.
    sleep(550).await;
    let mut set = burst(50);
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().0, 401);
    }
    assert_eq!(idp.fetches(), 2);
    // Known keys keep working during the penalty.
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&good), None))
            .await
            .0,
        200
    );
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn unreachable_issuer_keys_give_503_not_500() {
    let idp = Idp::standard().await;
    idp.broken.store(true, std::sync::atomic::Ordering::SeqCst);
    let app = idp.app();
    let token = sign(Algorithm::RS256, Some("rsa-1"), &idp.claims("alice"));
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!((status, &body["code"]), (503, &json!("issuer_unavailable")));
}

#[tokio::test]
async fn assurance_level_is_mapped_and_enforced() {
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.required_level = Some("AAL2".into());
    settings.level_map = [("urn:example:mfa".to_string(), "AAL2".to_string())].into();
    let app = App::new(settings).unwrap();
    let token_with = |acr: Option<&str>| {
        let mut c = idp.claims("alice");
        if let Some(a) = acr {
            c["acr"] = json!(a);
        }
        sign(Algorithm::ES256, Some("ec-1"), &c)
    };
    let (status, body) = call(
        &app,
        request(
            "GET",
            "/api/color",
            Some(&token_with(Some("urn:example:mfa"))),
            None,
        ),
    )
    .await;
    assert_eq!((status, &body["level"]), (200, &json!("AAL2")));
    let (status, body) = call(
        &app,
        request("GET", "/api/color", Some(&token_with(Some("AAL3"))), None),
    )
    .await;
    assert_eq!((status, &body["level"]), (200, &json!("AAL3")));
    for acr in [Some("AAL1"), Some("urn:unknown"), None] {
        let (status, body) = call(
            &app,
            request("GET", "/api/color", Some(&token_with(acr)), None),
        )
        .await;
        // RFC 9470: step-up is a 401, never a status the distribution maps.
        assert_eq!(status, 401, "{acr:?}");
        assert_eq!(
            body,
            json!({"code": "insufficient_assurance", "required": "AAL2"})
        );
    }
    // Attributes are guarded the same way.
    let uri = "/api/attributes?self_asserted_attributes=UserId";
    let (status, _) = call(
        &app,
        request("GET", uri, Some(&token_with(Some("AAL1"))), None),
    )
    .await;
    assert_eq!(status, 401);
}
