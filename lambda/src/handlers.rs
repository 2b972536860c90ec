//! Routing and the four routes.

use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

use crate::Ready;
use crate::attributes::{self, Profile};
use crate::identity;
use crate::level;
use crate::request::AttributesRequest;
use crate::response;
use crate::signing::{self, Statement};
use crate::token::{self, Claims, Reason, VerifyError};

/// Largest request body read.
pub(crate) const MAX_BODY: usize = 64 * 1024;

const ROUTES: &[&str] = &[
    "/api/health",
    "/api/color",
    "/api/attributes",
    "/api/verify_attributes",
];

pub(crate) type Outcome = (Response<Body>, String);

pub(crate) fn done(resp: Response<Body>, reason: &str) -> Outcome {
    (resp, reason.to_string())
}

/// Whether `path` is one of the function's routes.
pub(crate) fn is_route(path: &str) -> bool {
    ROUTES.contains(&path) || crate::v1::ROUTES.contains(&path)
}

/// The methods a route answers, for `Allow` and CORS preflights.
pub(crate) fn methods_of(path: &str) -> Option<&'static str> {
    match path {
        "/api/health" | "/api/color" => Some("GET"),
        "/api/attributes" => Some("GET, POST"),
        "/api/verify_attributes" => Some("POST"),
        _ => crate::v1::methods_of(path),
    }
}

/// Constant-time comparison, so the origin secret cannot be guessed byte by byte from timing.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn origin_allowed(ready: &Ready, req: &Request) -> bool {
    if ready.settings.skip_origin_verify {
        return true;
    }
    let Some(given) = req.headers().get("x-origin-verify") else {
        return false;
    };
    // Check every configured value so timing does not reveal which one matched.
    ready
        .settings
        .origin_verify
        .iter()
        .filter(|v| !v.is_empty())
        .fold(false, |ok, v| ct_eq(given.as_bytes(), v.as_bytes()) | ok)
}

pub(crate) async fn route(ready: &Ready, req: Request, today: Date) -> Outcome {
    let cors = crate::cors::Cors::for_request(&ready.settings, &req);
    let (mut resp, reason) = route_inner(ready, req, today).await;
    cors.apply(resp.headers_mut());
    (resp, reason)
}

async fn route_inner(ready: &Ready, req: Request, today: Date) -> Outcome {
    if !origin_allowed(ready, &req) {
        return done(
            // Not 403: the distribution maps 403 (S3's missing key) to the 404 page.
            response::error(421, "forbidden", "requests must come through the site"),
            "origin_verify",
        );
    }
    let method = req.method().as_str().to_string();
    if method == "OPTIONS"
        && let Some(methods) = methods_of(req.uri().path())
    {
        return done(crate::cors::preflight(methods), "preflight");
    }
    if req.uri().path().starts_with(crate::v1::PREFIX) {
        return crate::v1::route(ready, req, today).await;
    }
    match (req.uri().path(), method.as_str()) {
        ("/api/health", "GET") => done(response::json(200, &json!({"status": "ok"})), "-"),
        ("/api/color", "GET") => color(ready, &req).await,
        ("/api/health" | "/api/color", _) => done(response::method_not_allowed("GET"), "method"),
        ("/api/attributes", "GET" | "POST") => attributes(ready, &req, today).await,
        ("/api/attributes", _) => done(response::method_not_allowed("GET, POST"), "method"),
        ("/api/verify_attributes", "POST") => verify_attributes(ready, &req),
        ("/api/verify_attributes", _) => done(response::method_not_allowed("POST"), "method"),
        _ => done(
            response::error(404, "not_found", "no such route"),
            "not_found",
        ),
    }
}

/// Verifies the request's identity token and its assurance level.
pub(crate) async fn authenticate(
    ready: &Ready,
    req: &Request,
) -> Result<(Claims, Option<level::Level>), Outcome> {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(token::from_authorization) else {
        let r = Reason::MissingToken;
        return Err(done(response::unauthorized(&r), &r.code()));
    };
    let claims = match ready.verifier.verify(token).await {
        Ok(c) => c,
        Err(VerifyError::Rejected(r)) => return Err(done(response::unauthorized(&r), &r.code())),
        Err(VerifyError::KeysUnavailable(e)) => {
            tracing::warn!(error = %e, "issuer keys unavailable");
            return Err(done(
                response::error(
                    503,
                    "issuer_unavailable",
                    "the identity provider's keys could not be fetched",
                ),
                "jwks_unavailable",
            ));
        }
    };
    let s = &ready.settings;
    let level = level::of_claims(&claims.all, &s.level_claim, &s.level_map);
    if let Some(required) = ready.required_level
        && level.is_none_or(|l| l < required)
    {
        return Err(done(
            response::insufficient_assurance(required.as_str()),
            "insufficient_assurance",
        ));
    }
    Ok((claims, level))
}

