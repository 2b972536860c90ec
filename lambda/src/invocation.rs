//! One invocation through the function URL: its event as the `http` request
//! [`App::handle`](crate::App::handle) serves, and the response as the function
//! URL's answer (the API Gateway v2 payload, which function URLs use).
//!
//! lambda_http's own adapter (`lambda_http::run`) passes every response body
//! through a charset decoder, which links encoding_rs and every charset's
//! tables (about 130 KB of the zip) to re-decode bodies that are already UTF-8
//! JSON or empty. This is its conversion without that step.

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, LambdaEvent, Request, RequestExt, Response};

/// The request an invocation carries, with its Lambda context (and X-Ray's
/// trace id as `x-amzn-trace-id`, as lambda_http sets it).
pub fn request_of(event: LambdaEvent<LambdaRequest>) -> Request {
    let LambdaEvent { payload, context } = event;
    let mut req: Request = payload.into();
    if let Some(trace) = context.xray_trace_id.as_deref()
        && let Ok(value) = http::HeaderValue::from_str(trace)
    {
        req.headers_mut().insert("x-amzn-trace-id", value);
    }
    req.with_lambda_context(context)
}

/// The function URL's answer: status, headers (Set-Cookie in `cookies`, as
/// the payload wants them), the body as text, or base64 when binary.
pub fn response_of(resp: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = resp.into_parts();
    let mut headers = parts.headers;
    let cookies = headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    headers.remove(http::header::SET_COOKIE);
    let (is_base64_encoded, body) = match body {
        Body::Empty => (false, None),
        b @ Body::Text(_) => (false, Some(b)),
        b @ Body::Binary(_) => (true, Some(b)),
        _ => (false, None),
    };
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = headers;
    out.body = body;
    out.is_base64_encoded = is_base64_encoded;
    out.cookies = cookies;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> LambdaEvent<LambdaRequest> {
        let json = include_str!("../tests/it/data/function-url-attributes.json");
        let payload: LambdaRequest = serde_json::from_str(json).expect("a function URL event");
        let mut context = lambda_http::Context::default();
        context.xray_trace_id = Some("Root=1-5759e988-bd862e3fe1be46a994272793".into());
        LambdaEvent::new(payload, context)
    }

    #[test]
    fn the_event_is_the_request_the_function_url_received() {
        let req = request_of(event());
        assert_eq!(req.method(), http::Method::GET);
        assert_eq!(req.uri().path(), "/api/attributes");
        assert!(req.headers().contains_key(http::header::AUTHORIZATION));
        assert_eq!(
            req.headers()["x-amzn-trace-id"],
            "Root=1-5759e988-bd862e3fe1be46a994272793"
        );
        assert!(req.lambda_context_ref().is_some());
    }

    #[test]
    fn the_response_keeps_status_headers_and_body_and_moves_cookies() {
        let mut resp = crate::response::json(401, &serde_json::json!({"code": "x"}));
        resp.headers_mut()
            .append(http::header::SET_COOKIE, "a=1".parse().unwrap());
        resp.headers_mut()
            .append(http::header::SET_COOKIE, "b=2".parse().unwrap());
        let out = response_of(resp);
        assert_eq!(out.status_code, 401);
        assert_eq!(out.headers["content-type"], "application/json");
        assert!(!out.headers.contains_key(http::header::SET_COOKIE));
        assert_eq!(out.cookies, ["a=1", "b=2"]);
        assert_eq!(out.body, Some(Body::Text(r#"{"code":"x"}"#.into())));
        assert!(!out.is_base64_encoded);
        let binary = response_of(Response::new(Body::Binary(vec![0, 159])));
        assert!(binary.is_base64_encoded);
        let serialized = serde_json::to_value(&binary).unwrap();
        assert_eq!(serialized["body"], "AJ8=");
        assert_eq!(serialized["statusCode"], 200);
        let empty = response_of(crate::response::no_content());
        assert_eq!((empty.status_code, empty.body), (204, None));
    }
}
