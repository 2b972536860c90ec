//! `GET /api/v1/openapi.json`: the API as built, in OpenAPI 3.1. The schemas
//! are checked against the serialized types in `lambda/tests/openapi.rs`;
//! scripts/test runs a validator from PyPI over the document.

use serde_json::{Value, json};

use crate::settings::{SHARING_PREFERENCES, Settings};

fn headers() -> Value {
    json!({
        "Access-Control-Allow-Origin": {"schema": {"type": "string"},
            "description": "The caller's origin when it is the site's or listed in [api] allowed_origins; * only when listed"}
    })
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "headers": headers(),
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn empty_response(description: &str) -> Value {
    json!({"description": description, "headers": headers()})
}

fn preflight() -> Value {
    json!({
        "summary": "CORS preflight",
        "security": [],
        "responses": {"204": {"description": "Allowed methods and headers", "headers": {
            "Access-Control-Allow-Origin": {"schema": {"type": "string"}},
            "Access-Control-Allow-Methods": {"schema": {"type": "string"}},
            "Access-Control-Allow-Headers": {"schema": {"type": "string"}}
        }}}
    })
}

fn attributes_responses() -> Value {
    json!({
        "200": json_response("The attributes that have a value", "CustomerAttributesResponse"),
        "204": empty_response("None of the requested attributes had a value"),
        "400": json_response("No attributes requested, or an invalid attribute or formula", "ValidationError"),
        "401": json_response("Missing, invalid or expired token", "Error"),
        "500": json_response("Unknown server error", "Error")
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

fn schemas(settings: &Settings) -> Value {
    let names: Vec<&String> = settings.attribute_names.table().keys().collect();
    json!({
        "CustomerSharingPreference": {"type": "object", "required": ["share"],
            "properties": {"share": {"type": "string", "enum": SHARING_PREFERENCES}}},
        "CustomerAttributeDefinition": {"type": "object",
            "properties": {
                "source": {"type": "string", "enum": ["ATTRIBUTE", "FORMULA"], "default": "ATTRIBUTE"},
                "pedigree": {"type": "string", "enum": ["AUTHORITATIVE", "SELF_ASSERTED"], "default": "SELF_ASSERTED"},
                "signed": {"type": "boolean", "default": false},
                "formula": {"type": "string", "description": "For source FORMULA, e.g. \"Age >= 65\"; the spelling forumla is accepted too"}
            }},
        "CustomerAttributeRequest": {"type": "object", "required": ["name"],
            "properties": {
                "name": {"type": "string", "description": "An attribute name, or a formula's own name",
                         "examples": names},
                "definition": {"$ref": "#/components/schemas/CustomerAttributeDefinition"}
            }},
        "CustomerAttributesRequest": {"type": "object", "required": ["attributes"],
            "properties": {
                "attributes": {"type": "array", "items": {"$ref": "#/components/schemas/CustomerAttributeRequest"}},
                "audience": {"type": "string", "description": "The aud of the signed attributes"},
                "nonce": {"type": "string", "description": "Copied into the signed attributes"}
            }},
        "AttributeMetadata": {"type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": "string"}}},
        "CustomerAttributeResponse": {"type": "object", "required": ["name", "value"],
            "properties": {
                "name": {"type": "string"},
                "value": {"type": "string"},
                "metadata": {"type": "array", "items": {"$ref": "#/components/schemas/AttributeMetadata"}},
                "definition": {"$ref": "#/components/schemas/CustomerAttributeDefinition"}
            }},
        "CustomerAttributesResponse": {"type": "object", "required": ["attributes"],
            "properties": {
                "attributes": {"type": "array", "items": {"$ref": "#/components/schemas/CustomerAttributeResponse"}},
                "signed_attributes": {"type": "string", "description": format!(
                    "ES256 JWT with each signed AUTHORITATIVE attribute as a top-level claim; every signed value is in its attributes (formula results in formulas), with its pedigree; valid for {} seconds from its iat (the stack's [api] signed_attributes_lifetime_seconds)",
                    settings.signed_lifetime_seconds)}
            }},
        "VerifyAttributesRequest": {"type": "object", "required": ["signed_attributes"],
            "properties": {
                "signed_attributes": {"type": "string"},
                "audience": {"type": "string"},
                "nonce": {"type": "string"}
            }},
        "VerifyAttributesResponse": {"type": "object", "required": ["attributes"],
            "properties": {
                "attributes": {"type": "array", "items": {"$ref": "#/components/schemas/CustomerAttributeResponse"}},
                "formulas": {"type": "array", "description": "Formula results, never attributes: read each definition.formula", "items": {"$ref": "#/components/schemas/CustomerAttributeResponse"}},
                "sub": {"type": "string"},
                "audience": {"type": "string"},
                "nonce": {"type": ["string", "null"]},
                "issued_at": {"type": "integer"},
                "expires_at": {"type": "integer"}
            }},
        "HealthResponse": {"type": "object", "properties": {"status": {"type": "string"}}},
        "Error": {"type": "object",
            "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "description": {"type": "string"}, "link": {"type": "string"},
                "reason": {"type": "string"}
            }},
        "ValidationFailures": {"type": "object",
            "properties": {
                "property": {"type": "string"}, "failure_reason": {"type": "string"},
                "description": {"type": "string"}, "link": {"type": "string"}
            }},
        "ValidationError": {"type": "object",
            "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "description": {"type": "string"}, "link": {"type": "string"},
                "validation_failures": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationFailures"}}
            }}
    })
}

