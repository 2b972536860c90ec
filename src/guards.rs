//! Guards on every request of a client: a quota is not throttling (no minute of
//! retries), and every S3 request names the account that must own the bucket.

use std::sync::{Arc, OnceLock};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, InterceptorContext,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Error codes that name a quota the account has reached, though the SDK's
/// standard classifier retries them as throttling (ACM's certificate quota,
/// CloudWatch Logs' resource quota): waiting does not lift them.
pub const QUOTA_CODES: &[&str] = &["LimitExceededException"];

/// The error code of a JSON protocol's error answer (`__type`, or the
/// `x-amzn-errortype` header), without its namespace.
fn json_error_code(ctx: &InterceptorContext) -> Option<String> {
    let response = ctx.response()?;
    if let Some(kind) = response.headers().get("x-amzn-errortype") {
        return Some(kind.split(':').next().unwrap_or(kind).to_string());
    }
    let body: serde_json::Value = serde_json::from_slice(response.body().bytes()?).ok()?;
    let kind = body["__type"].as_str()?;
    Some(kind.rsplit('#').next().unwrap_or(kind).to_string())
}

/// Forbids the retry of an answer whose code is in [`QUOTA_CODES`].
#[derive(Debug, Default)]
pub struct QuotasAreNotThrottling;

impl ClassifyRetry for QuotasAreNotThrottling {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(_)) => {}
            _ => return RetryAction::NoActionIndicated,
        }
        match json_error_code(ctx) {
            Some(code) if QUOTA_CODES.contains(&code.as_str()) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "colorid::QuotasAreNotThrottling"
    }

    /// After the SDK's own classifiers, so its verdict is overridden.
    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// The account that must own the stack's bucket, known once the run has
/// identified its account.
pub type ExpectedOwner = Arc<OnceLock<String>>;

/// Adds `x-amz-expected-bucket-owner` (and, for copies, the source's) to every S3
/// request but those that take none (CreateBucket, ListBuckets): a bucket of the
/// derived name that another account owns answers 403 instead of being used.
#[derive(Debug, Clone)]
pub struct ExpectBucketOwner(pub ExpectedOwner);

/// S3 operations that do not take an expected bucket owner.
const NO_OWNER: &[&str] = &["CreateBucket", "ListBuckets"];

impl Intercept for ExpectBucketOwner {
    fn name(&self) -> &'static str {
        "colorid::ExpectBucketOwner"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(owner) = self.0.get() else {
            return Ok(());
        };
        let operation = cfg.load::<Metadata>().map(|m| m.name()).unwrap_or_default();
        if NO_OWNER.contains(&operation) {
            return Ok(());
        }
        let headers = context.request_mut().headers_mut();
        headers.insert("x-amz-expected-bucket-owner", owner.clone());
        if headers.contains_key("x-amz-copy-source") {
            headers.insert("x-amz-source-expected-bucket-owner", owner.clone());
        }
        Ok(())
    }
}
