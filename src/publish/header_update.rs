//! Header-only changes: an object copied onto itself with its new headers and the
//! same body. CopyObject copies at most 5 GiB, so a larger object is copied in parts
//! (UploadPartCopy) with its new headers set on the multipart upload.

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::types::MetadataDirective;

use super::diff::Change;
use super::error::{AwsFailure, PublishError};
use super::manifest::ObjectRecord;
use super::multipart::{SentPart, multipart, part_size};
use super::remote::{MD5_METADATA, unquote};

/// The largest object CopyObject copies in one request: "You can create a copy of your
/// object up to 5 GB in size in a single atomic action" (API_CopyObject).
pub const COPY_OBJECT_MAX: u64 = 5 * 1024 * 1024 * 1024;

/// The least size of each copied part (S3 allows 5 MiB to 5 GiB, at most 10,000 parts).
const PART: u64 = 512 * 1024 * 1024;

/// Rewrites an object's headers in place (CopyObject onto itself, metadata replaced;
/// in parts over [`COPY_OBJECT_MAX`]).
pub(crate) async fn update_headers(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
) -> Result<ObjectRecord, PublishError> {
    let file = &change.file;
    let md5 = file.md5.unwrap_or_default();
    if file.size > COPY_OBJECT_MAX {
        let etag = update_headers_in_parts(s3, bucket, change).await?;
        return Ok(change.written(etag, file.size, md5));
    }
    let key = &file.key;
    let output = s3
        .copy_object()
        .bucket(bucket)
        .key(key)
        .copy_source(copy_source(bucket, key))
        .metadata_directive(MetadataDirective::Replace)
        .content_type(&*change.headers.content_type)
        .cache_control(&*change.headers.cache_control)
        .metadata(MD5_METADATA, file.md5_hex())
        .send()
        .await
        .map_err(|e| failure(bucket, key, AwsFailure::of(&e)))?;
    let etag = output
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .map(unquote)
        .unwrap_or_default();
    Ok(change.written(etag, file.size, md5))
}

fn failure(bucket: &str, key: &str, f: AwsFailure) -> PublishError {
    PublishError::UpdateHeaders {
        bucket: bucket.to_string(),
        key: key.to_string(),
        aws: f.aws,
        hint: f.hint,
    }
}

/// The byte ranges (`bytes=first-last`, inclusive) of the parts of an object of `size`.
pub fn part_ranges(size: u64) -> Vec<String> {
    let part = part_size(size, PART);
    (0..size.div_ceil(part))
        .map(|i| {
            let first = i * part;
            let last = (first + part).min(size) - 1;
            format!("bytes={first}-{last}")
        })
        .collect()
}

/// Rewrites the headers of an object over [`COPY_OBJECT_MAX`] by a multipart copy onto
/// itself; returns the new ETag.
async fn update_headers_in_parts(
    s3: &S3Client,
    bucket: &str,
    change: &Change,
) -> Result<String, PublishError> {
    let key = &change.file.key;
    let fail = |f| failure(bucket, key, f);
    let source = &copy_source(bucket, key);
    let ranges = &part_ranges(change.file.size);
    let md5_hex = change.file.md5_hex();
    multipart(
        s3,
        bucket,
        change,
        md5_hex,
        ranges.len() as u64,
        false,
        fail,
        |upload_id, number| async move {
            let copied = s3
                .upload_part_copy()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(source)
                .copy_source_range(&ranges[number as usize - 1])
                .send()
                .await
                .map_err(|e| failure(bucket, key, AwsFailure::of(&e)))?;
            Ok(SentPart {
                etag: copied.copy_part_result.and_then(|r| r.e_tag),
                crc32: None,
            })
        },
    )
    .await
}

/// The CopySource of an object: its bucket and its key percent-encoded, keeping `/`.
/// `*` is encoded too.
fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = String::with_capacity(bucket.len() + 1 + key.len());
    out.push_str(bucket);
    out.push('/');
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
    use crate::publish::headers::ObjectHeaders;
    use crate::publish::local_file::{LocalFile, Source};
    use aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput;
    use aws_sdk_s3::operation::create_multipart_upload::CreateMultipartUploadOutput;
    use aws_sdk_s3::operation::upload_part_copy::UploadPartCopyOutput;
    use aws_sdk_s3::types::CopyPartResult;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[test]
    fn copy_source_encodes_everything_but_unreserved_and_slash() {
        assert_eq!(
            copy_source("b", "docs/a b/ü*.html"),
            "b/docs/a%20b/%C3%BC%2A.html"
        );
        assert_eq!(copy_source("b", "a-b_c.~d/e"), "b/a-b_c.~d/e");
    }

    #[test]
    fn parts_cover_the_object_exactly_within_s3_limits() {
        let six = 6 * 1024 * 1024 * 1024;
        let r = part_ranges(six);
        assert_eq!(r.len(), 12);
        assert_eq!(r[0], "bytes=0-536870911");
        assert_eq!(r[11], format!("bytes={}-{}", 11 * PART, six - 1));
        let huge = 5 * 1024 * 1024 * 1024 * 1024; // S3's largest object, 5 TiB
        let r = part_ranges(huge);
        assert!(
            r.len() as u64 <= crate::publish::multipart::MAX_PARTS,
            "{}",
            r.len()
        );
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
        let record = update_headers(&s3, "b", &change).await.unwrap();
        assert_eq!(record.etag, "abc-12");
        assert_eq!(record.md5, hex::encode([7; 16]));
        assert_eq!(create.num_calls(), 1);
        assert_eq!(part.num_calls(), 12);
        assert_eq!(complete.num_calls(), 1);
    }
}
