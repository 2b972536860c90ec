//! One file per command, each short: it calls into the library and prints.

pub mod check;
pub mod dev;
pub mod down;
pub mod init;
pub mod logs;
pub mod outcome;
pub mod output;
pub mod plan;
pub mod policy;
pub mod publish;
pub mod status;
pub mod up;

use crate::cli::{Cli, Command};
use crate::error::Result;

pub use outcome::Outcome;

/// Runs the parsed command.
pub async fn run(cli: Cli) -> Result<Outcome> {
    let g = &cli.global;
    let done = |r: Result<()>| r.map(|()| Outcome::Done);
    match cli.command {
        Command::Plan(args) => plan::run(g, &args).await,
        Command::Publish(args) => publish::run(g, &args).await,
        other => done(run_other(g, other).await),
    }
}

async fn run_other(g: &crate::cli::Global, command: Command) -> Result<()> {
    match command {
        Command::Plan(_) | Command::Publish(_) => Ok(()),
        Command::Up(args) => up::run(g, &args).await,
        Command::Down(args) => down::run(g, &args).await,
        Command::Status => status::run(g).await,
        Command::Dev(args) => dev::run(g, &args).await,
        Command::Logs(args) => logs::run(g, &args).await,
        Command::Init(args) => init::run(g, &args),
        Command::Check(args) => check::run(g, &args).await,
        Command::Policy(args) => policy::run(g, &args).await,
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(args.shell, &mut cmd, "colorid", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| crate::error::Error::io("write the man page", e))
        }
    }
}
