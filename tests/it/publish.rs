//! `colorid::publish` against the moto server: what ends up in the bucket, which
//! requests were made, and which invalidations CloudFront received.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;
use colorid::publish::{
    Action, CacheRule, GeneratedFile, MANIFEST_KEY, PublishError, PublishOptions, PublishReport,
    PublishSettings, PublishTarget, UNFINISHED_KEY, publish,
};

use crate::common;
use crate::common::realism::Rule;

type TestResult = Result<(), Box<dyn Error>>;

// ---- emulator -------------------------------------------------------------------

/// The shared emulator behind the realism proxy, which answers as AWS documents.
fn endpoint() -> String {
    common::endpoint()
}

/// Records `(operation, uri path)` of every S3 request a client sends, and of each
/// PutObject its path, `x-amz-content-sha256` and the checksum guarding its body
/// (`md5` for Content-MD5, `crc32` for `x-amz-checksum-crc32`, else `none`).
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<Vec<(String, String)>>>, Arc<Mutex<Vec<Put>>>);

/// A PutObject's path, `x-amz-content-sha256` and the checksum guarding its body.
type Put = (String, String, &'static str);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        let uri = context.request().uri().to_string();
        let path = uri
            .split("://")
            .nth(1)
            .and_then(|r| r.find('/').map(|i| &r[i..]))
            .unwrap_or(&uri);
        let path = path.split('?').next().unwrap_or_default().to_string();
        if operation == "PutObject" {
            let headers = context.request().headers();
            let signed = headers.get("x-amz-content-sha256").unwrap_or_default();
            let guard = match (
                headers.get("content-md5").is_some(),
                headers.get("x-amz-checksum-crc32").is_some(),
            ) {
                (true, _) => "md5",
                (false, true) => "crc32",
                (false, false) => "none",
            };
            self.1
                .lock()
                .unwrap()
                .push((path.clone(), signed.to_string(), guard));
        }
        self.0.lock().unwrap().push((operation, path));
        Ok(())
    }
}

impl Recorder {
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    fn take_puts(&self) -> Vec<Put> {
        std::mem::take(&mut *self.1.lock().unwrap())
    }
}

fn count(ops: &[(String, String)], operation: &str) -> usize {
    ops.iter().filter(|(op, _)| op == operation).count()
}

/// The operations on the publish's own objects left out: the mark of an unfinished
/// publish (its HEAD, PUT and DELETE; shown by
/// `the_manifest_is_trusted_until_verify_or_an_unfinished_publish` and
/// `changed_renamed_and_reverted_files_touch_only_their_own_paths`).
fn without_mark(ops: Vec<(String, String)>) -> Vec<(String, String)> {
    ops.into_iter()
        .filter(|(_, path)| !path.ends_with(UNFINISHED_KEY))
        .collect()
}

fn paths_of<'a>(ops: &'a [(String, String)], operation: &str) -> Vec<&'a str> {
    ops.iter()
        .filter(|(op, _)| op == operation)
        .map(|(_, p)| p.as_str())
        .collect()
}

/// A bucket, a distribution and a site directory of one test.
struct Fixture {
    target: PublishTarget,
    recorder: Recorder,
    site: tempfile::TempDir,
}

async fn fixture(name: &str) -> Result<Fixture, Box<dyn Error>> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .subsec_nanos();
    let bucket = format!("pub-{name}-{}-{nanos}", std::process::id());
    let credentials = Credentials::new("testing", "testing", None, None, "test");
    let recorder = Recorder::default();
    let s3 = S3Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(endpoint())
            .force_path_style(true)
            .interceptor(recorder.clone())
            .build(),
    );
    let cloudfront = CloudFrontClient::from_conf(
        aws_sdk_cloudfront::Config::builder()
            .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(endpoint())
            .build(),
    );
    s3.create_bucket().bucket(&bucket).send().await?;
    let origin = Origin::builder()
        .id("site")
        .domain_name(format!("{bucket}.s3.us-east-1.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()?;
    let config = DistributionConfig::builder()
        .caller_reference(&bucket)
        .comment(&bucket)
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build()?)
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()?,
        )
        .build()?;
    let created = cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await?;
    let distribution_id = created.distribution().map(|d| d.id().to_string());
    assert!(distribution_id.is_some());
    let site = tempfile::tempdir()?;
    let target = PublishTarget {
        s3,
        cloudfront,
        bucket,
        distribution_id,
        site_dir: site.path().to_path_buf(),
        generated: Vec::new(),
    };
    Ok(Fixture {
        target,
        recorder,
        site,
    })
}

impl Fixture {
    fn write(&self, key: &str, body: impl AsRef<[u8]>) {
        let path = self.site.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::File::create(path).unwrap();
        file.write_all(body.as_ref()).unwrap();
        // A distinct time well in the past: publish trusts size and time only when the
        // time is clear of the publish that recorded it, and the request counts below
        // must not depend on how fast the machine is.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + n);
        file.set_modified(mtime).unwrap();
    }

    fn remove(&self, key: &str) {
        std::fs::remove_file(self.site.path().join(key)).unwrap();
    }

    async fn publish(
        &self,
        settings: &PublishSettings,
        options: PublishOptions,
    ) -> Result<PublishReport, PublishError> {
        self.recorder.take();
        publish(&self.target, settings, &options, &|_| {}).await
    }

