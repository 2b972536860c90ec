//! The library's error type: one variant per kind of failure, each printed
//! once at the top with what to do next.

use std::fmt::Display;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::config::ConfigError;
use crate::publish::PublishError;

/// A failed run. Its `Display` is the message alone; [`Error::fix`] is what to
/// do about it, and [`Error::report`] both, as the binary prints them.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stack file is unreadable or invalid (exit code 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The command line or environment is unusable (exit code 2).
    #[error("{message}")]
    Usage {
        message: String,
        fix: Option<String>,
    },
    /// AWS refused or failed a call.
    #[error("failed to {action} {resource}: {said}")]
    Aws {
        action: String,
        resource: String,
        /// The error code (when AWS sent one) and its message.
        said: String,
        fix: String,
        code: Option<String>,
    },
    /// The local AWS set-up gives no usable credentials (exit code 2).
    #[error("{problem}")]
    Credentials { problem: String, fix: String },
    /// Another run holds the stack's lock.
    #[error("stack {stack} is locked by {holder} since {since}")]
    Locked {
        stack: String,
        holder: String,
        since: String,
    },
    /// A wait ran past its bound.
    #[error("{what} did not finish within {seconds} s")]
    Timeout {
        what: String,
        seconds: u64,
        fix: String,
    },
    /// The account holds something that conflicts with the stack.
    #[error("{message}")]
    Conflict {
        message: String,
        fix: Option<String>,
    },
    /// The user declined or the run was interrupted.
    #[error("{0}")]
    Aborted(String),
    /// Publishing the site failed (the error names the step and file).
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A bug in colorid: an SDK builder refused what the code gave it, or an
    /// invariant did not hold (exit code 1).
    #[error("internal error: {0}")]
    Internal(String),
    /// Probes of the deployed site failed (`colorid check`).
    #[error("{0}")]
    Failed(String),
    /// Local I/O failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl Error {
    /// A usage error with no particular fix beyond its message.
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            fix: None,
        }
    }

    /// A usage error and what to do about it.
    pub fn usage_fix(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// A conflict with what the account holds, with no particular fix.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            fix: None,
        }
    }

    /// A conflict with what the account holds, and what to do about it.
    pub fn conflict_fix(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// A bug in colorid, described by `what`.
    pub fn internal(what: impl Display) -> Self {
        Error::Internal(what.to_string())
    }

    /// What to do about the error, when there is something to say.
    pub fn fix(&self) -> Option<&str> {
        match self {
            Error::Usage { fix, .. } | Error::Conflict { fix, .. } => fix.as_deref(),
            Error::Aws { fix, .. }
            | Error::Timeout { fix, .. }
            | Error::Credentials { fix, .. } => Some(fix),
            Error::Locked { .. } => Some(
                "wait for that run to finish; if it died (killed, crashed), run again with --force-unlock",
            ),
            Error::Publish(err) => err.fix(),
            Error::Internal(_) => {
                Some("this is a bug in colorid: run again with -vv and report the output")
            }
            Error::Config(_) | Error::Aborted(_) | Error::Failed(_) | Error::Io { .. } => None,
        }
    }

    /// The message and, on a line of its own, what to do.
    pub fn report(&self) -> String {
        match self.fix() {
            Some(fix) => format!("{self}\n  what to do: {fix}"),
            None => self.to_string(),
        }
    }

    /// The AWS error code, when AWS refused a call.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The process exit code: 2 for usage and config errors, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage { .. } | Error::Credentials { .. } => 2,
            Error::Publish(err) if err.is_usage() => 2,
            _ => 1,
        }
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a failure of the code's own making (an SDK builder refusing what the
/// code built) into [`Error::Internal`], naming what was being built.
pub trait Built<T> {
    fn built(self, what: &str) -> Result<T>;
}

impl<T, E: Display> Built<T> for std::result::Result<T, E> {
    fn built(self, what: &str) -> Result<T> {
        self.map_err(|e| Error::Internal(format!("cannot build {what}: {e}")))
    }
}

/// Adds the step and resource to an SDK error.
pub trait AwsContext<T> {
    fn aws(self, action: &str, resource: impl Display) -> Result<T>;
}

