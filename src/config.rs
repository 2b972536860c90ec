//! `stack.toml` → a validated [`Stack`].
//!
//! Every check happens here, before any AWS call. A problem is reported with
//! the file, line and column, the field, what is wrong and how to fix it.
//!
//! From the ground up: `error` (a problem as shown), `validator` (problems
//! collected with their lines), `api` (the `[api]` table), `stack` (the
//! validated types), `secret_entry`, `raw` (the file as written), then the
//! checks of `domain`, `identity` and `validate`; this file reads the text and
//! runs them.

use std::path::Path;

mod api;
mod domain;
mod error;
mod identity;
mod raw;
mod secret_entry;
mod stack;
mod validate;
mod validator;

pub use api::Api;
pub use error::{ConfigError, Problem};
use raw::RawStack;
pub use stack::{
    DEFAULT_SCOPES, Dns, Function, Identity, LEVELS, LOG_RETENTION_DAYS, OriginAccess,
    SecretSource, Secrets, Stack,
};
use validator::{SECRET_FIELDS, Validator};

/// Reads and validates a stack file for AWS.
pub fn load(path: &Path) -> Result<Stack, ConfigError> {
    load_for(path, false)
}

/// Reads and validates a stack file; `local` (`--local`, and `dev`, which
/// deploys nothing) also accepts a plain-http issuer on loopback.
pub fn load_for(path: &Path, local: bool) -> Result<Stack, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::plain(
            path,
            "(file)",
            format!("cannot read the stack file: {e}"),
            "pass the right file with --stack, or copy the example stack.toml from the colorid repository",
        )
    })?;
    parse_for(path, &text, local)
}

/// Parses and validates stack file text; `path` names it in errors and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Stack, ConfigError> {
    parse_for(path, text, false)
}

/// [`parse`], for the local emulator when `local` (see [`load_for`]).
pub fn parse_for(path: &Path, text: &str, local: bool) -> Result<Stack, ConfigError> {
    let mut v = Validator {
        text,
        problems: Vec::new(),
        local,
    };
    let raw: RawStack = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let mut field = v.key_at(&span);
            let secret = SECRET_FIELDS.contains(&field.as_str());
            let message = if secret {
                field = format!("secrets.{field}");
                "must be { env = \"VARIABLE\" } or { file = \"path\" }".to_string()
            } else {
                e.message().trim().to_string()
            };
            v.push(
                &span,
                &field,
                message,
                "see the comments in the example stack.toml for every field and its form",
            );
            if secret {
                v.hide_last_line();
            }
            return Err(v.into_error(path));
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stack = v.validate(path, &base, raw);
    if v.problems.is_empty() {
        Ok(stack)
    } else {
        Err(v.into_error(path))
    }
}

#[cfg(test)]
mod tests;
