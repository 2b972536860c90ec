//! What a publish did (or, with `--dry-run`, would do), and progress along the way.

use std::time::Duration;

use serde::Serialize;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Upload,
    UpdateHeaders,
    Delete,
    Unchanged,
}

/// One object in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub key: String,
    pub action: Action,
    /// Why, e.g. `new`, `content changed`, `cache control changed`, `not in site`.
    pub reason: &'static str,
    pub bytes: u64,
}

/// Totals of a publish.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishSummary {
    pub uploaded: usize,
    pub headers_updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub bytes_uploaded: u64,
    /// Local files read to take their MD5 before planning (the others matched the
    /// manifest's size and time, or were new and hashed while uploading).
    pub files_hashed: usize,
    pub invalidation_paths: Vec<String>,
    pub invalidation_id: Option<String>,
    pub elapsed_ms: u64,
}

/// The result of `publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    pub bucket: String,
    pub distribution_id: Option<String>,
    pub dry_run: bool,
    pub files: Vec<FileReport>,
    /// Symbolic links to files outside the site directory, left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_links: Vec<String>,
    pub summary: PublishSummary,
}

/// Progress while publishing, for one human line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishEvent {
    /// A symbolic link to a file outside the site directory, not published.
    SkippedLink {
        key: String,
    },
    /// Local files found; `hashed` of them had to be read to know their MD5.
    Hashed {
        files: usize,
        bytes: u64,
        hashed: usize,
    },
    /// The plan is known.
    Planned {
        upload: usize,
        update_headers: usize,
        delete: usize,
        unchanged: usize,
    },
    Uploaded {
        key: String,
        bytes: u64,
    },
    HeadersUpdated {
        key: String,
    },
    Deleted {
        count: usize,
    },
    Invalidating {
        paths: Vec<String>,
    },
    Waiting {
        id: String,
        elapsed: Duration,
    },
    /// CloudFront has too many invalidations in progress; this one is tried again.
    Queued {
        elapsed: Duration,
    },
}

impl std::fmt::Display for PublishEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SkippedLink { key } => write!(
                f,
                "warning: skipped {key}: a symbolic link to a file outside the site directory, never published"
            ),
            Self::Hashed {
                files,
                bytes,
                hashed,
            } => write!(
                f,
                "found {files} files ({}), hashed {hashed}",
                human_bytes(*bytes)
            ),
            Self::Planned {
                upload,
                update_headers,
                delete,
                unchanged,
            } => write!(
                f,
                "plan: {upload} to upload, {update_headers} to re-header, {delete} to delete, {unchanged} unchanged"
            ),
            Self::Uploaded { key, bytes } => write!(f, "uploaded {key} ({})", human_bytes(*bytes)),
            Self::HeadersUpdated { key } => write!(f, "updated headers of {key}"),
            Self::Deleted { count } => write!(f, "deleted {count} files"),
            Self::Invalidating { paths } => {
                write!(f, "invalidating {} paths: {}", paths.len(), paths.join(" "))
            }
            Self::Waiting { id, elapsed } => {
                write!(f, "waiting for invalidation {id} ({}s)", elapsed.as_secs())
            }
            Self::Queued { elapsed } => write!(
                f,
                "CloudFront has too many invalidations in progress (3,000 paths, 15 wildcards); trying again ({}s)",
                elapsed.as_secs()
            ),
        }
    }
}

impl PublishReport {
    pub(crate) fn new(bucket: &str, distribution_id: Option<&str>, dry_run: bool) -> Self {
        Self {
            bucket: bucket.to_string(),
            distribution_id: distribution_id.map(str::to_string),
            dry_run,
            files: Vec::new(),
            skipped_links: Vec::new(),
            summary: PublishSummary::default(),
        }
    }

    pub(crate) fn push(&mut self, key: &str, action: Action, reason: &'static str, bytes: u64) {
        let s = &mut self.summary;
        match action {
            Action::Upload => {
                s.uploaded += 1;
                s.bytes_uploaded += bytes;
            }
            Action::UpdateHeaders => s.headers_updated += 1,
            Action::Delete => s.deleted += 1,
            Action::Unchanged => s.unchanged += 1,
        }
        self.files.push(FileReport {
            key: key.to_string(),
            action,
            reason,
            bytes,
        });
    }

    /// Adds the rows of unchanged files (key and size), keeping the rows in key order.
    pub(crate) fn push_unchanged(
        &mut self,
        unchanged: impl ExactSizeIterator<Item = (String, u64)>,
    ) {
        self.summary.unchanged += unchanged.len();
        self.files.reserve(unchanged.len());
        self.files.extend(unchanged.map(|(key, bytes)| FileReport {
            key,
            action: Action::Unchanged,
            reason: "unchanged",
            bytes,
        }));
        self.files.sort_by(|a, b| a.key.cmp(&b.key));
    }

    /// Whether the publish changes (or, dry, would change) the bucket or the cache:
    /// an object to upload, re-head or delete, or a path to invalidate.
    pub fn changes(&self) -> bool {
        self.files.iter().any(|f| f.action != Action::Unchanged)
            || !self.summary.invalidation_paths.is_empty()
    }

    /// Keys with the given action, in report order.
    pub fn keys(&self, action: Action) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.action == action)
            .map(|f| f.key.as_str())
            .collect()
    }

    /// One line for people, e.g. `published 3 files (12.0 KiB), ... in 1.2s`.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let verb = if self.dry_run {
            "would publish"
        } else {
            "published"
        };
        let mut line = format!(
            "{verb} {} files ({}), updated headers of {}, deleted {}, {} unchanged",
            s.uploaded,
            human_bytes(s.bytes_uploaded),
            s.headers_updated,
            s.deleted,
            s.unchanged
        );
        match (&s.invalidation_id, s.invalidation_paths.len()) {
            (_, 0) => line.push_str("; nothing to invalidate"),
            (Some(id), n) => line.push_str(&format!("; invalidated {n} paths ({id})")),
            (None, n) if self.distribution_id.is_none() => line.push_str(&format!(
                "; {n} paths changed (no distribution to invalidate)"
            )),
            (None, n) => line.push_str(&format!("; would invalidate {n} paths")),
        }
        line.push_str(&format!(" in {:.1}s", s.elapsed_ms as f64 / 1000.0));
        line
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_and_line() {
        let mut report = PublishReport::new("site", Some("E1"), false);
        report.push("a.html", Action::Upload, "new", 2048);
        report.push("b.css", Action::UpdateHeaders, "cache control changed", 10);
        report.push("c.js", Action::Delete, "not in site", 5);
        report.push("d.png", Action::Unchanged, "unchanged", 7);
        report.summary.invalidation_paths = vec!["/a.html".into(), "/b.css".into()];
        report.summary.invalidation_id = Some("I123".into());
        report.summary.elapsed_ms = 1234;
        assert_eq!(
            report.summary_line(),
            "published 1 files (2.0 KiB), updated headers of 1, deleted 1, 1 unchanged; invalidated 2 paths (I123) in 1.2s"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["files"][1]["action"], "update_headers");
        assert_eq!(json["summary"]["bytes_uploaded"], 2048);
        assert_eq!(report.keys(Action::Delete), ["c.js"]);
    }
}
