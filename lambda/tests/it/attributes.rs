//! The attributes and verify routes, plus origin checks and routing.

use crate::common;

use colorid_lambda::App;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use time::macros::date;

/// Ada's claims: names, a verified email, a birthdate and two methods.
pub(crate) fn profile_claims(idp: &Idp) -> Value {
    let mut c = idp.claims("alice");
    c["given_name"] = json!("Ada");
    c["family_name"] = json!("Lovelace");
    c["email"] = json!("ada@example.com");
    c["email_verified"] = json!(true);
    c["birthdate"] = json!("1960-06-15");
    c["amr"] = json!(["pwd", "otp"]);
    c
}

fn profile_token(idp: &Idp) -> String {
    sign(Algorithm::ES256, Some("ec-1"), &profile_claims(idp))
}

/// An app whose issuer vouches for birthdate, on a fixed "today".
fn app(idp: &Idp, today: time::Date) -> App {
    let mut s = idp.settings();
    s.verified_claims = vec!["birthdate".into(), "email".into()];
    App::new(s).unwrap().with_today(today)
}

fn formula_body(formula: &str, pedigree: &str, signed: bool) -> Value {
    json!({"attributes": [{"name": "Senior", "definition":
        {"source": "FORMULA", "pedigree": pedigree, "signed": signed, "formula": formula}}]})
}

/// `POST /api/verify_attributes` of `jwt`.
fn verify(jwt: &str) -> lambda_http::Request {
    request(
        "POST",
        "/api/verify_attributes",
        None,
        Some(json!({"signed_attributes": jwt})),
    )
}

#[tokio::test]
async fn get_releases_by_pedigree() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let token = profile_token(&idp);
    let uri = "/api/attributes?authoritative_attributes=Email,GivenName&self_asserted_attributes=FamilyName,AuthenticationMethod";
    let (status, body) = call(&app, request("GET", uri, Some(&token), None)).await;
    assert_eq!(status, 200, "{body}");
    let attrs = body["attributes"].as_array().unwrap();
    let by_name = |n: &str| attrs.iter().find(|a| a["name"] == json!(n)).cloned();
    // GivenName is only self-asserted, so it has no authoritative value.
    assert!(by_name("GivenName").is_none());
    let email = by_name("Email").unwrap();
    assert_eq!(email["value"], json!("ada@example.com"));
    assert_eq!(
        email["metadata"],
        json!([{"name": "pedigree", "value": "AUTHORITATIVE"},
               {"name": "source", "value": "ATTRIBUTE"}])
    );
    assert_eq!(email["definition"]["source"], json!("ATTRIBUTE"));
    let family = by_name("FamilyName").unwrap();
    assert_eq!(family["metadata"][0]["value"], json!("SELF_ASSERTED"));
    // Values are strings, as /api/v1 answers them (issue 27): a list is space-separated.
    assert_eq!(
        by_name("AuthenticationMethod").unwrap()["value"],
        json!("pwd otp")
    );
    assert!(body.get("signed_attributes").is_none());
}

#[tokio::test]
async fn age_formula_either_side_of_the_birthday() {
    let idp = Idp::fast().await;
    let token = profile_token(&idp);
    for (today, expected) in [
        (date!(2025 - 06 - 14), false),
        (date!(2025 - 06 - 15), true),
    ] {
        let app = app(&idp, today);
        let body = formula_body("Age >= 65", "AUTHORITATIVE", false);
        let (status, resp) = call(
            &app,
            request("POST", "/api/attributes", Some(&token), Some(body)),
        )
        .await;
        assert_eq!(status, 200, "{resp}");
        assert_eq!(resp["attributes"][0]["name"], json!("Senior"));
        assert_eq!(
            resp["attributes"][0]["value"],
            json!(expected.to_string()),
            "on {today}"
        );
        assert_eq!(
            resp["attributes"][0]["definition"]["formula"],
            json!("Age >= 65")
        );
    }
    // A formula over a self-asserted claim has no authoritative value: nothing to return.
    let app = app(&idp, date!(2025 - 06 - 15));
    let body = formula_body("GivenName == \"Ada\" and Age > 18", "AUTHORITATIVE", false);
    let (status, _) = call(
        &app,
        request("POST", "/api/attributes", Some(&token), Some(body)),
    )
    .await;
    assert_eq!(status, 204);
    let body = formula_body("GivenName == \"Ada\" and Age > 18", "SELF_ASSERTED", false);
    let (status, resp) = call(
        &app,
        request("POST", "/api/attributes", Some(&token), Some(body)),
    )
    .await;
    assert_eq!(
        (status, &resp["attributes"][0]["value"]),
        (200, &json!("true"))
    );
}

