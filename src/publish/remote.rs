//! Reading what the bucket holds and publish's own objects in it: the manifest
//! (and the mark of a publish that did not finish), a listing when the manifest
//! cannot be trusted, and HEAD for the few objects the manifest cannot vouch for.

use std::collections::BTreeMap;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};
use md5::Digest;

use super::error::{AwsFailure, PublishError};
use super::manifest::{Incoming, Manifest, ObjectRecord, encode_manifest};
use super::put_digest::md5_of_etag;

/// Where the manifest lives. The dotted prefix keeps it out of any site walk, and
/// publish never deletes or invalidates it. The name is the first version's: the
/// body is packed binary now (see `manifest`), and every earlier form is still read
/// from the same key.
pub const MANIFEST_KEY: &str = ".colorid/manifest.json";
/// The folder publish keeps to itself: only the manifest lives there, which is read
/// directly, so the listing does not descend into it. The bucket policy keeps
/// CloudFront out of it.
pub const PRIVATE_PREFIX: &str = ".colorid/";
/// Written before a publish's first change to a bucket that holds a manifest, and
/// deleted once its own manifest is written: while it exists, the manifest may not
/// record everything in the bucket (a publish died between its uploads and its
/// manifest), so the next publish lists the bucket instead of trusting the manifest.
pub const UNFINISHED_KEY: &str = ".colorid/unfinished";
/// User metadata (`x-amz-meta-md5`) holding the hex MD5 of the whole body.
pub(crate) const MD5_METADATA: &str = "md5";

/// One object as ListObjectsV2 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// ETag without quotes: the MD5 for single-part uploads, `<hash>-<parts>` for multipart.
    pub etag: String,
    pub size: u64,
}

/// The same client without the SDK's default CRC32 request and response checksums.
///
/// Publish already guards every body itself: each PUT sends Content-MD5 or, for a body
/// read whole, its CRC32 (S3 refuses a body that does not match either), and the plan
/// compares MD5s. The SDK's checksums would add another pass over every body and, on plain-HTTP
/// endpoints, aws-chunked uploads with a signature per chunk. Operations whose
/// model requires a checksum (DeleteObjects) still get one.
pub(crate) fn md5_checked(s3: &S3Client) -> S3Client {
    let config = s3
        .config()
        .to_builder()
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    S3Client::from_conf(config)
}

/// Lists every object in the bucket, leaving out the manifest.
///
/// The bucket is walked like a directory tree: ListObjectsV2 with delimiter `/` on
/// the root names its objects and its top-level prefixes, each prefix is listed the
/// same way, and up to `concurrency` listings run at once. Every key is still listed
/// exactly once (under the prefix it sits directly in), but a large site takes a few
/// round trips in parallel instead of one sequential page per 1,000 keys, and
/// file-system backed servers scan one directory per request, not the whole bucket.
pub(crate) async fn list_objects(
    s3: &S3Client,
    bucket: &str,
    concurrency: usize,
) -> Result<BTreeMap<String, Listed>, PublishError> {
    let mut listed = BTreeMap::new();
    let mut waiting = vec![String::new()];
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < concurrency.max(1)
            && let Some(prefix) = waiting.pop()
        {
            running.push(list_prefix(s3, bucket, prefix));
        }
        let Some(result) = running.next().await else {
            break;
        };
        let (objects, prefixes) = result?;
        listed.extend(objects);
        waiting.extend(prefixes);
    }
    Ok(listed)
}

/// The objects directly under `prefix` and the prefixes one level below it (all pages).
async fn list_prefix(
    s3: &S3Client,
    bucket: &str,
    prefix: String,
) -> Result<(Vec<(String, Listed)>, Vec<String>), PublishError> {
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .delimiter("/")
        .set_prefix((!prefix.is_empty()).then(|| prefix.clone()))
        .into_paginator()
        .send();
    let (mut objects, mut prefixes) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let f = AwsFailure::of(&e);
            PublishError::List {
                bucket: bucket.to_string(),
                aws: f.aws,
                hint: f.hint,
            }
        })?;
        for object in page.contents() {
            let Some(key) = object.key() else { continue };
            if key == MANIFEST_KEY {
                continue;
            }
            objects.push((
                key.to_string(),
                Listed {
                    etag: unquote(object.e_tag().unwrap_or_default()),
                    size: object.size().unwrap_or_default().max(0) as u64,
                },
            ));
        }
        // Only strictly deeper prefixes: a server that echoed the prefix back would
        // otherwise make the walk loop forever.
        prefixes.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .filter(|p| p.len() > prefix.len() && p.starts_with(prefix.as_str()))
                .filter(|p| *p != PRIVATE_PREFIX)
                .map(str::to_string),
        );
    }
    Ok((objects, prefixes))
}

/// What the bucket holds at [`MANIFEST_KEY`].
pub(crate) enum StoredManifest {
    /// Nothing: no publish has finished in this bucket.
    Absent,
    /// A manifest this run cannot read (damaged, or of another format).
    Unreadable,
    Read(Manifest),
}

impl StoredManifest {
    /// The manifest, when one could be read: otherwise nothing is vouched for, and
    /// the bucket must be listed.
    pub(crate) fn read(self) -> Option<Manifest> {
        match self {
            StoredManifest::Read(manifest) => Some(manifest),
            StoredManifest::Absent | StoredManifest::Unreadable => None,
        }
    }
}

