//! The identity function: Rust on provided.al2023 (x86_64), its code compared
//! by SHA-256 and its configuration field by field. Its environment is
//! [`super::function_environment`]'s; waiting for it to be ready,
//! [`super::function_ready`]'s.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, Runtime,
    State,
};

use crate::error::{AwsContext, OrGone, Result, code_of, from_sdk};
use crate::names::STACK_TAG;
use crate::stack::code::Code;
use crate::stack::function_environment::environment;
use crate::stack::function_ready::{wait_active, wait_updated};
use crate::stack::role::Role;
use crate::stack::{Change, Ctx, FieldChange, diff_fields, function_concurrency};
use crate::wait::{self, Poll};

/// How long a new role may take to become assumable by Lambda.
const ROLE_PROPAGATION: Duration = Duration::from_secs(120);

/// The function as found.
#[derive(Debug, Clone)]
pub struct Found {
    pub arn: String,
    pub code_sha256: String,
    pub fields: BTreeMap<String, String>,
    pub tagged: bool,
    /// The value of its `colorid:stack` tag, if it has one.
    pub stack_tag: Option<String>,
    /// Active, and no update in progress: Lambda accepts changes only then.
    pub ready: bool,
    pub reserved_concurrency: Option<i32>,
}

/// The managed configuration, rendered for comparison and `plan`.
fn wanted_fields(ctx: &Ctx, role_arn: &str, site_url: Option<&str>) -> BTreeMap<String, String> {
    let mut v = BTreeMap::from([
        (
            "runtime".to_string(),
            Runtime::Providedal2023.as_str().into(),
        ),
        ("architecture".into(), Architecture::X8664.as_str().into()),
        ("handler".into(), "bootstrap".into()),
        ("memory_mb".into(), ctx.stack.function.memory_mb.to_string()),
        (
            "timeout_seconds".into(),
            ctx.stack.function.timeout_seconds.to_string(),
        ),
        ("role".into(), role_arn.to_string()),
    ]);
    for (k, val) in environment(ctx, site_url) {
        v.insert(format!("env.{k}"), val);
    }
    v
}

fn found_fields(c: &FunctionConfiguration) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, val: String| {
        v.insert(k.to_string(), val);
    };
    put(
        "runtime",
        c.runtime()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    );
    put(
        "architecture",
        c.architectures()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    put("handler", c.handler().unwrap_or_default().into());
    put(
        "memory_mb",
        c.memory_size().map(|m| m.to_string()).unwrap_or_default(),
    );
    put(
        "timeout_seconds",
        c.timeout().map(|t| t.to_string()).unwrap_or_default(),
    );
    put("role", c.role().unwrap_or_default().into());
    for (k, val) in c
        .environment()
        .and_then(|e| e.variables())
        .into_iter()
        .flatten()
    {
        put(&format!("env.{k}"), val.clone());
    }
    v
}

/// Finds the function by its derived name.
pub async fn find(lambda: &LambdaClient, name: &str) -> Result<Option<Found>> {
    let Some(out) = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("read the function", name)?
    else {
        return Ok(None);
    };
    let Some(c) = out.configuration.as_ref() else {
        return Ok(None);
    };
    let arn = c.function_arn().unwrap_or_default().to_string();
    // GetFunction answers Tags only to a caller that may also call ListTags
    // (configuration-tags.html): read them where they always are.
    let tags = lambda
        .list_tags()
        .resource(&arn)
        .send()
        .await
        .aws("read the tags of", name)?
        .tags
        .unwrap_or_default();
    Ok(Some(Found {
        arn,
        code_sha256: c.code_sha256().unwrap_or_default().to_string(),
        fields: found_fields(c),
        tagged: tags.contains_key(STACK_TAG),
        stack_tag: tags.get(STACK_TAG).cloned(),
        ready: c.state() == Some(&State::Active)
            && c.last_update_status() != Some(&LastUpdateStatus::InProgress),
        reserved_concurrency: function_concurrency::of(&out),
    }))
}

/// What `up` would do; `code` is `None` when the package is not known at plan time,
/// `site_url` when the site's name is not (a stack with no domain and no distribution).
pub fn plan(
    ctx: &Ctx,
    found: Option<&Found>,
    role_arn: &str,
    code: Option<&Code>,
    site_url: Option<&str>,
) -> Change {
    let Some(found) = found else {
        return Change::Create;
    };
    let mut fields = diff_fields(&found.fields, &wanted_fields(ctx, role_arn, site_url));
    if let Some(code) = code
        && code.sha256 != found.code_sha256
    {
        fields.push(FieldChange {
            field: "code (sha256)".into(),
            old: found.code_sha256.clone(),
            new: code.sha256.clone(),
        });
    }
    fields.extend(function_concurrency::plan(ctx, found.reserved_concurrency));
    if !found.tagged {
        fields.push(FieldChange {
            field: "tag".into(),
            old: "(none)".into(),
            new: ctx.names.stack.clone(),
        });
    }
    Change::from_fields(fields)
}

fn env_vars(ctx: &Ctx, site_url: Option<&str>) -> Environment {
    Environment::builder()
        .set_variables(Some(
            environment(ctx, site_url)
                .into_iter()
                .collect::<HashMap<_, _>>(),
        ))
        .build()
}

fn description(ctx: &Ctx) -> String {
    format!("colorid stack {}: the identity function", ctx.names.stack)
}

