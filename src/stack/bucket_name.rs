//! The bucket's name: the stack file's `bucket`, the one the state records, one
//! found by its tag, or a new one for this incarnation of the stack.
//!
//! S3 keeps a deleted bucket's name for hours before it can be created again
//! (409 OperationAborted: "In many cases, you can create a bucket within a few
//! hours after you delete the previous bucket. However, it might take 48-72
//! hours", <https://repost.aws/knowledge-center/s3-conflicting-conditional-operation>),
//! so a derived name carries a suffix per incarnation: `down` then `up` makes
//! a bucket of a new name.

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::error::{AwsContext, Result};
use crate::names::STACK_TAG;
use crate::stack::Ctx;

/// The bucket the stack has, or would use without creating anything: the stack
/// file's, the recorded one, or one of its derived names found by tag.
pub async fn known(ctx: &Ctx, account: &str) -> Result<Option<String>> {
    if let Some(b) = &ctx.stack.bucket {
        return Ok(Some(b.clone()));
    }
    if let Some(b) = ctx
        .state
        .get()
        .await
        .bucket
        .filter(|b| ctx.names.is_derived_bucket(account, b))
    {
        return Ok(Some(b));
    }
    discover(ctx, account).await
}

/// The name `up` uses: the known one, or a new incarnation's, recorded before the
/// bucket is created so that a run killed in between finds it again.
pub async fn for_up(ctx: &Ctx, account: &str) -> Result<String> {
    if let Some(b) = known(ctx, account).await? {
        return Ok(b);
    }
    let name = ctx
        .names
        .bucket(account, &hex::encode(rand::random::<[u8; 4]>()));
    ctx.state.update(|s| s.bucket = Some(name.clone())).await?;
    Ok(name)
}

/// What `plan` shows for a bucket not made yet.
pub fn planned(ctx: &Ctx, account: &str) -> String {
    format!("{}-<new>", ctx.names.bucket_stem(account))
}

/// A bucket of one of the stack's derived names that carries the stack's tag (the
/// state record was lost).
pub async fn discover(ctx: &Ctx, account: &str) -> Result<Option<String>> {
    let s3 = ctx.aws.s3();
    let stem = ctx.names.bucket_stem(account);
    let mut candidates = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_buckets()
            .prefix(&stem)
            .set_continuation_token(token.take())
            .send()
            .await
            .aws("list the buckets named", &stem)?;
        candidates.extend(
            page.buckets()
                .iter()
                .filter_map(|b| b.name())
                .filter(|n| ctx.names.is_derived_bucket(account, n))
                .map(str::to_string),
        );
        match page.continuation_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    candidates.sort();
    for name in candidates {
        let tags = match s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(out) => out.tag_set,
            // Gone since the listing, untagged, or another account's (403 to a
            // request that expects this account as the owner): not this stack's.
            Err(err)
                if matches!(err.code(), Some("NoSuchTagSet" | "NoSuchBucket"))
                    || err
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 403) =>
            {
                continue;
            }
            Err(err) => return Err(err).aws("read the tags of", &name),
        };
        if tags
            .iter()
            .any(|t| t.key() == STACK_TAG && t.value() == ctx.names.stack)
        {
            return Ok(Some(name));
        }
    }
    Ok(None)
}
