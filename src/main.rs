//! The `colorid` binary: parse arguments, set up logging, run one command,
//! and turn its error into one message and an exit code.

use clap::Parser;
use colorid::cli::Cli;
use tracing_subscriber::EnvFilter;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "colorid=info,warn",
        2 => "colorid=debug,info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
    if let Err(err) = runtime.block_on(colorid::commands::run(cli)) {
        eprintln!("error: {}", err.report());
        std::process::exit(err.exit_code());
    }
}
