//! Cross-origin access to the API, as the Customer Attributes API's Swagger
//! definition has it but safe: only the site's own origin and the stack's
//! `[api] allowed_origins` are answered; `*` only when listed, and then
//! without credentials. The headers go on every response, errors included,
//! so a browser can read why a call failed.

use http::{HeaderMap, HeaderValue, header};
use lambda_http::{Body, Request, Response};

use crate::settings::Settings;

/// Request headers a cross-origin caller may send: the token, JSON, and the
/// API key header clients of the original API still send (ignored here).
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, X-Api-Key";
/// How long a browser may cache a preflight answer, in seconds.
pub const MAX_AGE: &str = "600";

/// What the response to one request says about its origin.
pub enum Cors {
    /// A listed origin: echoed, with credentials allowed.
    Origin(HeaderValue),
    /// `*` is listed and the origin is not: any origin, never with credentials.
    Any,
    /// No `Origin` header, or one that is not allowed.
    None,
}

/// The origin (`scheme://host[:port]`) of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

impl Cors {
    /// Decides for `req` under the stack's settings.
    pub fn for_request(settings: &Settings, req: &Request) -> Cors {
        let Some(given) = req.headers().get(header::ORIGIN) else {
            return Cors::None;
        };
        let Ok(text) = given.to_str() else {
            return Cors::None;
        };
        let listed = std::iter::once(origin_of(&settings.site_url))
            .chain(settings.allowed_origins.iter().map(|o| origin_of(o)))
            .any(|o| o != "*" && o.eq_ignore_ascii_case(text));
        if listed {
            Cors::Origin(given.clone())
        } else if settings.allowed_origins.iter().any(|o| o == "*") {
            Cors::Any
        } else {
            Cors::None
        }
    }

    /// Adds the headers to a response.
    pub fn apply(&self, h: &mut HeaderMap) {
        // The answer depends on Origin, so no cache may reuse it for another.
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        match self {
            Cors::Origin(o) => {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
            Cors::Any => {
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Cors::None => return,
        }
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
}

/// 204 answering a preflight for a route that takes `methods`.
pub fn preflight(methods: &'static str) -> Response<Body> {
    let mut resp = crate::response::no_content();
    let h = resp.headers_mut();
    let with_options = match methods {
        "GET" => "GET, OPTIONS",
        "POST" => "POST, OPTIONS",
        _ => "GET, POST, OPTIONS",
    };
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(with_options),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("https://a.example/x/y"), "https://a.example");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://a.example/"), "https://a.example");
        // A short host: the path starts before where a miscounted scheme would end.
        assert_eq!(origin_of("https://a.b/c/d"), "https://a.b");
        assert_eq!(origin_of("http://h/a/b/c/d"), "http://h");
    }
}
