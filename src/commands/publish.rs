//! `colorid publish`.

use crate::cli::{Global, PublishArgs};
use crate::commands::outcome::Outcome;
use crate::commands::output::{json, print_json};
use crate::error::Result;
use crate::publish::{Action, PublishOptions};
use crate::{session, site};

pub async fn run(g: &Global, args: &PublishArgs) -> Result<Outcome> {
    // The walk of the site starts now; the SDK's set-up, the state and the lock run beside it.
    let (ctx, scan) = session::open_with(g, |stack| {
        stack.require_site_dir()?;
        Ok(site::start_scan(stack))
    })
    .await?;
    let options = PublishOptions {
        dry_run: args.dry_run,
        force: args.force,
        verify: args.verify,
        no_delete: args.no_delete,
        wait: args.wait,
    };
    let report = if args.dry_run {
        session::interruptible(site::publish(&ctx, &options, scan)).await?
    } else {
        site::publish_locked(&ctx, &options, scan, args.force_unlock).await?
    };
    let outcome = Outcome::pending_if(report.dry_run && report.changes());
    if json(g.output) {
        print_json(&serde_json::json!({ "report": report, "calls": ctx.aws.counts() }));
        return Ok(outcome);
    }
    if args.dry_run {
        for f in &report.files {
            if f.action != Action::Unchanged || g.verbose > 0 {
                crate::out!(
                    "  {:<15} {:<50} {}",
                    format!("{:?}", f.action).to_lowercase(),
                    f.key,
                    f.reason
                );
            }
        }
        for p in &report.summary.invalidation_paths {
            crate::out!("  invalidate      {p}");
        }
    }
    crate::out!("{}", report.summary_line());
    Ok(outcome)
}