/// Reads the manifest.
pub(crate) async fn read_manifest(
    s3: &S3Client,
    bucket: &str,
) -> Result<StoredManifest, PublishError> {
    let failure = |f: AwsFailure| PublishError::Head {
        bucket: bucket.to_string(),
        key: MANIFEST_KEY.to_string(),
        aws: f.aws,
        hint: f.hint,
    };
    let output = match s3
        .get_object()
        .bucket(bucket)
        .key(MANIFEST_KEY)
        .send()
        .await
    {
        Ok(output) => output,
        Err(e) if e.code() == Some("NoSuchKey") => return Ok(StoredManifest::Absent),
        Err(e) => return Err(failure(AwsFailure::of(&e))),
    };
    let stored = output
        .content_length()
        .map_or(0, |n| usize::try_from(n).unwrap_or(0));
    let mut incoming = Incoming::new(stored);
    let mut body = output.body;
    let mut unreadable = None;
    while let Some(chunk) = body.try_next().await.map_err(|e| {
        failure(AwsFailure {
            aws: e.to_string(),
            hint: "run publish again".to_string(),
        })
    })? {
        if let Err(e) = incoming.push(&chunk) {
            unreadable = Some(e);
            break;
        }
    }
    tracing::debug!(bytes = stored, "publish: manifest fetched");
    match unreadable.map_or_else(|| incoming.finish(), Err) {
        Ok(manifest) => Ok(StoredManifest::Read(manifest)),
        Err(e) => {
            tracing::warn!(
                "ignoring unreadable {MANIFEST_KEY} in {bucket}: {e}; every object will be checked"
            );
            Ok(StoredManifest::Unreadable)
        }
    }
}

/// Writes the manifest; it is not site content, so nobody should cache it.
pub(crate) async fn write_manifest(
    s3: &S3Client,
    bucket: &str,
    manifest: &Manifest,
) -> Result<(), PublishError> {
    let body = encode_manifest(manifest);
    put_private(s3, bucket, MANIFEST_KEY, "application/octet-stream", body).await
}

/// Whether a publish began changing the bucket and did not write its manifest.
pub(crate) async fn unfinished(s3: &S3Client, bucket: &str) -> Result<bool, PublishError> {
    match s3
        .head_object()
        .bucket(bucket)
        .key(UNFINISHED_KEY)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(e) => {
            let f = AwsFailure::of(&e);
            Err(PublishError::Head {
                bucket: bucket.to_string(),
                key: UNFINISHED_KEY.to_string(),
                aws: f.aws,
                hint: f.hint,
            })
        }
    }
}

/// Marks the bucket as being changed (see [`UNFINISHED_KEY`]).
pub(crate) async fn mark_unfinished(s3: &S3Client, bucket: &str) -> Result<(), PublishError> {
    put_private(s3, bucket, UNFINISHED_KEY, "text/plain", Vec::new()).await
}

/// Clears the mark once the manifest records the bucket again.
pub(crate) async fn clear_unfinished(s3: &S3Client, bucket: &str) -> Result<(), PublishError> {
    s3.delete_object()
        .bucket(bucket)
        .key(UNFINISHED_KEY)
        .send()
        .await
        .map_err(|e| private_write_failed(bucket, UNFINISHED_KEY, AwsFailure::of(&e)))?;
    Ok(())
}

/// Writes one of publish's own objects under [`PRIVATE_PREFIX`], never cached.
async fn put_private(
    s3: &S3Client,
    bucket: &str,
    key: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(), PublishError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .cache_control("no-store")
        .content_md5(base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body)))
        .body(ByteStream::from(body))
        // Guarded by its Content-MD5, like the site's bodies (see upload::upload).
        .customize()
        .disable_payload_signing()
        .send()
        .await
        .map_err(|e| private_write_failed(bucket, key, AwsFailure::of(&e)))?;
    Ok(())
}

fn private_write_failed(bucket: &str, key: &str, f: AwsFailure) -> PublishError {
    PublishError::WriteManifest {
        bucket: bucket.to_string(),
        key: key.to_string(),
        aws: f.aws,
        hint: f.hint,
    }
}

/// HEADs objects the manifest does not vouch for, `concurrency` at a time.
pub(crate) async fn head_objects(
    s3: &S3Client,
    bucket: &str,
    keys: Vec<String>,
    concurrency: usize,
) -> Result<BTreeMap<String, ObjectRecord>, PublishError> {
    futures::stream::iter(keys)
        .map(|key| async move {
            let record = head_object(s3, bucket, &key).await?;
            Ok::<_, PublishError>((key, record))
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await
}

async fn head_object(s3: &S3Client, bucket: &str, key: &str) -> Result<ObjectRecord, PublishError> {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            let f = AwsFailure::of(&e);
            PublishError::Head {
                bucket: bucket.to_string(),
                key: key.to_string(),
                aws: f.aws,
                hint: f.hint,
            }
        })?;
    let etag = unquote(head.e_tag().unwrap_or_default());
    let md5 = head
        .metadata()
        .and_then(|m| m.get(MD5_METADATA).cloned())
        .or_else(|| {
            let customer_key = head.sse_customer_algorithm().is_some();
            md5_of_etag(&etag, head.server_side_encryption(), customer_key).map(hex::encode)
        })
        .unwrap_or_default();
    Ok(ObjectRecord {
        etag,
        md5,
        size: head.content_length().unwrap_or_default().max(0) as u64,
        mtime_ns: 0,
        content_type: head.content_type().unwrap_or_default().into(),
        cache_control: head.cache_control().unwrap_or_default().into(),
    })
}

/// Strips the quotes S3 puts around ETags.
pub(crate) fn unquote(etag: &str) -> String {
    etag.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_lose_their_quotes() {
        assert_eq!(unquote("\"abc-2\""), "abc-2");
        assert_eq!(unquote("abc"), "abc");
    }
}
