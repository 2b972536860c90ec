//! JSON responses.

use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::token::Reason;

/// A JSON response with `status`; never cached, since bodies are per user.
pub fn json(status: u16, body: &Value) -> Response<Body> {
    json_of(status, body)
}

/// [`json`] of any serializable body (a struct serializes without building a `Value`).
pub fn json_of<T: serde::Serialize + ?Sized>(status: u16, body: &T) -> Response<Body> {
    // Serializing plain data into memory cannot fail; `null` is never sent in practice.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "null".into());
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// 204 with no body.
pub fn no_content() -> Response<Body> {
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = http::StatusCode::NO_CONTENT;
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    resp
}

/// A JSON error `{"code", "message"}`.
pub fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    json(status, &json!({"code": code, "message": message}))
}

/// 401 for a refused token, with its reason code.
pub fn unauthorized(reason: &Reason) -> Response<Body> {
    let code = reason.code();
    let message = match reason.hint() {
        Some(hint) => format!("the token was refused: {code}: {hint}"),
        None => format!("the token was refused: {code}"),
    };
    let mut resp = json(
        401,
        &json!({"code": "invalid_token", "reason": code, "message": message}),
    );
    resp.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static(r#"Bearer error="invalid_token""#),
    );
    resp
}

/// 401 for a token below the required assurance level, as RFC 9470 (OAuth
/// step-up) answers it: `insufficient_user_authentication` with the
/// `acr_values` to ask for. Not 403, which the distribution maps to its 404
/// page for every path.
pub fn insufficient_assurance(required: &str) -> Response<Body> {
    let mut resp = json(
        401,
        &json!({"code": "insufficient_assurance", "required": required}),
    );
    let challenge = format!(
        r#"Bearer error="insufficient_user_authentication", error_description="a higher assurance level is required", acr_values="{required}""#
    );
    if let Ok(v) = http::HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// 400 with validation failures.
pub fn bad_request(message: &str, failures: Value) -> Response<Body> {
    json(
        400,
        &json!({"code": "invalid_request", "message": message, "validation_failures": failures}),
    )
}

/// 405 naming the allowed methods.
pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut resp = error(405, "method_not_allowed", &format!("use {allow}"));
    resp.headers_mut()
        .insert(http::header::ALLOW, http::HeaderValue::from_static(allow));
    resp
}
