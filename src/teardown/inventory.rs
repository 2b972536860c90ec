//! What `down` deletes: everything the stack made, found from the state
//! record, and by tag and derived name when the record is lost; what the
//! record names but the stack does not own is refused, with the reason.

use serde::Serialize;

use aws_sdk_route53::types::RrType;

use crate::error::Result;
use crate::names::STACK_TAG;
use crate::session;
use crate::stack::{
    Ctx, bucket, bucket_name, certificate, distribution, dns, former_domain, function,
    function_url, headers_policy, log_group, origin_access, role, secrets, viewer_function, zone,
};

/// What the stack has in the account, found for deletion.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub hosted_zone_id: Option<String>,
    pub hosted_zone_created: bool,
    /// The alias records (`"<name> <type>"`) that point at the stack's distributions.
    pub alias_records: Vec<String>,
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
    /// The function's log group, `/aws/lambda/<function>`.
    pub log_group: Option<String>,
    pub role: Option<String>,
    /// The stack's parameters, except the state record and the lock.
    pub parameters: Vec<String>,
    pub state_record: bool,
    /// What the state record names but the stack does not own (another stack's tag,
    /// or no tag and not the name the stack derives): left alone, with the reason.
    pub refused: Vec<String>,
}

impl Inventory {
    /// One line per thing that will be deleted.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.alias_records.is_empty() {
            out.push(format!(
                "DNS: the alias records {}",
                self.alias_records.join(", ")
            ));
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
        if let Some(g) = &self.log_group {
            out.push(format!("log group {g} and every line in it"));
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
    inv.hosted_zone_id = zone::find_zone(ctx).await?;
    // A stack that dropped its domain: the zone its record names, and what it made there.
    let former = former_domain::find(ctx).await?;
    if let Some(f) = &former {
        inv.hosted_zone_id = Some(f.zone_id.clone());
    }

    // By tag only: a distribution the state names but that is not tagged for the stack
    // is not deleted (whoever can write the state record could name any).
    let dists = distribution::find_tagged(ctx).await?;
    if let Some(id) = &state.distribution_id
        && !dists.iter().any(|d| &d.id == id)
        && distribution::get(&ctx.aws.cloudfront(), id)
            .await?
            .is_some()
    {
        inv.refused.push(format!(
            "CloudFront distribution {id}: named by the state record but not tagged {STACK_TAG}={}",
            ctx.names.stack
        ));
    }
    let domains: Vec<String> = dists.iter().map(|d| d.domain.clone()).collect();
    inv.distributions = dists.iter().map(|d| d.id.clone()).collect();
    if let Some(zone_id) = &inv.hosted_zone_id {
        let names = dns::names_to_delete(ctx).await;
        let ours = |t: &Option<String>| {
            t.as_ref()
                .is_some_and(|t| domains.iter().any(|d| d.eq_ignore_ascii_case(t)))
        };
        for found in dns::find_aliases_of(ctx, zone_id, &names).await? {
            for (kind, target) in [("A", &found.a), ("AAAA", &found.aaaa)] {
                if ours(target) {
                    inv.alias_records.push(format!("{} {kind}", found.name));
                }
            }
        }
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
    if headers_policy::api_available(ctx).await? {
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
    let name = match state.bucket.clone().or_else(|| ctx.stack.bucket.clone()) {
        Some(b) => Some(b),
        None => bucket_name::discover(ctx, &account).await?,
    };
    let derived_bucket = match &name {
        Some(b) if ctx.names.is_derived_bucket(&account, b) => b.clone(),
        _ => ctx.names.bucket_stem(&account),
    };
    let name = name.unwrap_or_else(|| derived_bucket.clone());
    if bucket::presence(ctx, &name).await? == bucket::Presence::Foreign {
        inv.refused.push(format!(
            "S3 bucket {name}: owned by another account (S3 refused a request that expects {account})"
        ));
    } else if let Some(found) = bucket::find(ctx, &name).await? {
        match owned(ctx, found.stack_tag.as_deref(), &name, &derived_bucket) {
            Ok(()) => inv.bucket = Some(name),
            Err(why) => inv.refused.push(format!("S3 bucket {name}: {why}")),
        }
    }

    let mut certs: Vec<String> = if ctx.stack.has_certificate() {
        certificate::find_tagged(ctx)
            .await?
            .into_iter()
            .map(|c| c.arn)
            .collect()
    } else {
        let recorded: Vec<String> = state
            .certificate_arn
            .iter()
            .chain(&state.certificates_to_delete)
            .cloned()
            .collect();
        certificate::find_recorded(ctx, &recorded).await?
    };
    certs.sort();
    if let Some(f) = &former {
        inv.validation_records = f.validation.clone();
    } else if let Some(zone_id) = &inv.hosted_zone_id {
        inv.validation_records =
            validation_records(ctx, zone_id, &state.validation_records).await?;
    }
    inv.certificates = certs;

    let lambda = ctx.aws.lambda();
    let derived_function = ctx.names.function();
    let function_name = state
        .function_name
        .clone()
        .unwrap_or_else(|| derived_function.clone());
    if let Some(found) = function::find(&lambda, &function_name).await? {
        match owned(
            ctx,
            found.stack_tag.as_deref(),
            &function_name,
            &derived_function,
        ) {
            Ok(()) => {
                let url = function_url::find(&lambda, &function_name).await?;
                if url.url.is_some() || !url.statements.is_empty() {
                    inv.function_url = Some(function_name.clone());
                }
                inv.function = Some(function_name);
            }
            Err(why) => inv
                .refused
                .push(format!("Lambda function {function_name}: {why}")),
        }
    }
    let group = log_group::name(&ctx.names);
    if let Some(found) = log_group::find(&ctx.aws.logs(), &group).await? {
        // Lambda creates an untagged group of the derived name when the role may
        // (stacks brought up before colorid made the group): the stack's too.
        match owned(ctx, found.stack_tag.as_deref(), &group, &group) {
            Ok(()) => inv.log_group = Some(group),
            Err(why) => inv.refused.push(format!("log group {group}: {why}")),
        }
    }
    let derived_role = ctx.names.role();
    let role_name = state
        .role_name
        .clone()
        .unwrap_or_else(|| derived_role.clone());
    if let Some(found) = role::find(&ctx.aws.iam(), &role_name).await? {
        // Deployed in another region: its global resources are not this region's to delete.
        role::refuse_other_region(ctx, &found)?;
        match owned(ctx, found.stack_tag.as_deref(), &role_name, &derived_role) {
            Ok(()) => inv.role = Some(role_name),
            Err(why) => inv.refused.push(format!("IAM role {role_name}: {why}")),
        }
    }
    inv.parameters = secrets::find_all(ctx).await?;
    Ok(inv)
}

/// Whether the stack owns a resource the state record (or the derived name) points
/// at: tagged for this stack, or untagged and named as the stack derives it.
fn owned(
    ctx: &Ctx,
    stack_tag: Option<&str>,
    name: &str,
    derived: &str,
) -> std::result::Result<(), String> {
    match stack_tag {
        Some(tag) if tag == ctx.names.stack => Ok(()),
        Some(other) => Err(format!(
            "tagged {STACK_TAG}={other}, not {}",
            ctx.names.stack
        )),
        None if name == derived => Ok(()),
        None => Err(format!(
            "named by the state record but neither tagged {STACK_TAG}={} nor named {derived}",
            ctx.names.stack
        )),
    }
}

/// The validation CNAMEs the stack created (claimed in its state record), as they are
/// now. A claimed name that is not a validation record of one of the stack's names is
/// refused: the record is only deleted while it looks like what ACM asked for.
async fn validation_records(
    ctx: &Ctx,
    zone_id: &str,
    claimed: &[String],
) -> Result<Vec<(String, String)>> {
    let r53 = ctx.aws.route53();
    let names = certificate::wanted_names(ctx);
    let mut out = Vec::new();
    for name in claimed {
        let bare = name.trim_end_matches('.').to_ascii_lowercase();
        let of_ours = names.iter().any(|n| {
            let n = n.trim_start_matches("*.").to_ascii_lowercase();
            bare.starts_with('_') && bare.split_once('.').is_some_and(|(_, rest)| rest == n)
        });
        if !of_ours {
            continue;
        }
        if let Some(record) = dns::find_record(&r53, zone_id, name, RrType::Cname).await?
            && let Some(value) = record.resource_records().first().map(|r| r.value())
            && value.trim_end_matches('.').ends_with("acm-validations.aws")
        {
            out.push((name.clone(), value.to_string()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
