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

    use crate::fake_aws::{FakeSsm, Run, STACK};

    const PATH: &str = "/colorid/demo";

    fn name(leaf: &str) -> String {
        format!("{PATH}/{leaf}")
    }

    /// The stack with `[secrets]` lines added (values from files).
    fn stack_with(secrets: &str) -> String {
        format!("{STACK}\n[secrets]\n{secrets}\n")
    }

    /// A file holding `value`, kept while the returned handle lives.
    fn file(value: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), value).unwrap();
        f
    }

    const ALL_LEAVES: [&str; 5] = [
        "app-secret",
        "signing-key",
        "origin-verify",
        "client-id",
        "issuer",
    ];

    #[tokio::test]
    async fn a_first_ensure_creates_every_parameter_tagged_with_its_type() {
        let run = Run::open(STACK, FakeSsm::default(), &[]).await;
        let out = ensure(&run.ctx, &[]).await.unwrap();
        for leaf in ALL_LEAVES {
            let p = run
                .ssm
                .get(&name(leaf))
                .unwrap_or_else(|| panic!("{leaf} written"));
            let plain = leaf == CLIENT_ID || leaf == ISSUER;
            assert_eq!(p.secure, !plain, "{leaf}");
            assert_eq!(
                p.tags,
                [(STACK_TAG.to_string(), "demo".to_string())],
                "{leaf}"
            );
        }
        assert_eq!(run.ssm.get(&name(CLIENT_ID)).unwrap().value, "abc");
        assert_eq!(
            run.ssm.get(&name(ISSUER)).unwrap().value,
            "https://auth.example.com/"
        );
        assert!(
            run.ssm
                .get(&name("signing-key"))
                .unwrap()
                .value
                .contains("PRIVATE KEY")
        );
        assert_eq!(
            out.origin_verify.expose(),
            run.ssm.get(&name("origin-verify")).unwrap().value
        );
        assert!(out.changed && out.origin_verify_written && !out.previous_exists);
        assert!(run.ssm.get(&name(ORIGIN_VERIFY_PREVIOUS)).is_none());
        let lines = run.lines();
        assert!(
            lines.iter().any(|l| l.contains("secrets")
                && l.contains("wrote app-secret, signing-key, origin-verify, client-id, issuer")),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_second_ensure_reads_once_and_writes_nothing() {
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        let made = ensure(&first.ctx, &[]).await.unwrap();
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let before = ssm.calls().len();
        let out = ensure(&run.ctx, &[]).await.unwrap();
        let calls = &ssm.calls()[before..];
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert!(calls[0].starts_with("GetParameters "), "{calls:?}");
        // Every name the module manages is asked for, previous copy included.
        for leaf in ALL_LEAVES.iter().chain(&[ORIGIN_VERIFY_PREVIOUS]) {
            assert!(calls[0].contains(&name(leaf)), "{leaf}: {calls:?}");
        }
        assert!(!out.changed && !out.origin_verify_written && !out.previous_exists);
        assert_eq!(out.origin_verify, made.origin_verify);
        assert!(
            run.lines()
                .iter()
                .any(|l| l.contains("5 parameters unchanged")),
            "{:?}",
            run.lines()
        );
    }

    #[tokio::test]
    async fn rotating_origin_verify_keeps_the_old_value_as_previous() {
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        let old = ensure(&first.ctx, &[]).await.unwrap().origin_verify;
        let app_secret = ssm.get(&name("app-secret")).unwrap();
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let before = ssm.writes().len();
        let out = ensure(&run.ctx, &[SecretName::OriginVerify]).await.unwrap();
        assert_ne!(out.origin_verify, old);
        assert_eq!(
            ssm.get(&name("origin-verify")).unwrap().value,
            out.origin_verify.expose()
        );
        assert_eq!(
            ssm.get(&name(ORIGIN_VERIFY_PREVIOUS)).unwrap().value,
            old.expose()
        );
        assert!(out.changed && out.origin_verify_written && out.previous_exists);
        // Only the two origin-verify parameters are written, the copy first.
        assert_eq!(
            ssm.writes()[before..],
            [
                format!("PutParameter {}", name(ORIGIN_VERIFY_PREVIOUS)),
                format!("PutParameter {}", name("origin-verify")),
            ]
        );
        assert_eq!(ssm.get(&name("app-secret")).unwrap(), app_secret);
        // The rotated parameter keeps its tags (an overwrite carries none).
        assert_eq!(ssm.get(&name("origin-verify")).unwrap().tags.len(), 1);
        // A later run knows the copy exists without writing it.
        let again = Run::open(STACK, ssm.clone(), &[]).await;
        let next = ensure(&again.ctx, &[]).await.unwrap();
        assert!(next.previous_exists && !next.changed && !next.origin_verify_written);
    }

    #[tokio::test]
    async fn rotating_another_secret_writes_only_it() {
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        ensure(&first.ctx, &[]).await.unwrap();
        let old = ssm.get(&name("app-secret")).unwrap().value;
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let before = ssm.writes().len();
        let out = ensure(&run.ctx, &[SecretName::AppSecret]).await.unwrap();
        assert_ne!(ssm.get(&name("app-secret")).unwrap().value, old);
        assert_eq!(
            ssm.writes()[before..],
            [format!("PutParameter {}", name("app-secret"))]
        );
        assert!(out.changed && !out.origin_verify_written && !out.previous_exists);
    }

    #[tokio::test]
    async fn a_supplied_secret_is_written_and_rotating_it_only_notes_how() {
        let value = file("supplied-origin-verify-value-0123456789");
        let text = stack_with(&format!("origin_verify = {{ file = {:?} }}", value.path()));
        let ssm = FakeSsm::default();
        ssm.insert(&name("origin-verify"), "an-older-value", true);
        let run = Run::open(&text, ssm.clone(), &[]).await;
        let out = ensure(&run.ctx, &[SecretName::OriginVerify]).await.unwrap();
        assert_eq!(
            out.origin_verify.expose(),
            "supplied-origin-verify-value-0123456789"
        );
        assert_eq!(
            ssm.get(&name("origin-verify")).unwrap().value,
            "supplied-origin-verify-value-0123456789"
        );
        assert_eq!(
            ssm.get(&name(ORIGIN_VERIFY_PREVIOUS)).unwrap().value,
            "an-older-value"
        );
        let lines = run.lines();
        assert!(
            lines.iter().any(|l| l.contains(
                "secrets.origin_verify is supplied through stack.toml; it is rotated by changing the value there"
            )),
            "{lines:?}"
        );
        // A generated secret asked to rotate gets no such note.
        assert!(
            !lines.iter().any(|l| l.contains("secrets.app_secret")),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_changed_client_id_is_overwritten_and_planned_with_both_values() {
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        ensure(&first.ctx, &[]).await.unwrap();
        let text = STACK.replace("client_id = \"abc\"", "client_id = \"xyz\"");
        let run = Run::open(&text, ssm.clone(), &[]).await;
        let (planned, _) = plan(&run.ctx).await.unwrap();
        let client = planned.iter().find(|p| p.name == name(CLIENT_ID)).unwrap();
        assert_eq!(client.resource, "parameter");
        assert_eq!(
            client.change,
            Change::Update {
                fields: vec![FieldChange {
                    field: "value".into(),
                    old: "abc".into(),
                    new: "xyz".into()
                }]
            }
        );
        let before = ssm.writes().len();
        let out = ensure(&run.ctx, &[]).await.unwrap();
        assert_eq!(
            ssm.writes()[before..],
            [format!("PutParameter {}", name(CLIENT_ID))]
        );
        let p = ssm.get(&name(CLIENT_ID)).unwrap();
        assert_eq!((p.value.as_str(), p.secure, p.version), ("xyz", false, 2));
        assert!(out.changed && !out.origin_verify_written);
    }

    #[tokio::test]
    async fn a_parameter_of_the_other_type_is_deleted_and_created_again() {
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        ensure(&first.ctx, &[]).await.unwrap();
        // Written by hand as a SecureString: the plan names the type change.
        ssm.insert(&name(ISSUER), "https://auth.example.com/", true);
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let (planned, _) = plan(&run.ctx).await.unwrap();
        let issuer = planned.iter().find(|p| p.name == name(ISSUER)).unwrap();
        assert_eq!(
            issuer.change.to_string(),
            "update\n      type: SecureString → String"
        );
        let before = ssm.writes().len();
        ensure(&run.ctx, &[]).await.unwrap();
        assert_eq!(
            ssm.writes()[before..],
            [
                format!("DeleteParameter {}", name(ISSUER)),
                format!("PutParameter {}", name(ISSUER))
            ]
        );
        let p = ssm.get(&name(ISSUER)).unwrap();
        assert!(!p.secure);
        assert_eq!(p.tags.len(), 1, "created again with the stack's tag");
    }

    #[tokio::test]
    async fn a_type_changed_behind_the_read_is_replaced_once() {
        use aws_smithy_mocks::mock;
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        ensure(&first.ctx, &[]).await.unwrap();
        // Changed after this run read it: SSM refuses the overwrite once.
        let refused = mock!(aws_sdk_ssm::Client::put_parameter)
            .match_requests(|r| r.name() == Some("/colorid/demo/client-id"))
            .sequence()
            .http_response(|| {
                crate::fake_aws::ssm::error(
                    "HierarchyTypeMismatchException",
                    "Parameter Store does not support changing a parameter type in a hierarchy.",
                )
            })
            .build();
        let text = STACK.replace("client_id = \"abc\"", "client_id = \"new\"");
        let run = Run::open(&text, ssm.clone(), &[refused]).await;
        let before = ssm.writes().len();
        let out = ensure(&run.ctx, &[]).await.unwrap();
        assert!(out.changed);
        assert_eq!(
            ssm.writes()[before..],
            [
                format!("DeleteParameter {}", name(CLIENT_ID)),
                format!("PutParameter {}", name(CLIENT_ID))
            ]
        );
        let p = ssm.get(&name(CLIENT_ID)).unwrap();
        assert_eq!(
            (p.value.as_str(), p.secure, p.tags.len()),
            ("new", false, 1)
        );
    }

    #[tokio::test]
    async fn another_refused_write_is_an_error_and_deletes_nothing() {
        use aws_smithy_mocks::mock;
        let ssm = FakeSsm::default();
        let first = Run::open(STACK, ssm.clone(), &[]).await;
        ensure(&first.ctx, &[]).await.unwrap();
        let denied = mock!(aws_sdk_ssm::Client::put_parameter).then_http_response(|| {
            crate::fake_aws::ssm::error(
                "AccessDeniedException",
                "not authorized to perform: ssm:PutParameter",
            )
        });
        let text = STACK.replace("client_id = \"abc\"", "client_id = \"new\"");
        let run = Run::open(&text, ssm.clone(), &[denied]).await;
        let before = ssm.writes().len();
        let err = ensure(&run.ctx, &[]).await.err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("write the parameter /colorid/demo/client-id"),
            "{text}"
        );
        assert!(text.contains("AccessDeniedException"), "{text}");
        assert!(ssm.writes()[before..].is_empty(), "{:?}", ssm.writes());
        assert_eq!(ssm.get(&name(CLIENT_ID)).unwrap().value, "abc");
    }

    #[tokio::test(start_paused = true)]
    async fn a_name_deleted_moments_ago_is_waited_out() {
        let ssm = FakeSsm::default();
        ssm.hold(&name("app-secret"), 3);
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let out = ensure(&run.ctx, &[]).await.unwrap();
        assert!(out.changed);
        assert!(ssm.get(&name("app-secret")).is_some());
        let puts = ssm.count(&format!("PutParameter {}", name("app-secret")));
        assert_eq!(puts, 4, "three refusals, then the write");
    }

    #[tokio::test]
    async fn plan_tells_the_origin_verify_value_only_once_it_is_known() {
        // Generated and not yet made: unknown.
        let run = Run::open(STACK, FakeSsm::default(), &[]).await;
        let (planned, known) = plan(&run.ctx).await.unwrap();
        assert!(known.is_none());
        assert_eq!(planned.len(), 5);
        assert!(planned.iter().all(|p| p.change == Change::Create));
        let kinds: Vec<&str> = planned.iter().map(|p| p.resource.as_str()).collect();
        assert_eq!(
            kinds,
            ["secret", "secret", "secret", "parameter", "parameter"]
        );
        assert!(run.ssm.writes().is_empty(), "plan writes nothing");
        // Supplied: known before it is written.
        let value = file("supplied-value-abcdefghijklmnopqrstuvwxyz");
        let text = stack_with(&format!("origin_verify = {{ file = {:?} }}", value.path()));
        let run = Run::open(&text, FakeSsm::default(), &[]).await;
        let (_, known) = plan(&run.ctx).await.unwrap();
        assert_eq!(
            known.unwrap().expose(),
            "supplied-value-abcdefghijklmnopqrstuvwxyz"
        );
        // Generated and stored: the stored value.
        let ssm = FakeSsm::default();
        ssm.insert(&name("origin-verify"), "stored-value", true);
        let run = Run::open(STACK, ssm, &[]).await;
        let (planned, known) = plan(&run.ctx).await.unwrap();
        assert_eq!(known.unwrap().expose(), "stored-value");
        let ov = planned
            .iter()
            .find(|p| p.name == name("origin-verify"))
            .unwrap();
        assert_eq!(ov.change, Change::Unchanged);
    }

    #[tokio::test]
    async fn a_refused_read_names_the_path_and_changes_nothing() {
        use aws_smithy_mocks::mock;
        let denied = mock!(aws_sdk_ssm::Client::get_parameters).then_http_response(|| {
            crate::fake_aws::ssm::error(
                "AccessDeniedException",
                "not authorized to perform: ssm:GetParameters",
            )
        });
        let run = Run::open(STACK, FakeSsm::default(), &[denied]).await;
        let err = ensure(&run.ctx, &[]).await.err().unwrap();
        let text = err.to_string();
        assert!(
            text.contains("read the stack's parameters under /colorid/demo"),
            "{text}"
        );
        assert!(run.ssm.writes().is_empty());
    }

    #[tokio::test]
    async fn find_all_pages_through_and_leaves_the_state_and_lock() {
        let ssm = FakeSsm::default();
        for i in 0..23 {
            ssm.insert(&name(&format!("extra-{i:02}")), "v", false);
        }
        ssm.insert(&name("state"), "{}", false);
        ssm.insert(&name("lock"), "l", false);
        ssm.insert("/colorid/demo2/app-secret", "other stack", true);
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        let found = find_all(&run.ctx).await.unwrap();
        let want: Vec<String> = (0..23).map(|i| name(&format!("extra-{i:02}"))).collect();
        assert_eq!(found, want);
        let pages = ssm.count("GetParametersByPath");
        assert_eq!(pages, 3, "25 parameters, 10 a page");
        delete_all(&run.ctx, &found).await.unwrap();
        let deletes: Vec<usize> = ssm
            .calls()
            .iter()
            .filter_map(|c| c.strip_prefix("DeleteParameters "))
            .map(|names| names.split(',').count())
            .collect();
        assert_eq!(deletes, [10, 10, 3]);
        assert_eq!(
            ssm.names(),
            [
                "/colorid/demo/lock",
                "/colorid/demo/state",
                "/colorid/demo2/app-secret"
            ]
        );
        assert!(find_all(&run.ctx).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn retire_previous_deletes_the_copy_and_says_why() {
        let ssm = FakeSsm::default();
        ssm.insert(&name(ORIGIN_VERIFY_PREVIOUS), "old", true);
        let run = Run::open(STACK, ssm.clone(), &[]).await;
        retire_previous(&run.ctx).await.unwrap();
        assert!(ssm.get(&name(ORIGIN_VERIFY_PREVIOUS)).is_none());
        assert!(
            run.lines()
                .iter()
                .any(|l| l.contains("deleted origin-verify-previous")),
            "{:?}",
            run.lines()
        );
        // Already gone: nothing to do, no error.
        retire_previous(&run.ctx).await.unwrap();
    }

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
