//! What the bucket holds: the publish manifest (and whether the publish that wrote
//! it finished), a listing when the manifest cannot be trusted, and HEAD for the few
//! objects the manifest cannot vouch for.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use futures::stream::FuturesUnordered;
use futures::{StreamExt, TryStreamExt};
use md5::Digest;
use serde::{Deserialize, Serialize};

use super::error::{AwsFailure, PublishError};

/// Where the manifest lives. The dotted prefix keeps it out of any site walk, and
/// publish never deletes or invalidates it.
pub const MANIFEST_KEY: &str = ".colorid/manifest.json";
/// The folder publish keeps to itself: only the manifest lives there, which is read
/// directly, so the listing does not descend into it. The bucket policy keeps
/// CloudFront out of it.
pub const PRIVATE_PREFIX: &str = ".colorid/";
/// Written before a publish's first change to the bucket and deleted once its
/// manifest is written: while it exists, the manifest may not record everything in
/// the bucket (a publish died between its uploads and its manifest), so the next
/// publish lists the bucket instead of trusting the manifest.
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

/// What publish knows about one published object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    pub etag: String,
    pub md5: String,
    /// Body length; vouches for the record where a listing carries no ETag.
    #[serde(default)]
    pub size: u64,
    /// The local file's modification time (ns since the epoch) when its MD5 was taken;
    /// 0 when unknown. Equal size and time let the next publish skip reading the file.
    #[serde(default)]
    pub mtime_ns: u64,
    /// Shared by every record of the same headers (a site has few distinct ones).
    pub content_type: Arc<str>,
    pub cache_control: Arc<str>,
}

/// The bucket's record of the last publish, written at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub version: u32,
    /// Counts publishes that changed something; part of each invalidation's caller reference.
    pub generation: u64,
    /// When the publish that wrote it started (ns since the epoch); records whose file
    /// time is not clearly older are read again. 0 in manifests from before times.
    #[serde(default)]
    pub started_ns: u64,
    pub objects: BTreeMap<String, ObjectRecord>,
    /// Paths whose invalidation failed last time, retried by the next publish.
    #[serde(default)]
    pub pending_invalidation: Vec<String>,
}

/// The same client without the SDK's default CRC32 request and response checksums.
///
/// Publish already guards every body with MD5: each PUT sends Content-MD5 (S3 refuses
/// a body that does not match) and the `md5` metadata, and the plan compares MD5s.
/// The default checksums would add another pass over every body and, on plain-HTTP
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

/// Reads the manifest: `None` when there is none or it cannot be read (nothing is
/// vouched for then, and the bucket must be listed).
pub(crate) async fn read_manifest(
    s3: &S3Client,
    bucket: &str,
) -> Result<Option<Manifest>, PublishError> {
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
        Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
        Err(e) => return Err(failure(AwsFailure::of(&e))),
    };
    let body = output.body.collect().await.map_err(|e| {
        failure(AwsFailure {
            aws: e.to_string(),
            hint: "run publish again".to_string(),
        })
    })?;
    match decode_manifest(&body.into_bytes()) {
        Ok(manifest) => Ok(Some(manifest)),
        Err(e) => {
            tracing::warn!(
                "ignoring unreadable {MANIFEST_KEY} in {bucket}: {e}; every object will be checked"
            );
            Ok(None)
        }
    }
}

/// The manifest as stored (version 2): one JSON array per object, and the few
/// distinct header pairs once, by index; an MD5 equal to the ETag is left out. At
/// 50,000 files that is about half the JSON of one object per record (version 1,
/// still read), and half the time to read it back.
#[derive(Serialize, Deserialize)]
struct StoredManifest {
    version: u32,
    generation: u64,
    started_ns: u64,
    /// (Content-Type, Cache-Control) pairs.
    headers: Vec<(Arc<str>, Arc<str>)>,
    /// In key order.
    objects: Vec<StoredRecord>,
    pending_invalidation: Vec<String>,
}

/// key, ETag, MD5 ("" when equal to the ETag), size, file time, index in `headers`.
#[derive(Serialize, Deserialize)]
struct StoredRecord(String, String, String, u64, u64, usize);

const STORED_VERSION: u32 = 2;

impl StoredManifest {
    fn of(manifest: &Manifest) -> Self {
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        let mut headers = Vec::new();
        let objects = manifest
            .objects
            .iter()
            .map(|(key, r)| {
                let pair = (&*r.content_type, &*r.cache_control);
                let at = *index.entry(pair).or_insert_with(|| {
                    headers.push((r.content_type.clone(), r.cache_control.clone()));
                    headers.len() - 1
                });
                let md5 = if r.md5 == r.etag { "" } else { &r.md5 };
                StoredRecord(
                    key.clone(),
                    r.etag.clone(),
                    md5.to_string(),
                    r.size,
                    r.mtime_ns,
                    at,
                )
            })
            .collect();
        Self {
            version: STORED_VERSION,
            generation: manifest.generation,
            started_ns: manifest.started_ns,
            headers,
            objects,
            pending_invalidation: manifest.pending_invalidation.clone(),
        }
    }

