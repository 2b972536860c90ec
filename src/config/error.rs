//! A stack file's problems, and how they are shown: file, line, column,
//! field, what is wrong, the line itself (unless it may hold a secret) and
//! how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem found in the stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
    pub hint: String,
    /// The offending source line, for context.
    pub source_line: String,
}

/// A stack file that could not be read or is invalid. Exit code 2.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl ConfigError {
    pub(super) fn plain(file: &Path, field: &str, message: String, hint: &str) -> Self {
        ConfigError {
            file: file.to_path_buf(),
            problems: vec![Problem {
                line: 0,
                column: 0,
                field: field.to_string(),
                message,
                hint: hint.to_string(),
                source_line: String::new(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            if p.line > 0 {
                write!(f, "{}:{}:{}: ", self.file.display(), p.line, p.column)?;
            } else {
                write!(f, "{}: ", self.file.display())?;
            }
            write!(f, "field `{}`: {}", p.field, p.message)?;
            if !p.source_line.is_empty() {
                write!(f, "\n    {:>4} | {}", p.line, p.source_line)?;
            }
            if !p.hint.is_empty() {
                write!(f, "\n    help: {}", p.hint)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
