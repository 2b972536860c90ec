//! `/api/v1`: the Customer Attributes API as its Swagger definition (the CIDM
//! guide in `docs/`) describes it — `customer_attributes` (GET and POST),
//! `verify_customer_attributes`, `customer_shared`, `health` — and its
//! OpenAPI document.

pub mod openapi;
pub mod request;
pub mod shape;
pub mod swagger;

use lambda_http::{Body, Request, Response};
use serde_json::json;
use time::Date;

use crate::attributes::ValidationFailure;
use crate::authenticate::authenticate;
use crate::door::Door;
use crate::exchange::{self, Outcome, Unreadable, done};
use crate::ready::Ready;
use crate::release;
use crate::request::AttributesRequest;
use crate::response;
use crate::signed_check;
use crate::validation::NameRule;

/// Where the API lives.
pub const PREFIX: &str = "/api/v1/";

/// The API's routes and the methods each answers.
pub const ROUTES: &[(&str, &str)] = &[
    ("/api/v1/health", "GET"),
    ("/api/v1/customer_attributes", "GET, POST"),
    ("/api/v1/verify_customer_attributes", "POST"),
    ("/api/v1/customer_shared", "GET"),
    ("/api/v1/openapi.json", "GET"),
    ("/api/v1/swagger.json", "GET"),
];

/// How `/api/v1` reads requests and words its 400s.
const DOOR: Door = Door {
    read,
    names: NameRule::InTable,
    invalid,
    subject_field: "sub",
};

fn read(req: &Request) -> Result<AttributesRequest, Unreadable> {
    if req.method() == http::Method::POST {
        request::from_json(exchange::body(req)?).map_err(Unreadable::body)
    } else {
        request::from_query(&exchange::query(req)).map_err(|f| Unreadable {
            message: "the query is not valid",
            failures: vec![f],
        })
    }
}

fn invalid(ready: &Ready, message: &str, failures: &[ValidationFailure]) -> Response<Body> {
    shape::validation_error(&ready.settings.site_url, message, failures)
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
            release::serve(ready, &req, today, &DOOR).await
        }
        ("/api/v1/verify_customer_attributes", "POST") => signed_check::serve(ready, &req, &DOOR),
        _ => match exchange::methods_of(ROUTES, &path) {
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
