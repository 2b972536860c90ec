//! `colorid plan`.

use crate::cli::{Global, PlanArgs};
use crate::commands::{json, print_json};
use crate::error::Result;
use crate::stack::Change;
use crate::{discovery, plan, session};

pub async fn run(g: &Global, args: &PlanArgs) -> Result<()> {
    let ctx = session::open(g).await?;
    let provider = discovery::read(&ctx.stack.identity.issuer, &ctx.stack.file).await?;
    let steps = plan::plan(&ctx, args.function_zip.as_deref(), &provider).await?;
    if json(g.output) {
        print_json(&serde_json::json!({ "stack": ctx.names.stack, "steps": steps }));
        return Ok(());
    }
    let dist = ctx.state.get().await.distribution_domain;
    crate::out!(
        "plan for stack {} ({}):",
        ctx.names.stack,
        ctx.stack.site_url_or_pending(dist.as_deref())
    );
    for s in &steps {
        crate::out!("  {:<14} {:<40} {}", s.resource, s.name, s.change);
    }
    let changes = steps
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .count();
    if changes == 0 {
        crate::out!("nothing to do: the stack is up to date");
    } else {
        crate::out!("{changes} resource(s) to create or update; run `colorid up` to apply");
    }
    Ok(())
}
