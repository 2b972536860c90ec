//! The distribution configuration colorid wants.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomHeaders, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, EventType, FunctionAssociation, FunctionAssociations, GeoRestriction,
    GeoRestrictionType, HttpVersion, Method, MinimumProtocolVersion, Origin, OriginCustomHeader,
    OriginProtocolPolicy, OriginSslProtocols, Origins, PriceClass, Restrictions, S3OriginConfig,
    SslProtocol, SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy,
};

use crate::config::Stack;
use crate::error::{Built, Result};
use crate::names::Names;
use crate::stack::Ctx;
use crate::stack::origin_access::Access;

/// AWS-managed cache policy CachingOptimized.
pub const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// AWS-managed cache policy CachingDisabled.
pub const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
/// AWS-managed origin request policy AllViewerExceptHostHeader.
pub const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
/// AWS-managed response headers policy SecurityHeadersPolicy.
pub const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

/// The S3 origin's id.
pub const SITE_ORIGIN: &str = "site";
/// The function URL origin's id.
pub const API_ORIGIN: &str = "api";
/// The path pattern of the identity function's behaviour.
pub const API_PATH: &str = "/api/*";
/// The error page; S3's 403 for a missing or denied key becomes it, with 404.
pub const ERROR_PAGE: &str = "/404.html";
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
    /// The stack's ACM certificate; `None` (a stack with no domain) uses
    /// CloudFront's default certificate for the `*.cloudfront.net` name.
    pub certificate_arn: Option<String>,
    pub bucket_domain: String,
    pub access: Access,
    pub api: Option<ApiOrigin>,
    pub has_404_page: bool,
    /// The response headers policy of every behaviour: the stack's own
    /// (the managed SecurityHeadersPolicy on the emulator only).
    pub headers_policy_id: String,
    /// The directory-index viewer-request function of the default behaviour.
    pub viewer_function_arn: Option<String>,
}

/// Ids the service may not echo back in a distribution's config (the local
/// emulator drops the origin access control and function associations),
/// taken from the state record instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recorded<'a> {
    pub origin_access_control: Option<&'a str>,
    pub viewer_function: Option<&'a str>,
}

/// The configuration the stack wants; `base` carries over what colorid does not manage.
pub fn wanted_config(
    ctx: &Ctx,
    inputs: &Inputs,
    base: Option<&DistributionConfig>,
) -> Result<DistributionConfig> {
    build_config(&ctx.stack, &ctx.names, inputs, base)
}

/// The configuration a stack wants, from the stack alone: what `up` sends and
/// what `colorid dev`'s local edge serves through.
pub fn build_config(
    stack: &Stack,
    names: &Names,
    inputs: &Inputs,
    base: Option<&DistributionConfig>,
) -> Result<DistributionConfig> {
    let mut origins = vec![site_origin(inputs)?];
    let mut behaviors = Vec::new();
    if let Some(api) = &inputs.api {
        origins.push(api_origin(api)?);
        behaviors.push(api_behavior(inputs)?);
    }
    let errors = error_responses(inputs)?;
    let caller_reference = base
        .map(|b| b.caller_reference().to_string())
        .unwrap_or_else(|| names.distribution_caller_reference("new"));
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .aliases(
            Aliases::builder()
                .quantity(stack.aliases().len() as i32)
                .set_items(Some(stack.aliases()))
                .build()
                .built("the distribution config")?,
        )
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(origins.len() as i32)
                .set_items(Some(origins))
                .build()
                .built("the distribution config")?,
        )
        .default_cache_behavior(default_behavior(inputs)?)
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(behaviors.len() as i32)
                .set_items(Some(behaviors))
                .build()
                .built("the distribution config")?,
        )
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(errors.len() as i32)
                .set_items(Some(errors))
                .build()
                .built("the distribution config")?,
        )
        .comment(format!("colorid stack {}", names.stack))
        .set_logging(base.and_then(|b| b.logging().cloned()))
        .set_web_acl_id(base.and_then(|b| b.web_acl_id().map(str::to_string)))
        .price_class(PriceClass::from(stack.price_class.as_str()))
        .enabled(true)
        .viewer_certificate(viewer_certificate(inputs))
        .restrictions(restrictions(base)?)
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()
        .built("the distribution config")
}

/// The site's origin: the private bucket, read through the origin access
/// control (signed requests) or the legacy origin access identity.
fn site_origin(inputs: &Inputs) -> Result<Origin> {
    let site = Origin::builder()
        .id(SITE_ORIGIN)
        .domain_name(&inputs.bucket_domain)
        .origin_path("");
    let site = match &inputs.access {
        Access::Control(id) => site
            .origin_access_control_id(id)
            .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build()),
        Access::Identity(id) => site.s3_origin_config(
            S3OriginConfig::builder()
                .origin_access_identity(format!("origin-access-identity/cloudfront/{id}"))
                .build(),
        ),
    };
    site.build().built("the distribution config")
}

/// The identity function's origin: its URL over TLS 1.2, with the origin
/// header only CloudFront knows.
fn api_origin(api: &ApiOrigin) -> Result<Origin> {
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
                        .built("the distribution config")?,
                )
                .build()
                .built("the distribution config")?,
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
                        .built("the distribution config")?,
                )
                .build()
                .built("the distribution config")?,
        )
        .build()
        .built("the distribution config")
}

/// `/api/*`: every method (OPTIONS too: CORS preflights reach the function,
/// tests/it/api_v1.rs through the local edge), nothing cached, every viewer
/// header but `Host` forwarded.
fn api_behavior(inputs: &Inputs) -> Result<CacheBehavior> {
    let all = [
        Method::Get,
        Method::Head,
        Method::Options,
        Method::Put,
        Method::Post,
        Method::Patch,
        Method::Delete,
    ];
    CacheBehavior::builder()
        .path_pattern(API_PATH)
        .target_origin_id(API_ORIGIN)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(allowed(&all)?)
        .compress(true)
        .cache_policy_id(CACHING_DISABLED)
        .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST)
        .response_headers_policy_id(&inputs.headers_policy_id)
        .build()
        .built("the distribution config")
}

