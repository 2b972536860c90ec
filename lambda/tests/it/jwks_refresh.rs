//! The issuer's keys are refreshed after the JWKS response's max-age, and a
//! discovery document naming another issuer is refused (issue 13, item 5).

use crate::common;

use std::time::Duration;

use colorid_lambda::App;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

fn app(idp: &Idp) -> App {
    let mut s = idp.settings();
    s.jwks_refetch_penalty = Duration::from_millis(100);
    App::new(s).unwrap()
}

#[tokio::test]
async fn a_withdrawn_key_stops_verifying_once_the_jwks_max_age_has_passed() {
    let idp = Idp::start(vec![keys().ec_jwk.clone()]).await;
    *idp.max_age.lock().unwrap() = Some(1);
    let app = app(&idp);
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("u"));
    let color = || request("GET", "/api/color", Some(&token), None);
    assert_eq!(call(&app, color()).await.0, 200);
    // The issuer withdraws ec-1 (say it leaked) and publishes ec-2.
    idp.jwks.lock().unwrap()["keys"] = json!([keys().ec2_jwk.clone()]);
    // Within the max-age the cached keys serve without a fetch.
    assert_eq!(call(&app, color()).await.0, 200);
    assert_eq!(idp.fetches(), 1);
    sleep(1100).await;
    let (status, body) = call(&app, color()).await;
    assert_eq!((status, &body["reason"]), (401, &json!("unknown_kid")));
    assert_eq!(idp.fetches(), 2);
}

#[tokio::test]
async fn keys_are_not_refetched_within_their_max_age() {
    let idp = Idp::fast().await;
    *idp.max_age.lock().unwrap() = Some(3600);
    let app = app(&idp);
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("u"));
    for _ in 0..3 {
        assert_eq!(
            call(&app, request("GET", "/api/color", Some(&token), None))
                .await
                .0,
            200
        );
        sleep(150).await;
    }
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let idp = Idp::fast().await;
    *idp.discovery_issuer.lock().unwrap() = Some("https://evil.example".into());
    let app = app(&idp);
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("u"));
    let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
    assert_eq!((status, &body["code"]), (503, &json!("issuer_unavailable")));
    assert_eq!(idp.fetches(), 0, "the JWKS is not even fetched");
    // A trailing slash is a different issuer too (Discovery 4.3: identical).
    *idp.discovery_issuer.lock().unwrap() = Some(format!("{}/", idp.issuer));
    sleep(150).await;
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&token), None))
            .await
            .0,
        503
    );
    *idp.discovery_issuer.lock().unwrap() = None;
    sleep(150).await;
    assert_eq!(
        call(&app, request("GET", "/api/color", Some(&token), None))
            .await
            .0,
        200
    );
}

/// Once the keys' max-age has passed, a refetch that fails leaves the cached keys
/// serving (the issuer is down, its keys are not withdrawn), except when the
/// discovery document names another issuer: then nothing it published is used.
#[tokio::test]
async fn stale_keys_serve_while_the_issuer_is_down_but_not_once_it_names_another() {
    let idp = Idp::fast().await;
    *idp.max_age.lock().unwrap() = Some(1);
    let app = app(&idp);
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("u"));
    let color = || request("GET", "/api/color", Some(&token), None);
    assert_eq!(call(&app, color()).await.0, 200);
    sleep(1100).await;
    idp.broken.store(true, std::sync::atomic::Ordering::SeqCst);
    // A token not seen before (a cached one would be looked up twice: a miss
    // after the failed refetch lands in its penalty period, which serves stale keys).
    let new = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("v"));
    let (status, body) = call(&app, request("GET", "/api/color", Some(&new), None)).await;
    assert_eq!(status, 200, "the stale keys serve: {body}");
    idp.broken.store(false, std::sync::atomic::Ordering::SeqCst);
    *idp.discovery_issuer.lock().unwrap() = Some("https://evil.example".into());
    sleep(150).await;
    let (status, body) = call(&app, color()).await;
    assert_eq!((status, &body["code"]), (503, &json!("issuer_unavailable")));
    // Nor within the penalty period after that refusal (the keys were dropped).
    let (status, body) = call(&app, color()).await;
    assert_eq!((status, &body["code"]), (503, &json!("issuer_unavailable")));
    *idp.discovery_issuer.lock().unwrap() = None;
    sleep(150).await;
    assert_eq!(call(&app, color()).await.0, 200);
}

/// A JWKS of up to 256 KiB is read; one byte more and the issuer's keys are
/// unavailable (a document without bound is never buffered).
#[tokio::test]
async fn a_jwks_is_read_up_to_256_kib() {
    const LIMIT: usize = 256 * 1024;
    let padded = |len: usize| {
        let mut doc = json!({"keys": [keys().ec_jwk.clone()], "pad": ""});
        let pad = len - doc.to_string().len();
        doc["pad"] = json!("x".repeat(pad));
        assert_eq!(doc.to_string().len(), len);
        doc
    };
    for (len, status) in [(LIMIT, 200), (LIMIT + 1, 503)] {
        let idp = Idp::fast().await;
        *idp.jwks.lock().unwrap() = padded(len);
        let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("u"));
        let (got, body) = call(&app(&idp), request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(got, status, "{len} bytes: {body}");
    }
}
