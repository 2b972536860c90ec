//! The stack's secrets and identity settings in SSM Parameter Store under
//! `/colorid/<stack>/`: `app-secret`, `signing-key` and `origin-verify` as
//! SecureString, `client-id` and `issuer` as String. The values themselves,
//! supplied or generated, come from [`super::secret_value`].
//!
//! Rotating `origin_verify` copies the current value to
//! `origin-verify-previous` first, so the function accepts both while the
//! distribution still sends the old header. The copy is deleted by a later
//! `up` that finds the distribution deployed with the current value.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_ssm::types::{ParameterType, Tag};

use crate::config::SecretSource;
use crate::error::{AwsContext, Built, Error, Result, code_of};
use crate::names::STACK_TAG;
use crate::stack::secret_value::{Secret, SecretName, supplied};
use crate::stack::{Change, Ctx, FieldChange, Planned};
use crate::state::put_waiting_out_deletion;

/// The previous origin-verify value, kept during a rotation.
pub const ORIGIN_VERIFY_PREVIOUS: &str = "origin-verify-previous";
/// The identity provider's client id (plain String).
pub const CLIENT_ID: &str = "client-id";
/// The identity provider's issuer URL (plain String).
pub const ISSUER: &str = "issuer";

/// One parameter as stored.
struct Stored {
    value: Secret,
    secure: bool,
}

/// One parameter as `up` wants it, and what that takes.
struct Item {
    leaf: String,
    value: Secret,
    secure: bool,
    change: Change,
}

/// What `ensure` left in place.
pub struct Outcome {
    /// The origin-verify value the distribution must send.
    pub origin_verify: Secret,
    /// Whether any value the function reads was written in this run.
    pub changed: bool,
    /// Whether `origin-verify-previous` exists after this run.
    pub previous_exists: bool,
    /// Whether this run wrote a new origin-verify value.
    pub origin_verify_written: bool,
}

/// Every parameter name this module manages.
fn all_names(ctx: &Ctx) -> Vec<String> {
    let mut leaves: Vec<&str> = SecretName::ALL.iter().map(|n| n.leaf()).collect();
    leaves.extend([ORIGIN_VERIFY_PREVIOUS, CLIENT_ID, ISSUER]);
    leaves.iter().map(|l| ctx.names.parameter(l)).collect()
}

/// Reads every parameter of the stack's settings in one call, decrypted.
async fn read_stored(ctx: &Ctx) -> Result<HashMap<String, Stored>> {
    let out = ctx
        .aws
        .ssm()
        .get_parameters()
        .set_names(Some(all_names(ctx)))
        .with_decryption(true)
        .send()
        .await
        .aws(
            "read the stack's parameters under",
            ctx.names.parameter_path(),
        )?;
    let prefix = format!("{}/", ctx.names.parameter_path());
    Ok(out
        .parameters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            let leaf = p.name()?.strip_prefix(&prefix)?.to_string();
            let secure = p.r#type() == Some(&ParameterType::SecureString);
            Some((
                leaf,
                Stored {
                    value: Secret::new(p.value?),
                    secure,
                },
            ))
        })
        .collect())
}

/// Decides each parameter's value and what writing it takes, in write order.
fn decide(ctx: &Ctx, stored: &HashMap<String, Stored>, rotate: &[SecretName]) -> Result<Vec<Item>> {
    // Read every user-supplied value first, so a missing one changes nothing.
    let mut supplied_values = Vec::new();
    for name in SecretName::ALL {
        supplied_values.push((name, supplied(&ctx.stack, name)?));
    }
    let mut items = Vec::new();
    for (name, given) in supplied_values {
        let current = stored.get(name.leaf());
        let value = match (given, current) {
            (Some(v), _) => v,
            (None, Some(s)) if !rotate.contains(&name) => s.value.clone(),
            (None, _) => name.generate()?,
        };
        let change = compare(current, &value, true, "(rotated)");
        if name == SecretName::OriginVerify
            && let (Some(old), Change::Update { .. }) = (current, &change)
            && old.value != value
        {
            let prev = stored.get(ORIGIN_VERIFY_PREVIOUS);
            items.push(Item {
                leaf: ORIGIN_VERIFY_PREVIOUS.to_string(),
                change: compare(prev, &old.value, true, "(the value being replaced)"),
                value: old.value.clone(),
                secure: true,
            });
        }
        items.push(Item {
            leaf: name.leaf().to_string(),
            value,
            secure: true,
            change,
        });
    }
    for (leaf, value) in [
        (CLIENT_ID, &ctx.stack.identity.client_id),
        (ISSUER, &ctx.stack.identity.issuer),
    ] {
        let value = Secret::new(value.clone());
        let current = stored.get(leaf);
        let change = match current {
            Some(s) if s.value != value => Change::Update {
                fields: vec![FieldChange {
                    field: "value".into(),
                    old: s.value.expose().to_string(),
                    new: value.expose().to_string(),
                }],
            },
            _ => compare(current, &value, false, ""),
        };
        items.push(Item {
            leaf: leaf.to_string(),
            value,
            secure: false,
            change,
        });
    }
    Ok(items)
}

