//! The first API's routes: `/api/health`, `/api/color`, and
//! `/api/attributes` and `/api/verify_attributes` as adapters over the same
//! pipeline as `/api/v1`, with this API's reading and wording.

use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
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

/// The routes and the methods each answers.
pub(crate) const ROUTES: &[(&str, &str)] = &[
    ("/api/health", "GET"),
    ("/api/color", "GET"),
    ("/api/attributes", "GET, POST"),
    ("/api/verify_attributes", "POST"),
];

/// How `/api/attributes` reads requests and words its 400s.
const DOOR: Door = Door {
    read,
    names: NameRule::WithClaim,
    invalid,
    subject_field: "yourUserIdentity",
};

fn read(req: &Request) -> Result<AttributesRequest, Unreadable> {
    if req.method() == http::Method::POST {
        AttributesRequest::from_body(exchange::body(req)?).map_err(Unreadable::body)
    } else {
        Ok(AttributesRequest::from_query(&exchange::query(req)))
    }
}

fn invalid(_: &Ready, message: &str, failures: &[ValidationFailure]) -> Response<Body> {
    let failures = serde_json::to_value(failures).unwrap_or(Value::Null);
    response::bad_request(message, failures)
}

pub(crate) async fn route(ready: &Ready, req: Request, today: Date) -> Outcome {
    match (req.uri().path(), req.method().as_str()) {
        ("/api/health", "GET") => done(response::json(200, &json!({"status": "ok"})), "-"),
        ("/api/color", "GET") => color(ready, &req).await,
        ("/api/attributes", "GET" | "POST") => release::serve(ready, &req, today, &DOOR).await,
        ("/api/verify_attributes", "POST") => signed_check::serve(ready, &req, &DOOR),
        (path, _) => match exchange::methods_of(ROUTES, path) {
            Some(allow) => done(response::method_not_allowed(allow), "method"),
            None => done(
                response::error(404, "not_found", "no such route"),
                "not_found",
            ),
        },
    }
}

/// `/api/color`'s answer, serialized straight from its fields.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ColorBody<'a> {
    your_user_identity: &'a str,
    your_color_identity: u32,
    level: Option<&'static str>,
}

async fn color(ready: &Ready, req: &Request) -> Outcome {
    let (claims, level) = match authenticate(ready, req).await {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let d = ready.deriver.derive(claims.iss(), claims.sub());
    let body = ColorBody {
        your_user_identity: &d.user_identity,
        your_color_identity: d.color,
        level: level.map(|l| l.as_str()),
    };
    done(response::json_of(200, &body), "-")
}
