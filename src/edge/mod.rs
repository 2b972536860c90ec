//! The local edge: the path a browser's request takes through the stack's
//! CloudFront distribution, computed from a `DistributionConfig` — the one
//! `up` sends (built by [`crate::stack::distribution::build_config`]), or
//! with `--local` the one the emulator holds. `colorid dev` serves
//! everything but its test identity provider through it, so the site and the
//! API are tested against what CloudFront would do to them.
//!
//! | CloudFront behaviour | source page | how the edge does it | test |
//! |---|---|---|---|
//! | Cache behaviours: the first path pattern that matches, in the configuration's order; else the default. Case-sensitive; `*` and `?` wildcards | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern> | [`EdgeConfig::behavior_for`], [`config::pattern_matches`] | `config::tests::path_patterns_match_as_cloudfront_documents`, `edge::api_paths_reach_the_function_and_the_rest_the_bucket` |
//! | Allowed methods per behaviour; any other method is refused with 403 | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesAllowedHTTPMethods> | 403 before any origin is asked | `edge::methods_a_behaviour_does_not_allow_are_refused` |
//! | Default root object: for a request for `/` only, not for subdirectories | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DefaultRootObject.html> | the URI `/` becomes `/<object>` | `edge::the_default_root_object_applies_to_the_root_only` |
//! | Viewer-request CloudFront Functions (cloudfront-js-2.0) run before the cache and may rewrite `event.request.uri` | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html> | the stack's directory-index function, by ARN, as the same rule in Rust ([`directory_index`]); an unknown function is an error | `directory_index::tests::the_rust_rule_meets_every_shared_case`, `edge_function::the_javascript_meets_every_shared_case`, `edge::directories_serve_their_index_through_the_function` |
//! | S3 origin without `s3:ListBucket`: a missing key is 403 Access Denied, not 404 | <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html> | [`origin::SiteOrigin::get`] answers 403 XML for a missing key, a "folder" or the bucket root | `edge::a_missing_page_is_the_404_page_with_404` |
//! | Bucket policy: an explicit Deny overrides the Allow | <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html> | [`origin::denied`] evaluates the policy AWS holds (`bucket_policy::wanted_policy`) | `origin::tests::the_manifest_is_denied_and_the_site_is_not`, `edge::the_manifest_is_not_served` |
//! | Custom error responses apply to every behaviour; the page is fetched through the behaviour its path matches and sent with `ResponseCode` | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/GeneratingCustomErrorResponses.html> | [`Edge::error_page`] | `edge::every_api_status_reaches_the_browser_unchanged`, `edge::only_s3s_403_is_mapped_to_the_error_page`, `edge::a_missing_page_is_the_404_page_with_404` |
//! | Response headers policy: its headers on every response of the behaviour; `Override` decides over the origin's | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html>, managed SecurityHeadersPolicy: <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html> | [`Edge::add_headers`]; the stack's policy from `headers_policy::wanted_config`, the managed one from its documented values | `edge::security_headers_are_on_every_response`, `headers_policy::tests::*` |
//! | Origin custom headers are added to every request to that origin | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html> | `X-Origin-Verify` is sent to the function, which checks it | `edge::the_function_checks_the_origin_header` |
//! | Origin request policy AllViewerExceptHostHeader: every viewer header, cookie and query string except `Host`; `Host` is the origin's | <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html> | [`origin::ApiOrigin::call`] | `origin::tests::the_function_gets_authorization_and_query_but_not_the_viewer_host` |

pub mod config;
pub mod directory_index;
pub mod origin;

use std::collections::HashMap;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

pub use config::{Behavior, EdgeConfig};
use origin::{ApiOrigin, SiteOrigin};

use crate::error::{Error, Result};
use crate::stack::distribution::ALL_VIEWER_EXCEPT_HOST;
use crate::stack::headers_policy::PolicyHeader;

/// The largest request body passed on; the function rejects far less.
const MAX_BODY: usize = 1024 * 1024;

/// A viewer-request function the edge can run.
#[derive(Debug, Clone, Copy)]
enum ViewerFunction {
    DirectoryIndex,
}

fn known_function(arn: &str) -> Option<ViewerFunction> {
    let name = arn.rsplit('/').next().unwrap_or_default();
    (name.starts_with("colorid-") && name.ends_with("-dir-index"))
        .then_some(ViewerFunction::DirectoryIndex)
}

/// The distribution, locally.
pub struct Edge {
    config: EdgeConfig,
    headers: HashMap<String, Vec<PolicyHeader>>,
    site: SiteOrigin,
    api: Option<ApiOrigin>,
}

