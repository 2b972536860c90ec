//! `colorid logs`.

use std::io::Write;

use crate::cli::{Global, LogsArgs};
use crate::commands::output::json;
use crate::error::Result;
use crate::logs::{FOLLOW_INTERVAL, Reader};
use crate::session;

pub async fn run(g: &Global, args: &LogsArgs) -> Result<()> {
    let ctx = session::open(g).await?;
    let mut reader = Reader::new(&ctx, args.since, args.filter.as_deref());
    loop {
        let events = reader.next().await?;
        let mut out = std::io::stdout().lock();
        for e in &events {
            let line = if json(g.output) {
                serde_json::to_string(e).unwrap_or_default()
            } else {
                e.render()
            };
            // A closed pipe (`colorid logs | head`) is a quiet end.
            if writeln!(out, "{line}").is_err() {
                return Ok(());
            }
        }
        let _ = out.flush();
        drop(out);
        if !args.follow {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_INTERVAL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
