//! The CloudFront distribution: the site from the bucket, `/api/*` to the
//! identity function, on the stack's domain with its ACM certificate.
//!
//! Comparison works on a rendered view of the fields colorid manages, so
//! fields AWS adds or that the user set by hand (logging, WAF) are left alone.
//! An origin access control id that the service does not echo back (the
//! local emulator drops it) is compared with the id recorded in the state.

use std::time::{Duration, Instant};

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{DistributionConfig, DistributionConfigWithTags, Tag, Tags};

use crate::error::{AwsContext, Error, OrGone, Result};
use crate::names::STACK_TAG;
use crate::stack::{Change, Ctx};
use crate::wait::{self, Poll};

mod config;

pub use config::*;

/// The stack's distribution as found.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub arn: String,
    pub domain: String,
    pub status: String,
    pub config: DistributionConfig,
}

/// Looks the distribution up by id; `None` when it is gone.
pub async fn get(cf: &CloudFrontClient, id: &str) -> Result<Option<Found>> {
    let out = cf
        .get_distribution()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_distribution())
        .aws("read the distribution", id)?;
    Ok(out.and_then(|out| out.distribution).and_then(|d| {
        let config = d.distribution_config.clone()?;
        Some(Found {
            id: d.id,
            arn: d.arn,
            domain: d.domain_name,
            status: d.status,
            config,
        })
    }))
}

/// Finds the stack's distribution: by recorded id, else by alias and tag.
pub async fn find(ctx: &Ctx) -> Result<Option<Found>> {
    let cf = ctx.aws.cloudfront();
    if let Some(id) = ctx.state.get().await.distribution_id
        && let Some(found) = get(&cf, &id).await?
    {
        return Ok(Some(found));
    }
    Ok(find_tagged(ctx).await?.into_iter().next())
}

/// Every distribution tagged for this stack.
pub async fn find_tagged(ctx: &Ctx) -> Result<Vec<Found>> {
    let cf = ctx.aws.cloudfront();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = cf
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list distributions", "us-east-1")?;
        let Some(list) = page.distribution_list else {
            break;
        };
        for summary in list.items() {
            let tags = cf
                .list_tags_for_resource()
                .resource(summary.arn())
                .send()
                .await
                .or_gone(|e| e.is_no_such_resource())
                .aws("read the tags of", summary.arn())?;
            // Deleted since the listing: not ours to find.
            let Some(tags) = tags else { continue };
            let ours = tags.tags().is_some_and(|t| {
                t.items()
                    .iter()
                    .any(|t| t.key() == STACK_TAG && t.value() == Some(ctx.names.stack.as_str()))
            });
            if ours && let Some(found) = get(&cf, summary.id()).await? {
                out.push(found);
            }
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// What `up` would do to the distribution.
pub fn plan(
    found: Option<&Found>,
    wanted: &DistributionConfig,
    recorded_oac: Option<&str>,
) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(diff(&f.config, wanted, recorded_oac)),
    }
}

