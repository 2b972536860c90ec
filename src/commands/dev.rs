//! `colorid dev`.

use crate::cli::{DevArgs, Global};
use crate::config::{self, OriginAccess};
use crate::dev::{self, DevOptions, deployed};
use crate::error::{Error, Result};
use crate::session;
use crate::stack::bucket_policy::Reader;
use crate::stack::distribution;

pub async fn run(g: &Global, args: &DevArgs) -> Result<()> {
    // dev deploys nothing: the stack's issuer may be a loopback http one (its own
    // provider or --issuer is what it signs in with); `--local` reads it again.
    let stack = config::load_for(&g.stack, true)?;
    let deployed = if g.local {
        // The deployed stack: the site as published to the emulated bucket, the stored secrets.
        let ctx = session::open(g).await?;
        let secrets = deployed::read_secrets(&ctx).await?;
        let not_up = |what: &str| {
            Error::conflict_fix(
                format!("the stack has no {what} yet."),
                "run `colorid --local up` first",
            )
        };
        let bucket = ctx
            .state
            .get()
            .await
            .bucket
            .ok_or_else(|| not_up("bucket"))?;
        let dist = distribution::find(&ctx)
            .await?
            .ok_or_else(|| not_up("distribution"))?;
        let reader = match ctx.state.get().await.origin_access_identity_id {
            Some(id) if stack.origin_access == OriginAccess::Identity => {
                Reader::OriginAccessIdentity(id)
            }
            _ => Reader::Distribution(dist.arn.clone()),
        };
        Some(deployed::Deployed {
            app_secret: secrets.app_secret,
            signing_key_pem: secrets.signing_key_pem,
            origin_verify: secrets.origin_verify,
            site: deployed::DeployedSite {
                s3: ctx.aws.s3(),
                bucket,
            },
            distribution: dist.config,
            reader,
        })
    } else {
        stack.require_site_dir()?;
        None
    };
    let opts = DevOptions {
        stack: stack.name.clone(),
        stack_config: stack.clone(),
        site_dir: stack.site_dir.clone(),
        host: args.host,
        port: args.port,
        issuer: args.issuer.clone().zip(args.client_id.clone()),
        function: crate::stack::function_environment::plain_settings(&stack),
        deployed,
    };
    dev::serve(opts).await
}
