//! Objects as S3 keeps them, where the emulator does not: a body that does not match
//! the checksum it was sent with is refused, a multipart upload takes part checksums
//! only of the algorithm it was created with, and an object stored with SSE-KMS has
//! an ETag that is not the MD5 of its body.
//!
//! Checksums: "When you upload an object, you can optionally include a precalculated
//! checksum as part of your request. Amazon S3 compares the provided checksum to the
//! checksum that it calculates by using your specified algorithm. If the two values
//! don't match, Amazon S3 reports an error" (checking-object-integrity.html); the
//! error is 400 BadDigest, "The Content-MD5 or checksum value that you specified did
//! not match what the server received" (API/ErrorResponses.html). The emulator
//! checks neither Content-MD5 nor `x-amz-checksum-crc32`.
//!
//! Multipart: a part's checksum algorithm "must be the same for all parts and it
//! match the checksum value supplied in the CreateMultipartUpload request"
//! (API_UploadPart.html; S3 answers 400 InvalidRequest "Checksum Type mismatch
//! occurred, expected checksum Type: null, actual checksum Type: crc32"), and a
//! completion lists each part's checksum when "the multipart upload request was
//! created with the CRC32 checksum algorithm" (API_CompletedPart.html; else 400
//! InvalidRequest "The upload was created using a crc32 checksum. The complete
//! request must include the checksum for each part."). The emulator checks neither.
//!
//! ETags: objects "encrypted by SSE-C or SSE-KMS, have ETags that are not an MD5
//! digest of their object data" (API/API_Object.html); the emulator answers the MD5
//! for every single-part object. The layer answers, for an object the emulator
//! reports as `aws:kms`, another 32-digit ETag (the MD5 of a tag and the MD5), the
//! same in every answer that names the object: PutObject, HeadObject, GetObject,
//! CopyObject and ListObjectsV2.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use base64::Engine;
use md5::Digest;

use super::{Before, Realism, Rule, Seen, blocks, s3_error, xml_value};

pub const CHECKSUM_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html";
pub const MULTIPART_SOURCE: &str =
    "https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html";
pub const KMS_ETAG_SOURCE: &str = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html";

/// What the layer remembers of objects.
#[derive(Default)]
pub struct Objects {
    /// `bucket/key` of objects stored with SSE-KMS.
    kms: HashSet<String>,
    /// `bucket/key` whose next PutObject body arrives with one bit flipped.
    damaged: HashSet<String>,
    /// Multipart upload id → the checksum algorithm it was created with (lowercase).
    uploads: HashMap<String, Option<String>>,
}

/// The checksum algorithm a part carries (lowercase), in a header or announced for a
/// trailer.
fn part_checksum(headers: &HeaderMap) -> Option<String> {
    let named = headers.keys().find_map(|k| {
        let alg = k.as_str().strip_prefix("x-amz-checksum-")?;
        (!matches!(alg, "algorithm" | "type" | "mode")).then(|| alg.to_string())
    });
    named
        .or_else(|| header(headers, "x-amz-sdk-checksum-algorithm").map(str::to_lowercase))
        .or_else(|| {
            header(headers, "x-amz-trailer")
                .and_then(|t| t.strip_prefix("x-amz-checksum-"))
                .map(str::to_lowercase)
        })
}

