//! The verified-token cache (issue 28, item 1): a repeated token is served
//! from the cache with exactly what a full verification decides, and a hit is
//! refused as soon as the token has expired or its key left the JWKS; a
//! refused token is never cached. The settings-reload case is in `reload`.

use crate::common;

use std::time::Duration;

use colorid_lambda::App;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

const API: &str = "https://api.example.com";
const ATTRIBUTES: &str =
    "/api/attributes?self_asserted_attributes=Email,FamilyName,AuthenticationMethod";

fn app_with(idp: &Idp, edit: impl FnOnce(&mut colorid_lambda::Settings)) -> App {
    let mut s = idp.settings();
    s.jwks_refetch_penalty = Duration::from_millis(100);
    edit(&mut s);
    App::new(s).unwrap()
}

async fn get(app: &App, uri: &str, token: &str) -> (u16, Value) {
    call(app, request("GET", uri, Some(token), None)).await
}

#[tokio::test]
async fn a_hit_decides_what_a_full_verification_decides() {
    let idp = Idp::fast().await;
    let edit = |s: &mut colorid_lambda::Settings| {
        s.api_audience = Some(API.into());
        s.required_level = Some("AAL2".into());
        s.level_map = [("urn:example:mfa".to_string(), "AAL2".to_string())].into();
    };
    let now = now();
    let mut id = idp.claims("alice");
    // Several audiences and the azp that must then name the client.
    id["aud"] = json!([CLIENT_ID, "other-client"]);
    id["azp"] = json!(CLIENT_ID);
    id["acr"] = json!("urn:example:mfa");
    id["email"] = json!("ada@example.com");
    id["family_name"] = json!("Lovelace");
    id["amr"] = json!(["pwd", "otp"]);
    // An access token the way Cognito marks one.
    let access = json!({"iss": idp.issuer, "sub": "bob", "aud": API, "client_id": CLIENT_ID,
        "exp": now + 300, "iat": now, "token_use": "access", "acr": "AAL3"});
    let tokens = [
        sign(Algorithm::ES256, Some("ec-1"), &id),
        sign(Algorithm::EdDSA, Some("ed-1"), &id),
        sign(Algorithm::ES256, Some("ec-1"), &access),
    ];
    for token in &tokens {
        for uri in ["/api/color", ATTRIBUTES] {
            // An instance that never saw the token verifies it in full.
            let fresh = app_with(&idp, edit);
            let miss = get(&fresh, uri, token).await;
            // 204: the access token carries none of the attributes asked for.
            assert!(matches!(miss.0, 200 | 204), "{uri}: {} {}", miss.0, miss.1);
            assert_eq!(fresh.verified_token_hits(), 0);
            let hit = get(&fresh, uri, token).await;
            assert_eq!(
                fresh.verified_token_hits(),
                1,
                "{uri}: served from the cache"
            );
            assert_eq!(hit, miss, "{uri}: a hit answers what a miss answered");
        }
    }
    let app = app_with(&idp, edit);
    let (_, color) = get(&app, "/api/color", &tokens[0]).await;
    assert_eq!(
        color["level"],
        json!("AAL2"),
        "the level comes from the cached claims"
    );
    let (_, color) = get(&app, "/api/color", &tokens[2]).await;
    assert_eq!(color["level"], json!("AAL3"));
    let (_, attrs) = get(&app, ATTRIBUTES, &tokens[0]).await;
    assert_eq!(
        attrs["attributes"].as_array().map(Vec::len),
        Some(3),
        "{attrs}"
    );
    assert_eq!(
        app.verified_token_hits(),
        1,
        "the attributes call found the token cached"
    );
}

#[tokio::test]
async fn the_whole_token_is_the_key_and_refusals_are_never_cached() {
    let idp = Idp::fast().await;
    let app = app_with(&idp, |_| {});
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    // The same header and claims under another signature: another token.
    let (message, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{message}.{}", "A".repeat(86));
    for _ in 0..2 {
        let (status, body) = get(&app, "/api/color", &forged).await;
        assert_eq!((status, &body["reason"]), (401, &json!("bad_signature")));
    }
    // A token refused for its audience stays refused.
    let mut c = idp.claims("alice");
    c["aud"] = json!("other-client");
    let other = sign(Algorithm::ES256, Some("ec-1"), &c);
    for _ in 0..2 {
        let (status, body) = get(&app, "/api/color", &other).await;
        assert_eq!((status, &body["reason"]), (401, &json!("wrong_audience")));
    }
    assert_eq!(app.verified_token_hits(), 0);
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    assert_eq!(app.verified_token_hits(), 1);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_it_expires() {
    let idp = Idp::fast().await;
    let app = app_with(&idp, |s| s.leeway = 0);
    let mut c = idp.claims("alice");
    c["exp"] = json!(now() + 1);
    let token = sign(Algorithm::EdDSA, Some("ed-1"), &c);
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    assert_eq!(app.verified_token_hits(), 1);
    // exp is a whole second: past it, with no leeway, the token is refused.
    sleep(2100).await;
    let (status, body) = get(&app, "/api/color", &token).await;
    assert_eq!((status, &body["reason"]), (401, &json!("expired")));
    assert_eq!(app.verified_token_hits(), 1);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_jwks() {
    let idp = Idp::start(vec![keys().ec_jwk.clone(), keys().ed_jwk.clone()]).await;
    *idp.max_age.lock().unwrap() = Some(1);
    let app = app_with(&idp, |_| {});
    let ec = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    let ed = sign(Algorithm::EdDSA, Some("ed-1"), &idp.claims("alice"));
    for token in [&ec, &ed, &ec, &ed] {
        assert_eq!(get(&app, "/api/color", token).await.0, 200);
    }
    assert_eq!(app.verified_token_hits(), 2);
    // The issuer withdraws ec-1 and keeps ed-1.
    idp.jwks.lock().unwrap()["keys"] = json!([keys().ed_jwk.clone()]);
    sleep(1100).await;
    let (status, body) = get(&app, "/api/color", &ec).await;
    assert_eq!((status, &body["reason"]), (401, &json!("unknown_kid")));
    assert_eq!(idp.fetches(), 2, "the keys were fetched again");
    // A key the issuer still publishes keeps its tokens cached across the refetch.
    assert_eq!(get(&app, "/api/color", &ed).await.0, 200);
    assert_eq!(app.verified_token_hits(), 3);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_kid_names_another_key() {
    let idp = Idp::start(vec![keys().ec_jwk.clone()]).await;
    *idp.max_age.lock().unwrap() = Some(1);
    let app = app_with(&idp, |_| {});
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    assert_eq!(get(&app, "/api/color", &token).await.0, 200);
    assert_eq!(app.verified_token_hits(), 1);
    // The issuer publishes another key under the same kid.
    let mut replacement = keys().ec2_jwk.clone();
    replacement["kid"] = json!("ec-1");
    idp.jwks.lock().unwrap()["keys"] = json!([replacement]);
    sleep(1100).await;
    let (status, body) = get(&app, "/api/color", &token).await;
    assert_eq!((status, &body["reason"]), (401, &json!("bad_signature")));
    assert_eq!(app.verified_token_hits(), 1);
}
