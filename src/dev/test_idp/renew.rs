//! Staying signed in with the test provider: refresh tokens with rotation
//! when `offline_access` is granted, their revocation (RFC 7009), and a
//! session cookie that lets `prompt=none` re-authenticate without the user
//! chooser.

use std::collections::HashMap;
use std::sync::Mutex;

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{CLIENT_ID, TestIdp, random_token, token_error};

/// The provider's session cookie, set when a user is chosen.
const SESSION_COOKIE: &str = "colorid_idp_session";
/// The environment variable that shortens id token lifetimes (tests of renewal).
pub const TOKEN_SECONDS_ENV: &str = "COLORID_DEV_TOKEN_SECONDS";

/// Refresh tokens and sessions not yet spent or ended.
#[derive(Default)]
pub(super) struct Renewals {
    /// Refresh token → (user, scope); each is used once (rotation).
    refresh: Mutex<HashMap<String, (usize, String)>>,
    /// Session cookie value → user.
    sessions: Mutex<HashMap<String, usize>>,
}

/// The id token lifetime: [`TOKEN_SECONDS_ENV`] when set to 5..=3600, else `default`.
pub(super) fn token_seconds(default: u64) -> u64 {
    std::env::var(TOKEN_SECONDS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| (5..=3600).contains(s))
        .unwrap_or(default)
}

impl Renewals {
    /// A new refresh token when `scope` grants `offline_access`.
    pub(super) fn issue(&self, user: usize, scope: &str) -> Option<String> {
        if !scope.split(' ').any(|s| s == "offline_access") {
            return None;
        }
        let t = random_token();
        self.refresh
            .lock()
            .ok()?
            .insert(t.clone(), (user, scope.to_string()));
        Some(t)
    }

    /// Starts a session for `user`; the `Set-Cookie` value.
    pub(super) fn start_session(&self, user: usize) -> Option<HeaderValue> {
        let id = random_token();
        self.sessions.lock().ok()?.insert(id.clone(), user);
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={id}; Path=/idp; HttpOnly; SameSite=Lax"
        ))
        .ok()
    }

    /// The user of the request's session cookie.
    pub(super) fn session_user(&self, headers: &HeaderMap) -> Option<usize> {
        let id = session_id(headers)?;
        self.sessions.lock().ok()?.get(&id).copied()
    }

    /// Ends the request's session.
    pub(super) fn end_session(&self, headers: &HeaderMap) {
        if let (Some(id), Ok(mut s)) = (session_id(headers), self.sessions.lock()) {
            s.remove(&id);
        }
    }
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{SESSION_COOKIE}="))
                .map(String::from)
        })
}

/// `grant_type=refresh_token`: spends the token, answers a new id token and a new refresh token.
pub(super) fn refresh_grant(idp: &TestIdp, refresh_token: Option<&str>) -> Response {
    let spent = refresh_token.and_then(|t| idp.renewals.refresh.lock().ok()?.remove(t));
    let Some((user, scope)) = spent else {
        return token_error("invalid_grant", "unknown or already used refresh token");
    };
    match idp.id_token(user, None, &scope) {
        Ok(id_token) => {
            let mut body = json!({
                "access_token": random_token(),
                "token_type": "Bearer",
                "expires_in": idp.token_seconds,
                "id_token": id_token,
                "scope": scope,
            });
            if let Some(t) = idp.renewals.issue(user, &scope) {
                body["refresh_token"] = json!(t);
            }
            let mut resp = Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => token_error("server_error", &e),
    }
}

/// `prompt=none` without a session: back to the client with `login_required`.
pub(super) fn login_required(redirect: &str, state: Option<&str>) -> Response {
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut to = format!("{redirect}{sep}error=login_required");
    if let Some(s) = state {
        to.push_str("&state=");
        to.push_str(&super::percent_encode(s));
    }
    Redirect::to(&to).into_response()
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
