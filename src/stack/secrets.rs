//! The stack's secrets and identity settings in SSM Parameter Store under
//! `/colorid/<stack>/`: `app-secret`, `signing-key` and `origin-verify` as
//! SecureString, `client-id` and `issuer` as String.
//!
//! A secret comes from the environment variable or file stack.toml names
//! (read at `up` time), else it is generated once with the OS's CSPRNG and
//! kept. Values are held in [`Secret`], which never prints itself; nothing in
//! this module puts a value in a message, a log line or an error.
//!
//! Rotating `origin_verify` copies the current value to
//! `origin-verify-previous` first, so the function accepts both while the
//! distribution still sends the old header. The copy is deleted by a later
//! `up` that finds the distribution deployed with the current value.

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use aws_sdk_ssm::types::{ParameterType, Tag};
use p256::pkcs8::DecodePrivateKey;

use crate::config::SecretSource;
use crate::error::{AwsContext, Built, Error, Result, code_of};
use crate::names::STACK_TAG;
use crate::stack::{Change, Ctx, FieldChange, Planned};
use crate::state::put_waiting_out_deletion;
use crate::state_encoding::STANDARD_LIMIT;

/// A secret value. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (SSM, CloudFront).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// The secrets a user can rotate with `up --rotate-secrets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretName {
    #[value(name = "app_secret")]
    AppSecret,
    #[value(name = "signing_key")]
    SigningKey,
    #[value(name = "origin_verify")]
    OriginVerify,
}

impl SecretName {
    pub const ALL: [SecretName; 3] = [
        SecretName::AppSecret,
        SecretName::SigningKey,
        SecretName::OriginVerify,
    ];

    /// The field under `[secrets]` in stack.toml.
    pub fn field(self) -> &'static str {
        match self {
            SecretName::AppSecret => "app_secret",
            SecretName::SigningKey => "signing_key",
            SecretName::OriginVerify => "origin_verify",
        }
    }

    /// The last segment of the parameter's name.
    pub fn leaf(self) -> &'static str {
        match self {
            SecretName::AppSecret => "app-secret",
            SecretName::SigningKey => "signing-key",
            SecretName::OriginVerify => "origin-verify",
        }
    }

    fn source(self, stack: &crate::config::Stack) -> &SecretSource {
        let s = &stack.secrets;
        match self {
            SecretName::AppSecret => &s.app_secret,
            SecretName::SigningKey => &s.signing_key,
            SecretName::OriginVerify => &s.origin_verify,
        }
    }

    /// A fresh value from the OS's CSPRNG.
    fn generate(self) -> Result<Secret> {
        match self {
            SecretName::SigningKey => {
                let pem = crate::keys::EcKey::generate().pem;
                if pem.is_empty() {
                    return Err(Error::internal("cannot encode a new signing key"));
                }
                Ok(Secret::new(pem))
            }
            SecretName::AppSecret | SecretName::OriginVerify => Ok(random_token()),
        }
    }
}

/// 32 random bytes, base64url without padding (43 characters, header-safe).
pub fn random_token() -> Secret {
    Secret::new(crate::keys::random_token())
}

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

/// Reads the value a user supplied through stack.toml, `None` when it is to be generated.
fn supplied(stack: &crate::config::Stack, name: SecretName) -> Result<Option<Secret>> {
    let field = format!("secrets.{}", name.field());
    let file = stack.file.display();
    let value = match name.source(stack) {
        SecretSource::Generate => return Ok(None),
        SecretSource::Env(var) => std::env::var(var).map_err(|_| {
            Error::usage_fix(format!("{file}: field `{field}` names the environment variable {var}, which is not set (or not UTF-8)."), format!("export {var} before `colorid up`, or remove `{field}` to let colorid generate the secret"))
        })?,
        SecretSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
            Error::usage_fix(format!("{file}: field `{field}` names the file {}, which cannot be read: {}.", path.display(), e.kind()), format!("create the file, or fix `{field}`"))
        })?,
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(Error::usage_fix(
            format!("{file}: field `{field}` points at an empty value."),
            format!("supply the secret, or remove `{field}` to let colorid generate it"),
        ));
    }
    let chars = value.chars().count();
    if chars > STANDARD_LIMIT {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is {chars} characters, over the {STANDARD_LIMIT} an SSM standard parameter holds (API_PutParameter), where colorid keeps it."
            ),
            format!(
                "supply a shorter value (a secret needs no more than 64 random bytes; a P-256 key in PEM is about 240 characters), or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if let Some(problem) = weak(name, &value) {
        return Err(Error::usage_fix(
            format!("{file}: field `{field}`: {problem}."),
            format!(
                "supply at least {MIN_SUPPLIED_BYTES} random bytes, e.g. the output of `openssl rand -base64 32`, or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if name == SecretName::SigningKey && p256::SecretKey::from_pkcs8_pem(&value).is_err() {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}` does not hold an ES256 (P-256) private key in PKCS#8 PEM."
            ),
            format!(
                "create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if name == SecretName::OriginVerify && !value.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
    {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is sent as an HTTP header and may hold only printable ASCII without spaces or quotes."
            ),
            "use e.g. 32 random bytes in base64url",
        ));
    }
    if name == SecretName::OriginVerify && value.len() > ORIGIN_HEADER_VALUE_CHARS {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is {} characters, and CloudFront allows {ORIGIN_HEADER_VALUE_CHARS} in a custom origin header's value.",
                value.len()
            ),
            format!(
                "supply a shorter value (32 random bytes in base64url are 43 characters), or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    Ok(Some(Secret::new(value)))
}

/// CloudFront's quota on a custom origin header's value: "Maximum length of a custom
/// header value: 1,783 characters" (the origin-verify value travels as one).
pub const ORIGIN_HEADER_VALUE_CHARS: usize = 1783;

/// The least length of a supplied app secret or origin-verify value: as long
/// as the 32 random bytes colorid generates, so a short one cannot be guessed.
pub const MIN_SUPPLIED_BYTES: usize = 32;

/// Why a supplied value is too weak to use (never showing it).
fn weak(name: SecretName, value: &str) -> Option<String> {
    match name {
        SecretName::AppSecret | SecretName::OriginVerify if value.len() < MIN_SUPPLIED_BYTES => {
            Some(format!(
                "the supplied value is shorter than {MIN_SUPPLIED_BYTES} bytes"
            ))
        }
        _ => None,
    }
}

/// Reads every user-supplied secret once, so a missing one fails before any change.
pub fn check_sources(stack: &crate::config::Stack) -> Result<()> {
    for name in SecretName::ALL {
        supplied(stack, name)?;
    }
    Ok(())
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
    use base64::Engine;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
    }

    #[test]
    fn short_supplied_secrets_are_refused_without_showing_them() {
        for name in [SecretName::AppSecret, SecretName::OriginVerify] {
            let problem = weak(name, "hunter2-short").expect("too short");
            assert!(!problem.contains("hunter2"), "{problem}");
            assert!(weak(name, &"x".repeat(MIN_SUPPLIED_BYTES)).is_none());
        }
        assert!(weak(SecretName::OriginVerify, random_token().expose()).is_none());
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(a.expose())
            .expect("base64url");
        assert!(bytes.len() >= 32);
        let key = SecretName::SigningKey.generate().expect("key");
        assert!(key.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(p256::SecretKey::from_pkcs8_pem(key.expose()).is_ok());
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
