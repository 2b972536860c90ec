//! `up`: converge the account on the stack, in dependency order, with
//! independent steps at once.

use std::time::Duration;

use serde::Serialize;

use crate::aws::CallCounts;
use crate::config::Dns;
use crate::error::Result;
use crate::session;
use crate::stack::bucket::{self, Reader};
use crate::stack::distribution::{self, ApiOrigin, Inputs};
use crate::stack::origin_access::{self, Access};
use crate::stack::secrets::{self, SecretName};
use crate::stack::{
    Ctx, certificate, code, dns, function, function_url, headers_policy, log_group, role,
    viewer_function, zone,
};

/// How `up` runs.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The longest to wait for the certificate.
    pub max_wait: Duration,
    /// The function's package; built with cargo-lambda when `None`.
    pub function_zip: Option<std::path::PathBuf>,
    /// Secrets to replace with new generated values.
    pub rotate_secrets: Vec<SecretName>,
}

/// What `up` left in place.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    /// What publishing the site did.
    pub publish: crate::publish::PublishSummary,
    pub stack: String,
    pub site_url: String,
    pub hosted_zone_id: String,
    pub certificate_arn: String,
    pub bucket: String,
    pub origin_access: String,
    pub distribution_id: String,
    pub distribution_domain: String,
    pub distribution_status: String,
    pub function_name: String,
    pub function_url: String,
    pub api_url: String,
    pub calls: CallCounts,
    pub elapsed_seconds: f64,
}

/// The S3 origin's host name for a bucket in a region.
pub fn bucket_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

