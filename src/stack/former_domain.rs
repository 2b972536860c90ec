//! What a stack that had a domain and has none now left in its zone: the alias
//! records and certificate validation CNAMEs it made, found through the zone
//! its state record names (the stack no longer names one). `up` removes them
//! once the distribution has dropped the domain; `down` removes them too. Its
//! certificate goes the way of a replaced one (`deploy::retire_certificate`).

use std::time::Instant;

use aws_sdk_route53::types::RrType;

use crate::error::Result;
use crate::stack::{Ctx, dns};

/// The zone the stack wrote to, and what the state record says it made there.
#[derive(Debug, Clone, Default)]
pub struct Leftovers {
    pub zone_id: String,
    /// Names whose A and AAAA records the stack made.
    pub alias_names: Vec<String>,
    /// Validation CNAMEs the stack made (name, value), as they are now.
    pub validation: Vec<(String, String)>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.alias_names.is_empty() && self.validation.is_empty()
    }
}

/// The leftovers of a former domain; `None` for a stack with a domain, or one
/// whose record names no zone. Asks Route53 only about recorded validation CNAMEs.
pub async fn find(ctx: &Ctx) -> Result<Option<Leftovers>> {
    if ctx.stack.domain.is_some() {
        return Ok(None);
    }
    let state = ctx.state.get().await;
    let Some(zone_id) = state.hosted_zone_id.clone() else {
        return Ok(None);
    };
    let mut alias_names: Vec<String> = state
        .alias_records
        .iter()
        .filter_map(|r| r.split_once(' ').map(|(name, _)| name.to_string()))
        .collect();
    alias_names.sort();
    alias_names.dedup();
    // Only a validation record of a name the stack aliased, still holding an ACM value.
    let r53 = ctx.aws.route53();
    let mut validation = Vec::new();
    for name in &state.validation_records {
        let bare = name.trim_end_matches('.').to_ascii_lowercase();
        let of_ours = bare.starts_with('_')
            && bare
                .split_once('.')
                .is_some_and(|(_, rest)| alias_names.iter().any(|n| n == rest));
        if !of_ours {
            continue;
        }
        if let Some(record) = dns::find_record(&r53, &zone_id, name, RrType::Cname).await?
            && let Some(value) = record.resource_records().first().map(|r| r.value())
            && value.trim_end_matches('.').ends_with("acm-validations.aws")
        {
            validation.push((name.clone(), value.to_string()));
        }
    }
    validation.sort();
    validation.dedup();
    Ok(Some(Leftovers {
        zone_id,
        alias_names,
        validation,
    }))
}

/// Deletes the alias records that still point at one of `ours` (the stack's
/// distribution domains) and the validation CNAMEs; the state forgets them.
pub async fn remove(ctx: &Ctx, leftovers: &Leftovers, ours: &[String]) -> Result<()> {
    if leftovers.is_empty() {
        return Ok(());
    }
    let start = Instant::now();
    let zone = &leftovers.zone_id;
    let aliases = dns::delete_aliases(ctx, zone, &leftovers.alias_names, ours).await?;
    let cnames = dns::delete_cnames(ctx, zone, &leftovers.validation).await?;
    ctx.state
        .update(|s| {
            s.alias_records.clear();
            s.validation_records.clear();
        })
        .await?;
    ctx.progress.step(
        "dns",
        &format!(
            "the stack has no domain now: deleted {aliases} alias record(s) and {cnames} validation record(s) in {zone}"
        ),
        start.elapsed(),
    );
    Ok(())
}
