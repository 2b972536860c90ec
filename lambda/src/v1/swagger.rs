//! `GET /api/v1/swagger.json`: the same API in Swagger 2.0, for the tooling
//! the CIDM guide's definition was written for. Derived from the OpenAPI 3.1
//! document (one description, two formats), so the two cannot disagree.

use serde_json::{Map, Value, json};

use super::openapi;
use crate::settings::Settings;

/// A 3.1 schema in 2.0 terms: `$ref`s to `#/definitions/`, a nullable
/// `type` list as `x-nullable`, and `examples` (3.1 only) as one `example`.
fn schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        let r = r.replace("#/components/schemas/", "#/definitions/");
                        out.insert(k.clone(), Value::String(r));
                    }
                    ("type", Value::Array(types)) => {
                        let first = types.iter().find(|t| *t != "null").cloned();
                        out.insert(k.clone(), first.unwrap_or(json!("string")));
                        if types.iter().any(|t| t == "null") {
                            out.insert("x-nullable".into(), Value::Bool(true));
                        }
                    }
                    ("examples", Value::Array(list)) => {
                        if let Some(first) = list.first() {
                            out.insert("example".into(), first.clone());
                        }
                    }
                    _ => {
                        out.insert(k.clone(), schema(v));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(schema).collect()),
        other => other.clone(),
    }
}

/// A 3.1 parameter (`schema` inside) as a 2.0 one (`type` beside).
fn parameter(p: &Value) -> Value {
    let mut out = p.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(s)) = out.remove("schema") {
        out.extend(s);
    }
    Value::Object(out)
}

/// A 3.1 response (`content` and header `schema`s) as a 2.0 one.
fn response(r: &Value) -> Value {
    let mut out = json!({"description": r["description"]});
    if let Some(s) = r.pointer("/content/application~1json/schema") {
        out["schema"] = schema(s);
    }
    if let Some(Value::Object(headers)) = r.get("headers") {
        let headers: Map<String, Value> = headers
            .iter()
            .map(|(name, h)| (name.clone(), parameter(h)))
            .collect();
        out["headers"] = Value::Object(headers);
    }
    out
}

fn operation(op: &Value) -> Value {
    let mut out = Map::new();
    for key in ["summary", "security"] {
        if let Some(v) = op.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    let mut params: Vec<Value> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().map(parameter).collect())
        .unwrap_or_default();
    if let Some(body) = op.get("requestBody") {
        params.push(json!({
            "name": "body",
            "in": "body",
            "required": body["required"].as_bool().unwrap_or(false),
            "schema": schema(&body["content"]["application/json"]["schema"]),
        }));
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    let responses: Map<String, Value> = op["responses"]
        .as_object()
        .map(|rs| rs.iter().map(|(c, r)| (c.clone(), response(r))).collect())
        .unwrap_or_default();
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// The Swagger 2.0 document of `/api/v1` for this stack.
pub fn document(settings: &Settings) -> Value {
    let doc = openapi::document(settings);
    let site = settings.site_url.trim_end_matches('/');
    let (scheme, host) = site.split_once("://").unwrap_or(("https", site));
    let paths: Map<String, Value> = doc["paths"]
        .as_object()
        .map(|ps| {
            ps.iter()
                .map(|(path, item)| {
                    let ops = item
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(verb, op)| (verb.clone(), operation(op)))
                                .collect()
                        })
                        .unwrap_or_default();
                    (path.clone(), Value::Object(ops))
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "swagger": "2.0",
        "info": doc["info"],
        "host": host,
        "basePath": "/api/v1",
        "schemes": [scheme],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"bearer": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "Bearer <the OpenID Connect ID token>"
        }},
        "security": [{"bearer": []}],
        "paths": paths,
        "definitions": schema(&doc["components"]["schemas"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_openapi_3_construct_is_left() {
        let s = Settings::new(
            "https://i.example/",
            "c",
            "s",
            "k",
            "https://color.example.com",
            vec![],
        );
        let doc = document(&s);
        let text = doc.to_string();
        assert!(!text.contains("#/components/"), "{text}");
        assert!(!text.contains("\"requestBody\"") && !text.contains("\"content\""));
        assert_eq!(doc["host"], json!("color.example.com"));
        assert_eq!(doc["schemes"], json!(["https"]));
        assert_eq!(
            doc["paths"]["/customer_attributes"]["post"]["parameters"][0]["in"],
            json!("body")
        );
        assert_eq!(
            doc["definitions"]["VerifyAttributesResponse"]["properties"]["nonce"],
            json!({"type": "string", "x-nullable": true})
        );
    }
}
