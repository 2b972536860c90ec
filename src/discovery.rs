//! The identity provider's discovery document (OpenID Connect Discovery 1.0):
//! where the endpoints the site's code fetches live, so the stack's
//! Content-Security-Policy can allow exactly their origins.
//!
//! Providers put them on other origins than the issuer: Cognito's token
//! endpoint is on `<domain>.auth.<region>.amazoncognito.com` while its issuer
//! is `cognito-idp.<region>.amazonaws.com`; Google's on `oauth2.googleapis.com`
//! while its issuer is `accounts.google.com`. `up`, `plan` and `dev` read the
//! document before any change, and a document that cannot be read or is not
//! one is an error naming its URL.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

/// The discovery fields whose endpoints `site/colorid.js` fetches (the token
/// exchange and refresh, and revocation at sign-out). The authorization and
/// end-session endpoints are navigated to, not fetched (CSP's `connect-src`
/// does not govern them), and the site never fetches `userinfo_endpoint` or
/// `jwks_uri` (the function checks signatures): adding a fetch to colorid.js
/// means adding its field here.
pub const FETCHED: &[&str] = &["token_endpoint", "revocation_endpoint"];

/// How long `up`, `plan` and `dev` wait for the document.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest document read (real ones are a few kilobytes).
const MAX_BYTES: usize = 1 << 20;

/// What the stack needs from the provider's discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The document's URL.
    pub url: String,
    /// The issuer, as the document states it (equal to the stack's).
    pub issuer: String,
    pub token_endpoint: String,
    /// RFC 7009 revocation, when the provider offers it.
    pub revocation_endpoint: Option<String>,
    /// RP-initiated logout, when the provider offers it.
    pub end_session_endpoint: Option<String>,
    /// The origins the site fetches from, in order, without repeats: the
    /// issuer's (the document itself) then each of [`FETCHED`]'s.
    pub connect_src: Vec<String>,
}

/// The discovery document's URL for `issuer` (the way colorid.js builds it).
pub fn url_of(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// Reads and checks `issuer`'s discovery document. `stack_file` is named in the fix.
pub async fn read(issuer: &str, stack_file: &std::path::Path) -> Result<Provider> {
    let url = url_of(issuer);
    let fail = |why: String| {
        Error::usage_fix(
            format!("cannot use the identity provider's discovery document at {url}: {why}"),
            format!(
                "check [identity] issuer in {} (it must be the provider's issuer exactly, and {url} must answer 200 with its JSON); nothing was changed",
                stack_file.display()
            ),
        )
    };
    let body = fetch(&url).await.map_err(fail)?;
    let doc: Value =
        serde_json::from_slice(&body).map_err(|e| fail(format!("the answer is not JSON ({e})")))?;
    parse(issuer, &url, &doc).map_err(fail)
}

async fn fetch(url: &str) -> std::result::Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut resp = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("unreachable ({})", reason(&e)))?;
    if !resp.status().is_success() {
        return Err(format!("it answered HTTP {}", resp.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off ({})", reason(&e)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("the answer is larger than {MAX_BYTES} bytes"));
        }
    }
    Ok(body)
}

/// The innermost cause of a reqwest error (its own text is generic).
fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let mut source: &dyn std::error::Error = e;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

/// Checks a discovery document for `issuer` found at `url`.
pub fn parse(issuer: &str, url: &str, doc: &Value) -> std::result::Result<Provider, String> {
    let Some(map) = doc.as_object() else {
        return Err("the answer is not a JSON object".into());
    };
    // OpenID Connect Discovery 1.0, 4.3: the issuer MUST be identical to the URL the document was read under.
    match map.get("issuer").and_then(Value::as_str) {
        Some(found) if found == issuer => {}
        Some(found) => {
            return Err(format!(
                "its issuer is {found:?}, not the stack's {issuer:?}"
            ));
        }
        None => return Err("it has no \"issuer\"".into()),
    }
    let endpoint = |field: &str| -> std::result::Result<Option<(String, String)>, String> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(u)) => match origin(u) {
                Some(o) => Ok(Some((u.clone(), o))),
                None => Err(format!(
                    "its {field} {u:?} is not an https URL (http only on loopback)"
                )),
            },
            Some(_) => Err(format!("its {field} is not a string")),
        }
    };
    if endpoint("authorization_endpoint")?.is_none() {
        return Err("it has no \"authorization_endpoint\"".into());
    }
    let token = endpoint("token_endpoint")?
        .ok_or("it has no \"token_endpoint\" (the site exchanges the code there)")?;
    let revocation = endpoint("revocation_endpoint")?;
    let end_session = endpoint("end_session_endpoint")?;
    let mut connect_src: Vec<String> = Vec::new();
    let issuer_origin = origin(issuer).ok_or("the stack's issuer has no origin")?;
    for o in std::iter::once(issuer_origin).chain(FETCHED.iter().filter_map(|f| match *f {
        "token_endpoint" => Some(token.1.clone()),
        "revocation_endpoint" => revocation.as_ref().map(|r| r.1.clone()),
        _ => None,
    })) {
        if !connect_src.contains(&o) {
            connect_src.push(o);
        }
    }
    Ok(Provider {
        url: url.to_string(),
        issuer: issuer.to_string(),
        token_endpoint: token.0,
        revocation_endpoint: revocation.map(|r| r.0),
        end_session_endpoint: end_session.map(|e| e.0),
        connect_src,
    })
}

