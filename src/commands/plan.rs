//! `colorid plan`.

use crate::cli::{Global, PlanArgs};
use crate::commands::outcome::Outcome;
use crate::commands::output::{json, print_json};
use crate::error::Result;
use crate::{discovery, plan, session};

pub async fn run(g: &Global, args: &PlanArgs) -> Result<Outcome> {
    let ctx = session::open(g).await?;
    let provider = discovery::read(&ctx.stack.identity.issuer, &ctx.stack.file).await?;
    let steps = plan::plan(&ctx, args.function_zip.as_deref(), &provider).await?;
    let changes = plan::changes(&steps);
    let outcome = Outcome::pending_if(changes > 0);
    if json(g.output) {
        print_json(
            &serde_json::json!({ "stack": ctx.names.stack, "changes": changes, "steps": steps }),
        );
        return Ok(outcome);
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
    if changes == 0 {
        crate::out!("nothing to do: the stack is up to date");
    } else {
        crate::out!("{changes} resource(s) to create or update; run `colorid up` to apply");
    }
    Ok(outcome)
}