/// The site: GET and HEAD from the bucket, cached, through the directory-index
/// viewer function.
fn default_behavior(inputs: &Inputs) -> Result<DefaultCacheBehavior> {
    DefaultCacheBehavior::builder()
        .target_origin_id(SITE_ORIGIN)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(allowed(&[Method::Get, Method::Head])?)
        .compress(true)
        .cache_policy_id(CACHING_OPTIMIZED)
        .response_headers_policy_id(&inputs.headers_policy_id)
        .function_associations(viewer_functions(inputs.viewer_function_arn.as_deref())?)
        .build()
        .built("the distribution config")
}

/// The 404 page for S3's 403, when the site has one.
fn error_responses(inputs: &Inputs) -> Result<Vec<CustomErrorResponse>> {
    if !inputs.has_404_page {
        return Ok(Vec::new());
    }
    // Error responses apply to every behaviour, /api/* too. Only 403 is
    // mapped: S3 answers it for a missing key (CloudFront has no
    // s3:ListBucket) and for the denied manifest; the function never
    // answers 403, so its statuses and JSON reach the browser unchanged.
    Ok(vec![
        CustomErrorResponse::builder()
            .error_code(403)
            .response_page_path(ERROR_PAGE)
            .response_code("404")
            .error_caching_min_ttl(60)
            .build()
            .built("the distribution config")?,
    ])
}

/// The stack's certificate, by SNI, TLS 1.2 (2021 ciphers) at the least; with no
/// certificate, CloudFront's default one for the distribution's own name.
fn viewer_certificate(inputs: &Inputs) -> ViewerCertificate {
    match &inputs.certificate_arn {
        Some(arn) => ViewerCertificate::builder()
            .acm_certificate_arn(arn)
            .ssl_support_method(SslSupportMethod::SniOnly)
            .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
            .cloud_front_default_certificate(false)
            .build(),
        // "If the distribution uses the CloudFront domain name such as
        // d111111abcdef8.cloudfront.net, set CloudFrontDefaultCertificate to true and
        // leave all other fields empty"; CloudFront then sets the security policy to
        // TLSv1 whatever is sent
        // (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html).
        None => ViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .build(),
    }
}

/// The geographic restrictions: kept as they are, none on a new distribution.
fn restrictions(base: Option<&DistributionConfig>) -> Result<Restrictions> {
    if let Some(kept) = base.and_then(|b| b.restrictions().cloned()) {
        return Ok(kept);
    }
    Ok(Restrictions::builder()
        .geo_restriction(
            GeoRestriction::builder()
                .restriction_type(GeoRestrictionType::None)
                .quantity(0)
                .build()
                .built("the distribution config")?,
        )
        .build())
}

/// The default behaviour's function associations: the viewer-request function, if any.
fn viewer_functions(arn: Option<&str>) -> Result<FunctionAssociations> {
    let items: Vec<FunctionAssociation> = arn
        .map(|arn| {
            FunctionAssociation::builder()
                .function_arn(arn)
                .event_type(EventType::ViewerRequest)
                .build()
                .built("the distribution config")
        })
        .transpose()?
        .into_iter()
        .collect();
    FunctionAssociations::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build()
        .built("the distribution config")
}

/// The ARN of a behaviour's viewer-request function, if it has one.
pub fn viewer_request_function(associations: Option<&FunctionAssociations>) -> Option<&str> {
    associations
        .map(|a| a.items())
        .unwrap_or_default()
        .iter()
        .find(|f| f.event_type() == &EventType::ViewerRequest)
        .map(|f| f.function_arn())
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
                .built("the distribution config")?,
        )
        .build()
        .built("the distribution config")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(has_404_page: bool) -> Inputs {
        Inputs {
            certificate_arn: None,
            bucket_domain: "b.s3.eu-west-1.amazonaws.com".into(),
            access: Access::Control("OAC1".into()),
            api: None,
            has_404_page,
            headers_policy_id: "policy".into(),
            viewer_function_arn: None,
        }
    }

    #[test]
    fn a_site_with_a_404_page_answers_s3s_403_with_it() {
        assert!(error_responses(&inputs(false)).unwrap().is_empty());
        let responses = error_responses(&inputs(true)).unwrap();
        assert_eq!(responses.len(), 1);
        let r = &responses[0];
        assert_eq!(r.error_code(), 403);
        assert_eq!(r.response_page_path(), Some(ERROR_PAGE));
        assert_eq!(r.response_code(), Some("404"));
        assert_eq!(r.error_caching_min_ttl(), Some(60));
    }

    #[test]
    fn the_viewer_request_function_is_found_among_the_associations() {
        let assoc = |event: EventType, arn: &str| {
            FunctionAssociation::builder()
                .event_type(event)
                .function_arn(arn)
                .build()
                .unwrap()
        };
        let both = FunctionAssociations::builder()
            .quantity(2)
            .items(assoc(EventType::ViewerResponse, "arn:response"))
            .items(assoc(EventType::ViewerRequest, "arn:request"))
            .build()
            .unwrap();
        assert_eq!(viewer_request_function(Some(&both)), Some("arn:request"));
        let response_only = FunctionAssociations::builder()
            .quantity(1)
            .items(assoc(EventType::ViewerResponse, "arn:response"))
            .build()
            .unwrap();
        assert_eq!(viewer_request_function(Some(&response_only)), None);
        assert_eq!(viewer_request_function(None), None);
    }
}
