//! Changing the bucket: PUT (multipart when large), header-only CopyObject, batched deletes.

use std::path::Path;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, MetadataDirective, ObjectIdentifier,
};
use base64::Engine;
use futures::{StreamExt, TryStreamExt};
use md5::Digest;

use super::diff::Change;
use super::error::{AwsFailure, PublishError};
use super::remote::{MD5_METADATA, ObjectRecord, unquote};
use super::walk::Source;

/// DeleteObjects takes at most this many keys per request.
const DELETE_BATCH: usize = 1000;
/// Parts of one large file in flight at once (files themselves also go in parallel).
const PART_CONCURRENCY: usize = 4;
/// S3 allows at most this many parts per upload.
const MAX_PARTS: u64 = 10_000;

/// Turns an AWS failure into the upload error for one key.
fn upload_failure<'a>(
    bucket: &'a str,
    key: &'a str,
) -> impl Fn(AwsFailure) -> PublishError + Copy + 'a {
    move |f| PublishError::Upload {
        bucket: bucket.to_string(),
        key: key.to_string(),
        aws: f.aws,
        hint: f.hint,
    }
}

/// Files up to this size are read once into memory, hashed from that read and sent from
/// it; larger ones stream from disk, hashed first when their MD5 is not known yet. With
/// `concurrency` uploads in flight this bounds the bodies held to `concurrency` MiB.
const IN_MEMORY_MAX: u64 = 1024 * 1024;

/// Uploads one file and returns what the bucket now holds for it.
pub(crate) async fn upload(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
    multipart_threshold: u64,
    site_dir: &Path,
) -> Result<ObjectRecord, PublishError> {
    let file = &change.file;
    let path = &site_dir.join(&file.key);
    let fail = upload_failure(bucket, &file.key);
    let (body, size, md5) = match &file.source {
        Source::Generated(bytes) => {
            let md5: [u8; 16] = md5::Md5::digest(bytes).into();
            (ByteStream::from(bytes.clone()), bytes.len() as u64, md5)
        }
        Source::Site if file.size <= IN_MEMORY_MAX => {
            let (bytes, md5) = blocking(path, read_and_hash)
                .await
                .map_err(|e| fail(io_failure(e)))?;
            let size = bytes.len() as u64;
            (ByteStream::from(bytes), size, md5)
        }
        Source::Site => {
            let (size, md5) = match file.md5 {
                Some(md5) => (file.size, md5),
                None => blocking(path, |p| {
                    super::walk::hash_file(p, &mut vec![0u8; 256 * 1024])
                        .map_err(|e| std::io::Error::other(e.to_string()))
                })
                .await
                .map_err(|e| fail(io_failure(e)))?,
            };
            if size >= multipart_threshold {
                let etag =
                    upload_multipart(s3, bucket, change, path, size, md5, multipart_threshold)
                        .await?;
                return Ok(record(change, etag, size, md5));
            }
            let body = ByteStream::read_from()
                .path(path)
                .length(Length::Exact(size))
                .build()
                .await
                .map_err(|e| fail(io_failure(e)))?;
            (body, size, md5)
        }
    };
    let output = s3
        .put_object()
        .bucket(bucket)
        .key(&file.key)
        .body(body)
        .content_md5(base64::engine::general_purpose::STANDARD.encode(md5))
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, hex::encode(md5))
        .send()
        .await
        .map_err(|e| fail(AwsFailure::of(&e)))?;
    Ok(record(
        change,
        unquote(output.e_tag().unwrap_or_default()),
        size,
        md5,
    ))
}

/// Runs file work off the async runtime.
async fn blocking<T: Send + 'static>(
    path: &std::path::Path,
    work: fn(&std::path::Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || work(&path))
        .await
        .map_err(std::io::Error::other)?
}

/// The whole file and its MD5, from one read.
fn read_and_hash(path: &std::path::Path) -> std::io::Result<(Vec<u8>, [u8; 16])> {
    let bytes = std::fs::read(path)?;
    let md5 = md5::Md5::digest(&bytes).into();
    Ok((bytes, md5))
}

async fn upload_multipart(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
    path: &std::path::Path,
    size: u64,
    md5: [u8; 16],
    threshold: u64,
) -> Result<String, PublishError> {
    let file = &change.file;
    let fail = upload_failure(bucket, &file.key);
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(&file.key)
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, hex::encode(md5))
        .send()
        .await
        .map_err(|e| fail(AwsFailure::of(&e)))?;
    let upload_id = created.upload_id().unwrap_or_default().to_string();
    let part_size = threshold.max(size.div_ceil(MAX_PARTS));
    let parts = size.div_ceil(part_size);
    let uploaded: Result<Vec<CompletedPart>, PublishError> = futures::stream::iter(0..parts)
        .map(|i| {
            let upload_id = &upload_id;
            async move {
                let offset = i * part_size;
                let length = part_size.min(size - offset);
                let body = ByteStream::read_from()
                    .path(path)
                    .offset(offset)
                    .length(Length::Exact(length))
                    .build()
                    .await
                    .map_err(|e| fail(io_failure(e)))?;
                let part_number = i as i32 + 1;
                let output = s3
                    .upload_part()
                    .bucket(bucket)
                    .key(&file.key)
                    .upload_id(upload_id)
                    .part_number(part_number)
                    .body(body)
                    // The client skips the SDK's CRC32 because whole-object PUTs carry
                    // Content-MD5; a part streams from disk unhashed, so let the SDK
                    // checksum it on the way out.
                    .customize()
                    .config_override(
                        aws_sdk_s3::Config::builder().request_checksum_calculation(
                            RequestChecksumCalculation::WhenSupported,
                        ),
                    )
                    .send()
                    .await
                    .map_err(|e| fail(AwsFailure::of(&e)))?;
                Ok(CompletedPart::builder()
                    .part_number(part_number)
                    .set_e_tag(output.e_tag)
                    .build())
            }
        })
        .buffered(PART_CONCURRENCY)
        .try_collect()
        .await;
    let completed = match uploaded {
        Ok(parts) => s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(&file.key)
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
            // Unfinished uploads keep costing storage until aborted.
            if let Err(abort) = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(&file.key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(
                    "could not abort multipart upload {upload_id} of {}: {abort}",
                    file.key
                );
            }
            Err(e)
        }
    }
}

