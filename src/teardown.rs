//! `down`: find everything the stack made ([`inventory`]) and delete it in
//! reverse order.

use std::time::{Duration, Instant};

use crate::error::Result;
use crate::stack::{
    Ctx, bucket, certificate, distribution, dns, function, function_url, headers_policy, log_group,
    origin_access, role, secrets, viewer_function, zone,
};

mod inventory;

pub use inventory::{Inventory, inventory};

/// Deletes everything in the inventory, dependents first.
pub async fn down(ctx: &Ctx, inv: &Inventory, max_wait: Duration) -> Result<()> {
    let step = |what: &str, start: Instant| ctx.progress.step("down", what, start.elapsed());
    if let Some(zone_id) = &inv.hosted_zone_id {
        let start = Instant::now();
        let dist_domains = distribution_domains(ctx, &inv.distributions).await?;
        let names = dns::names_to_delete(ctx).await;
        let n = dns::delete_aliases(ctx, zone_id, &names, &dist_domains).await?;
        if n > 0 {
            step(&format!("deleted {n} alias record(s)"), start);
        }
    }
    for id in &inv.distributions {
        let start = Instant::now();
        distribution::delete(ctx, id, max_wait).await?;
        step(&format!("deleted distribution {id}"), start);
    }
    if let Some(f) = &inv.function_url {
        let start = Instant::now();
        function_url::delete(ctx, f).await?;
        step(
            &format!("deleted the function URL of {f} and its permissions"),
            start,
        );
    }
    if let Some(f) = &inv.function {
        let start = Instant::now();
        function::delete(ctx, f).await?;
        step(&format!("deleted function {f}"), start);
    }
    if let Some(g) = &inv.log_group {
        let start = Instant::now();
        log_group::delete(ctx, g).await?;
        step(&format!("deleted log group {g}"), start);
    }
    if let Some(r) = &inv.role {
        let start = Instant::now();
        role::delete(ctx, r).await?;
        step(&format!("deleted role {r}"), start);
    }
    let cf = ctx.aws.cloudfront();
    if let Some(id) = &inv.origin_access_control {
        let start = Instant::now();
        origin_access::delete_control(&cf, id).await?;
        step(&format!("deleted origin access control {id}"), start);
    }
    if let Some(id) = &inv.origin_access_identity {
        let start = Instant::now();
        origin_access::delete_identity(&cf, id).await?;
        step(&format!("deleted origin access identity {id}"), start);
    }
    if let Some(p) = &inv.headers_policy {
        let start = Instant::now();
        headers_policy::delete(&cf, p).await?;
        step(&format!("deleted response headers policy {p}"), start);
    }
    if let Some(f) = &inv.viewer_function {
        let start = Instant::now();
        viewer_function::delete(&cf, f).await?;
        step(&format!("deleted CloudFront function {f}"), start);
    }
    if let Some(b) = &inv.bucket {
        let start = Instant::now();
        let n = bucket::delete(ctx, b).await?;
        step(
            &format!("emptied ({n} object versions) and deleted bucket {b}"),
            start,
        );
    }
    if let Some(zone_id) = &inv.hosted_zone_id {
        let start = Instant::now();
        let n = dns::delete_cnames(ctx, zone_id, &inv.validation_records).await?;
        if n > 0 {
            step(&format!("deleted {n} validation record(s)"), start);
        }
    }
    for arn in &inv.certificates {
        let start = Instant::now();
        certificate::delete(ctx, arn).await?;
        step(&format!("deleted certificate {arn}"), start);
    }
    if inv.hosted_zone_created
        && let Some(zone_id) = &inv.hosted_zone_id
    {
        let start = Instant::now();
        if zone::delete_if_created(ctx, zone_id).await? {
            step(&format!("deleted hosted zone {zone_id} (emulator)"), start);
        }
    }
    if !inv.parameters.is_empty() {
        let start = Instant::now();
        secrets::delete_all(ctx, &inv.parameters).await?;
        step(
            &format!("deleted {} parameter(s)", inv.parameters.len()),
            start,
        );
    }
    ctx.state.delete().await?;
    if ctx.stack.dns == crate::config::Dns::External
        && let Some(domain) = &ctx.stack.domain
    {
        ctx.progress.note(&format!(
            "  note: remove the records for {domain} (and its validation CNAMEs) at your DNS provider"
        ));
    }
    Ok(())
}

async fn distribution_domains(ctx: &Ctx, ids: &[String]) -> Result<Vec<String>> {
    let cf = ctx.aws.cloudfront();
    let mut out = Vec::new();
    for id in ids {
        if let Some(found) = distribution::get(&cf, id).await? {
            out.push(found.domain);
        }
    }
    Ok(out)
}