/// The OpenAPI 3.1 document of `/api/v1` for this stack.
pub fn document(settings: &Settings) -> Value {
    let mut doc = paths_and_schemas(settings);
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

fn paths_and_schemas(settings: &Settings) -> Value {
    let server = format!("{}/api/v1", settings.site_url.trim_end_matches('/'));
    let query = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false,
               "description": description, "schema": {"type": "string"}})
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "colorid Customer Attributes API",
            "version": "1.0.0",
            "description": "The CIDM Customer Attributes API over OpenID Connect: attributes of the signed-in user, by the names of the stack's attribute table."
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": {
            "/health": {
                "get": {"summary": "Health", "security": [], "responses": {
                    "200": json_response("The function is up", "HealthResponse"),
                    "500": json_response("Unknown server error", "Error")}},
                "options": preflight()
            },
            "/customer_shared": {
                "get": {"summary": "The user's sharing preference (the stack's [api] customer_shared)",
                        "responses": {
                    "200": json_response("The preference", "CustomerSharingPreference"),
                    "401": json_response("Missing, invalid or expired token", "Error"),
                    "500": json_response("Unknown server error", "Error")}},
                "options": preflight()
            },
            "/customer_attributes": {
                "get": {
                    "summary": "Attributes by name lists, or by a URL-encoded CustomerAttributesRequest",
                    "parameters": [
                        query("authoritative_attributes", "Comma-separated names required at AUTHORITATIVE pedigree"),
                        query("self_asserted_attributes", "Comma-separated names required at least at SELF_ASSERTED pedigree"),
                        query("sign", "true or false (also True/False, 1/0): sign every listed attribute; any other value is a 400"),
                        query("attributes", "A CustomerAttributesRequest as URL-encoded JSON"),
                        query("audience", "The aud of the signed attributes"),
                        query("nonce", "Copied into the signed attributes")
                    ],
                    "responses": attributes_responses()
                },
                "post": {
                    "summary": "Attributes by definition",
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CustomerAttributesRequest"}}}},
                    "responses": attributes_responses()
                },
                "options": preflight()
            },
            "/verify_customer_attributes": {
                "post": {
                    "summary": "Verify signed attributes",
                    "security": [],
                    "requestBody": {"required": true, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/VerifyAttributesRequest"}}}},
                    "responses": {
                        "200": json_response("The signed attributes", "VerifyAttributesResponse"),
                        "400": json_response("Invalid request payload", "ValidationError"),
                        "401": json_response("Tampered, expired or foreign signed attributes", "Error"),
                        "500": json_response("Unknown server error", "Error")
                    }
                },
                "options": preflight()
            },
            "/openapi.json": {
                "get": {"summary": "This document", "security": [], "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            },
            "/swagger.json": {
                "get": {"summary": "This description in Swagger 2.0", "security": [], "responses": {
                    "200": {"description": "Swagger 2.0", "content": {"application/json": {"schema": {"type": "object"}}}}}}
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "The OpenID Connect ID token"}},
            "schemas": schemas(settings)
        }
    })
}
