//! `colorid dev`.

use crate::cli::{DevArgs, Global};
use crate::config;
use crate::dev::{self, DevOptions};
use crate::error::Result;

pub async fn run(g: &Global, args: &DevArgs) -> Result<()> {
    let stack = config::load(&g.stack)?;
    stack.require_site_dir()?;
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
    };
    dev::serve(opts).await
}
