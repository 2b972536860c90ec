//! Each identity provider users bring, as its documentation shows it
//! (`tests/data/providers/<name>.json`, every field's source cited there):
//! its discovery document, where its endpoints live, its tokens' headers and
//! claims. Each of the provider's origins is a loopback server here, and the
//! keys are ours; the function must accept the provider's tokens under the
//! stack settings its docs recommend and refuse the same tokens minted for
//! another client.

use crate::common;

use std::collections::{BTreeMap, HashMap};

use colorid_lambda::{App, Settings};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The client id another relying party of the same provider has.
const OTHER_CLIENT: &str = "another-client-of-this-provider";
/// The claims that name the client an access token was issued to.
const CLIENT_CLAIMS: [&str; 4] = ["azp", "client_id", "cid", "appid"];

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/providers")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `https://host` of an https URL.
fn origin_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("https://{host}"))
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Serves `routes` (path → JSON body) on `listener`; everything else is 404.
fn serve(listener: TcpListener, routes: HashMap<String, String>) {
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let routes = routes.clone();
            tokio::spawn(async move {
                let Some(path) = common::request_path(&mut sock).await else {
                    return;
                };
                let (status, body) = match routes.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", "{}".to_string()),
                };
                common::answer_json(&mut sock, status, "", &body).await;
            });
        }
    });
}

/// A provider stood up from its fixture: one loopback server per origin its
/// discovery document names.
struct Provider {
    fx: Value,
    /// The provider's origins and the loopback origins standing in for them.
    origins: BTreeMap<String, String>,
}

impl Provider {
    async fn start(name: &str) -> Provider {
        let fx = load(name);
        let mut urls = Vec::new();
        strings(&fx["discovery"], &mut urls);
        let mut listeners = BTreeMap::new();
        for origin in urls.iter().filter_map(|u| origin_of(u)) {
            if let std::collections::btree_map::Entry::Vacant(slot) = listeners.entry(origin) {
                slot.insert(TcpListener::bind("127.0.0.1:0").await.unwrap());
            }
        }
        let origins: BTreeMap<String, String> = listeners
            .iter()
            .map(|(o, l)| (o.clone(), format!("http://{}", l.local_addr().unwrap())))
            .collect();
        let p = Provider { fx, origins };
        let discovery = p.rewrite_all(&p.fx["discovery"]);
        let issuer = p.issuer();
        let jwks_uri = discovery["jwks_uri"].as_str().unwrap().to_string();
        let path = |url: &str| {
            let rest = url.split_once("://").unwrap().1;
            rest.find('/')
                .map_or("/".to_string(), |i| rest[i..].to_string())
        };
        let well_known = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let mut routes: HashMap<String, HashMap<String, String>> = HashMap::new();
        let local_origin = |url: &str| url.split('/').take(3).collect::<Vec<_>>().join("/");
        routes
            .entry(local_origin(&well_known))
            .or_default()
            .insert(path(&well_known), discovery.to_string());
        routes
            .entry(local_origin(&jwks_uri))
            .or_default()
            .insert(path(&jwks_uri), p.jwks().to_string());
        for (origin, listener) in listeners {
            let local = &p.origins[&origin];
            serve(listener, routes.remove(local).unwrap_or_default());
        }
        p
    }

    /// `s` with the provider's origin replaced by its loopback stand-in.
    fn rewrite(&self, s: &str) -> String {
        for (origin, local) in &self.origins {
            if s == origin || s.starts_with(&format!("{origin}/")) {
                return format!("{local}{}", &s[origin.len()..]);
            }
        }
        s.to_string()
    }

