//! Route53 records: the A and AAAA aliases of the domain to the distribution,
//! and deletion of the records the stack created.

use std::time::Instant;

use aws_sdk_route53::Client as Route53Client;
use aws_sdk_route53::types::{
    AliasTarget, Change as R53Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};

use crate::error::{AwsContext, Error, Result};
use crate::stack::{Change, Ctx, FieldChange};

/// The hosted zone id of every CloudFront distribution, fixed by AWS.
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// Finds the record set with exactly this name and type.
pub async fn find_record(
    r53: &Route53Client,
    zone_id: &str,
    name: &str,
    kind: RrType,
) -> Result<Option<ResourceRecordSet>> {
    Ok(find_records(r53, zone_id, name, &[kind])
        .await?
        .pop()
        .flatten())
}

/// Finds the record sets with this name and each of `kinds` (given in Route53's
/// order: A before AAAA before CNAME) with one listing; `None` for a missing one.
pub async fn find_records(
    r53: &Route53Client,
    zone_id: &str,
    name: &str,
    kinds: &[RrType],
) -> Result<Vec<Option<ResourceRecordSet>>> {
    let wanted = fqdn(name);
    let Some(first) = kinds.first() else {
        return Ok(Vec::new());
    };
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(&wanted)
        .start_record_type(first.clone())
        .max_items(kinds.len() as i32)
        .send()
        .await
        .aws("read the DNS records of", &wanted)?;
    let sets = out.resource_record_sets();
    Ok(kinds
        .iter()
        .map(|kind| {
            sets.iter()
                .find(|r| r.name().eq_ignore_ascii_case(&wanted) && r.r#type() == kind)
                .cloned()
        })
        .collect())
}

fn alias_target_of(record: &ResourceRecordSet) -> Option<String> {
    record
        .alias_target()
        .map(|a| a.dns_name().trim_end_matches('.').to_ascii_lowercase())
}

/// The alias records' current targets, `(A, AAAA)`.
pub async fn find_aliases(ctx: &Ctx, zone_id: &str) -> Result<(Option<String>, Option<String>)> {
    let r53 = ctx.aws.route53();
    let mut found =
        find_records(&r53, zone_id, &ctx.stack.domain, &[RrType::A, RrType::Aaaa]).await?;
    let aaaa = found.pop().flatten();
    let a = found.pop().flatten();
    Ok((
        a.as_ref().and_then(alias_target_of),
        aaaa.as_ref().and_then(alias_target_of),
    ))
}

/// What `up` would do to the alias records.
pub fn plan(existing: &(Option<String>, Option<String>), target: Option<&str>) -> Change {
    let want = target.map(|t| t.trim_end_matches('.').to_ascii_lowercase());
    if existing.0.is_none() && existing.1.is_none() {
        return Change::Create;
    }
    let mut fields = Vec::new();
    for (kind, have) in [("A", &existing.0), ("AAAA", &existing.1)] {
        if want.is_some() && have != &want {
            fields.push(FieldChange {
                field: format!("{kind} alias"),
                old: have.clone().unwrap_or_else(|| "(none)".into()),
                new: want.clone().unwrap_or_default(),
            });
        }
    }
    Change::from_fields(fields)
}

fn alias_set(name: &str, kind: RrType, target: &str) -> Result<ResourceRecordSet> {
    ResourceRecordSet::builder()
        .name(fqdn(name))
        .r#type(kind)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(CLOUDFRONT_ZONE_ID)
                .dns_name(fqdn(target))
                .evaluate_target_health(false)
                .build()
                .map_err(|e| Error::Usage(e.to_string()))?,
        )
        .build()
        .map_err(|e| Error::Usage(e.to_string()))
}

/// Points A and AAAA at the distribution, changing only what differs.
pub async fn ensure_aliases(ctx: &Ctx, zone_id: &str, target: &str) -> Result<()> {
    let start = Instant::now();
    let existing = find_aliases(ctx, zone_id).await?;
    let want = target.trim_end_matches('.').to_ascii_lowercase();
    let mut changes = Vec::new();
    for (kind, have) in [(RrType::A, &existing.0), (RrType::Aaaa, &existing.1)] {
        if have.as_deref() != Some(want.as_str()) {
            changes.push(
                R53Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(alias_set(&ctx.stack.domain, kind, &want)?)
                    .build()
                    .map_err(|e| Error::Usage(e.to_string()))?,
            );
        }
    }
    let what = if changes.is_empty() {
        "A and AAAA unchanged".to_string()
    } else {
        let n = changes.len();
        change_records(ctx, zone_id, changes, "alias records").await?;
        format!("upserted {n} alias record(s) → {want}")
    };
    ctx.state
        .update(|s| {
            s.alias_records = vec![
                format!("{} A", ctx.stack.domain),
                format!("{} AAAA", ctx.stack.domain),
            ]
        })
        .await?;
    ctx.progress.step("dns", &what, start.elapsed());
    Ok(())
}

/// Applies one change batch to the zone, with the stack named in its comment.
pub async fn change_records(
    ctx: &Ctx,
    zone_id: &str,
    changes: Vec<R53Change>,
    what: &str,
) -> Result<()> {
    ctx.aws
        .route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .comment(format!("colorid {}: {what}", ctx.names.stack))
                .set_changes(Some(changes))
                .build()
                .map_err(|e| Error::Usage(e.to_string()))?,
        )
        .send()
        .await
        .aws(&format!("change the {what} in"), zone_id)?;
    Ok(())
}

/// Deletes the alias records, but only those that point at one of `ours` (the stack's distribution domains).
pub async fn delete_aliases(ctx: &Ctx, zone_id: &str, ours: &[String]) -> Result<usize> {
    let r53 = ctx.aws.route53();
    let mut doomed = Vec::new();
    for kind in [RrType::A, RrType::Aaaa] {
        if let Some(record) = find_record(&r53, zone_id, &ctx.stack.domain, kind).await?
            && alias_target_of(&record)
                .is_some_and(|t| ours.iter().any(|o| o.eq_ignore_ascii_case(&t)))
        {
            doomed.push(record);
        }
    }
    delete_records(ctx, zone_id, doomed, "alias records").await
}

/// Deletes the CNAME records with these exact names and values (certificate validation).
pub async fn delete_cnames(
    ctx: &Ctx,
    zone_id: &str,
    records: &[(String, String)],
) -> Result<usize> {
    let r53 = ctx.aws.route53();
    let mut doomed = Vec::new();
    for (name, value) in records {
        if let Some(record) = find_record(&r53, zone_id, name, RrType::Cname).await?
            && record
                .resource_records()
                .iter()
                .any(|r| r.value().trim_end_matches('.') == value.trim_end_matches('.'))
        {
            doomed.push(record);
        }
    }
    delete_records(ctx, zone_id, doomed, "certificate validation records").await
}

/// Deletes these record sets in one change batch; returns how many.
async fn delete_records(
    ctx: &Ctx,
    zone_id: &str,
    records: Vec<ResourceRecordSet>,
    what: &str,
) -> Result<usize> {
    let n = records.len();
    if n == 0 {
        return Ok(0);
    }
    let changes = records
        .into_iter()
        .map(|record| {
            R53Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(record)
                .build()
                .map_err(|e| Error::Usage(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    change_records(ctx, zone_id, changes, what).await?;
    Ok(n)
}
