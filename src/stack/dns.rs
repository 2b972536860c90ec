//! Route53 records: the A and AAAA aliases of the domain and the extra
//! certificate names to the distribution, and deletion of the records the
//! stack created.

use std::time::Instant;

use aws_sdk_route53::Client as Route53Client;
use aws_sdk_route53::types::{
    AliasTarget, Change as R53Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};

use crate::error::{AwsContext, Built, Error, Result};
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

/// The names that get A and AAAA alias records: the domain and every extra
/// certificate name but the wildcards (a `*.x` name is an alias of the
/// distribution, but a wildcard record would send every otherwise unnamed host
/// under `x` to the site; that choice is left to the zone's owner).
pub fn record_names(ctx: &Ctx) -> Vec<String> {
    ctx.stack
        .aliases()
        .into_iter()
        .filter(|n| !n.starts_with("*."))
        .collect()
}

/// The names in the state record's `alias_records` (`"<name> <type>"`) that the stack no longer wants.
fn recorded_elsewhere(recorded: &[String], wanted: &[String]) -> Vec<String> {
    let mut out: Vec<String> = recorded
        .iter()
        .filter_map(|r| r.split_once(' ').map(|(name, _)| name.to_string()))
        .filter(|n| !wanted.contains(n))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Refuses a CNAME record at a name the stack's aliases go to: Route53 refuses an A or
/// AAAA record beside a CNAME of the same name (InvalidChangeBatch), and the CNAME is the
/// user's (another site, a verification record), so `plan` and `up` name it and stop before
/// any change, leaving it as it is.
pub async fn refuse_cnames(ctx: &Ctx, zone_id: &str) -> Result<()> {
    let r53 = ctx.aws.route53();
    for name in record_names(ctx) {
        if let Some(cname) = find_record(&r53, zone_id, &name, RrType::Cname).await? {
            let value = cname
                .resource_records()
                .first()
                .map(|r| r.value().trim_end_matches('.').to_string())
                .unwrap_or_default();
            return Err(Error::conflict_fix(
                format!(
                    "the hosted zone {zone_id} already has a CNAME record {name} → {value}: Route53 cannot put the site's A and AAAA alias records beside a CNAME of the same name (InvalidChangeBatch), so nothing was changed."
                ),
                format!(
                    "delete that CNAME record in the hosted zone (or serve the site on another name: `domain` in {}), then run the same command again",
                    ctx.stack.file.display()
                ),
            ));
        }
    }
    Ok(())
}

/// One name's alias records: their current targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aliases {
    pub name: String,
    pub a: Option<String>,
    pub aaaa: Option<String>,
}

/// The current targets of the A and AAAA records of each of `names`.
pub async fn find_aliases_of(ctx: &Ctx, zone_id: &str, names: &[String]) -> Result<Vec<Aliases>> {
    let r53 = ctx.aws.route53();
    let mut out = Vec::new();
    for name in names {
        let mut found = find_records(&r53, zone_id, name, &[RrType::A, RrType::Aaaa]).await?;
        let aaaa = found.pop().flatten();
        let a = found.pop().flatten();
        out.push(Aliases {
            name: name.clone(),
            a: a.as_ref().and_then(alias_target_of),
            aaaa: aaaa.as_ref().and_then(alias_target_of),
        });
    }
    Ok(out)
}

/// The alias records of every name the stack wants records for.
pub async fn find_aliases(ctx: &Ctx, zone_id: &str) -> Result<Vec<Aliases>> {
    find_aliases_of(ctx, zone_id, &record_names(ctx)).await
}

/// What `up` would do to one name's alias records.
pub fn plan(existing: &Aliases, target: Option<&str>) -> Change {
    let want = target.map(|t| t.trim_end_matches('.').to_ascii_lowercase());
    if existing.a.is_none() && existing.aaaa.is_none() {
        return Change::Create;
    }
    let mut fields = Vec::new();
    for (kind, have) in [("A", &existing.a), ("AAAA", &existing.aaaa)] {
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
                .built("the alias target")?,
        )
        .build()
        .built("the alias record")
}

