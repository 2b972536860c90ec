//! A TEST OpenID provider for local development only: discovery, JWKS, an
//! authorize page that lists test users, a token endpoint that checks PKCE
//! (S256) and one-time codes, RFC 7009 revocation, and an end-session
//! endpoint. It signs ES256 id tokens with a key generated per run. Anyone
//! who can reach it can sign in as anyone: never expose it. Its token and
//! revocation endpoints can live on a second origin ([`token_origin`]), as
//! Cognito's and Google's do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::keys::EcKey;

mod renew;
pub mod token_origin;
pub use renew::TOKEN_SECONDS_ENV;

/// The client id the built-in provider knows.
pub const CLIENT_ID: &str = "colorid-dev";
/// How long an id token lives.
const TOKEN_SECONDS: u64 = 3600;
/// How long an authorization code may wait to be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(120);
/// Shown wherever the provider appears.
pub const WARNING: &str = "test identity provider — for local development only";

/// A test user: a name and the claims their id token carries.
pub struct TestUser {
    /// The login name shown on the authorize page.
    pub name: &'static str,
    /// The claims (besides iss, aud, azp, exp, iat, nonce).
    pub claims: Value,
}

/// The built-in users: alice (AAL1, verified email), bob (AAL2, born 1950),
/// carol (AAL1, no email).
pub fn users() -> Vec<TestUser> {
    vec![
        TestUser {
            name: "alice",
            claims: json!({
                "sub": "test-alice", "name": "Alice Liddell", "given_name": "Alice",
                "family_name": "Liddell", "email": "alice@example.test", "email_verified": true,
                "birthdate": "1990-05-04", "acr": "AAL1", "amr": ["pwd"],
            }),
        },
        TestUser {
            name: "bob",
            claims: json!({
                "sub": "test-bob", "name": "Bob Marley", "given_name": "Bob",
                "family_name": "Marley", "email": "bob@example.test", "email_verified": true,
                "birthdate": "1950-01-01", "acr": "AAL2", "amr": ["pwd", "otp"],
            }),
        },
        TestUser {
            name: "carol",
            claims: json!({
                "sub": "test-carol", "name": "Carol Danvers", "given_name": "Carol",
                "family_name": "Danvers", "acr": "AAL1", "amr": ["pwd"],
            }),
        },
    ]
}

struct Pending {
    user: usize,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    scope: String,
    /// The API an access token was asked for (`audience`), if any.
    audience: Option<String>,
    issued: Instant,
}

/// The provider's state: its key, its users and the codes not yet exchanged.
pub struct TestIdp {
    issuer: String,
    /// Redirect URIs must start with this (the dev server's origin + "/").
    origin: String,
    /// Where the token and revocation endpoints are served: the issuer, or
    /// the same paths on a second origin ([`token_origin`]).
    token_base: String,
    key: EcKey,
    encoding: EncodingKey,
    users: Vec<TestUser>,
    codes: Mutex<HashMap<String, Pending>>,
    renewals: renew::Renewals,
    token_seconds: u64,
}

impl TestIdp {
    /// A provider at `origin` + `/idp` with a fresh signing key.
    pub fn new(origin: &str) -> Result<TestIdp, jsonwebtoken::errors::Error> {
        let key = EcKey::generate();
        let encoding = EncodingKey::from_ec_pem(key.pem.as_bytes())?;
        Ok(TestIdp {
            issuer: format!("{origin}/idp"),
            origin: format!("{origin}/"),
            token_base: format!("{origin}/idp"),
            key,
            encoding,
            users: users(),
            codes: Mutex::new(HashMap::new()),
            renewals: renew::Renewals::default(),
            token_seconds: renew::token_seconds(TOKEN_SECONDS),
        })
    }

    /// The same provider with its token and revocation endpoints advertised
    /// at `token_origin` + `/idp` (served there by [`token_origin::router`]).
    pub fn with_token_origin(mut self, token_origin: &str) -> TestIdp {
        self.token_base = format!("{token_origin}/idp");
        self
    }

