//! `colorid publish`: push the site directory to the bucket, changing only what
//! differs, and invalidate only the changed paths.
//!
//! # How changes are found without a request per file
//!
//! The site is walked (one stat per file) while the manifest
//! `.colorid/manifest.json` is read: the record, written at the end of every
//! publish, of each object publish wrote (its ETag, the body's MD5, size, the
//! file's modification time, and the Content-Type and Cache-Control it set).
//! Like git's index, the manifest is trusted: a no-op publish is one walk, one
//! GET (and one HEAD, below) and no write, at any site size. Only files that may
//! have changed are read and hashed (MD5, all cores): a file whose size and
//! modification time equal its record keeps the recorded MD5 (`--force` reads all),
//! and a new file is hashed by the upload from the same read that sends it.
//!
//! The bucket is listed instead (one ListObjectsV2 per prefix, prefixes in
//! parallel) when the manifest cannot be trusted: there is none or it is
//! unreadable, the publish that wrote it did not finish (a marker object
//! `.colorid/unfinished` is written before a publish's first change and deleted
//! after its manifest; a bucket without a manifest needs none, as the next
//! publish lists it anyway), or `--verify`/`--force` asks for it because something
//! other than colorid may have changed the bucket. With a listing, a manifest
//! record counts only while its ETag equals the listing's; other objects (and keys
//! missing from the manifest) get one HEAD each, which reads the headers and the
//! body's MD5: the ETag of a single-part object stored plaintext or with SSE-S3, else
//! the `md5` user metadata every other upload carries (multipart ETags and SSE-KMS
//! ones are not an MD5 of the body; see `put_digest`). Objects only a HEAD could vouch
//! for are invalidated too, since CloudFront may hold another version of them.
//!
//! The manifest lives in the site bucket under `.colorid/`, which the bucket
//! policy keeps CloudFront out of. Publish never deletes or invalidates it, and
//! never deletes hidden or ignored keys. Invalidation paths that could not be sent
//! are kept in the manifest and sent by the next publish.

mod bucket_view;
mod diff;
mod error;
mod hash;
mod header_update;
mod headers;
mod invalidation;
mod local_file;
mod local_site;
mod manifest;
mod md5_hex;
mod multipart;
mod put_digest;
mod remote;
mod report;
mod scan;
mod settings;
pub mod site_path;
mod sorted;
mod upload;
mod walk;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};

pub use error::PublishError;
pub use headers::{ObjectHeaders, content_type, is_fingerprinted};
pub use invalidation::{caller_reference, invalidation_paths};
pub use local_site::LocalSite;
pub use remote::{MANIFEST_KEY, PRIVATE_PREFIX, UNFINISHED_KEY};
pub use report::{Action, FileReport, PublishEvent, PublishReport, PublishSummary};
pub use scan::SiteScan;
pub use settings::{CacheRule, PublishSettings, SettingsProblem};

use bucket_view::Bucket;
use diff::Change;
use local_file::LocalFile;
use manifest::{Manifest, ObjectRecord};
use walk::is_hidden;

/// Where to publish.
#[derive(Debug, Clone)]
pub struct PublishTarget {
    pub s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    pub bucket: String,
    /// Without one, nothing is invalidated.
    pub distribution_id: Option<String>,
    pub site_dir: PathBuf,
    /// Files the CLI makes (e.g. config.json); never written into `site_dir`.
    pub generated: Vec<GeneratedFile>,
}

/// A file made at publish time, served with `Cache-Control: no-cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub key: String,
    pub body: Vec<u8>,
}

/// Command-line switches of `colorid publish`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// Plan only: no call that changes anything.
    pub dry_run: bool,
    /// Upload every file, and allow deleting more than `delete_limit` files
    /// (implies `verify`).
    pub force: bool,
    /// List the bucket rather than trust the manifest of the last publish.
    pub verify: bool,
    /// Leave objects without a local file in place.
    pub no_delete: bool,
    /// Wait until CloudFront has finished the invalidation.
    pub wait: bool,
}

