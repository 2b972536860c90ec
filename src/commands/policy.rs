//! `colorid policy`.

use crate::cli::{Global, PolicyArgs, PolicyFor};
use crate::error::Result;
use crate::policy::{self, Scope};
use crate::session;

pub async fn run(g: &Global, args: &PolicyArgs) -> Result<()> {
    let ctx = session::open(g).await?;
    let target = policy::target(&ctx).await?;
    let scope = match args.scope {
        PolicyFor::Up => Scope::Up,
        PolicyFor::Publish => Scope::Publish,
    };
    // The document is the output in either format: IAM takes it as it is.
    crate::out!("{}", policy::for_stack(&target, scope).to_json());
    Ok(())
}
