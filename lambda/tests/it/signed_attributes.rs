//! Signed attributes cannot be forged through formulas (issue 13, item 1) and
//! are bound to an audience and a nonce (item 6).

use crate::common;

use colorid_lambda::App;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use time::macros::date;

fn token(idp: &Idp) -> String {
    let mut c = idp.claims("mallory");
    c["email"] = json!("mallory@example.com");
    c["email_verified"] = json!(true);
    c["birthdate"] = json!("1960-06-15");
    sign(Algorithm::ES256, Some("ec-1"), &c)
}

fn app(idp: &Idp) -> App {
    let mut s = idp.settings();
    s.verified_claims = vec!["birthdate".into(), "email".into()];
    App::new(s).unwrap().with_today(date!(2025 - 01 - 01))
}

fn formula(name: &str, formula: &str) -> Value {
    json!({"name": name, "definition": {"source": "FORMULA", "pedigree": "AUTHORITATIVE",
        "signed": true, "formula": formula}})
}

async fn verify(app: &App, body: Value) -> (u16, Value) {
    call(
        app,
        request("POST", "/api/verify_attributes", None, Some(body)),
    )
    .await
}

/// `POST /api/attributes` of `body` with `token`, which must answer 200: its signed set.
async fn signed_set(app: &App, token: &str, body: Value) -> String {
    let (status, resp) = call(
        app,
        request("POST", "/api/attributes", Some(token), Some(body)),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    resp["signed_attributes"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn constant_formulas_cannot_forge_authoritative_signed_attributes() {
    let idp = Idp::fast().await;
    let app = app(&idp);
    let token = token(&idp);
    for (attack, property) in [
        (
            formula("Email", "\"victim@example.com\""),
            "attributes[0].name",
        ),
        (formula("Level", "\"AAL3\""), "attributes[0].name"),
        (formula("email", "Email"), "attributes[0].name"),
        (
            formula("VictimMail", "\"victim@example.com\""),
            "attributes[0].definition.formula",
        ),
    ] {
        let body = json!({ "attributes": [attack.clone()] });
        let (status, resp) = call(
            &app,
            request("POST", "/api/attributes", Some(&token), Some(body)),
        )
        .await;
        assert_eq!(status, 400, "{attack}: {resp}");
        assert!(resp.get("signed_attributes").is_none());
        let props: Vec<&str> = resp["validation_failures"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["property"].as_str())
            .collect();
        assert!(props.contains(&property), "{attack}: {resp}");
    }
}

#[tokio::test]
async fn formula_results_are_signed_apart_from_released_attributes() {
    let idp = Idp::fast().await;
    let app = app(&idp);
    let body = json!({"attributes": [
        formula("Senior", "Age >= 60"),
        {"name": "Email", "definition": {"source": "ATTRIBUTE", "pedigree": "AUTHORITATIVE", "signed": true}},
    ]});
    let (status, resp) = call(
        &app,
        request("POST", "/api/attributes", Some(&token(&idp)), Some(body)),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    let jwt = resp["signed_attributes"].as_str().unwrap();
    let (status, verified) = verify(&app, json!({"signed_attributes": jwt})).await;
    assert_eq!(status, 200, "{verified}");
    let names = |key: &str| -> Vec<String> {
        verified[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("attributes"), ["Email"]);
    assert_eq!(names("formulas"), ["Senior"]);
    assert_eq!(verified["formulas"][0]["value"], json!("true"));
    assert_eq!(
        verified["formulas"][0]["metadata"][1],
        json!({"name": "source", "value": "FORMULA"})
    );
}

#[tokio::test]
async fn signed_attributes_are_bound_to_the_requested_audience_and_nonce() {
    let idp = Idp::fast().await;
    let app = app(&idp);
    let token = token(&idp);
    let rp = "https://rp.example";
    let body = json!({
        "attributes": [{"name": "Email", "definition": {"source": "ATTRIBUTE", "pedigree": "AUTHORITATIVE", "signed": true}}],
        "audience": rp,
        "nonce": "n-0001",
    });
    let jwt = signed_set(&app, &token, body).await;

    // Presented to a verifier that expects the default audience (another relying party): refused.
    let (status, r) = verify(&app, json!({"signed_attributes": jwt})).await;
    assert_eq!((status, &r["reason"]), (401, &json!("wrong_audience")));
    let (status, r) = verify(
        &app,
        json!({"signed_attributes": jwt, "audience": "https://other.example"}),
    )
    .await;
    assert_eq!((status, &r["reason"]), (401, &json!("wrong_audience")));
    // The right audience, and another transaction's nonce: refused.
    let (status, r) = verify(
        &app,
        json!({"signed_attributes": jwt, "audience": rp, "nonce": "n-0002"}),
    )
    .await;
    assert_eq!((status, &r["reason"]), (401, &json!("wrong_nonce")));
    let (status, r) = verify(
        &app,
        json!({"signed_attributes": jwt, "audience": rp, "nonce": "n-0001"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (&r["audience"], &r["nonce"]),
        (&json!(rp), &json!("n-0001"))
    );

    // The GET form takes them from the query.
    let uri = "/api/attributes?authoritative_attributes=Email&sign=true&audience=https%3A%2F%2Frp.example&nonce=q1";
    let (status, resp) = call(&app, request("GET", uri, Some(&token), None)).await;
    assert_eq!(status, 200, "{resp}");
    let jwt = resp["signed_attributes"].as_str().unwrap();
    let (status, r) = verify(
        &app,
        json!({"signed_attributes": jwt, "audience": rp, "nonce": "q1"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");

    // A control character in the nonce is a 400.
    let uri = "/api/attributes?authoritative_attributes=Email&sign=true&nonce=a%0Ab";
    let (status, resp) = call(&app, request("GET", uri, Some(&token), None)).await;
    assert_eq!(
        (status, &resp["validation_failures"][0]["property"]),
        (400, &json!("nonce"))
    );
}

fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Issue 25, item 2: a stack that configures `QID` (`[api.attribute_claims]`)
/// gets one name check on both APIs, so no formula named `QID` is signed, and
/// verification never lists a formula result among the attributes.
#[tokio::test]
async fn a_formula_cannot_pose_as_a_configured_attribute_on_either_api() {
    let idp = Idp::fast().await;
    let mut s = idp.settings();
    s.verified_claims = vec!["birthdate".into()];
    let claims = std::collections::BTreeMap::from([("QID".to_string(), "qid".to_string())]);
    s.attribute_names =
        colorid_lambda::attribute_names::AttributeNames::with_overrides(&claims).unwrap();
    let app = App::new(s).unwrap().with_today(date!(2025 - 01 - 01));
    let token = token(&idp);
    let forged = json!({"attributes": [formula("QID", "Age >= 18")]});
    for path in ["/api/attributes", "/api/v1/customer_attributes"] {
        let (status, resp) = call(
            &app,
            request("POST", path, Some(&token), Some(forged.clone())),
        )
        .await;
        assert_eq!(status, 400, "{path}: {resp}");
        assert!(resp.get("signed_attributes").is_none(), "{path}");
    }
    // The legacy API reads the stack's table too: QID is an attribute there.
    let mut c = idp.claims("mallory");
    c["qid"] = json!("Q-1");
    let with_qid = sign(Algorithm::ES256, Some("ec-1"), &c);
    let (status, resp) = call(
        &app,
        request(
            "GET",
            "/api/attributes?self_asserted_attributes=QID",
            Some(&with_qid),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(resp["attributes"][0]["value"], json!("Q-1"));

    // Signed formula results verify apart from attributes on /api/v1 too.
    let body = json!({"attributes": [formula("Adult", "Age >= 18")]});
    let jwt = signed_set(&app, &token, body).await;
    let (status, verified) = call(
        &app,
        request(
            "POST",
            "/api/v1/verify_customer_attributes",
            None,
            Some(json!({"signed_attributes": jwt})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["attributes"], json!([]), "{verified}");
    assert_eq!(verified["formulas"][0]["name"], json!("Adult"));
}

/// Issue 25, item 3: only AUTHORITATIVE values become top-level claims of
/// `/api/v1` signed attributes; an unverified email asked for as
/// SELF_ASSERTED stays in `attributes`, with its pedigree.
#[tokio::test]
async fn only_authoritative_values_are_top_level_signed_claims() {
    let idp = Idp::fast().await;
    let app = app(&idp);
    let mut c = idp.claims("mallory");
    c["email"] = json!("victim@example.com");
    c["email_verified"] = json!(false);
    c["birthdate"] = json!("1960-06-15");
    let token = sign(Algorithm::ES256, Some("ec-1"), &c);
    let (status, resp) = call(
        &app,
        request(
            "GET",
            "/api/v1/customer_attributes?self_asserted_attributes=Email,DateOfBirth&sign=true",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{resp}");
    let signed = payload(resp["signed_attributes"].as_str().unwrap());
    assert!(signed.get("Email").is_none(), "{signed}");
    // birthdate is a verified claim of this stack: AUTHORITATIVE, at the top level.
    assert_eq!(signed["DateOfBirth"], json!("1960-06-15"));
    let email = signed["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Email")
        .expect("the email stays in attributes");
    assert_eq!(email["metadata"][0]["value"], json!("SELF_ASSERTED"));
}
