//! The site's walk, started ahead of the publish that uses it: the walk needs
//! nothing remote, so `colorid publish` starts it as soon as it has read the stack
//! file, and the SDK's set-up, the state's read, the lock and the bucket's check run
//! beside it instead of before it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::error::PublishError;
use super::headers::{HeaderRules, ObjectHeaders};
use super::settings::{KeyGlobs, PublishSettings};
use super::walk::{self, WalkOutcome};

/// A walk of the site directory under way, with what the publish needs of the
/// settings it was started with.
pub struct SiteScan {
    site_dir: PathBuf,
    /// When the scan started; a publish's elapsed time counts from here.
    pub(crate) started: Instant,
    /// The same, as a file time (ns since the epoch): files not clearly older than
    /// this are read again by the next publish (see `hash::resolve`).
    pub(crate) started_ns: u64,
    prepared: Result<Walking, PublishError>,
}

/// A walk started with valid settings, and what the publish needs of them.
pub(crate) struct Walking {
    pub ignore: KeyGlobs,
    pub rules: Arc<HeaderRules>,
    task: tokio::task::JoinHandle<Result<WalkOutcome<ObjectHeaders>, PublishError>>,
}

impl Walking {
    /// Waits for the walk: the site's files in key order, and the links out of it.
    pub(crate) async fn files(&mut self) -> Result<WalkOutcome<ObjectHeaders>, PublishError> {
        (&mut self.task)
            .await
            .map_err(|e| PublishError::Internal(format!("walking task failed: {e}")))?
    }
}

impl SiteScan {
    /// Starts walking `site_dir` on blocking threads of the current Tokio runtime.
    /// Invalid settings start nothing: the publish given this scan reports them.
    pub fn start(site_dir: PathBuf, settings: &PublishSettings) -> SiteScan {
        let started = Instant::now();
        let started_ns = walk::nanos(SystemTime::now());
        let prepared = Self::begin(&site_dir, settings);
        SiteScan {
            site_dir,
            started,
            started_ns,
            prepared,
        }
    }

    fn begin(site_dir: &Path, settings: &PublishSettings) -> Result<Walking, PublishError> {
        let problems = settings.validate();
        if !problems.is_empty() {
            return Err(PublishError::InvalidSettings(problems));
        }
        let internal = |e: globset::Error| PublishError::Internal(e.to_string());
        let ignore = KeyGlobs::new(settings.ignore.iter().map(String::as_str)).map_err(internal)?;
        let rules = Arc::new(HeaderRules::new(settings).map_err(internal)?);
        let task = walk::start(site_dir.to_path_buf(), ignore.clone(), {
            let rules = rules.clone();
            move |key| rules.headers(key, false)
        });
        Ok(Walking {
            ignore,
            rules,
            task,
        })
    }

    /// The directory being walked.
    pub fn site_dir(&self) -> &Path {
        &self.site_dir
    }

    /// The walk, or what is wrong with the settings it was to be made with.
    pub(crate) fn walking(self) -> Result<Walking, PublishError> {
        self.prepared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::walk::tests::site;

    #[tokio::test]
    async fn the_walk_runs_from_the_start_and_is_dated_before_it() {
        let dir = site(&[
            ("index.html", "<h1>hi</h1>"),
            ("a/app.js", "x"),
            ("a/x.map", "{}"),
        ]);
        let before = walk::nanos(SystemTime::now());
        let settings = PublishSettings {
            ignore: vec!["*.map".into()],
            ..PublishSettings::default()
        };
        let scan = SiteScan::start(dir.path().to_path_buf(), &settings);
        assert_eq!(scan.site_dir(), dir.path());
        assert!(scan.started_ns >= before && scan.started_ns <= walk::nanos(SystemTime::now()));
        let mut walking = scan.walking().unwrap();
        let (files, outside) = walking.files().await.unwrap();
        let keys: Vec<&str> = files.iter().map(|(f, _)| f.key.as_str()).collect();
        assert_eq!(keys, ["a/app.js", "index.html"]);
        assert!(outside.is_empty());
        assert_eq!(&*files[1].1.content_type, "text/html; charset=utf-8");
        assert!(walking.ignore.is_match("b/c.map"));
    }

    #[tokio::test]
    async fn invalid_settings_start_no_walk_and_are_reported() {
        let settings = PublishSettings {
            concurrency: 0,
            ..PublishSettings::default()
        };
        let scan = SiteScan::start("/nonexistent/site".into(), &settings);
        match scan.walking() {
            Err(PublishError::InvalidSettings(problems)) => {
                assert!(problems.iter().any(|p| p.field.contains("concurrency")));
            }
            Err(e) => panic!("wrong error: {e}"),
            Ok(_) => panic!("a walk started with invalid settings"),
        }
    }

    #[tokio::test]
    async fn a_missing_site_dir_is_the_walks_error() {
        let scan = SiteScan::start("/nonexistent/site".into(), &PublishSettings::default());
        let err = scan.walking().unwrap().files().await.unwrap_err();
        assert!(err.to_string().contains("/nonexistent/site"), "{err}");
    }
}
