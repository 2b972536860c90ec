//! One multipart upload from start to end, whatever its parts carry (bytes of a
//! file, or ranges of an object copied onto itself): created with the object's
//! headers and `md5` metadata, its parts sent a few at a time, completed, and
//! aborted when any step fails, since an unfinished upload keeps costing storage.
//!
//! Parts that carry bytes carry their CRC32 too. S3 takes a part's checksum only when
//! the upload was created with that algorithm ("This checksum algorithm must be the
//! same for all parts and it match the checksum value supplied in the
//! CreateMultipartUpload request", API_UploadPart.html; else 400 InvalidRequest
//! "Checksum Type mismatch"), and then wants each part's checksum again in the
//! completion ("This checksum is present if the multipart upload request was created
//! with the CRC32 checksum algorithm", API_CompletedPart.html).

use std::future::Future;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use futures::{StreamExt, TryStreamExt};

use super::diff::Change;
use super::error::{AwsFailure, PublishError};
use super::remote::{MD5_METADATA, unquote};

/// Parts of one object in flight at once (objects themselves also go in parallel).
const PART_CONCURRENCY: usize = 4;
/// S3 allows at most this many parts per upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

/// The size of each part of an object of `size` bytes: `least`, or more when
/// `least` would need more than [`MAX_PARTS`] parts.
pub(crate) fn part_size(size: u64, least: u64) -> u64 {
    least.max(size.div_ceil(MAX_PARTS))
}

/// What S3 answered for one part: its ETag, and the CRC32 it was sent with, if any.
#[derive(Debug, Default)]
pub(crate) struct SentPart {
    pub etag: Option<String>,
    pub crc32: Option<String>,
}

/// Writes `change`'s object in `parts` parts with its new headers and `md5_hex` as
/// its `md5` metadata; returns the object's ETag. `send_part(upload_id, number)`
/// sends part `number` (from 1); with `crc32` the upload is created for parts that
/// carry their CRC32. `fail` names the failure.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn multipart<F, Fut>(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
    md5_hex: String,
    parts: u64,
    crc32: bool,
    fail: impl Fn(AwsFailure) -> PublishError,
    send_part: F,
) -> Result<String, PublishError>
where
    F: Fn(String, i32) -> Fut,
    Fut: Future<Output = Result<SentPart, PublishError>>,
{
    let key = &change.file.key;
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, md5_hex)
        .set_checksum_algorithm(crc32.then_some(ChecksumAlgorithm::Crc32))
        .send()
        .await
        .map_err(|e| fail(AwsFailure::of(&e)))?;
    let upload_id = created.upload_id().unwrap_or_default().to_string();
    let sent: Result<Vec<CompletedPart>, PublishError> = futures::stream::iter(1..=parts)
        .map(|number| {
            let number = number as i32;
            let sent = send_part(upload_id.clone(), number);
            async move {
                let sent = sent.await?;
                Ok(CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(sent.etag)
                    .set_checksum_crc32(sent.crc32)
                    .build())
            }
        })
        .buffered(PART_CONCURRENCY)
        .try_collect()
        .await;
    let completed = match sent {
        Ok(parts) => s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| fail(AwsFailure::of(&e))),
        Err(e) => Err(e),
    };
    match completed {
        Ok(output) => Ok(unquote(output.e_tag().unwrap_or_default())),
        Err(e) => {
            if let Err(abort) = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!("could not abort multipart upload {upload_id} of {key}: {abort}");
            }
            Err(e)
        }
    }
}
