//! The Route53 hosted zone that holds the domain. A real account owns its
//! zone already; only against the local emulator does `up` create it.

use aws_sdk_route53::Client as Route53Client;

use crate::error::{AwsContext, Error, OrGone, Result};
use crate::stack::Ctx;

/// A hosted zone id without the `/hostedzone/` prefix.
pub fn bare_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// Finds the stack's public hosted zone: the one `hosted_zone_id` names (which
/// must be a public zone called `hosted_zone`), else the only public zone called
/// `hosted_zone`. Route53 lets an account hold several zones of one name
/// ("You can create a hosted zone that has the same name as an existing hosted
/// zone", API_CreateHostedZone, DelegationSetNotAvailable); then the stack must
/// say which. Private zones never count: CloudFront aliases live in the public one.
/// With `dns = "external"` or no domain there is no zone to find: `None`.
pub async fn find_zone(ctx: &Ctx) -> Result<Option<String>> {
    if !ctx.stack.uses_route53() {
        return Ok(None);
    }
    let r53 = ctx.aws.route53();
    let zone = &ctx.stack.hosted_zone;
    if let Some(id) = &ctx.stack.hosted_zone_id {
        return find_by_id(&r53, ctx, id).await;
    }
    let mut ids = public_zones_named(&r53, zone).await?;
    if ids.len() > 1 {
        ids.sort();
        return Err(Error::conflict_fix(
            format!(
                "{} public hosted zones are named {zone}: {}; colorid cannot tell which one holds {}.",
                ids.len(),
                ids.join(", "),
                ctx.stack.domain_name()
            ),
            format!(
                "set `hosted_zone_id` in {} to the zone your domain's registrar delegates to (its NS records match `dig NS {zone}`), e.g. hosted_zone_id = \"{}\"",
                ctx.stack.file.display(),
                ids[0]
            ),
        ));
    }
    Ok(ids.pop())
}

/// The ids of the public zones called `zone`, over every page of the listing.
async fn public_zones_named(r53: &Route53Client, zone: &str) -> Result<Vec<String>> {
    let fqdn = format!("{zone}.");
    let mut ids = Vec::new();
    let mut next_id: Option<String> = None;
    loop {
        // Zones come sorted by name, so those called `zone` are together from the start.
        let out = r53
            .list_hosted_zones_by_name()
            .dns_name(&fqdn)
            .set_hosted_zone_id(next_id.take())
            .max_items(100)
            .send()
            .await
            .aws("look up the hosted zone", zone)?;
        let mut past = false;
        for z in out.hosted_zones() {
            if !z.name().eq_ignore_ascii_case(&fqdn) {
                past = true;
            } else if !z.config().is_some_and(|c| c.private_zone()) {
                ids.push(bare_id(z.id()));
            }
        }
        let same_name = out
            .next_dns_name()
            .is_some_and(|n| n.eq_ignore_ascii_case(&fqdn));
        match out.next_hosted_zone_id() {
            Some(id) if out.is_truncated() && same_name && !past => next_id = Some(id.to_string()),
            _ => return Ok(ids),
        }
    }
}

/// The zone `hosted_zone_id` names, checked against `hosted_zone`; `None` when it does not exist.
async fn find_by_id(r53: &Route53Client, ctx: &Ctx, id: &str) -> Result<Option<String>> {
    let zone = &ctx.stack.hosted_zone;
    let Some(out) = r53
        .get_hosted_zone()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_hosted_zone())
        .aws("look up the hosted zone", id)?
    else {
        return Ok(None);
    };
    let Some(found) = out.hosted_zone() else {
        return Ok(None);
    };
    let name = found.name().trim_end_matches('.');
    let wrong = if !name.eq_ignore_ascii_case(zone) {
        Some(format!("is the zone of {name}, not of {zone}"))
    } else if found.config().is_some_and(|c| c.private_zone()) {
        Some("is a private zone; CloudFront aliases need the public one".to_string())
    } else {
        None
    };
    match wrong {
        Some(why) => Err(Error::conflict_fix(
            format!("hosted_zone_id {id} {why}."),
            format!(
                "set `hosted_zone_id` in {} to the id of the public zone {zone}, or remove it if the account holds only one",
                ctx.stack.file.display()
            ),
        )),
        None => Ok(Some(bare_id(found.id()))),
    }
}

/// The error for a zone that is not in the account.
pub fn missing(ctx: &Ctx) -> Error {
    let zone = &ctx.stack.hosted_zone;
    let file = ctx.stack.file.display();
    match &ctx.stack.hosted_zone_id {
        Some(id) => Error::conflict_fix(
            format!("the hosted zone {id} (`hosted_zone_id`) does not exist in this account."),
            format!(
                "set `hosted_zone_id` in {file} to the id of the public zone {zone}, or remove it to have colorid find the zone by name"
            ),
        ),
        None => Error::conflict_fix(
            format!("the hosted zone {zone} does not exist in this account."),
            format!(
                "create the public hosted zone {zone} in Route53 (and delegate it from your registrar), or set `hosted_zone` in {file} to the zone that holds {}",
                ctx.stack.domain_name()
            ),
        ),
    }
}

/// Returns the zone's id; with `--local` creates the zone when missing (unless
/// `hosted_zone_id` names one: an id cannot be chosen).
/// `found`: what [`find_zone`] answered earlier in this run.
pub async fn ensure_zone(ctx: &Ctx, found: Option<String>) -> Result<String> {
    let r53 = ctx.aws.route53();
    let zone = &ctx.stack.hosted_zone;
    if let Some(id) = found {
        ctx.state
            .update(|s| s.hosted_zone_id = Some(id.clone()))
            .await?;
        return Ok(id);
    }
    if !ctx.aws.is_local() || ctx.stack.hosted_zone_id.is_some() {
        return Err(missing(ctx));
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
        .ok_or_else(|| Error::conflict(format!("creating zone {zone} returned no id")))?;
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
