//! The edge's origins: the site bucket (the working copy, or the emulated
//! bucket with `--local`) answering as S3 answers CloudFront, and the
//! identity function, called in-process as its function URL would be.

use std::sync::Arc;

use aws_sdk_s3::Client as S3Client;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use colorid_lambda::App;
use serde_json::Value;

use crate::publish::LocalSite;
use crate::publish::site_path::decode;

/// Where the site's objects come from.
#[derive(Clone)]
pub enum SiteStore {
    /// The working copy (`colorid dev`): only what `publish` would upload.
    Dir(LocalSite),
    /// The bucket `publish` filled (`colorid --local dev`).
    Bucket { s3: S3Client, bucket: String },
}

/// The S3 origin as CloudFront's origin access sees it.
#[derive(Clone)]
pub struct SiteOrigin {
    pub store: SiteStore,
    /// Objects the dev server generates in place of the bucket's (`config.json`).
    pub generated: Vec<(String, Bytes, &'static str)>,
    /// The bucket's name in `policy`'s resources.
    pub bucket: String,
    /// The bucket policy AWS holds: its Deny statements for CloudFront apply.
    pub policy: Value,
}

/// An S3 error as CloudFront receives it: XML, with S3's status.
fn s3_error(code: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>Access Denied</Message></Error>"
    );
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::FORBIDDEN;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

fn s3_resource_matches(pattern: &str, resource: &str) -> bool {
    super::config::pattern_matches(pattern, resource)
}

/// Whether a Deny statement of the bucket policy stops CloudFront reading `key`.
/// Statements with a condition are skipped: the only one colorid writes
/// (`aws:SecureTransport` false) never holds for CloudFront's HTTPS requests.
pub fn denied(policy: &Value, bucket: &str, key: &str) -> bool {
    let resource = format!("arn:aws:s3:::{bucket}/{key}");
    let as_list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        }
    };
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Deny"
            && s.get("Condition").is_none()
            && as_list(&s["Action"])
                .iter()
                .any(|a| matches!(a.as_str(), "s3:GetObject" | "s3:*" | "*"))
            && as_list(&s["Resource"])
                .iter()
                .any(|r| s3_resource_matches(&format!("/{r}"), &format!("/{resource}")))
    })
}

impl SiteOrigin {
    /// GET of a URI: the object, or 403 when it is missing (CloudFront has no
    /// `s3:ListBucket`), when it is a "folder" or when the policy denies it.
    pub async fn get(&self, uri: &str) -> Response {
        let key = decode(uri.trim_start_matches('/'));
        if key.is_empty() || key.ends_with('/') || key.split('/').any(|s| s == "..") {
            return s3_error("AccessDenied");
        }
        if denied(&self.policy, &self.bucket, &key) {
            return s3_error("AccessDenied");
        }
        if let Some((_, body, ty)) = self.generated.iter().find(|(k, _, _)| *k == key) {
            let mut resp = Response::new(Body::from(body.clone()));
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ty));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
        match &self.store {
            SiteStore::Dir(site) => read_file(site, &key).await,
            SiteStore::Bucket { s3, bucket } => read_object(s3, bucket, &key).await,
        }
    }
}

async fn read_file(site: &LocalSite, key: &str) -> Response {
    // An absolute or climbing key, a dotfile, or a link out of the site: as missing.
    let (site, owned) = (site.clone(), key.to_string());
    let Ok(Some(path)) = tokio::task::spawn_blocking(move || site.file(&owned)).await else {
        return s3_error("AccessDenied");
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let mut resp = Response::new(Body::from(bytes));
            let ty = crate::publish::content_type(key);
            if let Ok(v) = HeaderValue::from_str(&ty) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(_) => s3_error("AccessDenied"),
    }
}

