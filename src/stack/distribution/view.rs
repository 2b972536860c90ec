//! The rendered view of the distribution fields colorid manages, which
//! `plan` and `up` compare.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{DistributionConfig, Method};

use super::config::{API_ORIGIN, ORIGIN_VERIFY_HEADER, Recorded, viewer_request_function};
use crate::stack::{FieldChange, diff_fields};

fn sorted<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    let mut v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    v.sort();
    v.join(",")
}

/// The managed fields of a configuration, rendered for comparison and for `plan`.
///
/// `recorded` stands in for ids that the service did not echo back.
pub fn view(config: &DistributionConfig, recorded: Recorded<'_>) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: String| {
        v.insert(k.to_string(), val);
    };
    put(
        "aliases",
        sorted(config.aliases().map(|a| a.items()).unwrap_or_default()),
    );
    put(
        "default_root_object",
        config.default_root_object().unwrap_or_default().into(),
    );
    put("comment", config.comment().to_string());
    put("enabled", config.enabled().to_string());
    put(
        "price_class",
        config
            .price_class()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    );
    put(
        "http_version",
        config
            .http_version()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    );
    put(
        "ipv6",
        config.is_ipv6_enabled().unwrap_or(false).to_string(),
    );
    // With CloudFront's default certificate AWS fills in a security policy and support
    // method of its own (TLSv1, vip) whatever is sent: only the certificate is compared.
    if let Some(cert) = config.viewer_certificate()
        && cert.cloud_front_default_certificate() == Some(true)
        && cert.acm_certificate_arn().is_none_or(str::is_empty)
    {
        put("certificate", "(cloudfront default)".into());
    } else if let Some(cert) = config.viewer_certificate() {
        put(
            "certificate",
            cert.acm_certificate_arn().unwrap_or_default().into(),
        );
        put(
            "ssl_support_method",
            cert.ssl_support_method()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        );
        put(
            "minimum_protocol_version",
            cert.minimum_protocol_version()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        );
    }
    for origin in config.origins().map(|o| o.items()).unwrap_or_default() {
        let p = format!("origin[{}]", origin.id());
        put(&format!("{p}.domain"), origin.domain_name().to_string());
        if origin.custom_origin_config().is_none() {
            let oai = origin
                .s3_origin_config()
                .map(|s3| s3.origin_access_identity())
                .unwrap_or_default();
            put(&format!("{p}.origin_access_identity"), oai.to_string());
            let oac = origin
                .origin_access_control_id()
                .filter(|id| !id.is_empty())
                .or(recorded.origin_access_control)
                .unwrap_or_default();
            put(&format!("{p}.origin_access_control"), oac.to_string());
        }
        if let Some(custom) = origin.custom_origin_config() {
            put(
                &format!("{p}.protocol_policy"),
                custom.origin_protocol_policy().as_str().to_string(),
            );
            put(
                &format!("{p}.ssl_protocols"),
                sorted(
                    custom
                        .origin_ssl_protocols()
                        .map(|s| s.items())
                        .unwrap_or_default()
                        .iter()
                        .map(|p| p.as_str()),
                ),
            );
        }
        for h in origin
            .custom_headers()
            .map(|h| h.items())
            .unwrap_or_default()
        {
            // Never render a secret, nor a hash of one (a short hash of a weak
            // value can be searched); [`diff`] tells old from new.
            put(
                &format!("{p}.header.{}", h.header_name()),
                "(secret)".to_string(),
            );
        }
    }
    if let Some(b) = config.default_cache_behavior() {
        let function = viewer_request_function(b.function_associations())
            .or(recorded.viewer_function)
            .unwrap_or_default();
        put(
            "behavior[default].viewer_request_function",
            function.to_string(),
        );
        put_behavior(
            &mut put,
            "behavior[default]",
            BehaviorView {
                origin: b.target_origin_id(),
                viewer_protocol: b.viewer_protocol_policy().as_str(),
                cache_policy: b.cache_policy_id().unwrap_or_default(),
                origin_request_policy: None,
                response_headers_policy: b.response_headers_policy_id().unwrap_or_default(),
                compress: Some(b.compress().unwrap_or(false)),
                methods: b.allowed_methods().map(|m| m.items()).unwrap_or_default(),
            },
        );
    }
    for b in config
        .cache_behaviors()
        .map(|c| c.items())
        .unwrap_or_default()
    {
        put_behavior(
            &mut put,
            &format!("behavior[{}]", b.path_pattern()),
            BehaviorView {
                origin: b.target_origin_id(),
                viewer_protocol: b.viewer_protocol_policy().as_str(),
                cache_policy: b.cache_policy_id().unwrap_or_default(),
                origin_request_policy: Some(b.origin_request_policy_id().unwrap_or_default()),
                response_headers_policy: b.response_headers_policy_id().unwrap_or_default(),
                compress: None,
                methods: b.allowed_methods().map(|m| m.items()).unwrap_or_default(),
            },
        );
    }
    let errors: Vec<String> = config
        .custom_error_responses()
        .map(|c| c.items())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            format!(
                "{}→{}",
                e.error_code(),
                e.response_page_path().unwrap_or_default()
            )
        })
        .collect();
    put("error_pages", sorted(errors));
    v
}

/// The managed fields of one cache behaviour (the default one and the path
/// ones are different SDK types with the same fields).
struct BehaviorView<'a> {
    origin: &'a str,
    viewer_protocol: &'a str,
    cache_policy: &'a str,
    origin_request_policy: Option<&'a str>,
    response_headers_policy: &'a str,
    compress: Option<bool>,
    methods: &'a [Method],
}

fn put_behavior(put: &mut dyn FnMut(&str, String), prefix: &str, b: BehaviorView<'_>) {
    put(&format!("{prefix}.origin"), b.origin.to_string());
    put(
        &format!("{prefix}.viewer_protocol"),
        b.viewer_protocol.to_string(),
    );
    put(
        &format!("{prefix}.cache_policy"),
        b.cache_policy.to_string(),
    );
    if let Some(orp) = b.origin_request_policy {
        put(&format!("{prefix}.origin_request_policy"), orp.to_string());
    }
    put(
        &format!("{prefix}.response_headers_policy"),
        b.response_headers_policy.to_string(),
    );
    if let Some(compress) = b.compress {
        put(&format!("{prefix}.compress"), compress.to_string());
    }
    put(
        &format!("{prefix}.methods"),
        sorted(b.methods.iter().map(|m| m.as_str())),
    );
}

/// The managed fields that differ between what exists and what is wanted;
/// a changed origin-verify value shows as `(secret) → (another secret)`.
pub fn diff(
    existing: &DistributionConfig,
    wanted: &DistributionConfig,
    recorded: Recorded<'_>,
) -> Vec<FieldChange> {
    let mut changes = diff_fields(
        &view(existing, recorded),
        &view(wanted, Recorded::default()),
    );
    if let (Some(old), Some(new)) = (origin_verify_value(existing), origin_verify_value(wanted))
        && old != new
    {
        changes.push(FieldChange {
            field: format!("origin[{API_ORIGIN}].header.{ORIGIN_VERIFY_HEADER}"),
            old: "(secret)".into(),
            new: "(another secret)".into(),
        });
    }
    changes
}

/// The origin-verify header value the distribution sends the function, if any.
pub fn origin_verify_value(config: &DistributionConfig) -> Option<&str> {
    config
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .filter(|o| o.id() == API_ORIGIN)
        .flat_map(|o| o.custom_headers().map(|h| h.items()).unwrap_or_default())
        .find(|h| h.header_name() == ORIGIN_VERIFY_HEADER)
        .map(|h| h.header_value())
}