/// Creates the function, or updates the code and configuration that differ.
///
/// `secrets_changed` recycles warm instances (they read the parameters once,
/// at start) by touching the description when nothing else changes. `site_url` as
/// for [`environment`](super::function_environment::environment).
pub async fn ensure(
    ctx: &Ctx,
    role: &Role,
    code: &Code,
    secrets_changed: bool,
    site_url: Option<&str>,
) -> Result<String> {
    let start = Instant::now();
    let lambda = ctx.aws.lambda();
    let name = ctx.names.function();
    let found = match find(&lambda, &name).await? {
        Some(f) => Some(f),
        None => {
            if create(ctx, &lambda, &name, role, code, site_url).await? {
                None
            } else {
                find(&lambda, &name).await?
            }
        }
    };
    ctx.state
        .update(|s| s.function_name = Some(name.clone()))
        .await?;
    let Some(found) = found else {
        wait_active(ctx, &lambda, &name).await?;
        let capped = function_concurrency::ensure(ctx, &lambda, &name, None).await?;
        ctx.progress.step(
            "function",
            &format!(
                "{name} created (code {}){}",
                code.sha256,
                capped.map(|c| format!("; {c}")).unwrap_or_default()
            ),
            start.elapsed(),
        );
        return Ok(name);
    };
    // A run killed right after a create or an update leaves the function Pending or
    // updating; Lambda refuses changes (ResourceConflictException) until it is ready.
    if !found.ready {
        wait_active(ctx, &lambda, &name).await?;
        wait_updated(ctx, &lambda, &name).await?;
    }
    let mut did = Vec::new();
    let config_changes = diff_fields(&found.fields, &wanted_fields(ctx, &role.arn, site_url));
    let arch_differs = config_changes.iter().any(|c| c.field == "architecture");
    if found.code_sha256 != code.sha256 || arch_differs {
        lambda
            .update_function_code()
            .function_name(&name)
            .zip_file(Blob::new(code.zip.clone()))
            .architectures(Architecture::X8664)
            .send()
            .await
            .aws("update the code of", &name)?;
        wait_updated(ctx, &lambda, &name).await?;
        did.push(format!("code {} → {}", found.code_sha256, code.sha256));
    }
    let config_changes: Vec<&FieldChange> = config_changes
        .iter()
        .filter(|c| c.field != "architecture")
        .collect();
    if !config_changes.is_empty() || secrets_changed {
        lambda
            .update_function_configuration()
            .function_name(&name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(&role.arn)
            .memory_size(ctx.stack.function.memory_mb)
            .timeout(ctx.stack.function.timeout_seconds)
            .environment(env_vars(ctx, site_url))
            .description(if config_changes.is_empty() {
                // A new description starts fresh instances, which read the new values.
                format!("{} (secrets updated {})", description(ctx), unix_now())
            } else {
                description(ctx)
            })
            .send()
            .await
            .aws("update the configuration of", &name)?;
        wait_updated(ctx, &lambda, &name).await?;
        if config_changes.is_empty() {
            did.push("restarted for new secret values".into());
        } else {
            let fields: Vec<&str> = config_changes.iter().map(|c| c.field.as_str()).collect();
            did.push(format!("updated {}", fields.join(", ")));
        }
    }
    did.extend(
        function_concurrency::ensure(ctx, &lambda, &name, found.reserved_concurrency).await?,
    );
    if !found.tagged {
        lambda
            .tag_resource()
            .resource(&found.arn)
            .tags(STACK_TAG, &ctx.names.stack)
            .send()
            .await
            .aws("tag", &name)?;
        did.push("tagged".into());
    }
    let what = if did.is_empty() {
        "unchanged".to_string()
    } else {
        did.join("; ")
    };
    ctx.progress
        .step("function", &format!("{name} {what}"), start.elapsed());
    Ok(name)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Creates the function, retrying while a new role is not yet assumable.
/// Returns false when it already existed (made by a run that was killed).
async fn create(
    ctx: &Ctx,
    lambda: &LambdaClient,
    name: &str,
    role: &Role,
    code: &Code,
    site_url: Option<&str>,
) -> Result<bool> {
    let (created, _) = wait::until(
        &ctx.progress,
        "waiting for the new role to be assumable by Lambda",
        ROLE_PROPAGATION,
        "IAM has not made the role usable yet; run `colorid up` again in a minute",
        || async {
            let res = lambda
                .create_function()
                .function_name(name)
                .description(description(ctx))
                .runtime(Runtime::Providedal2023)
                .architectures(Architecture::X8664)
                .handler("bootstrap")
                .role(&role.arn)
                .memory_size(ctx.stack.function.memory_mb)
                .timeout(ctx.stack.function.timeout_seconds)
                .environment(env_vars(ctx, site_url))
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(code.zip.clone()))
                        .build(),
                )
                .tags(STACK_TAG, &ctx.names.stack)
                .send()
                .await;
            match res {
                Ok(_) => Ok(Poll::Ready(true)),
                Err(err) if code_of(&err) == Some("ResourceConflictException") => {
                    Ok(Poll::Ready(false))
                }
                // IAM is eventually consistent: a new role is refused for a few seconds,
                // whether this run made it or a run that was killed did. Lambda gives this
                // refusal the code of every invalid parameter; only its message tells it apart.
                Err(err) if role_not_yet_assumable(&err) => {
                    Ok(Poll::Pending("role not assumable yet".into()))
                }
                Err(err) => Err(from_sdk("create the function", name, &err)),
            }
        },
    )
    .await?;
    Ok(created)
}

/// Lambda's answer while IAM has not yet propagated a new role.
fn role_not_yet_assumable<E: ProvideErrorMetadata, R>(
    err: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> bool {
    code_of(err) == Some("InvalidParameterValueException")
        && err
            .message()
            .is_some_and(|m| m.contains("cannot be assumed by Lambda"))
}

/// Deletes the function; a missing one is fine.
pub async fn delete(ctx: &Ctx, name: &str) -> Result<()> {
    ctx.aws
        .lambda()
        .delete_function()
        .function_name(name)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("delete the function", name)?;
    Ok(())
}