/// A query's value of `name`.
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// The `bucket/key` a path-style object request names (percent-decoded), if any.
fn object_of(path: &str) -> Option<String> {
    let (bucket, key) = path.trim_start_matches('/').split_once('/')?;
    (!key.is_empty()).then(|| format!("{bucket}/{}", percent_decoded(key)))
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The ETag the layer gives an SSE-KMS object whose body has MD5 `md5` (hex).
fn kms_etag(md5: &str) -> String {
    hex::encode(md5::Md5::digest(format!("sse-kms:{md5}")))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Realism {
    /// The next PutObject of `key` in `bucket` arrives damaged (a flaky network).
    pub fn damage_next_put(&self, bucket: &str, key: &str) {
        self.world
            .lock()
            .unwrap()
            .objects
            .damaged
            .insert(format!("{bucket}/{key}"));
    }

    /// An UploadPart whose checksum is not of its upload's algorithm, or a completion
    /// of an upload created with an algorithm that leaves out a part's checksum: 400
    /// InvalidRequest.
    pub(super) fn s3_multipart_checksums(&self, seen: &Seen<'_>, body: &Bytes) -> Before {
        let Some(upload) = query_value(seen.query, "uploadId") else {
            return Before::Forward;
        };
        if !self.on(Rule::S3MultipartChecksums) {
            return Before::Forward;
        }
        let Some(declared) = self
            .world
            .lock()
            .unwrap()
            .objects
            .uploads
            .get(upload)
            .cloned()
        else {
            return Before::Forward;
        };
        let refused = if seen.method == Method::PUT
            && !seen.headers.contains_key("x-amz-copy-source")
        {
            match part_checksum(seen.headers) {
                Some(sent) if declared.as_deref() != Some(sent.as_str()) => Some(format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {sent}",
                    declared.as_deref().unwrap_or("null")
                )),
                _ => None,
            }
        } else if seen.method == Method::POST
            && let Some(alg) = &declared
        {
            let text = String::from_utf8_lossy(body);
            let tag = format!("Checksum{}", alg.to_uppercase());
            blocks(&text, "Part")
                .into_iter()
                .find(|part| xml_value(part, &tag).is_none())
                .map(|part| format!(
                    "The upload was created using a {alg} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                    xml_value(part, "PartNumber").unwrap_or("1")
                ))
        } else {
            None
        };
        let Some(message) = refused else {
            return Before::Forward;
        };
        self.hit(Rule::S3MultipartChecksums);
        Before::Answer(s3_error(400, "InvalidRequest", &message))
    }

    /// Remembers the checksum algorithm a CreateMultipartUpload declared.
    pub(super) fn s3_upload_created(&self, seen: &Seen<'_>, status: StatusCode, body: &Bytes) {
        if seen.method != Method::POST || !status.is_success() || !seen.query.starts_with("uploads")
        {
            return;
        }
        let text = String::from_utf8_lossy(body);
        if let Some(id) = xml_value(&text, "UploadId") {
            let declared = header(seen.headers, "x-amz-checksum-algorithm").map(str::to_lowercase);
            self.world
                .lock()
                .unwrap()
                .objects
                .uploads
                .insert(id.to_string(), declared);
        }
    }

    /// A PutObject or UploadPart whose body does not match the Content-MD5 or
    /// `x-amz-checksum-crc32` it was sent with: 400 BadDigest.
    pub(super) fn s3_checksum(&self, seen: &Seen<'_>, body: &mut Bytes) -> Before {
        let Some(object) = object_of(seen.path) else {
            return Before::Forward;
        };
        if seen.method != Method::PUT || seen.headers.contains_key("x-amz-copy-source") {
            return Before::Forward;
        }
        if self.world.lock().unwrap().objects.damaged.remove(&object) && !body.is_empty() {
            let mut bytes = body.to_vec();
            bytes[0] ^= 1;
            *body = Bytes::from(bytes);
        }
        // A body in aws-chunked encoding carries its checksum in a trailer, not here.
        let chunked = header(seen.headers, "content-encoding")
            .is_some_and(|e| e.contains("aws-chunked"))
            || seen.headers.contains_key("x-amz-decoded-content-length");
        if chunked || !self.on(Rule::S3ChecksumChecked) {
            return Before::Forward;
        }
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let md5_ok = header(seen.headers, "content-md5")
            .is_none_or(|sent| sent == b64(&md5::Md5::digest(&body[..])));
        let crc_ok = header(seen.headers, "x-amz-checksum-crc32")
            .is_none_or(|sent| sent == b64(&crc32fast::hash(body).to_be_bytes()));
        if md5_ok && crc_ok {
            return Before::Forward;
        }
        self.hit(Rule::S3ChecksumChecked);
        Before::Answer(s3_error(
            400,
            "BadDigest",
            "The Content-MD5 or checksum value you specified did not match what we received.",
        ))
    }

    /// Gives objects the emulator stored as `aws:kms` an ETag that is not their MD5,
    /// in every answer that names one.
    pub(super) fn s3_kms_etags(
        &self,
        seen: &Seen<'_>,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: &mut Bytes,
    ) {
        if !status.is_success() || !self.on(Rule::S3KmsEtagNotMd5) {
            return;
        }
        let kms = header(headers, "x-amz-server-side-encryption") == Some("aws:kms");
        match object_of(seen.path) {
            Some(object) if seen.query.is_empty() || seen.query.starts_with("x-id=") => {
                let mut w = self.world.lock().unwrap();
                let known = &mut w.objects.kms;
                match *seen.method {
                    Method::PUT if kms => known.insert(object),
                    Method::PUT | Method::DELETE => known.remove(&object),
                    _ => false,
                };
                drop(w);
                if kms {
                    self.kms_etag_in(headers, body);
                }
            }
            None if seen.method == Method::GET && seen.query.contains("list-type=2") => {
                self.kms_etags_listed(seen.path, body);
            }
            _ => {}
        }
    }

    /// Rewrites the single-part ETag of an answer about one SSE-KMS object: its
    /// header, or the `<ETag>` of a CopyObject result.
    fn kms_etag_in(&self, headers: &mut HeaderMap, body: &mut Bytes) {
        if let Some(etag) = header(headers, "etag")
            && let Some(md5) = md5_in(etag)
        {
            let value = etag.replacen(md5, &kms_etag(md5), 1);
            headers.insert("etag", HeaderValue::from_str(&value).unwrap());
            self.hit(Rule::S3KmsEtagNotMd5);
        }
        let text = String::from_utf8_lossy(body).into_owned();
        if let Some(md5) = xml_value(&text, "ETag").and_then(md5_in) {
            *body = Bytes::from(text.replacen(md5, &kms_etag(md5), 1));
            self.hit(Rule::S3KmsEtagNotMd5);
        }
    }

    /// Rewrites the ETags of the SSE-KMS objects in a ListObjectsV2 page.
    fn kms_etags_listed(&self, path: &str, body: &mut Bytes) {
        let bucket = path.trim_matches('/');
        let text = String::from_utf8_lossy(body).into_owned();
        let mut rewritten = text.clone();
        let mut hits = 0;
        {
            let w = self.world.lock().unwrap();
            for contents in blocks(&text, "Contents") {
                let (Some(key), Some(md5)) = (
                    xml_value(contents, "Key"),
                    xml_value(contents, "ETag").and_then(md5_in),
                ) else {
                    continue;
                };
                if w.objects.kms.contains(&format!("{bucket}/{key}")) {
                    let new_contents = contents.replacen(md5, &kms_etag(md5), 1);
                    rewritten = rewritten.replacen(contents, &new_contents, 1);
                    hits += 1;
                }
            }
        }
        for _ in 0..hits {
            self.hit(Rule::S3KmsEtagNotMd5);
        }
        if hits > 0 {
            *body = Bytes::from(rewritten);
        }
    }
}

/// The MD5 a single-part ETag spells, quoted as `"…"` or `&quot;…&quot;`.
fn md5_in(etag: &str) -> Option<&str> {
    let inner = etag
        .trim_matches('"')
        .trim_start_matches("&quot;")
        .trim_end_matches("&quot;");
    (inner.len() == 32 && inner.bytes().all(|b| b.is_ascii_hexdigit())).then_some(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_named_by_bucket_and_decoded_key() {
        assert_eq!(
            object_of("/b/a%20b/c.html").as_deref(),
            Some("b/a b/c.html")
        );
        assert_eq!(object_of("/b"), None);
        assert_eq!(object_of("/b/"), None);
        assert_eq!(percent_decoded("%E2%9C%93%zz"), "✓%zz");
    }

    #[test]
    fn a_kms_etag_is_32_digits_and_not_the_md5() {
        let md5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";
        assert_eq!(kms_etag(md5).len(), 32);
        assert_ne!(kms_etag(md5), md5);
        assert_eq!(kms_etag(md5), kms_etag(md5));
        assert_eq!(md5_in(&format!("\"{md5}\"")), Some(md5));
        assert_eq!(md5_in(&format!("&quot;{md5}&quot;")), Some(md5));
        assert_eq!(md5_in(&format!("\"{md5}-2\"")), None);
    }
}
