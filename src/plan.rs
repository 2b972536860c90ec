//! `plan`: the same look-ups `up` makes, no writes; each resource as create,
//! update (which fields, old → new) or unchanged, in the order `up` would go.

use std::path::Path;

use crate::error::Result;
use crate::session;
use crate::stack::bucket;
use crate::stack::bucket_name;
use crate::stack::bucket_policy::Reader;
use crate::stack::distribution::{self, ApiOrigin, Inputs};
use crate::stack::function_quotas;
use crate::stack::origin_access::{self, Access};
use crate::stack::{
    Change, Ctx, FieldChange, Planned, certificate, code, dns, former_domain, function,
    function_url, headers_policy, log_group, role, secrets, viewer_function, zone,
};
use aws_sdk_cloudfront::types::FunctionStage;

/// What goes when a stack drops its domain.
fn gone(field: &str, old: &str) -> Change {
    Change::Update {
        fields: vec![FieldChange {
            field: field.into(),
            old: old.into(),
            new: "(deleted: the stack has no domain)".into(),
        }],
    }
}

/// How many of the planned resources `up` would create, update or delete.
pub fn changes(steps: &[Planned]) -> usize {
    steps
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .count()
}

/// Surveys the account and says what `up` would do, for the provider whose
/// discovery document `provider` is. The function's code is compared only
/// when `function_zip` is given (otherwise `up` builds it).
pub async fn plan(
    ctx: &Ctx,
    function_zip: Option<&Path>,
    provider: &crate::discovery::Provider,
) -> Result<Vec<Planned>> {
    let code = function_zip.map(code::from_file).transpose()?;
    function_quotas::check(ctx).await?;
    let mut out = Vec::new();
    let mut push = |resource: &str, name: &str, change: Change| {
        out.push(Planned {
            resource: resource.to_string(),
            name: name.to_string(),
            change,
        })
    };
    let zone_id = zone::find_zone(ctx).await?;
    if let Some(id) = &zone_id {
        dns::refuse_cnames(ctx, id).await?;
    }
    let route53 = ctx.stack.uses_route53();
    match &zone_id {
        None if !route53 => {}
        Some(_) => push("hosted zone", &ctx.stack.hosted_zone, Change::Unchanged),
        None if ctx.aws.is_local() && ctx.stack.hosted_zone_id.is_none() => {
            push("hosted zone", &ctx.stack.hosted_zone, Change::Create)
        }
        None => return Err(zone::missing(ctx)),
    }
    let account = session::account_id(ctx).await?;
    let state = ctx.state.get().await;

    // No domain, no certificate: CloudFront's default one serves the distribution's name.
    let cert = if ctx.stack.has_certificate() {
        certificate::find(ctx).await?
    } else {
        None
    };
    if ctx.stack.has_certificate() {
        let previous_names = match (&cert, &state.certificate_arn) {
            (None, Some(_)) => Some(vec!["(the recorded certificate)".to_string()]),
            _ => None,
        };
        push(
            "certificate",
            &certificate::wanted_names(ctx).join(","),
            certificate::plan(ctx, cert.as_ref(), previous_names),
        );
    }

    let known_bucket = bucket_name::known(ctx, &account).await?;
    let found_bucket = match &known_bucket {
        Some(b) => bucket::find(ctx, b).await?,
        None => None,
    };
    let bucket_name = known_bucket.unwrap_or_else(|| bucket_name::planned(ctx, &account));
    let (oa_change, access) = origin_access::plan(ctx).await?;
    let found_dist = distribution::find(ctx).await?;
    let reader = match (&access, &found_dist) {
        (Some(Access::Control(_)), Some(d)) => Some(Reader::Distribution(d.arn.clone())),
        (Some(Access::Identity(id)), _) => Some(Reader::OriginAccessIdentity(id.clone())),
        _ => None,
    };
    push(
        "bucket",
        &bucket_name,
        bucket::plan(ctx, &bucket_name, found_bucket.as_ref(), reader.as_ref()),
    );
    push(
        "origin access",
        &ctx.names.origin_access_control(),
        oa_change,
    );

    let (secret_steps, origin_verify) = secrets::plan(ctx).await?;
    for s in secret_steps {
        push(&s.resource, &s.name, s.change);
    }
    let found_role = role::find(&ctx.aws.iam(), &ctx.names.role()).await?;
    if let Some(found) = &found_role {
        role::refuse_other_region(ctx, found)?;
    }
    push(
        "role",
        &ctx.names.role(),
        role::plan(ctx, found_role.as_ref(), &account),
    );
    let group = log_group::name(&ctx.names);
    let found_group = log_group::find(&ctx.aws.logs(), &group).await?;
    push(
        "log group",
        &group,
        log_group::plan(ctx, found_group.as_ref()),
    );
    let lambda = ctx.aws.lambda();
    let function_name = ctx.names.function();
    let found_function = function::find(&lambda, &function_name).await?;
    let role_arn = found_role.map_or_else(|| "(new role)".to_string(), |r| r.arn);
    push(
        "function",
        &function_name,
        function::plan(
            ctx,
            found_function.as_ref(),
            &role_arn,
            code.as_ref(),
            ctx.stack
                .site_url(found_dist.as_ref().map(|d| d.domain.as_str()))
                .as_deref(),
        ),
    );
    let found_url = match &found_function {
        Some(_) => function_url::find(&lambda, &function_name).await?,
        None => function_url::Found::default(),
    };
    push(
        "function url",
        found_url.url.as_deref().unwrap_or("(new)"),
        function_url::plan(&found_url, &function_name),
    );

    let cf = ctx.aws.cloudfront();
    let wanted_policy = headers_policy::wanted_config(&ctx.names, &provider.connect_src)?;
    let headers_policy_id = if !headers_policy::api_available(ctx).await? {
        push(
            "headers policy",
            wanted_policy.name(),
            headers_policy::plan_local(state.content_security_policy.as_deref(), &wanted_policy),
        );
        distribution::SECURITY_HEADERS.to_string()
    } else {
        let wanted = wanted_policy;
        let found = headers_policy::find(&cf, wanted.name()).await?;
        push(
            "headers policy",
            wanted.name(),
            headers_policy::plan(found.as_ref(), &wanted),
        );
        found.map_or_else(|| "(new policy)".to_string(), |f| f.id)
    };
    let fn_name = viewer_function::name(&ctx.names);
    let live = viewer_function::describe(&cf, &fn_name, FunctionStage::Live).await?;
    let fn_current = live.as_ref().is_some_and(|(s, _)| {
        s.function_config().map(|c| c.comment().to_string())
            == Some(viewer_function::comment(&ctx.names))
    });
    push(
        "function (edge)",
        &fn_name,
        match (&live, fn_current) {
            (None, _) => Change::Create,
            (Some(_), true) => Change::Unchanged,
            (Some(_), false) => Change::from_fields(vec![crate::stack::FieldChange {
                field: "source".into(),
                old: "(other)".into(),
                new: viewer_function::comment(&ctx.names),
            }]),
        },
    );
    let viewer_function_arn = live
        .and_then(|(s, _)| s.function_metadata().map(|m| m.function_arn().to_string()))
        .unwrap_or_else(|| "(new function)".into());
    let inputs = Inputs {
        certificate_arn: ctx.stack.has_certificate().then(|| {
            cert.map(|c| c.arn)
                .unwrap_or_else(|| "(new certificate)".into())
        }),
        bucket_domain: crate::deploy::bucket_domain(&bucket_name, &ctx.aws.region()),
        access: access.unwrap_or_else(|| Access::Control("(new)".into())),
        api: Some(ApiOrigin {
            domain: found_url
                .url
                .as_deref()
                .map_or_else(|| "(new function URL)".to_string(), function_url::host),
            verify_secret: origin_verify
                .map_or_else(|| "(new secret)".to_string(), |s| s.expose().to_string()),
        }),
        has_404_page: ctx.stack.site_dir.join("404.html").is_file(),
        headers_policy_id,
        viewer_function_arn: Some(viewer_function_arn),
    };
    let wanted = distribution::wanted_config(ctx, &inputs, found_dist.as_ref().map(|d| &d.config))?;
    let served_on = ctx
        .stack
        .site_host(found_dist.as_ref().map(|d| d.domain.as_str()))
        .unwrap_or("(its own new *.cloudfront.net name)");
    push(
        "distribution",
        served_on,
        distribution::plan(
            found_dist.as_ref(),
            &wanted,
            distribution::Recorded {
                origin_access_control: state.origin_access_control_id.as_deref(),
                viewer_function: state.viewer_function_arn.as_deref(),
            },
        ),
    );

    if !ctx.stack.has_certificate()
        && let Some(arn) = &state.certificate_arn
    {
        push("certificate", arn, gone("certificate", arn));
    }
    if let Some(former) = former_domain::find(ctx).await? {
        for name in &former.alias_names {
            let what = format!("{name} A, AAAA");
            push("dns", &what, gone("alias records", "the distribution"));
        }
        for (name, value) in &former.validation {
            push(
                "dns",
                &format!("{name} CNAME"),
                gone("validation record", value),
            );
        }
    }
    if !route53 {
        return Ok(out);
    }
    let aliases = match &zone_id {
        Some(id) => dns::find_aliases(ctx, id).await?,
        None => dns::record_names(ctx)
            .into_iter()
            .map(|name| dns::Aliases {
                name,
                ..Default::default()
            })
            .collect(),
    };
    let target = found_dist
        .as_ref()
        .map_or("(new distribution)", |d| d.domain.as_str());
    for found in &aliases {
        push(
            "dns",
            &format!("{} A, AAAA", found.name),
            dns::plan(found, Some(target)),
        );
    }
    Ok(out)
}