/// Rewrites an object's headers in place (CopyObject onto itself, metadata replaced).
pub(crate) async fn update_headers(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
) -> Result<ObjectRecord, PublishError> {
    let key = &change.file.key;
    if change.file.size > super::large_copy::COPY_OBJECT_MAX {
        let etag = super::large_copy::update_headers_in_parts(s3, bucket, change).await?;
        let file = &change.file;
        return Ok(record(
            change,
            etag,
            file.size,
            file.md5.unwrap_or_default(),
        ));
    }
    let output = s3
        .copy_object()
        .bucket(bucket)
        .key(key)
        .copy_source(format!("{bucket}/{}", encode_path(key)))
        .metadata_directive(MetadataDirective::Replace)
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, change.file.md5_hex())
        .send()
        .await
        .map_err(|e| {
            let f = AwsFailure::of(&e);
            PublishError::UpdateHeaders {
                bucket: bucket.to_string(),
                key: key.clone(),
                aws: f.aws,
                hint: f.hint,
            }
        })?;
    let etag = output
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .map(unquote)
        .unwrap_or_default();
    let file = &change.file;
    Ok(record(
        change,
        etag,
        file.size,
        file.md5.unwrap_or_default(),
    ))
}

/// Deletes keys in batches of 1,000, `concurrency` batches at once.
pub(crate) async fn delete_keys(
    s3: &S3Client,
    bucket: &str,
    keys: &[String],
    concurrency: usize,
) -> Result<(), PublishError> {
    futures::stream::iter(keys.chunks(DELETE_BATCH))
        .map(|batch| delete_batch(s3, bucket, batch))
        .buffer_unordered(concurrency)
        .try_collect()
        .await
}

async fn delete_batch(s3: &S3Client, bucket: &str, keys: &[String]) -> Result<(), PublishError> {
    let fail = |key: &str, aws: String, hint: String| PublishError::Delete {
        bucket: bucket.to_string(),
        key: key.to_string(),
        aws,
        hint,
    };
    let objects = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(k).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PublishError::Internal(e.to_string()))?;
    let failed = crate::delete_objects::delete_all(s3, bucket, objects)
        .await
        .map_err(|e| {
            let f = AwsFailure::of(&*e);
            fail(
                &format!("{} files starting with {}", keys.len(), keys[0]),
                f.aws,
                f.hint,
            )
        })?;
    // DeleteObjects succeeds as a whole and reports failures per key; passing ones were retried.
    if let Some(error) = failed.first() {
        return Err(fail(
            &error.key,
            format!("{}: {}", error.code, error.message),
            format!(
                "{} of {} deletions failed; run publish again",
                failed.len(),
                keys.len()
            ),
        ));
    }
    Ok(())
}

/// What the bucket holds after a write of `size` bytes with `md5`. The file's time is
/// kept only if the size read is the size the walk saw (otherwise it changed meanwhile).
fn record(change: &Change, etag: String, size: u64, md5: [u8; 16]) -> ObjectRecord {
    let file = &change.file;
    let unchanged_since_walk = size == file.size && file.md5.is_none_or(|m| m == md5);
    ObjectRecord {
        etag,
        md5: hex::encode(md5),
        size,
        mtime_ns: if unchanged_since_walk {
            file.mtime_ns
        } else {
            0
        },
        content_type: change.headers.content_type.clone(),
        cache_control: change.headers.cache_control.clone(),
    }
}

fn io_failure(e: impl std::fmt::Display) -> AwsFailure {
    AwsFailure {
        aws: format!("could not read the file: {e}"),
        hint: "check that the file exists and is readable, then run publish again".to_string(),
    }
}

/// Percent-encodes a key for use in a URL path, keeping `/` (CopySource, CloudFront paths).
/// `*` is encoded too, so a key can never become a CloudFront wildcard.
pub(crate) fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_and_slash() {
        assert_eq!(encode_path("docs/a b/ü*.html"), "docs/a%20b/%C3%BC%2A.html");
        assert_eq!(encode_path("a-b_c.~d/e"), "a-b_c.~d/e");
    }
}
