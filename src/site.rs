//! Publishing the site from the stack: the generated `config.json` the page
//! reads, and the publish target (the stack's bucket and distribution).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::publish::{
    self, GeneratedFile, PublishEvent, PublishOptions, PublishReport, PublishTarget, SiteScan,
};
use crate::session;
use crate::stack::Ctx;
use crate::stack::{bucket, bucket_name};

/// What the page reads from `/config.json`, deployed or from `colorid dev`.
/// No secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteConfig {
    pub issuer: String,
    pub client_id: String,
    pub api_base: String,
    pub required_level: Option<String>,
    pub stack: String,
    /// Set by `colorid dev` when it serves its own test identity provider.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test_identity_provider: bool,
    /// The scopes the site asks the provider for (`[identity] scopes`).
    pub scopes: Vec<String>,
    /// Start the sign-in when a visitor arrives without a session.
    pub sign_in_on_load: bool,
    /// For each assurance level, the `acr_values` a step-up sends the provider:
    /// its own values for that level (`[identity.level_map]` read backwards).
    /// A level missing here is sent by its name (`AAL2`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub step_up_acr_values: BTreeMap<String, String>,
    /// The API identifier the site asks the provider for an access token
    /// for, and sends that token to the API (`[identity] api_audience`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_audience: Option<String>,
}

/// The levels colorid knows, lowest first.
const LEVELS: [&str; 3] = ["AAL1", "AAL2", "AAL3"];

/// `[identity.level_map]` read backwards: for each level some provider value
/// maps to, those values (space-separated, as `acr_values` takes them), the
/// level's own first, then those of the higher levels, which satisfy it too.
/// Only when the level comes from `acr`: `acr_values` asks for an `acr`, and
/// a map of another claim's values (`amr`) says nothing about it.
pub fn step_up_acr_values(identity: &crate::config::Identity) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if identity.level_claim != "acr" {
        return out;
    }
    let rank = |level: &str| LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level));
    for (i, level) in LEVELS.iter().enumerate() {
        let values: Vec<&str> = (i..LEVELS.len())
            .flat_map(|at| {
                identity
                    .level_map
                    .iter()
                    .filter(move |(value, mapped)| {
                        rank(mapped) == Some(at) && !value.contains(char::is_whitespace)
                    })
                    .map(|(value, _)| value.as_str())
            })
            .collect();
        if identity.level_map.values().any(|m| rank(m) == Some(i)) {
            out.insert(level.to_string(), values.join(" "));
        }
    }
    out
}

impl SiteConfig {
    /// The site configuration of a stack.
    pub fn of(stack: &crate::config::Stack) -> SiteConfig {
        SiteConfig {
            issuer: stack.identity.issuer.clone(),
            client_id: stack.identity.client_id.clone(),
            api_base: "/api".to_string(),
            required_level: stack.identity.required_level.clone(),
            stack: stack.name.clone(),
            test_identity_provider: false,
            scopes: stack.identity.scopes.clone(),
            sign_in_on_load: stack.identity.sign_in_on_load,
            step_up_acr_values: step_up_acr_values(&stack.identity),
            api_audience: stack.identity.api_audience.clone(),
        }
    }