/// Create, unchanged, or which of value and type differ, never showing a value.
fn compare(current: Option<&Stored>, value: &Secret, secure: bool, new_label: &str) -> Change {
    let Some(current) = current else {
        return Change::Create;
    };
    let mut fields = Vec::new();
    if &current.value != value {
        fields.push(FieldChange {
            field: "value".into(),
            old: "(stored)".into(),
            new: new_label.into(),
        });
    }
    if current.secure != secure {
        let kind = |s: bool| if s { "SecureString" } else { "String" };
        fields.push(FieldChange {
            field: "type".into(),
            old: kind(current.secure).into(),
            new: kind(secure).into(),
        });
    }
    Change::from_fields(fields)
}

/// What `up` would do to each parameter (secret values never shown), and the
/// origin-verify value the distribution would send, when it is already known.
pub async fn plan(ctx: &Ctx) -> Result<(Vec<Planned>, Option<Secret>)> {
    let stored = read_stored(ctx).await?;
    let items = decide(ctx, &stored, &[])?;
    let generated = SecretName::OriginVerify.source(&ctx.stack) == &SecretSource::Generate;
    let origin_verify = items
        .iter()
        .find(|i| i.leaf == SecretName::OriginVerify.leaf())
        .filter(|i| !(generated && i.change == Change::Create))
        .map(|i| i.value.clone());
    let planned = items
        .into_iter()
        .map(|i| Planned {
            resource: if i.secure { "secret" } else { "parameter" }.into(),
            name: ctx.names.parameter(&i.leaf),
            change: i.change,
        })
        .collect();
    Ok((planned, origin_verify))
}

/// Writes every parameter that is missing or differs; returns the origin-verify value.
pub async fn ensure(ctx: &Ctx, rotate: &[SecretName]) -> Result<Outcome> {
    let start = Instant::now();
    for name in rotate {
        if name.source(&ctx.stack) != &SecretSource::Generate {
            ctx.progress.note(&format!(
                "  note: secrets.{} is supplied through stack.toml; it is rotated by changing the value there",
                name.field()
            ));
        }
    }
    let stored = read_stored(ctx).await?;
    let items = decide(ctx, &stored, rotate)?;
    let ssm = ctx.aws.ssm();
    let tag = Tag::builder()
        .key(STACK_TAG)
        .value(&ctx.names.stack)
        .build()
        .built("the stack tag")?;
    let mut written = Vec::new();
    for item in &items {
        if item.change == Change::Unchanged {
            continue;
        }
        let name = ctx.names.parameter(&item.leaf);
        let kind = if item.secure {
            ParameterType::SecureString
        } else {
            ParameterType::String
        };
        // SSM cannot change a parameter's type in place (HierarchyTypeMismatchException):
        // a parameter of the other type is deleted and created again, once, waiting
        // out the 30 s SSM holds a deleted name.
        let existing = stored.get(&item.leaf);
        let retype = existing.is_some_and(|s| s.secure != item.secure);
        if retype {
            crate::state::delete_parameter(
                &ssm,
                &name,
                "delete (to change its type) the parameter",
            )
            .await?;
        }
        let overwrite = existing.is_some() && !retype;
        // A name deleted moments ago (by `down`, or for a type change) is held by
        // SSM for 30 s: the write waits that out.
        let first = put_waiting_out_deletion(&name, || {
            put_request(
                &ssm,
                &name,
                item,
                kind.clone(),
                (!overwrite).then_some(&tag),
            )
            .send()
        })
        .await;
        match first {
            Err(err) if code_of(&err) == Some("HierarchyTypeMismatchException") => {
                crate::state::delete_parameter(
                    &ssm,
                    &name,
                    "delete (to change its type) the parameter",
                )
                .await?;
                put_waiting_out_deletion(&name, || {
                    put_request(&ssm, &name, item, kind.clone(), Some(&tag)).send()
                })
                .await
                .aws("write the parameter", &name)?;
            }
            res => {
                res.aws("write the parameter", &name)?;
            }
        }
        written.push(item.leaf.clone());
    }
    let what = if written.is_empty() {
        format!("{} parameters unchanged", items.len())
    } else {
        format!("wrote {}", written.join(", "))
    };
    ctx.progress.step("secrets", &what, start.elapsed());
    let origin_verify = items
        .iter()
        .find(|i| i.leaf == SecretName::OriginVerify.leaf())
        .map(|i| i.value.clone())
        .ok_or_else(|| Error::internal("no origin-verify value"))?;
    Ok(Outcome {
        origin_verify,
        changed: !written.is_empty(),
        previous_exists: stored.contains_key(ORIGIN_VERIFY_PREVIOUS)
            || written.iter().any(|w| w == ORIGIN_VERIFY_PREVIOUS),
        origin_verify_written: written.iter().any(|w| w == SecretName::OriginVerify.leaf()),
    })
}

