//! What can go wrong while publishing, said so a person knows what to do next.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::settings::SettingsProblem;

/// A failed publish: which step, which key or bucket, what AWS said; what to do
/// is [`PublishError::fix`].
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("invalid [publish] settings: {}", describe_problems(.0))]
    InvalidSettings(Vec<SettingsProblem>),
    #[error("cannot read {path}: {source}")]
    ReadSite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the site file name {path:?} is not valid UTF-8 and cannot be an S3 key")]
    NonUtf8Path { path: PathBuf },
    #[error("failed to list bucket {bucket}: {aws}")]
    List {
        bucket: String,
        aws: String,
        hint: String,
    },
    #[error("failed to read {key} in bucket {bucket}: {aws}")]
    Head {
        bucket: String,
        key: String,
        aws: String,
        hint: String,
    },
    #[error("failed to upload {key} to bucket {bucket}: {aws}")]
    Upload {
        bucket: String,
        key: String,
        aws: String,
        hint: String,
    },
    #[error("failed to update the headers of {key} in bucket {bucket}: {aws}")]
    UpdateHeaders {
        bucket: String,
        key: String,
        aws: String,
        hint: String,
    },
    #[error("failed to delete {key} from bucket {bucket}: {aws}")]
    Delete {
        bucket: String,
        key: String,
        aws: String,
        hint: String,
    },
    #[error("refusing to delete {count} files from bucket {bucket} (the limit is {limit})")]
    DeleteGuard {
        bucket: String,
        count: usize,
        limit: usize,
    },
    #[error("failed to write the publish manifest {key} to bucket {bucket}: {aws}")]
    WriteManifest {
        bucket: String,
        key: String,
        aws: String,
        hint: String,
    },
    #[error("failed to invalidate {paths} paths in CloudFront distribution {distribution}: {aws}")]
    Invalidate {
        distribution: String,
        paths: usize,
        aws: String,
        hint: String,
    },
    #[error(
        "invalidation {id} of distribution {distribution} was still in progress after {}s \
         (the files are published)",
        .waited.as_secs()
    )]
    InvalidationTimeout {
        distribution: String,
        id: String,
        waited: Duration,
    },
    #[error("internal error while publishing: {0}")]
    Internal(String),
}

impl PublishError {
    /// What to do about it.
    pub fn fix(&self) -> Option<&str> {
        match self {
            PublishError::InvalidSettings(_) => None,
            PublishError::ReadSite { .. } => {
                Some("check that the site directory exists and is readable")
            }
            PublishError::NonUtf8Path { .. } => Some("rename the file"),
            PublishError::List { hint, .. }
            | PublishError::Head { hint, .. }
            | PublishError::Upload { hint, .. }
            | PublishError::UpdateHeaders { hint, .. }
            | PublishError::Delete { hint, .. }
            | PublishError::WriteManifest { hint, .. }
            | PublishError::Invalidate { hint, .. } => Some(hint),
            PublishError::DeleteGuard { .. } => Some(
                "check that the site directory is the right one, then run again with --force to \
                 delete them, or with --no-delete to publish without deleting anything",
            ),
            PublishError::InvalidationTimeout { .. } => {
                Some("check it later with `aws cloudfront get-invalidation`")
            }
            PublishError::Internal(_) => {
                Some("this is a bug in colorid: run again with -vv and report the output")
            }
        }
    }

    /// True when the input (the settings, the site's file names) is at fault,
    /// not AWS or the network: the CLI exits with 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            PublishError::InvalidSettings(_) | PublishError::NonUtf8Path { .. }
        )
    }
}

fn describe_problems(problems: &[SettingsProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {} ({})", p.field, p.message, p.hint))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What AWS said about a failed call, and what the user can do about it.
pub(crate) struct AwsFailure {
    pub aws: String,
    pub hint: String,
}

impl AwsFailure {
    pub(crate) fn of<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let hint = match err {
            SdkError::ServiceError(_) => hint_for_code(err.code(), err.message()),
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                crate::advice::UNREACHABLE.to_string()
            }
            _ => "run again with -v for details".to_string(),
        };
        Self {
            aws: describe(err),
            hint,
        }
    }
}

/// `Code: message` for service errors (short and what AWS said); the whole error
/// chain for the rest (timeouts, connection failures).
fn describe<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (err, err.code()) {
        (SdkError::ServiceError(_), Some(code)) => match err.message() {
            Some(message) => format!("{code}: {message}"),
            None => code.to_string(),
        },
        _ => DisplayErrorContext(err).to_string(),
    }
}

/// The shared advice for the code ([`crate::advice`]), else a publish's own.
fn hint_for_code(code: Option<&str>, message: Option<&str>) -> String {
    code.and_then(|c| crate::advice::for_code(c, message))
        .unwrap_or_else(|| {
            "run again with -v for details; files already published will not be uploaded again"
                .to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::settings::PublishSettings;

    #[test]
    fn delete_guard_names_count_and_both_flags() {
        let err = PublishError::DeleteGuard {
            bucket: "b".into(),
            count: 120,
            limit: 100,
        };
        let text = format!("{err} {}", err.fix().unwrap_or_default());
        for needle in ["120 files", "bucket b", "--force", "--no-delete"] {
            assert!(text.contains(needle), "{text}");
        }
    }

    #[test]
    fn settings_error_lists_fields() {
        let settings = PublishSettings {
            concurrency: 0,
            fold_threshold: 0,
            ..Default::default()
        };
        let text = PublishError::InvalidSettings(settings.validate()).to_string();
        assert!(
            text.contains("publish.concurrency") && text.contains("publish.fold_threshold"),
            "{text}"
        );
    }

    #[test]
    fn hints_branch_on_codes() {
        assert!(hint_for_code(Some("NoSuchBucket"), None).contains("colorid up"));
        assert!(hint_for_code(Some("SlowDown"), None).contains("concurrency"));
        assert!(hint_for_code(None, None).contains("-v"));
    }
}
