//! Publishing the site from the stack: the generated `config.json` the page
//! reads, and the publish target (the stack's bucket and distribution).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::publish::{
    self, GeneratedFile, PublishEvent, PublishOptions, PublishReport, PublishTarget,
};
use crate::stack::Ctx;
use crate::{session, stack::bucket};

/// What the page reads from `/config.json`, deployed or from `colorid dev`.
/// No secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteConfig {
    pub issuer: String,
    pub client_id: String,
    pub api_base: String,
    pub required_level: Option<String>,
    pub stack: String,
    /// Set by `colorid dev` when it serves its own test identity provider.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_identity_provider: bool,
    /// The scopes the site asks the provider for (`[identity] scopes`).
    pub scopes: Vec<String>,
    /// Start the sign-in when a visitor arrives without a session.
    pub sign_in_on_load: bool,
    /// The API identifier the site asks the provider for an access token
    /// for, and sends that token to the API (`[identity] api_audience`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_audience: Option<String>,
}

impl SiteConfig {
    /// The site configuration of a stack.
    pub fn of(stack: &crate::config::Stack) -> SiteConfig {
        SiteConfig {
            issuer: stack.identity.issuer.clone(),
            client_id: stack.identity.client_id.clone(),
            api_base: "/api".to_string(),
            required_level: stack.identity.required_level.clone(),
            stack: stack.name.clone(),
            test_identity_provider: false,
            scopes: stack.identity.scopes.clone(),
            sign_in_on_load: stack.identity.sign_in_on_load,
            api_audience: stack.identity.api_audience.clone(),
        }
    }

    /// The JSON body, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Publishes the site to the stack's bucket and invalidates what changed.
pub async fn publish(ctx: &Ctx, options: &PublishOptions) -> Result<PublishReport> {
    ctx.stack.require_site_dir()?;
    let state = ctx.state.get().await;
    // The account also makes every S3 request expect it as the bucket's owner.
    let account = session::account_id(ctx).await?;
    let bucket = match state.bucket {
        Some(b) => b,
        None => bucket::name(ctx, &account),
    };
    if !bucket::exists(ctx, &bucket).await? {
        return Err(Error::conflict_fix(
            format!("the stack's bucket {bucket} does not exist."),
            "run `colorid up` first; it creates the bucket and publishes the site",
        ));
    }
    publish_to(ctx, &bucket, state.distribution_id, options).await
}

/// Publishes the site to `bucket`, known to exist, invalidating `distribution_id`.
pub async fn publish_to(
    ctx: &Ctx,
    bucket: &str,
    distribution_id: Option<String>,
    options: &PublishOptions,
) -> Result<PublishReport> {
    ctx.stack.require_site_dir()?;
    let target = PublishTarget {
        s3: ctx.aws.s3(),
        cloudfront: ctx.aws.cloudfront(),
        bucket: bucket.to_string(),
        distribution_id,
        site_dir: ctx.stack.site_dir.clone(),
        generated: vec![GeneratedFile {
            key: "config.json".to_string(),
            body: SiteConfig::of(&ctx.stack).to_json(),
        }],
    };
    let progress = ctx.progress.clone();
    let on_event = move |event: PublishEvent| match &event {
        PublishEvent::Uploaded { .. } | PublishEvent::HeadersUpdated { .. } => {
            tracing::info!("{event}");
        }
        _ => progress.note(&format!("  publish        {event}")),
    };
    publish::publish(&target, &ctx.stack.publish, options, &on_event)
        .await
        .map_err(Error::from)
}
