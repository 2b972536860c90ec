//! One run's context: the validated stack, the SDK clients, progress and state.

use crate::aws::{Aws, AwsOptions};
use crate::cli::{Global, Output};
use crate::config;
use crate::error::Result;
use crate::names::Names;
use crate::progress::Progress;
use crate::stack::Ctx;
use crate::state::StateStore;

/// Loads and validates the stack (before any AWS call), then builds the context.
pub async fn open(global: &Global) -> Result<Ctx> {
    open_checked(global, |_| Ok(())).await
}

/// As [`open`], with a command's own check of the stack (e.g. that the site
/// directory exists) made before any AWS call.
pub async fn open_checked(
    global: &Global,
    check: impl FnOnce(&config::Stack) -> Result<()>,
) -> Result<Ctx> {
    Ok(open_with(global, check).await?.0)
}

/// As [`open_checked`], where the check also starts what needs only the stack file
/// (publish's walk of the site), so that it runs beside the AWS calls that follow.
pub async fn open_with<T>(
    global: &Global,
    prepare: impl FnOnce(&config::Stack) -> Result<T>,
) -> Result<(Ctx, T)> {
    let stack = config::load_for(&global.stack, global.local)?;
    crate::stack::function_environment::check(&stack, &Names::new(&stack.name))?;
    let options = AwsOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        local: global.local,
    };
    if let Some(region) = &options.region {
        check_region_override(region, &stack)?;
    }
    let prepared = prepare(&stack)?;
    let aws = Aws::load(&options, &stack.region).await?;
    let names = Names::new(&stack.name);
    let progress = Progress::new(global.output == Output::Json);
    let state = StateStore::load(aws.ssm(), &names).await?;
    if let Some(account) = state.get().await.account_id {
        aws.expect_bucket_owner(&account);
    }
    let ctx = Ctx {
        stack,
        aws,
        names,
        progress,
        state,
    };
    Ok((ctx, prepared))
}

/// `--region` replaces the stack's region, so it gets the stack file's region checks.
fn check_region_override(region: &str, stack: &crate::config::Stack) -> Result<()> {
    use crate::error::Error;
    if let Err(problem) = crate::names::check_region(region) {
        return Err(Error::usage_fix(
            format!("--region {region:?} {}.", problem.message()),
            problem.hint(),
        ));
    }
    if stack.origin_access == crate::config::OriginAccess::Identity
        && !crate::names::origin_access_identity_supported(region)
    {
        return Err(Error::usage_fix(
            format!(
                "--region {region:?} cannot be used with origin_access = \"identity\" in {}: CloudFront origin access identities cannot read S3 buckets in opt-in regions opened after December 2022.",
                stack.file.display()
            ),
            "set origin_access = \"control\" in the stack file, or pick another region",
        ));
    }
    Ok(())
}

/// The caller's account id: from the state record, which lives in that account,
/// else from STS (and then recorded).
pub async fn account_id(ctx: &Ctx) -> Result<String> {
    use crate::error::AwsContext;
    if let Some(id) = ctx.state.get().await.account_id {
        return Ok(id);
    }
    let out = ctx
        .aws
        .sts()
        .get_caller_identity()
        .send()
        .await
        .aws("identify the AWS account of", "the current credentials")?;
    let account = out.account.unwrap_or_default();
    ctx.aws.expect_bucket_owner(&account);
    Ok(account)
}

/// Runs `fut`, ending early with a clear error on Ctrl-C so the caller can release the lock.
pub async fn interruptible<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        r = fut => r,
        _ = tokio::signal::ctrl_c() => Err(crate::error::Error::Aborted(
            "interrupted; run the same command again to finish: it resumes where it stopped".into(),
        )),
    }
}
