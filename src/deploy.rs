//! `up`: converge the account on the stack, in dependency order, with
//! independent steps at once.

use std::time::Duration;

use serde::Serialize;

use crate::aws::CallCounts;
use crate::error::Result;
use crate::session;
use crate::stack::bucket;
use crate::stack::bucket_name;
use crate::stack::bucket_policy::{self, Reader};
use crate::stack::distribution::{self, ApiOrigin, Inputs};
use crate::stack::function_quotas;
use crate::stack::origin_access::{self, Access};
use crate::stack::secret_value::{self, SecretName};
use crate::stack::secrets;
use crate::stack::{
    Ctx, certificate, code, dns, former_domain, function, function_url, headers_policy, log_group,
    role, viewer_function, zone,
};

/// How `up` runs.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The longest to wait for the certificate.
    pub max_wait: Duration,
    /// The function's package; built with cargo-lambda when `None`.
    pub function_zip: Option<std::path::PathBuf>,
    /// Secrets to replace with new generated values.
    pub rotate_secrets: Vec<SecretName>,
    /// The provider's discovery document, read before any change: the CSP
    /// allows fetches to its endpoints' origins.
    pub provider: crate::discovery::Provider,
}

/// What `up` left in place.
#[derive(Debug, Clone, Serialize)]
pub struct UpReport {
    /// What publishing the site did.
    pub publish: crate::publish::PublishSummary,
    pub stack: String,
    /// The site's URL: its domain's, or with no domain the distribution's own name's.
    pub site_url: String,
    pub hosted_zone_id: String,
    /// `None` for a stack with no domain (CloudFront's default certificate).
    pub certificate_arn: Option<String>,
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
    ctx.stack.require_site_dir()?;
    secret_value::check_sources(&ctx.stack)?;
    // The zone is looked up before any change: a CNAME where the aliases go is refused here.
    let (code, found_zone) =
        tokio::try_join!(code::load(ctx, options.function_zip.as_deref()), async {
            let found = zone::find_zone(ctx).await?;
            if let Some(id) = &found {
                dns::refuse_cnames(ctx, id).await?;
            }
            Ok(found)
        })?;
    function_quotas::check(ctx).await?;

