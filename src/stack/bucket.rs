//! The private S3 bucket that holds the site: Block Public Access and default
//! encryption; its policy (a TLS-only deny, read access for CloudFront alone)
//! is [`super::bucket_policy`]'s.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_s3::Client as S3Client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use serde_json::Value;

use crate::error::{AwsContext, Built, Error, OrGone, Result, from_sdk};
use crate::names::STACK_TAG;
use crate::stack::bucket_policy::{Reader, normalize_policy, tls_deny_supported, wanted_policy};
use crate::stack::{Change, Ctx, Field, FieldChange, diff_fields};
use crate::wait::{self, Poll};

/// The bucket's settings as rendered fields.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub fields: BTreeMap<String, String>,
    /// Tagged for this stack.
    pub tagged: bool,
    /// The value of its `colorid:stack` tag, if it has one.
    pub stack_tag: Option<String>,
    pub policy: Option<Value>,
}

/// Whether a bucket of that name exists, and whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Missing,
    Ours,
    /// S3 answered 403 to a request that expects this account as the owner: another
    /// account's bucket (or one these credentials may not read).
    Foreign,
}

/// Looks the bucket up, expecting this account as its owner (every S3 request does).
pub async fn presence(ctx: &Ctx, bucket: &str) -> Result<Presence> {
    match ctx
        .aws
        .s3()
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.is_not_found())
    {
        Ok(found) => Ok(if found.is_some() {
            Presence::Ours
        } else {
            Presence::Missing
        }),
        Err(err)
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 403) =>
        {
            Ok(Presence::Foreign)
        }
        Err(err) => Err(err).aws("look up the bucket", bucket),
    }
}

/// Whether the bucket exists; another account's is an error, before anything uses it.
pub async fn exists(ctx: &Ctx, bucket: &str) -> Result<bool> {
    match presence(ctx, bucket).await? {
        Presence::Missing => Ok(false),
        Presence::Ours => Ok(true),
        Presence::Foreign => Err(Error::conflict_fix(
            format!(
                "the bucket {bucket} exists but belongs to another account (S3 refused a request that expects this account as its owner), so colorid does not use it."
            ),
            format!(
                "set `bucket` in {} to a name of your own",
                ctx.stack.file.display()
            ),
        )),
    }
}

/// Finds the bucket; `None` when it does not exist.
pub async fn find(ctx: &Ctx, bucket: &str) -> Result<Option<Found>> {
    if !exists(ctx, bucket).await? {
        return Ok(None);
    }
    let s3 = ctx.aws.s3();
    let mut found = Found::default();
    let pab = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.code() == Some("NoSuchPublicAccessBlockConfiguration"))
        .aws("read the public access block of", bucket)?
        .and_then(|out| out.public_access_block_configuration);
    let pab = pab.unwrap_or_else(|| PublicAccessBlockConfiguration::builder().build());
    found.fields.insert(
        BucketField::PublicAccessBlock.name().into(),
        format!(
            "{}/{}/{}/{}",
            pab.block_public_acls().unwrap_or(false),
            pab.ignore_public_acls().unwrap_or(false),
            pab.block_public_policy().unwrap_or(false),
            pab.restrict_public_buckets().unwrap_or(false)
        ),
    );
    let sse = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.code() == Some("ServerSideEncryptionConfigurationNotFoundError"))
        .aws("read the encryption of", bucket)?
        .and_then(|out| out.server_side_encryption_configuration)
        .and_then(|c| c.rules().first().cloned())
        .and_then(|r| r.apply_server_side_encryption_by_default)
        .map(|d| d.sse_algorithm().as_str().to_string());
    found.fields.insert(
        BucketField::Encryption.name().into(),
        sse.unwrap_or_else(|| "(none)".into()),
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.code() == Some("NoSuchTagSet"))
        .aws("read the tags of", bucket)?
        .map(|out| out.tag_set)
        .unwrap_or_default();
    found.stack_tag = tags
        .iter()
        .find(|t| t.key() == STACK_TAG)
        .map(|t| t.value().to_string());
    found.tagged = found.stack_tag.as_deref() == Some(ctx.names.stack.as_str());
    found.fields.insert(
        BucketField::Tag.name().into(),
        if found.tagged {
            ctx.names.stack.clone()
        } else {
            "(none)".into()
        },
    );
    found.policy = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.code() == Some("NoSuchBucketPolicy"))
        .aws("read the policy of", bucket)?
        .and_then(|out| out.policy)
        .and_then(|p| serde_json::from_str(&p).ok());
    Ok(Some(found))
}

