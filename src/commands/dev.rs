//! `colorid dev`.

use crate::cli::{DevArgs, Global};
use crate::config;
use crate::dev::{self, DevOptions, deployed};
use crate::error::{Error, Result};
use crate::session;

pub async fn run(g: &Global, args: &DevArgs) -> Result<()> {
    let stack = config::load(&g.stack)?;
    let deployed = if g.local {
        // The deployed stack: the site as published to the emulated bucket, the stored secrets.
        let ctx = session::open(g).await?;
        let (secret, pem) = deployed::read_secrets(&ctx).await?;
        let bucket = ctx.state.get().await.bucket.ok_or_else(|| {
            Error::Conflict(
                "the stack has no bucket yet.\n  what to do: run `colorid --local up` first".into(),
            )
        })?;
        Some(deployed::Deployed {
            app_secret: secret,
            signing_key_pem: pem,
            site: deployed::DeployedSite {
                s3: ctx.aws.s3(),
                bucket,
            },
        })
    } else {
        stack.require_site_dir()?;
        None
    };
    let id = &stack.identity;
    let opts = DevOptions {
        stack: stack.name.clone(),
        site_dir: stack.site_dir.clone(),
        host: args.host,
        port: args.port,
        issuer: args.issuer.clone().zip(args.client_id.clone()),
        required_level: id.required_level.clone(),
        level_claim: id.level_claim.clone(),
        level_map: id.level_map.clone().into_iter().collect(),
        verified_claims: id.verified_claims.clone(),
        deployed,
    };
    dev::serve(opts).await
}
