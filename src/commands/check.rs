//! `colorid check`.

use crate::cli::{CheckArgs, Global};
use crate::commands::{json, print_json};
use crate::error::{Error, Result};
use crate::{check, session};

pub async fn run(g: &Global, args: &CheckArgs) -> Result<()> {
    let ctx = session::open(g).await?;
    let opts = check::Options {
        url: args.url.clone(),
        resolve: args.resolve.clone(),
        ca_file: args.cacert.clone(),
    };
    let probes = check::check(&ctx, &opts).await?;
    if json(g.output) {
        print_json(&probes);
    } else {
        for p in &probes {
            let status = match (p.ok, p.skipped) {
                (_, true) => "skip",
                (true, _) => "ok",
                (false, _) => "FAIL",
            };
            crate::out!("  {status:<5} {:<16} {}", p.name, p.detail);
        }
    }
    let failed = probes.iter().filter(|p| !p.ok).count();
    if failed > 0 {
        return Err(Error::Failed(format!(
            "{failed} of {} check(s) failed (see FAIL above)",
            probes.len()
        )));
    }
    Ok(())
}