/// The bucket's settings that `up` keeps as the stack wants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BucketField {
    PublicAccessBlock,
    Encryption,
    Tag,
}

impl Field for BucketField {
    const ALL: &'static [Self] = &[Self::PublicAccessBlock, Self::Encryption, Self::Tag];

    fn name(self) -> &'static str {
        match self {
            Self::PublicAccessBlock => "public_access_block",
            Self::Encryption => "encryption",
            Self::Tag => "tag",
        }
    }
}

fn wanted_fields(ctx: &Ctx) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            BucketField::PublicAccessBlock.name().into(),
            "true/true/true/true".into(),
        ),
        (BucketField::Encryption.name().into(), "AES256".into()),
        (BucketField::Tag.name().into(), ctx.names.stack.clone()),
    ])
}

/// What `up` would do to the bucket; `reader` is `None` while the distribution does not exist yet.
pub fn plan(ctx: &Ctx, bucket: &str, found: Option<&Found>, reader: Option<&Reader>) -> Change {
    let Some(found) = found else {
        return Change::Create;
    };
    let mut fields = diff_fields(&found.fields, &wanted_fields(ctx));
    let want = reader.map(|r| normalize_policy(&wanted_policy(bucket, r, tls_deny_supported(ctx))));
    let have = found.policy.as_ref().map(normalize_policy);
    if want.is_some() && want != have {
        fields.push(FieldChange {
            field: "policy".into(),
            old: if have.is_some() {
                "(other policy)".into()
            } else {
                "(none)".into()
            },
            new: "TLS-only, read by CloudFront only".into(),
        });
    }
    Change::from_fields(fields)
}

fn tag(ctx: &Ctx) -> Result<Tag> {
    Tag::builder()
        .key(STACK_TAG)
        .value(&ctx.names.stack)
        .build()
        .built("the stack tag")
}

