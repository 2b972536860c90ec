//! Access tokens beside ID tokens (`[identity] api_audience`): accepted for the
//! API and the client, refused for another audience, another client, or when
//! the stack sets no api_audience; the two kinds never pass for each other.

use crate::common;

use colorid_lambda::App;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const API: &str = "https://api.example.com";

/// An ES256 token under `ec-1` with the given header `typ`.
fn mint(typ: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("ec-1".into());
    header.typ = typ.map(String::from);
    let key = EncodingKey::from_ec_pem(keys().ec_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// An RFC 9068 access token's claims for the API, issued to our client.
fn access_claims(idp: &Idp, sub: &str) -> Value {
    let now = now();
    json!({"iss": idp.issuer, "sub": sub, "aud": API, "client_id": CLIENT_ID,
           "exp": now + 300, "iat": now, "jti": "at-1", "scope": "openid colorid.read"})
}

fn app(idp: &Idp, api_audience: Option<&str>) -> App {
    let mut s = idp.settings();
    s.api_audience = api_audience.map(String::from);
    App::new(s).unwrap()
}

async fn outcome(app: &App, uri: &str, token: &str) -> (u16, Value) {
    let (status, body) = call(app, request("GET", uri, Some(token), None)).await;
    (status, body["reason"].clone())
}

#[tokio::test]
async fn access_token_for_api_audience_is_accepted_on_both_apis() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    let at = mint(Some("at+jwt"), &access_claims(&idp, "alice"));
    for uri in [
        "/api/color",
        "/api/v1/customer_shared",
        "/api/v1/customer_attributes?self_asserted_attributes=UserId",
    ] {
        let (status, body) = call(&app, request("GET", uri, Some(&at), None)).await;
        assert_eq!(status, 200, "{uri}: {body}");
    }
    // The same user as their ID token: one identity, one colour.
    let id = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    let (_, by_access) = call(&app, request("GET", "/api/color", Some(&at), None)).await;
    let (_, by_id) = call(&app, request("GET", "/api/color", Some(&id), None)).await;
    assert_eq!(by_access["yourUserIdentity"], by_id["yourUserIdentity"]);
    assert_eq!(by_access["yourColorIdentity"], by_id["yourColorIdentity"]);
    // Each client claim providers use binds the token the same way.
    for name in ["azp", "cid", "appid"] {
        let mut c = access_claims(&idp, "alice");
        c.as_object_mut().unwrap().remove("client_id");
        c[name] = json!(CLIENT_ID);
        assert_eq!(
            outcome(&app, "/api/color", &mint(None, &c)).await.0,
            200,
            "{name}"
        );
    }
    // aud may list several audiences, as Auth0's does.
    let mut c = access_claims(&idp, "alice");
    c["aud"] = json!([API, format!("{}/userinfo", idp.issuer)]);
    assert_eq!(outcome(&app, "/api/color", &mint(None, &c)).await.0, 200);
}

#[tokio::test]
async fn access_token_for_another_audience_is_refused() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    for aud in [json!("https://other-api.example.com"), json!(["x", "y"])] {
        let mut c = access_claims(&idp, "alice");
        c["aud"] = aud;
        assert_eq!(
            outcome(&app, "/api/color", &mint(Some("at+jwt"), &c)).await,
            (401, json!("wrong_audience"))
        );
    }
    let mut c = access_claims(&idp, "alice");
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        outcome(&app, "/api/color", &mint(Some("at+jwt"), &c)).await,
        (401, json!("missing_aud"))
    );
}

#[tokio::test]
async fn access_token_for_another_client_is_refused() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    for name in ["client_id", "azp", "cid", "appid"] {
        let mut c = access_claims(&idp, "alice");
        c[name] = json!("another-client");
        assert_eq!(
            outcome(&app, "/api/v1/customer_shared", &mint(Some("at+jwt"), &c)).await,
            (401, json!("wrong_client")),
            "{name}"
        );
    }
    let mut c = access_claims(&idp, "alice");
    c.as_object_mut().unwrap().remove("client_id");
    assert_eq!(
        outcome(&app, "/api/color", &mint(Some("at+jwt"), &c)).await,
        (401, json!("missing_client"))
    );
}

