//! Telling CloudFront which paths changed, folded to stay within its limits.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use sha2::{Digest, Sha256};
// Tokio's clock, not std's: the waits below are measured on the clock they sleep on
// (which tests can pause and advance).
use tokio::time::Instant;

use super::error::{AwsFailure, PublishError};
use super::report::PublishEvent;
use super::settings::PublishSettings;

/// CloudFront allows at most 15 wildcard paths in progress per distribution.
pub const MAX_WILDCARDS: usize = 15;
const POLL_EVERY: Duration = Duration::from_secs(5);
const MAX_WAIT: Duration = Duration::from_secs(20 * 60);

/// The paths to invalidate for a set of changed keys.
///
/// Each key is invalidated at `/key`, the path CloudFront caches it under:
/// the stack's viewer-request function turns `/dir/` (and `/`) into
/// `/dir/index.html` before the cache is consulted, so no `/dir/` is ever
/// cached ([`crate::edge`]). `fold_threshold` or more paths in one directory become `/dir/*`; more than
/// `invalidation_max_paths` paths or [`MAX_WILDCARDS`] wildcards become `/*`.
pub fn invalidation_paths<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    settings: &PublishSettings,
) -> Vec<String> {
    let mut by_dir: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for key in keys {
        let (dir, _) = key.rsplit_once('/').unwrap_or(("", key));
        let paths = by_dir.entry(dir).or_default();
        paths.insert(format!("/{}", encode_path(key)));
    }
    let mut wildcards = BTreeSet::new();
    let mut exact = BTreeSet::new();
    for (dir, paths) in by_dir {
        if paths.len() >= settings.fold_threshold {
            wildcards.insert(if dir.is_empty() {
                "/*".to_string()
            } else {
                format!("/{}/*", encode_path(dir))
            });
        } else {
            exact.extend(paths);
        }
    }
    // "/a/*" also covers "/a/b/*" and "/a/x.js".
    let prefixes: Vec<&str> = wildcards.iter().map(|w| w.trim_end_matches('*')).collect();
    let covered = |p: &str| {
        prefixes
            .iter()
            .any(|prefix| p.strip_prefix(prefix).is_some_and(|rest| rest != "*"))
    };
    let mut paths: Vec<String> = wildcards
        .iter()
        .chain(exact.iter())
        .filter(|p| !covered(p))
        .cloned()
        .collect();
    let wildcard_count = paths.iter().filter(|p| p.ends_with('*')).count();
    if paths.len() > settings.invalidation_max_paths || wildcard_count > MAX_WILDCARDS {
        paths = vec!["/*".to_string()];
    }
    paths.sort();
    paths
}

/// A key as browsers send it in a request's path, which is what CloudFront matches
/// invalidation paths against: "If the path includes non-ASCII characters or unsafe
/// characters as defined in RFC 1738, URL-encode those characters. Do not URL-encode
/// any other characters in the path, or CloudFront will not invalidate the old version"
/// (API_InvalidationBatch). So `logo@2x.png` stays as it is, a space is `%20`, `é`
/// is `%C3%A9`; `*` is encoded too, being the invalidation wildcard. `~` is RFC 1738's
/// but browsers send it as it is, so it stays.
pub fn encode_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b <= b' ' || b >= 0x7f || b"\"#%<>?[\\]^`{|}*".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// CloudFront's idempotency token for one invalidation. The same paths with the same
/// content transitions in the same manifest generation give the same reference (a
/// retried publish does not invalidate twice); anything else, including the same files
/// edited back to an earlier version, gives a new one.
pub fn caller_reference(paths: &[String], changes: &[String], generation: u64) -> String {
    let mut hasher = Sha256::new();
    let mut paths = paths.to_vec();
    paths.sort();
    let mut changes = changes.to_vec();
    changes.sort();
    for part in paths.iter().chain([&String::new()]).chain(changes.iter()) {
        hasher.update(part.as_bytes());
        hasher.update(b"\n");
    }
    let digest = hex::encode(hasher.finalize());
    format!("colorid-{generation}-{}", &digest[..32])
}

