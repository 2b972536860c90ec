//! The stack's own CloudFront response headers policy: a strict
//! Content-Security-Policy the site works under, HSTS, `frame-ancestors
//! 'none'`, Referrer-Policy, Permissions-Policy and X-Content-Type-Options.
//!
//! Named after the stack (`colorid-<stack>-headers`; CloudFront cannot tag
//! response headers policies), found by that name, compared header by header
//! and updated with the ETag it was read with. The local emulator (moto) has no
//! response headers policy API ([`api_available`] asks): there, and only there,
//! the distribution keeps AWS's managed SecurityHeadersPolicy, and `colorid
//! --local dev`'s edge applies this policy (built by [`wanted_config`]) in its
//! place. A local endpoint that has the API (the tests' realism layer) gets the
//! stack's own policy, as AWS does.

use std::time::Instant;

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{
    FrameOptionsList, ReferrerPolicyList, ResponseHeadersPolicyConfig,
    ResponseHeadersPolicyContentSecurityPolicy, ResponseHeadersPolicyContentTypeOptions,
    ResponseHeadersPolicyCustomHeader, ResponseHeadersPolicyCustomHeadersConfig,
    ResponseHeadersPolicyFrameOptions, ResponseHeadersPolicyReferrerPolicy,
    ResponseHeadersPolicySecurityHeadersConfig, ResponseHeadersPolicyStrictTransportSecurity,
    ResponseHeadersPolicyType,
};

use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::Names;
use crate::stack::distribution::SECURITY_HEADERS;
use crate::stack::{Change, Ctx, diff_fields};

/// HSTS max-age: two years, the value hstspreload.org asks for.
pub const HSTS_MAX_AGE: i32 = 63_072_000;

/// Browser features the site never uses, switched off.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// One header a response headers policy sets: `(name, value, override the origin's)`.
pub type PolicyHeader = (String, String, bool);

/// The policy's name for a stack.
pub fn name(names: &Names) -> String {
    format!("colorid-{}-headers", names.stack)
}

/// The Content-Security-Policy: only the site's own scripts and styles (no
/// inline script or style), and fetches to the site and `connect_src`: the
/// issuer's origin and those of the endpoints the site fetches, from the
/// provider's discovery document ([`crate::discovery::Provider::connect_src`]).
pub fn content_security_policy(connect_src: &[String]) -> String {
    let mut connect = vec!["'self'".to_string()];
    connect.extend(connect_src.iter().cloned());
    [
        "default-src 'none'".to_string(),
        "script-src 'self'".to_string(),
        "style-src 'self'".to_string(),
        // The provider's `picture` claim may point at any https host.
        "img-src 'self' data: https:".to_string(),
        format!("connect-src {}", connect.join(" ")),
        "base-uri 'none'".to_string(),
        "form-action 'none'".to_string(),
        "frame-ancestors 'none'".to_string(),
        "object-src 'none'".to_string(),
    ]
    .join("; ")
}