/// Creates the distribution or updates the fields that differ.
pub async fn ensure(ctx: &Ctx, inputs: &Inputs) -> Result<Found> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let recorded_oac = ctx.state.get().await.origin_access_control_id;
    let found = find(ctx).await?;
    let (found, what) = match found {
        Some(existing) => {
            let wanted = wanted_config(ctx, inputs, Some(&existing.config))?;
            let changes = diff(&existing.config, &wanted, recorded_oac.as_deref());
            if changes.is_empty() {
                (existing, "unchanged".to_string())
            } else {
                let current = cf
                    .get_distribution_config()
                    .id(&existing.id)
                    .send()
                    .await
                    .aws("read the distribution's config", &existing.id)?;
                let wanted = wanted_config(ctx, inputs, current.distribution_config.as_ref())?;
                let out = cf
                    .update_distribution()
                    .id(&existing.id)
                    .set_if_match(current.e_tag)
                    .distribution_config(wanted)
                    .send()
                    .await
                    .aws("update the distribution", &existing.id)?;
                let d = out.distribution.ok_or_else(|| {
                    Error::Conflict("update_distribution returned nothing".into())
                })?;
                let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                let what = format!("updated {}", fields.join(", "));
                (
                    Found {
                        config: d
                            .distribution_config
                            .clone()
                            .unwrap_or_else(|| existing.config.clone()),
                        id: d.id,
                        arn: d.arn,
                        domain: d.domain_name,
                        status: d.status,
                    },
                    what,
                )
            }
        }
        None => {
            let wanted = wanted_config(ctx, inputs, None)?;
            let tags = Tags::builder()
                .items(
                    Tag::builder()
                        .key(STACK_TAG)
                        .value(&ctx.names.stack)
                        .build()
                        .map_err(build_err)?,
                )
                .build();
            let out = cf
                .create_distribution_with_tags()
                .distribution_config_with_tags(
                    DistributionConfigWithTags::builder()
                        .distribution_config(wanted)
                        .tags(tags)
                        .build(),
                )
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_cname_already_exists()) =>
                {
                    return Err(Error::Conflict(format!(
                        "another CloudFront distribution already serves {}.\n  what to do: remove {} from that distribution's alternate domain names, or choose another `domain`",
                        ctx.stack.domain, ctx.stack.domain
                    )));
                }
                Err(err) => return Err(err).aws("create the distribution for", &ctx.stack.domain),
            };
            let d = out
                .distribution
                .ok_or_else(|| Error::Conflict("create_distribution returned nothing".into()))?;
            (
                Found {
                    config: d.distribution_config.clone().unwrap_or_else(|| {
                        DistributionConfig::builder()
                            .build()
                            .unwrap_or_else(|_| unreachable_config())
                    }),
                    id: d.id,
                    arn: d.arn,
                    domain: d.domain_name,
                    status: d.status,
                },
                "created (deploying to the edge takes a few minutes)".to_string(),
            )
        }
    };
    ctx.state
        .update(|s| {
            s.distribution_id = Some(found.id.clone());
            s.distribution_domain = Some(found.domain.clone());
        })
        .await?;
    ctx.progress.step(
        "distribution",
        &format!("{} {what}", found.id),
        start.elapsed(),
    );
    Ok(found)
}

fn unreachable_config() -> DistributionConfig {
    // Only reached if the service returned a distribution without a config.
    DistributionConfig::builder()
        .caller_reference("")
        .comment("")
        .enabled(true)
        .build()
        .expect("a config with its required fields builds")
}

/// Waits until the (disabled) distribution is deployed, before `down` deletes it.
pub async fn wait_deployed(ctx: &Ctx, id: &str, max: Duration) -> Result<Found> {
    let cf = ctx.aws.cloudfront();
    let (found, took) = wait::until(
        &ctx.progress,
        &format!("waiting for distribution {id} to deploy"),
        max,
        "CloudFront takes 5-15 minutes to disable a distribution; run `colorid down` again later (it continues from here), or give --wait-timeout more seconds",
        || async {
            let found = get(&cf, id).await?.ok_or_else(|| {
                Error::Conflict(format!("the distribution {id} disappeared while deploying"))
            })?;
            if found.status == "Deployed" {
                Ok(Poll::Ready(found))
            } else {
                Ok(Poll::Pending(found.status.clone()))
            }
        },
    )
    .await?;
    ctx.progress.step("distribution", "deployed", took);
    Ok(found)
}

/// Disables the distribution, waits until that is deployed, and deletes it.
pub async fn delete(ctx: &Ctx, id: &str, max: Duration) -> Result<()> {
    let cf = ctx.aws.cloudfront();
    let current = match cf.get_distribution_config().id(id).send().await {
        Ok(out) => out,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            return Ok(());
        }
        Err(err) => return Err(err).aws("read the distribution's config", id),
    };
    if let Some(config) = current.distribution_config.clone()
        && config.enabled()
    {
        let mut disabled = config;
        disabled.enabled = false;
        cf.update_distribution()
            .id(id)
            .set_if_match(current.e_tag.clone())
            .distribution_config(disabled)
            .send()
            .await
            .aws("disable the distribution", id)?;
        ctx.progress
            .step("distribution", &format!("{id} disabled"), Duration::ZERO);
    }
    wait_deployed(ctx, id, max).await?;
    let etag = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .aws("read the distribution's config", id)?
        .e_tag;
    match cf
        .delete_distribution()
        .id(id)
        .set_if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            Ok(())
        }
        Err(err) => Err(err).aws("delete the distribution", id),
    }
}