    /// The issuer URL tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The site's origin, the only one redirects and cross-origin calls may come from.
    pub fn site_origin(&self) -> &str {
        self.origin.trim_end_matches('/')
    }

    /// The discovery document it serves.
    pub fn discovery_document(&self) -> Value {
        let i = &self.issuer;
        let t = &self.token_base;
        json!({
            "issuer": i,
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{t}/token"),
            "revocation_endpoint": format!("{t}/revoke"),
            "jwks_uri": format!("{i}/jwks"),
            "end_session_endpoint": format!("{i}/logout"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "prompt_values_supported": ["none", "login"],
            "acr_values_supported": ["AAL1", "AAL2"],
        })
    }

    /// The routes, to be nested under `/idp`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize_page).post(authorize_submit))
            .route("/token", post(token))
            .route("/revoke", post(renew::revoke))
            .route("/logout", get(logout))
            .with_state(self)
    }

    /// Signs an id token for user `index` with the claims `scope` grants.
    fn id_token(&self, index: usize, nonce: Option<&str>, scope: &str) -> Result<String, String> {
        let user = self.users.get(index).ok_or("no such user")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let mut claims = claims_for_scope(&user.claims, scope);
        claims["iss"] = json!(self.issuer);
        claims["aud"] = json!(CLIENT_ID);
        claims["azp"] = json!(CLIENT_ID);
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + self.token_seconds);
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Signs an RFC 9068 access token for `audience`, as Auth0 issues one
    /// when the authorization request names the API.
    fn access_token(&self, index: usize, audience: &str, scope: &str) -> Result<String, String> {
        let user = self.users.get(index).ok_or("no such user")?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let claims = json!({
            "iss": self.issuer, "sub": user.claims["sub"], "aud": audience,
            "client_id": CLIENT_ID, "scope": scope, "iat": now,
            "exp": now + self.token_seconds, "jti": random_token(),
            "acr": user.claims["acr"], "amr": user.claims["amr"],
        });
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| e.to_string())
    }
}

async fn discovery(State(idp): State<Arc<TestIdp>>) -> Json<Value> {
    Json(idp.discovery_document())
}

async fn jwks(State(idp): State<Arc<TestIdp>>) -> Json<Value> {
    Json(json!({"keys": [idp.key.jwk]}))
}

/// The authorization request, as the client sends it.
#[derive(Deserialize)]
struct AuthorizeParams {
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn authorize_page(
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
            None => renew::login_required(&redirect, p.state.as_deref()),
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

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn authorize_submit(
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

/// The token request (public client, PKCE).
#[derive(Deserialize)]
struct TokenParams {
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

/// The scope a request without one gets.
pub const DEFAULT_SCOPE: &str = "openid profile email";

/// The claims OpenID Connect Core 5.4 puts under the `profile` and `email` scopes.
const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
];

/// A user's claims without those of the scopes not granted: with `openid`
/// alone, only `sub` and the sign-in's own claims (`acr`, `amr`) remain.
pub fn claims_for_scope(claims: &Value, scope: &str) -> Value {
    let granted: Vec<&str> = scope.split(' ').collect();
    let mut out = claims.clone();
    if let Some(map) = out.as_object_mut() {
        for (s, names) in SCOPE_CLAIMS {
            if !granted.contains(s) {
                for n in *names {
                    map.remove(*n);
                }
            }
        }
    }
    out
}

/// The S256 code challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn token(State(idp): State<Arc<TestIdp>>, Form(p): Form<TokenParams>) -> Response {
    if p.client_id.as_deref() != Some(CLIENT_ID) {
        return token_error("invalid_client", "unknown client_id");
    }
    match p.grant_type.as_deref() {
        Some("authorization_code") => {}
        Some("refresh_token") => return renew::refresh_grant(&idp, p.refresh_token.as_deref()),
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
            let mut body = json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": idp.token_seconds,
                "id_token": id_token,
                "scope": pending.scope,
            });
            if let Some(t) = idp.renewals.issue(pending.user, &pending.scope) {
                body["refresh_token"] = json!(t);
            }
            let mut resp = Json(body).into_response();
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            resp
        }
        Err(e) => token_error("server_error", &e),
    }
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