/// The policy the stack wants, allowing fetches to `connect_src`.
pub fn wanted_config(names: &Names, connect_src: &[String]) -> Result<ResponseHeadersPolicyConfig> {
    let security = ResponseHeadersPolicySecurityHeadersConfig::builder()
        .content_security_policy(
            ResponseHeadersPolicyContentSecurityPolicy::builder()
                .r#override(true)
                .content_security_policy(content_security_policy(connect_src))
                .build()
                .built("the response headers policy")?,
        )
        .strict_transport_security(
            ResponseHeadersPolicyStrictTransportSecurity::builder()
                .r#override(true)
                .access_control_max_age_sec(HSTS_MAX_AGE)
                .include_subdomains(false)
                .preload(false)
                .build()
                .built("the response headers policy")?,
        )
        .frame_options(
            ResponseHeadersPolicyFrameOptions::builder()
                .r#override(true)
                .frame_option(FrameOptionsList::Deny)
                .build()
                .built("the response headers policy")?,
        )
        .referrer_policy(
            ResponseHeadersPolicyReferrerPolicy::builder()
                .r#override(true)
                .referrer_policy(ReferrerPolicyList::NoReferrer)
                .build()
                .built("the response headers policy")?,
        )
        .content_type_options(
            ResponseHeadersPolicyContentTypeOptions::builder()
                .r#override(true)
                .build()
                .built("the response headers policy")?,
        )
        .build();
    let custom = ResponseHeadersPolicyCustomHeadersConfig::builder()
        .quantity(1)
        .items(
            ResponseHeadersPolicyCustomHeader::builder()
                .header("Permissions-Policy")
                .value(PERMISSIONS_POLICY)
                .r#override(true)
                .build()
                .built("the response headers policy")?,
        )
        .build()
        .built("the response headers policy")?;
    ResponseHeadersPolicyConfig::builder()
        .name(name(names))
        .comment(format!("colorid stack {}", names.stack))
        .security_headers_config(security)
        .custom_headers_config(custom)
        .build()
        .built("the response headers policy")
}

