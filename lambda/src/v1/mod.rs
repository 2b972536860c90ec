//! `/api/v1`: the Customer Attributes API as its Swagger definition (the CIDM
//! guide in `docs/`) describes it — `customer_attributes` (GET and POST),
//! `verify_customer_attributes`, `customer_shared`, `health` — and its
//! OpenAPI document.

pub mod openapi;
pub mod request;
pub mod shape;
pub mod swagger;

use lambda_http::Request;
use serde::Deserialize;
use serde_json::{Value, json};
use time::Date;

use crate::Ready;
use crate::attributes::{self, Pedigree, Profile, Source, ValidationFailure};
use crate::handlers::{MAX_BODY, Outcome, authenticate, done, query};
use crate::identity;
use crate::response;
use crate::signing::{self, Statement};
use crate::token::{self, Reason};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1/";

/// The API's routes.
pub const ROUTES: &[&str] = &[
    "/api/v1/health",
    "/api/v1/customer_attributes",
    "/api/v1/verify_customer_attributes",
    "/api/v1/customer_shared",
    "/api/v1/openapi.json",
    "/api/v1/swagger.json",
];

/// The methods a route answers.
pub fn methods_of(path: &str) -> Option<&'static str> {
    match path {
        "/api/v1/health"
        | "/api/v1/customer_shared"
        | "/api/v1/openapi.json"
        | "/api/v1/swagger.json" => Some("GET"),
        "/api/v1/customer_attributes" => Some("GET, POST"),
        "/api/v1/verify_customer_attributes" => Some("POST"),
        _ => None,
    }
}

pub(crate) async fn route(ready: &Ready, req: Request, today: Date) -> Outcome {
    let site = ready.settings.site_url.as_str();
    let path = req.uri().path().to_string();
    let method = req.method().as_str();
    match (path.as_str(), method) {
        ("/api/v1/health", "GET") => done(response::json(200, &json!({"status": "ok"})), "-"),
        ("/api/v1/openapi.json", "GET") => done(
            response::json(200, &openapi::document(&ready.settings)),
            "-",
        ),
        ("/api/v1/swagger.json", "GET") => done(
            response::json(200, &swagger::document(&ready.settings)),
            "-",
        ),
        ("/api/v1/customer_shared", "GET") => customer_shared(ready, &req).await,
        ("/api/v1/customer_attributes", "GET" | "POST") => {
            customer_attributes(ready, &req, today).await
        }
        ("/api/v1/verify_customer_attributes", "POST") => verify(ready, &req),
        _ => match methods_of(&path) {
            Some(allow) => done(response::method_not_allowed(allow), "method"),
            None => done(
                shape::error(site, 404, "not_found", "no such route"),
                "not_found",
            ),
        },
    }
}

async fn customer_shared(ready: &Ready, req: &Request) -> Outcome {
    if let Err(outcome) = authenticate(ready, req).await {
        return outcome;
    }
    let body = json!({"share": ready.settings.customer_shared});
    done(response::json(200, &body), "-")
}

fn invalid(ready: &Ready, message: &str, failures: &[ValidationFailure]) -> Outcome {
    done(
        shape::validation_error(&ready.settings.site_url, message, failures),
        "bad_request",
    )
}

fn body_failure(ready: &Ready, reason: String) -> Outcome {
    let failure = ValidationFailure {
        property: "body".into(),
        failure_reason: reason,
    };
    invalid(ready, "the request body is not valid", &[failure])
}

async fn customer_attributes(ready: &Ready, req: &Request, today: Date) -> Outcome {
    let (claims, level) = match authenticate(ready, req).await {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let request = if req.method() == http::Method::POST {
        let body = req.body().as_ref();
        if body.len() > MAX_BODY {
            return body_failure(ready, format!("larger than {MAX_BODY} bytes"));
        }
        match request::from_json(body) {
            Ok(r) => r,
            Err(e) => return body_failure(ready, e),
        }
    } else {
        match request::from_query(&query(req)) {
            Ok(r) => r,
            Err(f) => return invalid(ready, "the query is not valid", &[f]),
        }
    };
    let names = &ready.settings.attribute_names;
    let requested = &request.attributes;
    let (formulas, mut failures) = match attributes::validate_with(requested, names, false) {
        Ok(f) => (f, Vec::new()),
        Err(failures) => (Vec::new(), failures),
    };
    failures.extend(request.binding_failures());
    if !failures.is_empty() {
        return invalid(ready, "the requested attributes are not valid", &failures);
    }
    let profile =
        Profile::new(&claims.all, &ready.settings.verified_claims, level).with_names(names);
    let mut released = Vec::new();
    let mut statement = Statement::default();
    for (r, f) in requested.iter().zip(&formulas) {
        let Some(v) = profile.release(r, f.as_ref(), today) else {
            continue;
        };
        let v = shape::attribute(v);
        if r.definition.signed {
            if r.definition.source == Source::Formula {
                // Formula results stay out of the top level: none may pass for an attribute.
                statement.formulas.push(v.clone());
            } else {
                // Only what the issuer vouched for stands alone at the top level; the
                // rest keeps its pedigree beside it in `attributes`.
                if attributes::pedigree_of(&v) == Some(Pedigree::Authoritative) {
                    statement
                        .top_level
                        .insert(r.name.clone(), v["value"].clone());
                }
                statement.attributes.push(v.clone());
            }
        }
        released.push(v);
    }
    if released.is_empty() {
        return done(response::no_content(), "no_values");
    }
    let mut body = json!({"attributes": released});
    if !statement.attributes.is_empty() || !statement.formulas.is_empty() {
        let d = identity::derive(&ready.settings.app_secret, &claims.iss, &claims.sub);
        statement.sub = d.user_identity;
        statement.audience = request.audience;
        statement.nonce = request.nonce;
        match ready.signer.sign_statement(statement, token::now()) {
            Ok(jwt) => body["signed_attributes"] = Value::String(jwt),
            Err(e) => {
                tracing::error!(error = %e, "signing attributes failed");
                return done(
                    shape::error(
                        &ready.settings.site_url,
                        500,
                        "signing_failed",
                        "could not sign",
                    ),
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
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn verify(ready: &Ready, req: &Request) -> Outcome {
    let body = req.body().as_ref();
    if body.len() > MAX_BODY {
        return body_failure(ready, format!("larger than {MAX_BODY} bytes"));
    }
    let parsed = match serde_json::from_slice::<VerifyBody>(body) {
        Ok(b) => b,
        Err(e) => return body_failure(ready, e.to_string()),
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
            // Formula results stay apart: none may pass for a configured attribute.
            let body = json!({
                "attributes": c.attributes,
                "formulas": c.formulas,
                "sub": c.sub,
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
