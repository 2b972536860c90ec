//! Staying signed in with the test provider: the refresh tokens it has
//! issued (rotated: each is used once) when `offline_access` is granted, and
//! the session cookie that lets `prompt=none` re-authenticate without the
//! user chooser.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::keys::random_token;

/// The provider's session cookie, set when a user is chosen.
const SESSION_COOKIE: &str = "colorid_idp_session";
/// The environment variable that shortens id token lifetimes (tests of renewal).
pub const TOKEN_SECONDS_ENV: &str = "COLORID_DEV_TOKEN_SECONDS";

/// Refresh tokens and sessions not yet spent or ended.
#[derive(Default)]
pub(super) struct Renewals {
    /// Refresh token → (user, scope); each is used once (rotation).
    pub(super) refresh: Mutex<HashMap<String, (usize, String)>>,
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
