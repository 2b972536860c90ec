//! `up`: converge the account on the stack, in dependency order, with
//! independent steps at once.

use std::time::Duration;

use serde::Serialize;

use crate::aws::CallCounts;
use crate::error::Result;
use crate::session;
use crate::stack::bucket::{self, Reader};
use crate::stack::distribution::{self, Inputs};
use crate::stack::origin_access::{self, Access};
use crate::stack::{Ctx, certificate, dns, zone};

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The longest to wait for the certificate.
    pub max_wait: Duration,
}

/// What `up` left in place.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    pub stack: String,
    pub site_url: String,
    pub hosted_zone_id: String,
    pub certificate_arn: String,
    pub bucket: String,
    pub origin_access: String,
    pub distribution_id: String,
    pub distribution_domain: String,
    pub distribution_status: String,
    pub calls: CallCounts,
    pub elapsed_seconds: f64,
}

/// The S3 origin's host name for a bucket in a region.
pub fn bucket_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

/// Converges the stack.
pub async fn up(ctx: &Ctx, options: &UpOptions) -> Result<UpReport> {
    let zone_id = zone::ensure_zone(ctx).await?;
    let account = session::account_id(ctx).await?;
    let bucket_name = bucket::name(ctx, &account);

    let (cert, (), access) = tokio::try_join!(
        certificate::ensure(ctx, &zone_id, options.max_wait),
        bucket::ensure(ctx, &bucket_name),
        origin_access::ensure(ctx),
    )?;

    let inputs = Inputs {
        certificate_arn: cert.arn.clone(),
        bucket_domain: bucket_domain(&bucket_name, &ctx.aws.region()),
        access: access.clone(),
        api: None,
        has_404_page: ctx.stack.site_dir.join("404.html").is_file(),
    };
    let dist = distribution::ensure(ctx, &inputs).await?;

    let reader = match &access {
        Access::Control(_) => Reader::Distribution(dist.arn.clone()),
        Access::Identity(id) => Reader::OriginAccessIdentity(id.clone()),
    };
    tokio::try_join!(
        bucket::ensure_policy(ctx, &bucket_name, &reader),
        dns::ensure_aliases(ctx, &zone_id, &dist.domain),
    )?;
    remove_replaced_certificate(ctx, cert.replaces.as_deref()).await?;

    Ok(UpReport {
        stack: ctx.names.stack.clone(),
        site_url: ctx.stack.site_url(),
        hosted_zone_id: zone_id,
        certificate_arn: cert.arn,
        bucket: bucket_name,
        origin_access: match access {
            Access::Control(id) => format!("control {id}"),
            Access::Identity(id) => format!("identity {id}"),
        },
        distribution_id: dist.id,
        distribution_domain: dist.domain,
        distribution_status: dist.status,
        calls: ctx.aws.counts(),
        elapsed_seconds: ctx.progress.elapsed().as_secs_f64(),
    })
}

/// Deletes the certificate this run replaced, now that the distribution uses the new one.
async fn remove_replaced_certificate(ctx: &Ctx, replaced: Option<&str>) -> Result<()> {
    if let Some(old) = replaced {
        let start = std::time::Instant::now();
        certificate::delete(ctx, old).await?;
        ctx.progress.step(
            "certificate",
            &format!("deleted replaced {old}"),
            start.elapsed(),
        );
    }
    Ok(())
}
