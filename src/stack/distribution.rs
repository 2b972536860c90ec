//! The CloudFront distribution: the site from the bucket, `/api/*` to the
//! identity function, on the stack's domain with its ACM certificate.
//!
//! Comparison works on a rendered view of the fields colorid manages, so
//! fields AWS adds or that the user set by hand (logging, WAF) are left alone.
//! An origin access control id that the service does not echo back (the
//! local emulator drops it) is compared with the id recorded in the state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomHeaders, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, DistributionConfigWithTags, GeoRestriction, GeoRestrictionType,
    HttpVersion, Method, MinimumProtocolVersion, Origin, OriginCustomHeader, OriginProtocolPolicy,
    OriginSslProtocols, Origins, PriceClass, Restrictions, S3OriginConfig, SslProtocol,
    SslSupportMethod, Tag, Tags, ViewerCertificate, ViewerProtocolPolicy,
};

use crate::error::{AwsContext, Error, Result};
use crate::names::{STACK_TAG, digest};
use crate::stack::origin_access::Access;
use crate::stack::{Change, Ctx, diff_fields};
use crate::wait::{self, Poll};

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

/// The stack's distribution as found.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub arn: String,
    pub domain: String,
    pub status: String,
    pub config: DistributionConfig,
}

fn build_err(e: impl std::fmt::Display) -> Error {
    Error::Usage(format!(
        "internal: cannot build the distribution config: {e}"
    ))
}

/// Looks the distribution up by id; `None` when it is gone.
pub async fn get(cf: &CloudFrontClient, id: &str) -> Result<Option<Found>> {
    match cf.get_distribution().id(id).send().await {
        Ok(out) => Ok(out.distribution.and_then(|d| {
            let config = d.distribution_config.clone()?;
            Some(Found {
                id: d.id,
                arn: d.arn,
                domain: d.domain_name,
                status: d.status,
                config,
            })
        })),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            Ok(None)
        }
        Err(err) => Err(err).aws("read the distribution", id),
    }
}

/// Finds the stack's distribution: by recorded id, else by alias and tag.
pub async fn find(ctx: &Ctx) -> Result<Option<Found>> {
    let cf = ctx.aws.cloudfront();
    if let Some(id) = ctx.state.get().await.distribution_id
        && let Some(found) = get(&cf, &id).await?
    {
        return Ok(Some(found));
    }
    Ok(find_tagged(ctx).await?.into_iter().next())
}

/// Every distribution tagged for this stack.
pub async fn find_tagged(ctx: &Ctx) -> Result<Vec<Found>> {
    let cf = ctx.aws.cloudfront();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = cf
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list distributions", "us-east-1")?;
        let Some(list) = page.distribution_list else {
            break;
        };
        for summary in list.items() {
            let tags = cf
                .list_tags_for_resource()
                .resource(summary.arn())
                .send()
                .await
                .aws("read the tags of", summary.arn())?;
            let ours = tags.tags().is_some_and(|t| {
                t.items()
                    .iter()
                    .any(|t| t.key() == STACK_TAG && t.value() == Some(ctx.names.stack.as_str()))
            });
            if ours && let Some(found) = get(&cf, summary.id()).await? {
                out.push(found);
            }
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
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
            // Never render a secret: a short digest tells old from new.
            put(
                &format!("{p}.header.{}", h.header_name()),
                format!("(secret {})", &digest(&[h.header_value()])[..8]),
            );
        }
    }
    if let Some(b) = config.default_cache_behavior() {
        let p = "behavior[default]";
        put(&format!("{p}.origin"), b.target_origin_id().to_string());
        put(
            &format!("{p}.viewer_protocol"),
            b.viewer_protocol_policy().as_str().to_string(),
        );
        put(
            &format!("{p}.cache_policy"),
            b.cache_policy_id().unwrap_or_default().into(),
        );
        put(
            &format!("{p}.response_headers_policy"),
            b.response_headers_policy_id().unwrap_or_default().into(),
        );
        put(
            &format!("{p}.compress"),
            b.compress().unwrap_or(false).to_string(),
        );
        put(
            &format!("{p}.methods"),
            sorted(
                b.allowed_methods()
                    .map(|m| m.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.as_str()),
            ),
        );
    }
    for b in config
        .cache_behaviors()
        .map(|c| c.items())
        .unwrap_or_default()
    {
        let p = format!("behavior[{}]", b.path_pattern());
        put(&format!("{p}.origin"), b.target_origin_id().to_string());
        put(
            &format!("{p}.viewer_protocol"),
            b.viewer_protocol_policy().as_str().to_string(),
        );
        put(
            &format!("{p}.cache_policy"),
            b.cache_policy_id().unwrap_or_default().into(),
        );
        put(
            &format!("{p}.origin_request_policy"),
            b.origin_request_policy_id().unwrap_or_default().into(),
        );
        put(
            &format!("{p}.response_headers_policy"),
            b.response_headers_policy_id().unwrap_or_default().into(),
        );
        put(
            &format!("{p}.methods"),
            sorted(
                b.allowed_methods()
                    .map(|m| m.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.as_str()),
            ),
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

/// What `up` would do to the distribution.
pub fn plan(
    found: Option<&Found>,
    wanted: &DistributionConfig,
    recorded_oac: Option<&str>,
) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(diff_fields(
            &view(&f.config, recorded_oac),
            &view(wanted, None),
        )),
    }
}