/// The request that writes one parameter: over the existing one, or new with the
/// stack's tag (SSM refuses tags together with overwrite; an existing parameter keeps its tags).
fn put_request(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
    item: &Item,
    kind: ParameterType,
    create_with: Option<&Tag>,
) -> aws_sdk_ssm::operation::put_parameter::builders::PutParameterFluentBuilder {
    let put = ssm
        .put_parameter()
        .name(name)
        .value(item.value.expose())
        .r#type(kind);
    match create_with {
        None => put.overwrite(true),
        Some(tag) => put.tags(tag.clone()),
    }
}

/// Deletes `origin-verify-previous` once the distribution sends the current value.
pub async fn retire_previous(ctx: &Ctx) -> Result<()> {
    let start = Instant::now();
    let name = ctx.names.parameter(ORIGIN_VERIFY_PREVIOUS);
    crate::state::delete_parameter(&ctx.aws.ssm(), &name, "delete the parameter").await?;
    ctx.progress.step(
        "secrets",
        "deleted origin-verify-previous (the distribution sends the current value)",
        start.elapsed(),
    );
    Ok(())
}

/// Every parameter under the stack's path except the state record and the lock.
pub async fn find_all(ctx: &Ctx) -> Result<Vec<String>> {
    let ssm = ctx.aws.ssm();
    let path = ctx.names.parameter_path();
    let keep = [ctx.names.state_parameter(), ctx.names.lock_parameter()];
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        // No decryption: only the names are wanted.
        let page = ssm
            .get_parameters_by_path()
            .path(&path)
            .recursive(true)
            .with_decryption(false)
            .set_next_token(token.take())
            .send()
            .await
            .aws("list the parameters under", &path)?;
        out.extend(
            page.parameters()
                .iter()
                .filter_map(|p| p.name())
                .filter(|n| !keep.iter().any(|k| k == n))
                .map(str::to_string),
        );
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => break,
        }
    }
    out.sort();
    Ok(out)
}

/// Deletes the given parameters, ten at a time.
pub async fn delete_all(ctx: &Ctx, names: &[String]) -> Result<()> {
    let ssm = ctx.aws.ssm();
    for chunk in names.chunks(10) {
        ssm.delete_parameters()
            .set_names(Some(chunk.to_vec()))
            .send()
            .await
            .aws("delete the parameters under", ctx.names.parameter_path())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_reports_value_and_type_without_values() {
        let stored = Stored {
            value: Secret::new("old-value"),
            secure: false,
        };
        let change = compare(Some(&stored), &Secret::new("new-value"), true, "(rotated)");
        let text = change.to_string();
        assert!(text.contains("value: (stored) → (rotated)"), "{text}");
        assert!(text.contains("type: String → SecureString"), "{text}");
        assert!(!text.contains("old-value") && !text.contains("new-value"));
        assert_eq!(compare(None, &Secret::new("x"), true, ""), Change::Create);
    }
}
