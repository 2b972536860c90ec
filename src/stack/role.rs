//! The identity function's IAM role: trusted by Lambda alone, with one inline
//! policy that allows writing to its own log group (which `up` creates), reading the stack's parameters,
//! and decrypting them through SSM only.

use std::time::Instant;

use aws_sdk_iam::Client as IamClient;
use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::STACK_TAG;
use crate::stack::bucket_policy::normalize_policy;
use crate::stack::{Change, Ctx, Field, FieldChange};

/// The name of the role's one inline policy.
pub const POLICY_NAME: &str = "colorid-identity";

/// The role as found.
#[derive(Debug, Clone)]
pub struct Found {
    pub arn: String,
    pub trust: Option<Value>,
    pub policy: Option<Value>,
    pub tagged: bool,
    /// The value of its `colorid:stack` tag, if it has one.
    pub stack_tag: Option<String>,
}

/// The role `ensure` left in place.
#[derive(Debug, Clone)]
pub struct Role {
    pub arn: String,
}

/// Who may assume the role: Lambda.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// What the function may do: its own logs, the stack's parameters, KMS via SSM
/// for those parameters only (SSM's encryption context names the parameter:
/// <https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html>).
pub fn inline_policy(ctx: &Ctx, account: &str) -> Value {
    let region = ctx.aws.region();
    let group = format!(
        "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{}",
        ctx.names.function()
    );
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("{group}:*")
            },
            {
                "Sid": "ReadStackParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": format!(
                    "arn:aws:ssm:{region}:{account}:parameter{}/*",
                    ctx.names.parameter_path()
                )
            },
            {
                "Sid": "DecryptThroughSsm",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": format!("ssm.{region}.amazonaws.com")},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": format!(
                        "arn:aws:ssm:{region}:{account}:parameter{}/*",
                        ctx.names.parameter_path()
                    )}
                }
            }
        ]
    })
}

/// Decodes a policy document as IAM returns it (URL-encoded JSON).
pub fn decode_document(doc: &str) -> Option<Value> {
    serde_json::from_str(doc)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(doc)?).ok())
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Finds the role and its inline policy; `None` when the role does not exist.
pub async fn find(iam: &IamClient, role: &str) -> Result<Option<Found>> {
    // The inline policy reads as gone when the role is: both reads at once.
    let (out, policy) = tokio::try_join!(
        async {
            iam.get_role()
                .role_name(role)
                .send()
                .await
                .or_gone(|e| e.is_no_such_entity_exception())
                .aws("read the role", role)
        },
        async {
            iam.get_role_policy()
                .role_name(role)
                .policy_name(POLICY_NAME)
                .send()
                .await
                .or_gone(|e| e.is_no_such_entity_exception())
                .aws("read the inline policy of", role)
        },
    )?;
    let Some(r) = out.and_then(|o| o.role) else {
        return Ok(None);
    };
    let policy = policy.and_then(|p| decode_document(&p.policy_document));
    Ok(Some(Found {
        tagged: r.tags().iter().any(|t| t.key() == STACK_TAG),
        stack_tag: r
            .tags()
            .iter()
            .find(|t| t.key() == STACK_TAG)
            .map(|t| t.value().to_string()),
        trust: r
            .assume_role_policy_document
            .as_deref()
            .and_then(decode_document),
        policy,
        arn: r.arn,
    }))
}

fn same(have: Option<&Value>, want: &Value) -> bool {
    have.map(normalize_policy) == Some(normalize_policy(want))
}

/// The role's parts that `up` keeps as the stack wants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleField {
    Trust,
    Policy,
    Tag,
}

impl Field for RoleField {
    const ALL: &'static [Self] = &[Self::Trust, Self::Policy, Self::Tag];

    fn name(self) -> &'static str {
        match self {
            Self::Trust => "trust",
            Self::Policy => "policy",
            Self::Tag => "tag",
        }
    }
}

/// Which of trust, policy and tag differ.
fn differences(found: &Found, ctx: &Ctx, account: &str) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: RoleField, present: bool, new: &str| {
        out.push(FieldChange {
            field: field.name().into(),
            old: if present { "(other)" } else { "(none)" }.into(),
            new: new.into(),
        })
    };
    if !same(found.trust.as_ref(), &trust_policy()) {
        push(
            RoleField::Trust,
            found.trust.is_some(),
            "lambda.amazonaws.com may assume it",
        );
    }
    if !same(found.policy.as_ref(), &inline_policy(ctx, account)) {
        push(
            RoleField::Policy,
            found.policy.is_some(),
            "own logs, the stack's parameters, kms:Decrypt via SSM",
        );
    }
    if !found.tagged {
        push(RoleField::Tag, false, &ctx.names.stack);
    }
    out
}

/// What `up` would do to the role.
pub fn plan(ctx: &Ctx, found: Option<&Found>, account: &str) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(differences(f, ctx, account)),
    }
}

fn tag(ctx: &Ctx) -> Result<Tag> {
    Tag::builder()
        .key(STACK_TAG)
        .value(&ctx.names.stack)
        .build()
        .built("the stack tag")
}

/// Creates the role or puts what differs; a role left without its policy gets it.
/// The region whose function the role serves: that of the SSM parameters its policy
/// lets the function read (a role is named per account, parameters per region).
pub fn home_region(found: &Found) -> Option<String> {
    let text = found.policy.as_ref()?.to_string();
    let at = text.find(":ssm:")? + ":ssm:".len();
    let region = text[at..].split(':').next()?;
    (!region.is_empty()).then(|| region.to_string())
}

