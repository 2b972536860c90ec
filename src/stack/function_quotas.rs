//! The account's Lambda quotas, read (`GetAccountSettings`) before `plan` or
//! `up` changes anything: "New AWS accounts have reduced concurrency and memory
//! quotas" (<https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>),
//! so a stack file that is fine on an older account can be refused half-way
//! through a first `up` on a new one.
//!
//! Lambda keeps 100 of the account's concurrency unreserved, so a reservation
//! is possible only up to what is unreserved less 100 (none at all on an
//! account whose quota is 10). The memory quota is not in the answer; the
//! reduced concurrency quota (below the default 1,000) marks the new-account
//! profile, whose functions get at most 3,008 MB.

use aws_sdk_lambda::Client as LambdaClient;

use crate::error::{AwsContext, Error, OrGone, Result};
use crate::stack::Ctx;

/// What Lambda keeps unreserved in every account.
const KEPT_UNRESERVED: i64 = 100;
/// The default concurrency quota; below it, the account has a new account's quotas.
const DEFAULT_CONCURRENCY: i64 = 1000;
/// The memory a new account's function may have.
const NEW_ACCOUNT_MEMORY_MB: i32 = 3008;

const RAISE: &str = "ask for more in the Service Quotas console (AWS Lambda → Concurrent executions; AWS also raises a new account's quotas as it is used)";

/// Refuses a reservation or memory size the account's quotas do not allow; reads
/// the quotas only when the stack asks for either.
pub async fn check(ctx: &Ctx) -> Result<()> {
    let function = &ctx.stack.function;
    if function.reserved_concurrency.is_none() && function.memory_mb <= NEW_ACCOUNT_MEMORY_MB {
        return Ok(());
    }
    let lambda = ctx.aws.lambda();
    let region = ctx.aws.region();
    let settings = match lambda.get_account_settings().send().await {
        Ok(s) => s,
        // A bare local emulator may not answer it (moto does not); AWS always does.
        Err(_) if ctx.aws.is_local() => return Ok(()),
        Err(err) => return Err(err).aws("read the Lambda quotas of the account in", &region),
    };
    let Some(limit) = settings.account_limit() else {
        return Ok(());
    };
    let quota = i64::from(limit.concurrent_executions());
    let unreserved = limit.unreserved_concurrent_executions().map(i64::from);
    let file = ctx.stack.file.display();
    if function.memory_mb > NEW_ACCOUNT_MEMORY_MB && quota < DEFAULT_CONCURRENCY {
        return Err(Error::conflict_fix(
            format!(
                "this account has a new account's Lambda quotas in {region} (concurrency {quota}), under which a function gets at most {NEW_ACCOUNT_MEMORY_MB} MB: `memory_mb = {}` would be refused.",
                function.memory_mb
            ),
            format!(
                "set [function] memory_mb to {NEW_ACCOUNT_MEMORY_MB} or less in {file} (256 is plenty), or {RAISE}"
            ),
        ));
    }
    let Some(wanted) = function.reserved_concurrency else {
        return Ok(());
    };
    let current = current_reservation(&lambda, &ctx.names.function()).await?;
    let available = unreserved.unwrap_or(quota) + current - KEPT_UNRESERVED;
    if i64::from(wanted) > available {
        let room = if available < 1 {
            "no reservation is possible".to_string()
        } else {
            format!("at most {available} can be reserved")
        };
        return Err(Error::conflict_fix(
            format!(
                "the account's Lambda concurrency quota in {region} is {quota} and Lambda keeps {KEPT_UNRESERVED} of it unreserved, so {room}: `reserved_concurrency = {wanted}` would be refused."
            ),
            format!("remove [function] reserved_concurrency from {file} (or lower it), or {RAISE}"),
        ));
    }
    Ok(())
}

/// The function's own reservation, which the account's unreserved count already leaves out.
async fn current_reservation(lambda: &LambdaClient, name: &str) -> Result<i64> {
    let out = lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("read the reserved concurrency of", name)?;
    Ok(out
        .and_then(|o| o.reserved_concurrent_executions)
        .map_or(0, i64::from))
}
