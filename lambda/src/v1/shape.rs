//! The `/api/v1` response shapes of the Swagger definition: `ValidationError`
//! with a description and a link to the API's documentation page for each
//! failure, and the `Error` shape every error status gets.

use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::attributes::ValidationFailure;
use crate::response;

/// The documentation page of the API, under the site.
pub const DOCS_PATH: &str = "/docs/api.html";

/// The docs anchor and the fix for a failing property.
fn explain(property: &str) -> (&'static str, &'static str) {
    if property == "attributes" {
        (
            "request",
            "Send a CustomerAttributesRequest: {\"attributes\": [{\"name\": ...}]} with at least one attribute.",
        )
    } else if property.ends_with(".name") {
        (
            "names",
            "Use an attribute name of the table (e.g. FirstName, Email, DateOfBirth); a FORMULA needs a name of its own that is no attribute or claim name.",
        )
    } else if property.ends_with(".formula") {
        (
            "formulas",
            "Write a formula over attributes, e.g. \"Age >= 65\"; see the formula grammar.",
        )
    } else if property == "sign" {
        (
            "request",
            "Give sign as true or false (True/False and 1/0 are accepted too), or leave it out.",
        )
    } else if property == "audience" || property == "nonce" {
        (
            "binding",
            "Give audience and nonce as 1 to 256 bytes without control characters.",
        )
    } else if property != "body" && !property.contains(['.', '[']) {
        // An unknown attribute name is its own property.
        (
            "names",
            "Use a name of the attribute table (e.g. FirstName, Email, DateOfBirth), or map this name to a claim in the stack's [api.attribute_claims].",
        )
    } else {
        (
            "request",
            "Send a JSON body in the documented shape with Content-Type: application/json.",
        )
    }
}

fn link(site_url: &str, anchor: &str) -> String {
    format!("{}{DOCS_PATH}#{anchor}", site_url.trim_end_matches('/'))
}

/// 400 `ValidationError`.
pub fn validation_error(
    site_url: &str,
    message: &str,
    failures: &[ValidationFailure],
) -> Response<Body> {
    let entries: Vec<Value> = failures
        .iter()
        .map(|f| {
            let (anchor, description) = explain(&f.property);
            json!({
                "property": f.property,
                "failure_reason": f.failure_reason,
                "description": description,
                "link": link(site_url, anchor),
            })
        })
        .collect();
    response::json(
        400,
        &json!({
            "code": "invalid_request",
            "message": message,
            "description": "Do not repeat the request until the input has been fixed.",
            "link": link(site_url, "errors"),
            "validation_failures": entries,
        }),
    )
}

/// The `description` of an error status: what the client should do.
fn describe(status: u16, code: &str) -> &'static str {
    match (status, code) {
        (401, "insufficient_assurance") => {
            "Sign in again at the assurance level named in WWW-Authenticate (acr_values), then repeat the request."
        }
        (401, _) => {
            "Missing, invalid or expired credentials: sign in again and send the ID token as Authorization: Bearer <token>."
        }
        (403, _) => "The request is not allowed for these credentials; do not repeat it unchanged.",
        (404, _) => "No such route: the routes are listed in /api/v1/openapi.json.",
        (405, _) => "The route does not answer this method: use one the Allow header lists.",
        (421, _) => "Requests must come through the site's address, not to the function directly.",
        (503, _) => "The service is unavailable for now: try again in a moment.",
        (s, _) if s >= 500 => {
            "Unknown server error: try again; if it persists, see the function's log."
        }
        _ => "See the API documentation for this status.",
    }
}

/// Gives an error response of `/api/v1` the definition's `Error` shape:
/// whatever produced it (the origin check, authentication, routing, the
/// function's own configuration), the body has `code`, `message`,
/// `description` and `link`; the fields it had are kept. `site_url` empty
/// (no configuration loaded) gives a link relative to the site.
pub fn conform(mut resp: Response<Body>, site_url: &str) -> Response<Body> {
    let status = resp.status().as_u16();
    if status < 400 {
        return resp;
    }
    let mut body = match serde_json::from_slice::<Value>(resp.body().as_ref()) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .map_or_else(|| format!("http_{status}"), String::from);
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| match code.as_str() {
            "insufficient_assurance" => "a higher assurance level is required".into(),
            other => other.replace('_', " "),
        });
    body.entry("description")
        .or_insert_with(|| describe(status, &code).into());
    body.entry("link")
        .or_insert_with(|| link(site_url, "errors").into());
    body.insert("code".into(), Value::String(code));
    body.insert("message".into(), Value::String(message));
    *resp.body_mut() = Body::from(Value::Object(body).to_string());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// An `Error` of the definition: `code`, `message`, `description`, `link`.
pub fn error(site_url: &str, status: u16, code: &str, message: &str) -> Response<Body> {
    response::json(
        status,
        &json!({
            "code": code,
            "message": message,
            "description": describe(status, code),
            "link": link(site_url, "errors"),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_status_gets_the_four_fields_and_keeps_its_own() {
        for (status, body) in [
            (
                401,
                json!({"code": "invalid_token", "reason": "expired", "message": "m"}),
            ),
            (
                401,
                json!({"code": "insufficient_assurance", "required": "AAL2"}),
            ),
            (403, json!({})),
            (
                404,
                json!({"code": "not_found", "message": "no such route"}),
            ),
            (
                405,
                json!({"code": "method_not_allowed", "message": "use GET"}),
            ),
            (
                421,
                json!({"code": "forbidden", "message": "through the site"}),
            ),
            (
                503,
                json!({"code": "configuration_unavailable", "message": "m"}),
            ),
        ] {
            let resp = conform(response::json(status, &body), "");
            let out: Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
            for field in ["code", "message", "description", "link"] {
                assert!(
                    out[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{status} {field}: {out}"
                );
            }
            assert_eq!(out["link"], json!("/docs/api.html#errors"));
            for (k, v) in body.as_object().unwrap() {
                assert_eq!(&out[k], v, "{status} keeps {k}");
            }
        }
        let ok = conform(response::json(200, &json!({"a": 1})), "");
        assert_eq!(ok.body().as_ref(), br#"{"a":1}"#);
    }
}
