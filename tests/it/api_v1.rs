//! `/api/v1`, the Customer Attributes API, against `colorid dev` over HTTP
//! (through the local edge): one test per request example of the CIDM
//! guide's Swagger definition, CORS, and the OpenAPI document checked
//! against the responses the code really sends.

use crate::common::dev::{self, Dev};

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// `colorid dev` with `api` as the stack's `[api]` table; birthdate and email are verified claims.
async fn start(api: &str) -> Dev {
    dev::start(dev::Options {
        name: "api-v1",
        stack_lines: format!("[api]\n{api}"),
        files: vec![("index.html", "<h1>index</h1>")],
        verified_claims: vec!["birthdate", "email"],
        ..Default::default()
    })
    .await
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn by_name(body: &Value) -> HashMap<String, Value> {
    body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

fn pedigree(a: &Value) -> &Value {
    &a["metadata"][0]["value"]
}

/// The guide's ATTRIBUTES example as written, trailing commas included.
const GUIDE_ATTRIBUTES: &str = r#"{
"attributes": [
{
"name": "GivenName",
"definition": {
"pedigree": "SELF_ASSERTED",
"signed": true,
}
},
{
"name": "FamilyName",
"definition": {
"pedigree": "AUTHORITATIVE",
"signed": true,
}
},
{
"name" : "Senior",
"definition": {
"source": "FORMULA",
"formula" : "Age >= 65"
}
}
]
}"#;

/// What the guide's ATTRIBUTES request answers for bob (born 1950, birthdate
/// verified, family name not verified).
fn assert_guide_attributes_answer(body: &Value) {
    let got = by_name(body);
    assert_eq!(got.len(), 2, "{body}");
    let given = &got["GivenName"];
    assert_eq!(given["value"], json!("Bob"));
    assert_eq!(pedigree(given), &json!("SELF_ASSERTED"));
    assert_eq!(
        given["definition"],
        json!({"source": "ATTRIBUTE", "pedigree": "SELF_ASSERTED", "signed": true})
    );
    // AUTHORITATIVE was asked and the provider does not verify family_name.
    assert!(!got.contains_key("FamilyName"));
    let senior = &got["Senior"];
    assert_eq!(senior["value"], json!("true"));
    assert_eq!(pedigree(senior), &json!("AUTHORITATIVE"));
    assert_eq!(
        senior["definition"],
        json!({"source": "FORMULA", "pedigree": "SELF_ASSERTED", "signed": false, "formula": "Age >= 65"})
    );
    let signed = payload(body["signed_attributes"].as_str().unwrap());
    // A SELF_ASSERTED value is signed with its pedigree, never as a top-level claim.
    assert!(signed.get("GivenName").is_none(), "{signed}");
    assert_eq!(signed["attributes"][0]["name"], json!("GivenName"));
    assert!(signed.get("Senior").is_none(), "{signed}");
}

#[tokio::test]
async fn get_with_the_three_query_parameters() {
    let dev = start("").await;
    let bob = dev.token("bob").await;
    let (status, body) = dev
        .get_json(
            "/api/v1/customer_attributes?authoritative_attributes=QID,DateOfBirth,Email\
             &self_asserted_attributes=Name,UserId,AuthenticationMethod,Picture,FirstName,FamilyName,Nickname&sign=true",
            Some(&bob),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = by_name(&body);
    let mut names: Vec<_> = got.keys().cloned().collect();
    names.sort();
    // QID, Picture and Nickname have no value for bob: left out, not a 400.
    assert_eq!(
        names,
        [
            "AuthenticationMethod",
            "DateOfBirth",
            "Email",
            "FamilyName",
            "FirstName",
            "Name",
            "UserId"
        ]
    );
    assert_eq!(got["DateOfBirth"]["value"], json!("1950-01-01"));
    assert_eq!(pedigree(&got["DateOfBirth"]), &json!("AUTHORITATIVE"));
    assert_eq!(got["FirstName"]["value"], json!("Bob"));
    assert_eq!(pedigree(&got["FamilyName"]), &json!("SELF_ASSERTED"));
    assert_eq!(got["AuthenticationMethod"]["value"], json!("pwd otp"));
    assert!(got.values().all(|a| a["value"].is_string()));
    assert_eq!(
        got["Email"]["definition"],
        json!({"source": "ATTRIBUTE", "pedigree": "AUTHORITATIVE", "signed": true})
    );
    // Each signed AUTHORITATIVE attribute is a top-level claim of the signed
    // attributes; a SELF_ASSERTED one only in `attributes`, with its pedigree.
    let signed = payload(body["signed_attributes"].as_str().unwrap());
    assert_eq!(signed["DateOfBirth"], json!("1950-01-01"));
    assert!(signed.get("FirstName").is_none(), "{signed}");
    assert_eq!(signed["Email"], json!("bob@example.test"));
    assert!(signed.get("QID").is_none());

    // Nothing with a value: 204; no token: 401.
    let (status, _) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=QID,Picture",
            Some(&bob),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=Email",
            None,
        )
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn get_with_url_encoded_attributes() {
    let dev = start("").await;
    let bob = dev.token("bob").await;
    let encoded: String = url_encode(GUIDE_ATTRIBUTES);
    let (status, body) = dev
        .get_json(
            &format!("/api/v1/customer_attributes?attributes={encoded}"),
            Some(&bob),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_guide_attributes_answer(&body);

    let (status, body) = dev
        .get_json("/api/v1/customer_attributes?attributes=%7B", Some(&bob))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["validation_failures"][0]["property"],
        json!("attributes")
    );
}

#[tokio::test]
async fn post_customer_attributes_with_defaults_and_the_guides_spelling() {
    let dev = start("").await;
    let bob = dev.token("bob").await;
    let (status, body) = dev
        .post_json("/api/v1/customer_attributes", Some(&bob), GUIDE_ATTRIBUTES)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_guide_attributes_answer(&body);

    // No definition at all, and `forumla` as the Swagger definition spells it.
    let (status, body) = dev
        .post_json(
            "/api/v1/customer_attributes",
            Some(&bob),
            r#"{"attributes": [{"name": "Email"},
                {"name": "Over60", "definition": {"source": "FORMULA", "forumla": "Age > 60", "signed": true}}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = by_name(&body);
    assert_eq!(
        got["Email"]["definition"],
        json!({"source": "ATTRIBUTE", "pedigree": "SELF_ASSERTED", "signed": false})
    );
    assert_eq!(got["Over60"]["value"], json!("true"));
    // A signed formula result is signed apart, never as a top-level claim.
    let signed = payload(body["signed_attributes"].as_str().unwrap());
    assert!(
        signed.get("Over60").is_none() && signed.get("Email").is_none(),
        "{signed}"
    );
    assert_eq!(signed["formulas"][0]["name"], json!("Over60"));

    // A bad formula and no attributes: ValidationError with description and link.
    let (status, body) = dev
        .post_json(
            "/api/v1/customer_attributes",
            Some(&bob),
            r#"{"attributes": [{"name": "X", "definition": {"source": "FORMULA", "formula": "Age >>"}}]}"#,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let failure = &body["validation_failures"][0];
    assert_eq!(
        failure["property"],
        json!("attributes[0].definition.formula")
    );
    assert!(
        failure["description"]
            .as_str()
            .unwrap()
            .contains("Age >= 65")
    );
    assert_eq!(
        failure["link"],
        json!(format!("{}/docs/api.html#formulas", dev.origin))
    );
    let (status, body) = dev
        .post_json(
            "/api/v1/customer_attributes",
            Some(&bob),
            r#"{"attributes": []}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["validation_failures"][0]["link"],
        json!(format!("{}/docs/api.html#request", dev.origin))
    );
}

#[tokio::test]
async fn verify_customer_attributes_round_trip_and_tampering() {
    let dev = start("").await;
    let alice = dev.token("alice").await;
    let (status, body) = dev
        .get_json(
            "/api/v1/customer_attributes?authoritative_attributes=Email&self_asserted_attributes=FirstName&sign=true",
            Some(&alice),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let jwt = body["signed_attributes"].as_str().unwrap().to_string();
    let request = json!({"signed_attributes": jwt}).to_string();
    let (status, verified) = dev
        .post_json("/api/v1/verify_customer_attributes", None, &request)
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["attributes"], body["attributes"]);

    let mut tampered = jwt.clone();
    tampered.insert(jwt.find('.').unwrap() + 2, 'x');
    let request = json!({"signed_attributes": tampered}).to_string();
    let (status, _) = dev
        .post_json("/api/v1/verify_customer_attributes", None, &request)
        .await;
    assert_eq!(status, 401);
    let (status, body) = dev
        .post_json("/api/v1/verify_customer_attributes", None, "{}")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["validation_failures"][0]["property"], json!("body"));
}

#[tokio::test]
async fn customer_shared_comes_from_the_stack() {
    let dev = start("").await;
    let carol = dev.token("carol").await;
    let (status, body) = dev.get_json("/api/v1/customer_shared", Some(&carol)).await;
    assert_eq!((status, body), (200, json!({"share": "NOT_ALWAYS"})));
    let (status, _) = dev.get_json("/api/v1/customer_shared", None).await;
    assert_eq!(status, 401);

    let dev = start("customer_shared = \"ALWAYS\"").await;
    let carol = dev.token("carol").await;
    let (status, body) = dev.get_json("/api/v1/customer_shared", Some(&carol)).await;
    assert_eq!((status, body), (200, json!({"share": "ALWAYS"})));
    let (status, body) = dev.get_json("/api/v1/health", None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn the_claim_table_is_the_stacks() {
    let dev = start("[api.attribute_claims]\nQID = \"sub\"\nFirstName = \"\"").await;
    let bob = dev.token("bob").await;
    let (status, body) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=QID,FirstName",
            Some(&bob),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let got = by_name(&body);
    assert_eq!(got.len(), 1);
    assert_eq!(got["QID"]["value"], json!("test-bob"));
}

#[tokio::test]
async fn cors_for_listed_origins_on_every_response() {
    let dev = start("allowed_origins = [\"https://app.example\"]").await;
    let preflight = dev
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/customer_attributes", dev.origin),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );

    // An error carries the header too, so the caller can read it.
    let resp = dev
        .http
        .get(format!("{}/api/v1/customer_shared", dev.origin))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // The site's own origin always; an unlisted one never.
    for (origin, allowed) in [(dev.origin.as_str(), true), ("https://evil.example", false)] {
        let resp = dev
            .http
            .get(format!("{}/api/health", dev.origin))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers().get("access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
    }

    let dev = start("allowed_origins = [\"*\"]").await;
    let resp = dev
        .http
        .get(format!("{}/api/v1/health", dev.origin))
        .header("origin", "https://any.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
}

/// Every key of `value` is a property of `schema` (following `$ref`s and arrays).
fn check_against(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => schema,
    };
    match value {
        Value::Object(map) => {
            let props = schema["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: no properties in {schema}"));
            for req in schema["required"].as_array().into_iter().flatten() {
                assert!(map.contains_key(req.as_str().unwrap()), "{at}: {req}");
            }
            for (k, v) in map {
                let sub = props
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}.{k} is not in the OpenAPI schema"));
                check_against(doc, sub, v, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_against(doc, &schema["items"], v, &format!("{at}[{i}]"));
            }
        }
        Value::String(_) => {
            let t = &schema["type"];
            assert!(
                t == "string" || t.as_array().is_some_and(|a| a.contains(&json!("string"))),
                "{at}: {schema}"
            );
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_describes_what_the_code_sends() {
    let dev = start("").await;
    let (status, doc) = dev.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(
        doc["servers"][0]["url"],
        json!(format!("{}/api/v1", dev.origin))
    );
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let bob = dev.token("bob").await;
    let (_, attrs) = dev
        .post_json("/api/v1/customer_attributes", Some(&bob), GUIDE_ATTRIBUTES)
        .await;
    check_against(
        &doc,
        &schema("CustomerAttributesResponse"),
        &attrs,
        "attributes",
    );
    let request = json!({"signed_attributes": attrs["signed_attributes"]}).to_string();
    let (_, verified) = dev
        .post_json("/api/v1/verify_customer_attributes", None, &request)
        .await;
    check_against(
        &doc,
        &schema("VerifyAttributesResponse"),
        &verified,
        "verify",
    );
    let (_, invalid) = dev
        .post_json("/api/v1/customer_attributes", Some(&bob), "[]")
        .await;
    check_against(&doc, &schema("ValidationError"), &invalid, "invalid");
    let (_, shared) = dev.get_json("/api/v1/customer_shared", Some(&bob)).await;
    check_against(
        &doc,
        &schema("CustomerSharingPreference"),
        &shared,
        "shared",
    );
    let (_, refused) = dev.get_json("/api/v1/customer_shared", None).await;
    check_against(&doc, &schema("Error"), &refused, "refused");
    let (_, health) = dev.get_json("/api/v1/health", None).await;
    check_against(&doc, &schema("HealthResponse"), &health, "health");
    // Valid OpenAPI 3.1 by the pinned validator from PyPI (requirements.txt, installed by scripts/setup).
    validate_with_pinned_validator(&doc, "3.1");
    // The request example is a CustomerAttributesRequest.
    let guide = json!({"attributes": [{"name": "GivenName", "definition": {"pedigree": "SELF_ASSERTED", "signed": true}}]});
    check_against(
        &doc,
        &schema("CustomerAttributesRequest"),
        &guide,
        "request",
    );
}

/// Runs the pinned validator (requirements.txt) over `doc` as `schema` ("2.0", "3.1").
fn validate_with_pinned_validator(doc: &Value, schema: &str) {
    let validator =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/openapi-spec-validator");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = std::process::Command::new(&validator)
        .args(["--schema", schema])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup)", validator.display()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_swagger_2_document_validates_and_describes_the_same_api() {
    let dev = start("signed_attributes_lifetime_seconds = 120").await;
    let (status, doc) = dev.get_json("/api/v1/swagger.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["swagger"], json!("2.0"));
    assert_eq!(doc["basePath"], json!("/api/v1"));
    assert_eq!(
        format!(
            "{}://{}",
            doc["schemes"][0].as_str().unwrap(),
            doc["host"].as_str().unwrap()
        ),
        dev.origin
    );
    let (_, openapi) = dev.get_json("/api/v1/openapi.json", None).await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&doc["paths"]), keys(&openapi["paths"]));
    assert!(doc["paths"]["/swagger.json"]["get"].is_object());
    assert_eq!(
        keys(&doc["definitions"]),
        keys(&openapi["components"]["schemas"])
    );
    for (path, item) in openapi["paths"].as_object().unwrap() {
        assert_eq!(keys(&doc["paths"][path]), keys(item), "{path}");
    }
    // The stack's lifetime of the signed set is documented in both.
    for d in [&doc["definitions"], &openapi["components"]["schemas"]] {
        let text =
            d["CustomerAttributesResponse"]["properties"]["signed_attributes"]["description"]
                .as_str()
                .unwrap();
        assert!(text.contains("120 seconds"), "{text}");
    }
    // Every operation documents the error statuses the function sends.
    let get = &doc["paths"]["/customer_attributes"]["get"]["responses"];
    for status in ["400", "401", "404", "405", "421", "503"] {
        assert!(get[status]["schema"]["$ref"].is_string(), "{status}: {get}");
    }
    validate_with_pinned_validator(&doc, "2.0");
    // The signed set lives as long as the stack says.
    let bob = dev.token("bob").await;
    let (_, attrs) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=Email&sign=True",
            Some(&bob),
        )
        .await;
    let p = payload(attrs["signed_attributes"].as_str().unwrap());
    assert_eq!(p["exp"].as_u64().unwrap() - p["iat"].as_u64().unwrap(), 120);
}

#[tokio::test]
async fn through_the_edge_unknown_names_and_bad_sign_are_400_naming_them() {
    let dev = start("").await;
    let bob = dev.token("bob").await;
    let (status, body) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=Email,Qidd",
            Some(&bob),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["validation_failures"][0]["property"], json!("Qidd"));
    let (status, body) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=Email&sign=yes",
            Some(&bob),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["validation_failures"][0]["property"], json!("sign"));
    let (status, body) = dev.get_json("/api/v1/no_such_route", None).await;
    assert_eq!(status, 404);
    for field in ["code", "message", "description", "link"] {
        assert!(body[field].is_string(), "{field}: {body}");
    }
    assert_eq!(
        body["link"],
        json!(format!("{}/docs/api.html#errors", dev.origin))
    );
}

/// Percent-encodes every byte but RFC 3986's unreserved characters.
fn url_encode(s: &str) -> String {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
    s.bytes()
        .map(|b| match unreserved(b) {
            true => (b as char).to_string(),
            false => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn anonymous_sign_in_releases_no_name_or_email() {
    let site = tempfile::tempdir().unwrap();
    let text = "name = \"anon\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\nsite_dir = \".\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\nscopes = [\"openid\"]\nsign_in_on_load = true\n";
    let stack = colorid::config::parse(&site.path().join("stack.toml"), text).unwrap();
    assert_eq!(stack.identity.scopes, ["openid"]);
    // What `publish` writes as config.json for such a stack.
    let published: Value =
        serde_json::from_slice(&colorid::site::SiteConfig::of(&stack).to_json()).unwrap();
    assert_eq!(published["scopes"], json!(["openid"]));
    assert_eq!(published["signInOnLoad"], json!(true));
    let dev = start("").await;
    // What the site's config.json tells the page to ask for, by default.
    let (_, config) = dev.get_json("/config.json", None).await;
    assert_eq!(config["scopes"], json!(["openid", "profile", "email"]));

    // The code flow asking for `openid` alone, as the site does with scopes = ["openid"].
    let text = dev.sign_in("alice", &[("scope", "openid")]).await.body;
    for leak in ["Alice", "alice@example.test", "1990-05-04"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["scope"], json!("openid"));
    let token = body["id_token"].as_str().unwrap();
    let claims = payload(token);
    assert_eq!(claims["sub"], json!("test-alice"));
    assert!(claims.get("email").is_none() && claims.get("name").is_none());
    let (status, color) = dev.get_json("/api/color", Some(token)).await;
    assert_eq!(status, 200, "{color}");
    assert!(color["yourUserIdentity"].is_string());
    let (status, _) = dev
        .get_json(
            "/api/v1/customer_attributes?self_asserted_attributes=Name,FirstName,Email,DateOfBirth",
            Some(token),
        )
        .await;
    assert_eq!(status, 204);
}

#[test]
fn bad_api_and_scope_settings_name_their_field() {
    let base = "name = \"s\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\n";
    for (extra, field) in [
        ("scopes = [\"profile\"]", "identity.scopes"),
        ("scopes = [\"openid\", \"a b\"]", "identity.scopes[1]"),
        (
            "[api]\ncustomer_shared = \"SOMETIMES\"",
            "api.customer_shared",
        ),
        (
            "[api]\nallowed_origins = [\"https://app.example/path\"]",
            "api.allowed_origins[0]",
        ),
        (
            "[api.attribute_claims]\nsub = \"email\"",
            "api.attribute_claims.sub",
        ),
        (
            "[api]\nsigned_attributes_lifetime_seconds = 30",
            "api.signed_attributes_lifetime_seconds",
        ),
        (
            "[api]\nsigned_attributes_lifetime_seconds = -1",
            "api.signed_attributes_lifetime_seconds",
        ),
        (
            "[api]\nsigned_attributes_lifetime_seconds = 7200",
            "api.signed_attributes_lifetime_seconds",
        ),
    ] {
        let err = colorid::config::parse(
            std::path::Path::new("stack.toml"),
            &format!("{base}{extra}\n"),
        )
        .expect_err(extra);
        let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, [field], "{extra}");
    }
}

/// The statuses site/docs/api.html lists in "Errors" (the numbers before the `;`).
fn documented_error_statuses() -> std::collections::BTreeSet<u16> {
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site/docs/api.html"))
        .unwrap();
    let errors = &page[page
        .find("id=\"errors\"")
        .expect("api.html has an Errors section")..];
    let open = errors.find("answers (").expect("the status list") + "answers (".len();
    let list = &errors[open..open + errors[open..].find(';').unwrap()];
    list.split(',').map(|s| s.trim().parse().unwrap()).collect()
}

/// Docs and code together (issue 30): api.html's status list is the set of
/// error statuses the OpenAPI document gives its routes (which
/// `the_openapi_document_describes_what_the_code_sends` checks against the
/// code), and each error a client can provoke is one of them, with the four
/// fields api.html promises and a link to a section api.html has.
#[tokio::test]
async fn api_html_lists_the_error_statuses_the_function_answers() {
    let documented = documented_error_statuses();
    let dev = start("").await;
    let (_, doc) = dev.get_json("/api/v1/openapi.json", None).await;
    let mut described = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for status in op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|r| r.0)
            {
                let status: u16 = status.parse().unwrap();
                if status >= 400 {
                    described.insert(status);
                }
            }
        }
    }
    assert_eq!(
        documented, described,
        "site/docs/api.html's Errors list and /api/v1/openapi.json disagree"
    );
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site/docs/api.html"))
        .unwrap();
    let bob = dev.token("bob").await;
    let provoked = [
        dev.post_json("/api/v1/customer_attributes", Some(&bob), "[]")
            .await,
        dev.get_json("/api/v1/customer_shared", None).await,
        dev.get_json("/api/v1/no_such_route", Some(&bob)).await,
        dev.post_json("/api/v1/health", None, "{}").await,
    ];
    let statuses: Vec<u16> = provoked.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [400, 401, 404, 405]);
    for (status, body) in &provoked {
        assert!(documented.contains(status), "{status} is not in api.html");
        for field in ["code", "message", "description", "link"] {
            assert!(body[field].is_string(), "{status} without {field}: {body}");
        }
        let link = body["link"].as_str().unwrap();
        let anchor = link.rsplit_once('#').map(|(_, a)| a).unwrap_or_default();
        assert!(
            link.starts_with(&format!("{}/docs/api.html#", dev.origin))
                && page.contains(&format!("id=\"{anchor}\"")),
            "{status}: {link} is not a section of api.html"
        );
    }
}

/// Issue 27: through the edge of `colorid dev`, `/api/attributes` and
/// `/api/v1/customer_attributes` are two doors onto one pipeline: the same
/// request gets the same values (strings; the stack's `[api.attribute_claims]`
/// read by both) and a signed set that states the same.
#[tokio::test]
async fn the_first_api_and_v1_give_the_same_values_for_the_same_request() {
    let dev = start("[api.attribute_claims]\nQID = \"sub\"").await;
    let bob = dev.token("bob").await;
    let statement = |jwt: &str| {
        let mut p = payload(jwt);
        let m = p.as_object_mut().unwrap();
        m.remove("iat");
        m.remove("exp");
        p
    };
    let query = "?authoritative_attributes=DateOfBirth,Email\
                 &self_asserted_attributes=FirstName,QID,AuthenticationMethod,FamilyName&sign=true&nonce=n-1";
    let (legacy_status, legacy) = dev
        .get_json(&format!("/api/attributes{query}"), Some(&bob))
        .await;
    let (v1_status, v1) = dev
        .get_json(&format!("/api/v1/customer_attributes{query}"), Some(&bob))
        .await;
    assert_eq!((legacy_status, v1_status), (200, 200), "{legacy} / {v1}");
    assert_eq!(legacy["attributes"], v1["attributes"]);
    let got = by_name(&legacy);
    assert_eq!(got["FirstName"]["value"], json!("Bob"));
    assert_eq!(got["QID"]["value"], json!("test-bob"));
    assert_eq!(got["AuthenticationMethod"]["value"], json!("pwd otp"));
    assert!(got.values().all(|a| a["value"].is_string()), "{legacy}");
    assert_eq!(
        statement(legacy["signed_attributes"].as_str().unwrap()),
        statement(v1["signed_attributes"].as_str().unwrap())
    );

    let body = r#"{"attributes": [
        {"name": "Senior", "definition": {"source": "FORMULA", "pedigree": "AUTHORITATIVE", "signed": true, "formula": "Age >= 65"}},
        {"name": "Email", "definition": {"pedigree": "AUTHORITATIVE", "signed": true}}
    ]}"#;
    let (legacy_status, legacy) = dev.post_json("/api/attributes", Some(&bob), body).await;
    let (v1_status, v1) = dev
        .post_json("/api/v1/customer_attributes", Some(&bob), body)
        .await;
    assert_eq!((legacy_status, v1_status), (200, 200), "{legacy} / {v1}");
    assert_eq!(legacy["attributes"], v1["attributes"]);
    assert_eq!(by_name(&legacy)["Senior"]["value"], json!("true"));
    assert_eq!(
        statement(legacy["signed_attributes"].as_str().unwrap()),
        statement(v1["signed_attributes"].as_str().unwrap())
    );
}
