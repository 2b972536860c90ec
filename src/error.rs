//! The library's error type: one variant per kind of failure, each printed
//! once at the top with what to do next.

use std::fmt::Display;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::config::ConfigError;

/// A failed run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stack file is unreadable or invalid (exit code 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The command line or environment is unusable (exit code 2).
    #[error("{0}")]
    Usage(String),
    /// AWS refused or failed a call.
    #[error("failed to {action} {resource}: {said}\n  what to do: {remedy}")]
    Aws {
        action: String,
        resource: String,
        /// The error code (when AWS sent one) and its message.
        said: String,
        remedy: String,
        code: Option<String>,
    },
    /// The local AWS set-up gives no usable credentials (exit code 2).
    #[error("{problem}\n  what to do: {fix}")]
    Credentials { problem: String, fix: String },
    /// Another run holds the stack's lock.
    #[error(
        "stack {stack} is locked by {holder} since {since}.\n  what to do: wait for that run to finish; if it died (killed, crashed), run again with --force-unlock"
    )]
    Locked {
        stack: String,
        holder: String,
        since: String,
    },
    /// A wait ran past its bound.
    #[error("{what} did not finish within {seconds} s.\n  what to do: {remedy}")]
    Timeout {
        what: String,
        seconds: u64,
        remedy: String,
    },
    /// The account holds something that conflicts with the stack.
    #[error("{0}")]
    Conflict(String),
    /// The user declined or the run was interrupted.
    #[error("{0}")]
    Aborted(String),
    /// Publishing the site failed (the message names the step and file).
    #[error("{0}")]
    Publish(String),
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
            Error::Config(_) | Error::Usage(_) | Error::Credentials { .. } => 2,
            _ => 1,
        }
    }

    /// The AWS error code, when this is an AWS failure.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => code.as_deref(),
            _ => None,
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
                "could not connect to the AWS endpoint (with --local: is the emulator running? scripts/demo starts it)".to_string()
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
    Error::Aws {
        action: action.to_string(),
        resource: resource.to_string(),
        said,
        remedy: crate::advice::remedy_for(code.as_deref(), err.message()),
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
