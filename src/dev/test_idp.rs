//! A TEST OpenID provider for local development only: discovery, JWKS, an
//! authorize page that lists test users, a token endpoint that checks PKCE
//! (S256) and one-time codes, RFC 7009 revocation, and an end-session
//! endpoint. It signs ES256 id tokens with a key generated per run. Anyone
//! who can reach it can sign in as anyone: never expose it. Its token and
//! revocation endpoints can live on a second origin ([`token_origin`]), as
//! Cognito's and Google's do.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use serde::Deserialize;
use serde_json::{Value, json};

mod authorize;
mod provider;
mod renewals;
mod token;
pub mod token_origin;

pub use provider::{CLIENT_ID, DEFAULT_SCOPE, TestIdp, TestUser, WARNING, claims_for_scope, users};
pub use renewals::TOKEN_SECONDS_ENV;
pub use token::challenge_of;

impl TestIdp {
    /// The routes, to be nested under `/idp`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize::page).post(authorize::submit))
            .route("/token", post(token::token))
            .route("/revoke", post(token::revoke))
            .route("/logout", get(logout))
            .with_state(self)
    }
}

async fn discovery(State(idp): State<Arc<TestIdp>>) -> Json<Value> {
    Json(idp.discovery_document())
}

async fn jwks(State(idp): State<Arc<TestIdp>>) -> Json<Value> {
    Json(json!({"keys": [idp.key.jwk]}))
}

#[derive(Deserialize)]
struct LogoutParams {
    post_logout_redirect_uri: Option<String>,
}

async fn logout(
    State(idp): State<Arc<TestIdp>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<LogoutParams>,
) -> Response {
    idp.renewals.end_session(&headers);
    match p.post_logout_redirect_uri {
        Some(to) if to.starts_with(&idp.origin) => Redirect::to(&to).into_response(),
        _ => Html(format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Signed out</title>\
             <h1>Signed out</h1><p><em>{WARNING}</em></p></html>"
        ))
        .into_response(),
    }
}
