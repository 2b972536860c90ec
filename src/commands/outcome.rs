//! How a command ended, for the exit code.

/// How a command ended, for the exit code: `plan` and `publish --dry-run`
/// say whether anything would change (exit 2 under `--detailed-exitcode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, or nothing would change.
    Done,
    /// Something would change.
    Pending,
}

impl Outcome {
    /// `Pending` when `pending`, else `Done`.
    pub fn pending_if(pending: bool) -> Outcome {
        if pending {
            Outcome::Pending
        } else {
            Outcome::Done
        }
    }
}
