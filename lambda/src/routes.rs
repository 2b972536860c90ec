//! Routing: the origin check every request passes first, CORS, preflights,
//! then the route of `/api/v1` or of the first API.

use lambda_http::Request;
use time::Date;

use crate::exchange::{self, Outcome, done};
use crate::legacy;
use crate::ready::Ready;
use crate::response;
use crate::v1;

/// The route `path` is, as the routes table spells it (for the log line).
pub(crate) fn route_name(path: &str) -> Option<&'static str> {
    exchange::route_of(legacy::ROUTES, path).or_else(|| exchange::route_of(v1::ROUTES, path))
}

/// The methods a route answers, for CORS preflights.
fn methods_of(path: &str) -> Option<&'static str> {
    exchange::methods_of(legacy::ROUTES, path).or_else(|| exchange::methods_of(v1::ROUTES, path))
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

/// Serves one request with the configured function.
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
    if req.method() == http::Method::OPTIONS
        && let Some(methods) = methods_of(req.uri().path())
    {
        return done(crate::cors::preflight(methods), "preflight");
    }
    if req.uri().path().starts_with(v1::PREFIX) {
        v1::route(ready, req, today).await
    } else {
        legacy::route(ready, req, today).await
    }
}

#[cfg(test)]
mod tests {
    use super::{ct_eq, route_name};

    /// The request log names a route only when it is one of these (else "other").
    #[test]
    fn routes_are_the_two_apis_paths() {
        for path in [
            "/api/health",
            "/api/attributes",
            "/api/v1/customer_attributes",
        ] {
            assert_eq!(route_name(path), Some(path));
        }
        for path in ["/api/nothing", "/api/v1/", "/", "/api/health/x"] {
            assert_eq!(route_name(path), None, "{path}");
        }
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        // Two differences that would cancel out if they were combined by XOR.
        assert!(!ct_eq(b"ab", b"ba"));
    }
}
