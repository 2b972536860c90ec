//! `colorid down`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use crate::cli::{DownArgs, Global};
use crate::commands::output::{json, print_json};
use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::{session, teardown};

pub async fn run(g: &Global, args: &DownArgs) -> Result<()> {
    let ctx = session::open(g).await?;
    let lock = Lock::acquire(
        ctx.aws.ssm_uncounted(),
        &ctx.names,
        "down",
        args.force_unlock,
    )
    .await?;
    let run = async {
        let inv = teardown::inventory(&ctx).await?;
        for r in &inv.refused {
            ctx.progress
                .note(&format!("  warning: left alone, not this stack's: {r}"));
        }
        if inv.is_empty() {
            return Ok(inv);
        }
        if !args.yes {
            confirm(&ctx.names.stack, &inv.lines())?;
        }
        session::interruptible(teardown::down(
            &ctx,
            &inv,
            Duration::from_secs(args.wait_timeout),
        ))
        .await?;
        Ok(inv)
    };
    let inv: teardown::Inventory = lock.hold_then_delete(run).await?;
    if json(g.output) {
        print_json(&serde_json::json!({
            "stack": ctx.names.stack,
            "deleted": inv,
            "calls": ctx.aws.counts(),
        }));
    } else if inv.is_empty() {
        crate::out!("stack {}: nothing to delete", ctx.names.stack);
    } else {
        crate::out!(
            "stack {} is down: everything it created is deleted",
            ctx.names.stack
        );
    }
    Ok(())
}

fn confirm(stack: &str, lines: &[String]) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::usage(format!(
            "`colorid down` deletes the stack {stack} and needs confirmation, but there is no terminal to ask on; pass --yes to confirm"
        )));
    }
    eprintln!("colorid down will delete, from stack {stack}:");
    for l in lines {
        eprintln!("  - {l}");
    }
    eprint!("delete all of this? type the stack name ({stack}) to confirm: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read the confirmation", e))?;
    if answer.trim() == stack {
        Ok(())
    } else {
        Err(Error::Aborted("not confirmed; nothing was deleted".into()))
    }
}
