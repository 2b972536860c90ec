//! The test provider's state: its signing key, its users, the codes not yet
//! exchanged; and the tokens it signs for them (ES256 id tokens, RFC 9068
//! access tokens) with the claims their scopes grant.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::renewals::{self, Renewals};
use crate::keys::{EcKey, random_token};

/// The client id the built-in provider knows.
pub const CLIENT_ID: &str = "colorid-dev";
/// How long an id token lives.
const TOKEN_SECONDS: u64 = 3600;
/// How long an authorization code may wait to be exchanged.
pub(super) const CODE_LIFETIME: Duration = Duration::from_secs(120);
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

/// An authorization code's request, kept until the code is exchanged.
pub(super) struct Pending {
    pub(super) user: usize,
    pub(super) redirect_uri: String,
    pub(super) challenge: String,
    pub(super) nonce: Option<String>,
    pub(super) scope: String,
    /// The API an access token was asked for (`audience`), if any.
    pub(super) audience: Option<String>,
    pub(super) issued: Instant,
}

/// The provider's state: its key, its users and the codes not yet exchanged.
pub struct TestIdp {
    pub(super) issuer: String,
    /// Redirect URIs must start with this (the dev server's origin + "/").
    pub(super) origin: String,
    /// Where the token and revocation endpoints are served: the issuer, or
    /// the same paths on a second origin ([`super::token_origin`]).
    pub(super) token_base: String,
    pub(super) key: EcKey,
    pub(super) encoding: EncodingKey,
    pub(super) users: Vec<TestUser>,
    pub(super) codes: Mutex<HashMap<String, Pending>>,
    pub(super) renewals: Renewals,
    pub(super) token_seconds: u64,
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
            renewals: Renewals::default(),
            token_seconds: renewals::token_seconds(TOKEN_SECONDS),
        })
    }

    /// The same provider with its token and revocation endpoints advertised
    /// at `token_origin` + `/idp` (served there by [`super::token_origin::router`]).
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

    /// Signs an id token for user `index` with the claims `scope` grants.
    pub(super) fn id_token(
        &self,
        index: usize,
        nonce: Option<&str>,
        scope: &str,
    ) -> Result<String, String> {
        let user = self.users.get(index).ok_or("no such user")?;
        let now = unix_now()?;
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
    pub(super) fn access_token(
        &self,
        index: usize,
        audience: &str,
        scope: &str,
    ) -> Result<String, String> {
        let user = self.users.get(index).ok_or("no such user")?;
        let now = unix_now()?;
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

/// Seconds since the Unix epoch, for `iat` and `exp`.
fn unix_now() -> Result<u64, String> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|e| e.to_string())
}
