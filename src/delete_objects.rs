//! S3 DeleteObjects with its per-key failures retried. The call answers 200
//! as a whole and lists, per key, what it could not delete
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>);
//! a key that failed for a passing reason is sent again, a bounded number of
//! times, and what still fails is returned for the caller to report.

use std::time::Duration;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsError;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// How often a key that failed for a passing reason is sent again.
const ATTEMPTS: u32 = 5;

/// A key S3 did not delete.
#[derive(Debug, Clone)]
pub struct KeyFailure {
    pub key: String,
    pub code: String,
    pub message: String,
}

/// Per-key codes worth another try: S3's own transient failures.
fn passing(code: &str) -> bool {
    matches!(
        code,
        "InternalError" | "SlowDown" | "ServiceUnavailable" | "OperationAborted"
    )
}

/// Why a batch could not be sent at all.
pub type DeleteError = SdkError<DeleteObjectsError, HttpResponse>;

/// Deletes `objects` (at most 1,000), quietly; returns the keys that still failed.
pub async fn delete_all(
    s3: &S3Client,
    bucket: &str,
    mut objects: Vec<ObjectIdentifier>,
) -> Result<Vec<KeyFailure>, Box<DeleteError>> {
    let mut failed = Vec::new();
    for attempt in 0..ATTEMPTS {
        if objects.is_empty() {
            break;
        }
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
        let delete = Delete::builder()
            .set_objects(Some(objects.clone()))
            .quiet(true)
            .build()
            .expect("a Delete with its objects set builds");
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(Box::new)?;
        let mut again = Vec::new();
        for e in out.errors() {
            let failure = KeyFailure {
                key: e.key().unwrap_or_default().to_string(),
                code: e.code().unwrap_or("error").to_string(),
                message: e.message().unwrap_or_default().to_string(),
            };
            let retry = passing(&failure.code) && attempt + 1 < ATTEMPTS;
            if retry
                && let Some(o) = objects
                    .iter()
                    .find(|o| o.key() == failure.key && o.version_id() == e.version_id())
            {
                again.push(o.clone());
            } else {
                failed.push(failure);
            }
        }
        objects = again;
    }
    Ok(failed)
}
