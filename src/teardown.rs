//! `down`: find everything the stack made (from the state record, and by tag
//! and derived name when the record is lost) and delete it in reverse order.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Result;
use crate::session;
use crate::stack::{
    Ctx, bucket, certificate, distribution, dns, function, function_url, headers_policy,
    origin_access, role, secrets, viewer_function, zone,
};

/// What the stack has in the account, found for deletion.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub hosted_zone_id: Option<String>,
    pub hosted_zone_created: bool,
    pub alias_targets: Vec<String>,
    pub distributions: Vec<String>,
    pub origin_access_control: Option<String>,
    pub origin_access_identity: Option<String>,
    /// The stack's response headers policy, by name.
    pub headers_policy: Option<String>,
    /// The stack's viewer-request CloudFront Function, by name.
    pub viewer_function: Option<String>,
    pub bucket: Option<String>,
    pub validation_records: Vec<(String, String)>,
    pub certificates: Vec<String>,
    /// The function whose URL config and URL permissions exist.
    pub function_url: Option<String>,
    pub function: Option<String>,
    pub role: Option<String>,
    /// The stack's parameters, except the state record and the lock.
    pub parameters: Vec<String>,
    pub state_record: bool,
}

impl Inventory {
    /// One line per thing that will be deleted.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.alias_targets.is_empty() {
            out.push("DNS: the A and AAAA alias records of the domain".to_string());
        }
        for d in &self.distributions {
            out.push(format!("CloudFront distribution {d} (disabled first)"));
        }
        if let Some(f) = &self.function_url {
            out.push(format!("the function URL of {f} and its permissions"));
        }
        if let Some(f) = &self.function {
            out.push(format!("Lambda function {f}"));
        }
        if let Some(r) = &self.role {
            out.push(format!("IAM role {r} and its inline policy"));
        }
        if let Some(id) = &self.origin_access_control {
            out.push(format!("origin access control {id}"));
        }
        if let Some(id) = &self.origin_access_identity {
            out.push(format!("origin access identity {id}"));
        }
        if let Some(p) = &self.headers_policy {
            out.push(format!("response headers policy {p}"));
        }
        if let Some(f) = &self.viewer_function {
            out.push(format!("CloudFront function {f}"));
        }
        if let Some(b) = &self.bucket {
            out.push(format!("S3 bucket {b} and every object version in it"));
        }
        if !self.validation_records.is_empty() {
            out.push(format!(
                "DNS: {} certificate validation record(s)",
                self.validation_records.len()
            ));
        }
        for c in &self.certificates {
            out.push(format!("ACM certificate {c}"));
        }
        if !self.parameters.is_empty() {
            out.push(format!(
                "{} SSM parameter(s): {}",
                self.parameters.len(),
                self.parameters.join(", ")
            ));
        }
        if self.hosted_zone_created {
            out.push("the hosted zone colorid created in the emulator (if empty)".to_string());
        }
        if self.state_record {
            out.push("the stack's state record".to_string());
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.lines().is_empty()
    }
}

/// Finds what the stack owns, without changing anything.
pub async fn inventory(ctx: &Ctx) -> Result<Inventory> {
    let state = ctx.state.get().await;
    let mut inv = Inventory {
        state_record: ctx.state.exists().await,
        hosted_zone_created: state.hosted_zone_created,
        ..Default::default()
    };
    let r53 = ctx.aws.route53();
    inv.hosted_zone_id = zone::find_zone(&r53, &ctx.stack.hosted_zone).await?;

    let mut dists = distribution::find_tagged(ctx).await?;
    if let Some(id) = &state.distribution_id
        && !dists.iter().any(|d| &d.id == id)
        && let Some(found) = distribution::get(&ctx.aws.cloudfront(), id).await?
    {
        dists.push(found);
    }
    let domains: Vec<String> = dists.iter().map(|d| d.domain.clone()).collect();
    inv.distributions = dists.iter().map(|d| d.id.clone()).collect();
    if let Some(zone_id) = &inv.hosted_zone_id {
        let (a, aaaa) = dns::find_aliases(ctx, zone_id).await?;
        inv.alias_targets = [a, aaaa]
            .into_iter()
            .flatten()
            .filter(|t| domains.iter().any(|d| d.eq_ignore_ascii_case(t)))
            .collect();
    }

    let cf = ctx.aws.cloudfront();
    inv.origin_access_control =
        origin_access::find_control(&cf, &ctx.names.origin_access_control())
            .await?
            .map(|f| f.id);
    // The local emulator has no origin access identity API; real AWS is always asked.
    let look_for_oai = !ctx.aws.is_local()
        || ctx.stack.origin_access == crate::config::OriginAccess::Identity
        || state.origin_access_identity_id.is_some();
    if look_for_oai {
        inv.origin_access_identity =
            origin_access::find_identity(&cf, &ctx.names.origin_access_identity_comment()).await?;
    }

    // The emulator has no response headers policy API; real AWS is always asked.
    if !ctx.aws.is_local() {
        let name = headers_policy::name(&ctx.names);
        if headers_policy::find(&cf, &name).await?.is_some() {
            inv.headers_policy = Some(name);
        }
    }
    let function_name = viewer_function::name(&ctx.names);
    if viewer_function::exists(&cf, &function_name).await? {
        inv.viewer_function = Some(function_name);
    }

    let account = session::account_id(ctx).await?;
    let name = state
        .bucket
        .clone()
        .unwrap_or_else(|| bucket::name(ctx, &account));
    if let Some(found) = bucket::find(ctx, &name).await?
        && (found.tagged || ctx.stack.bucket.is_none() || state.bucket.as_deref() == Some(&name))
    {
        inv.bucket = Some(name);
    }

    let mut certs = certificate::find_tagged(ctx).await?;
    certs.sort_by(|a, b| a.arn.cmp(&b.arn));
    for c in &certs {
        inv.validation_records.extend(c.validation.iter().cloned());
    }
    inv.validation_records.sort();
    inv.validation_records.dedup();
    inv.certificates = certs.into_iter().map(|c| c.arn).collect();

    let lambda = ctx.aws.lambda();
    let function_name = state
        .function_name
        .clone()
        .unwrap_or_else(|| ctx.names.function());
    if function::find(&lambda, &function_name).await?.is_some() {
        let url = function_url::find(&lambda, &function_name).await?;
        if url.url.is_some() || !url.statements.is_empty() {
            inv.function_url = Some(function_name.clone());
        }
        inv.function = Some(function_name);
    }
    let role_name = state.role_name.clone().unwrap_or_else(|| ctx.names.role());
    if role::find(&ctx.aws.iam(), &role_name).await?.is_some() {
        inv.role = Some(role_name);
    }
    inv.parameters = secrets::find_all(ctx).await?;
    Ok(inv)
}

/// Deletes everything in the inventory, dependents first.
pub async fn down(ctx: &Ctx, inv: &Inventory, max_wait: Duration) -> Result<()> {
    let step = |what: &str, start: Instant| ctx.progress.step("down", what, start.elapsed());
    if let Some(zone_id) = &inv.hosted_zone_id {
        let start = Instant::now();
        let dist_domains = distribution_domains(ctx, &inv.distributions).await?;
        let n = dns::delete_aliases(ctx, zone_id, &dist_domains).await?;
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