impl<T, E> AwsContext<T> for std::result::Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn aws(self, action: &str, resource: impl Display) -> Result<T> {
        self.map_err(|err| from_sdk(action, resource, &err))
    }
}

/// Reads AWS's "there is no such resource" answer as `None`.
/// (It passes the SDK's own error type through, large as that is.)
#[allow(clippy::result_large_err)]
pub trait OrGone<T, E> {
    /// `Ok(None)` when the service's error satisfies `gone`; other errors pass through.
    fn or_gone(
        self,
        gone: impl FnOnce(&E) -> bool,
    ) -> std::result::Result<Option<T>, SdkError<E, HttpResponse>>;
}

#[allow(clippy::result_large_err)]
impl<T, E> OrGone<T, E> for std::result::Result<T, SdkError<E, HttpResponse>> {
    fn or_gone(
        self,
        gone: impl FnOnce(&E) -> bool,
    ) -> std::result::Result<Option<T>, SdkError<E, HttpResponse>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(err) if err.as_service_error().is_some_and(gone) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Turns an SDK error into an [`Error::Aws`] naming the step and resource.
pub fn from_sdk<E>(action: &str, resource: impl Display, err: &SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(cred) = crate::advice::credentials_error(err) {
        let p = crate::advice::for_credentials(cred);
        return Error::Credentials {
            problem: p.problem,
            fix: p.fix,
        };
    }
    let code = err.code().map(str::to_string);
    let said = match err.code() {
        Some(code) => crate::advice::said(code, err.message()),
        _ => match err {
            SdkError::DispatchFailure(f) if f.is_io() || f.is_timeout() => {
                "could not connect to the AWS endpoint".to_string()
            }
            SdkError::TimeoutError(_) => "the request timed out".to_string(),
            SdkError::ServiceError(e) => format!(
                "HTTP {} without an AWS error in the body (the endpoint may not implement this API)",
                e.raw().status().as_u16()
            ),
            SdkError::ResponseError(e) => format!(
                "HTTP {} with a body that is not an AWS answer (the endpoint may not implement this API)",
                e.raw().status().as_u16()
            ),
            other => causes(other),
        },
    };
    let fix = match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) if code.is_none() => {
            crate::advice::UNREACHABLE.to_string()
        }
        _ => crate::advice::remedy_for(code.as_deref(), err.message()),
    };
    Error::Aws {
        action: action.to_string(),
        resource: resource.to_string(),
        said,
        fix,
        code,
    }
}

/// An error and its causes, each by its `Display` (never the SDK's `Debug`), joined by ": ".
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = e.source();
    }
    out
}

/// The AWS error code of an SDK error, for branching.
pub fn code_of<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.code()
}

impl From<crate::advice::Problem> for Error {
    fn from(p: crate::advice::Problem) -> Self {
        Error::Credentials {
            problem: p.problem,
            fix: p.fix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_exit_1_and_say_they_are_bugs() {
        let err: Result<()> = Err::<(), _>("missing field `name`").built("the stack tag");
        let err = err.unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert_eq!(
            err.to_string(),
            "internal error: cannot build the stack tag: missing field `name`"
        );
        assert!(
            err.report()
                .contains("what to do: this is a bug in colorid")
        );
    }

    #[test]
    fn the_fix_is_its_own_field_and_printed_once_on_its_own_line() {
        let err = Error::usage_fix("the file is missing.", "create it");
        assert_eq!(err.to_string(), "the file is missing.");
        assert_eq!(err.fix(), Some("create it"));
        assert_eq!(
            err.report(),
            "the file is missing.\n  what to do: create it"
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(Error::usage("bad").report(), "bad");
    }

    #[test]
    fn publish_errors_keep_their_kind_and_exit_code() {
        let settings = PublishError::InvalidSettings(Vec::new());
        let err = Error::from(settings);
        assert!(matches!(
            err,
            Error::Publish(PublishError::InvalidSettings(_))
        ));
        assert_eq!(err.exit_code(), 2);
        let guard = Error::from(PublishError::DeleteGuard {
            bucket: "b".into(),
            count: 3,
            limit: 1,
        });
        assert_eq!(guard.exit_code(), 1);
        assert!(
            guard
                .report()
                .contains("what to do: check that the site directory")
        );
    }
}
