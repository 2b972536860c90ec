//! Waiting for the identity function to accept changes: Lambda takes them
//! only once it is Active and no update is in progress.

use std::time::Duration;

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::client::Waiters;

use crate::error::{Error, Result};
use crate::stack::Ctx;

/// How long the function may take to become Active or finish an update.
const READY_WAIT: Duration = Duration::from_secs(300);

/// Waits until the function is Active (after a create).
pub(super) async fn wait_active(ctx: &Ctx, lambda: &LambdaClient, name: &str) -> Result<()> {
    let w = ctx
        .progress
        .wait(&format!("waiting for {name} to be Active"));
    let res = lambda
        .wait_until_function_active_v2()
        .function_name(name)
        .wait(READY_WAIT)
        .await;
    w.done();
    res.map(|_| ())
        .map_err(|e| waiter_error(name, "become Active", e))
}

/// Waits until the function's last update has finished.
pub(super) async fn wait_updated(ctx: &Ctx, lambda: &LambdaClient, name: &str) -> Result<()> {
    let w = ctx
        .progress
        .wait(&format!("waiting for the update of {name}"));
    let res = lambda
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(READY_WAIT)
        .await;
    w.done();
    res.map(|_| ())
        .map_err(|e| waiter_error(name, "finish updating", e))
}

// The waiter's error is not shown: it may carry the function's whole configuration.
fn waiter_error<E>(name: &str, what: &str, _err: E) -> Error {
    Error::Timeout {
        what: format!("the function {name} to {what}"),
        seconds: READY_WAIT.as_secs(),
        fix: format!(
            "look at the function's State and LastUpdateStatusReason in the Lambda console (`aws lambda get-function --function-name {name}`), fix the cause, and run `colorid up` again"
        ),
    }
}
