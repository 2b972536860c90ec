//! The `[publish]` section of stack.toml and its checks.

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

/// S3 rejects multipart parts smaller than 5 MiB (except the last one).
pub const MIN_MULTIPART_THRESHOLD_MIB: u64 = 5;
/// A single PutObject may carry at most 5 GiB.
pub const MAX_MULTIPART_THRESHOLD_MIB: u64 = 5 * 1024;
/// CloudFront accepts at most 3,000 paths in progress per distribution.
pub const MAX_INVALIDATION_PATHS: usize = 3000;
/// More concurrent requests than this mostly buys throttling (S3 `SlowDown`).
pub const MAX_CONCURRENCY: usize = 256;

/// stack.toml `[publish]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishSettings {
    /// Globs of site files never published (and never deleted from the bucket).
    pub ignore: Vec<String>,
    /// Cache-Control rules; the first matching rule wins, built-in defaults apply after.
    pub cache_control: Vec<CacheRule>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Files at least this large are uploaded in parts of this size.
    pub multipart_threshold_mib: u64,
    /// More deletions than this are refused unless `--force` (or skipped with `--no-delete`).
    pub delete_limit: usize,
    /// Above this many invalidation paths, invalidate `/*` instead.
    pub invalidation_max_paths: usize,
    /// This many changed paths in one directory fold to `dir/*`.
    pub fold_threshold: usize,
}

/// One `[[publish.cache_control]]` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheRule {
    /// Glob over the object key; without a `/` it matches the file name in any directory.
    pub pattern: String,
    /// The Cache-Control header value, e.g. `public, max-age=86400`.
    pub value: String,
}

/// One problem found in the `[publish]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    /// Dotted path of the offending field, e.g. `publish.cache_control[1].pattern`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Default for PublishSettings {
    fn default() -> Self {
        Self {
            ignore: Vec::new(),
            cache_control: Vec::new(),
            concurrency: 32,
            multipart_threshold_mib: 16,
            delete_limit: 100,
            invalidation_max_paths: 100,
            fold_threshold: 10,
        }
    }
}

impl PublishSettings {
    /// Every problem in the section, empty when the settings are usable.
    pub fn validate(&self) -> Vec<SettingsProblem> {
        let mut problems = Vec::new();
        let mut problem = |field: String, message: String, hint: &str| {
            problems.push(SettingsProblem {
                field,
                message,
                hint: hint.to_string(),
            })
        };
        for (i, pattern) in self.ignore.iter().enumerate() {
            if let Err(e) = compile_glob(pattern) {
                problem(
                    format!("publish.ignore[{i}]"),
                    format!("`{pattern}` is not a valid glob: {}", e.kind()),
                    "use globs like \"*.map\" or \"drafts/**\"",
                );
            }
        }
        for (i, rule) in self.cache_control.iter().enumerate() {
            if let Err(e) = compile_glob(&rule.pattern) {
                problem(
                    format!("publish.cache_control[{i}].pattern"),
                    format!("`{}` is not a valid glob: {}", rule.pattern, e.kind()),
                    "use globs like \"assets/**\" or \"*.html\"",
                );
            }
            if rule.value.trim().is_empty() {
                problem(
                    format!("publish.cache_control[{i}].value"),
                    "the Cache-Control value is empty".to_string(),
                    "give a value such as \"public, max-age=86400\"",
                );
            } else if !rule.value.chars().all(|c| (' '..='~').contains(&c)) {
                problem(
                    format!("publish.cache_control[{i}].value"),
                    format!(
                        "{:?} holds characters not allowed in an HTTP header",
                        rule.value
                    ),
                    "use printable ASCII only, on one line",
                );
            }
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            problem(
                "publish.concurrency".to_string(),
                format!("{} is out of range", self.concurrency),
                &format!("use a number from 1 to {MAX_CONCURRENCY}; 32 suits most sites"),
            );
        }
        if !(MIN_MULTIPART_THRESHOLD_MIB..=MAX_MULTIPART_THRESHOLD_MIB)
            .contains(&self.multipart_threshold_mib)
        {
            problem(
                "publish.multipart_threshold_mib".to_string(),
                format!("{} MiB is out of range", self.multipart_threshold_mib),
                &format!(
                    "use {MIN_MULTIPART_THRESHOLD_MIB} to {MAX_MULTIPART_THRESHOLD_MIB}: S3 parts are at least 5 MiB and a single upload at most 5 GiB"
                ),
            );
        }
        if self.invalidation_max_paths == 0 || self.invalidation_max_paths > MAX_INVALIDATION_PATHS
        {
            problem(
                "publish.invalidation_max_paths".to_string(),
                format!("{} is out of range", self.invalidation_max_paths),
                &format!("use 1 to {MAX_INVALIDATION_PATHS} (CloudFront's limit per distribution)"),
            );
        }
        if self.fold_threshold < 2 {
            problem(
                "publish.fold_threshold".to_string(),
                format!(
                    "{} would fold every single path into a wildcard",
                    self.fold_threshold
                ),
                "use 2 or more; 10 suits most sites",
            );
        }
        problems
    }

