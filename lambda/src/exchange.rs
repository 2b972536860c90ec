//! What every route shares about one exchange: the outcome it answers with
//! (the response and the reason code the request log records), and reading
//! the request's query and body.

use std::borrow::Cow;

use lambda_http::{Body, Request, RequestExt, Response};

use crate::attributes::ValidationFailure;

/// Largest request body read.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// A response and the reason code logged with it (`-` when all went well).
pub(crate) type Outcome = (Response<Body>, Cow<'static, str>);

/// The outcome of `resp`, logged with `reason` (the fixed codes are not copied).
pub(crate) fn done(resp: Response<Body>, reason: impl Into<Cow<'static, str>>) -> Outcome {
    (resp, reason.into())
}

/// The methods `path` answers in a table of routes (for `Allow` and CORS
/// preflights), or `None` when it is not one of them.
pub(crate) fn methods_of(routes: &[Route], path: &str) -> Option<&'static str> {
    entry_of(routes, path).map(|(_, m)| *m)
}

/// `path` as a table of routes spells it, or `None` when it is not one of them.
pub(crate) fn route_of(routes: &[Route], path: &str) -> Option<&'static str> {
    entry_of(routes, path).map(|(p, _)| *p)
}

/// A route's path and the methods it answers.
pub(crate) type Route = (&'static str, &'static str);

fn entry_of<'a>(routes: &'a [Route], path: &str) -> Option<&'a Route> {
    routes.iter().find(|(p, _)| *p == path)
}

/// A request a route cannot read: the 400's message and its failures.
pub(crate) struct Unreadable {
    /// What the 400 says.
    pub message: &'static str,
    /// Each property at fault.
    pub failures: Vec<ValidationFailure>,
}

impl Unreadable {
    /// The body is not what the route reads.
    pub(crate) fn body(reason: String) -> Self {
        Self {
            message: "the request body is not valid",
            failures: vec![ValidationFailure {
                property: "body".into(),
                failure_reason: reason,
            }],
        }
    }
}

/// The request's query string.
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

/// The request's body, at most [`MAX_BODY`] bytes.
pub(crate) fn body(req: &Request) -> Result<&[u8], Unreadable> {
    let body = req.body().as_ref();
    if body.len() > MAX_BODY {
        return Err(Unreadable::body(format!("larger than {MAX_BODY} bytes")));
    }
    Ok(body)
}
