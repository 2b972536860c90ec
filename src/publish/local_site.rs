//! The working copy as `publish` sees it, for `colorid dev`'s edge: a key is
//! served only when the walk would upload the file under it (see
//! [`super::site_path`]) and no `[publish] ignore` glob matches it.

use std::path::PathBuf;

use super::settings::{KeyGlobs, PublishSettings};
use super::site_path;

/// The site directory with the stack's publish rules.
#[derive(Debug, Clone)]
pub struct LocalSite {
    dir: PathBuf,
    real_dir: PathBuf,
    ignore: KeyGlobs,
}

impl LocalSite {
    /// The site in `dir`; globs that do not compile (config refuses them) ignore nothing.
    pub fn new(dir: PathBuf, settings: &PublishSettings) -> Self {
        let real_dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        let ignore = KeyGlobs::new(settings.ignore.iter().map(String::as_str)).unwrap_or_default();
        Self {
            dir,
            real_dir,
            ignore,
        }
    }

    /// The file `publish` would upload as `key`, if any. Reads the file system.
    pub fn file(&self, key: &str) -> Option<PathBuf> {
        if self.ignore.is_match(key) {
            return None;
        }
        site_path::resolve(&self.dir, &self.real_dir, key)
    }
}