/// The first wait after CloudFront said too many invalidations are in progress; it
/// doubles up to [`QUEUED_MAX_BACKOFF`], for at most [`MAX_WAIT`] in all.
const QUEUED_BACKOFF: Duration = Duration::from_secs(2);
const QUEUED_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Creates the invalidation; returns its id and whether it is already complete. While
/// CloudFront has too many in progress for the distribution (3,000 paths, 15 wildcard
/// paths), it waits for earlier ones to finish and tries again, with backoff.
pub(crate) async fn create_invalidation(
    cloudfront: &CloudFrontClient,
    distribution: &str,
    paths: &[String],
    reference: &str,
    progress: &dyn Fn(PublishEvent),
) -> Result<(String, bool), PublishError> {
    let started = Instant::now();
    let mut backoff = QUEUED_BACKOFF;
    loop {
        match create_once(cloudfront, distribution, paths, reference).await {
            Err(Queued) if started.elapsed() + backoff < MAX_WAIT => {
                progress(PublishEvent::Queued {
                    elapsed: started.elapsed(),
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(QUEUED_MAX_BACKOFF);
            }
            Err(Queued) => {
                return Err(PublishError::Invalidate {
                    distribution: distribution.to_string(),
                    paths: paths.len(),
                    aws: "TooManyInvalidationsInProgress".into(),
                    hint: crate::advice::remedy_for(Some("TooManyInvalidationsInProgress"), None),
                });
            }
            Err(Failed(e)) => return Err(e),
            Ok(done) => return Ok(done),
        }
    }
}

/// Why one create did not go through.
enum CreateFailure {
    /// TooManyInvalidationsInProgress: earlier invalidations must finish first.
    Queued,
    Failed(PublishError),
}
use CreateFailure::{Failed, Queued};

async fn create_once(
    cloudfront: &CloudFrontClient,
    distribution: &str,
    paths: &[String],
    reference: &str,
) -> Result<(String, bool), CreateFailure> {
    let fail = |aws: String, hint: String| PublishError::Invalidate {
        distribution: distribution.to_string(),
        paths: paths.len(),
        aws,
        hint,
    };
    let batch = Paths::builder()
        .quantity(paths.len() as i32)
        .set_items(Some(paths.to_vec()))
        .build()
        .and_then(|p| {
            InvalidationBatch::builder()
                .paths(p)
                .caller_reference(reference)
                .build()
        })
        .map_err(|e| Failed(PublishError::Internal(e.to_string())))?;
    let output = cloudfront
        .create_invalidation()
        .distribution_id(distribution)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| {
            if aws_sdk_cloudfront::error::ProvideErrorMetadata::code(&e)
                == Some("TooManyInvalidationsInProgress")
            {
                return Queued;
            }
            let f = AwsFailure::of(&e);
            Failed(fail(f.aws, f.hint))
        })?;
    let invalidation = output.invalidation().ok_or_else(|| {
        Failed(fail(
            "the response held no invalidation".into(),
            "run publish again".into(),
        ))
    })?;
    Ok((
        invalidation.id().to_string(),
        is_completed(invalidation.status()),
    ))
}

fn is_completed(status: &str) -> bool {
    status.eq_ignore_ascii_case("completed")
}

/// Polls until the invalidation completes, reporting elapsed time.
pub(crate) async fn wait_for_invalidation(
    cloudfront: &CloudFrontClient,
    distribution: &str,
    id: &str,
    progress: &dyn Fn(PublishEvent),
) -> Result<(), PublishError> {
    let started = Instant::now();
    loop {
        let output = cloudfront
            .get_invalidation()
            .distribution_id(distribution)
            .id(id)
            .send()
            .await
            .map_err(|e| {
                let f = AwsFailure::of(&e);
                PublishError::Invalidate {
                    distribution: distribution.to_string(),
                    paths: 0,
                    aws: f.aws,
                    hint: f.hint,
                }
            })?;
        if output
            .invalidation()
            .is_some_and(|i| is_completed(i.status()))
        {
            return Ok(());
        }
        let elapsed = started.elapsed();
        if elapsed >= MAX_WAIT {
            return Err(PublishError::InvalidationTimeout {
                distribution: distribution.to_string(),
                id: id.to_string(),
                waited: elapsed,
            });
        }
        progress(PublishEvent::Waiting {
            id: id.to_string(),
            elapsed,
        });
        tokio::time::sleep(POLL_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_as_browsers_send_them() {
        assert_eq!(encode_path("img/logo@2x.png"), "img/logo@2x.png");
        assert_eq!(encode_path("a b/é.html"), "a%20b/%C3%A9.html");
        assert_eq!(encode_path("x(1)+y,z;=!$&'~:.js"), "x(1)+y,z;=!$&'~:.js");
        assert_eq!(encode_path("100%/a*b?#.txt"), "100%25/a%2Ab%3F%23.txt");
    }

    fn paths(keys: &[&str], settings: &PublishSettings) -> Vec<String> {
        invalidation_paths(keys.iter().copied(), settings)
    }

    #[test]
    fn each_key_is_invalidated_under_the_path_cloudfront_caches_it_at() {
        let s = PublishSettings::default();
        assert_eq!(paths(&["index.html"], &s), ["/index.html"]);
        assert_eq!(
            paths(&["docs/index.html", "app.js"], &s),
            ["/app.js", "/docs/index.html"]
        );
        assert_eq!(paths(&["a b/x.css"], &s), ["/a%20b/x.css"]);
        // A viewer asking for /docs/ is cached under the function's rewrite of it.
        let rewritten = crate::edge::directory_index::rewrite("/docs/");
        assert!(paths(&["docs/index.html"], &s).contains(&rewritten));
        assert_eq!(crate::edge::directory_index::rewrite("/"), "/index.html");
    }

    #[test]
    fn folds_busy_directories_and_drops_what_they_cover() {
        let s = PublishSettings {
            fold_threshold: 3,
            ..Default::default()
        };
        let got = paths(
            &["a/1.js", "a/2.js", "a/3.js", "a/b/4.js", "c/5.js", "c/6.js"],
            &s,
        );
        assert_eq!(got, ["/a/*", "/c/5.js", "/c/6.js"]);
        let nested = paths(&["a/1", "a/2", "a/3", "a/b/1", "a/b/2", "a/b/3"], &s);
        assert_eq!(nested, ["/a/*"]);
        let root = paths(&["1", "2", "3", "x/y"], &s);
        assert_eq!(root, ["/*"]);
    }

    #[test]
    fn too_many_paths_or_wildcards_become_everything() {
        let s = PublishSettings {
            invalidation_max_paths: 3,
            ..Default::default()
        };
        assert_eq!(paths(&["a", "b", "c"], &s).len(), 3);
        assert_eq!(paths(&["a", "b", "c", "d"], &s), ["/*"]);
        let s = PublishSettings {
            fold_threshold: 2,
            ..Default::default()
        };
        let keys: Vec<String> = (0..16)
            .flat_map(|d| [format!("d{d}/a"), format!("d{d}/b")])
            .collect();
        assert_eq!(
            invalidation_paths(keys.iter().map(String::as_str), &s),
            ["/*"]
        );
        let keys: Vec<String> = (0..15)
            .flat_map(|d| [format!("d{d}/a"), format!("d{d}/b")])
            .collect();
        assert_eq!(
            invalidation_paths(keys.iter().map(String::as_str), &s).len(),
            15
        );
    }

    #[test]
    fn caller_reference_depends_on_sorted_paths_changes_and_generation() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = caller_reference(&p(&["/b", "/a"]), &p(&["a:1>2"]), 4);
        assert_eq!(a, caller_reference(&p(&["/a", "/b"]), &p(&["a:1>2"]), 4));
        assert!(a.starts_with("colorid-4-") && a.len() <= 128);
        assert_ne!(a, caller_reference(&p(&["/a"]), &p(&["a:1>2"]), 4));
        assert_ne!(a, caller_reference(&p(&["/a", "/b"]), &p(&["a:2>1"]), 4));
        assert_ne!(a, caller_reference(&p(&["/a", "/b"]), &p(&["a:1>2"]), 5));
    }

    use aws_sdk_cloudfront::operation::create_invalidation::CreateInvalidationOutput;
    use aws_sdk_cloudfront::operation::get_invalidation::GetInvalidationOutput;
    use aws_sdk_cloudfront::types::Invalidation;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use std::sync::Mutex;

    /// CloudFront's answer while too many invalidations are in progress, as it sends it
    /// (API_CreateInvalidation: HTTP 400, code TooManyInvalidationsInProgress).
    const QUEUED_BODY: &str = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type><Code>TooManyInvalidationsInProgress</Code><Message>Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.</Message></Error><RequestId>r</RequestId></ErrorResponse>";
    const DENIED_BODY: &str = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: cloudfront:CreateInvalidation</Message></Error><RequestId>r</RequestId></ErrorResponse>";

    fn invalidation(id: &str, status: &str) -> Invalidation {
        Invalidation::builder()
            .id(id)
            .status(status)
            .create_time(aws_smithy_types::DateTime::from_secs(0))
            .invalidation_batch(
                InvalidationBatch::builder()
                    .caller_reference("r")
                    .paths(Paths::builder().quantity(0).build().unwrap())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn created(id: &'static str, status: &'static str) -> impl Fn() -> CreateInvalidationOutput {
        move || {
            CreateInvalidationOutput::builder()
                .invalidation(invalidation(id, status))
                .build()
        }
    }

    /// CreateInvalidation refused as queued `refusals` times, then created (InProgress).
    fn queued_then_created(refusals: usize, id: &'static str) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_cloudfront::Client::create_invalidation)
            .sequence()
            .http_status(400, Some(QUEUED_BODY.into()))
            .times(refusals)
            .output(created(id, "InProgress"))
            .build()
    }

    /// When each progress event (a queued retry or a poll) was reported, in seconds.
    fn secs(events: &Mutex<Vec<PublishEvent>>) -> Vec<u64> {
        events
            .lock()
            .unwrap()
            .iter()
            .map(|e| match e {
                PublishEvent::Queued { elapsed } | PublishEvent::Waiting { elapsed, .. } => {
                    elapsed.as_secs()
                }
                other => panic!("unexpected event {other}"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_batch_names_every_path_and_the_reference_and_its_status_is_read() {
        let paths = vec!["/a.js".to_string(), "/b/*".to_string()];
        for (status, done) in [("Completed", true), ("InProgress", false)] {
            let create = mock!(aws_sdk_cloudfront::Client::create_invalidation)
                .match_requests(|r| {
                    let batch = r.invalidation_batch().unwrap();
                    r.distribution_id() == Some("E1")
                        && batch.caller_reference() == "colorid-1-abc"
                        && batch.paths().unwrap().quantity() == 2
                        && batch.paths().unwrap().items() == ["/a.js", "/b/*"]
                })
                .then_output(created("I1", status));
            let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&create]);
            let got = create_invalidation(&cf, "E1", &paths, "colorid-1-abc", &|_| {})
                .await
                .unwrap();
            assert_eq!(got, ("I1".to_string(), done), "{status}");
            assert_eq!(create.num_calls(), 1);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_invalidation_is_tried_again_with_doubling_backoff() {
        let create = queued_then_created(6, "I2");
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&create]);
        let events = Mutex::new(Vec::new());
        let started = Instant::now();
        let got = create_invalidation(&cf, "E1", &["/*".into()], "r", &|e| {
            events.lock().unwrap().push(e)
        })
        .await
        .unwrap();
        assert_eq!(got, ("I2".to_string(), false));
        assert_eq!(create.num_calls(), 7);
        // Waits of 2, 4, 8, 16, 32 and 60 (the cap) seconds, each reported before it.
        assert_eq!(secs(&events), [0, 2, 6, 14, 30, 62]);
        assert_eq!(started.elapsed(), Duration::from_secs(122));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queue_that_never_drains_ends_within_the_wait_limit() {
        // More refusals than the limit allows, then a success that a loop which lost
        // its limit (or its backoff) would reach: it must have given up before.
        let create = queued_then_created(40, "I3");
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&create]);
        let events = Mutex::new(Vec::new());
        let started = Instant::now();
        // Bounded on the paused clock: a retry loop without its limit fails here.
        let record = |e| events.lock().unwrap().push(e);
        let paths = ["/a".to_string(), "/b".to_string()];
        let run = create_invalidation(&cf, "E1", &paths, "r", &record);
        let err = tokio::time::timeout(2 * MAX_WAIT, run)
            .await
            .expect("gave up within the wait limit")
            .unwrap_err();
        match &err {
            PublishError::Invalidate {
                distribution,
                paths,
                aws,
                hint,
            } => {
                assert_eq!((distribution.as_str(), *paths), ("E1", 2));
                assert_eq!(aws, "TooManyInvalidationsInProgress");
                assert!(!hint.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // 2+4+8+16+32 = 62 s, then 60 s at a time while a wait still ends before 20 minutes.
        let waits = secs(&events);
        assert_eq!(waits.len(), 23, "{waits:?}");
        assert_eq!(waits[..7], [0, 2, 6, 14, 30, 62, 122]);
        assert_eq!(*waits.last().unwrap(), 1082);
        assert_eq!(started.elapsed(), Duration::from_secs(1142));
        assert_eq!(create.num_calls(), 24);
    }

    #[tokio::test(start_paused = true)]
    async fn any_other_refusal_ends_at_once_with_its_code() {
        let create = mock!(aws_sdk_cloudfront::Client::create_invalidation)
            .sequence()
            .http_status(403, Some(DENIED_BODY.into()))
            .build();
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&create]);
        let events = Mutex::new(Vec::new());
        let err = create_invalidation(&cf, "E1", &["/a".into()], "r", &|e| {
            events.lock().unwrap().push(e)
        })
        .await
        .unwrap_err();
        match err {
            PublishError::Invalidate { aws, paths, .. } => {
                assert!(aws.contains("AccessDenied"), "{aws}");
                assert_eq!(paths, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(create.num_calls(), 1);
        assert!(events.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_without_the_invalidation_is_an_error() {
        let create = mock!(aws_sdk_cloudfront::Client::create_invalidation)
            .then_output(|| CreateInvalidationOutput::builder().build());
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&create]);
        let err = create_invalidation(&cf, "E1", &["/a".into()], "r", &|_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PublishError::Invalidate { aws, .. } if aws.contains("no invalidation")),
            "{err:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_polls_every_five_seconds_until_completed() {
        let get = mock!(aws_sdk_cloudfront::Client::get_invalidation)
            .match_requests(|r| r.distribution_id() == Some("E1") && r.id() == Some("I1"))
            .sequence()
            .output(|| {
                GetInvalidationOutput::builder()
                    .invalidation(invalidation("I1", "InProgress"))
                    .build()
            })
            .times(2)
            .output(|| {
                GetInvalidationOutput::builder()
                    .invalidation(invalidation("I1", "COMPLETED"))
                    .build()
            })
            .build();
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&get]);
        let events = Mutex::new(Vec::new());
        let started = Instant::now();
        wait_for_invalidation(&cf, "E1", "I1", &|e| events.lock().unwrap().push(e))
            .await
            .unwrap();
        assert_eq!(get.num_calls(), 3);
        assert_eq!(secs(&events), [0, 5]);
        assert!(events.lock().unwrap()[0].to_string().contains("I1"));
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_gives_up_after_twenty_minutes() {
        let get = mock!(aws_sdk_cloudfront::Client::get_invalidation)
            .sequence()
            .output(|| {
                GetInvalidationOutput::builder()
                    .invalidation(invalidation("I1", "InProgress"))
                    .build()
            })
            .repeatedly()
            .build();
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&get]);
        let run = wait_for_invalidation(&cf, "E1", "I1", &|_| {});
        let err = tokio::time::timeout(2 * MAX_WAIT, run)
            .await
            .expect("gave up within the wait limit")
            .unwrap_err();
        match err {
            PublishError::InvalidationTimeout {
                distribution,
                id,
                waited,
            } => {
                assert_eq!((distribution.as_str(), id.as_str()), ("E1", "I1"));
                assert_eq!(waited, MAX_WAIT);
            }
            other => panic!("{other:?}"),
        }
        // A poll at 0, 5, …, 1200 s: the one at 20 minutes is the last.
        assert_eq!(get.num_calls(), 241);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_poll_is_an_error_naming_the_distribution() {
        let get = mock!(aws_sdk_cloudfront::Client::get_invalidation)
            .sequence()
            .http_status(403, Some(DENIED_BODY.into()))
            .build();
        let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, [&get]);
        let err = wait_for_invalidation(&cf, "E1", "I1", &|_| {})
            .await
            .unwrap_err();
        match err {
            PublishError::Invalidate {
                distribution, aws, ..
            } => {
                assert_eq!(distribution, "E1");
                assert!(aws.contains("AccessDenied"), "{aws}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(get.num_calls(), 1);
    }
}