/// Refuses to take over a role that serves the stack in another region: the role, the
/// origin access control, the headers policy, the CloudFront Function and the
/// distribution are named per account, so one stack name is one stack per account.
pub fn refuse_other_region(ctx: &Ctx, found: &Found) -> Result<()> {
    let here = ctx.aws.region();
    match home_region(found) {
        Some(home) if home != here => Err(Error::conflict_fix(
            format!(
                "stack {} is already deployed in region {home} (its role {} serves the function there); IAM roles, CloudFront and the origin access control are named per account, so {here} would take over that stack's resources. Nothing of it was changed.",
                ctx.names.stack,
                ctx.names.role()
            ),
            format!(
                "give this stack another `name` in {file}, or set `region = \"{home}\"` in it (and drop --region); to move the stack, run `colorid down` in {home} first",
                file = ctx.stack.file.display()
            ),
        )),
        _ => Ok(()),
    }
}

pub async fn ensure(ctx: &Ctx, account: &str) -> Result<Role> {
    let start = Instant::now();
    let iam = ctx.aws.iam();
    let name = ctx.names.role();
    let found = find(&iam, &name).await?;
    if let Some(f) = &found {
        refuse_other_region(ctx, f)?;
    }
    let (arn, changes, created) = match found {
        Some(f) => {
            let changes = differences(&f, ctx, account);
            (f.arn, changes, false)
        }
        None => {
            let created = iam
                .create_role()
                .role_name(&name)
                .assume_role_policy_document(trust_policy().to_string())
                .description(format!(
                    "colorid stack {}: the identity function",
                    ctx.names.stack
                ))
                .tags(tag(ctx)?)
                .send()
                .await;
            let arn = match created {
                Ok(out) => out.role.map(|r| r.arn).unwrap_or_default(),
                // A concurrent or killed run made it: carry on with what is there.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_entity_already_exists_exception()) =>
                {
                    find(&iam, &name)
                        .await?
                        .map(|f| f.arn)
                        .ok_or_else(|| Error::conflict(format!("the role {name} vanished")))?
                }
                Err(err) => return Err(err).aws("create the role", &name),
            };
            let policy = FieldChange {
                field: RoleField::Policy.name().into(),
                old: "(none)".into(),
                new: String::new(),
            };
            (arn, vec![policy], true)
        }
    };
    ctx.state
        .update(|s| s.role_name = Some(name.clone()))
        .await?;
    for change in &changes {
        match RoleField::of(change)? {
            RoleField::Trust => {
                iam.update_assume_role_policy()
                    .role_name(&name)
                    .policy_document(trust_policy().to_string())
                    .send()
                    .await
                    .aws("set the trust policy of", &name)?;
            }
            RoleField::Policy => {
                iam.put_role_policy()
                    .role_name(&name)
                    .policy_name(POLICY_NAME)
                    .policy_document(inline_policy(ctx, account).to_string())
                    .send()
                    .await
                    .aws("put the inline policy of", &name)?;
            }
            RoleField::Tag => {
                iam.tag_role()
                    .role_name(&name)
                    .tags(tag(ctx)?)
                    .send()
                    .await
                    .aws("tag", &name)?;
            }
        }
    }
    let what = if created {
        format!("{name} created (least privilege)")
    } else if changes.is_empty() {
        format!("{name} unchanged")
    } else {
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        format!("{name} updated {}", fields.join(", "))
    };
    ctx.progress.step("role", &what, start.elapsed());
    Ok(Role { arn })
}

/// Deletes the inline policy and the role; a missing one is fine.
pub async fn delete(ctx: &Ctx, name: &str) -> Result<()> {
    let iam = ctx.aws.iam();
    iam.delete_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .or_gone(|e| e.is_no_such_entity_exception())
        .aws("delete the inline policy of", name)?;
    iam.delete_role()
        .role_name(name)
        .send()
        .await
        .or_gone(|e| e.is_no_such_entity_exception())
        .aws("delete the role", name)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_naming_no_field_is_an_internal_error_not_skipped() {
        let change = |field: &str| FieldChange {
            field: field.into(),
            old: "(none)".into(),
            new: "x".into(),
        };
        assert_eq!(RoleField::of(&change("policy")).unwrap(), RoleField::Policy);
        let err = RoleField::of(&change("polcy")).unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err}");
        for field in RoleField::ALL {
            assert_eq!(RoleField::of(&change(field.name())).unwrap(), *field);
        }
    }

    #[test]
    fn decodes_url_encoded_documents() {
        let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            decode_document(doc),
            Some(json!({"Version": "2012-10-17", "Statement": []}))
        );
        assert_eq!(
            decode_document("{\"a\":1}"),
            Some(json!({"a": 1})),
            "plain JSON passes through"
        );
        assert_eq!(decode_document("%ZZ"), None);
    }

    #[test]
    fn trust_compares_semantically() {
        let reordered = json!({
            "Statement": [{
                "Action": ["sts:AssumeRole"],
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Effect": "Allow"
            }],
            "Version": "2012-10-17"
        });
        assert!(same(Some(&reordered), &trust_policy()));
        let wider = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        });
        assert!(!same(Some(&wider), &trust_policy()));
    }
}