async fn color(ready: &Ready, req: &Request) -> Outcome {
    let (claims, level) = match authenticate(ready, req).await {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let d = identity::derive(&ready.settings.app_secret, &claims.iss, &claims.sub);
    let body = json!({
        "yourUserIdentity": d.user_identity,
        "yourColorIdentity": d.color,
        "level": level.map(|l| l.as_str()),
    });
    done(response::json(200, &body), "-")
}

pub(crate) fn query(req: &Request) -> String {
    if let Some(q) = req.uri().query() {
        return q.to_string();
    }
    // Events whose URI lacks the query still carry it in the lambda extension.
    let params = req.query_string_parameters_ref();
    params
        .map(|p| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        })
        .unwrap_or_default()
}

fn body_failure(reason: String) -> Outcome {
    let failures = json!([{"property": "body", "failure_reason": reason}]);
    done(
        response::bad_request("the request body is not valid", failures),
        "bad_request",
    )
}

async fn attributes(ready: &Ready, req: &Request, today: Date) -> Outcome {
    let (claims, level) = match authenticate(ready, req).await {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let request = if req.method() == http::Method::POST {
        let body = req.body().as_ref();
        if body.len() > MAX_BODY {
            return body_failure(format!("larger than {MAX_BODY} bytes"));
        }
        match AttributesRequest::from_body(body) {
            Ok(r) => r,
            Err(e) => return body_failure(e),
        }
    } else {
        AttributesRequest::from_query(&query(req))
    };
    let requested = &request.attributes;
    // The stack's name table, as /api/v1 reads it: one name check for both APIs.
    let names = &ready.settings.attribute_names;
    let (formulas, mut failures) = match attributes::validate_with(requested, names, true) {
        Ok(f) => (f, Vec::new()),
        Err(failures) => (Vec::new(), failures),
    };
    failures.extend(request.binding_failures());
    if !failures.is_empty() {
        let failures = serde_json::to_value(failures).unwrap_or(Value::Null);
        return done(
            response::bad_request("the requested attributes are not valid", failures),
            "bad_request",
        );
    }
    let profile =
        Profile::new(&claims.all, &ready.settings.verified_claims, level).with_names(names);
    let mut released = Vec::new();
    let mut to_sign = Vec::new();
    let mut formulas_to_sign = Vec::new();
    for (r, f) in requested.iter().zip(&formulas) {
        if let Some(v) = profile.release(r, f.as_ref(), today) {
            match (r.definition.signed, f) {
                (true, Some(_)) => formulas_to_sign.push(v.clone()),
                (true, None) => to_sign.push(v.clone()),
                (false, _) => {}
            }
            released.push(v);
        }
    }
    if released.is_empty() {
        return done(response::no_content(), "no_values");
    }
    let mut body = json!({"attributes": released});
    if !to_sign.is_empty() || !formulas_to_sign.is_empty() {
        let d = identity::derive(&ready.settings.app_secret, &claims.iss, &claims.sub);
        let statement = Statement {
            sub: d.user_identity,
            attributes: to_sign,
            formulas: formulas_to_sign,
            audience: request.audience,
            nonce: request.nonce,
            ..Statement::default()
        };
        match ready.signer.sign_statement(statement, token::now()) {
            Ok(jwt) => body["signed_attributes"] = Value::String(jwt),
            Err(e) => {
                tracing::error!(error = %e, "signing attributes failed");
                return done(
                    response::error(500, "signing_failed", "could not sign"),
                    "signing_failed",
                );
            }
        }
    }
    done(response::json(200, &body), "-")
}

#[derive(Deserialize)]
struct VerifyBody {
    signed_attributes: String,
    /// The audience the caller expects; the default audience when absent.
    #[serde(default)]
    audience: Option<String>,
    /// The nonce the caller expects, when it sent one.
    #[serde(default)]
    nonce: Option<String>,
}

fn verify_attributes(ready: &Ready, req: &Request) -> Outcome {
    let body = req.body().as_ref();
    if body.len() > MAX_BODY {
        return body_failure(format!("larger than {MAX_BODY} bytes"));
    }
    let parsed = match serde_json::from_slice::<VerifyBody>(body) {
        Ok(b) => b,
        Err(e) => return body_failure(e.to_string()),
    };
    let audience = parsed.audience.as_deref().unwrap_or(signing::AUDIENCE);
    let verified = ready
        .signer
        .verify_for(&parsed.signed_attributes, audience)
        .and_then(|c| match &parsed.nonce {
            Some(n) if c.nonce.as_ref() != Some(n) => Err(Reason::WrongNonce),
            _ => Ok(c),
        });
    match verified {
        Ok(c) => {
            let body = json!({
                "attributes": c.attributes,
                "formulas": c.formulas,
                "yourUserIdentity": c.sub,
                "audience": c.aud,
                "nonce": c.nonce,
                "issued_at": c.iat,
                "expires_at": c.exp,
            });
            done(response::json(200, &body), "-")
        }
        Err(r) => done(response::unauthorized(&r), &r.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }
}