    /// Multipart threshold (and part size) in bytes.
    pub fn multipart_threshold_bytes(&self) -> u64 {
        self.multipart_threshold_mib * 1024 * 1024
    }
}

/// Compiles a key glob: `*` stays within one path segment, `**` crosses them, and a
/// pattern without `/` matches the file name at any depth (as in .gitignore).
pub(crate) fn compile_glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    let anchored = pattern.trim_start_matches('/');
    let full = if anchored.contains('/') {
        anchored.to_string()
    } else {
        format!("**/{anchored}")
    };
    Ok(GlobBuilder::new(&full)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

/// A set of key globs; settings must have been validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyGlobs(Vec<GlobMatcher>);

impl KeyGlobs {
    pub(crate) fn new<'a>(
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, globset::Error> {
        patterns
            .into_iter()
            .map(compile_glob)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Index of the first glob matching `key`.
    pub(crate) fn first_match(&self, key: &str) -> Option<usize> {
        self.0.iter().position(|m| m.is_match(key))
    }

    pub(crate) fn is_match(&self, key: &str) -> bool {
        self.first_match(key).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_deserialize_from_empty_section() {
        assert!(PublishSettings::default().validate().is_empty());
        let parsed: PublishSettings = toml::from_str("").unwrap();
        assert_eq!(parsed, PublishSettings::default());
    }

    #[test]
    fn parses_rules_and_rejects_unknown_fields() {
        let parsed: PublishSettings = toml::from_str(
            "concurrency = 8\n[[cache_control]]\npattern = \"assets/**\"\nvalue = \"public, max-age=86400\"\n",
        )
        .unwrap();
        assert_eq!(parsed.concurrency, 8);
        assert_eq!(parsed.cache_control[0].pattern, "assets/**");
        assert!(toml::from_str::<PublishSettings>("concurency = 8").is_err());
    }

    #[test]
    fn reports_each_bad_field_with_its_path() {
        let settings = PublishSettings {
            ignore: vec!["ok/**".into(), "bad[".into()],
            cache_control: vec![
                CacheRule {
                    pattern: "*.html".into(),
                    value: "no-cache".into(),
                },
                CacheRule {
                    pattern: "a/{b".into(),
                    value: "x\ny".into(),
                },
            ],
            concurrency: 0,
            multipart_threshold_mib: 4,
            delete_limit: 0,
            invalidation_max_paths: 5000,
            fold_threshold: 1,
        };
        let fields: Vec<String> = settings.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "publish.ignore[1]",
                "publish.cache_control[1].pattern",
                "publish.cache_control[1].value",
                "publish.concurrency",
                "publish.multipart_threshold_mib",
                "publish.invalidation_max_paths",
                "publish.fold_threshold",
            ]
        );
        let too_many = PublishSettings {
            concurrency: 257,
            ..Default::default()
        };
        assert_eq!(too_many.validate()[0].field, "publish.concurrency");
    }

    #[test]
    fn globs_without_slash_match_any_depth_and_star_stays_in_a_segment() {
        let globs = KeyGlobs::new(["*.map", "assets/*.js", "drafts/**"]).unwrap();
        assert_eq!(globs.first_match("a/b/app.js.map"), Some(0));
        assert_eq!(globs.first_match("assets/app.js"), Some(1));
        assert_eq!(globs.first_match("assets/sub/app.js"), None);
        assert_eq!(globs.first_match("drafts/x/y.html"), Some(2));
        assert_eq!(globs.first_match("index.html"), None);
    }
}
