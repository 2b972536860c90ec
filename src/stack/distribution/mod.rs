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

use crate::error::{AwsContext, Built, Error, OrGone, Result, code_of};
use crate::names::STACK_TAG;
use crate::stack::{Change, Ctx};
use crate::wait::{self, Poll};

mod config;
mod view;

pub use config::*;
pub use view::*;

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
pub fn plan(found: Option<&Found>, wanted: &DistributionConfig, recorded: Recorded<'_>) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(diff(&f.config, wanted, recorded)),
    }
}

/// Creates the distribution or updates the fields that differ. `found` is what `find`
/// found, looked up while the distribution's inputs were being made (on an account
/// with many distributions, the lookup reads the tags of each).
pub async fn ensure(ctx: &Ctx, inputs: &Inputs, found: Option<Found>) -> Result<Found> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let state = ctx.state.get().await;
    let recorded = Recorded {
        origin_access_control: state.origin_access_control_id.as_deref(),
        viewer_function: state.viewer_function_arn.as_deref(),
    };
    let (found, what) = match found {
        Some(existing) => {
            let wanted = wanted_config(ctx, inputs, Some(&existing.config))?;
            let changes = diff(&existing.config, &wanted, recorded);
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
                let etag = current.e_tag;
                let out = until_certificate_usable(ctx, inputs.certificate_arn.as_deref(), || {
                    cf.update_distribution()
                        .id(&existing.id)
                        .set_if_match(etag.clone())
                        .distribution_config(wanted.clone())
                        .send()
                })
                .await
                .aws("update the distribution", &existing.id)?;
                let d = out
                    .distribution
                    .ok_or_else(|| Error::conflict("update_distribution returned nothing"))?;
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
        None => create(ctx, inputs).await?,
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

/// How long CloudFront may refuse a newly issued certificate (InvalidViewerCertificate).
const FRESH_CERTIFICATE_WAIT: Duration = Duration::from_secs(300);

/// Sends a create or update, again while CloudFront answers `InvalidViewerCertificate`
/// for a certificate ACM has just issued (it takes CloudFront a little while to see it).
async fn until_certificate_usable<T, E, F, Fut>(
    ctx: &Ctx,
    certificate: Option<&str>,
    mut send: F,
) -> std::result::Result<
    T,
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
>
where
    E: aws_sdk_cloudfront::error::ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<
            Output = std::result::Result<
                T,
                aws_smithy_runtime_api::client::result::SdkError<
                    E,
                    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
                >,
            >,
        >,
{
    let start = Instant::now();
    let mut wait: Option<crate::progress::Wait> = None;
    let mut delay = Duration::from_secs(1);
    loop {
        match send().await {
            Err(err)
                if code_of(&err) == Some("InvalidViewerCertificate")
                    && start.elapsed() < FRESH_CERTIFICATE_WAIT
                    && let Some(certificate) = certificate =>
            {
                wait.get_or_insert_with(|| {
                    ctx.progress.wait(&format!(
                        "waiting for CloudFront to accept the new certificate {certificate}"
                    ))
                })
                .tick("InvalidViewerCertificate");
                tokio::time::sleep(crate::wait::pause(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            res => {
                if let Some(w) = wait {
                    w.done();
                }
                return res;
            }
        }
    }
}

/// Creates the distribution with the stack's tag. Its caller reference is seeded by a
/// nonce kept in the state: a create that did happen but whose answer was lost meets
/// `DistributionAlreadyExists` on the retry, and the distribution is then found by tag.
async fn create(ctx: &Ctx, inputs: &Inputs) -> Result<(Found, String)> {
    let cf = ctx.aws.cloudfront();
    let nonce = ctx.state.nonce(|s| &mut s.distribution_nonce).await?;
    let mut wanted = wanted_config(ctx, inputs, None)?;
    wanted.caller_reference = ctx.names.distribution_caller_reference(&nonce);
    let tags = Tags::builder()
        .items(
            Tag::builder()
                .key(STACK_TAG)
                .value(&ctx.names.stack)
                .build()
                .built("the distribution config")?,
        )
        .build();
    let with_tags = DistributionConfigWithTags::builder()
        .distribution_config(wanted)
        .tags(tags)
        .build();
    let out = until_certificate_usable(ctx, inputs.certificate_arn.as_deref(), || {
        cf.create_distribution_with_tags()
            .distribution_config_with_tags(with_tags.clone())
            .send()
    })
    .await;
    let out = match out {
        Ok(out) => out,
        Err(err) if code_of(&err) == Some("DistributionAlreadyExists") => {
            return match find_tagged(ctx).await?.into_iter().next() {
                Some(found) => Ok((found, "found (created by an earlier attempt)".into())),
                None => Err(Error::conflict_fix(
                    format!(
                        "CloudFront says a distribution with this stack's caller reference exists, but none is tagged {STACK_TAG}={}.",
                        ctx.names.stack
                    ),
                    format!(
                        "run `colorid up` again; if it persists, find the distribution whose comment is \"colorid stack {}\" in the CloudFront console and delete it",
                        ctx.names.stack
                    ),
                )),
            };
        }
        Err(err) if code_of(&err) == Some("CNAMEAlreadyExists") => {
            return Err(Error::conflict_fix(
                format!(
                    "another CloudFront distribution already serves {}.",
                    ctx.stack.domain_name()
                ),
                format!(
                    "remove {} from that distribution's alternate domain names, or choose another `domain`",
                    ctx.stack.domain_name()
                ),
            ));
        }
        Err(err) => return Err(err).aws("create the distribution of stack", &ctx.names.stack),
    };
    let d = out
        .distribution
        .ok_or_else(|| Error::conflict("create_distribution returned nothing"))?;
    Ok((
        Found {
            config: d
                .distribution_config
                .clone()
                .unwrap_or_else(unreachable_config),
            id: d.id,
            arn: d.arn,
            domain: d.domain_name,
            status: d.status,
        },
        "created (deploying to the edge takes a few minutes)".to_string(),
    ))
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
                Error::conflict(format!("the distribution {id} disappeared while deploying"))
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
    let Some(current) = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_distribution())
        .aws("read the distribution's config", id)?
    else {
        return Ok(());
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
    // CloudFront may still answer DistributionNotDisabled for a little while after the
    // disabled distribution reads Deployed: try again, with a fresh ETag each time.
    let fix = "CloudFront has not finished disabling the distribution; run `colorid down` again in a few minutes (it continues from here)";
    wait::until(
        &ctx.progress,
        &format!("waiting for CloudFront to let distribution {id} be deleted"),
        max.min(Duration::from_secs(600)),
        fix,
        || async {
            let Some(etag) = cf
                .get_distribution_config()
                .id(id)
                .send()
                .await
                .or_gone(|e| e.is_no_such_distribution())
                .aws("read the distribution's config", id)?
                .map(|out| out.e_tag)
            else {
                return Ok(Poll::Ready(()));
            };
            match cf
                .delete_distribution()
                .id(id)
                .set_if_match(etag)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Ready(())),
                Err(err) => match code_of(&err) {
                    Some("NoSuchDistribution") => Ok(Poll::Ready(())),
                    Some(code @ ("DistributionNotDisabled" | "PreconditionFailed")) => {
                        Ok(Poll::Pending(code.to_string()))
                    }
                    _ => Err(err).aws("delete the distribution", id),
                },
            }
        },
    )
    .await?;
    Ok(())
}
