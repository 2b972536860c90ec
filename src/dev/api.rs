//! `/api/*` in-process: an axum request becomes the `http::Request` the
//! identity function's handler takes, and its response goes back out.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use colorid_lambda::App;

/// The largest request body passed on; the function itself rejects far less.
const MAX_BODY: usize = 1024 * 1024;

/// Serves one `/api/*` request through the function.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let body = serde_json::json!({"code": "payload_too_large", "message": "the request body is too large"});
            return (http::StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
        }
    };
    let body = if bytes.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Binary(bytes.to_vec())
    };
    let resp = app.handle(http::Request::from_parts(parts, body)).await;
    let (parts, body) = resp.into_parts();
    let body = Body::from(body.as_ref().to_vec());
    Response::from_parts(parts, body)
}