    /// The JSON body, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// Starts walking the stack's site directory (with its `[publish]` settings), for a
/// publish that first has other calls to make: they run beside the walk.
pub fn start_scan(stack: &crate::config::Stack) -> SiteScan {
    SiteScan::start(stack.site_dir.clone(), &stack.publish)
}

/// Publishes the site to the stack's bucket and invalidates what changed, from
/// `scan`, the walk of the site started by [`start_scan`]. The caller holds the
/// stack lock, or makes a dry run.
pub async fn publish(ctx: &Ctx, options: &PublishOptions, scan: SiteScan) -> Result<PublishReport> {
    let target = target(ctx).await?;
    publish_scanned(ctx, &target, options, scan).await
}

/// Publishes as [`publish`] does, under the stack lock, which a publish that finds
/// nothing to write does not take: a no-op is its reads alone, and runs beside any
/// other run.
///
/// The lock is read beside the bucket's checks, before the manifest. When it is
/// released, the publish plans without it, and only a plan with something to write
/// takes it. Taken at the version right after the one read, the lock shows that no run
/// held it while the plan was made; else the plan may be stale, and the publish plans
/// again under the lock from a new walk. A lock held when read, and `force_unlock`,
/// take the lock before anything else, which refuses (or takes over) as ever.
pub async fn publish_locked(
    ctx: &Ctx,
    options: &PublishOptions,
    scan: SiteScan,
    force_unlock: bool,
) -> Result<PublishReport> {
    let take = || Lock::acquire(ctx.aws.ssm_uncounted(), &ctx.names, "publish", force_unlock);
    let seen = async {
        if force_unlock {
            return Ok(None);
        }
        Lock::released_version(ctx.aws.ssm_uncounted(), &ctx.names).await
    };
    let (seen, target) = tokio::join!(seen, target(ctx));
    let Some(seen) = seen? else {
        // A held lock is named before anything the bucket's checks found: a publish
        // during another run's `up` fails on the lock, not on a bucket not made yet.
        let lock = take().await?;
        let run = async { publish_scanned(ctx, &target?, options, scan).await };
        return lock.hold(session::interruptible(run)).await;
    };
    let target = target?;
    let events = events(ctx);
    let settings = &ctx.stack.publish;
    let planning = publish::plan_scanned(&target, settings, options, &events, scan);
    let plan = session::interruptible(async { Ok(planning.await?) }).await?;
    if plan.writes_nothing() {
        return Ok(publish::carry_out(&target, settings, options, &events, plan).await?);
    }
    let lock = take().await?;
    let current = lock.follows(seen);
    lock.hold(session::interruptible(async {
        if current {
            return Ok(publish::carry_out(&target, settings, options, &events, plan).await?);
        }
        drop(plan);
        ctx.progress
            .note("  publish        another run took the stack lock while this one planned: planning again");
        let target = self::target(ctx).await?;
        publish_scanned(ctx, &target, options, start_scan(&ctx.stack)).await
    }))
    .await
}

/// The stack's bucket, checked to exist, and its distribution.
async fn target(ctx: &Ctx) -> Result<PublishTarget> {
    ctx.stack.require_site_dir()?;
    let state = ctx.state.get().await;
    // The account also makes every S3 request expect it as the bucket's owner.
    let account = session::account_id(ctx).await?;
    let bucket = match state.bucket {
        Some(b) => b,
        None => bucket_name::known(ctx, &account)
            .await?
            .unwrap_or_else(|| ctx.names.bucket_stem(&account)),
    };
    if !bucket::exists(ctx, &bucket).await? {
        return Err(Error::conflict_fix(
            format!("the stack's bucket {bucket} does not exist."),
            "run `colorid up` first; it creates the bucket and publishes the site",
        ));
    }
    Ok(target_of(ctx, &bucket, state.distribution_id))
}

/// The publish target of the stack's `bucket` and `distribution_id`.
fn target_of(ctx: &Ctx, bucket: &str, distribution_id: Option<String>) -> PublishTarget {
    PublishTarget {
        s3: ctx.aws.s3(),
        cloudfront: ctx.aws.cloudfront(),
        bucket: bucket.to_string(),
        distribution_id,
        site_dir: ctx.stack.site_dir.clone(),
        generated: vec![GeneratedFile {
            key: "config.json".to_string(),
            body: SiteConfig::of(&ctx.stack).to_json(),
        }],
    }
}

/// Publishes the site to `bucket`, known to exist, invalidating `distribution_id`,
/// from `scan` (see [`start_scan`]).
pub async fn publish_to(
    ctx: &Ctx,
    bucket: &str,
    distribution_id: Option<String>,
    options: &PublishOptions,
    scan: SiteScan,
) -> Result<PublishReport> {
    ctx.stack.require_site_dir()?;
    let target = target_of(ctx, bucket, distribution_id);
    publish_scanned(ctx, &target, options, scan).await
}

async fn publish_scanned(
    ctx: &Ctx,
    target: &PublishTarget,
    options: &PublishOptions,
    scan: SiteScan,
) -> Result<PublishReport> {
    let events = events(ctx);
    publish::publish_scanned(target, &ctx.stack.publish, options, &events, scan)
        .await
        .map_err(Error::from)
}

/// How a publish's events are shown: each written file in the log, the rest as
/// progress.
fn events(ctx: &Ctx) -> impl Fn(PublishEvent) + use<> {
    let progress = ctx.progress.clone();
    move |event: PublishEvent| match &event {
        PublishEvent::Uploaded { .. } | PublishEvent::HeadersUpdated { .. } => {
            tracing::info!("{event}");
        }
        _ => progress.note(&format!("  publish        {event}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity of a stack with `level_claim` and `map` as its `[identity.level_map]`.
    fn identity(level_claim: &str, map: &[(&str, &str)]) -> crate::config::Identity {
        let lines: String = map
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{v}\"\n"))
            .collect();
        let text = format!(
            "name = \"s\"\nregion = \"eu-west-1\"\n[identity]\nissuer = \"https://id.example/\"\n\
             client_id = \"c\"\nlevel_claim = \"{level_claim}\"\n[identity.level_map]\n{lines}"
        );
        crate::config::parse(std::path::Path::new("stack.toml"), &text)
            .unwrap()
            .identity
    }

    #[test]
    fn step_up_sends_the_providers_value_for_the_level() {
        // Keycloak's level-of-authentication names, and an InCommon URN.
        let keycloak = identity("acr", &[("silver", "AAL1"), ("gold", "AAL2")]);
        let values = step_up_acr_values(&keycloak);
        assert_eq!(values.get("AAL2").map(String::as_str), Some("gold"));
        assert_eq!(values.get("AAL1").map(String::as_str), Some("silver gold"));
        assert_eq!(values.get("AAL3"), None, "unmapped: sent as AAL3");
        let urn = identity(
            "acr",
            &[("urn:mace:incommon:iap:silver", "AAL2"), ("phr", "AAL3")],
        );
        assert_eq!(
            step_up_acr_values(&urn).get("AAL2").map(String::as_str),
            Some("urn:mace:incommon:iap:silver phr")
        );
        // Unmapped: nothing in config.json, and colorid.js sends "AAL2".
        assert!(step_up_acr_values(&identity("acr", &[])).is_empty());
        // A map of amr values says nothing about acr_values.
        assert!(step_up_acr_values(&identity("amr", &[("otp", "AAL2")])).is_empty());
    }
}
