//! The problem collector every check writes to: each problem with its line,
//! column and source line (hidden where it may hold a secret), so one run
//! reports them all.

use std::ops::Range;
use std::path::Path;

use super::error::{ConfigError, Problem};

/// The fields under `[secrets]`, whose lines are never shown in an error.
pub(super) const SECRET_FIELDS: [&str; 3] = ["app_secret", "signing_key", "origin_verify"];
/// Shown instead of a line that may hold a secret.
const HIDDEN_LINE: &str = "(line not shown: it may hold a secret)";

/// One stack file's text and the problems found in it so far.
pub(super) struct Validator<'a> {
    pub(super) text: &'a str,
    pub(super) problems: Vec<Problem>,
    /// The stack goes to the local emulator (`--local`): a loopback http issuer is allowed.
    pub(super) local: bool,
}

impl Validator<'_> {
    pub(super) fn into_error(self, path: &Path) -> ConfigError {
        ConfigError {
            file: path.to_path_buf(),
            problems: self.problems,
        }
    }

    pub(super) fn position(&self, offset: usize) -> (usize, usize, String) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        let source_line = self.text[line_start..]
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        (line, column, source_line)
    }

    /// The key written on the line of `span`, for serde errors that do not name the field.
    pub(super) fn key_at(&self, span: &Range<usize>) -> String {
        let (_, _, line) = self.position(span.start);
        let trimmed = line.trim();
        if let Some((key, _)) = trimmed.split_once('=') {
            key.trim().to_string()
        } else if trimmed.starts_with('[') {
            trimmed.trim_matches(|c| c == '[' || c == ']').to_string()
        } else {
            "(stack)".to_string()
        }
    }

    /// Replaces the source line of the last problem, which may hold a secret.
    pub(super) fn hide_last_line(&mut self) {
        if let Some(p) = self.problems.last_mut() {
            p.source_line = HIDDEN_LINE.to_string();
        }
    }

    /// Whether the line at `offset` may hold a secret: it mentions one (`secrets`,
    /// `app_secret`, a quoted or dotted key, an inline table), or the last table
    /// header above it does (a `[secrets]` value, a multi-line PEM). Read from the
    /// text, not the parse, so a syntax error is covered too.
    fn may_hold_secret(&self, offset: usize) -> bool {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("");
        let names_secret = |l: &str| {
            let l = l.to_ascii_lowercase();
            l.contains("secret") || SECRET_FIELDS.iter().any(|f| l.contains(f))
        };
        names_secret(line)
            || self.text[..start]
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('[') && !l.contains('='))
                .is_some_and(names_secret)
    }

    pub(super) fn push(&mut self, span: &Range<usize>, field: &str, message: String, hint: &str) {
        let (line, column, mut source_line) = self.position(span.start);
        if self.may_hold_secret(span.start) {
            source_line = HIDDEN_LINE.to_string();
        }
        self.problems.push(Problem {
            line,
            column,
            field: field.to_string(),
            message,
            hint: hint.to_string(),
            source_line,
        });
    }
}

/// Whether `s` can name a token claim (`acr`, `given_name`, `https://example.com/roles`).
pub(super) fn is_claim_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/'))
}
