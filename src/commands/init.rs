//! `colorid init`.

use crate::cli::{Global, InitArgs};
use crate::commands::output::{json, print_json};
use crate::error::Result;
use crate::init::{Answers, CiArchive, init};

pub fn run(g: &Global, args: &InitArgs) -> Result<()> {
    let answers = Answers {
        name: args.name.clone(),
        domain: args.domain.clone(),
        hosted_zone: args.hosted_zone.clone(),
        issuer: args.issuer.clone(),
        client_id: args.client_id.clone(),
        no_domain: args.no_domain,
        ci: args.ci.map(|_| CiArchive {
            url: args.archive_url.clone().unwrap_or_default(),
            sha256: args.archive_sha256.clone().unwrap_or_default(),
        }),
    };
    let report = init(&args.dir, &answers)?;
    if json(g.output) {
        print_json(&report);
        return Ok(());
    }
    for f in &report.written {
        crate::out!("  wrote {f}");
    }
    for f in &report.kept {
        crate::out!("  kept  {f} (exists; not overwritten)");
    }
    let dir = args.dir.display();
    crate::out!(
        "next: edit {dir}/stack.toml (every field is documented there), then `colorid plan` in {dir}; to try it without AWS: `colorid --local up` with the emulator"
    );
    Ok(())
}