#[tokio::test]
async fn access_tokens_are_refused_when_api_audience_is_unset() {
    let idp = Idp::fast().await;
    let app = app(&idp, None);
    let cognito = {
        let mut c = access_claims(&idp, "alice");
        c.as_object_mut().unwrap().remove("aud");
        c["token_use"] = json!("access");
        c["scope"] = json!(format!("openid {API}/read"));
        mint(None, &c)
    };
    let keycloak = {
        let mut c = access_claims(&idp, "alice");
        c["typ"] = json!("Bearer");
        c.as_object_mut().unwrap().remove("scope");
        mint(Some("JWT"), &c)
    };
    let okta = {
        let mut c = access_claims(&idp, "alice");
        c.as_object_mut().unwrap().remove("scope");
        c["scp"] = json!(["openid"]);
        mint(None, &c)
    };
    for (what, token) in [
        (
            "at+jwt",
            mint(Some("at+jwt"), &access_claims(&idp, "alice")),
        ),
        ("token_use access", cognito),
        ("typ Bearer", keycloak),
        ("scp", okta),
    ] {
        let (status, body) = call(&app, request("GET", "/api/color", Some(&token), None)).await;
        assert_eq!(
            (status, &body["reason"]),
            (401, &json!("access_token_not_accepted")),
            "{what}"
        );
        assert!(
            body["message"].as_str().unwrap().contains("api_audience"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn id_token_is_still_accepted_when_api_audience_is_set() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    let id = sign(Algorithm::ES256, Some("ec-1"), &idp.claims("alice"));
    for uri in ["/api/color", "/api/v1/customer_shared"] {
        assert_eq!(outcome(&app, uri, &id).await.0, 200, "{uri}");
    }
}

#[tokio::test]
async fn an_access_token_never_passes_as_an_id_token() {
    let idp = Idp::fast().await;
    // Claims an ID token check would accept (aud is the client), marked as access tokens.
    let mut c = idp.claims("alice");
    c["client_id"] = json!(CLIENT_ID);
    for app in [app(&idp, None), app(&idp, Some(API))] {
        let at_jwt = mint(Some("at+jwt"), &c);
        let typ = outcome(&app, "/api/color", &at_jwt).await;
        assert_eq!(typ.0, 401, "{typ:?}");
        let mut cognito = c.clone();
        cognito["token_use"] = json!("access");
        let token_use = outcome(&app, "/api/color", &mint(None, &cognito)).await;
        assert_eq!(token_use.0, 401, "{token_use:?}");
    }
    assert_eq!(
        outcome(&app(&idp, None), "/api/color", &mint(Some("at+jwt"), &c)).await,
        (401, json!("access_token_not_accepted"))
    );
    assert_eq!(
        outcome(
            &app(&idp, Some(API)),
            "/api/color",
            &mint(Some("at+jwt"), &c)
        )
        .await,
        (401, json!("wrong_audience"))
    );
}

#[tokio::test]
async fn an_id_token_never_passes_as_an_access_token() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    // An ID token (token_use id, or unmarked) for the API's audience and our
    // client: it is checked as an ID token, whose aud must be the client.
    let mut c = idp.claims("alice");
    c["aud"] = json!(API);
    c["azp"] = json!(CLIENT_ID);
    assert_eq!(
        outcome(&app, "/api/color", &mint(Some("JWT"), &c)).await,
        (401, json!("wrong_audience"))
    );
    c["token_use"] = json!("id");
    c["scope"] = json!("openid");
    assert_eq!(
        outcome(&app, "/api/color", &mint(Some("JWT"), &c)).await,
        (401, json!("wrong_audience"))
    );
}

#[tokio::test]
async fn cognito_access_token_binds_to_the_api_by_resource_server_scope() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    let mut c = access_claims(&idp, "alice");
    c.as_object_mut().unwrap().remove("aud");
    c["token_use"] = json!("access");
    c["version"] = json!(2);
    c["scope"] = json!(format!("openid email {API}/colorid.read"));
    assert_eq!(outcome(&app, "/api/color", &mint(None, &c)).await.0, 200);
    c["scope"] = json!("openid email aws.cognito.signin.user.admin");
    assert_eq!(
        outcome(&app, "/api/color", &mint(None, &c)).await,
        (401, json!("wrong_audience"))
    );
}

#[tokio::test]
async fn opaque_access_tokens_are_refused_saying_why() {
    let idp = Idp::fast().await;
    let app = app(&idp, Some(API));
    let (status, body) = call(
        &app,
        request("GET", "/api/color", Some("ya29.a0AfB_opaque"), None),
    )
    .await;
    assert_opaque_refused(status, &body);
    assert_eq!(idp.fetches(), 0, "nothing to fetch keys for");
}
