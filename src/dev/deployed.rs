//! `colorid dev --local`: the deployed stack rather than the working copy —
//! the site as `publish` left it in the (emulated) bucket, and the stack's
//! secrets from (emulated) SSM.

use std::sync::Arc;

use aws_sdk_s3::Client as S3Client;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::{AwsContext, Error, Result};
use crate::stack::Ctx;
use crate::stack::secrets::SecretName;

/// Where the deployed site lives.
#[derive(Clone)]
pub struct DeployedSite {
    pub s3: S3Client,
    pub bucket: String,
}

/// The deployed stack `colorid --local dev` serves: its secrets and its bucket.
#[derive(Clone)]
pub struct Deployed {
    pub app_secret: String,
    pub signing_key_pem: String,
    pub site: DeployedSite,
}

impl std::fmt::Debug for Deployed {
    // Never print the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployed")
            .field("bucket", &self.site.bucket)
            .finish_non_exhaustive()
    }
}

/// The deployed secrets the function uses: `(app secret, signing key PEM)`.
pub async fn read_secrets(ctx: &Ctx) -> Result<(String, String)> {
    let path = ctx.names.parameter_path();
    let names =
        [SecretName::AppSecret, SecretName::SigningKey].map(|s| format!("{path}/{}", s.leaf()));
    let out = ctx
        .aws
        .ssm()
        .get_parameters()
        .set_names(Some(names.to_vec()))
        .with_decryption(true)
        .send()
        .await
        .aws("read the stack's secrets under", &path)?;
    let value = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "the parameter {name} is missing.\n  what to do: run `colorid --local up` first"
                ))
            })
    };
    Ok((value(&names[0])?, value(&names[1])?))
}

/// The bucket key for a request path: `/` and `/docs/` serve their index.html.
pub fn key_for(path: &str) -> String {
    let key = path.trim_start_matches('/');
    if key.is_empty() || key.ends_with('/') {
        format!("{key}index.html")
    } else {
        key.to_string()
    }
}

/// Serves one object from the bucket, with the headers `publish` stored; 404.html when missing.
pub async fn serve(State(site): State<Arc<DeployedSite>>, req: Request) -> Response {
    let key = key_for(req.uri().path());
    match fetch(&site, &key).await {
        Some(resp) => resp,
        None => match fetch(&site, "404.html").await {
            Some(mut resp) => {
                *resp.status_mut() = StatusCode::NOT_FOUND;
                resp
            }
            None => (StatusCode::NOT_FOUND, "not found").into_response(),
        },
    }
}

async fn fetch(site: &DeployedSite, key: &str) -> Option<Response> {
    if key.starts_with(".colorid/") {
        return None;
    }
    let out = site
        .s3
        .get_object()
        .bucket(&site.bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let content_type = out.content_type().map(str::to_string);
    let cache_control = out.cache_control().map(str::to_string);
    let body = out.body.collect().await.ok()?.into_bytes();
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    if let Some(v) = content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Some(v) = cache_control.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CACHE_CONTROL, v);
    }
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::key_for;

    #[test]
    fn directory_paths_serve_their_index() {
        assert_eq!(key_for("/"), "index.html");
        assert_eq!(key_for("/docs/"), "docs/index.html");
        assert_eq!(key_for("/color.js"), "color.js");
    }
}
