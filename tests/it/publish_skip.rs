//! Publish reads only the files that may have changed: size and modification time
//! equal to the manifest's record mean "unchanged" without reading the file; a new
//! time or size means read and hash it; `--force` reads everything. Against the
//! emulator through the realism proxy, asserting on the report and the bucket.

use std::error::Error;
use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use colorid::publish::{
    MANIFEST_KEY, PublishOptions, PublishReport, PublishSettings, PublishTarget, publish,
};

use crate::common;

type TestResult = Result<(), Box<dyn Error>>;

struct Site {
    target: PublishTarget,
    dir: tempfile::TempDir,
}

async fn site(name: &str) -> Result<Site, Box<dyn Error>> {
    let s3 = common::s3("us-east-1").await;
    let bucket = common::unique(name);
    s3.create_bucket().bucket(&bucket).send().await?;
    let dir = tempfile::tempdir()?;
    let target = PublishTarget {
        s3,
        cloudfront: common::cloudfront().await,
        bucket,
        distribution_id: None,
        site_dir: dir.path().to_path_buf(),
        generated: Vec::new(),
    };
    Ok(Site { target, dir })
}

/// A fixed time in 2023 plus `seconds`: well outside the window in which times are not trusted.
fn past(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seconds)
}

impl Site {
    fn write(&self, key: &str, body: &str, mtime: SystemTime) {
        let path = self.dir.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        set_mtime(&path, mtime);
    }

    fn touch(&self, key: &str, mtime: SystemTime) {
        set_mtime(&self.dir.path().join(key), mtime);
    }

    async fn publish(&self, force: bool) -> Result<PublishReport, Box<dyn Error>> {
        let options = PublishOptions {
            force,
            ..Default::default()
        };
        Ok(publish(&self.target, &PublishSettings::default(), &options, &|_| {}).await?)
    }

    async fn body(&self, key: &str) -> Result<String, Box<dyn Error>> {
        Ok(String::from_utf8(self.bytes(key).await?)?)
    }

    async fn head(&self, key: &str) -> Result<HeadObjectOutput, Box<dyn Error>> {
        let s3 = &self.target.s3;
        Ok(s3
            .head_object()
            .bucket(&self.target.bucket)
            .key(key)
            .send()
            .await?)
    }

    async fn bytes(&self, key: &str) -> Result<Vec<u8>, Box<dyn Error>> {
        let object = self
            .target
            .s3
            .get_object()
            .bucket(&self.target.bucket)
            .key(key)
            .send()
            .await?;
        Ok(object.body.collect().await?.to_vec())
    }
}

fn set_mtime(path: &Path, mtime: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
}

/// (hashed, uploaded, unchanged) of one publish.
fn counts(report: &PublishReport) -> (usize, usize, usize) {
    let s = &report.summary;
    (s.files_hashed, s.uploaded, s.unchanged)
}

#[tokio::test]
async fn unchanged_size_and_time_skip_reading_and_a_touched_file_is_read_once() -> TestResult {
    let site = site("skip-touch").await?;
    site.write("index.html", "<h1>one</h1>", past(0));
    site.write("app.3f9a.js", "console.log(1)", past(0));

    // New files are hashed while they upload, not before.
    assert_eq!(counts(&site.publish(false).await?), (0, 2, 0));
    assert_eq!(counts(&site.publish(false).await?), (0, 0, 2));

    // Same bytes, new time: read once, not uploaded; the manifest takes the new time.
    site.touch("index.html", past(60));
    assert_eq!(counts(&site.publish(false).await?), (1, 0, 2));
    assert_eq!(counts(&site.publish(false).await?), (0, 0, 2));
    Ok(())
}

#[tokio::test]
async fn same_size_change_with_new_time_is_uploaded_and_force_reads_everything() -> TestResult {
    let site = site("skip-change").await?;
    site.write("index.html", "<h1>one</h1>", past(0));
    site.write("about.html", "<p>about</p>", past(0));
    site.publish(false).await?;

    site.write("index.html", "<h1>two</h1>", past(60));
    let report = site.publish(false).await?;
    assert_eq!(counts(&report), (1, 1, 1));
    assert_eq!(site.body("index.html").await?, "<h1>two</h1>");

    // Same size and the recorded time put back: only --force can see this change.
    site.write("about.html", "<p>ABOUT</p>", past(0));
    assert_eq!(counts(&site.publish(false).await?), (0, 0, 2));
    assert_eq!(site.body("about.html").await?, "<p>about</p>");
    let forced = site.publish(true).await?;
    assert_eq!(forced.summary.files_hashed, 2);
    assert_eq!(site.body("about.html").await?, "<p>ABOUT</p>");
    Ok(())
}

/// A manifest written before times were recorded still vouches for every object: the
/// files are read once, nothing is uploaded, and the next publish reads none.
#[tokio::test]
async fn manifest_without_times_is_read_and_upgraded() -> TestResult {
    let site = site("skip-old").await?;
    site.write("index.html", "<h1>one</h1>", past(0));
    site.write("css/site.css", "body{}", past(0));
    site.publish(false).await?;

    assert!(
        site.bytes(MANIFEST_KEY)
            .await?
            .starts_with(b"colorid-manifest\x03"),
        "packed"
    );
    // The same records as colorid wrote them before it kept times (version 1, one
    // object per record, no start time and no file times), from the objects' heads.
    let mut objects = serde_json::Map::new();
    for key in ["css/site.css", "index.html"] {
        let head = site.head(key).await?;
        let etag = head.e_tag().ok_or("etag")?.trim_matches('"');
        let old = serde_json::json!({"etag": etag, "md5": etag, "size": head.content_length(),
            "content_type": head.content_type(), "cache_control": head.cache_control()});
        objects.insert(key.to_string(), old);
    }
    let manifest = serde_json::json!({"version": 1, "generation": 1, "objects": objects});
    // Written as colorid wrote it then: plain JSON.
    site.target
        .s3
        .put_object()
        .bucket(&site.target.bucket)
        .key(MANIFEST_KEY)
        .body(serde_json::to_vec(&manifest)?.into())
        .send()
        .await?;

    assert_eq!(counts(&site.publish(false).await?), (2, 0, 2));
    assert_eq!(counts(&site.publish(false).await?), (0, 0, 2));
    Ok(())
}
