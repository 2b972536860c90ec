//! `colorid check`.

use crate::cli::{CheckArgs, Global};
use crate::commands::output::{json, print_json};
use crate::error::{Error, Result};
use crate::{check, config, session};

pub async fn run(g: &Global, args: &CheckArgs) -> Result<()> {
    let opts = check::Options {
        url: args.url.clone(),
        resolve: args.resolve.clone(),
        ca_file: args.cacert.clone(),
    };
    // check changes nothing: as for `dev`, a loopback http issuer is no error here
    // (the account's own checks, when needed, come with the session below).
    let stack = config::load_for(&g.stack, true)?;
    // Another site than the stack's own name (e.g. `colorid dev`) needs no credentials.
    let account = match check::needs_account(&stack, &opts)? {
        true => Some(session::open(g).await?),
        false => None,
    };
    let probes = check::check(&stack, account.as_ref(), &opts).await?;
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
