//! How a PUT guards a body whose MD5 is not known yet, and what its answer tells of
//! that MD5.
//!
//! Such a body (a new file, read whole to be sent) goes with its CRC32
//! (`x-amz-checksum-crc32`, which S3 checks like Content-MD5: a body that does not
//! match is refused with BadDigest) rather than its MD5, and the MD5 the manifest
//! and the next plan need is the answer's ETag: S3 documents it as the MD5 of the
//! body for an object made by PutObject and stored as plaintext or with SSE-S3
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html>: objects
//! "encrypted by SSE-S3 or plaintext, have ETags that are an MD5 digest of their
//! object data"; "encrypted by SSE-C or SSE-KMS, have ETags that are not"). CRC32
//! runs on the CPU's carry-less multiply, several times faster than MD5, so a first
//! upload spends its client CPU on sending rather than hashing (issue 28).
//!
//! When an answer says the object is stored another way (SSE-KMS, DSSE-KMS, SSE-C)
//! or its ETag is not 32 hex digits, the MD5 is computed from the bytes still held,
//! the body is sent again with Content-MD5 and the `md5` metadata (so a HEAD can
//! tell its MD5 when a later publish lists the bucket), and every later body of the
//! run goes that way ([`EtagDigests`]). A bucket whose manifest already shows such an
//! object starts that way.
//!
//! An ETag taken wrongly for the MD5 (a server that keeps another ETag and says
//! nothing of it) can only cost an upload: no file's real MD5 equals it, so the next
//! publish that reads the file uploads it again; it never makes one look unchanged.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_s3::types::ServerSideEncryption;
use base64::Engine;

use super::manifest::Manifest;
use super::md5_hex;

/// The `x-amz-checksum-crc32` value of a body whose CRC32 is `crc`: big-endian, in
/// base64.
pub(crate) fn crc32_base64(crc: u32) -> String {
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}

/// The body's MD5, if an answer about a single-part object (its ETag, unquoted, and
/// its `x-amz-server-side-encryption`; `customer_key` when it names an SSE-C
/// algorithm) gives it.
pub(crate) fn md5_of_etag(
    etag: &str,
    encryption: Option<&ServerSideEncryption>,
    customer_key: bool,
) -> Option<[u8; 16]> {
    let plain_or_s3 = matches!(encryption, None | Some(ServerSideEncryption::Aes256));
    if !plain_or_s3 || customer_key {
        return None;
    }
    md5_hex::parse(etag)
}

/// Whether this run's answers may be trusted for MD5s: true until one shows an
/// object stored in a way whose ETag is not its MD5.
#[derive(Debug)]
pub(crate) struct EtagDigests(AtomicBool);

impl EtagDigests {
    /// Trusted unless the manifest records a single-part object whose ETag is not its
    /// MD5 (a multipart ETag holds a `-`).
    pub(crate) fn for_bucket(manifest: &Manifest) -> EtagDigests {
        let seen_other = manifest
            .objects
            .values()
            .any(|r| !r.etag.contains('-') && !r.etag.eq_ignore_ascii_case(&r.md5));
        EtagDigests(AtomicBool::new(!seen_other))
    }

    pub(crate) fn trusted(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// An answer's ETag was not the MD5: the rest of the run sends MD5s.
    pub(crate) fn distrust(&self) {
        if self.0.swap(false, Ordering::Relaxed) {
            tracing::info!(
                "the bucket stores objects with ETags that are not their MD5 (SSE-KMS or SSE-C): \
                 bodies go with Content-MD5 and md5 metadata from here on"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::manifest::ObjectRecord;

    #[test]
    fn crc32_is_base64_of_the_big_endian_sum() {
        // CRC32 of "hello world" is 0x0d4a1185 (the check value S3's own examples use).
        assert_eq!(crc32_base64(crc32fast::hash(b"hello world")), "DUoRhQ==");
        assert_eq!(crc32_base64(crc32fast::hash(b"")), "AAAAAA==");
    }

    #[test]
    fn only_plaintext_and_sse_s3_etags_are_md5s() {
        let etag = "5eb63bbbe01eeed093cb22bb8f5acdc3";
        let md5 = md5_hex::parse(etag);
        assert!(md5.is_some());
        assert_eq!(md5_of_etag(etag, None, false), md5);
        assert_eq!(
            md5_of_etag(etag, Some(&ServerSideEncryption::Aes256), false),
            md5
        );
        assert_eq!(
            md5_of_etag(etag, Some(&ServerSideEncryption::AwsKms), false),
            None
        );
        assert_eq!(
            md5_of_etag(etag, Some(&ServerSideEncryption::AwsKmsDsse), false),
            None
        );
        assert_eq!(md5_of_etag(etag, None, true), None, "SSE-C");
        assert_eq!(md5_of_etag("abc-2", None, false), None, "multipart");
        assert_eq!(md5_of_etag("", None, false), None);
        assert_eq!(
            md5_of_etag(etag, Some(&ServerSideEncryption::from("new")), false),
            None,
            "an encryption this build does not know"
        );
    }

    #[test]
    fn a_manifest_showing_another_etag_starts_distrusted() {
        let record = |etag: &str, md5: &str| ObjectRecord {
            etag: etag.into(),
            md5: md5.into(),
            size: 1,
            mtime_ns: 0,
            content_type: "text/html".into(),
            cache_control: "no-cache".into(),
        };
        let mut manifest = Manifest::default();
        assert!(EtagDigests::for_bucket(&manifest).trusted());
        let md5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";
        manifest.objects.insert("a".into(), record(md5, md5));
        manifest.objects.insert("big".into(), record("ff-3", md5));
        assert!(EtagDigests::for_bucket(&manifest).trusted());
        manifest.objects.insert(
            "kms".into(),
            record("0123456789abcdef0123456789abcdef", md5),
        );
        let digests = EtagDigests::for_bucket(&manifest);
        assert!(!digests.trusted());
        let fresh = EtagDigests::for_bucket(&Manifest::default());
        fresh.distrust();
        assert!(!fresh.trusted());
    }
}