/// Publishes the site: uploads new and changed files, fixes headers, deletes
/// files no longer in the site, writes the manifest and invalidates what changed.
/// Four phases: [`plan`] (what differs), [`report`] (what will happen, and
/// which paths go stale), [`apply`] (the writes) and [`finalize`] (manifest and
/// invalidation).
pub async fn publish(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    progress: &dyn Fn(PublishEvent),
) -> Result<PublishReport, PublishError> {
    let scan = SiteScan::start(target.site_dir.clone(), settings);
    publish_scanned(target, settings, options, progress, scan).await
}

/// [`publish`] with the walk of `target.site_dir` already started (by
/// [`SiteScan::start`] with the same settings), so that what the caller did since
/// ran beside it.
pub async fn publish_scanned(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    progress: &dyn Fn(PublishEvent),
    scan: SiteScan,
) -> Result<PublishReport, PublishError> {
    let planned = plan_scanned(target, settings, options, progress, scan).await?;
    carry_out(target, settings, options, progress, planned).await
}

/// A publish planned and not yet carried out: what differs, and the report of
/// what carrying it out changes.
pub struct PublishPlan {
    planned: Planned,
    report: PublishReport,
    /// The keys whose cached copies go stale, each with how it changed.
    stale: BTreeMap<String, String>,
    dry_run: bool,
    started: Instant,
    started_ns: u64,
}

impl PublishPlan {
    /// Whether [`carry_out`] makes no request at all: nothing to upload, update or
    /// delete, a manifest that already records the bucket and the files' times, no
    /// mark of an unfinished publish to clear and nothing to invalidate (or a dry
    /// run). A caller may then carry it out without the stack lock: a run that
    /// writes nothing cannot interfere with one that writes.
    pub fn writes_nothing(&self) -> bool {
        let p = &self.planned;
        self.dry_run || (p.manifest_as_is && self.stale.is_empty() && p.racy == 0 && !p.unfinished)
    }
}

/// The first half of [`publish_scanned`]: walks, reads the manifest (and lists
/// and HEADs what it cannot vouch for), and plans. Makes no change.
pub async fn plan_scanned(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    progress: &dyn Fn(PublishEvent),
    scan: SiteScan,
) -> Result<PublishPlan, PublishError> {
    if scan.site_dir() != target.site_dir {
        return Err(PublishError::Internal(format!(
            "the walk was of {}, the publish is of {}",
            scan.site_dir().display(),
            target.site_dir.display()
        )));
    }
    let (started, started_ns) = (scan.started, scan.started_ns);
    let walking = scan.walking()?;
    let planned = plan(
        target,
        settings,
        options,
        progress,
        walking,
        (started, started_ns),
    )
    .await?;
    let (report, stale) = report(target, settings, options, &planned);
    Ok(PublishPlan {
        planned,
        report,
        stale,
        dry_run: options.dry_run,
        started,
        started_ns,
    })
}

/// The second half of [`publish_scanned`]: the writes of `plan` (none for a dry
/// run), the next manifest and the invalidation; `plan` must have been made by
/// [`plan_scanned`] for the same target, settings and options.
pub async fn carry_out(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    progress: &dyn Fn(PublishEvent),
    plan: PublishPlan,
) -> Result<PublishReport, PublishError> {
    let PublishPlan {
        planned,
        mut report,
        mut stale,
        started,
        started_ns,
        ..
    } = plan;
    if !options.dry_run {
        let written = apply(target, settings, &planned, progress, started).await?;
        finalize(
            target,
            options,
            &planned,
            written,
            &mut stale,
            started_ns,
            &mut report,
            progress,
        )
        .await?;
    }
    // The unchanged files' rows take their keys from the plan, which is done with.
    let Planned { plan, manifest, .. } = planned;
    release(manifest);
    report.push_unchanged(plan.unchanged.into_iter().map(|u| (u.key, u.size)));
    report.summary.elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(
        elapsed_ms = report.summary.elapsed_ms,
        "publish phase: manifest written, invalidated"
    );
    Ok(report)
}

/// What the publish found: the plan, the manifest it started from, and how
/// many files it had to read.
struct Planned {
    plan: diff::Plan,
    /// Links to files outside the site directory, not published.
    outside_links: Vec<String>,
    manifest: Manifest,
    /// The plan leaves the bucket as the manifest records it
    /// ([`diff::Plan::leaves_manifest_as_is`], asked once: it compares every key).
    manifest_as_is: bool,
    hashed: usize,
    racy: usize,
    /// A publish marked the bucket and did not finish: this one clears the mark.
    unfinished: bool,
    /// The bucket holds a manifest (readable or not) that a run dying between its
    /// first change and its own manifest would leave out of date.
    manifest_stored: bool,
}

