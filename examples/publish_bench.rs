//! Publishes a directory to a bucket on an S3-compatible endpoint, for scripts/bench-publish.
//!
//! Usage: publish_bench [floor|puts|checked] ENDPOINT BUCKET SITE_DIR
//! Prints the report's summary line; exits non-zero on failure. With `floor`, only
//! what no no-op publish can avoid: walk the folder (one stat per file) and GET the
//! manifest, in the same process set-up. With `puts`, only what no first upload can
//! avoid: one bare PUT per file (no hashing, no checksum, no manifest), 32 at a time,
//! publish's default concurrency: what the server allows any client. With `checked`,
//! the same but every body carries the CRC32 the SDK sends by default
//! (`RequestChecksumCalculation::WhenSupported`), and a file from publish's default
//! multipart threshold goes as a multipart upload created for CRC32 parts (parts of
//! the threshold's size, 4 at a time): what the server allows any client whose
//! uploads it checks.

use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use colorid::publish::{PublishOptions, PublishSettings, PublishTarget, publish};
use futures::{StreamExt, TryStreamExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=colorid=debug prints the publish phases with their elapsed times.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.first().map(String::as_str) {
        Some(m @ ("floor" | "puts" | "checked")) => m.to_string(),
        _ => String::new(),
    };
    if !mode.is_empty() {
        args.remove(0);
    }
    let [endpoint, bucket, site_dir] = args.as_slice() else {
        return Err("usage: publish_bench [floor|puts|checked] ENDPOINT BUCKET SITE_DIR".into());
    };
    let checked = mode == "checked";
    let credentials = Credentials::new("testing", "testing", None, None, "bench");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .request_checksum_calculation(if checked {
                RequestChecksumCalculation::WhenSupported
            } else {
                RequestChecksumCalculation::WhenRequired
            })
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build(),
    );
    let cloudfront = aws_sdk_cloudfront::Client::from_conf(
        aws_sdk_cloudfront::Config::builder()
            .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .build(),
    );
    if mode == "puts" || checked {
        let files = files(site_dir.into()).await?;
        let count = files.len();
        let threshold = PublishSettings::default().multipart_threshold_bytes();
        futures::stream::iter(files)
            .map(|(key, path)| {
                let s3 = &s3;
                async move {
                    if checked {
                        let size = std::fs::metadata(&path)?.len();
                        if size >= threshold {
                            return checked_multipart(s3, bucket, &key, &path, size, threshold)
                                .await;
                        }
                    }
                    let body = ByteStream::from_path(&path).await?;
                    s3.put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(body)
                        .send()
                        .await?;
                    Ok::<_, Box<dyn std::error::Error>>(())
                }
            })
            .buffer_unordered(32)
            .try_collect::<()>()
            .await?;
        println!("put {count} files");
        return Ok(());
    }
    if mode == "floor" {
        let (files, manifest) = tokio::join!(walk(site_dir.into()), async {
            let object = s3
                .get_object()
                .bucket(bucket)
                .key(colorid::publish::MANIFEST_KEY)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(object.body.collect().await?.into_bytes().len())
        });
        println!("walked {} files, manifest {} bytes", files?, manifest?);
        return Ok(());
    }
    let target = PublishTarget {
        s3,
        cloudfront,
        bucket: bucket.clone(),
        // `aws s3 sync` does not invalidate either; compare like with like.
        distribution_id: None,
        site_dir: site_dir.into(),
        generated: Vec::new(),
    };
    let settings = PublishSettings::default();
    let report = publish(&target, &settings, &PublishOptions::default(), &|_| {}).await?;
    println!("{}", report.summary_line());
    Ok(())
}

/// One file as a multipart upload created for CRC32 parts: parts of `part` bytes
/// streamed from disk, 4 at a time (the client takes their CRC32s), completed with
/// their ETags and CRC32s.
async fn checked_multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
    size: u64,
    part: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await?;
    let upload_id = created.upload_id().unwrap_or_default();
    let parts: Vec<CompletedPart> = futures::stream::iter(1..=size.div_ceil(part))
        .map(|number| async move {
            let offset = (number - 1) * part;
            let body = ByteStream::read_from()
                .path(path)
                .offset(offset)
                .length(Length::Exact(part.min(size - offset)))
                .build()
                .await?;
            let sent = s3
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number as i32)
                .body(body)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error>>(
                CompletedPart::builder()
                    .part_number(number as i32)
                    .set_e_tag(sent.e_tag)
                    .set_checksum_crc32(sent.checksum_crc32)
                    .build(),
            )
        })
        .buffered(4)
        .try_collect()
        .await?;
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

/// Counts the files under `dir`, with one stat each, off the async runtime.
async fn walk(dir: std::path::PathBuf) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(
        tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
            let (mut dirs, mut files) = (vec![dir], 0);
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    let meta = entry.metadata()?;
                    if meta.is_dir() {
                        dirs.push(entry.path());
                    } else {
                        files += usize::from(meta.len() < u64::MAX);
                    }
                }
            }
            Ok(files)
        })
        .await??,
    )
}

/// Every file under `dir` with its key, for the bare-PUT floor.
async fn files(
    dir: std::path::PathBuf,
) -> Result<Vec<(String, std::path::PathBuf)>, Box<dyn std::error::Error>> {
    Ok(
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<_>> {
            let (mut dirs, mut files) = (vec![dir.clone()], Vec::new());
            while let Some(d) = dirs.pop() {
                for entry in std::fs::read_dir(d)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        dirs.push(path);
                    } else if let Ok(key) = path.strip_prefix(&dir) {
                        files.push((key.to_string_lossy().into_owned(), path));
                    }
                }
            }
            Ok(files)
        })
        .await??,
    )
}
