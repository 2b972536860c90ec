//! Access tokens beside ID tokens: which kind a verified JWT is, and the
//! checks only an access token gets — the API's audience and the client the
//! token was issued to (RFC 9068; the names Cognito, Okta and Entra ID use).

use crate::claims::{Member, Members};
use crate::token_refusal::{Header, Reason};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An OpenID Connect ID token, for the client.
    Id,
    /// An OAuth 2.0 access token, for an API.
    Access,
}

/// The claims that name the client an access token was issued to: RFC 9068
/// and Cognito `client_id`, OpenID Connect and Entra ID v2 `azp`, Okta `cid`,
/// Entra ID v1 `appid`.
pub const CLIENT_CLAIMS: [&str; 4] = ["azp", "client_id", "cid", "appid"];

/// Which kind a token is. An access token says so in one of the ways
/// providers mark it — the `at+jwt` type (RFC 9068, section 2.1), Cognito's
/// `token_use`, Keycloak's `typ` claim, or a `scope`/`scp` claim, which ID
/// tokens never carry; everything else is read as an ID token.
pub fn kind_of(header: &Header, claims: &Members) -> Kind {
    let typ = header.typ.as_deref().unwrap_or("").to_ascii_lowercase();
    if typ == "at+jwt" || typ == "application/at+jwt" {
        return Kind::Access;
    }
    match text(claims.get("token_use")) {
        Some("access") => return Kind::Access,
        Some("id") => return Kind::Id,
        _ => {}
    }
    match text(claims.get("typ")) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => return Kind::Access,
        Some(t) if t.eq_ignore_ascii_case("id") => return Kind::Id,
        _ => {}
    }
    if claims.get("scope").is_some() || claims.get("scp").is_some() {
        return Kind::Access;
    }
    Kind::Id
}

/// The token is for the API: `aud` contains `api`. Cognito's access tokens
/// carry no `aud` (`token_use: access`); they are for the API when their
/// `scope` holds a scope of the resource server whose identifier is `api`
/// (Cognito writes those `<identifier>/<scope name>`).
pub fn check_audience(claims: &Members, api: &str) -> Result<(), Reason> {
    match claims.get("aud") {
        Some(Member::Str(a)) if a == api => Ok(()),
        Some(Member::Strs(a)) => a
            .iter()
            .any(|v| v == api)
            .then_some(())
            .ok_or(Reason::WrongAudience),
        Some(Member::Str(_)) => Err(Reason::WrongAudience),
        Some(_) => Err(Reason::InvalidClaim("aud")),
        None if text(claims.get("token_use")) == Some("access") => {
            let prefix = format!("{}/", api.trim_end_matches('/'));
            let scopes = text(claims.get("scope")).unwrap_or("");
            scopes
                .split(' ')
                .any(|s| s.len() > prefix.len() && s.starts_with(&prefix))
                .then_some(())
                .ok_or(Reason::WrongAudience)
        }
        None => Err(Reason::MissingClaim("aud")),
    }
}

/// The token was issued to our client: every client claim it carries names
/// `client_id`, and it carries at least one.
pub fn check_client(claims: &Members, client_id: &str) -> Result<(), Reason> {
    let mut seen = false;
    for name in CLIENT_CLAIMS {
        match claims.get(name) {
            None => {}
            Some(Member::Str(c)) if c == client_id => seen = true,
            Some(Member::Str(_)) => return Err(Reason::WrongClient),
            Some(_) => return Err(Reason::InvalidClaim(name)),
        }
    }
    seen.then_some(()).ok_or(Reason::MissingClient)
}

/// A claim's text, when it is a string.
fn text<'m>(value: Option<&'m Member>) -> Option<&'m str> {
    value.and_then(Member::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn header(typ: Option<&str>) -> Header {
        Header {
            alg: "RS256".into(),
            kid: None,
            typ: typ.map(String::from),
        }
    }

    /// `f` of the claims set `v`.
    fn with<T>(v: Value, f: impl FnOnce(&Members) -> T) -> T {
        let text = v.to_string();
        f(&Members::parse(text.as_bytes(), None).unwrap())
    }

    #[test]
    fn kinds_follow_each_providers_marks() {
        let kind = |typ: Option<&str>, v: Value| with(v, |m| kind_of(&header(typ), m));
        let id = json!({"aud": "c"});
        assert_eq!(kind(Some("JWT"), id.clone()), Kind::Id);
        assert_eq!(kind(Some("at+jwt"), id.clone()), Kind::Access);
        assert_eq!(kind(Some("application/at+JWT"), id), Kind::Access);
        // An at+jwt is an access token whatever its claims say.
        let says_id = json!({"token_use": "id"});
        assert_eq!(kind(Some("at+jwt"), says_id.clone()), Kind::Access);
        assert_eq!(kind(None, says_id), Kind::Id);
        let cognito = json!({"token_use": "access", "client_id": "c"});
        assert_eq!(kind(None, cognito), Kind::Access);
        let keycloak = json!({"typ": "Bearer", "azp": "c"});
        assert_eq!(kind(Some("JWT"), keycloak), Kind::Access);
        let keycloak_id = json!({"typ": "ID", "azp": "c"});
        assert_eq!(kind(Some("JWT"), keycloak_id), Kind::Id);
        let okta = json!({"scp": ["openid"], "cid": "c"});
        assert_eq!(kind(None, okta), Kind::Access);
        // A scope of any form marks one, null included.
        assert_eq!(kind(None, json!({"scope": null})), Kind::Access);
    }

    #[test]
    fn audience_or_cognito_resource_server_scope() {
        let api = "https://api.example.com";
        let ok = |v: Value| with(v, |m| check_audience(m, api));
        assert_eq!(ok(json!({"aud": api})), Ok(()));
        assert_eq!(ok(json!({"aud": ["x", api]})), Ok(()));
        assert_eq!(ok(json!({"aud": "x"})), Err(Reason::WrongAudience));
        assert_eq!(ok(json!({"aud": ["x"]})), Err(Reason::WrongAudience));
        assert_eq!(ok(json!({"aud": 1})), Err(Reason::InvalidClaim("aud")));
        assert_eq!(ok(json!({})), Err(Reason::MissingClaim("aud")));
        let cognito = |scope: &str| ok(json!({"token_use": "access", "scope": scope}));
        assert_eq!(cognito("openid https://api.example.com/read"), Ok(()));
        assert_eq!(cognito("openid email"), Err(Reason::WrongAudience));
        assert_eq!(
            cognito("https://api.example.com.evil/read"),
            Err(Reason::WrongAudience)
        );
        assert_eq!(
            cognito("https://api.example.com/"),
            Err(Reason::WrongAudience)
        );
    }

    #[test]
    fn every_client_claim_must_name_the_client() {
        let ok = |v: Value| with(v, |m| check_client(m, "c"));
        for name in CLIENT_CLAIMS {
            assert_eq!(ok(json!({ name: "c" })), Ok(()), "{name}");
            assert_eq!(ok(json!({ name: "d" })), Err(Reason::WrongClient), "{name}");
        }
        assert_eq!(
            ok(json!({"azp": "c", "appid": "d"})),
            Err(Reason::WrongClient)
        );
        assert_eq!(ok(json!({"sub": "c"})), Err(Reason::MissingClient));
        assert_eq!(ok(json!({"cid": ["c"]})), Err(Reason::InvalidClaim("cid")));
    }
}
