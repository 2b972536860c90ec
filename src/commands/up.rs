//! `colorid up`.

use std::time::Duration;

use crate::cli::{Global, UpArgs};
use crate::commands::output::{json, print_json};
use crate::deploy::{self, UpOptions};
use crate::error::Result;
use crate::lock::Lock;
use crate::{discovery, session};

pub async fn run(g: &Global, args: &UpArgs) -> Result<()> {
    // A missing site folder or an unreadable secret would fail only after the lock
    // (a change) or, for the site, after every change: both are checked first.
    let ctx = session::open_checked(g, |stack| {
        stack.require_site_dir()?;
        crate::stack::secret_value::check_sources(stack)
    })
    .await?;
    // Before the lock and every other change: a provider that cannot be read stops `up` here.
    let provider = discovery::read(&ctx.stack.identity.issuer, &ctx.stack.file).await?;
    let dist = ctx.state.get().await.distribution_domain;
    ctx.progress.note(&format!(
        "colorid up: stack {} → {}",
        ctx.names.stack,
        ctx.stack.site_url_or_pending(dist.as_deref())
    ));
    let options = UpOptions {
        max_wait: Duration::from_secs(args.wait_timeout),
        function_zip: args.function_zip.clone(),
        rotate_secrets: args.rotate_secrets.clone(),
        provider,
    };
    let report = Lock::acquire(ctx.aws.ssm_uncounted(), &ctx.names, "up", args.force_unlock)
        .await?
        .hold(session::interruptible(deploy::up(&ctx, &options)))
        .await?;
    if json(g.output) {
        print_json(&report);
    } else {
        crate::out!(
            "stack {} is up ({:.1}s)",
            report.stack,
            report.elapsed_seconds
        );
        crate::out!("  site:          {}", report.site_url);
        crate::out!(
            "  distribution:  {} ({}, {})",
            report.distribution_id,
            report.distribution_domain,
            report.distribution_status
        );
        crate::out!("  bucket:        {}", report.bucket);
        crate::out!(
            "  site files:    {} uploaded, {} unchanged, {} deleted",
            report.publish.uploaded,
            report.publish.unchanged,
            report.publish.deleted
        );
        crate::out!("  function:      {}", report.function_name);
        crate::out!("  function url:  {}", report.function_url);
        crate::out!("  api:           {}", report.api_url);
        crate::out!(
            "  aws calls:     {} reads, {} changes",
            report.calls.reads,
            report.calls.mutations
        );
    }
    Ok(())
}
