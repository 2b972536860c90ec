//! The `colorid` binary: parse arguments, set up logging, run one command,
//! and turn its error into one message and an exit code.

use std::io::IsTerminal;

use clap::Parser;
use colorid::cli::Cli;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Under Terraform's exit codes 2 means "changes pending", so a usage error is 1.
            let detailed = std::env::args_os().any(|a| a == colorid::cli::DETAILED_EXITCODE);
            let code = match (e.use_stderr(), detailed) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => 2,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // At the default verbosity only colorid's own warnings: the SDK's (a credential
    // provider that found nothing, an IMDS timeout) come back as the one error printed below.
    let level = match cli.global.verbose {
        0 => "colorid=warn,off",
        1 => "colorid=info,warn",
        2 => "colorid=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let detailed = cli.command.detailed_exitcode();
    match runtime.block_on(colorid::commands::run(cli)) {
        Ok(colorid::commands::Outcome::Pending) if detailed => std::process::exit(2),
        Ok(_) => {}
        Err(err) => {
            eprintln!("error: {}", err.report());
            // Terraform's convention: every error is 1, so 2 means only "changes pending".
            std::process::exit(if detailed { 1 } else { err.exit_code() });
        }
    }
}

/// Colour only on a terminal, and not when NO_COLOR is set (https://no-color.org).
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
