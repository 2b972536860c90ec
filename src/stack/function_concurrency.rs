//! The identity function's reserved concurrency (`[function]
//! reserved_concurrency`): at most that many instances run at once, so
//! requests sent straight to the public function URL (refused by the origin
//! check, but still run and billed) cannot cost more than the cap allows.
//! Read from `GetFunction`'s `Concurrency`, which `find` already fetches, so
//! the converge check costs no extra call.

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;

use crate::error::{AwsContext, Result};
use crate::stack::{Ctx, FieldChange};

/// The reserved concurrency a `GetFunction` answer shows, if any.
pub fn of(out: &GetFunctionOutput) -> Option<i32> {
    out.concurrency()
        .and_then(|c| c.reserved_concurrent_executions())
}

fn show(v: Option<i32>) -> String {
    v.map_or_else(|| "(none)".to_string(), |n| n.to_string())
}

/// The change `up` would make, if any.
pub fn plan(ctx: &Ctx, found: Option<i32>) -> Option<FieldChange> {
    let wanted = ctx.stack.function.reserved_concurrency;
    (found != wanted).then(|| FieldChange {
        field: "reserved_concurrency".into(),
        old: show(found),
        new: show(wanted),
    })
}

/// Sets or removes the reservation when it differs; says what it did.
pub async fn ensure(
    ctx: &Ctx,
    lambda: &LambdaClient,
    name: &str,
    found: Option<i32>,
) -> Result<Option<String>> {
    let wanted = ctx.stack.function.reserved_concurrency;
    if found == wanted {
        return Ok(None);
    }
    match wanted {
        Some(n) => {
            lambda
                .put_function_concurrency()
                .function_name(name)
                .reserved_concurrent_executions(n)
                .send()
                .await
                .aws("set the reserved concurrency of", name)?;
        }
        None => {
            lambda
                .delete_function_concurrency()
                .function_name(name)
                .send()
                .await
                .aws("remove the reserved concurrency of", name)?;
        }
    }
    Ok(Some(format!(
        "reserved concurrency {} → {}",
        show(found),
        show(wanted)
    )))
}