#[tokio::test]
async fn no_value_is_204() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let token = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    let uri = "/api/attributes?self_asserted_attributes=Email,Picture";
    let (status, body) = call(&app, request("GET", uri, Some(&token), None)).await;
    assert_eq!((status, body), (204, Value::Null));
}

#[tokio::test]
async fn bad_requests_are_400_with_validation_failures() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let token = profile_token(&idp);
    let cases: Vec<(&str, &str, Option<Value>, &str, &str)> = vec![
        (
            "no attributes (GET)",
            "/api/attributes",
            None,
            "attributes",
            "no attributes",
        ),
        (
            "no attributes (POST)",
            "/api/attributes",
            Some(json!({"attributes": []})),
            "attributes",
            "no attributes",
        ),
        (
            "unknown name",
            "/api/attributes?authoritative_attributes=Email,ShoeSize",
            None,
            "attributes[1].name",
            "unknown attribute 'ShoeSize'",
        ),
        (
            "bad formula",
            "/api/attributes",
            Some(formula_body("Age >= ", "SELF_ASSERTED", false)),
            "attributes[0].definition.formula",
            "at position 7",
        ),
        (
            "formula with unknown name",
            "/api/attributes",
            Some(formula_body("Height > 2", "SELF_ASSERTED", false)),
            "attributes[0].definition.formula",
            "unknown attribute 'Height' at position 0",
        ),
        (
            "body not JSON",
            "/api/attributes",
            Some(json!("nope")),
            "body",
            "",
        ),
        (
            "bad pedigree",
            "/api/attributes",
            Some(
                json!({"attributes": [{"name": "Email", "definition": {"source": "ATTRIBUTE", "pedigree": "MAYBE"}}]}),
            ),
            "body",
            "unknown variant",
        ),
    ];
    for (what, uri, body, property, reason) in cases {
        let method = if body.is_some() { "POST" } else { "GET" };
        let (status, resp) = call(&app, request(method, uri, Some(&token), body)).await;
        assert_eq!(status, 400, "{what}: {resp}");
        assert_eq!(resp["code"], json!("invalid_request"), "{what}");
        let failure = &resp["validation_failures"][0];
        assert_eq!(failure["property"], json!(property), "{what}: {resp}");
        let text = failure["failure_reason"].as_str().unwrap();
        assert!(text.contains(reason), "{what}: {text}");
    }
}

#[tokio::test]
async fn missing_or_bad_token_is_401_on_attributes() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let uri = "/api/attributes?self_asserted_attributes=Email";
    let (status, body) = call(&app, request("GET", uri, None, None)).await;
    assert_eq!((status, &body["reason"]), (401, &json!("missing_token")));
    let mut c = idp.claims("alice");
    c["exp"] = json!(now() - 3600);
    let expired = sign(Algorithm::ES256, Some("ec-1"), &c);
    let (status, body) = call(&app, request("GET", uri, Some(&expired), None)).await;
    assert_eq!((status, &body["reason"]), (401, &json!("expired")));
}

async fn signed_for(app: &App, token: &str) -> (Value, String) {
    let uri = "/api/attributes?authoritative_attributes=Email&self_asserted_attributes=GivenName&sign=true";
    let (status, body) = call(app, request("GET", uri, Some(token), None)).await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["signed_attributes"]
        .as_str()
        .expect("signed_attributes")
        .to_string();
    (body, jwt)
}

#[tokio::test]
async fn signed_attributes_round_trip_and_tampering_fails() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let token = profile_token(&idp);
    let (body, jwt) = signed_for(&app, &token).await;

    let header: Value = {
        use base64::Engine;
        let h = jwt.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["typ"], json!("colorid-attributes+jwt"));
    assert_eq!(header["alg"], json!("ES256"));
    assert_eq!(header["kid"].as_str().unwrap().len(), 43);

    let (status, verified) = call(&app, verify(&jwt)).await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["attributes"], body["attributes"]);
    let color = call(&app, request("GET", "/api/color", Some(&token), None))
        .await
        .1;
    assert_eq!(verified["yourUserIdentity"], color["yourUserIdentity"]);
    let lifetime =
        verified["expires_at"].as_u64().unwrap() - verified["issued_at"].as_u64().unwrap();
    assert_eq!(lifetime, 600);

    // Change one byte in each part in turn: every variant is refused.
    for at in [5, jwt.find('.').unwrap() + 8, jwt.len() - 5] {
        let mut bytes = jwt.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let (status, resp) = call(&app, verify(&tampered)).await;
        assert_eq!(status, 401, "byte {at}: {resp}");
    }
    // An identity token is not signed attributes.
    let (status, resp) = call(&app, verify(&token)).await;
    assert_eq!((status, &resp["reason"]), (401, &json!("wrong_token_type")));
    // A signed-attributes JWT is not an identity token.
    let (status, resp) = call(&app, request("GET", "/api/color", Some(&jwt), None)).await;
    assert_eq!((status, &resp["reason"]), (401, &json!("wrong_token_type")));
}