/// Points A and AAAA of every record name at the distribution, changing only
/// what differs, in one change batch; removes the records of names the stack
/// had before and no longer lists, if they still point at the distribution.
/// `dns = "external"`: the records that point the stack's names at the distribution,
/// for the user to add at their DNS provider.
pub fn print_aliases(ctx: &Ctx, target: &str) {
    ctx.progress
        .note("  point these names at the distribution, at your DNS provider:");
    for name in record_names(ctx) {
        ctx.progress.note(&format!(
            "    {name} CNAME {target}   (at a zone apex: ALIAS/ANAME {target})"
        ));
    }
}

pub async fn ensure_aliases(ctx: &Ctx, zone_id: &str, target: &str) -> Result<()> {
    let start = Instant::now();
    let names = record_names(ctx);
    let existing = find_aliases_of(ctx, zone_id, &names).await?;
    let want = target.trim_end_matches('.').to_ascii_lowercase();
    let mut changes = Vec::new();
    for found in &existing {
        for (kind, have) in [(RrType::A, &found.a), (RrType::Aaaa, &found.aaaa)] {
            if have.as_deref() != Some(want.as_str()) {
                changes.push(
                    R53Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(alias_set(&found.name, kind, &want)?)
                        .build()
                        .built("the record change")?,
                );
            }
        }
    }
    let recorded = ctx.state.get().await.alias_records;
    let dropped = recorded_elsewhere(&recorded, &names);
    let stale = aliases_pointing_at(ctx, zone_id, &dropped, std::slice::from_ref(&want)).await?;
    let upserted = changes.len();
    let deleted = stale.len();
    for record in stale {
        changes.push(deletion(record)?);
    }
    if !changes.is_empty() {
        change_records(ctx, zone_id, changes, "alias records").await?;
    }
    let what = match (upserted, deleted) {
        (0, 0) => format!("A and AAAA of {} unchanged", names.join(", ")),
        (n, 0) => format!("upserted {n} alias record(s) → {want}"),
        (n, d) => {
            format!("upserted {n} alias record(s) → {want}; deleted {d} of names no longer listed")
        }
    };
    ctx.state
        .update(|s| {
            s.alias_records = names
                .iter()
                .flat_map(|n| [format!("{n} A"), format!("{n} AAAA")])
                .collect()
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
                .built("the change batch")?,
        )
        .send()
        .await
        .aws(&format!("change the {what} in"), zone_id)?;
    Ok(())
}

/// The A and AAAA records of `names` that alias one of `ours` (distribution domains).
async fn aliases_pointing_at(
    ctx: &Ctx,
    zone_id: &str,
    names: &[String],
    ours: &[String],
) -> Result<Vec<ResourceRecordSet>> {
    let r53 = ctx.aws.route53();
    let mut found = Vec::new();
    for name in names {
        let records = find_records(&r53, zone_id, name, &[RrType::A, RrType::Aaaa]).await?;
        found.extend(records.into_iter().flatten().filter(|record| {
            alias_target_of(record).is_some_and(|t| ours.iter().any(|o| o.eq_ignore_ascii_case(&t)))
        }));
    }
    Ok(found)
}

/// The names whose alias records `down` looks at: those the stack wants now and
/// those the state record says it made.
pub async fn names_to_delete(ctx: &Ctx) -> Vec<String> {
    let mut names = record_names(ctx);
    let recorded = ctx.state.get().await.alias_records;
    names.extend(recorded_elsewhere(&recorded, &names));
    names
}

/// Deletes the alias records of `names`, but only those that point at one of
/// `ours` (the stack's distribution domains).
pub async fn delete_aliases(
    ctx: &Ctx,
    zone_id: &str,
    names: &[String],
    ours: &[String],
) -> Result<usize> {
    let doomed = aliases_pointing_at(ctx, zone_id, names, ours).await?;
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
        .map(deletion)
        .collect::<Result<Vec<_>>>()?;
    change_records(ctx, zone_id, changes, what).await?;
    Ok(n)
}

/// The change that deletes `record` (Route53 needs the record exactly as it is).
fn deletion(record: ResourceRecordSet) -> Result<R53Change> {
    R53Change::builder()
        .action(ChangeAction::Delete)
        .resource_record_set(record)
        .build()
        .built("the record deletion")
}
