//! `/api/v1` as strict as its definition, in-process: an unknown attribute
//! name is a 400 naming it, `sign` takes the boolean forms clients send and
//! refuses others, every error status's body has the `Error` shape, and the
//! signed set's lifetime follows the setting.

use crate::common::*;

use colorid_lambda::App;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

fn token(idp: &Idp, extra: Value) -> String {
    let mut c = idp.claims("alice");
    c["email"] = json!("alice@example.test");
    c["given_name"] = json!("Alice");
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    sign(Algorithm::ES256, Some("ec-1"), &c)
}

fn failures(body: &Value) -> Vec<(String, String)> {
    body["validation_failures"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| {
            (
                f["property"].as_str().unwrap_or_default().to_string(),
                f["failure_reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_unknown_attribute_name_is_a_400_naming_it() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let t = token(&idp, json!({}));
    let uri = "/api/v1/customer_attributes?self_asserted_attributes=Email,Bogus&authoritative_attributes=NoSuchThing";
    let (status, body) = call(&app, request("GET", uri, Some(&t), None)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], json!("invalid_request"));
    let props: Vec<String> = failures(&body).into_iter().map(|f| f.0).collect();
    assert_eq!(props, ["Bogus", "NoSuchThing"], "{body}");
    assert!(
        body["validation_failures"][0]["link"]
            .as_str()
            .unwrap()
            .ends_with("/docs/api.html#names")
    );
    let post = json!({"attributes": [{"name": "Email"}, {"name": "Nope", "definition": {"signed": true}}]});
    let (status, body) = call(
        &app,
        request("POST", "/api/v1/customer_attributes", Some(&t), Some(post)),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(failures(&body)[0].0, "Nope");
    assert!(failures(&body)[0].1.contains("'Nope'"));
    // A name of the table without a claim (the guide's QID) is valid and has no value.
    let uri = "/api/v1/customer_attributes?self_asserted_attributes=QID";
    assert_eq!(call(&app, request("GET", uri, Some(&t), None)).await.0, 204);
    let uri = "/api/v1/customer_attributes?self_asserted_attributes=Email,QID,Level";
    let (status, body) = call(&app, request("GET", uri, Some(&t), None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["attributes"][0]["value"], json!("alice@example.test"));
}

#[tokio::test]
async fn sign_takes_each_boolean_form_and_refuses_others() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let t = token(&idp, json!({}));
    let forms = [
        (true, ["true", "True", "1"]),
        (false, ["false", "False", "0"]),
    ];
    for (form, signed) in forms
        .iter()
        .flat_map(|(s, f)| f.iter().map(move |f| (*f, *s)))
    {
        let uri = format!("/api/v1/customer_attributes?self_asserted_attributes=Email&sign={form}");
        let (status, body) = call(&app, request("GET", &uri, Some(&t), None)).await;
        assert_eq!(status, 200, "{form}: {body}");
        assert_eq!(
            body["signed_attributes"].is_string(),
            signed,
            "{form}: {body}"
        );
        assert_eq!(
            body["attributes"][0]["definition"]["signed"],
            json!(signed),
            "{form}"
        );
    }
    for bad in ["yes", "TRUE", "2", "", "on", "true%20"] {
        let uri = format!("/api/v1/customer_attributes?self_asserted_attributes=Email&sign={bad}");
        let (status, body) = call(&app, request("GET", &uri, Some(&t), None)).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        assert_eq!(failures(&body)[0].0, "sign", "{bad:?}");
    }
}

fn assert_error_shape(status: u16, body: &Value, what: &str) {
    for field in ["code", "message", "description", "link"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: {status} without {field}: {body}"
        );
    }
    assert!(
        body["link"].as_str().unwrap().contains("/docs/api.html#"),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn every_error_status_body_has_code_message_description_and_link() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let attrs = "/api/v1/customer_attributes?self_asserted_attributes=Email";
    let mut cases: Vec<(&str, u16, Value)> = Vec::new();
    let (s, b) = call(&app, request("GET", attrs, None, None)).await;
    cases.push(("no token", s, b));
    let (s, b) = call(&app, request("GET", attrs, Some("not.a.jwt"), None)).await;
    cases.push(("bad token", s, b));
    let (s, b) = call(&app, request("GET", "/api/v1/customer_shared", None, None)).await;
    cases.push(("customer_shared without token", s, b));
    let (s, b) = call(
        &app,
        request(
            "POST",
            "/api/v1/verify_customer_attributes",
            None,
            Some(json!({"signed_attributes": "x.y.z"})),
        ),
    )
    .await;
    cases.push(("tampered signed set", s, b));
    let (s, b) = call(&app, request("GET", "/api/v1/nothing", None, None)).await;
    cases.push(("no route", s, b));
    let (s, b) = call(&app, request("DELETE", "/api/v1/health", None, None)).await;
    cases.push(("method", s, b));
    let (s, b) = call(
        &app,
        request("PUT", "/api/v1/customer_attributes", None, None),
    )
    .await;
    cases.push(("method on attributes", s, b));
    let unverified = http::Request::builder()
        .uri("/api/v1/health")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let (s, b) = call(&app, unverified).await;
    cases.push(("not through the site", s, b));
    let (s, b) = call(
        &App::unavailable("no settings"),
        request("GET", "/api/v1/health", None, None),
    )
    .await;
    cases.push(("unconfigured", s, b));
    // A stack requiring AAL2, a token at AAL1: the step-up 401.
    let mut settings = idp.settings();
    settings.required_level = Some("AAL2".into());
    let aal2 = App::new(settings).unwrap();
    let t = token(&idp, json!({"acr": "AAL1"}));
    let (s, b) = call(&aal2, request("GET", attrs, Some(&t), None)).await;
    cases.push(("insufficient assurance", s, b));
    // The provider's keys unreachable: 503.
    let mut settings = idp.settings();
    settings.issuer = "http://127.0.0.1:9".into();
    let down = App::new(settings).unwrap();
    let mut c = idp.claims("alice");
    c["iss"] = json!("http://127.0.0.1:9");
    let t = sign(Algorithm::ES256, Some("ec-1"), &c);
    let (s, b) = call(&down, request("GET", attrs, Some(&t), None)).await;
    cases.push(("issuer down", s, b));

    let statuses: Vec<u16> = cases.iter().map(|c| c.1).collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 404, 405, 405, 421, 503, 401, 503],
        "{cases:?}"
    );
    for (what, status, body) in &cases {
        assert_error_shape(*status, body, what);
    }
    assert_eq!(cases[9].2["code"], json!("insufficient_assurance"));
    assert_eq!(cases[9].2["required"], json!("AAL2"), "its own fields stay");
    assert_eq!(cases[0].2["reason"], json!("missing_token"));
    // The 400 ValidationError has them too.
    let t = token(&idp, json!({}));
    let (s, b) = call(
        &app,
        request(
            "POST",
            "/api/v1/customer_attributes",
            Some(&t),
            Some(json!([])),
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert_error_shape(s, &b, "validation");
    // The legacy routes are left as they were.
    let (s, b) = call(&app, request("GET", "/api/nothing", None, None)).await;
    assert_eq!((s, b.get("link")), (404, None));
}

#[tokio::test]
async fn the_signed_sets_lifetime_follows_the_setting() {
    let idp = Idp::fast().await;
    let t = token(&idp, json!({}));
    let uri = "/api/v1/customer_attributes?self_asserted_attributes=Email&sign=true";
    for (lifetime, expected) in [(None, 600), (Some(120), 120)] {
        let mut settings = idp.settings();
        if let Some(l) = lifetime {
            settings.signed_lifetime_seconds = l;
        }
        let app = App::new(settings).unwrap();
        let (status, body) = call(&app, request("GET", uri, Some(&t), None)).await;
        assert_eq!(status, 200, "{body}");
        let jwt = body["signed_attributes"].as_str().unwrap();
        let payload: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                jwt.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap(),
            expected
        );
    }
    let mut settings = idp.settings();
    settings.signed_lifetime_seconds = 30;
    assert!(App::new(settings).is_err(), "below 60 seconds is refused");
}
