//! `GET /api/v1/openapi.json`: the API as built, in OpenAPI 3.1. The document
//! is the text of `openapi.json` beside this file with the stack's own values
//! set in (its site, attribute names and signed-attributes lifetime) and the
//! statuses every route may answer added to each operation. The schemas are
//! checked against the serialized types in `tests/it/api_v1.rs`, which also
//! runs a validator from PyPI over the document.

use serde_json::{Value, json};

use crate::settings::{SHARING_PREFERENCES, Settings};

/// The document's fixed text. Text, not code: built by `json!` it was 50 KB of
/// the function's machine code, read only when a developer asks for it.
const TEMPLATE: &str = include_str!("openapi.json");

/// Where [`document`] sets the stack's values in the template.
const SERVER_URL: &str = "/servers/0/url";
const NAME_EXAMPLES: &str = "/components/schemas/CustomerAttributeRequest/properties/name/examples";
const SIGNED_DESCRIPTION: &str =
    "/components/schemas/CustomerAttributesResponse/properties/signed_attributes/description";
const SHARE_ENUM: &str = "/components/schemas/CustomerSharingPreference/properties/share/enum";

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "headers": {
            "Access-Control-Allow-Origin": {"schema": {"type": "string"},
                "description": "The caller's origin when it is the site's or listed in [api] allowed_origins; * only when listed"}
        },
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

/// The statuses every route may answer besides its own, each with an `Error` body.
fn common_errors() -> [(&'static str, Value); 4] {
    [
        ("404", json_response("No such route", "Error")),
        (
            "405",
            json_response("Method not allowed (see Allow)", "Error"),
        ),
        ("421", json_response("Not sent through the site", "Error")),
        (
            "503",
            json_response(
                "Not configured, or the identity provider's keys unavailable",
                "Error",
            ),
        ),
    ]
}

/// The OpenAPI 3.1 document of `/api/v1` for this stack.
pub fn document(settings: &Settings) -> Value {
    // The template is checked to parse by this module's tests.
    let mut doc: Value = serde_json::from_str(TEMPLATE).unwrap_or_default();
    let names: Vec<&String> = settings.attribute_names.table().keys().collect();
    let values = [
        (
            SERVER_URL,
            json!(format!(
                "{}/api/v1",
                settings.site_url.trim_end_matches('/')
            )),
        ),
        (NAME_EXAMPLES, json!(names)),
        (
            SIGNED_DESCRIPTION,
            json!(format!(
                "ES256 JWT with each signed AUTHORITATIVE attribute as a top-level claim; every signed value is in its attributes (formula results in formulas), with its pedigree; valid for {} seconds from its iat (the stack's [api] signed_attributes_lifetime_seconds)",
                settings.signed_lifetime_seconds
            )),
        ),
        (SHARE_ENUM, json!(SHARING_PREFERENCES)),
    ];
    for (pointer, value) in values {
        if let Some(slot) = doc.pointer_mut(pointer) {
            *slot = value;
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|m| m.values_mut())
        {
            if let Some(Value::Object(responses)) = op.get_mut("responses") {
                for (status, r) in common_errors() {
                    responses.entry(status).or_insert(r);
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template parses, and every value `document` sets is there to be
    /// set: a placeholder in braces, so an edit that moves one fails here.
    #[test]
    fn the_template_has_each_place_for_the_stacks_values() {
        let doc: Value = serde_json::from_str(TEMPLATE).expect("openapi.json is JSON");
        for pointer in [SERVER_URL, NAME_EXAMPLES, SIGNED_DESCRIPTION, SHARE_ENUM] {
            let text = doc.pointer(pointer).map(Value::to_string);
            assert!(
                text.as_deref().is_some_and(|t| t.contains('{')),
                "{pointer}: {text:?}"
            );
        }
    }

    /// The stack's values are set and no placeholder is left.
    #[test]
    fn the_document_carries_the_stacks_values() {
        let settings = Settings::new(
            "https://issuer.example".to_string(),
            "client",
            "secret",
            String::new(),
            "https://color.example.com/",
            Vec::<String>::new(),
        );
        let doc = document(&settings);
        assert_eq!(
            doc.pointer(SERVER_URL),
            Some(&json!("https://color.example.com/api/v1"))
        );
        let names = doc.pointer(NAME_EXAMPLES).and_then(Value::as_array);
        assert!(names.is_some_and(|n| n.len() == settings.attribute_names.table().len()));
        let lifetime = format!("valid for {} seconds", settings.signed_lifetime_seconds);
        assert!(
            doc.pointer(SIGNED_DESCRIPTION)
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains(&lifetime))
        );
        assert_eq!(doc.pointer(SHARE_ENUM), Some(&json!(SHARING_PREFERENCES)));
        let text = doc.to_string();
        assert!(
            !text.contains("{site_url}") && !text.contains("{lifetime}"),
            "{text}"
        );
        let responses = &doc["paths"]["/health"]["get"]["responses"];
        assert_eq!(
            responses["503"]["description"],
            json!("Not configured, or the identity provider's keys unavailable")
        );
    }
}