async fn read_object(s3: &S3Client, bucket: &str, key: &str) -> Response {
    let Ok(out) = s3.get_object().bucket(bucket).key(key).send().await else {
        return s3_error("AccessDenied");
    };
    let content_type = out.content_type().map(str::to_string);
    let cache_control = out.cache_control().map(str::to_string);
    let Ok(body) = out.body.collect().await.map(|b| b.into_bytes()) else {
        return s3_error("InternalError");
    };
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    if let Some(v) = content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = cache_control.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}

/// The identity function behind its function URL.
#[derive(Clone)]
pub struct ApiOrigin {
    pub app: Arc<App>,
}

impl ApiOrigin {
    /// Sends the request as CloudFront would ([`origin_request`]) and hands
    /// back the function's answer untouched.
    pub async fn call(
        &self,
        parts: &http::request::Parts,
        body: Bytes,
        forward_all: bool,
        origin_domain: &str,
        custom_headers: &[(String, String)],
    ) -> Response {
        let req = origin_request(parts, body, forward_all, origin_domain, custom_headers);
        let resp = self.app.handle(req).await;
        let (parts, body) = resp.into_parts();
        Response::from_parts(parts, Body::from(body.as_ref().to_vec()))
    }
}

/// The request CloudFront sends a custom origin: the viewer's headers and
/// query string when the origin request policy forwards them all but `Host`
/// (AllViewerExceptHostHeader), `Host` the origin's, plus the origin's
/// custom headers.
pub fn origin_request(
    parts: &http::request::Parts,
    body: Bytes,
    forward_all: bool,
    origin_domain: &str,
    custom_headers: &[(String, String)],
) -> http::Request<lambda_http::Body> {
    let mut headers = HeaderMap::new();
    if forward_all {
        for (name, value) in &parts.headers {
            if name != header::HOST {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(origin_domain) {
        headers.insert(header::HOST, v);
    }
    for (name, value) in custom_headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    let uri = if forward_all {
        parts.uri.clone()
    } else {
        parts
            .uri
            .path()
            .parse()
            .unwrap_or_else(|_| parts.uri.clone())
    };
    let mut req = http::Request::new(if body.is_empty() {
        lambda_http::Body::Empty
    } else {
        lambda_http::Body::Binary(body.to_vec())
    });
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = uri;
    *req.headers_mut() = headers;
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::bucket_policy::{Reader, wanted_policy};

    #[test]
    fn the_manifest_is_denied_and_the_site_is_not() {
        let policy = wanted_policy("b", &Reader::Distribution("arn:d".into()), true);
        assert!(denied(&policy, "b", ".colorid/manifest.json"));
        assert!(!denied(&policy, "b", "index.html"));
        assert!(!denied(&policy, "b", "docs/index.html"));
        assert_eq!(decode("a%20b/c.html"), "a b/c.html");
    }

    #[test]
    fn the_function_gets_authorization_and_query_but_not_the_viewer_host() {
        let (parts, _) = http::Request::post("/api/attributes?self_asserted_attributes=Name")
            .header("host", "color.example.com")
            .header("authorization", "Bearer t")
            .header("x-origin-verify", "forged")
            .header("x-custom", "kept")
            .body(())
            .unwrap()
            .into_parts();
        let custom = [("X-Origin-Verify".to_string(), "the-secret".to_string())];
        let req = origin_request(&parts, Bytes::from("{}"), true, "fn.lambda-url", &custom);
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri().query(), Some("self_asserted_attributes=Name"));
        let h = req.headers();
        assert_eq!(h["host"], "fn.lambda-url");
        assert_eq!(h["authorization"], "Bearer t");
        assert_eq!(h["x-custom"], "kept");
        // The origin's custom header replaces a viewer's of the same name.
        assert_eq!(h.get_all("x-origin-verify").iter().count(), 1);
        assert_eq!(h["x-origin-verify"], "the-secret");
        // Without the policy, nothing of the viewer's but the path.
        let bare = origin_request(&parts, Bytes::new(), false, "fn.lambda-url", &custom);
        assert!(bare.headers().get("authorization").is_none());
        assert_eq!(bare.uri().query(), None);
    }
}
