//! `colorid status`.

use crate::cli::Global;
use crate::commands::output::{json, print_json};
use crate::error::Result;
use crate::session;
use crate::stack::{certificate, distribution, function, function_url, log_group, zone};

pub async fn run(g: &Global) -> Result<()> {
    let ctx = session::open(g).await?;
    let state = ctx.state.get().await;
    // Found, not read from the state record: fails clearly when the zone's name is ambiguous.
    let zone_id = zone::find_zone(&ctx).await?;
    let cert = if ctx.stack.has_certificate() {
        certificate::find(&ctx).await?
    } else {
        None
    };
    let dist = distribution::find(&ctx).await?;
    let site_url = ctx.stack.site_url(dist.as_ref().map(|d| d.domain.as_str()));
    let lambda = ctx.aws.lambda();
    let function_name = ctx.names.function();
    let found_function = function::find(&lambda, &function_name).await?;
    let url = match &found_function {
        Some(_) => function_url::find(&lambda, &function_name).await?.url,
        None => None,
    };
    let group = log_group::find(&ctx.aws.logs(), &log_group::name(&ctx.names)).await?;
    let status = serde_json::json!({
        "stack": ctx.names.stack,
        "site_url": site_url,
        "api_url": site_url.as_ref().map(|u| format!("{u}/api/")),
        "hosted_zone_id": zone_id,
        "certificate": cert.as_ref().map(|c| serde_json::json!({"arn": c.arn, "status": c.status})),
        "bucket": state.bucket,
        "origin_access_control_id": state.origin_access_control_id,
        "origin_access_identity_id": state.origin_access_identity_id,
        "distribution": dist.as_ref().map(|d| serde_json::json!({"id": d.id, "domain": d.domain, "status": d.status})),
        "function_name": found_function.as_ref().map(|_| &function_name),
        "function_url": url,
        "log_group": group.as_ref().map(|g| serde_json::json!({"name": g.name, "retention_days": g.retention_days})),
    });
    if json(g.output) {
        print_json(&status);
        return Ok(());
    }
    crate::out!("stack {}", ctx.names.stack);
    match &site_url {
        Some(url) => {
            crate::out!("  site:          {url}");
            crate::out!("  api:           {url}/api/");
        }
        None => crate::out!(
            "  site:          (the distribution's own *.cloudfront.net name, once `colorid up` creates it)"
        ),
    }
    match &zone_id {
        None if ctx.stack.domain.is_none() => {
            crate::out!("  dns:           none (served on the distribution's own name)")
        }
        None if ctx.stack.dns == crate::config::Dns::External => {
            crate::out!("  dns:           external (records at your DNS provider)")
        }
        Some(id) => crate::out!("  hosted zone:   {} ({id})", ctx.stack.hosted_zone),
        None => crate::out!("  hosted zone:   {} (not found)", ctx.stack.hosted_zone),
    }
    match &dist {
        Some(d) => crate::out!("  distribution:  {} ({}, {})", d.id, d.domain, d.status),
        None => crate::out!("  distribution:  (none; run `colorid up`)"),
    }
    match &cert {
        Some(c) => crate::out!("  certificate:   {} ({})", c.arn, c.status),
        None if !ctx.stack.has_certificate() => {
            crate::out!("  certificate:   CloudFront's default (*.cloudfront.net)")
        }
        None => crate::out!("  certificate:   (none)"),
    }
    crate::out!(
        "  bucket:        {}",
        state.bucket.as_deref().unwrap_or("(none)")
    );
    match (&found_function, &url) {
        (Some(_), Some(u)) => crate::out!("  function:      {function_name} ({u})"),
        (Some(_), None) => {
            crate::out!("  function:      {function_name} (no URL; run `colorid up`)")
        }
        _ => crate::out!("  function:      (none; run `colorid up`)"),
    }
    match &group {
        Some(g) => crate::out!(
            "  log group:     {} (kept {})",
            g.name,
            g.retention_days
                .map_or_else(|| "forever".to_string(), |d| format!("{d} days"))
        ),
        None => crate::out!("  log group:     (none; run `colorid up`)"),
    }
    if let Some(id) = &state.origin_access_control_id {
        crate::out!("  origin access: control {id}");
    }
    if let Some(id) = &state.origin_access_identity_id {
        crate::out!("  origin access: identity {id}");
    }
    Ok(())
}
