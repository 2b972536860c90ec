//! The bucket's policy: a TLS-only deny, GetObject for CloudFront alone (as
//! the distribution, or as its origin access identity), and publish's private
//! folder kept from viewers.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{AwsContext, Result, code_of};
use crate::stack::Ctx;
use crate::wait::{self, Poll};

/// How long S3 may refuse a new origin access identity as a policy principal.
const IDENTITY_PROPAGATION: Duration = Duration::from_secs(300);

/// Who may read the bucket through CloudFront.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// Origin access control: the distribution's ARN.
    Distribution(String),
    /// Origin access identity: its id.
    OriginAccessIdentity(String),
}

/// Whether the policy carries its deny statements (TLS only; CloudFront kept
/// out of `.colorid/`). Always on AWS. The local emulator applies a Deny
/// statement whatever its principal and condition, and so would deny every
/// object request and publish's own manifest; there, and only there, the
/// statements are left out (the local edge still applies them: see
/// `edge::origin`).
pub fn tls_deny_supported(ctx: &Ctx) -> bool {
    !ctx.aws.is_local()
}

/// The bucket policy: TLS only (when `tls_deny`), GetObject for CloudFront as
/// `reader`, except publish's private folder (when `tls_deny`).
pub fn wanted_policy(bucket: &str, reader: &Reader, tls_deny: bool) -> Value {
    let arn = format!("arn:aws:s3:::{bucket}");
    let principal = match reader {
        Reader::Distribution(_) => json!({"Service": "cloudfront.amazonaws.com"}),
        Reader::OriginAccessIdentity(id) => {
            json!({"AWS": format!("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {id}")})
        }
    };
    // publish's manifest lists every file and its hash: not for viewers.
    let private = json!({
        "Sid": "DenyCloudFrontPrivate",
        "Effect": "Deny",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": format!("{arn}/{}*", crate::publish::PRIVATE_PREFIX)
    });
    let allow = match reader {
        Reader::Distribution(dist_arn) => json!({
            "Sid": "AllowCloudFrontRead",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": format!("{arn}/*"),
            "Condition": {"StringEquals": {"AWS:SourceArn": dist_arn}}
        }),
        Reader::OriginAccessIdentity(id) => json!({
            "Sid": "AllowCloudFrontRead",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {id}")},
            "Action": "s3:GetObject",
            "Resource": format!("{arn}/*")
        }),
    };
    let deny = json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn.clone(), format!("{arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    });
    let statements = if tls_deny {
        vec![deny, allow, private]
    } else {
        vec![allow]
    };
    json!({
        "Version": "2012-10-17",
        "Statement": statements
    })
}

/// Puts a policy in a canonical form: one-element arrays as scalars, arrays sorted.
pub fn normalize_policy(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.len() == 1 => normalize_policy(&items[0]),
        Value::Array(items) => {
            let mut out: Vec<Value> = items.iter().map(normalize_policy).collect();
            out.sort_by_key(|a| a.to_string());
            Value::Array(out)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalize_policy(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Puts the bucket policy when it differs from `have`, the policy
/// [`bucket::ensure`](super::bucket::ensure) found.
pub async fn ensure_policy(
    ctx: &Ctx,
    bucket: &str,
    have: Option<&Value>,
    reader: &Reader,
) -> Result<()> {
    let start = Instant::now();
    let s3 = ctx.aws.s3();
    let want = wanted_policy(bucket, reader, tls_deny_supported(ctx));
    if have.map(normalize_policy) == Some(normalize_policy(&want)) {
        ctx.progress
            .step("bucket policy", "unchanged", start.elapsed());
        return Ok(());
    }
    // A new origin access identity is not a valid principal everywhere at once: S3
    // answers MalformedPolicy "Invalid principal in policy" for a little while.
    let fresh_principal = matches!(reader, Reader::OriginAccessIdentity(_));
    let policy = want.to_string();
    wait::until(
        &ctx.progress,
        "waiting for S3 to accept the new origin access identity as a principal",
        IDENTITY_PROPAGATION,
        &format!("S3 does not accept the origin access identity in the policy of {bucket} yet; run `colorid up` again in a few minutes"),
        || async {
            match s3
                .put_bucket_policy()
                .bucket(bucket)
                .policy(&policy)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Ready(())),
                Err(err) if fresh_principal && code_of(&err) == Some("MalformedPolicy") => {
                    Ok(Poll::Pending("Invalid principal in policy".into()))
                }
                Err(err) => Err(err).aws("set the policy of", bucket),
            }
        },
    )
    .await?;
    ctx.progress.step(
        "bucket policy",
        "set (TLS only; GetObject for CloudFront only)",
        start.elapsed(),
    );
    Ok(())
}
