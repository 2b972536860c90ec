//! The parts of a CloudFront `DistributionConfig` that decide what a viewer
//! gets, read into plain Rust: cache behaviours in precedence order, allowed
//! methods, policies, functions, the default root object, error responses
//! and the origins' custom headers.

use std::collections::HashMap;

use aws_sdk_cloudfront::types::{DistributionConfig, Method};

use crate::error::{Error, Result};
use crate::stack::distribution::viewer_request_function;

/// One cache behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behavior {
    /// The path pattern; `None` for the default behaviour.
    pub pattern: Option<String>,
    pub origin: String,
    pub methods: Vec<http::Method>,
    pub origin_request_policy: Option<String>,
    pub headers_policy: Option<String>,
    pub viewer_function: Option<String>,
}

/// One custom error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRule {
    pub code: u16,
    pub page: Option<String>,
    pub response_code: Option<u16>,
}

/// One origin: whether it is S3 and the headers CloudFront adds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginSpec {
    pub s3: bool,
    pub domain: String,
    pub custom_headers: Vec<(String, String)>,
}

/// What the edge needs of a distribution's configuration.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    pub default_root_object: Option<String>,
    /// Path behaviours in the configuration's order, then the default.
    pub behaviors: Vec<Behavior>,
    pub errors: Vec<ErrorRule>,
    pub origins: HashMap<String, OriginSpec>,
}

fn methods(items: &[Method]) -> Vec<http::Method> {
    items
        .iter()
        .filter_map(|m| http::Method::from_bytes(m.as_str().as_bytes()).ok())
        .collect()
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

impl EdgeConfig {
    /// Reads a distribution's configuration.
    pub fn from_distribution(config: &DistributionConfig) -> Result<EdgeConfig> {
        let mut behaviors = Vec::new();
        for b in config
            .cache_behaviors()
            .map(|c| c.items())
            .unwrap_or_default()
        {
            behaviors.push(Behavior {
                pattern: Some(b.path_pattern().to_string()),
                origin: b.target_origin_id().to_string(),
                methods: methods(b.allowed_methods().map(|m| m.items()).unwrap_or_default()),
                origin_request_policy: non_empty(b.origin_request_policy_id()),
                headers_policy: non_empty(b.response_headers_policy_id()),
                viewer_function: viewer_request_function(b.function_associations())
                    .map(str::to_string),
            });
        }
        let d = config
            .default_cache_behavior()
            .ok_or_else(|| Error::conflict("the distribution has no default cache behaviour"))?;
        behaviors.push(Behavior {
            pattern: None,
            origin: d.target_origin_id().to_string(),
            methods: methods(d.allowed_methods().map(|m| m.items()).unwrap_or_default()),
            origin_request_policy: non_empty(d.origin_request_policy_id()),
            headers_policy: non_empty(d.response_headers_policy_id()),
            viewer_function: viewer_request_function(d.function_associations()).map(str::to_string),
        });
        let errors = config
            .custom_error_responses()
            .map(|c| c.items())
            .unwrap_or_default()
            .iter()
            .map(|e| ErrorRule {
                code: u16::try_from(e.error_code()).unwrap_or(0),
                page: non_empty(e.response_page_path()),
                response_code: e.response_code().and_then(|c| c.parse().ok()),
            })
            .collect();
        let origins = config
            .origins()
            .map(|o| o.items())
            .unwrap_or_default()
            .iter()
            .map(|o| {
                let headers = o
                    .custom_headers()
                    .map(|h| h.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|h| (h.header_name().to_string(), h.header_value().to_string()))
                    .collect();
                (
                    o.id().to_string(),
                    OriginSpec {
                        s3: o.custom_origin_config().is_none(),
                        domain: o.domain_name().to_string(),
                        custom_headers: headers,
                    },
                )
            })
            .collect();
        Ok(EdgeConfig {
            default_root_object: non_empty(config.default_root_object()),
            behaviors,
            errors,
            origins,
        })
    }

    /// The behaviour for a path: the first path pattern that matches, in the
    /// configuration's order, else the default.
    pub fn behavior_for(&self, path: &str) -> &Behavior {
        self.behaviors
            .iter()
            .find(|b| {
                b.pattern
                    .as_deref()
                    .is_none_or(|p| pattern_matches(p, path))
            })
            .unwrap_or_else(|| &self.behaviors[self.behaviors.len() - 1])
    }

    /// The error response for a status, if one is configured.
    pub fn error_rule(&self, status: u16) -> Option<&ErrorRule> {
        self.errors.iter().find(|e| e.code == status)
    }

    /// Replaces the fields the local emulator does not keep (function
    /// associations) or cannot hold (the stack's response headers policy)
    /// with the wanted configuration's, behaviour by behaviour.
    pub fn fill_emulator_gaps(&mut self, wanted: &EdgeConfig) {
        for b in &mut self.behaviors {
            if let Some(w) = wanted.behaviors.iter().find(|w| w.pattern == b.pattern) {
                b.viewer_function = w.viewer_function.clone();
                b.headers_policy = w.headers_policy.clone();
            }
        }
    }
}

/// CloudFront's path pattern match: case-sensitive, `*` any run of
/// characters, `?` exactly one; a pattern without a leading `/` has one.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = if pattern.starts_with('/') || pattern.starts_with('*') {
        pattern.to_string()
    } else {
        format!("/{pattern}")
    };
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    // Iterative wildcard match with backtracking to the last `*`.
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::pattern_matches;

    #[test]
    fn path_patterns_match_as_cloudfront_documents() {
        assert!(pattern_matches("/api/*", "/api/color"));
        assert!(pattern_matches("/api/*", "/api/"));
        assert!(!pattern_matches("/api/*", "/api"));
        assert!(!pattern_matches("/api/*", "/API/color"));
        assert!(pattern_matches("api/*", "/api/x"));
        assert!(pattern_matches("*.jpg", "/a/b.jpg"));
        assert!(pattern_matches("/images/?.png", "/images/a.png"));
        assert!(!pattern_matches("/images/?.png", "/images/ab.png"));
        assert!(!pattern_matches("/apix/*", "/api/x"));
    }
}
