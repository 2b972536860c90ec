//! The test provider's token and revocation endpoints on a second loopback
//! origin, as Cognito (`<domain>.auth.<region>.amazoncognito.com`) and Google
//! (`oauth2.googleapis.com`) serve theirs apart from their issuers: the site
//! then fetches across origins, which its Content-Security-Policy must allow
//! and which the endpoints answer with CORS for the site's origin only.
//! `colorid dev` turns it on with [`ENV`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::provider::TestIdp;

/// Set to `1`, `colorid dev` serves the test provider's token and revocation
/// endpoints on a second loopback port.
pub const ENV: &str = "COLORID_DEV_SEPARATE_TOKEN_ORIGIN";

/// Whether [`ENV`] asks for the second origin.
pub fn wanted() -> bool {
    std::env::var(ENV).is_ok_and(|v| v == "1")
}

/// `/idp/token` and `/idp/revoke`, for the second origin.
pub fn router(idp: Arc<TestIdp>) -> Router {
    let endpoints = Router::new()
        .route("/token", post(super::token::token))
        .route("/revoke", post(super::token::revoke))
        .with_state(idp.clone());
    Router::new()
        .nest("/idp", endpoints)
        .layer(axum::middleware::from_fn_with_state(idp, cors))
}

/// CORS for the site's origin: the answer readable by its fetches, and the
/// preflight a non-simple request would send.
async fn cors(State(idp): State<Arc<TestIdp>>, req: Request, next: Next) -> Response {
    let from_site = req
        .headers()
        .get(header::ORIGIN)
        .is_some_and(|o| o.as_bytes() == idp.site_origin().as_bytes());
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if from_site && let Ok(origin) = HeaderValue::from_str(idp.site_origin()) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
    }
    resp
}
