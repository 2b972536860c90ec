//! The authorize endpoint: the page that lists the test users, the choice
//! that issues a one-time code (PKCE S256 required), and `prompt=none`
//! answered from the provider's session.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::provider::{CLIENT_ID, CODE_LIFETIME, DEFAULT_SCOPE, Pending, TestIdp, WARNING};
use crate::keys::random_token;

/// The authorization request, as the client sends it.
#[derive(Deserialize)]
pub(super) struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    acr_values: Option<String>,
    /// The requested scopes; absent means `openid profile email`.
    scope: Option<String>,
    /// The API to issue a JWT access token for (Auth0's parameter).
    audience: Option<String>,
    /// `none`: answer from the provider's session, never show the chooser.
    prompt: Option<String>,
    /// The chosen user (the page's buttons).
    user: Option<String>,
}

fn bad_request(message: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign-in error</title>\
         <h1>Sign-in request refused</h1><p>{}</p><p><em>{WARNING}</em></p></html>",
        escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

/// Checks the request; on success, the redirect URI.
fn check(idp: &TestIdp, p: &AuthorizeParams) -> Result<String, &'static str> {
    if p.response_type.as_deref() != Some("code") {
        return Err("response_type must be code");
    }
    if p.client_id.as_deref() != Some(CLIENT_ID) {
        return Err("unknown client_id");
    }
    let redirect = p.redirect_uri.clone().ok_or("redirect_uri is missing")?;
    if !redirect.starts_with(&idp.origin) {
        return Err("redirect_uri must be on this server's origin");
    }
    if p.code_challenge_method.as_deref() != Some("S256") || p.code_challenge.is_none() {
        return Err("PKCE with code_challenge_method=S256 is required");
    }
    Ok(redirect)
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub(super) async fn page(
    State(idp): State<Arc<TestIdp>>,
    headers: axum::http::HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    let redirect = match check(&idp, &p) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    if p.prompt.as_deref() == Some("none") {
        return match idp.renewals.session_user(&headers) {
            Some(user) => redirect_with_code(&idp, user, &p, &redirect),
            None => login_required(&redirect, p.state.as_deref()),
        };
    }
    let hidden = |name: &str, value: &Option<String>| match value {
        Some(v) => format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(v)
        ),
        None => String::new(),
    };
    let fields = [
        hidden("response_type", &p.response_type),
        hidden("client_id", &p.client_id),
        hidden("redirect_uri", &p.redirect_uri),
        hidden("state", &p.state),
        hidden("nonce", &p.nonce),
        hidden("code_challenge", &p.code_challenge),
        hidden("code_challenge_method", &p.code_challenge_method),
        hidden("acr_values", &p.acr_values),
        hidden("scope", &p.scope),
        hidden("audience", &p.audience),
    ]
    .concat();
    let wanted = p.acr_values.as_deref().unwrap_or("");
    let mut cards = String::new();
    for u in &idp.users {
        let claims = serde_json::to_string_pretty(&u.claims).unwrap_or_default();
        let acr = u.claims["acr"].as_str().unwrap_or("");
        let meets = if !wanted.is_empty() && wanted.split(' ').any(|w| w == acr) {
            " <strong>(meets the requested level)</strong>"
        } else {
            ""
        };
        cards.push_str(&format!(
            "<li><button type=\"submit\" name=\"user\" value=\"{n}\">Sign in as {n}</button>{meets}\
             <pre aria-label=\"claims of {n}\">{c}</pre></li>",
            n = u.name,
            c = escape(&claims)
        ));
    }
    let requested = if wanted.is_empty() {
        String::new()
    } else {
        format!(
            "<p>The site asks for assurance level <strong>{}</strong>.</p>",
            escape(wanted)
        )
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in — test identity provider</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111;background:#fff}}\
         .warn{{background:#fff3cd;border:2px solid #8a6d00;padding:.75rem;color:#3d3000}}\
         ul{{list-style:none;padding:0}}li{{border:1px solid #999;margin:.75rem 0;padding:.75rem}}\
         button{{font-size:1rem;padding:.5rem 1rem}}pre{{background:#f4f4f4;padding:.5rem;overflow:auto}}\
         </style></head><body><p class=\"warn\" role=\"note\"><strong>{WARNING}.</strong> \
         Pick any user; no password is asked.</p><h1>Sign in</h1>{requested}\
         <form method=\"post\" action=\"authorize\">{fields}<ul>{cards}</ul></form></body></html>"
    );
    let mut resp = Html(page).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

pub(super) async fn submit(
    State(idp): State<Arc<TestIdp>>,
    Form(p): Form<AuthorizeParams>,
) -> Response {
    let redirect = match check(&idp, &p) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    let Some(user) = idp
        .users
        .iter()
        .position(|u| Some(u.name) == p.user.as_deref())
    else {
        return bad_request("choose one of the listed users");
    };
    let mut resp = redirect_with_code(&idp, user, &p, &redirect);
    if let Some(cookie) = idp.renewals.start_session(user) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    resp
}

/// Issues a code for `user` and sends the browser back to the client with it.
fn redirect_with_code(idp: &TestIdp, user: usize, p: &AuthorizeParams, redirect: &str) -> Response {
    let redirect = redirect.to_string();
    let code = random_token();
    let pending = Pending {
        user,
        redirect_uri: redirect.clone(),
        challenge: p.code_challenge.clone().unwrap_or_default(),
        nonce: p.nonce.clone(),
        scope: p.scope.clone().unwrap_or_else(|| DEFAULT_SCOPE.into()),
        audience: p.audience.clone().filter(|a| !a.is_empty()),
        issued: Instant::now(),
    };
    if let Ok(mut codes) = idp.codes.lock() {
        codes.retain(|_, c| c.issued.elapsed() < CODE_LIFETIME);
        codes.insert(code.clone(), pending);
    }
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut to = format!("{redirect}{sep}code={code}");
    if let Some(s) = &p.state {
        to.push_str("&state=");
        to.push_str(&percent_encode(s));
    }
    Redirect::to(&to).into_response()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `prompt=none` without a session: back to the client with `login_required`.
fn login_required(redirect: &str, state: Option<&str>) -> Response {
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let mut to = format!("{redirect}{sep}error=login_required");
    if let Some(s) = state {
        to.push_str("&state=");
        to.push_str(&percent_encode(s));
    }
    Redirect::to(&to).into_response()
}