/// Creates the distribution or updates the fields that differ.
pub async fn ensure(ctx: &Ctx, inputs: &Inputs) -> Result<Found> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let recorded_oac = ctx.state.get().await.origin_access_control_id;
    let found = find(ctx).await?;
    let (found, what) = match found {
        Some(existing) => {
            let wanted = wanted_config(ctx, inputs, Some(&existing.config))?;
            let changes = diff_fields(
                &view(&existing.config, recorded_oac.as_deref()),
                &view(&wanted, None),
            );
            if changes.is_empty() {
                (existing, "unchanged".to_string())
            } else {
                let current = cf
                    .get_distribution_config()
                    .id(&existing.id)
                    .send()
                    .await
                    .aws("read the distribution's config", &existing.id)?;
                let wanted = wanted_config(ctx, inputs, current.distribution_config.as_ref())?;
                let out = cf
                    .update_distribution()
                    .id(&existing.id)
                    .set_if_match(current.e_tag)
                    .distribution_config(wanted)
                    .send()
                    .await
                    .aws("update the distribution", &existing.id)?;
                let d = out.distribution.ok_or_else(|| {
                    Error::Conflict("update_distribution returned nothing".into())
                })?;
                let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                let what = format!("updated {}", fields.join(", "));
                (
                    Found {
                        config: d
                            .distribution_config
                            .clone()
                            .unwrap_or_else(|| existing.config.clone()),
                        id: d.id,
                        arn: d.arn,
                        domain: d.domain_name,
                        status: d.status,
                    },
                    what,
                )
            }
        }
        None => {
            let wanted = wanted_config(ctx, inputs, None)?;
            let tags = Tags::builder()
                .items(
                    Tag::builder()
                        .key(STACK_TAG)
                        .value(&ctx.names.stack)
                        .build()
                        .map_err(build_err)?,
                )
                .build();
            let out = cf
                .create_distribution_with_tags()
                .distribution_config_with_tags(
                    DistributionConfigWithTags::builder()
                        .distribution_config(wanted)
                        .tags(tags)
                        .build(),
                )
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_cname_already_exists()) =>
                {
                    return Err(Error::Conflict(format!(
                        "another CloudFront distribution already serves {}.\n  what to do: remove {} from that distribution's alternate domain names, or choose another `domain`",
                        ctx.stack.domain, ctx.stack.domain
                    )));
                }
                Err(err) => return Err(err).aws("create the distribution for", &ctx.stack.domain),
            };
            let d = out
                .distribution
                .ok_or_else(|| Error::Conflict("create_distribution returned nothing".into()))?;
            (
                Found {
                    config: d.distribution_config.clone().unwrap_or_else(|| {
                        DistributionConfig::builder()
                            .build()
                            .unwrap_or_else(|_| unreachable_config())
                    }),
                    id: d.id,
                    arn: d.arn,
                    domain: d.domain_name,
                    status: d.status,
                },
                "created (deploying to the edge takes a few minutes)".to_string(),
            )
        }
    };
    ctx.state
        .update(|s| {
            s.distribution_id = Some(found.id.clone());
            s.distribution_domain = Some(found.domain.clone());
        })
        .await?;
    ctx.progress.step(
        "distribution",
        &format!("{} {what}", found.id),
        start.elapsed(),
    );
    Ok(found)
}

fn unreachable_config() -> DistributionConfig {
    // Only reached if the service returned a distribution without a config.
    DistributionConfig::builder()
        .caller_reference("")
        .comment("")
        .enabled(true)
        .build()
        .expect("a config with its required fields builds")
}

/// Waits until the distribution is deployed.
pub async fn wait_deployed(ctx: &Ctx, id: &str, max: Duration) -> Result<Found> {
    let cf = ctx.aws.cloudfront();
    let (found, took) = wait::until(
        &ctx.progress,
        &format!("waiting for distribution {id} to deploy"),
        max,
        "CloudFront is still deploying; run the same command again later: it continues from here",
        || async {
            let found = get(&cf, id).await?.ok_or_else(|| {
                Error::Conflict(format!("the distribution {id} disappeared while deploying"))
            })?;
            if found.status == "Deployed" {
                Ok(Poll::Ready(found))
            } else {
                Ok(Poll::Pending(found.status.clone()))
            }
        },
    )
    .await?;
    ctx.progress.step("distribution", "deployed", took);
    Ok(found)
}

/// Disables the distribution, waits until that is deployed, and deletes it.
pub async fn delete(ctx: &Ctx, id: &str, max: Duration) -> Result<()> {
    let cf = ctx.aws.cloudfront();
    let current = match cf.get_distribution_config().id(id).send().await {
        Ok(out) => out,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            return Ok(());
        }
        Err(err) => return Err(err).aws("read the distribution's config", id),
    };
    if let Some(config) = current.distribution_config.clone()
        && config.enabled()
    {
        let mut disabled = config;
        disabled.enabled = false;
        cf.update_distribution()
            .id(id)
            .set_if_match(current.e_tag.clone())
            .distribution_config(disabled)
            .send()
            .await
            .aws("disable the distribution", id)?;
        ctx.progress
            .step("distribution", &format!("{id} disabled"), Duration::ZERO);
    }
    wait_deployed(ctx, id, max).await?;
    let etag = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .aws("read the distribution's config", id)?
        .e_tag;
    match cf
        .delete_distribution()
        .id(id)
        .set_if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_no_such_distribution()) =>
        {
            Ok(())
        }
        Err(err) => Err(err).aws("delete the distribution", id),
    }
}