impl Edge {
    /// An edge for `config`; `headers` holds each response headers policy by id.
    /// Fails on what the edge cannot reproduce (an unknown function or policy).
    pub fn new(
        config: EdgeConfig,
        headers: HashMap<String, Vec<PolicyHeader>>,
        site: SiteOrigin,
        api: Option<ApiOrigin>,
    ) -> Result<Edge> {
        for b in &config.behaviors {
            if let Some(arn) = &b.viewer_function
                && known_function(arn).is_none()
            {
                return Err(Error::usage(format!(
                    "the distribution runs the CloudFront function {arn}, which the local edge cannot run"
                )));
            }
            if let Some(id) = &b.headers_policy
                && !headers.contains_key(id)
            {
                return Err(Error::usage(format!(
                    "the distribution uses the response headers policy {id}, which the local edge does not know"
                )));
            }
        }
        Ok(Edge {
            config,
            headers,
            site,
            api,
        })
    }

    /// The configuration the edge serves.
    pub fn config(&self) -> &EdgeConfig {
        &self.config
    }

    /// One viewer request, start to end.
    pub async fn handle(&self, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        let behavior = self.config.behavior_for(&path);
        if !behavior.methods.contains(&parts.method) {
            let mut resp = Response::new(Body::from(
                "This distribution is not configured to allow the HTTP request method that was used for this request.",
            ));
            *resp.status_mut() = StatusCode::FORBIDDEN;
            return self.add_headers(behavior, resp);
        }
        let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
        let mut uri = path;
        if let Some(f) = behavior.viewer_function.as_deref().and_then(known_function) {
            match f {
                ViewerFunction::DirectoryIndex => uri = directory_index::rewrite(&uri),
            }
        }
        if uri == "/"
            && let Some(root) = &self.config.default_root_object
        {
            uri = format!("/{root}");
        }
        let Some(resp) = self.fetch(behavior, &parts, body, &uri).await else {
            return self.add_headers(behavior, bad_gateway());
        };
        let status = resp.status().as_u16();
        let rule = self.config.error_rule(status);
        let resp = match rule.and_then(|r| r.page.as_deref().map(|p| (p, r.response_code))) {
            Some((page, code)) => self.error_page(page, code, status).await.unwrap_or(resp),
            None => resp,
        };
        self.add_headers(behavior, resp)
    }

    async fn fetch(
        &self,
        behavior: &Behavior,
        parts: &http::request::Parts,
        body: axum::body::Bytes,
        uri: &str,
    ) -> Option<Response> {
        let origin = self.config.origins.get(&behavior.origin);
        match origin {
            Some(o) if o.s3 => Some(self.site.get(uri).await),
            Some(o) => {
                let api = self.api.as_ref()?;
                let forward_all =
                    behavior.origin_request_policy.as_deref() == Some(ALL_VIEWER_EXCEPT_HOST);
                Some(
                    api.call(parts, body, forward_all, &o.domain, &o.custom_headers)
                        .await,
                )
            }
            None => None,
        }
    }

    /// The custom error page for a status, fetched through its own behaviour.
    async fn error_page(&self, page: &str, code: Option<u16>, status: u16) -> Option<Response> {
        let behavior = self.config.behavior_for(page);
        let (parts, _) = http::Request::get(page).body(()).ok()?.into_parts();
        let mut resp = self
            .fetch(behavior, &parts, axum::body::Bytes::new(), page)
            .await?;
        if !resp.status().is_success() {
            return None;
        }
        let code = code.unwrap_or(status);
        *resp.status_mut() = StatusCode::from_u16(code).ok()?;
        Some(resp)
    }

    /// The behaviour's response headers policy applied to a response.
    fn add_headers(&self, behavior: &Behavior, mut resp: Response) -> Response {
        let policy = behavior
            .headers_policy
            .as_ref()
            .and_then(|id| self.headers.get(id));
        for (name, value, over) in policy.into_iter().flatten() {
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                continue;
            };
            if *over || !resp.headers().contains_key(&n) {
                resp.headers_mut().insert(n, v);
            }
        }
        resp
    }
}

/// CloudFront's own answer when the behaviour's origin cannot be reached.
fn bad_gateway() -> Response {
    let mut resp = Response::new(Body::from("the origin could not be reached"));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp
}

/// The axum handler: every request the dev server does not keep for itself.
pub async fn serve(State(edge): State<std::sync::Arc<Edge>>, req: Request) -> Response {
    edge.handle(req).await
}
