//! The distribution configuration colorid wants, and the rendered view of
//! the fields it manages that `plan` and `up` compare.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomHeaders, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, GeoRestriction, GeoRestrictionType, HttpVersion, Method,
    MinimumProtocolVersion, Origin, OriginCustomHeader, OriginProtocolPolicy, OriginSslProtocols,
    Origins, PriceClass, Restrictions, S3OriginConfig, SslProtocol, SslSupportMethod,
    ViewerCertificate, ViewerProtocolPolicy,
};

use crate::error::{Error, Result};
use crate::stack::origin_access::Access;
use crate::stack::{Ctx, FieldChange, diff_fields};

/// AWS-managed cache policy CachingOptimized.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// AWS-managed cache policy CachingDisabled.
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// AWS-managed origin request policy AllViewerExceptHostHeader.
pub const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// AWS-managed response headers policy SecurityHeadersPolicy.
pub const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

const SITE_ORIGIN: &str = "site";
const API_ORIGIN: &str = "api";
/// The header CloudFront adds to every request it sends the function.
pub const ORIGIN_VERIFY_HEADER: &str = "X-Origin-Verify";

/// The function URL origin behind `/api/*`.
#[derive(Clone)]
pub struct ApiOrigin {
    /// The function URL's host name.
    pub domain: String,
    /// The origin-verify secret CloudFront sends in [`ORIGIN_VERIFY_HEADER`].
    pub verify_secret: String,
}

/// What the distribution is built from.
#[derive(Clone)]
pub struct Inputs {
    pub certificate_arn: String,
    pub bucket_domain: String,
    pub access: Access,
    pub api: Option<ApiOrigin>,
    pub has_404_page: bool,
}

/// Turns a builder error into an internal error.
pub(super) fn build_err(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!(
        "internal: cannot build the distribution config: {e}"
    ))
}

