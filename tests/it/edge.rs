//! `colorid dev` through its local edge, built from the distribution
//! configuration `up` sends (no `--local`): what a browser on the real domain
//! gets for the repository's own site. One test per row of the edge table
//! (src/edge/mod.rs); the same checks against a deployed stack are in
//! tests/it/dev_local.rs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use colorid::edge::{Edge, EdgeConfig};
use serde_json::{Value, json};

use crate::common::dev::{self, Dev};

const MANIFEST: &str = r#"{"the":"manifest"}"#;

/// A copy of the repository's site, with a stray manifest in it.
fn site_copy() -> (tempfile::TempDir, PathBuf) {
    let (dir, site) = dev::site_copy();
    std::fs::create_dir_all(site.join(".colorid")).unwrap();
    std::fs::write(site.join(".colorid/manifest.json"), MANIFEST).unwrap();
    (dir, site)
}

fn stack(dir: &Path) -> colorid::config::Stack {
    dev::stack(dir, "edge-test", "")
}

async fn start(required_level: Option<&'static str>, issuer: Option<(String, String)>) -> Dev {
    dev::start(dev::Options {
        name: "edge-test",
        repository_site: true,
        files: vec![(".colorid/manifest.json", MANIFEST)],
        required_level,
        verified_claims: vec!["email", "birthdate"],
        issuer,
        ..Default::default()
    })
    .await
}

/// The repository's site in `site` as the edge's S3 origin.
fn site_origin(site: PathBuf) -> colorid::edge::origin::SiteOrigin {
    colorid::edge::origin::SiteOrigin {
        store: colorid::edge::origin::SiteStore::Dir(colorid::publish::LocalSite::new(
            site,
            &Default::default(),
        )),
        generated: Vec::new(),
        bucket: "b".into(),
        policy: json!({"Statement": []}),
    }
}

const NOT_FOUND_PAGE: &str = "<h1>Page not found</h1>";

#[tokio::test]
async fn api_paths_reach_the_function_and_the_rest_the_bucket() {
    let dev = start(None, None).await;
    let health = dev.get("/api/health", None).await;
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
    // "/api" does not match "/api/*": the default behaviour, S3, the 404 page.
    let bare = dev.get("/api", None).await;
    assert_eq!(bare.status, 404);
    assert!(bare.body.contains(NOT_FOUND_PAGE), "{}", bare.body);
    let script = dev.get("/color.js", None).await;
    assert_eq!(script.status, 200);
    assert!(script.header("content-type").starts_with("text/javascript"));
}

#[tokio::test]
async fn methods_a_behaviour_does_not_allow_are_refused() {
    let dev = start(None, None).await;
    // The default behaviour allows GET and HEAD only: CloudFront's own 403.
    let post = dev.send("POST", "/index.html", None, "x").await;
    assert_eq!(post.status, 403);
    assert!(!post.body.contains(NOT_FOUND_PAGE));
    // /api/* allows every method: the function answers for itself.
    let delete = dev.send("DELETE", "/api/health", None, "").await;
    assert_eq!(delete.status, 405);
    assert_eq!(delete.json()["code"], json!("method_not_allowed"));
}