/// Creates the bucket when missing and puts every setting that differs (not the policy).
/// Returns the bucket's current policy, for
/// [`ensure_policy`](super::bucket_policy::ensure_policy).
pub async fn ensure(ctx: &Ctx, bucket: &str) -> Result<Option<Value>> {
    let start = Instant::now();
    let s3 = ctx.aws.s3();
    let found = find(ctx, bucket).await?;
    let mut did = Vec::new();
    let policy = found.as_ref().and_then(|f| f.policy.clone());
    let existing = match found {
        Some(f) => {
            if !f.tagged && ctx.stack.bucket.is_some() {
                return Err(Error::conflict_fix(
                    format!(
                        "the bucket {bucket} exists but was not made by stack {} (it lacks the tag {STACK_TAG}={}).",
                        ctx.names.stack, ctx.names.stack
                    ),
                    format!(
                        "choose another `bucket` in {}, or remove `bucket` to use the derived name",
                        ctx.stack.file.display()
                    ),
                ));
            }
            f.fields
        }
        None => {
            create(ctx, bucket).await?;
            did.push("created");
            BTreeMap::new()
        }
    };
    ctx.state
        .update(|s| s.bucket = Some(bucket.to_string()))
        .await?;
    let changes = diff_fields(&existing, &wanted_fields(ctx));
    for change in &changes {
        match BucketField::of(change)? {
            BucketField::PublicAccessBlock => {
                s3.put_public_access_block()
                    .bucket(bucket)
                    .public_access_block_configuration(
                        PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .send()
                    .await
                    .aws("block public access to", bucket)?;
            }
            BucketField::Encryption => {
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(
                        ServerSideEncryptionByDefault::builder()
                            .sse_algorithm(ServerSideEncryption::Aes256)
                            .build()
                            .built("the encryption default")?,
                    )
                    .build();
                s3.put_bucket_encryption()
                    .bucket(bucket)
                    .server_side_encryption_configuration(
                        ServerSideEncryptionConfiguration::builder()
                            .rules(rule)
                            .build()
                            .built("the encryption config")?,
                    )
                    .send()
                    .await
                    .aws("set default encryption on", bucket)?;
            }
            BucketField::Tag => {
                s3.put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(
                        Tagging::builder()
                            .tag_set(tag(ctx)?)
                            .build()
                            .built("the bucket tagging")?,
                    )
                    .send()
                    .await
                    .aws("tag", bucket)?;
            }
        }
    }
    let what = if did.is_empty() && changes.is_empty() {
        format!("{bucket} unchanged")
    } else if did.is_empty() {
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        format!("{bucket} updated {}", fields.join(", "))
    } else {
        format!("{bucket} created (private, encrypted)")
    };
    ctx.progress.step("bucket", &what, start.elapsed());
    Ok(policy)
}

/// How long `up` waits for S3 to release a recently deleted bucket's name.
const NAME_RELEASE: std::time::Duration = std::time::Duration::from_secs(300);

/// Creates the bucket. A name S3 still holds after its deletion (409
/// OperationAborted) is retried with progress, then refused with what to do;
/// a derived name is new per incarnation and meets this only by chance.
async fn create(ctx: &Ctx, bucket: &str) -> Result<()> {
    let s3 = ctx.aws.s3();
    let region = ctx.aws.region();
    let fix = match &ctx.stack.bucket {
        Some(_) => format!(
            "S3 keeps a deleted bucket's name for hours (up to 48-72) before it can be created again: run `colorid up` later, or remove `bucket` from {} so that colorid derives a new name",
            ctx.stack.file.display()
        ),
        None => "run `colorid up` again".to_string(),
    };
    wait::until(
        &ctx.progress,
        &format!("waiting for S3 to release the name {bucket} (deleted recently)"),
        NAME_RELEASE,
        &fix,
        || async {
            let mut create = s3.create_bucket().bucket(bucket);
            if region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(region.as_str()))
                        .build(),
                );
            }
            match create.send().await {
                Ok(_) => Ok(Poll::Ready(())),
                // Made by an earlier run that was killed before it recorded anything.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
                {
                    Ok(Poll::Ready(()))
                }
                Err(err) if err.code() == Some("OperationAborted") => Ok(Poll::Pending(
                    "S3 answers OperationAborted: the name is still queued for deletion".into(),
                )),
                Err(err) => Err(err).aws("create the bucket", bucket),
            }
        },
    )
    .await?;
    Ok(())
}

/// Empties the bucket (every version and delete marker) and deletes it.
pub async fn delete(ctx: &Ctx, bucket: &str) -> Result<u64> {
    let s3 = ctx.aws.s3();
    let removed = empty(&s3, bucket).await?;
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .or_gone(|e| e.code() == Some("NoSuchBucket"))
        .aws("delete the bucket", bucket)?;
    Ok(removed)
}

async fn empty(s3: &S3Client, bucket: &str) -> Result<u64> {
    let mut removed = 0u64;
    loop {
        let Some(page) = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .or_gone(|e| e.code() == Some("NoSuchBucket"))
            .aws("list the objects of", bucket)?
        else {
            return Ok(removed);
        };
        let mut ids = Vec::new();
        for v in page.versions() {
            ids.push((v.key().unwrap_or_default(), v.version_id()));
        }
        for m in page.delete_markers() {
            ids.push((m.key().unwrap_or_default(), m.version_id()));
        }
        if ids.is_empty() {
            return Ok(removed);
        }
        let objects = ids
            .iter()
            .map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(*key)
                    .set_version_id(version.map(str::to_string))
                    .build()
                    .built("the object identifier")
            })
            .collect::<Result<Vec<_>>>()?;
        let sent = objects.len() as u64;
        // Per-key failures are retried inside; what still fails stops the loop, which
        // would otherwise list (and fail on) the same versions forever.
        let failed = crate::delete_objects::delete_all(s3, bucket, objects)
            .await
            .map_err(|err| from_sdk("empty the bucket", bucket, &*err))?;
        if let Some(first) = failed.first() {
            return Err(Error::conflict_fix(
                format!(
                    "failed to empty the bucket {bucket}: S3 did not delete {} object version(s), e.g. {}: {}: {}.",
                    failed.len(),
                    first.key,
                    first.code,
                    first.message
                ),
                "run `colorid down` again; if it persists, check the bucket's object lock and policy",
            ));
        }
        removed += sent;
    }
}
