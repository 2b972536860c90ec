//! Cross-origin answers of the function itself (lambda/src/cors.rs through the
//! router): which origins are echoed, with or without credentials, the headers
//! every response carries (errors included), and each route's preflight.

use http::Response;
use lambda_http::{Body, Request};

use crate::common::{Idp, ORIGIN, SITE};

const LISTED: &str = "https://app.example";

fn with_origin(method: &str, uri: &str, origin: Option<&[u8]>) -> Request {
    let mut req = crate::common::request(method, uri, None, None);
    if let Some(o) = origin {
        req.headers_mut().insert(
            "origin",
            http::HeaderValue::from_bytes(o).expect("a header value"),
        );
    }
    req
}

async fn answer(allowed: &[&str], req: Request) -> Response<Body> {
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.allowed_origins = allowed.iter().map(|s| s.to_string()).collect();
    let app = colorid_lambda::App::new(settings).expect("valid settings");
    app.handle(req).await
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_listed_origin_is_echoed_with_credentials_on_an_error_too() {
    // The listed origin written with a path and in another case still matches.
    for listed in [LISTED, "https://APP.example/some/page"] {
        let resp = answer(
            &[listed],
            with_origin("GET", "/api/v1/customer_shared", Some(LISTED.as_bytes())),
        )
        .await;
        assert_eq!(resp.status(), 401, "no token");
        assert_eq!(header(&resp, "access-control-allow-origin"), Some(LISTED));
        assert_eq!(
            header(&resp, "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            header(&resp, "access-control-expose-headers"),
            Some("WWW-Authenticate")
        );
        assert_eq!(header(&resp, "vary"), Some("Origin"));
    }
}

#[tokio::test]
async fn the_sites_own_origin_is_always_echoed() {
    let resp = answer(
        &[],
        with_origin("GET", "/api/health", Some(SITE.as_bytes())),
    )
    .await;
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(SITE));
    // Even where `*` is listed: the site keeps its credentials.
    let resp = answer(
        &["*"],
        with_origin("GET", "/api/health", Some(SITE.as_bytes())),
    )
    .await;
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(SITE));
    assert_eq!(
        header(&resp, "access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn a_star_answers_any_origin_without_credentials() {
    let evil = b"https://any.example";
    let resp = answer(&["*"], with_origin("GET", "/api/health", Some(evil))).await;
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    assert_eq!(
        header(&resp, "access-control-expose-headers"),
        Some("WWW-Authenticate")
    );
    // A listed origin beside `*` is still echoed with credentials.
    let resp = answer(
        &["*", LISTED],
        with_origin("GET", "/api/health", Some(LISTED.as_bytes())),
    )
    .await;
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(LISTED));
    assert_eq!(
        header(&resp, "access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn unlisted_missing_or_unreadable_origins_get_no_grant() {
    let cases: [Option<&[u8]>; 4] = [
        Some(b"https://evil.example"),
        // A prefix of a listed origin is another origin.
        Some(b"https://app.example.evil"),
        None,
        Some(b"https://app.example\xff"),
    ];
    for origin in cases {
        let resp = answer(&[LISTED], with_origin("GET", "/api/health", origin)).await;
        assert_eq!(resp.status(), 200);
        for h in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "access-control-expose-headers",
        ] {
            assert_eq!(header(&resp, h), None, "{h} for {origin:?}");
        }
        // The answer still depends on Origin: no cache may hand it to another.
        assert_eq!(header(&resp, "vary"), Some("Origin"), "{origin:?}");
    }
}

#[tokio::test]
async fn each_route_preflight_names_its_own_methods() {
    for (path, methods) in [
        ("/api/health", "GET, OPTIONS"),
        ("/api/v1/customer_shared", "GET, OPTIONS"),
        ("/api/verify_attributes", "POST, OPTIONS"),
        ("/api/v1/verify_customer_attributes", "POST, OPTIONS"),
        ("/api/attributes", "GET, POST, OPTIONS"),
        ("/api/v1/customer_attributes", "GET, POST, OPTIONS"),
    ] {
        let resp = answer(
            &[LISTED],
            with_origin("OPTIONS", path, Some(LISTED.as_bytes())),
        )
        .await;
        assert_eq!(resp.status(), 204, "{path}");
        assert_eq!(
            header(&resp, "access-control-allow-methods"),
            Some(methods),
            "{path}"
        );
        assert_eq!(
            header(&resp, "access-control-allow-headers"),
            Some("Authorization, Content-Type, X-Api-Key")
        );
        assert_eq!(header(&resp, "access-control-max-age"), Some("600"));
        assert_eq!(header(&resp, "access-control-allow-origin"), Some(LISTED));
    }
    // Not a route: no preflight answer.
    let resp = answer(
        &[LISTED],
        with_origin("OPTIONS", "/api/nothing", Some(LISTED.as_bytes())),
    )
    .await;
    assert_ne!(resp.status(), 204);
    assert_eq!(header(&resp, "access-control-allow-methods"), None);
}

#[tokio::test]
async fn a_request_without_the_origin_secret_is_421_whatever_its_cors() {
    let mut req = with_origin("OPTIONS", "/api/health", Some(LISTED.as_bytes()));
    req.headers_mut().remove("x-origin-verify");
    let resp = answer(&[LISTED], req).await;
    assert_eq!(resp.status(), 421);
    assert_eq!(header(&resp, "access-control-allow-methods"), None);
    let mut req = with_origin("GET", "/api/health", None);
    req.headers_mut().insert(
        "x-origin-verify",
        http::HeaderValue::from_static("origin-wrong"),
    );
    assert_eq!(answer(&[], req).await.status(), 421);
    // The previous value is still accepted (rotation), as the current one.
    for v in [ORIGIN, crate::common::ORIGIN_PREVIOUS] {
        let mut req = with_origin("GET", "/api/health", None);
        req.headers_mut()
            .insert("x-origin-verify", http::HeaderValue::from_static(v));
        assert_eq!(answer(&[], req).await.status(), 200, "{v}");
    }
    // Both values the same (a rotation that kept the value): still accepted.
    let idp = Idp::standard().await;
    let mut settings = idp.settings();
    settings.origin_verify = vec![ORIGIN.into(), ORIGIN.into()];
    let app = colorid_lambda::App::new(settings).expect("valid settings");
    let resp = app.handle(with_origin("GET", "/api/health", None)).await;
    assert_eq!(resp.status(), 200);
}