    async fn invalidation_count(&self) -> Result<usize, Box<dyn Error>> {
        let listed = self
            .target
            .cloudfront
            .list_invalidations()
            .distribution_id(self.target.distribution_id.as_deref().unwrap())
            .send()
            .await?;
        Ok(listed
            .invalidation_list()
            .map_or(0, |l| l.quantity() as usize))
    }

    async fn invalidated_paths(
        &self,
        report: &PublishReport,
    ) -> Result<Vec<String>, Box<dyn Error>> {
        let id = report
            .summary
            .invalidation_id
            .as_deref()
            .ok_or("no invalidation in report")?;
        let got = self
            .target
            .cloudfront
            .get_invalidation()
            .distribution_id(self.target.distribution_id.as_deref().unwrap())
            .id(id)
            .send()
            .await?;
        let mut paths = got
            .invalidation()
            .unwrap()
            .invalidation_batch()
            .unwrap()
            .paths()
            .unwrap()
            .items()
            .to_vec();
        paths.sort();
        Ok(paths)
    }

    /// Every key in the bucket with its bytes.
    async fn bucket_contents(&self) -> Result<BTreeMap<String, Vec<u8>>, Box<dyn Error>> {
        let s3 = &self.target.s3;
        let listed = s3
            .list_objects_v2()
            .bucket(&self.target.bucket)
            .send()
            .await?;
        let mut contents = BTreeMap::new();
        for object in listed.contents() {
            let key = object.key().unwrap().to_string();
            let body = s3
                .get_object()
                .bucket(&self.target.bucket)
                .key(&key)
                .send()
                .await?
                .body
                .collect()
                .await?;
            contents.insert(key, body.to_vec());
        }
        Ok(contents)
    }

    async fn head_object(&self, key: &str) -> Result<HeadObjectOutput, Box<dyn Error>> {
        Ok(self
            .target
            .s3
            .head_object()
            .bucket(&self.target.bucket)
            .key(key)
            .send()
            .await?)
    }

    /// Deletes the publish manifest, as if none had been written.
    async fn delete_manifest(&self) -> Result<(), Box<dyn Error>> {
        self.target
            .s3
            .delete_object()
            .bucket(&self.target.bucket)
            .key(MANIFEST_KEY)
            .send()
            .await?;
        Ok(())
    }