    fn rewrite_all(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.rewrite(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.rewrite_all(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.rewrite_all(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn stack(&self) -> &Value {
        &self.fx["stack"]
    }

    fn issuer(&self) -> String {
        self.rewrite(self.stack()["issuer"].as_str().unwrap())
    }

    fn client_id(&self) -> &str {
        self.stack()["client_id"].as_str().unwrap()
    }

    /// Our test key, published under every `kid` the provider's tokens name.
    fn jwks(&self) -> Value {
        let mut keys = Vec::new();
        for part in ["id_token", "access_token"] {
            if let Some(kid) = self.fx[part]["header"]["kid"].as_str() {
                let mut jwk = rsa_key().jwk.clone();
                jwk["kid"] = json!(kid);
                keys.push(jwk);
            }
        }
        json!({ "keys": keys })
    }

    /// The function under the stack settings the provider's docs recommend.
    fn settings(&self) -> Settings {
        let stack = self.stack();
        let mut s = Settings::new(
            self.issuer(),
            self.client_id(),
            SECRET,
            keys().signing_pem.clone(),
            SITE,
            vec![ORIGIN.into()],
        );
        s.api_audience = stack["api_audience"].as_str().map(String::from);
        s.verified_claims = serde_json::from_value(stack["verified_claims"].clone()).unwrap();
        s.level_map = serde_json::from_value(stack["level_map"].clone()).unwrap();
        if let Some(claim) = stack["level_claim"].as_str() {
            s.level_claim = claim.into();
        }
        s
    }

    fn app(&self) -> App {
        App::new(self.settings()).unwrap()
    }

    /// A token with the provider's header and claims, signed by our key, its
    /// times moved to now and `iss` to the loopback issuer; `edit` changes the claims.
    fn mint(&self, part: &str, edit: &dyn Fn(&mut Value)) -> String {
        let spec = &self.fx[part];
        let h = &spec["header"];
        assert_eq!(
            h["alg"],
            json!("RS256"),
            "{part}: the fixtures' keys are RSA"
        );
        let mut header = Header::new(Algorithm::RS256);
        header.typ = h["typ"].as_str().map(String::from);
        header.kid = h["kid"].as_str().map(String::from);
        let mut claims = spec["claims"].clone();
        let now = now();
        for (name, value) in [
            ("iat", now),
            ("auth_time", now),
            ("nbf", now),
            ("exp", now + 600),
        ] {
            if claims.get(name).is_some() {
                claims[name] = json!(value);
            }
        }
        claims["iss"] = json!(self.issuer());
        edit(&mut claims);
        let key = EncodingKey::from_rsa_pem(rsa_key().pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

/// The same claims, minted for another client of the provider.
fn for_other_client(claims: &mut Value, client_id: &str) {
    match &mut claims["aud"] {
        Value::String(a) if a == client_id => *a = OTHER_CLIENT.into(),
        Value::Array(list) => {
            for a in list.iter_mut().filter(|a| *a == client_id) {
                *a = json!(OTHER_CLIENT);
            }
        }
        _ => {}
    }
    for name in CLIENT_CLAIMS {
        if claims.get(name).is_some() {
            claims[name] = json!(OTHER_CLIENT);
        }
    }
}

async fn reason(app: &App, uri: &str, token: &str) -> (u16, Value) {
    let (status, body) = call(app, request("GET", uri, Some(token), None)).await;
    (status, body["reason"].clone())
}

/// What one provider's fixture must show; returns the level its ID token gave.
async fn accepts_its_tokens_and_refuses_another_clients(name: &str) {
    let p = Provider::start(name).await;
    let app = p.app();
    let client = p.client_id().to_string();

    // Its ID token: accepted.
    let id = p.mint("id_token", &|_| {});
    let (status, body) = call(&app, request("GET", "/api/color", Some(&id), None)).await;
    assert_eq!(status, 200, "{name} ID token: {body}");
    let identity = body["yourUserIdentity"].clone();

    // The same ID token minted for another client: refused.
    let other = p.mint("id_token", &|c| for_other_client(c, &client));
    assert_eq!(
        reason(&app, "/api/color", &other).await,
        (401, json!("wrong_audience")),
        "{name} ID token for another client"
    );

    let access = &p.fx["access_token"];
    if let Some(opaque) = access["opaque"].as_str() {
        // Only its issuer can check an opaque token; the refusal says so.
        let (status, body) = call(&app, request("GET", "/api/color", Some(opaque), None)).await;
        assert_opaque_refused(status, &body);
    } else {
        // Its access token, for the stack's api_audience: accepted on both APIs.
        let at = p.mint("access_token", &|_| {});
        for uri in ["/api/color", "/api/v1/customer_shared"] {
            let (status, body) = call(&app, request("GET", uri, Some(&at), None)).await;
            assert_eq!(status, 200, "{name} access token on {uri}: {body}");
        }
        // The same user as the ID token, unless the provider's access token names
        // the user another way (Okta: the login as sub).
        let (_, body) = call(&app, request("GET", "/api/color", Some(&at), None)).await;
        let same_sub = p.fx["id_token"]["claims"]["sub"] == access["claims"]["sub"];
        assert_eq!(body["yourUserIdentity"] == identity, same_sub, "{name}");

        // The same access token minted for another client: refused.
        let other = p.mint("access_token", &|c| {
            for n in CLIENT_CLAIMS {
                if c.get(n).is_some() {
                    c[n] = json!(OTHER_CLIENT);
                }
            }
        });
        assert_eq!(
            reason(&app, "/api/color", &other).await,
            (401, json!("wrong_client")),
            "{name} access token for another client"
        );

        // A stack without api_audience refuses it with its own reason.
        let mut s = p.settings();
        s.api_audience = None;
        let id_only = App::new(s).unwrap();
        assert_eq!(
            reason(&id_only, "/api/color", &at).await,
            (401, json!("access_token_not_accepted")),
            "{name} access token without api_audience"
        );
        // ... and still takes the ID token.
        assert_eq!(reason(&id_only, "/api/color", &id).await.0, 200);
    }

    // Step-up: the provider's own value for AAL2 (level_map read backwards)
    // meets a stack that requires AAL2.
    if let Some(value) = p.fx["step_up"].as_str() {
        let map = p.stack()["level_map"].as_object().unwrap();
        assert_eq!(map[value], json!("AAL2"), "{name}: level_map of {value}");
        let mut s = p.settings();
        s.required_level = Some("AAL2".into());
        let strict = App::new(s).unwrap();
        let (status, body) = call(&strict, request("GET", "/api/color", Some(&id), None)).await;
        assert_eq!((status, &body["level"]), (200, &json!("AAL2")), "{name}");
        let weaker = p.mint("id_token", &|c| c["acr"] = json!("urn:example:weaker"));
        let (status, body) = call(&strict, request("GET", "/api/color", Some(&weaker), None)).await;
        assert_eq!(
            (status, &body["code"]),
            (401, &json!("insufficient_assurance"))
        );
    }
}

#[tokio::test]
async fn amazon_cognito() {
    accepts_its_tokens_and_refuses_another_clients("cognito").await;
}

#[tokio::test]
async fn google() {
    accepts_its_tokens_and_refuses_another_clients("google").await;
}

#[tokio::test]
async fn microsoft_entra_id() {
    accepts_its_tokens_and_refuses_another_clients("entra").await;
}

#[tokio::test]
async fn auth0() {
    accepts_its_tokens_and_refuses_another_clients("auth0").await;
}

#[tokio::test]
async fn okta() {
    accepts_its_tokens_and_refuses_another_clients("okta").await;
}

#[tokio::test]
async fn keycloak() {
    accepts_its_tokens_and_refuses_another_clients("keycloak").await;
}

#[tokio::test]
async fn civic_auth() {
    accepts_its_tokens_and_refuses_another_clients("civic").await;
}

#[tokio::test]
async fn cognito_access_token_needs_a_scope_of_the_api_resource_server() {
    let p = Provider::start("cognito").await;
    let app = p.app();
    // No aud at all: only a scope of the resource server named api_audience binds it to the API.
    let without = p.mint("access_token", &|c| {
        c["scope"] = json!("openid profile email")
    });
    assert_eq!(
        reason(&app, "/api/color", &without).await,
        (401, json!("wrong_audience"))
    );
    let other_api = p.mint("access_token", &|c| {
        c["scope"] = json!("openid https://other-api.example.com/colorid.read")
    });
    assert_eq!(
        reason(&app, "/api/color", &other_api).await,
        (401, json!("wrong_audience"))
    );
    // Cognito's ID token, sent where an access token was expected, is still an ID token.
    let id = p.mint("id_token", &|_| {});
    assert_eq!(reason(&app, "/api/color", &id).await.0, 200);
}

#[tokio::test]
async fn every_fixture_cites_its_sources_and_names_its_token_endpoint() {
    for name in [
        "cognito", "google", "entra", "auth0", "okta", "keycloak", "civic",
    ] {
        let fx = load(name);
        let sources = fx["sources"].as_object().unwrap();
        assert!(
            sources
                .values()
                .all(|s| s.as_str().unwrap().starts_with("https://")),
            "{name}: every source is a URL"
        );
        let d = &fx["discovery"];
        for field in [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
        ] {
            assert!(
                d[field].as_str().is_some_and(|u| u.starts_with("https://")),
                "{name}: {field}"
            );
        }
        assert_eq!(d["issuer"], fx["stack"]["issuer"], "{name}");
    }
}