impl Planned {
    /// Whether the mark of an unfinished publish goes up before this run's first
    /// change: only over a stored manifest, and only when it is not up already. A
    /// bucket without a manifest is listed by the next publish in any case, so a
    /// first upload spends no request on the mark (nor on taking it down).
    fn marks_first(&self) -> bool {
        self.manifest_stored && !self.unfinished
    }

    /// Whether the mark is up once this run has changed the bucket, to come down
    /// after its manifest.
    fn marked(&self) -> bool {
        self.unfinished || (self.manifest_stored && self.plan.changes_bucket())
    }
}

/// Waits for the walk, lists the bucket, reads the manifest, reads only the files
/// that may have changed, HEADs only the objects the manifest cannot vouch for,
/// and plans the changes (refusing a mass delete without `--force`).
async fn plan(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    progress: &dyn Fn(PublishEvent),
    mut walking: scan::Walking,
    (started, started_ns): (Instant, u64),
) -> Result<Planned, PublishError> {
    let s3 = &remote::md5_checked(&target.s3);
    let bucket = target.bucket.as_str();

    // The walk needs nothing remote; what to hash needs the manifest (and the
    // listing, when the manifest cannot be trusted).
    let walked = async {
        let walked = walking.files().await;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "publish phase: walked"
        );
        walked
    };
    let reading = async {
        let manifest = remote::read_manifest(s3, bucket).await;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "publish phase: manifest read"
        );
        manifest
    };
    let ((walked, outside_links), manifest, unfinished) =
        tokio::try_join!(walked, reading, remote::unfinished(s3, bucket))?;
    for key in &outside_links {
        progress(PublishEvent::SkippedLink { key: key.clone() });
    }
    let manifest_stored = !matches!(manifest, remote::StoredManifest::Absent);
    let manifest = manifest.read();
    let trusted = manifest.is_some() && !unfinished && !options.force && !options.verify;
    let manifest = manifest.unwrap_or_default();
    let listing = if trusted {
        None
    } else {
        Some(remote::list_objects(s3, bucket, settings.concurrency).await?)
    };
    let bucket_view = listing.as_ref().map_or(Bucket::Recorded, Bucket::Listed);
    tracing::debug!(
        files = walked.len(),
        listed = listing.as_ref().map(BTreeMap::len),
        trusted,
        unfinished,
        manifest_objects = manifest.objects.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "publish phase: walked, manifest read, bucket known"
    );
    let resolved = hash::resolve(
        &target.site_dir,
        walked,
        &manifest,
        bucket_view,
        options.force,
        started_ns,
    )
    .await?;
    let (mut local, hashed) = (resolved.files, resolved.hashed);
    // In key order (the walk's), a generated file in place of a site file of its key:
    // the few generated files are put in place, the site's files not sorted again.
    for g in &target.generated {
        let file = (
            LocalFile::generated(&g.key, &g.body),
            walking.rules.headers(&g.key, true),
        );
        match local.binary_search_by(|(f, _)| f.key.as_str().cmp(&g.key)) {
            Ok(at) => local[at] = file,
            Err(at) => local.insert(at, file),
        }
    }
    progress(PublishEvent::Hashed {
        files: local.len(),
        bytes: local.iter().map(|(f, _)| f.size).sum(),
        hashed,
    });

    let to_head = diff::keys_to_head(&local, bucket_view, &manifest);
    tracing::debug!(
        hashed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "publish phase: hashed what may have changed"
    );
    let heads = to_head.len();
    let headed = remote::head_objects(s3, bucket, to_head, settings.concurrency).await?;
    tracing::debug!(
        heads,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "publish phase: headed and planned"
    );
    let keep = |key: &str| is_hidden(key) || walking.ignore.is_match(key);
    let plan = diff::plan(
        local,
        bucket_view,
        &manifest,
        &headed,
        options.force,
        !options.no_delete,
        keep,
    );
    if plan.deletes.len() > settings.delete_limit && !options.force {
        return Err(PublishError::DeleteGuard {
            bucket: bucket.to_string(),
            count: plan.deletes.len(),
            limit: settings.delete_limit,
        });
    }
    progress(PublishEvent::Planned {
        upload: plan.uploads.len(),
        update_headers: plan.header_updates.len(),
        delete: plan.deletes.len(),
        unchanged: plan.unchanged.len(),
    });
    Ok(Planned {
        manifest_as_is: plan.leaves_manifest_as_is(&manifest),
        plan,
        outside_links,
        manifest,
        hashed,
        racy: resolved.racy,
        unfinished,
        manifest_stored,
    })
}