/// The configuration the stack wants; `base` carries over what colorid does not manage.
pub fn wanted_config(
    ctx: &Ctx,
    inputs: &Inputs,
    base: Option<&DistributionConfig>,
) -> Result<DistributionConfig> {
    let mut site = Origin::builder()
        .id(SITE_ORIGIN)
        .domain_name(&inputs.bucket_domain)
        .origin_path("");
    site = match &inputs.access {
        Access::Control(id) => site
            .origin_access_control_id(id)
            .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build()),
        Access::Identity(id) => site.s3_origin_config(
            S3OriginConfig::builder()
                .origin_access_identity(format!("origin-access-identity/cloudfront/{id}"))
                .build(),
        ),
    };
    let mut origins = vec![site.build().map_err(build_err)?];
    let mut behaviors = Vec::new();
    if let Some(api) = &inputs.api {
        origins.push(
            Origin::builder()
                .id(API_ORIGIN)
                .domain_name(&api.domain)
                .origin_path("")
                .custom_headers(
                    CustomHeaders::builder()
                        .quantity(1)
                        .items(
                            OriginCustomHeader::builder()
                                .header_name(ORIGIN_VERIFY_HEADER)
                                .header_value(&api.verify_secret)
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                        .map_err(build_err)?,
                )
                .custom_origin_config(
                    CustomOriginConfig::builder()
                        .http_port(80)
                        .https_port(443)
                        .origin_protocol_policy(OriginProtocolPolicy::HttpsOnly)
                        .origin_ssl_protocols(
                            OriginSslProtocols::builder()
                                .quantity(1)
                                .items(SslProtocol::TlSv12)
                                .build()
                                .map_err(build_err)?,
                        )
                        .build()
                        .map_err(build_err)?,
                )
                .build()
                .map_err(build_err)?,
        );
        let all = [
            Method::Get,
            Method::Head,
            Method::Options,
            Method::Put,
            Method::Post,
            Method::Patch,
            Method::Delete,
        ];
        behaviors.push(
            CacheBehavior::builder()
                .path_pattern("/api/*")
                .target_origin_id(API_ORIGIN)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .allowed_methods(allowed(&all)?)
                .compress(true)
                .cache_policy_id(CACHING_DISABLED)
                .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
                .response_headers_policy_id(SECURITY_HEADERS)
                .build()
                .map_err(build_err)?,
        );
    }
    let default_behavior = DefaultCacheBehavior::builder()
        .target_origin_id(SITE_ORIGIN)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(allowed(&[Method::Get, Method::Head])?)
        .compress(true)
        .cache_policy_id(CACHING_OPTIMIZED)
        .response_headers_policy_id(SECURITY_HEADERS)
        .build()
        .map_err(build_err)?;
    let mut errors = Vec::new();
    if inputs.has_404_page {
        // Without s3:ListBucket, S3 answers 403 for a missing key.
        for code in [403, 404] {
            errors.push(
                CustomErrorResponse::builder()
                    .error_code(code)
                    .response_page_path("/404.html")
                    .response_code("404")
                    .error_caching_min_ttl(60)
                    .build()
                    .map_err(build_err)?,
            );
        }
    }
    let caller_reference = base
        .map(|b| b.caller_reference().to_string())
        .unwrap_or_else(|| ctx.names.distribution_caller_reference());
    let restrictions = base
        .and_then(|b| b.restrictions().cloned())
        .map(Ok)
        .unwrap_or_else(|| {
            Ok::<_, Error>(
                Restrictions::builder()
                    .geo_restriction(
                        GeoRestriction::builder()
                            .restriction_type(GeoRestrictionType::None)
                            .quantity(0)
                            .build()
                            .map_err(build_err)?,
                    )
                    .build(),
            )
        })?;
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .aliases(
            Aliases::builder()
                .quantity(1)
                .items(&ctx.stack.domain)
                .build()
                .map_err(build_err)?,
        )
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(origins.len() as i32)
                .set_items(Some(origins))
                .build()
                .map_err(build_err)?,
        )
        .default_cache_behavior(default_behavior)
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(behaviors.len() as i32)
                .set_items(Some(behaviors))
                .build()
                .map_err(build_err)?,
        )
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(errors.len() as i32)
                .set_items(Some(errors))
                .build()
                .map_err(build_err)?,
        )
        .comment(format!("colorid stack {}", ctx.names.stack))
        .set_logging(base.and_then(|b| b.logging().cloned()))
        .set_web_acl_id(base.and_then(|b| b.web_acl_id().map(str::to_string)))
        .price_class(PriceClass::from(ctx.stack.price_class.as_str()))
        .enabled(true)
        .viewer_certificate(
            ViewerCertificate::builder()
                .acm_certificate_arn(&inputs.certificate_arn)
                .ssl_support_method(SslSupportMethod::SniOnly)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
                .cloud_front_default_certificate(false)
                .build(),
        )
        .restrictions(restrictions)
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()
        .map_err(build_err)
}

fn allowed(methods: &[Method]) -> Result<AllowedMethods> {
    AllowedMethods::builder()
        .quantity(methods.len() as i32)
        .set_items(Some(methods.to_vec()))
        .cached_methods(
            CachedMethods::builder()
                .quantity(2)
                .items(Method::Get)
                .items(Method::Head)
                .build()
                .map_err(build_err)?,
        )
        .build()
        .map_err(build_err)
}

fn sorted<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    let mut v: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
    v.sort();
    v.join(",")
}

/// The managed fields of a configuration, rendered for comparison and for `plan`.
///
/// `recorded_oac` stands in for an origin access control id that the service
/// did not echo back.
pub fn view(config: &DistributionConfig, recorded_oac: Option<&str>) -> BTreeMap<String, String> {
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
    if let Some(cert) = config.viewer_certificate() {
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
                .or(recorded_oac)
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
    recorded_oac: Option<&str>,
) -> Vec<FieldChange> {
    let mut changes = diff_fields(&view(existing, recorded_oac), &view(wanted, None));
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
