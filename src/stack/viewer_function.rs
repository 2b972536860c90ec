//! The stack's viewer-request CloudFront Function (cloudfront-js-2.0): a
//! request for a directory gets the directory's `index.html`, since the
//! distribution's default root object applies to `/` only. Source and rule:
//! [`crate::edge::directory_index`].
//!
//! Named after the stack; its comment carries a digest of the source, so a
//! converged function costs one read (describe the LIVE stage) and a changed
//! source is updated and published. A function is created in the DEVELOPMENT
//! stage and only a published (LIVE) one can be attached. The local emulator
//! has CreateFunction, DescribeFunction and DeleteFunction but no
//! UpdateFunction or PublishFunction: there, and only there, the function is
//! created and left unpublished; those calls are tested with the SDK's replay
//! client (tests/it/edge_function.rs).

use std::time::Instant;

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{
    FunctionConfig, FunctionRuntime, FunctionStage, FunctionSummary, Tag, Tags,
};
use aws_smithy_types::Blob;

use crate::edge::directory_index::{RUNTIME, SOURCE};
use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::{Names, STACK_TAG, digest};
use crate::stack::Ctx;

/// The function's name for a stack.
pub fn name(names: &Names) -> String {
    format!("colorid-{}-dir-index", names.stack)
}

/// The comment that identifies the stack and the version of the source.
pub fn comment(names: &Names) -> String {
    format!(
        "colorid stack {} source {}",
        names.stack,
        &digest(&[SOURCE])[..16]
    )
}

/// What a deploy did to the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The function's ARN, for the distribution's function association.
    pub arn: String,
    /// What was done, for the progress line.
    pub what: String,
}

fn config(comment: &str) -> Result<FunctionConfig> {
    FunctionConfig::builder()
        .comment(comment)
        .runtime(FunctionRuntime::from(RUNTIME))
        .build()
        .built("the function config")
}

fn arn_of(summary: &FunctionSummary) -> Option<String> {
    summary
        .function_metadata()
        .map(|m| m.function_arn().to_string())
}

/// The function at `stage`, with its ETag; `None` when it does not exist.
pub async fn describe(
    cf: &CloudFrontClient,
    name: &str,
    stage: FunctionStage,
) -> Result<Option<(FunctionSummary, Option<String>)>> {
    let out = cf
        .describe_function()
        .name(name)
        .stage(stage)
        .send()
        .await
        .or_gone(|e| e.is_no_such_function_exists())
        .aws("read the CloudFront function", name)?;
    Ok(out.and_then(|o| Some((o.function_summary?, o.e_tag))))
}

/// Creates, updates and publishes the function until LIVE runs the current
/// source. `publish` is false only on the emulator, which cannot publish.
pub async fn deploy(
    cf: &CloudFrontClient,
    name: &str,
    comment: &str,
    stack: &str,
    publish: bool,
) -> Result<Deployed> {
    let current = |s: &FunctionSummary| s.function_config().map(|c| c.comment()) == Some(comment);
    if let Some((live, _)) = describe(cf, name, FunctionStage::Live).await?
        && current(&live)
        && let Some(arn) = arn_of(&live)
    {
        return Ok(Deployed {
            arn,
            what: "unchanged".into(),
        });
    }
    let (summary, etag, mut what) = match describe(cf, name, FunctionStage::Development).await? {
        None => {
            let tags = Tags::builder()
                .items(
                    Tag::builder()
                        .key(STACK_TAG)
                        .value(stack)
                        .build()
                        .built("the function config")?,
                )
                .build();
            let created = cf
                .create_function()
                .name(name)
                .function_config(config(comment)?)
                .function_code(Blob::new(SOURCE.as_bytes()))
                .tags(tags)
                .send()
                .await;
            match created {
                Ok(out) => (out.function_summary, out.e_tag, "created".to_string()),
                // The SDK's retry of a create whose answer was lost: the first made it.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_function_already_exists()) =>
                {
                    let (dev, etag) = describe(cf, name, FunctionStage::Development)
                        .await?
                        .ok_or_else(|| {
                            Error::conflict(format!(
                                "the CloudFront function {name} exists and does not"
                            ))
                        })?;
                    (Some(dev), etag, "created".to_string())
                }
                Err(err) => return Err(err).aws("create the CloudFront function", name),
            }
        }
        Some((dev, etag)) if !current(&dev) => {
            let out = cf
                .update_function()
                .name(name)
                .set_if_match(etag)
                .function_config(config(comment)?)
                .function_code(Blob::new(SOURCE.as_bytes()))
                .send()
                .await
                .aws("update the CloudFront function", name)?;
            (out.function_summary, out.e_tag, "updated".to_string())
        }
        Some((dev, etag)) => (Some(dev), etag, "unchanged".to_string()),
    };
    let mut arn = summary.as_ref().and_then(arn_of);
    if publish {
        let out = cf
            .publish_function()
            .name(name)
            .set_if_match(etag)
            .send()
            .await
            .aws("publish the CloudFront function", name)?;
        arn = out.function_summary.as_ref().and_then(arn_of).or(arn);
        what.push_str(", published");
    } else {
        what.push_str(" (not published: the emulator has no PublishFunction)");
    }
    let arn = arn.ok_or_else(|| Error::conflict(format!("the function {name} has no ARN")))?;
    Ok(Deployed { arn, what })
}

/// Creates or updates and publishes the stack's function; returns its ARN.
pub async fn ensure(ctx: &Ctx) -> Result<String> {
    let start = Instant::now();
    let name = name(&ctx.names);
    let deployed = deploy(
        &ctx.aws.cloudfront(),
        &name,
        &comment(&ctx.names),
        &ctx.names.stack,
        !ctx.aws.is_local(),
    )
    .await?;
    ctx.progress.step(
        "function (edge)",
        &format!("{name} {}", deployed.what),
        start.elapsed(),
    );
    ctx.state
        .update(|s| s.viewer_function_arn = Some(deployed.arn.clone()))
        .await?;
    Ok(deployed.arn)
}

/// Whether the function exists (for `down`'s inventory).
pub async fn exists(cf: &CloudFrontClient, name: &str) -> Result<bool> {
    Ok(describe(cf, name, FunctionStage::Development)
        .await?
        .is_some())
}

/// Deletes the function (after the distribution that used it is gone).
pub async fn delete(cf: &CloudFrontClient, name: &str) -> Result<bool> {
    let Some((_, etag)) = describe(cf, name, FunctionStage::Development).await? else {
        return Ok(false);
    };
    let gone = cf
        .delete_function()
        .name(name)
        .set_if_match(etag)
        .send()
        .await
        .or_gone(|e| e.is_no_such_function_exists())
        .aws("delete the CloudFront function", name)?;
    Ok(gone.is_some())
}