    // The zone and the account are each made or read once, by whichever step needs
    // them first: the certificate's request goes ahead without either.
    let zone = tokio::sync::OnceCell::new();
    let zone_id = || async {
        zone.get_or_try_init(|| async {
            Ok::<_, crate::error::Error>(if ctx.stack.uses_route53() {
                Some(zone::ensure_zone(ctx, found_zone.clone()).await?)
            } else {
                None
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
        let bucket_name = bucket_name::for_up(ctx, &account_id().await?).await?;
        let policy = bucket::ensure(ctx, &bucket_name).await?;
        Ok((bucket_name, policy))
    };
    if !ctx.stack.has_certificate() {
        retire_certificate(ctx).await?;
    }
    // The function is told the site's URL; with no domain it is the distribution's
    // name, which a first run learns only once the distribution exists (below).
    let site_url = known_site_url(ctx).await?;

    let identity_function = async {
        // The log group before the function, so Lambda never creates it unmanaged.
        let (role, secrets, _) = tokio::try_join!(
            async { role::ensure(ctx, &account_id().await?).await },
            secrets::ensure(ctx, &options.rotate_secrets),
            log_group::ensure(ctx),
        )?;
        let name =
            function::ensure(ctx, &role, &code, secrets.changed, site_url.as_deref()).await?;
        let url = function_url::ensure(ctx, &name).await?;
        Ok((role, secrets, name, url))
    };
    // The edge's own pieces: the response headers policy and the viewer-request function.
    let edge = async {
        tokio::try_join!(
            headers_policy::ensure(ctx, &options.provider.connect_src),
            viewer_function::ensure(ctx)
        )
    };
    let certificate = async {
        if ctx.stack.has_certificate() {
            certificate::ensure(ctx, zone_id(), options.max_wait)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    };
    let (
        zone_id,
        cert,
        (bucket_name, bucket_policy),
        access,
        (role, secrets, function_name, function_url),
        edge,
        found,
    ) = tokio::try_join!(
        zone_id(),
        certificate,
        bucket,
        origin_access::ensure(ctx),
        identity_function,
        edge,
        distribution::find(ctx),
    )?;
    let (headers_policy_id, viewer_function_arn) = edge;

    let inputs = Inputs {
        certificate_arn: cert.as_ref().map(|c| c.arn.clone()),
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
    if ctx.stack.domain.is_none() {
        ctx.progress.note(&format!(
            "  note: served on {} with CloudFront's default certificate, whose TLS policy CloudFront sets (TLSv1); set `domain` for your own name and TLSv1.2_2021",
            dist.domain
        ));
    }
    let dist_url = format!("https://{}", dist.domain);
    let actual_site_url = ctx.stack.site_url(Some(&dist.domain)).unwrap_or(dist_url);
    if site_url.as_deref() != Some(actual_site_url.as_str()) {
        // The second pass of a stack with no domain: the distribution is named now.
        function::ensure(ctx, &role, &code, false, Some(&actual_site_url)).await?;
    }
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
        bucket_policy::ensure_policy(ctx, &bucket_name, bucket_policy.as_ref(), &reader),
        async {
            match &zone_id {
                Some(zone_id) => dns::ensure_aliases(ctx, zone_id, &dist.domain).await,
                None if ctx.stack.domain.is_some() => {
                    dns::print_aliases(ctx, &dist.domain);
                    Ok(())
                }
                // No domain: the distribution's own name needs no record.
                None => Ok(()),
            }
        },
    )?;
    if let Some(leftovers) = former_domain::find(ctx).await? {
        former_domain::remove(ctx, &leftovers, std::slice::from_ref(&dist.domain)).await?;
    }
    if let Some(old) = cert.as_ref().and_then(|c| c.replaces.as_ref()) {
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
        crate::site::start_scan(&ctx.stack),
    )
    .await?;
    let current = cert.as_ref().map_or("", |c| c.arn.as_str());
    remove_replaced_certificates(ctx, current).await?;

    Ok(UpReport {
        publish: published.summary.clone(),
        stack: ctx.names.stack.clone(),
        api_url: format!("{actual_site_url}/api/"),
        site_url: actual_site_url,
        hosted_zone_id: zone_id.unwrap_or_default(),
        certificate_arn: cert.map(|c| c.arn),
        bucket: bucket_name,
        origin_access: match access {
            Access::Control(id) => format!("control {id}"),
            Access::Identity(id) => format!("identity {id}"),
        },
        distribution_id: dist.id,
        distribution_domain: dist.domain,
        distribution_status: dist.status,
        function_name,
        function_url,
        calls: ctx.aws.counts(),
        elapsed_seconds: ctx.progress.elapsed().as_secs_f64(),
    })
}

/// The site's URL as far as it is known before the distribution is ensured: the
/// domain's; with no domain, the distribution's name recorded by an earlier run, or
/// found (the record may be lost); `None` on the first run of such a stack.
async fn known_site_url(ctx: &Ctx) -> Result<Option<String>> {
    if ctx.stack.domain.is_some() {
        return Ok(ctx.stack.site_url(None));
    }
    let recorded = ctx.state.get().await.distribution_domain;
    let domain = match recorded {
        Some(d) => Some(d),
        None => distribution::find(ctx).await?.map(|d| d.domain),
    };
    Ok(ctx.stack.site_url(domain.as_deref()))
}

/// A stack that no longer has a domain keeps no certificate: the one it had is
/// deleted, like a replaced one, once CloudFront has let go of it.
async fn retire_certificate(ctx: &Ctx) -> Result<()> {
    ctx.state
        .update(|s| {
            if let Some(old) = s.certificate_arn.take()
                && !s.certificates_to_delete.contains(&old)
            {
                s.certificates_to_delete.push(old);
            }
        })
        .await
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
