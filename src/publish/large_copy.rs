//! A header-only change to an object over 5 GiB: CopyObject copies at most 5 GiB,
//! so the object is copied onto itself in parts (UploadPartCopy) with its new
//! headers set on the multipart upload.

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::{StreamExt, TryStreamExt};

use super::diff::Change;
use super::error::{AwsFailure, PublishError};
use super::remote::{MD5_METADATA, unquote};
use super::upload::encode_path;

/// The largest object CopyObject copies in one request: "You can create a copy of your
/// object up to 5 GB in size in a single atomic action" (API_CopyObject).
pub const COPY_OBJECT_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// The size of each copied part (S3 allows 5 MiB to 5 GiB, at most 10,000 parts).
const PART: u64 = 512 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;
const PART_CONCURRENCY: usize = 4;

/// The byte ranges (`bytes=first-last`, inclusive) of the parts of an object of `size`.
pub fn part_ranges(size: u64) -> Vec<String> {
    let part = PART.max(size.div_ceil(MAX_PARTS));
    (0..size.div_ceil(part))
        .map(|i| {
            let first = i * part;
            let last = (first + part).min(size) - 1;
            format!("bytes={first}-{last}")
        })
        .collect()
}

/// Rewrites the headers of an object over [`COPY_OBJECT_MAX`] by a multipart copy onto
/// itself; returns the new ETag. An unfinished upload is aborted.
pub(crate) async fn update_headers_in_parts(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
) -> Result<String, PublishError> {
    let key = &change.file.key;
    let fail = |e: AwsFailure| PublishError::UpdateHeaders {
        bucket: bucket.to_string(),
        key: key.clone(),
        aws: e.aws,
        hint: e.hint,
    };
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, change.file.md5_hex())
        .send()
        .await
        .map_err(|e| fail(AwsFailure::of(&e)))?;
    let upload_id = created.upload_id().unwrap_or_default().to_string();
    let source = format!("{bucket}/{}", encode_path(key));
    let copied: Result<Vec<CompletedPart>, PublishError> =
        futures::stream::iter(part_ranges(change.file.size).into_iter().enumerate())
            .map(|(i, range)| {
                let (upload_id, source) = (&upload_id, &source);
                async move {
                    let part_number = i as i32 + 1;
                    let out = s3
                        .upload_part_copy()
                        .bucket(bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(part_number)
                        .copy_source(source)
                        .copy_source_range(range)
                        .send()
                        .await
                        .map_err(|e| fail(AwsFailure::of(&e)))?;
                    Ok(CompletedPart::builder()
                        .part_number(part_number)
                        .set_e_tag(out.copy_part_result.and_then(|r| r.e_tag))
                        .build())
                }
            })
            .buffered(PART_CONCURRENCY)
            .try_collect()
            .await;
    let completed = match copied {
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
        Ok(out) => Ok(unquote(out.e_tag().unwrap_or_default())),
        Err(e) => {
            if let Err(abort) = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!("could not abort multipart copy {upload_id} of {key}: {abort}");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::headers::ObjectHeaders;
    use crate::publish::walk::{LocalFile, Source};
    use aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput;
    use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadOutput;
    use aws_sdk_s3::operation::upload_part_copy::UploadPartCopyOutput;
    use aws_sdk_s3::types::CopyPartResult;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[test]
    fn parts_cover_the_object_exactly_within_s3_limits() {
        let six = 6 * 1024 * 1024 * 1024;
        let r = part_ranges(six);
        assert_eq!(r.len(), 12);
        assert_eq!(r[0], "bytes=0-536870911");
        assert_eq!(r[11], format!("bytes={}-{}", 11 * PART, six - 1));
        let huge = 5 * 1024 * 1024 * 1024 * 1024; // S3's largest object, 5 TiB
        let r = part_ranges(huge);
        assert!(r.len() as u64 <= MAX_PARTS, "{}", r.len());
        assert!(r.last().unwrap().ends_with(&format!("-{}", huge - 1)));
    }

    /// A header-only change to a 6 GiB object: one multipart copy of 12 parts, each
    /// UploadPartCopy naming the object itself and its range, then Complete; no CopyObject.
    #[tokio::test]
    async fn an_object_over_5_gib_is_copied_in_parts() {
        let size = 6 * 1024 * 1024 * 1024;
        let create = mock!(aws_sdk_s3::Client::create_multipart_upload)
            .match_requests(|r| {
                r.bucket() == Some("b")
                    && r.key() == Some("big/video.mp4")
                    && r.content_type() == Some("video/mp4")
                    && r.cache_control() == Some("max-age=60")
            })
            .then_output(|| {
                CreateMultipartUploadOutput::builder()
                    .upload_id("u1")
                    .build()
            });
        let part = mock!(aws_sdk_s3::Client::upload_part_copy)
            .match_requests(|r| {
                r.upload_id() == Some("u1")
                    && r.copy_source() == Some("b/big/video.mp4")
                    && r.copy_source_range()
                        .is_some_and(|g| g.starts_with("bytes="))
            })
            .then_output(|| {
                UploadPartCopyOutput::builder()
                    .copy_part_result(CopyPartResult::builder().e_tag("\"p\"").build())
                    .build()
            });
        let complete = mock!(aws_sdk_s3::Client::complete_multipart_upload)
            .match_requests(|r| {
                r.upload_id() == Some("u1")
                    && r.multipart_upload().is_some_and(|m| m.parts().len() == 12)
            })
            .then_output(|| {
                CompleteMultipartUploadOutput::builder()
                    .e_tag("\"abc-12\"")
                    .build()
            });
        let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&create, &part, &complete]);
        let change = Change {
            file: LocalFile {
                key: "big/video.mp4".into(),
                source: Source::Site,
                size,
                mtime_ns: 1,
                md5: Some([7; 16]),
            },
            headers: ObjectHeaders {
                content_type: "video/mp4".into(),
                cache_control: "max-age=60".into(),
            },
            reason: "headers",
            old_md5: None,
        };
        let etag = update_headers_in_parts(&s3, "b", &change).await.unwrap();
        assert_eq!(etag, "abc-12");
        assert_eq!(create.num_calls(), 1);
        assert_eq!(part.num_calls(), 12);
        assert_eq!(complete.num_calls(), 1);
    }
}
