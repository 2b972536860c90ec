//! The Route53 hosted zone that holds the domain. A real account owns its
//! zone already; only against the local emulator does `up` create it.

use aws_sdk_route53::Client as Route53Client;

use crate::error::{AwsContext, Error, Result};
use crate::stack::Ctx;

/// A hosted zone id without the `/hostedzone/` prefix.
pub fn bare_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// Finds the public hosted zone named `zone`.
pub async fn find_zone(r53: &Route53Client, zone: &str) -> Result<Option<String>> {
    let fqdn = format!("{zone}.");
    let out = r53
        .list_hosted_zones_by_name()
        .dns_name(&fqdn)
        .max_items(10)
        .send()
        .await
        .aws("look up the hosted zone", zone)?;
    Ok(out
        .hosted_zones()
        .iter()
        .find(|z| z.name() == fqdn && !z.config().is_some_and(|c| c.private_zone()))
        .map(|z| bare_id(z.id())))
}

/// Returns the zone's id; with `--local` creates the zone when missing.
pub async fn ensure_zone(ctx: &Ctx) -> Result<String> {
    let r53 = ctx.aws.route53();
    let zone = &ctx.stack.hosted_zone;
    if let Some(id) = find_zone(&r53, zone).await? {
        ctx.state
            .update(|s| s.hosted_zone_id = Some(id.clone()))
            .await?;
        return Ok(id);
    }
    if !ctx.aws.is_local() {
        return Err(Error::Conflict(format!(
            "the hosted zone {zone} does not exist in this account.\n  what to do: create the public hosted zone {zone} in Route53 (and delegate it from your registrar), or set `hosted_zone` in {} to the zone that holds {}",
            ctx.stack.file.display(),
            ctx.stack.domain
        )));
    }
    let out = r53
        .create_hosted_zone()
        .name(zone)
        .caller_reference(format!("colorid-{}-zone-{zone}", ctx.names.stack))
        .send()
        .await
        .aws("create the hosted zone (local emulator)", zone)?;
    let id = out
        .hosted_zone()
        .map(|z| bare_id(z.id()))
        .ok_or_else(|| Error::Conflict(format!("creating zone {zone} returned no id")))?;
    ctx.state
        .update(|s| {
            s.hosted_zone_id = Some(id.clone());
            s.hosted_zone_created = true;
        })
        .await?;
    Ok(id)
}

/// Deletes the zone if colorid created it and it holds nothing but SOA and NS.
pub async fn delete_if_created(ctx: &Ctx, id: &str) -> Result<bool> {
    let r53 = ctx.aws.route53();
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(id)
        .send()
        .await
        .aws("list records of the hosted zone", id)?;
    let only_defaults = records
        .resource_record_sets()
        .iter()
        .all(|r| matches!(r.r#type().as_str(), "SOA" | "NS"));
    if !only_defaults {
        return Ok(false);
    }
    r53.delete_hosted_zone()
        .id(id)
        .send()
        .await
        .aws("delete the hosted zone (local emulator)", id)?;
    Ok(true)
}