/// Converges the stack.
pub async fn up(ctx: &Ctx, options: &UpOptions) -> Result<UpReport> {
    // Everything that can fail locally fails here, before any change.
    secrets::check_sources(ctx)?;
    let code = code::load(ctx, options.function_zip.as_deref()).await?;

    // The zone and the account are each made or read once, by whichever step needs
    // them first: the certificate's request goes ahead without either.
    let zone = tokio::sync::OnceCell::new();
    let zone_id = || async {
        zone.get_or_try_init(|| async {
            Ok::<_, crate::error::Error>(match ctx.stack.dns {
                Dns::Route53 => Some(zone::ensure_zone(ctx).await?),
                Dns::External => None,
            })
        })
        .await
        .cloned()
    };
    let account = tokio::sync::OnceCell::new();
    let account_id = || async {
        account
            .get_or_try_init(|| async {
                let account = session::account_id(ctx).await?;
                ctx.state
                    .update(|s| s.account_id = Some(account.clone()))
                    .await?;
                Ok::<_, crate::error::Error>(account)
            })
            .await
            .cloned()
    };
    let bucket = async {
        let bucket_name = bucket::name(ctx, &account_id().await?);
        let policy = bucket::ensure(ctx, &bucket_name).await?;
        Ok((bucket_name, policy))
    };

    let identity_function = async {
        // The log group before the function, so Lambda never creates it unmanaged.
        let (role, secrets, _) = tokio::try_join!(
            async { role::ensure(ctx, &account_id().await?).await },
            secrets::ensure(ctx, &options.rotate_secrets),
            log_group::ensure(ctx),
        )?;
        let name = function::ensure(ctx, &role, &code, secrets.changed).await?;
        let url = function_url::ensure(ctx, &name).await?;
        Ok((secrets, name, url))
    };
    // The edge's own pieces: the response headers policy and the viewer-request function.
    let edge =
        async { tokio::try_join!(headers_policy::ensure(ctx), viewer_function::ensure(ctx)) };
    let (
        zone_id,
        cert,
        (bucket_name, bucket_policy),
        access,
        (secrets, function_name, function_url),
        edge,
        found,
    ) = tokio::try_join!(
        zone_id(),
        certificate::ensure(ctx, zone_id(), options.max_wait),
        bucket,
        origin_access::ensure(ctx),
        identity_function,
        edge,
        distribution::find(ctx),
    )?;
    let (headers_policy_id, viewer_function_arn) = edge;

    let inputs = Inputs {
        certificate_arn: cert.arn.clone(),
        bucket_domain: bucket_domain(&bucket_name, &ctx.aws.region()),
        access: access.clone(),
        api: Some(ApiOrigin {
            domain: function_url::host(&function_url),
            verify_secret: secrets.origin_verify.expose().to_string(),
        }),
        has_404_page: ctx.stack.site_dir.join("404.html").is_file(),
        headers_policy_id,
        viewer_function_arn: Some(viewer_function_arn),
    };
    let dist = distribution::ensure(ctx, &inputs, found).await?;
    // The previous origin-verify value is kept until CloudFront has deployed
    // the current one everywhere; a later `up` removes it.
    if secrets.previous_exists
        && !secrets.origin_verify_written
        && dist.status == "Deployed"
        && distribution::origin_verify_value(&dist.config) == Some(secrets.origin_verify.expose())
    {
        secrets::retire_previous(ctx).await?;
    }

    let reader = match &access {
        Access::Control(_) => Reader::Distribution(dist.arn.clone()),
        Access::Identity(id) => Reader::OriginAccessIdentity(id.clone()),
    };
    tokio::try_join!(
        bucket::ensure_policy(ctx, &bucket_name, bucket_policy.as_ref(), &reader),
        async {
            match &zone_id {
                Some(zone_id) => dns::ensure_aliases(ctx, zone_id, &dist.domain).await,
                None => {
                    dns::print_aliases(ctx, &dist.domain);
                    Ok(())
                }
            }
        },
    )?;
    if let Some(old) = &cert.replaces {
        ctx.state
            .update(|s| {
                if !s.certificates_to_delete.contains(old) {
                    s.certificates_to_delete.push(old.clone());
                }
            })
            .await?;
    }
    let published = crate::site::publish_to(
        ctx,
        &bucket_name,
        Some(dist.id.clone()),
        &crate::publish::PublishOptions::default(),
    )
    .await?;
    remove_replaced_certificates(ctx, &cert.arn).await?;

    Ok(UpReport {
        publish: published.summary.clone(),
        stack: ctx.names.stack.clone(),
        site_url: ctx.stack.site_url(),
        hosted_zone_id: zone_id.unwrap_or_default(),
        certificate_arn: cert.arn,
        bucket: bucket_name,
        origin_access: match access {
            Access::Control(id) => format!("control {id}"),
            Access::Identity(id) => format!("identity {id}"),
        },
        distribution_id: dist.id,
        distribution_domain: dist.domain,
        distribution_status: dist.status,
        function_name,
        api_url: format!("{}/api/", ctx.stack.site_url()),
        function_url,
        calls: ctx.aws.counts(),
        elapsed_seconds: ctx.progress.elapsed().as_secs_f64(),
    })
}

/// Deletes the certificates the stack replaced, once CloudFront has let go of them
/// (it holds a certificate until the distribution's change has deployed, which can
/// take longer than this run): what is still in use stays listed in the state, and a
/// later `up` (or `down`) deletes it.
async fn remove_replaced_certificates(ctx: &Ctx, current: &str) -> Result<()> {
    let pending = ctx.state.get().await.certificates_to_delete;
    for old in pending.iter().filter(|a| a.as_str() != current) {
        let start = std::time::Instant::now();
        if certificate::try_delete(ctx, old).await? {
            ctx.state
                .update(|s| s.certificates_to_delete.retain(|a| a != old))
                .await?;
            ctx.progress.step(
                "certificate",
                &format!("deleted replaced {old}"),
                start.elapsed(),
            );
        } else {
            ctx.progress.note(&format!(
                "  note: the replaced certificate {old} is still in use while CloudFront deploys the new one; a later `colorid up` deletes it"
            ));
        }
    }
    Ok(())
}