    /// The object's Content-Type and Cache-Control.
    async fn head(&self, key: &str) -> Result<(String, String), Box<dyn Error>> {
        let head = self.head_object(key).await?;
        Ok((
            head.content_type().unwrap_or_default().to_string(),
            head.cache_control().unwrap_or_default().to_string(),
        ))
    }
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const DEFAULT_CC: &str = "public, max-age=0, s-maxage=86400";

// ---- tests ----------------------------------------------------------------------

#[tokio::test]
async fn first_publish_sets_headers_and_bytes_then_second_publish_changes_nothing() -> TestResult {
    let mut fx = fixture("types").await?;
    let table = [
        ("index.html", "text/html; charset=utf-8"),
        ("css/site.css", "text/css; charset=utf-8"),
        ("js/color.js", "text/javascript; charset=utf-8"),
        ("js/mod.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("img/logo.svg", "image/svg+xml; charset=utf-8"),
        ("img/a.png", "image/png"),
        ("img/b.jpg", "image/jpeg"),
        ("img/c.webp", "image/webp"),
        ("img/d.avif", "image/avif"),
        ("favicon.ico", "image/x-icon"),
        ("fonts/f.woff", "font/woff"),
        ("fonts/f.woff2", "font/woff2"),
        ("app.wasm", "application/wasm"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("js/color.js.map", "application/json; charset=utf-8"),
        ("doc.pdf", "application/pdf"),
        ("assets/app.3f9a1c2b.js", "text/javascript; charset=utf-8"),
    ];
    for (i, (key, _)) in table.iter().enumerate() {
        fx.write(key, format!("body {i} of {key}\n").repeat(i + 1));
    }
    fx.write(".secret", "not published");
    fx.write("drafts/.hidden/x.html", "not published");
    fx.write("design.psd", "ignored");
    fx.target.generated = vec![GeneratedFile {
        key: "config.json".into(),
        body: br#"{"client_id":"abc"}"#.to_vec(),
    }];
    let settings = PublishSettings {
        ignore: vec!["*.psd".into()],
        cache_control: vec![CacheRule {
            pattern: "fonts/**".into(),
            value: "public, max-age=604800".into(),
        }],
        ..Default::default()
    };

    let first = fx.publish(&settings, PublishOptions::default()).await?;
    // Into a bucket without a manifest: no mark of an unfinished publish goes up (the
    // next publish would list such a bucket anyway), so the only request on it is the
    // HEAD that looks for one.
    let ops = fx.recorder.take();
    let mark_path = format!("/{}/{UNFINISHED_KEY}", fx.target.bucket);
    assert_eq!(paths_of(&ops, "HeadObject"), [mark_path.as_str()]);
    assert_eq!(
        count(&ops, "PutObject"),
        table.len() + 2,
        "the files, config.json and the manifest: {ops:?}"
    );
    assert_eq!(count(&ops, "DeleteObject"), 0, "{ops:?}");
    assert_eq!(
        first.summary.uploaded,
        table.len() + 1,
        "{}",
        first.summary_line()
    );
    assert_eq!(
        first.summary.unchanged + first.summary.deleted + first.summary.headers_updated,
        0
    );
    for (key, content_type) in table {
        let want_cc = match key {
            k if k.starts_with("fonts/") => "public, max-age=604800",
            "assets/app.3f9a1c2b.js" => IMMUTABLE,
            _ => DEFAULT_CC,
        };
        assert_eq!(
            fx.head(key).await?,
            (content_type.to_string(), want_cc.to_string()),
            "{key}"
        );
    }
    assert_eq!(
        fx.head("config.json").await?,
        (
            "application/json; charset=utf-8".to_string(),
            "no-cache".to_string()
        )
    );
    // Every published object holds exactly its file's bytes; nothing hidden or ignored.
    let mut contents = fx.bucket_contents().await?;
    assert!(contents.remove(MANIFEST_KEY).is_some(), "manifest written");
    assert_eq!(
        contents.remove("config.json").as_deref(),
        Some(&br#"{"client_id":"abc"}"#[..])
    );
    let expected: BTreeMap<String, Vec<u8>> = table
        .iter()
        .map(|(key, _)| {
            (
                key.to_string(),
                std::fs::read(fx.site.path().join(key)).unwrap(),
            )
        })
        .collect();
    assert_eq!(contents, expected);
    assert_eq!(fx.invalidation_count().await?, 1);
    // Each new body went with its CRC32 and unsigned: S3 checks the CRC32 (and its
    // ETag is the MD5 the manifest records), and a SHA-256 of the payload on top would
    // be a second pass over it on each side.
    let puts = fx.recorder.take_puts();
    for (key, _) in table.iter().chain([&("config.json", "")]) {
        let put = puts
            .iter()
            .find(|(path, ..)| path.ends_with(&format!("/{key}")));
        assert_eq!(
            put.map(|(_, signed, guard)| (signed.as_str(), *guard)),
            Some(("UNSIGNED-PAYLOAD", "crc32")),
            "{key}: {puts:?}"
        );
        let head = fx.head_object(key).await?;
        let body = std::fs::read(fx.site.path().join(key))
            .unwrap_or_else(|_| br#"{"client_id":"abc"}"#.to_vec());
        assert_eq!(
            head.e_tag(),
            Some(format!("\"{}\"", md5_hex(&body)).as_str()),
            "{key}"
        );
    }

    let second = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(
        second.summary.uploaded + second.summary.deleted + second.summary.headers_updated,
        0
    );
    assert_eq!(second.summary.unchanged, table.len() + 1);
    assert!(
        second.summary.invalidation_id.is_none() && second.summary.invalidation_paths.is_empty()
    );
    assert_eq!(fx.invalidation_count().await?, 1, "no new invalidation");
    // A no-op trusts the manifest: one manifest read and one HEAD for the mark an
    // unfinished publish leaves (the first publish cleared its own: the bucket holds
    // only the site and the manifest, above), no listing, no write.
    let operations: Vec<&str> = ops.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(operations.len(), 2, "{operations:?}");
    assert_eq!(count(&ops, "GetObject"), 1, "{operations:?}");
    assert_eq!(count(&ops, "HeadObject"), 1, "{operations:?}");

    // `--verify` lists the bucket instead. The listing walks the bucket like a
    // directory tree, one ListObjectsV2 per prefix (the root, `css/`, `img/`, ...),
    // so each prefix, and so each key, is listed exactly once; the manifest's own
    // folder is not listed (the manifest is read directly).
    let verify = PublishOptions {
        verify: true,
        ..Default::default()
    };
    let verified = fx.publish(&settings, verify).await?;
    let ops = fx.recorder.take();
    assert_eq!(verified.summary.unchanged, table.len() + 1);
    let keys = table.iter().map(|(k, _)| *k).chain(["config.json"]);
    let prefixes: BTreeSet<&str> = keys
        .flat_map(|k| k.match_indices('/').map(move |(i, _)| &k[..=i]))
        .chain([""])
        .collect();
    let operations: Vec<&str> = ops.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        count(&ops, "ListObjectsV2"),
        prefixes.len(),
        "one listing per prefix {prefixes:?}: {operations:?}"
    );
    assert_eq!(operations.len(), 2 + prefixes.len(), "{operations:?}");
    Ok(())
}

/// The mark a publish leaves when it dies between its first change and its manifest.
async fn leave_mark(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), Box<dyn Error>> {
    s3.put_object()
        .bucket(bucket)
        .key(UNFINISHED_KEY)
        .body(Vec::new().into())
        .send()
        .await?;
    Ok(())
}

/// What publish trusts and when it stops trusting it: an object removed by hand is
/// noticed only by `--verify`; a publish that died between its first change and its
/// manifest leaves a mark, and the next publish lists the bucket, deleting what the
/// dead run uploaded that the site no longer has.
#[tokio::test]
async fn the_manifest_is_trusted_until_verify_or_an_unfinished_publish() -> TestResult {
    let fx = fixture("trust").await?;
    let settings = PublishSettings::default();
    fx.write("index.html", "<h1>home</h1>");
    fx.write("about.html", "<h1>about</h1>");
    fx.publish(&settings, PublishOptions::default()).await?;
    let s3 = &fx.target.s3;
    let bucket = fx.target.bucket.as_str();

    s3.delete_object()
        .bucket(bucket)
        .key("about.html")
        .send()
        .await?;
    let trusting = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(trusting.summary.uploaded, 0, "{}", trusting.summary_line());
    let verify = PublishOptions {
        verify: true,
        ..Default::default()
    };
    let verified = fx.publish(&settings, verify).await?;
    assert_eq!(verified.summary.uploaded, 1, "{}", verified.summary_line());
    assert_eq!(
        fx.bucket_contents()
            .await?
            .get("about.html")
            .map(Vec::as_slice),
        Some(&b"<h1>about</h1>"[..])
    );

    // A run that uploaded `draft.html` and died before its manifest; the draft is
    // then removed from the site.
    leave_mark(s3, bucket).await?;
    s3.put_object()
        .bucket(bucket)
        .key("draft.html")
        .body(b"draft".to_vec().into())
        .send()
        .await?;
    let after = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert!(count(&ops, "ListObjectsV2") > 0, "listed: {ops:?}");
    assert_eq!(after.summary.deleted, 1, "{}", after.summary_line());
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert_eq!(keys, [MANIFEST_KEY, "about.html", "index.html"]);

    // The mark is gone with the manifest that records the bucket: trusted again.
    fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(count(&fx.recorder.take(), "ListObjectsV2"), 0);

    // A mark over a bucket that turns out as recorded is cleared all the same.
    leave_mark(s3, bucket).await?;
    let listed = fx.publish(&settings, PublishOptions::default()).await?;
    assert!(count(&fx.recorder.take(), "ListObjectsV2") > 0);
    assert_eq!(listed.summary.unchanged, 2, "{}", listed.summary_line());
    fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(count(&fx.recorder.take(), "ListObjectsV2"), 0);
    Ok(())
}

/// The mark goes up only over a stored manifest, which a run dying before its own
/// would leave out of date. A first upload that died (objects, no manifest, no mark)
/// is listed and finished by the next publish, which spends no request on the mark; a
/// mark left where there is no manifest is taken down; an unreadable manifest is
/// marked over like a readable one.
#[tokio::test]
async fn the_mark_goes_up_only_over_a_stored_manifest() -> TestResult {
    let fx = fixture("mark").await?;
    let settings = PublishSettings::default();
    let s3 = &fx.target.s3;
    let bucket = fx.target.bucket.as_str();
    let mark_path = format!("/{bucket}/{UNFINISHED_KEY}");
    let put = |key: &'static str, body: &'static [u8]| {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
    };
    fx.write("index.html", "<h1>home</h1>");
    fx.write("about.html", "<h1>about</h1>");

    // A first upload died after one object, since dropped from the site.
    put("draft.html", b"draft").await?;
    fx.recorder.take();
    let first = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(
        (first.summary.uploaded, first.summary.deleted),
        (2, 1),
        "{}",
        first.summary_line()
    );
    assert!(count(&ops, "ListObjectsV2") > 0, "listed: {ops:?}");
    assert_eq!(
        paths_of(&ops, "HeadObject"),
        [mark_path.as_str()],
        "{ops:?}"
    );
    assert!(!paths_of(&ops, "PutObject").contains(&mark_path.as_str()));
    assert_eq!(count(&ops, "DeleteObject"), 0, "{ops:?}");
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert_eq!(keys, [MANIFEST_KEY, "about.html", "index.html"]);

    // A mark where there is no manifest (left by hand here): already up, so not put
    // up again, and taken down after the manifest.
    fx.delete_manifest().await?;
    leave_mark(s3, bucket).await?;
    fx.write("about.html", "<h1>about us</h1>");
    fx.recorder.take();
    let marked = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(marked.keys(Action::Upload), ["about.html"]);
    assert!(!paths_of(&ops, "PutObject").contains(&mark_path.as_str()));
    assert_eq!(paths_of(&ops, "DeleteObject"), [mark_path.as_str()]);
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert_eq!(keys, [MANIFEST_KEY, "about.html", "index.html"]);

    // A manifest this run cannot read: marked over before the first change.
    put(MANIFEST_KEY, b"not a manifest").await?;
    fx.write("index.html", "<h1>home, again</h1>");
    fx.recorder.take();
    let over = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(over.keys(Action::Upload), ["index.html"]);
    let puts = paths_of(&ops, "PutObject");
    assert_eq!(puts.first(), Some(&mark_path.as_str()), "{ops:?}");
    assert_eq!(paths_of(&ops, "DeleteObject"), [mark_path.as_str()]);
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert_eq!(keys, [MANIFEST_KEY, "about.html", "index.html"]);
    Ok(())
}

/// A bucket last published by an earlier colorid holds its manifest as gzipped JSON
/// (version 2): it is trusted as it is (no listing, no read of a file, no write), and
/// the next change replaces it with the packed form (version 3), again with no listing.
#[tokio::test]
async fn a_manifest_of_an_earlier_colorid_is_trusted_then_replaced_by_the_next_change() -> TestResult
{
    let fx = fixture("v2").await?;
    let settings = PublishSettings::default();
    fx.write("index.html", "<h1>home</h1>");
    fx.write("docs/guide.html", "<h1>guide</h1>");
    fx.publish(&settings, PublishOptions::default()).await?;
    let stored = fx.bucket_contents().await?;
    assert!(
        stored[MANIFEST_KEY].starts_with(b"colorid-manifest\x03"),
        "packed"
    );

    // The manifest an earlier colorid wrote for the same bucket, by hand.
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut objects = Vec::new();
    for key in ["docs/guide.html", "index.html"] {
        let head = fx.head_object(key).await?;
        let pair = (
            head.content_type().unwrap_or_default().to_string(),
            head.cache_control().unwrap_or_default().to_string(),
        );
        let at = headers.iter().position(|h| *h == pair).unwrap_or_else(|| {
            headers.push(pair);
            headers.len() - 1
        });
        let mtime = std::fs::metadata(fx.site.path().join(key))?
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos() as u64;
        let etag = head
            .e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_string();
        objects.push(serde_json::json!([
            key,
            etag,
            "",
            head.content_length(),
            mtime,
            at
        ]));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let json = serde_json::json!({
        "version": 2, "generation": 4, "started_ns": now.as_nanos() as u64,
        "headers": headers, "objects": objects, "pending_invalidation": [],
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&serde_json::to_vec(&json)?)?;
    let v2 = gz.finish()?;
    fx.target
        .s3
        .put_object()
        .bucket(&fx.target.bucket)
        .key(MANIFEST_KEY)
        .body(v2.clone().into())
        .send()
        .await?;

    let noop = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = without_mark(fx.recorder.take());
    assert_eq!(noop.summary.unchanged, 2, "{}", noop.summary_line());
    assert_eq!(noop.summary.files_hashed, 0, "{}", noop.summary_line());
    assert_eq!(count(&ops, "ListObjectsV2"), 0, "{ops:?}");
    assert_eq!(count(&ops, "PutObject"), 0, "{ops:?}");
    assert_eq!(
        fx.bucket_contents().await?[MANIFEST_KEY],
        v2,
        "left as it is"
    );

    fx.write("index.html", "<h1>home, again</h1>");
    let changed = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = without_mark(fx.recorder.take());
    assert_eq!(changed.keys(Action::Upload), ["index.html"]);
    assert_eq!(count(&ops, "ListObjectsV2"), 0, "{ops:?}");
    let stored = fx.bucket_contents().await?;
    assert!(stored[MANIFEST_KEY].starts_with(b"colorid-manifest\x03"));
    let again = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(again.summary.unchanged, 2, "{}", again.summary_line());
    Ok(())
}

#[tokio::test]
async fn changed_renamed_and_reverted_files_touch_only_their_own_paths() -> TestResult {
    let fx = fixture("change").await?;
    let settings = PublishSettings::default();
    for key in [
        "index.html",
        "docs/index.html",
        "docs/guide.html",
        "app.js",
        "style.css",
    ] {
        fx.write(key, format!("v1 {key}"));
    }
    fx.publish(&settings, PublishOptions::default()).await?;
    let manifest_path = format!("/{}/{MANIFEST_KEY}", fx.target.bucket);

    fx.write("docs/index.html", "v2 docs");
    let changed = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(changed.keys(Action::Upload), ["docs/index.html"]);
    assert_eq!(changed.summary.unchanged, 4);
    let docs_path = format!("/{}/docs/index.html", fx.target.bucket);
    // The mark goes up before the first change and comes down after the manifest.
    let mark_path = format!("/{}/{UNFINISHED_KEY}", fx.target.bucket);
    assert_eq!(
        paths_of(&ops, "PutObject"),
        [
            mark_path.as_str(),
            docs_path.as_str(),
            manifest_path.as_str()
        ]
    );
    assert_eq!(paths_of(&ops, "DeleteObject"), [mark_path.as_str()]);
    assert_eq!(paths_of(&ops, "HeadObject"), [mark_path.as_str()]);
    assert_eq!(
        count(&ops, "DeleteObjects") + count(&ops, "CopyObject") + count(&ops, "ListObjectsV2"),
        0
    );
    assert_eq!(fx.invalidated_paths(&changed).await?, ["/docs/index.html"]);

    fx.remove("style.css");
    fx.write("site.css", "v1 style.css");
    let renamed = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = without_mark(fx.recorder.take());
    assert_eq!(
        (renamed.keys(Action::Upload), renamed.keys(Action::Delete)),
        (vec!["site.css"], vec!["style.css"])
    );
    assert_eq!(
        count(&ops, "PutObject"),
        2,
        "the new file and the manifest: {ops:?}"
    );
    // One batch, and one retry of the key S3 failed in it: the realism layer fails a
    // batch's first key the first time (DeleteObjects answers 200 with a per-key error).
    assert_eq!(count(&ops, "DeleteObjects"), 2, "{ops:?}");
    assert_eq!(
        fx.invalidated_paths(&renamed).await?,
        ["/site.css", "/style.css"]
    );
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert!(keys.contains(&"site.css".to_string()) && !keys.contains(&"style.css".to_string()));

    // Editing a file back to an earlier version must still invalidate it.
    let before = fx.invalidation_count().await?;
    fx.write("docs/index.html", "v1 docs/index.html");
    let reverted = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(reverted.keys(Action::Upload), ["docs/index.html"]);
    assert_eq!(fx.invalidation_count().await?, before + 1);
    assert_ne!(
        reverted.summary.invalidation_id,
        changed.summary.invalidation_id
    );
    Ok(())
}

#[tokio::test]
async fn changed_cache_rule_rewrites_headers_without_uploading_bodies() -> TestResult {
    let fx = fixture("headers").await?;
    fx.write("index.html", "<h1>hello</h1>");
    fx.write("css/a.css", "body{}");
    fx.write("css/b.css", "p{}");
    fx.publish(&PublishSettings::default(), PublishOptions::default())
        .await?;
    let before = fx.bucket_contents().await?;

    let settings = PublishSettings {
        cache_control: vec![CacheRule {
            pattern: "*.css".into(),
            value: "public, max-age=86400".into(),
        }],
        ..Default::default()
    };
    let report = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = without_mark(fx.recorder.take());
    assert_eq!(
        report.keys(Action::UpdateHeaders),
        ["css/a.css", "css/b.css"]
    );
    assert_eq!(report.summary.uploaded, 0);
    assert_eq!(count(&ops, "CopyObject"), 2);
    let manifest_path = format!("/{}/{MANIFEST_KEY}", fx.target.bucket);
    assert_eq!(
        paths_of(&ops, "PutObject"),
        [manifest_path.as_str()],
        "no body re-uploaded"
    );
    assert_eq!(fx.head("css/a.css").await?.1, "public, max-age=86400");
    assert_eq!(fx.head("css/a.css").await?.0, "text/css; charset=utf-8");
    assert_eq!(fx.head("index.html").await?.1, DEFAULT_CC);
    assert_eq!(
        fx.invalidated_paths(&report).await?,
        ["/css/a.css", "/css/b.css"]
    );
    let mut after = fx.bucket_contents().await?;
    let mut before = before;
    after.remove(MANIFEST_KEY);
    before.remove(MANIFEST_KEY);
    assert_eq!(after, before, "bodies untouched");

    let again = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(again.summary.unchanged, 3, "{}", again.summary_line());
    Ok(())
}

#[tokio::test]
async fn large_file_goes_multipart_round_trips_and_is_not_uploaded_again() -> TestResult {
    let fx = fixture("multipart").await?;
    let big: Vec<u8> = (0..5 * 1024 * 1024 + 12_345)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fx.write("media/big.bin", &big);
    fx.write("index.html", "small");
    let settings = PublishSettings {
        multipart_threshold_mib: 5,
        ..Default::default()
    };

    // What S3 refuses: a part with a checksum (the SDK's default CRC32 trailer) in an
    // upload created without that algorithm. colorid's parts carry their CRC32 in an
    // upload created for it, and list it again in the completion.
    let realism = common::proxy().realism();
    let refusals = realism.hits(Rule::S3MultipartChecksums);
    let (s3, bucket) = (&fx.target.s3, &fx.target.bucket);
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key("raw.bin")
        .send()
        .await?;
    let upload_id = created.upload_id().unwrap_or_default();
    let refused = s3
        .upload_part()
        .bucket(bucket)
        .key("raw.bin")
        .upload_id(upload_id)
        .part_number(1)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"part"))
        .send()
        .await
        .expect_err("a CRC32 part in an upload created without an algorithm");
    assert_eq!(refused.code(), Some("InvalidRequest"), "{refused:?}");
    assert!(realism.hits(Rule::S3MultipartChecksums) > refusals);
    s3.abort_multipart_upload()
        .bucket(bucket)
        .key("raw.bin")
        .upload_id(upload_id)
        .send()
        .await?;
    let refusals = realism.hits(Rule::S3MultipartChecksums);

    let first = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = fx.recorder.take();
    assert_eq!(realism.hits(Rule::S3MultipartChecksums), refusals);
    assert_eq!(first.summary.uploaded, 2);
    assert_eq!(first.summary.bytes_uploaded, big.len() as u64 + 5);
    assert_eq!(count(&ops, "CreateMultipartUpload"), 1);
    assert_eq!(count(&ops, "UploadPart"), 2);
    assert_eq!(count(&ops, "CompleteMultipartUpload"), 1);
    let head = fx.head_object("media/big.bin").await?;
    assert!(
        head.e_tag().unwrap_or_default().contains('-'),
        "multipart ETag: {:?}",
        head.e_tag()
    );
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("md5"))
            .map(String::as_str),
        Some(md5_hex(&big).as_str())
    );
    assert_eq!(fx.bucket_contents().await?.get("media/big.bin"), Some(&big));

    let second = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(second.summary.unchanged, 2, "{}", second.summary_line());

    // Without the manifest, HEAD and the md5 metadata still recognise the content;
    // the objects are invalidated because publish cannot vouch for them.
    fx.delete_manifest().await?;
    let third = fx.publish(&settings, PublishOptions::default()).await?;
    let ops = without_mark(fx.recorder.take());
    assert_eq!(third.summary.unchanged, 2, "{}", third.summary_line());
    assert_eq!(count(&ops, "HeadObject"), 2);
    assert_eq!(
        count(&ops, "UploadPart") + count(&ops, "CreateMultipartUpload"),
        0
    );
    assert_eq!(
        fx.invalidated_paths(&third).await?,
        ["/index.html", "/media/big.bin"]
    );
    Ok(())
}

/// Files on each side of the sizes where publish changes how it reads a body (read on
/// the sending task up to 64 KiB, on the blocking pool up to 1 MiB, streamed from disk
/// above) arrive whole, with their MD5s, and are recognised by the next publish.
#[tokio::test]
async fn bodies_on_each_side_of_the_read_sizes_round_trip() -> TestResult {
    let fx = fixture("readsizes").await?;
    let sizes = [0, 1, 64 * 1024, 64 * 1024 + 1, 1024 * 1024, 1024 * 1024 + 1];
    let mut bodies = std::collections::BTreeMap::new();
    for size in sizes {
        let body: Vec<u8> = (0..size)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        let key = format!("files/{size}.bin");
        fx.write(&key, &body);
        bodies.insert(key, body);
    }
    let settings = PublishSettings::default();
    let first = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(
        first.summary.uploaded,
        sizes.len(),
        "{}",
        first.summary_line()
    );
    let mut contents = fx.bucket_contents().await?;
    contents.remove(MANIFEST_KEY);
    assert_eq!(contents, bodies, "every body as it is on disk");
    // Every body goes with its CRC32 (read whole or streamed from disk) and its MD5 is
    // the ETag S3 answers: no md5 metadata in an SSE-S3 bucket below the multipart size.
    for (key, body) in &bodies {
        let head = fx.head_object(key).await?;
        let md5 = head.metadata().and_then(|m| m.get("md5")).cloned();
        let etag = head.e_tag().unwrap_or_default().trim_matches('"');
        assert_eq!((etag, md5), (md5_hex(body).as_str(), None), "{key}");
    }
    let puts = fx.recorder.take_puts();
    assert!(
        puts.iter()
            .filter(|(path, ..)| path.contains("/files/"))
            .all(|(_, _, guard)| *guard == "crc32"),
        "{puts:?}"
    );
    let again = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(
        again.summary.unchanged,
        sizes.len(),
        "{}",
        again.summary_line()
    );
    assert_eq!(again.summary.uploaded, 0);

    // Files of the same size with new times are hashed by the plan, which finds them
    // changed: one streamed from disk goes with the plan's MD5 as Content-MD5, one read
    // whole with the CRC32 of what was read; both arrive whole.
    fx.recorder.take_puts();
    for size in [64 * 1024 + 1, 1024 * 1024 + 1] {
        let key = format!("files/{size}.bin");
        let body: Vec<u8> = bodies[&key].iter().map(|b| b ^ 0x5a).collect();
        fx.write(&key, &body);
        bodies.insert(key, body);
    }
    let changed = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(changed.summary.uploaded, 2, "{}", changed.summary_line());
    let mut guards: Vec<(String, &str)> = fx
        .recorder
        .take_puts()
        .into_iter()
        .filter(|(path, ..)| path.contains("/files/"))
        .map(|(path, _, guard)| (path, guard))
        .collect();
    guards.sort();
    let guards: Vec<&str> = guards.iter().map(|(_, guard)| *guard).collect();
    assert_eq!(guards, ["md5", "crc32"], "1048577.bin, then 65537.bin");
    let mut contents = fx.bucket_contents().await?;
    contents.remove(MANIFEST_KEY);
    assert_eq!(contents, bodies, "every changed body as it is on disk");
    Ok(())
}

/// A body damaged on the way is refused by S3 (it no longer matches the CRC32 it went
/// with) and publish stops naming the file and what to do; nothing damaged is stored,
/// and the next publish sends the file again, whole.
#[tokio::test]
async fn a_body_damaged_on_the_way_is_refused_and_sent_again() -> TestResult {
    let fx = fixture("damaged").await?;
    let bodies = [
        ("index.html", "<p>whole</p>"),
        ("other.html", "<p>other</p>"),
    ];
    for (key, body) in bodies {
        fx.write(key, body);
    }
    let realism = common::proxy().realism();
    let refused = realism.hits(Rule::S3ChecksumChecked);
    realism.damage_next_put(&fx.target.bucket, "index.html");
    let settings = PublishSettings::default();
    let err = fx
        .publish(&settings, PublishOptions::default())
        .await
        .expect_err("a damaged body was taken");
    let text = format!("{err}: {}", err.fix().unwrap_or_default());
    assert!(
        text.contains("index.html")
            && text.contains("BadDigest")
            && text.contains("run publish again"),
        "{text}"
    );
    assert!(realism.hits(Rule::S3ChecksumChecked) > refused);

    let again = fx.publish(&settings, PublishOptions::default()).await?;
    assert!(again.summary.uploaded >= 1, "{}", again.summary_line());
    let mut contents = fx.bucket_contents().await?;
    contents.remove(MANIFEST_KEY);
    let expected: BTreeMap<String, Vec<u8>> = bodies
        .iter()
        .map(|(k, b)| (k.to_string(), b.as_bytes().to_vec()))
        .collect();
    assert_eq!(contents, expected);
    Ok(())
}

/// In a bucket that stores objects with SSE-KMS, whose ETags are not MD5s, publish
/// records each body's real MD5 and puts it in the `md5` metadata: a file touched but
/// not changed is not uploaded again, a later run sends new bodies with their MD5 at
/// once, and a publish without the manifest finds every MD5 by HEAD.
#[tokio::test]
async fn a_kms_bucket_gets_md5s_that_later_publishes_can_read() -> TestResult {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let fx = fixture("kms").await?;
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id("alias/aws/s3")
        .build()?;
    let encryption = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(by_default)
                .build(),
        )
        .build()?;
    fx.target
        .s3
        .put_bucket_encryption()
        .bucket(&fx.target.bucket)
        .server_side_encryption_configuration(encryption)
        .send()
        .await?;
    // A body over 1 MiB, which streams from disk, beside small ones read whole.
    let large = "kms ".repeat(400_000);
    let bodies = [
        ("index.html", "<p>kms</p>"),
        ("app.js", "let kms = 1;"),
        ("media/large.txt", large.as_str()),
    ];
    for (key, body) in bodies {
        fx.write(key, body);
    }
    let realism = common::proxy().realism();
    let rewritten = realism.hits(Rule::S3KmsEtagNotMd5);
    let settings = PublishSettings::default();
    let first = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(first.summary.uploaded, 3, "{}", first.summary_line());
    assert!(
        realism.hits(Rule::S3KmsEtagNotMd5) > rewritten,
        "no SSE-KMS ETag"
    );
    for (key, body) in bodies {
        let head = fx.head_object(key).await?;
        assert_ne!(
            head.e_tag().unwrap_or_default().trim_matches('"'),
            md5_hex(body.as_bytes())
        );
        let md5 = head.metadata().and_then(|m| m.get("md5")).cloned();
        assert_eq!(
            md5,
            Some(md5_hex(body.as_bytes())),
            "{key}: its md5 metadata"
        );
    }

    // Touched, not changed: each file is read again and found unchanged by its MD5.
    for (key, body) in bodies {
        fx.write(key, body);
    }
    let touched = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(touched.summary.uploaded, 0, "{}", touched.summary_line());
    assert_eq!(touched.summary.unchanged, 3);

    // The manifest shows SSE-KMS ETags: a new body goes with its MD5 in one PUT.
    fx.write("new.html", "<p>new</p>");
    fx.recorder.take_puts();
    let next = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(next.summary.uploaded, 1, "{}", next.summary_line());
    let puts: Vec<_> = fx
        .recorder
        .take_puts()
        .into_iter()
        .filter(|(path, ..)| !path.contains("/.colorid/"))
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    assert_eq!(puts[0].2, "md5", "{puts:?}");

    // Without the manifest, a HEAD of each object finds its MD5 in the metadata.
    fx.delete_manifest().await?;
    let listed = fx.publish(&settings, PublishOptions::default()).await?;
    assert_eq!(listed.summary.uploaded, 0, "{}", listed.summary_line());
    assert_eq!(listed.summary.unchanged, 4);
    Ok(())
}

#[tokio::test]
async fn delete_guard_refuses_mass_delete_and_flags_choose_what_happens() -> TestResult {
    let fx = fixture("guard").await?;
    for i in 0..6 {
        fx.write(&format!("page{i}.html"), format!("page {i}"));
    }
    let settings = PublishSettings {
        delete_limit: 2,
        ..Default::default()
    };
    fx.publish(&settings, PublishOptions::default()).await?;
    for i in 0..4 {
        fx.remove(&format!("page{i}.html"));
    }
    fx.write("new.html", "new");

    let err = fx
        .publish(&settings, PublishOptions::default())
        .await
        .unwrap_err();
    let ops = fx.recorder.take();
    assert!(
        matches!(
            err,
            PublishError::DeleteGuard {
                count: 4,
                limit: 2,
                ..
            }
        ),
        "{err}"
    );
    let message = format!("{err}\n{}", err.fix().unwrap_or_default());
    assert!(
        message.contains("4 files")
            && message.contains("--force")
            && message.contains("--no-delete"),
        "{message}"
    );
    assert_eq!(
        count(&ops, "PutObject") + count(&ops, "DeleteObjects"),
        0,
        "refused before any change"
    );
    assert_eq!(
        fx.bucket_contents().await?.len(),
        7,
        "six pages and the manifest"
    );

    let dry = fx
        .publish(
            &settings,
            PublishOptions {
                dry_run: true,
                force: true,
                ..Default::default()
            },
        )
        .await?;
    let ops = fx.recorder.take();
    // --force also re-uploads unchanged files.
    assert_eq!(
        dry.keys(Action::Upload),
        ["new.html", "page4.html", "page5.html"]
    );
    assert_eq!(dry.summary.deleted, 4);
    assert!(
        ops.iter()
            .all(|(op, _)| matches!(op.as_str(), "ListObjectsV2" | "GetObject" | "HeadObject")),
        "a dry run only reads: {ops:?}"
    );

    let kept = fx
        .publish(
            &settings,
            PublishOptions {
                no_delete: true,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(
        (kept.keys(Action::Upload), kept.summary.deleted),
        (vec!["new.html"], 0)
    );
    assert_eq!(fx.bucket_contents().await?.len(), 8);

    let forced = fx
        .publish(
            &settings,
            PublishOptions {
                force: true,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(forced.summary.deleted, 4);
    let keys: Vec<String> = fx.bucket_contents().await?.into_keys().collect();
    assert_eq!(keys, [MANIFEST_KEY, "new.html", "page4.html", "page5.html"]);
    Ok(())
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(bytes))
}

#[tokio::test]
async fn missing_bucket_error_names_bucket_code_and_next_step() -> TestResult {
    let mut fx = fixture("nobucket").await?;
    fx.write("index.html", "hi");
    fx.target.bucket = format!("{}-missing", fx.target.bucket);
    let err = fx
        .publish(&PublishSettings::default(), PublishOptions::default())
        .await
        .unwrap_err();
    let message = format!("{err}\n{}", err.fix().unwrap_or_default());
    assert!(
        matches!(err, PublishError::List { .. } | PublishError::Head { .. }),
        "{message}"
    );
    for needle in [fx.target.bucket.as_str(), "NoSuchBucket", "colorid up"] {
        assert!(message.contains(needle), "{message}");
    }
    assert!(message.len() < 300, "short enough to read: {message}");
    Ok(())
}