#[tokio::test]
async fn expired_or_foreign_signed_attributes_are_401() {
    let idp = Idp::fast().await;
    let app = app(&idp, date!(2025 - 01 - 01));
    let signer = colorid_lambda::signing::Signer::from_pem(&keys().signing_pem, SITE).unwrap();
    let old = signer
        .sign("u", vec![json!({"name": "Email"})], now() - 601)
        .unwrap();
    let (status, resp) = call(&app, verify(&old)).await;
    assert_eq!((status, &resp["reason"]), (401, &json!("expired")));
    // Signed by another key (another stack): its kid is unknown here.
    let other = colorid_lambda::signing::Signer::from_pem(&keys().ec2_pem, SITE).unwrap();
    let foreign = other.sign("u", vec![], now()).unwrap();
    assert_eq!(call(&app, verify(&foreign)).await.0, 401);
    // Another site's attributes.
    let elsewhere =
        colorid_lambda::signing::Signer::from_pem(&keys().signing_pem, "https://other.example")
            .unwrap();
    let (status, resp) = call(&app, verify(&elsewhere.sign("u", vec![], now()).unwrap())).await;
    assert_eq!((status, &resp["reason"]), (401, &json!("wrong_issuer")));
    // Malformed bodies are 400.
    for body in [json!({}), json!({"signed_attributes": 5}), json!([1])] {
        let req = request("POST", "/api/verify_attributes", None, Some(body.clone()));
        assert_eq!(call(&app, req).await.0, 400, "{body}");
    }
}

#[tokio::test]
async fn origin_header_routes_and_methods() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let health = |origin: Option<&str>| {
        let mut b = http::Request::builder().uri("/api/health");
        if let Some(o) = origin {
            b = b.header("x-origin-verify", o);
        }
        b.body(lambda_http::Body::Empty).unwrap()
    };
    assert_eq!(
        call(&app, health(Some(ORIGIN))).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(call(&app, health(Some(ORIGIN_PREVIOUS))).await.0, 200);
    for bad in [
        None,
        Some("origin-curren"),
        Some("origin-currentX"),
        Some(""),
    ] {
        let (status, body) = call(&app, health(bad)).await;
        assert_eq!(
            (status, &body["code"]),
            (421, &json!("forbidden")),
            "{bad:?}"
        );
    }
    // Development mode switches the check off explicitly.
    let mut s = idp.settings();
    s.origin_verify.clear();
    assert!(
        App::new(s.clone()).is_err(),
        "no origin value and no explicit switch-off"
    );
    s.skip_origin_verify = true;
    assert_eq!(call(&App::new(s).unwrap(), health(None)).await.0, 200);

    for (method, uri, status) in [
        ("GET", "/api/nothing", 404),
        ("GET", "/", 404),
        ("POST", "/api/color", 405),
        ("DELETE", "/api/health", 405),
        ("PUT", "/api/attributes", 405),
        ("GET", "/api/verify_attributes", 405),
    ] {
        let (got, body) = call(&app, request(method, uri, None, None)).await;
        assert_eq!(got, status, "{method} {uri}: {body}");
        assert!(body["code"].is_string());
    }
}

#[tokio::test]
async fn unconfigured_function_answers_503() {
    let app = App::unavailable("parameter /colorid/x/app-secret is missing");
    let (status, body) = call(&app, request("GET", "/api/health", None, None)).await;
    assert_eq!(
        (status, &body["code"]),
        (503, &json!("configuration_unavailable"))
    );
    // The reason stays in the log, not in the response.
    assert!(!body.to_string().contains("app-secret"));
}

/// Issue 25, item 10: SECURITY.md and the example stack.toml name the status
/// the function really answers without the origin header (421), never 403.
#[tokio::test]
async fn the_documents_name_the_status_a_missing_origin_header_gets() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let bare = http::Request::builder()
        .uri("/api/health")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let (status, _) = call(&app, bare).await;
    assert_eq!(status, 421);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for file in ["docs/SECURITY.md", "stack.toml"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for wrong in ["get 403", "gets a 403", "gets 403"] {
            assert!(!text.contains(wrong), "{file} says {wrong:?}");
        }
        assert!(
            text.contains(&format!("get {status}")) || text.contains(&format!("gets a {status}")),
            "{file} does not say {status}"
        );
    }
}
