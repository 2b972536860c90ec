//! The `/api/v1` response shapes of the Swagger definition: attribute values
//! as strings, and `ValidationError` with a description and a link to the
//! API's documentation page for each failure.

use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::attributes::ValidationFailure;
use crate::response;

/// The documentation page of the API, under the site.
pub const DOCS_PATH: &str = "/docs/api.html";

/// A released attribute in the definition's `CustomerAttributeResponse`
/// shape: `value` is a string (`true`, `65`; a list is space-separated).
pub fn attribute(mut released: Value) -> Value {
    let text = match released.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    released["value"] = Value::String(text);
    released
}

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
    } else if property == "audience" || property == "nonce" {
        (
            "binding",
            "Give audience and nonce as 1 to 256 bytes without control characters.",
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

/// An `Error` of the definition: `code`, `message`, `description`, `link`.
pub fn error(site_url: &str, status: u16, code: &str, message: &str) -> Response<Body> {
    response::json(
        status,
        &json!({
            "code": code,
            "message": message,
            "description": "See the API documentation for this status.",
            "link": link(site_url, "errors"),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_strings() {
        let a = attribute(json!({"name": "Senior", "value": false}));
        assert_eq!(a["value"], json!("false"));
        let a = attribute(json!({"name": "AuthenticationMethod", "value": ["pwd", "otp"]}));
        assert_eq!(a["value"], json!("pwd otp"));
        let a = attribute(json!({"name": "Email", "value": "a@b.c"}));
        assert_eq!(a["value"], json!("a@b.c"));
    }
}
