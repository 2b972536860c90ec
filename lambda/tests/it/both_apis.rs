//! Issue 27: `/api/attributes` and `/api/v1/customer_attributes` are two
//! doors onto one attributes pipeline, so the same request gets the same
//! values from both: the same names read through the stack's table and
//! `[api.attribute_claims]`, the same pedigrees, formulas and strings, and a
//! signed set that states the same.

use crate::common;

use colorid_lambda::App;
use colorid_lambda::attribute_names::AttributeNames;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::macros::date;

const LEGACY: &str = "/api/attributes";
const V1: &str = "/api/v1/customer_attributes";

fn app(idp: &Idp) -> App {
    let mut s = idp.settings();
    s.verified_claims = vec!["birthdate".into(), "email".into()];
    let claims = BTreeMap::from([("QID".to_string(), "qid".to_string())]);
    s.attribute_names = AttributeNames::with_overrides(&claims).unwrap();
    App::new(s).unwrap().with_today(date!(2025 - 06 - 15))
}

fn token(idp: &Idp) -> String {
    let mut c = crate::attributes::profile_claims(idp);
    c["acr"] = json!("AAL2");
    c["qid"] = json!("Q-7");
    sign(Algorithm::ES256, Some("ec-1"), &c)
}

/// The claims of a signed set that say something about the user: all but
/// the times it was made and expires.
fn statement(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    let mut claims: Value = serde_json::from_slice(&bytes).unwrap();
    let claims_map = claims.as_object_mut().unwrap();
    claims_map.remove("iat");
    claims_map.remove("exp");
    claims
}

#[tokio::test]
async fn both_apis_give_the_same_values_for_the_same_request() {
    let idp = Idp::fast().await;
    let app = app(&idp);
    let token = token(&idp);
    let formula = |name: &str, f: &str, signed: bool| {
        json!({"name": name, "definition": {"source": "FORMULA", "pedigree": "SELF_ASSERTED",
            "signed": signed, "formula": f}})
    };
    let attribute = |name: &str, pedigree: &str, signed: bool| json!({"name": name, "definition": {"pedigree": pedigree, "signed": signed}});
    let gets = [
        "?self_asserted_attributes=FirstName,GivenName,FamilyName,AuthenticationMethod,Level,QID",
        "?authoritative_attributes=Email,DateOfBirth,FirstName&self_asserted_attributes=UserId",
        "?authoritative_attributes=Email,DateOfBirth&self_asserted_attributes=FirstName,QID&sign=true&audience=https%3A%2F%2Frp.example&nonce=n-1",
        "?self_asserted_attributes=Picture,Locale",
    ];
    let posts = [
        json!({"attributes": [
            formula("Senior", "Age >= 65", true),
            formula("Called", "FirstName == \"Ada\" and QID != \"\"", false),
            attribute("FirstName", "SELF_ASSERTED", true),
            attribute("Email", "AUTHORITATIVE", true),
            attribute("AuthenticationMethod", "SELF_ASSERTED", true),
        ], "nonce": "n-2"}),
        json!({"attributes": [attribute("FamilyName", "AUTHORITATIVE", false)]}),
        json!({"attributes": [formula("Age65", "Age", false), attribute("Level", "AUTHORITATIVE", false)]}),
    ];
    let mut requests: Vec<(&str, String, Option<Value>)> =
        gets.iter().map(|q| ("GET", q.to_string(), None)).collect();
    requests.extend(posts.into_iter().map(|b| ("POST", String::new(), Some(b))));
    let mut statuses = Vec::new();
    for (method, query, body) in requests {
        let legacy = call(
            &app,
            request(
                method,
                &format!("{LEGACY}{query}"),
                Some(&token),
                body.clone(),
            ),
        )
        .await;
        let v1 = call(
            &app,
            request(method, &format!("{V1}{query}"), Some(&token), body.clone()),
        )
        .await;
        let what = format!("{method} {query} {body:?}");
        assert_eq!(legacy.0, v1.0, "{what}: {legacy:?} / {v1:?}");
        assert_eq!(
            legacy.1["attributes"], v1.1["attributes"],
            "{what}: the same values"
        );
        statuses.push(legacy.0);
        if legacy.0 == 200 {
            assert!(
                legacy.1["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|a| a["value"].is_string()),
                "{what}: every value a string: {legacy:?}"
            );
        }
        match (
            legacy.1["signed_attributes"].as_str(),
            v1.1["signed_attributes"].as_str(),
        ) {
            (Some(a), Some(b)) => assert_eq!(statement(a), statement(b), "{what}"),
            (None, None) => {}
            other => panic!("{what}: signed on one API only: {other:?}"),
        }
    }
    // Picture and Locale are not in the token; FamilyName is not AUTHORITATIVE here.
    assert_eq!(statuses, [200, 200, 200, 204, 200, 204, 200]);

    // The name table and [api.attribute_claims] are read on both: FirstName and QID have values.
    let (_, legacy) = call(
        &app,
        request(
            "GET",
            &format!("{LEGACY}?self_asserted_attributes=FirstName,QID"),
            Some(&token),
            None,
        ),
    )
    .await;
    let values: Vec<(&str, &str)> = legacy["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["value"].as_str().unwrap()))
        .collect();
    assert_eq!(values, [("FirstName", "Ada"), ("QID", "Q-7")]);
}