/// The report of what the publish changes (the unchanged files' rows are added at
/// the end, with the plan's own keys), and the keys whose cached copies may be
/// stale, each with how it changed (for the invalidation's caller reference).
fn report(
    target: &PublishTarget,
    settings: &PublishSettings,
    options: &PublishOptions,
    planned: &Planned,
) -> (PublishReport, BTreeMap<String, String>) {
    let plan = &planned.plan;
    let mut stale: BTreeMap<String, String> = BTreeMap::new();
    // Uploads are filled in with their new MD5 once written (new files are hashed then).
    for c in &plan.uploads {
        stale.insert(c.file.key.clone(), String::new());
    }
    for c in &plan.header_updates {
        stale.insert(
            c.file.key.clone(),
            format!("{}|{}", c.headers.content_type, c.headers.cache_control),
        );
    }
    for (key, _) in &plan.deletes {
        stale.insert(key.clone(), "deleted".to_string());
    }
    for u in &plan.unchanged {
        if let Some(headed) = &u.headed {
            stale.insert(u.key.clone(), format!("unvouched {}", headed.md5));
        }
    }
    for key in &planned.manifest.pending_invalidation {
        stale
            .entry(key.clone())
            .or_insert_with(|| "pending".to_string());
    }
    let paths = invalidation_paths(stale.keys().map(String::as_str), settings);

    let mut report = PublishReport::new(
        &target.bucket,
        target.distribution_id.as_deref(),
        options.dry_run,
    );
    report.skipped_links = planned.outside_links.clone();
    for c in &plan.uploads {
        report.push(&c.file.key, Action::Upload, c.reason, c.file.size);
    }
    for c in &plan.header_updates {
        report.push(&c.file.key, Action::UpdateHeaders, c.reason, c.file.size);
    }
    for (key, size) in &plan.deletes {
        report.push(key, Action::Delete, "not in site", *size);
    }
    report.summary.invalidation_paths = paths;
    report.summary.files_hashed = planned.hashed;
    (report, stale)
}

/// Uploads new and changed files and fixes headers (concurrently), then
/// deletes what is gone; returns the records of what was written.
async fn apply(
    target: &PublishTarget,
    settings: &PublishSettings,
    planned: &Planned,
    progress: &dyn Fn(PublishEvent),
    started: Instant,
) -> Result<BTreeMap<String, ObjectRecord>, PublishError> {
    let s3 = &remote::md5_checked(&target.s3);
    let bucket = target.bucket.as_str();
    let plan = &planned.plan;
    if !plan.changes_bucket() {
        return Ok(BTreeMap::new());
    }
    // Until the manifest records these changes, the next publish must not trust it.
    if planned.marks_first() {
        remote::mark_unfinished(s3, bucket).await?;
    }
    let threshold = settings.multipart_threshold_bytes();
    let site_dir = target.site_dir.as_path();
    let etags = &put_digest::EtagDigests::for_bucket(&planned.manifest);
    let changes: Vec<(&Change, bool)> = plan
        .uploads
        .iter()
        .map(|c| (c, true))
        .chain(plan.header_updates.iter().map(|c| (c, false)))
        .collect();
    let written: BTreeMap<String, ObjectRecord> = futures::stream::iter(changes)
        .map(|(change, body)| async move {
            let record = if body {
                let record = upload::upload(s3, bucket, change, threshold, site_dir, etags).await?;
                progress(PublishEvent::Uploaded {
                    key: change.file.key.clone(),
                    bytes: change.file.size,
                });
                record
            } else {
                let record = header_update::update_headers(s3, bucket, change).await?;
                progress(PublishEvent::HeadersUpdated {
                    key: change.file.key.clone(),
                });
                record
            };
            Ok::<_, PublishError>((change.file.key.clone(), record))
        })
        .buffer_unordered(settings.concurrency)
        .try_collect()
        .await?;
    tracing::debug!(
        written = written.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "publish phase: uploaded"
    );
    if !plan.deletes.is_empty() {
        let keys: Vec<String> = plan.deletes.iter().map(|(k, _)| k.clone()).collect();
        upload::delete_keys(s3, bucket, &keys, settings.concurrency).await?;
        progress(PublishEvent::Deleted { count: keys.len() });
    }
    Ok(written)
}

