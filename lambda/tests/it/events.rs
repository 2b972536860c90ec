//! Real Lambda function URL event JSON through the handler.

use crate::common;

use common::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

#[tokio::test]
async fn function_url_event_reaches_the_attributes_route_with_its_query() {
    let idp = Idp::fast().await;
    let app = idp.app();
    let mut claims = idp.claims("alice");
    claims["given_name"] = json!("Ada");
    let token = sign(Algorithm::ES256, Some("ec-1"), &claims);
    let event = include_str!("data/function-url-attributes.json").replace("TOKEN", &token);
    let req = lambda_http::request::from_str(&event).expect("a function URL event");
    let (status, body) = call(&app, req).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["attributes"][0]["name"], json!("GivenName"));
    assert_eq!(body["attributes"][0]["value"], json!("Ada"));
    // Email is not in the token, so only GivenName is released, and signed.
    assert_eq!(body["attributes"].as_array().unwrap().len(), 1);
    assert!(body["signed_attributes"].is_string());
}