/// The origin (`scheme://host[:port]`, host lower-cased) of an https URL, or
/// an http one on loopback; `None` for anything a CSP source could not hold
/// safely (the document is the provider's text, not ours).
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                return None;
            }
            (format!("[{h}]"), after.strip_prefix(':'))
        }
        None => {
            let (h, p) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            let ok = !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return None;
            }
            (h.to_ascii_lowercase(), p)
        }
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    match scheme.as_str() {
        "https" => {}
        "http" if loopback => {}
        _ => return None,
    }
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab12";

    fn cognito() -> Value {
        // Shaped as Cognito's user pool discovery document: the OAuth endpoints
        // live on the user pool domain, not the issuer's host.
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://demo.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
            "token_endpoint": "https://demo.auth.eu-west-1.amazoncognito.com/oauth2/token",
            "revocation_endpoint": "https://demo.auth.eu-west-1.amazoncognito.com/oauth2/revoke",
            "userinfo_endpoint": "https://demo.auth.eu-west-1.amazoncognito.com/oauth2/userInfo",
            "jwks_uri": format!("{ISSUER}/.well-known/jwks.json"),
        })
    }

    #[test]
    fn the_fetched_endpoints_origins_follow_the_issuers() {
        let p = parse(ISSUER, &url_of(ISSUER), &cognito()).unwrap();
        assert_eq!(
            p.connect_src,
            vec![
                "https://cognito-idp.eu-west-1.amazonaws.com".to_string(),
                "https://demo.auth.eu-west-1.amazoncognito.com".to_string(),
            ]
        );
        assert_eq!(
            p.revocation_endpoint.as_deref(),
            Some("https://demo.auth.eu-west-1.amazoncognito.com/oauth2/revoke")
        );
        assert_eq!(p.url, format!("{ISSUER}/.well-known/openid-configuration"));
    }

    #[test]
    fn a_document_that_is_not_the_issuers_or_lacks_the_token_endpoint_is_refused() {
        let url = url_of(ISSUER);
        let mut other = cognito();
        other["issuer"] = json!("https://evil.example/");
        assert!(
            parse(ISSUER, &url, &other)
                .unwrap_err()
                .contains("not the stack's")
        );
        let mut no_token = cognito();
        no_token.as_object_mut().unwrap().remove("token_endpoint");
        assert!(
            parse(ISSUER, &url, &no_token)
                .unwrap_err()
                .contains("token_endpoint")
        );
        // A value that would smuggle another CSP directive in.
        let mut inject = cognito();
        inject["token_endpoint"] = json!("https://a.example; script-src *");
        assert!(
            parse(ISSUER, &url, &inject)
                .unwrap_err()
                .contains("token_endpoint")
        );
        let mut plain = cognito();
        plain["revocation_endpoint"] = json!("http://auth.example/revoke");
        assert!(
            parse(ISSUER, &url, &plain)
                .unwrap_err()
                .contains("revocation_endpoint")
        );
        assert!(parse(ISSUER, &url, &json!([1])).is_err());
    }

    #[test]
    fn origins_are_https_or_loopback_http_and_nothing_else() {
        assert_eq!(
            origin("https://Auth.Example.com:8443/x?y").as_deref(),
            Some("https://auth.example.com:8443")
        );
        assert_eq!(
            origin("http://127.0.0.1:9/idp").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(origin("http://[::1]:9/").as_deref(), Some("http://[::1]:9"));
        for bad in [
            "http://auth.example.com/",
            "https://user@auth.example.com/",
            "https://auth example.com/",
            "https://a.example:x/",
            "javascript:alert(1)",
            "https:///x",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }
}
