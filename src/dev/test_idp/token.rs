//! The token endpoint (public client, PKCE): an authorization code or a
//! refresh token exchanged for tokens; and revocation (RFC 7009).

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::provider::{CLIENT_ID, CODE_LIFETIME, TestIdp};
use crate::keys::random_token;

/// The token request (public client, PKCE).
#[derive(Deserialize)]
pub(super) struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn token_error(error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The S256 code challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(super) async fn token(State(idp): State<Arc<TestIdp>>, Form(p): Form<TokenParams>) -> Response {
    if p.client_id.as_deref() != Some(CLIENT_ID) {
        return token_error("invalid_client", "unknown client_id");
    }
    match p.grant_type.as_deref() {
        Some("authorization_code") => {}
        Some("refresh_token") => return refresh_grant(&idp, p.refresh_token.as_deref()),
        _ => {
            return token_error(
                "unsupported_grant_type",
                "only authorization_code and refresh_token",
            );
        }
    }
    // The code is spent whatever happens next: one attempt per code.
    let pending = p
        .code
        .as_deref()
        .and_then(|c| idp.codes.lock().ok().and_then(|mut codes| codes.remove(c)));
    let Some(pending) = pending.filter(|c| c.issued.elapsed() < CODE_LIFETIME) else {
        return token_error("invalid_grant", "unknown, used or expired code");
    };
    if p.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return token_error(
            "invalid_grant",
            "redirect_uri differs from the authorization request",
        );
    }
    let verifier = p.code_verifier.unwrap_or_default();
    if verifier.len() < 43 || challenge_of(&verifier) != pending.challenge {
        return token_error("invalid_grant", "PKCE verification failed");
    }
    let access_token = match &pending.audience {
        Some(api) => idp.access_token(pending.user, api, &pending.scope),
        None => Ok(random_token()),
    };
    match idp
        .id_token(pending.user, pending.nonce.as_deref(), &pending.scope)
        .and_then(|id| Ok((id, access_token?)))
    {
        Ok((id_token, access_token)) => {
            tokens(&idp, pending.user, &pending.scope, access_token, id_token)
        }
        Err(e) => token_error("server_error", &e),
    }
}

/// `grant_type=refresh_token`: spends the token, answers a new id token and a new refresh token.
fn refresh_grant(idp: &TestIdp, refresh_token: Option<&str>) -> Response {
    let spent = refresh_token.and_then(|t| idp.renewals.refresh.lock().ok()?.remove(t));
    let Some((user, scope)) = spent else {
        return token_error("invalid_grant", "unknown or already used refresh token");
    };
    match idp.id_token(user, None, &scope) {
        Ok(id_token) => tokens(idp, user, &scope, random_token(), id_token),
        Err(e) => token_error("server_error", &e),
    }
}

/// The token response: the tokens, and a new refresh token when `scope`
/// grants `offline_access`; never cached.
fn tokens(
    idp: &TestIdp,
    user: usize,
    scope: &str,
    access_token: String,
    id_token: String,
) -> Response {
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": idp.token_seconds,
        "id_token": id_token,
        "scope": scope,
    });
    if let Some(t) = idp.renewals.issue(user, scope) {
        body["refresh_token"] = json!(t);
    }
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A revocation request (RFC 7009, 2.1), from a public client.
#[derive(Deserialize)]
pub(super) struct RevokeParams {
    token: Option<String>,
    // `token_type_hint` is only a hint (RFC 7009, 2.1): every kind is looked up.
    client_id: Option<String>,
}

/// `POST /revoke`: forgets a refresh token, so the token endpoint refuses it
/// from then on. 200 also for a token it does not know (RFC 7009, 2.2): its
/// access tokens are not kept, so they are "already invalid" to it.
pub(super) async fn revoke(
    State(idp): State<Arc<TestIdp>>,
    Form(p): Form<RevokeParams>,
) -> Response {
    if p.client_id.as_deref() != Some(CLIENT_ID) {
        let body = json!({"error": "invalid_client", "error_description": "unknown client_id"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let Some(token) = p.token.filter(|t| !t.is_empty()) else {
        return token_error("invalid_request", "the token parameter is required");
    };
    if let Ok(mut refresh) = idp.renewals.refresh.lock() {
        refresh.remove(&token);
    }
    StatusCode::OK.into_response()
}