#[tokio::test]
async fn a_missing_page_is_the_404_page_with_404() {
    let dev = start(None, None).await;
    for path in ["/missing", "/no/such/page.html", "/docs"] {
        let got = dev.get(path, None).await;
        assert_eq!(got.status, 404, "{path}");
        assert!(got.body.contains(NOT_FOUND_PAGE), "{path}: {}", got.body);
        assert!(
            got.header("content-type").starts_with("text/html"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn directories_serve_their_index_through_the_function() {
    let dev = start(None, None).await;
    let docs = dev.get("/docs/", None).await;
    assert_eq!(docs.status, 200);
    assert!(
        docs.body.contains("<h1>About colorid</h1>"),
        "{}",
        docs.body
    );
    let root = dev.get("/", None).await;
    assert_eq!(root.status, 200);
    assert!(root.body.contains("<title>colorid — your colour</title>"));
}

#[tokio::test]
async fn the_manifest_is_not_served() {
    let dev = start(None, None).await;
    let got = dev.get("/.colorid/manifest.json", None).await;
    assert_eq!(got.status, 404);
    assert!(!got.body.contains("the manifest"), "{}", got.body);
    assert!(got.body.contains(NOT_FOUND_PAGE));
}

/// Issue 25, item 1: the edge serves only what `publish` would upload, never
/// another file of the machine.
#[cfg(unix)]
#[tokio::test]
async fn only_what_publish_would_upload_is_served() {
    let dev = start(None, None).await;
    let root = dev.dir.as_ref().unwrap().path();
    let site = root.join("site");
    let outside = root.join("credentials");
    std::fs::write(&outside, "aws_secret_access_key = OUTSIDE").unwrap();
    std::fs::write(site.join(".env"), "TOKEN=DOTFILE").unwrap();
    std::os::unix::fs::symlink(&outside, site.join("creds.txt")).unwrap();
    std::os::unix::fs::symlink(site.join("index.html"), site.join("inside.html")).unwrap();
    let absolute = outside.to_str().unwrap().replace('/', "%2F");
    for path in [
        format!("/{absolute}"),
        format!("/%2F{}", &absolute[3..]),
        "/..%2Fcredentials".to_string(),
        "/%2E%2E/credentials".to_string(),
        "/..%5Ccredentials".to_string(),
        "/.env".to_string(),
        "/%2Eenv".to_string(),
        "/creds.txt".to_string(),
    ] {
        let got = dev.get(&path, None).await;
        assert_eq!(got.status, 404, "{path}: {}", got.body);
        assert!(!got.body.contains("OUTSIDE"), "{path}");
        assert!(!got.body.contains("DOTFILE"), "{path}");
    }
    // A link inside the site is published, so it is served.
    let got = dev.get("/inside.html", None).await;
    assert_eq!(got.status, 200);
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let dev = start(None, None).await;
    for path in ["/", "/missing", "/api/health", "/docs/", "/config.json"] {
        let got = dev.get(path, None).await;
        let csp = got.header("content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            got.header("strict-transport-security"),
            "max-age=63072000",
            "{path}"
        );
        assert_eq!(got.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(got.header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(got.header("x-content-type-options"), "nosniff", "{path}");
        assert!(
            got.header("permissions-policy").contains("camera=()"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_api_status_reaches_the_browser_unchanged() {
    let dev = start(Some("AAL2"), None).await;
    let alice = dev.token("alice").await; // AAL1
    let bob = dev.token("bob").await; // AAL2

    // Step-up (RFC 9470): the function's own 401, JSON and challenge.
    let step_up = dev.send("GET", "/api/color", Some(&alice), "").await;
    assert_eq!(step_up.status, 401);
    assert_eq!(
        step_up.json(),
        json!({"code": "insufficient_assurance", "required": "AAL2"})
    );
    assert_eq!(step_up.header("content-type"), "application/json");
    assert!(
        step_up
            .header("www-authenticate")
            .contains(r#"error="insufficient_user_authentication""#),
        "{:?}",
        step_up.headers
    );
    assert!(
        step_up
            .header("www-authenticate")
            .contains(r#"acr_values="AAL2""#)
    );

    let ok = dev.send("GET", "/api/color", Some(&bob), "").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["level"], json!("AAL2"));
    let refused = dev.send("GET", "/api/color", Some("not.a.token"), "").await;
    assert_eq!(
        (refused.status, refused.json()["code"].clone()),
        (401, json!("invalid_token"))
    );
    let bad = dev
        .send("POST", "/api/verify_attributes", None, "not json")
        .await;
    assert_eq!(
        (bad.status, bad.json()["code"].clone()),
        (400, json!("invalid_request"))
    );
    let unknown = dev.get("/api/no-such-route", None).await;
    assert_eq!(unknown.status, 404, "a JSON 404, not the 404 page");
    assert_eq!(unknown.json()["code"], json!("not_found"));
    let method = dev.send("PUT", "/api/color", Some(&bob), "").await;
    assert_eq!(method.status, 405);
    assert_eq!(method.header("allow"), "GET");
    // 204: nothing to release (carol has no email), on a stack with no level.
    let plain = start(None, None).await;
    let carol = plain.token("carol").await;
    let none = plain
        .send(
            "GET",
            "/api/attributes?self_asserted_attributes=Email",
            Some(&carol),
            "",
        )
        .await;
    assert_eq!(none.status, 204, "{}", none.body);
    assert!(none.body.is_empty());
}

#[tokio::test]
async fn only_s3s_403_is_mapped_to_the_error_page() {
    let stack = stack(Path::new("/nonexistent"));
    let config = colorid::dev::edge::wanted_config(&stack, "s").unwrap();
    let edge = EdgeConfig::from_distribution(&config).unwrap();
    let codes: Vec<u16> = edge.errors.iter().map(|e| e.code).collect();
    // No 404.html in this stack's (missing) site: no error page at all.
    assert!(codes.is_empty(), "{codes:?}");
    let (dir, _) = site_copy();
    let edge = EdgeConfig::from_distribution(
        &colorid::dev::edge::wanted_config(&stack_in(&dir), "s").unwrap(),
    )
    .unwrap();
    let rules: Vec<(u16, Option<String>, Option<u16>)> = edge
        .errors
        .iter()
        .map(|e| (e.code, e.page.clone(), e.response_code))
        .collect();
    assert_eq!(rules, [(403, Some("/404.html".into()), Some(404))]);
}

fn stack_in(dir: &tempfile::TempDir) -> colorid::config::Stack {
    stack(dir.path())
}

#[tokio::test]
async fn the_default_root_object_applies_to_the_root_only() {
    // Without the viewer-request function, CloudFront alone: "/" is the
    // default root object, "/docs/" is the S3 key "docs/" — 403, the 404 page.
    let (dir, site) = site_copy();
    let stack = stack(dir.path());
    let mut config =
        EdgeConfig::from_distribution(&colorid::dev::edge::wanted_config(&stack, "s").unwrap())
            .unwrap();
    for b in &mut config.behaviors {
        b.viewer_function = None;
        b.headers_policy = None;
    }
    let site = site_origin(site);
    let edge = Edge::new(config, HashMap::new(), site, None).unwrap();
    let get = |path: &'static str| {
        let req = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        edge.handle(req)
    };
    let root = get("/").await;
    assert_eq!(root.status(), 200);
    let docs = get("/docs/").await;
    assert_eq!(docs.status(), 404);
    let body = axum::body::to_bytes(docs.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains(NOT_FOUND_PAGE));
}

#[tokio::test]
async fn the_function_checks_the_origin_header() {
    let dev = start(None, None).await;
    // Through the edge the header is right; a viewer cannot forge it away.
    let forged = dev
        .http
        .get(format!("{}/api/health", dev.origin))
        .header("x-origin-verify", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);
    // An edge whose origin header is wrong gets the function's own refusal.
    let (dir, site) = site_copy();
    let stack = stack(dir.path());
    let mut config =
        EdgeConfig::from_distribution(&colorid::dev::edge::wanted_config(&stack, "wrong").unwrap())
            .unwrap();
    config
        .behaviors
        .iter_mut()
        .for_each(|b| b.headers_policy = None);
    let mut settings = colorid_lambda::Settings::new(
        "https://issuer.example.com/",
        "c",
        "0".repeat(64),
        colorid::keys::EcKey::generate().pem,
        "http://127.0.0.1",
        vec!["right".into()],
    );
    settings.skip_origin_verify = false;
    let app = colorid_lambda::App::new(settings).unwrap();
    let site = site_origin(site);
    let api = colorid::edge::origin::ApiOrigin {
        app: std::sync::Arc::new(app),
    };
    let edge = Edge::new(config, HashMap::new(), site, Some(api)).unwrap();
    let req = axum::http::Request::get("/api/health")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = edge.handle(req).await;
    assert_eq!(resp.status(), 421, "not a status the distribution maps");
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], json!("forbidden"));
}