    fn into_manifest(self) -> std::io::Result<Manifest> {
        let headers = self.headers;
        if let Some(StoredRecord(key, .., at)) = self.objects.iter().find(|r| r.5 >= headers.len())
        {
            return Err(std::io::Error::other(format!(
                "{key}: no headers at index {at}"
            )));
        }
        let mut objects = Vec::with_capacity(self.objects.len());
        for StoredRecord(key, etag, md5, size, mtime_ns, at) in self.objects {
            let (content_type, cache_control) = headers[at].clone();
            let md5 = if md5.is_empty() { etag.clone() } else { md5 };
            let record = ObjectRecord {
                etag,
                md5,
                size,
                mtime_ns,
                content_type,
                cache_control,
            };
            objects.push((key, record));
        }
        Ok(Manifest {
            version: 1,
            generation: self.generation,
            started_ns: self.started_ns,
            // Stored in key order: the map is built in one pass.
            objects: BTreeMap::from_iter(objects),
            pending_invalidation: self.pending_invalidation,
        })
    }
}

/// The manifest's bytes: gzipped JSON (plain JSON from colorid before 0.x is read too).
/// Gzip takes a 50,000-file manifest from about 5 MB to about 2 MB.
fn encode_manifest(manifest: &Manifest) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(&StoredManifest::of(manifest))?;
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(json.len() / 3),
        flate2::Compression::fast(),
    );
    gz.write_all(&json)?;
    gz.finish()
}

fn decode_manifest(bytes: &[u8]) -> std::io::Result<Manifest> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return decode_json(bytes);
    }
    // A gzip member ends with the plain length (mod 2^32): one allocation, no regrowth.
    let plain = bytes
        .last_chunk::<4>()
        .map_or(0, |n| u32::from_le_bytes(*n) as usize);
    let mut json = Vec::with_capacity(plain.clamp(bytes.len(), 64 * bytes.len()) + 1);
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut json)?;
    decode_json(&json)
}

/// Version 2 as `encode_manifest` writes it (its `version` first), else version 1.
fn decode_json(json: &[u8]) -> std::io::Result<Manifest> {
    let stored = format!("{{\"version\":{STORED_VERSION},");
    if json.starts_with(stored.as_bytes()) {
        serde_json::from_slice::<StoredManifest>(json)?.into_manifest()
    } else {
        Ok(serde_json::from_slice(json)?)
    }
}

/// Writes the manifest; it is not site content, so nobody should cache it.
pub(crate) async fn write_manifest(
    s3: &S3Client,
    bucket: &str,
    manifest: &Manifest,
) -> Result<(), PublishError> {
    let body = encode_manifest(manifest).map_err(|e| PublishError::Internal(e.to_string()))?;
    put_private(s3, bucket, MANIFEST_KEY, "application/gzip", body).await
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
        .or_else(|| (!etag.contains('-')).then(|| etag.clone()))
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
    fn manifest_round_trips_and_tolerates_missing_pending() {
        let json = r#"{"version":1,"generation":3,"objects":{"a.html":{"etag":"e","md5":"m","content_type":"text/html","cache_control":"no-cache"}}}"#;
        let manifest: Manifest = serde_json::from_str(json).unwrap();
        assert_eq!(manifest.generation, 3);
        assert!(manifest.pending_invalidation.is_empty());
        let again = decode_manifest(&encode_manifest(&manifest).unwrap()).unwrap();
        assert_eq!(again, manifest);
        assert_eq!(decode_manifest(json.as_bytes()).unwrap(), manifest);
        assert_eq!(unquote("\"abc-2\""), "abc-2");
    }

    #[test]
    fn stored_manifest_shares_headers_and_leaves_out_md5s_equal_to_etags() {
        let record = |etag: &str, md5: &str, content_type: &str| ObjectRecord {
            etag: etag.into(),
            md5: md5.into(),
            size: 4,
            mtime_ns: 17,
            content_type: content_type.into(),
            cache_control: "no-cache".into(),
        };
        let manifest = Manifest {
            version: 1,
            generation: 9,
            started_ns: 5,
            objects: BTreeMap::from([
                ("a.html".into(), record("aa", "aa", "text/html")),
                ("b.html".into(), record("bb", "bb", "text/html")),
                ("big.mp4".into(), record("cc-2", "dd", "video/mp4")),
            ]),
            pending_invalidation: vec!["/a.html".into()],
        };
        let bytes = encode_manifest(&manifest).unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut json)
            .unwrap();
        assert!(json.starts_with(r#"{"version":2,"#), "{json}");
        assert!(json.contains(r#"["a.html","aa","",4,17,0]"#), "{json}");
        assert!(json.contains(r#"["big.mp4","cc-2","dd",4,17,1]"#), "{json}");
        assert_eq!(json.matches("no-cache").count(), 2, "{json}");
        assert_eq!(decode_manifest(&bytes).unwrap(), manifest);
        // An index past the table is an unreadable manifest, not a panic.
        let broken = json.replace(r#"4,17,1]"#, r#"4,17,7]"#);
        assert!(decode_manifest(broken.as_bytes()).is_err());
    }
}