/// Writes the next manifest and invalidates the stale paths. When the
/// invalidation fails, the manifest keeps its paths for the next publish.
#[allow(clippy::too_many_arguments)]
async fn finalize(
    target: &PublishTarget,
    options: &PublishOptions,
    planned: &Planned,
    written: BTreeMap<String, ObjectRecord>,
    stale: &mut BTreeMap<String, String>,
    started_ns: u64,
    report: &mut PublishReport,
    progress: &dyn Fn(PublishEvent),
) -> Result<(), PublishError> {
    let s3 = &remote::md5_checked(&target.s3);
    let bucket = target.bucket.as_str();
    let Planned {
        plan,
        manifest,
        racy,
        unfinished,
        ..
    } = planned;
    let (racy, unfinished) = (*racy, *unfinished);
    let marked = planned.marked();
    // Files read only because they were too recent to trust last time are recorded
    // again so the next publish can trust them.
    if planned.manifest_as_is && stale.is_empty() && racy == 0 {
        // The bucket is as the manifest records it.
        if unfinished {
            remote::clear_unfinished(s3, bucket).await?;
        }
        return Ok(());
    }
    let mut next = Manifest {
        version: 1,
        generation: manifest.generation,
        started_ns: manifest.started_ns,
        objects: plan
            .unchanged
            .iter()
            .filter_map(|u| Some((u.key.clone(), u.record(manifest)?)))
            .collect(),
        pending_invalidation: Vec::new(),
    };
    for c in &plan.uploads {
        let new_md5 = written.get(&c.file.key).map_or("", |r| r.md5.as_str());
        stale.insert(
            c.file.key.clone(),
            format!("{}>{new_md5}", c.old_md5.as_deref().unwrap_or("-")),
        );
    }
    next.objects.extend(written);
    if next == *manifest && stale.is_empty() && racy == 0 {
        if unfinished {
            remote::clear_unfinished(s3, bucket).await?;
        }
        return Ok(());
    }
    next.generation += 1;
    next.started_ns = started_ns;

    let paths = report.summary.invalidation_paths.clone();
    let Some(distribution) = target
        .distribution_id
        .as_ref()
        .filter(|_| !paths.is_empty())
    else {
        return save(s3, bucket, &next, marked).await;
    };
    progress(PublishEvent::Invalidating {
        paths: paths.clone(),
    });
    let changes: Vec<String> = stale.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let reference = caller_reference(&paths, &changes, next.generation);
    let cloudfront = &target.cloudfront;
    match invalidation::create_invalidation(cloudfront, distribution, &paths, &reference, progress)
        .await
    {
        Ok((id, completed)) => {
            save(s3, bucket, &next, marked).await?;
            report.summary.invalidation_id = Some(id.clone());
            if options.wait && !completed {
                invalidation::wait_for_invalidation(cloudfront, distribution, &id, progress)
                    .await?;
            }
            Ok(())
        }
        Err(e) => {
            next.pending_invalidation = std::mem::take(stale).into_keys().collect();
            save(s3, bucket, &next, marked).await?;
            Err(e)
        }
    }
}

/// Frees the manifest on a blocking thread: at 50,000 files that is a hundred
/// thousand allocations the caller need not wait for.
fn release(manifest: Manifest) {
    drop(tokio::task::spawn_blocking(move || drop(manifest)));
}

/// Writes the manifest, then clears the mark when it is up (`marked`: `apply` put it
/// up, or a publish that did not finish left it): from then on the next publish can
/// trust the manifest again.
async fn save(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    manifest: &Manifest,
    marked: bool,
) -> Result<(), PublishError> {
    remote::write_manifest(s3, bucket, manifest).await?;
    if marked {
        remote::clear_unfinished(s3, bucket).await?;
    }
    Ok(())
}
