//! A command's result on standard output: as JSON under `--output json`.

use crate::cli::Output;

/// Prints a value as JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) {
    crate::out!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())
    );
}

/// Whether results go out as JSON.
pub fn json(output: Output) -> bool {
    output == Output::Json
}
