//! The directory-index viewer-request function: its CloudFront Functions
//! source (what `up` deploys) and the same rule in Rust (what the local edge
//! runs, so `colorid dev` works without node). The two are held together by
//! one table of cases, checked against the Rust rule here and against the
//! JavaScript under node in tests/it/edge_function.rs.

/// The function's source, runtime cloudfront-js-2.0.
pub const SOURCE: &str = include_str!("directory_index.js");

/// The runtime the source is written for.
pub const RUNTIME: &str = "cloudfront-js-2.0";

/// The shared cases: `[viewer URI, URI after the function]`.
pub const CASES: &str = include_str!("directory_index_cases.json");

/// The URI the function hands on for a viewer's URI.
pub fn rewrite(uri: &str) -> String {
    if uri.ends_with('/') {
        format!("{uri}index.html")
    } else {
        uri.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rust_rule_meets_every_shared_case() {
        let cases: Vec<(String, String)> = serde_json::from_str(CASES).expect("cases parse");
        assert!(cases.len() >= 8);
        for (input, want) in cases {
            assert_eq!(rewrite(&input), want, "{input}");
        }
    }

    #[test]
    fn the_source_is_small_enough_for_cloudfront_functions() {
        // CloudFront Functions' maximum function size is 10 KB.
        assert!(SOURCE.len() < 10 * 1024);
        assert!(SOURCE.contains("function handler(event)"));
    }
}