/// The headers a policy sets, in the order CloudFront documents them.
pub fn headers_of(config: &ResponseHeadersPolicyConfig) -> Vec<PolicyHeader> {
    let mut out: Vec<PolicyHeader> = Vec::new();
    if let Some(s) = config.security_headers_config() {
        if let Some(csp) = s.content_security_policy() {
            out.push((
                "content-security-policy".into(),
                csp.content_security_policy().into(),
                csp.r#override(),
            ));
        }
        if let Some(h) = s.strict_transport_security() {
            let mut v = format!("max-age={}", h.access_control_max_age_sec());
            if h.include_subdomains() == Some(true) {
                v.push_str("; includeSubDomains");
            }
            if h.preload() == Some(true) {
                v.push_str("; preload");
            }
            out.push(("strict-transport-security".into(), v, h.r#override()));
        }
        if let Some(h) = s.frame_options() {
            out.push((
                "x-frame-options".into(),
                h.frame_option().as_str().into(),
                h.r#override(),
            ));
        }
        if let Some(h) = s.referrer_policy() {
            out.push((
                "referrer-policy".into(),
                h.referrer_policy().as_str().into(),
                h.r#override(),
            ));
        }
        if let Some(h) = s.content_type_options() {
            out.push((
                "x-content-type-options".into(),
                "nosniff".into(),
                h.r#override(),
            ));
        }
        if let Some(h) = s.xss_protection() {
            let v = match (h.protection(), h.mode_block()) {
                (false, _) => "0".to_string(),
                (true, Some(true)) => "1; mode=block".to_string(),
                (true, _) => "1".to_string(),
            };
            out.push(("x-xss-protection".into(), v, h.r#override()));
        }
    }
    for h in config
        .custom_headers_config()
        .map(|c| c.items())
        .unwrap_or_default()
    {
        out.push((
            h.header().to_ascii_lowercase(),
            h.value().into(),
            h.r#override(),
        ));
    }
    out
}

/// The headers of AWS's managed SecurityHeadersPolicy, as its page documents
/// them (none overrides the origin's).
pub fn managed_security_headers() -> Vec<PolicyHeader> {
    [
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("strict-transport-security", "max-age=31536000"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-xss-protection", "1; mode=block"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v.to_string(), false))
    .collect()
}

fn rendered(config: &ResponseHeadersPolicyConfig) -> std::collections::BTreeMap<String, String> {
    let mut v: std::collections::BTreeMap<String, String> = headers_of(config)
        .into_iter()
        .map(|(n, value, o)| (format!("header.{n}"), format!("{value} (override {o})")))
        .collect();
    v.insert(
        "comment".into(),
        config.comment().unwrap_or_default().into(),
    );
    v
}

/// The stack's policy as found: its id and configuration.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub config: ResponseHeadersPolicyConfig,
}

/// Finds a custom response headers policy by name.
pub async fn find(cf: &CloudFrontClient, name: &str) -> Result<Option<Found>> {
    let mut marker: Option<String> = None;
    loop {
        let out = cf
            .list_response_headers_policies()
            .r#type(ResponseHeadersPolicyType::Custom)
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list response headers policies", name)?;
        let Some(list) = out.response_headers_policy_list else {
            return Ok(None);
        };
        let hit = list
            .items()
            .iter()
            .filter_map(|s| s.response_headers_policy())
            .find(|p| p.response_headers_policy_config().map(|c| c.name()) == Some(name));
        if let Some(p) = hit
            && let Some(config) = p.response_headers_policy_config()
        {
            return Ok(Some(Found {
                id: p.id().to_string(),
                config: config.clone(),
            }));
        }
        match list.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => return Ok(None),
        }
    }
}

/// What `up` would do to the policy.
pub fn plan(found: Option<&Found>, wanted: &ResponseHeadersPolicyConfig) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(diff_fields(&rendered(&f.config), &rendered(wanted))),
    }
}

/// Creates the policy or updates the headers that differ; returns its id.
pub async fn ensure_with(
    cf: &CloudFrontClient,
    wanted: ResponseHeadersPolicyConfig,
) -> Result<(String, String)> {
    let name = wanted.name().to_string();
    match find(cf, &name).await? {
        Some(found) => {
            let changes = diff_fields(&rendered(&found.config), &rendered(&wanted));
            if changes.is_empty() {
                return Ok((found.id, "unchanged".into()));
            }
            let current = cf
                .get_response_headers_policy_config()
                .id(&found.id)
                .send()
                .await
                .aws("read the response headers policy", &name)?;
            cf.update_response_headers_policy()
                .id(&found.id)
                .set_if_match(current.e_tag)
                .response_headers_policy_config(wanted)
                .send()
                .await
                .aws("update the response headers policy", &name)?;
            let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
            Ok((found.id, format!("updated {}", fields.join(", "))))
        }
        None => {
            let created = cf
                .create_response_headers_policy()
                .response_headers_policy_config(wanted)
                .send()
                .await;
            let id = match created {
                Ok(out) => out.response_headers_policy.map(|p| p.id),
                // The SDK's retry of a create whose answer was lost: the first made it.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_response_headers_policy_already_exists()) =>
                {
                    find(cf, &name).await?.map(|f| f.id)
                }
                Err(err) => return Err(err).aws("create the response headers policy", &name),
            }
            .ok_or_else(|| Error::conflict(format!("creating {name} returned no id")))?;
            Ok((id, "created".into()))
        }
    }
}

/// The CSP header as [`headers_of`] names it.
pub const CSP_HEADER: &str = "content-security-policy";

/// What `plan` shows for the policy on the emulator, which cannot hold one:
/// the CSP `up` recorded in the state record against the wanted one.
pub fn plan_local(recorded: Option<&str>, wanted: &ResponseHeadersPolicyConfig) -> Change {
    let csp = |c: &ResponseHeadersPolicyConfig| {
        headers_of(c)
            .into_iter()
            .find(|h| h.0 == CSP_HEADER)
            .map(|h| h.1)
            .unwrap_or_default()
    };
    match recorded {
        None => Change::Create,
        Some(old) => Change::from_fields(diff_fields(
            &std::collections::BTreeMap::from([(format!("header.{CSP_HEADER}"), old.to_string())]),
            &std::collections::BTreeMap::from([(format!("header.{CSP_HEADER}"), csp(wanted))]),
        )),
    }
}

/// Whether the endpoint has the response headers policy API. AWS always has it
/// (nothing is asked); the local emulator answers 404 without an error code to
/// every path of it, as to any API it does not know.
pub async fn api_available(ctx: &Ctx) -> Result<bool> {
    if !ctx.aws.is_local() {
        return Ok(true);
    }
    let listed = ctx
        .aws
        .cloudfront()
        .list_response_headers_policies()
        .r#type(ResponseHeadersPolicyType::Custom)
        .send()
        .await;
    match listed {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 404)
                && aws_sdk_cloudfront::error::ProvideErrorMetadata::code(&err).is_none() =>
        {
            Ok(false)
        }
        Err(err) => Err(err).aws("list response headers policies", name(&ctx.names)),
    }
}

/// Creates or corrects the stack's policy, allowing fetches to `connect_src`;
/// returns the id the distribution uses. Where the endpoint has no response
/// headers policy API (the local emulator), the distribution keeps AWS's managed
/// SecurityHeadersPolicy and the wanted CSP is kept in the state record, for
/// `plan` to compare.
pub async fn ensure(ctx: &Ctx, connect_src: &[String]) -> Result<String> {
    let start = Instant::now();
    if !api_available(ctx).await? {
        let csp = content_security_policy(connect_src);
        let recorded = ctx.state.get().await.content_security_policy;
        let what = if recorded.as_deref() == Some(csp.as_str()) {
            "CSP unchanged"
        } else {
            ctx.state
                .update(|s| s.content_security_policy = Some(csp.clone()))
                .await?;
            "CSP recorded"
        };
        ctx.progress.step(
            "headers policy",
            &format!("managed SecurityHeadersPolicy (the emulator has no response headers policy API); {what}"),
            start.elapsed(),
        );
        return Ok(SECURITY_HEADERS.to_string());
    }
    let wanted = wanted_config(&ctx.names, connect_src)?;
    let (id, what) = ensure_with(&ctx.aws.cloudfront(), wanted).await?;
    ctx.progress
        .step("headers policy", &format!("{id} {what}"), start.elapsed());
    Ok(id)
}

/// Deletes the policy by name (after the distribution that used it is gone).
pub async fn delete(cf: &CloudFrontClient, name: &str) -> Result<bool> {
    let Some(found) = find(cf, name).await? else {
        return Ok(false);
    };
    let current = cf
        .get_response_headers_policy_config()
        .id(&found.id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_response_headers_policy())
        .aws("read the response headers policy", name)?;
    let Some(current) = current else {
        return Ok(false);
    };
    cf.delete_response_headers_policy()
        .id(&found.id)
        .set_if_match(current.e_tag)
        .send()
        .await
        .or_gone(|e| e.is_no_such_response_headers_policy())
        .aws("delete the response headers policy", name)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_the_issuer_origin_and_nothing_inline() {
        let csp = content_security_policy(&["https://auth.example.com".into()]);
        assert!(csp.contains("connect-src 'self' https://auth.example.com;"));
        let two = content_security_policy(&[
            "https://accounts.google.com".into(),
            "https://oauth2.googleapis.com".into(),
        ]);
        assert!(two.contains(
            "connect-src 'self' https://accounts.google.com https://oauth2.googleapis.com;"
        ));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("script-src 'self';"));
    }

    #[test]
    fn the_policy_sets_every_header_the_issue_asks_for() {
        let config = wanted_config(&Names::new("demo"), &["https://id.example".into()]).unwrap();
        let names: Vec<String> = headers_of(&config).into_iter().map(|h| h.0).collect();
        for want in [
            "content-security-policy",
            "strict-transport-security",
            "x-frame-options",
            "referrer-policy",
            "x-content-type-options",
            "permissions-policy",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        assert_eq!(config.name(), "colorid-demo-headers");
        assert!(plan(None, &config) == Change::Create);
        assert!(plan_local(None, &config) == Change::Create);
        let csp = content_security_policy(&["https://id.example".into()]);
        assert!(plan_local(Some(&csp), &config) == Change::Unchanged);
        let Change::Update { fields } = plan_local(Some("old"), &config) else {
            panic!("a changed CSP is an update");
        };
        assert_eq!(fields[0].field, "header.content-security-policy");
    }
}
