//! The state record: ids of what the stack made, kept in the account as the
//! SSM parameter `/colorid/<stack>/state` and saved after each step. It is a
//! cache, not the truth: when it is lost, `up` and `down` rediscover by tag
//! and by the names derived from the stack.

use std::sync::Arc;

use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::{Names, STACK_TAG};
use crate::state_encoding as record;

/// The state record's format. Raise it when a field changes meaning or is added
/// that an older colorid must not drop (it would write the record back without it),
/// and migrate older records in [`migrate`]. 1: the unversioned records before
/// issue 24; 2: the same fields under a `format` of their own.
pub const FORMAT: u64 = 2;

/// What the stack has made, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    /// The record's format ([`FORMAT`] once this colorid has written it; absent, so 0,
    /// in a format-1 record).
    pub format: u64,
    /// The account the record lives in (it is kept in that account's SSM), saving a
    /// GetCallerIdentity on each run.
    pub account_id: Option<String>,
    pub hosted_zone_id: Option<String>,
    /// Set when colorid created the hosted zone (local emulator only).
    pub hosted_zone_created: bool,
    pub certificate_arn: Option<String>,
    /// A random nonce, saved before the certificate is requested, that seeds its idempotency token:
    /// a run killed mid-request gets the same certificate back, and a stack brought up again after
    /// `down` gets a new one (ACM remembers tokens for an hour, even of deleted certificates).
    pub certificate_nonce: Option<String>,
    /// The validation CNAMEs this stack created (absent before it upserted them); only
    /// these are deleted by `down` (ACM shares a name's record between certificates).
    pub validation_records: Vec<String>,
    /// Certificates this stack replaced, deleted once CloudFront releases them.
    pub certificates_to_delete: Vec<String>,
    /// Nonces, saved before the create, that seed the caller references of the
    /// distribution and the origin access identity: a retried create finds the first,
    /// and a stack brought up again after `down` gets a new one (CloudFront remembers
    /// caller references).
    pub distribution_nonce: Option<String>,
    pub origin_access_identity_nonce: Option<String>,
    pub bucket: Option<String>,
    pub origin_access_control_id: Option<String>,
    pub origin_access_identity_id: Option<String>,
    pub distribution_id: Option<String>,
    pub distribution_domain: Option<String>,
    pub alias_records: Vec<String>,
    pub role_name: Option<String>,
    pub function_name: Option<String>,
    pub function_url: Option<String>,
    /// The directory-index CloudFront Function's ARN.
    pub viewer_function_arn: Option<String>,
    /// On the emulator only (it has no response headers policy API): the
    /// Content-Security-Policy `up` would have set, for `plan` to compare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_security_policy: Option<String>,
}

/// The state record and where it is kept.
#[derive(Clone)]
pub struct StateStore {
    ssm: aws_sdk_ssm::Client,
    parameter: String,
    stack: String,
    inner: Arc<Mutex<Stored>>,
}

struct Stored {
    state: State,
    /// What the account holds now, so an unchanged record is not written again.
    saved: Option<String>,
}

impl StateStore {
    /// Reads the record; a missing one is an empty state.
    pub async fn load(ssm: aws_sdk_ssm::Client, names: &Names) -> Result<StateStore> {
        let parameter = names.state_parameter();
        let saved = ssm
            .get_parameter()
            .name(&parameter)
            .send()
            .await
            .or_gone(|e| e.is_parameter_not_found())
            .aws("read the state record", &parameter)?
            .and_then(|out| out.parameter)
            .and_then(|p| p.value);
        // Plain JSON, or gzipped when long (state_encoding); older records are plain.
        let saved = saved.map(|s| record::decode(&s));
        let state = match saved.as_deref().and_then(|s| serde_json::from_str(s).ok()) {
            Some(record) => read_record(record, &parameter)?,
            None => State {
                format: FORMAT,
                ..State::default()
            },
        };
        Ok(StateStore {
            ssm,
            parameter,
            stack: names.stack.clone(),
            inner: Arc::new(Mutex::new(Stored { state, saved })),
        })
    }

    /// A copy of the current state.
    pub async fn get(&self) -> State {
        self.inner.lock().await.state.clone()
    }

    /// Changes the state and saves it when it differs from what is stored.
    pub async fn update(&self, change: impl FnOnce(&mut State)) -> Result<()> {
        let mut inner = self.inner.lock().await;
        change(&mut inner.state);
        let json = serde_json::to_string(&inner.state).unwrap_or_default();
        if inner.saved.as_deref() == Some(json.as_str()) {
            return Ok(());
        }
        let tag = Tag::builder()
            .key(STACK_TAG)
            .value(&self.stack)
            .build()
            .built("the state tag")?;
        let value = record::encode(&json)?;
        let create = inner.saved.is_none();
        let sent = put_waiting_out_deletion(&self.parameter, || {
            let put = self
                .ssm
                .put_parameter()
                .name(&self.parameter)
                .value(&value)
                .r#type(ParameterType::String);
            let put = if create {
                put.tags(tag.clone())
            } else {
                put.overwrite(true)
            };
            put.send()
        })
        .await;
        match sent {
            Ok(_) => {}
            // Written by an earlier attempt whose answer was lost.
            Err(err)
                if inner.saved.is_none()
                    && err
                        .as_service_error()
                        .is_some_and(|e| e.is_parameter_already_exists()) =>
            {
                self.ssm
                    .put_parameter()
                    .name(&self.parameter)
                    .value(&value)
                    .r#type(ParameterType::String)
                    .overwrite(true)
                    .send()
                    .await
                    .aws("save the state record", &self.parameter)?;
            }
            Err(err) => return Err(err).aws("save the state record", &self.parameter),
        }
        inner.saved = Some(json);
        Ok(())
    }

    /// The nonce kept in `field`, made and saved first when there is none.
    pub async fn nonce(&self, field: fn(&mut State) -> &mut Option<String>) -> Result<String> {
        let mut state = self.get().await;
        if let Some(n) = field(&mut state).clone() {
            return Ok(n);
        }
        let n = hex::encode(rand::random::<[u8; 8]>());
        self.update(|s| *field(s) = Some(n.clone())).await?;
        Ok(n)
    }

    /// Deletes the record (the last step of `down`).
    pub async fn delete(&self) -> Result<bool> {
        delete_parameter(&self.ssm, &self.parameter, "delete the state record").await
    }

    /// Whether a record exists in the account.
    pub async fn exists(&self) -> bool {
        self.inner.lock().await.saved.is_some()
    }
}

/// The state in a record as read from the account: an older format migrated; a newer
/// one refused, since writing it back would drop what this colorid does not know.
pub fn read_record(record: serde_json::Value, parameter: &str) -> Result<State> {
    let format = record["format"].as_u64().unwrap_or(1);
    if format > FORMAT {
        return Err(Error::usage_fix(
            format!(
                "the state record {parameter} was written by a newer colorid (record format {format}; this colorid knows formats up to {FORMAT}): it would drop what it does not know, so it changes nothing."
            ),
            "upgrade colorid to the version that wrote the record (or newer), then run the same command again",
        ));
    }
    let mut state: State = serde_json::from_value(record).unwrap_or_default();
    migrate(&mut state, format);
    Ok(state)
}

/// Brings a record of `format` to [`FORMAT`] (saved with the next change).
fn migrate(state: &mut State, format: u64) {
    // 1 → 2: the fields are unchanged; only the format is recorded.
    let _ = format;
    state.format = FORMAT;
}

/// How long a write waits out SSM's hold on a name deleted moments ago.
const NAME_HELD: std::time::Duration = std::time::Duration::from_secs(60);

/// The answer of one PutParameter.
pub type PutResult = std::result::Result<
    aws_sdk_ssm::operation::put_parameter::PutParameterOutput,
    aws_sdk_ssm::error::SdkError<aws_sdk_ssm::operation::put_parameter::PutParameterError>,
>;

/// Sends a PutParameter that may create `name`. "After deleting a parameter, wait
/// for at least 30 seconds to create a parameter with the same name"
/// (API_DeleteParameter): `down` then `up`, or a type change, meets that once;
/// SSM's answer (TooManyUpdates, "please try again") is retried, with a note, for
/// up to a minute. colorid deletes no name in a loop (see [`crate::lock`]).
pub async fn put_waiting_out_deletion<F, Fut>(name: &str, send: F) -> PutResult
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = PutResult>,
{
    let start = std::time::Instant::now();
    let mut noted = false;
    loop {
        match send().await {
            Err(err)
                if crate::error::code_of(&err) == Some("TooManyUpdates")
                    && start.elapsed() < NAME_HELD =>
            {
                if !noted {
                    eprintln!(
                        "  … SSM holds the name {name} for 30 s after it was deleted; waiting"
                    );
                    noted = true;
                }
                tokio::time::sleep(crate::wait::pause(std::time::Duration::from_secs(2))).await;
            }
            other => return other,
        }
    }
}

/// Deletes an SSM parameter; `false` when it was already gone.
pub async fn delete_parameter(ssm: &aws_sdk_ssm::Client, name: &str, action: &str) -> Result<bool> {
    let deleted = ssm
        .delete_parameter()
        .name(name)
        .send()
        .await
        .or_gone(|e| e.is_parameter_not_found())
        .aws(action, name)?;
    Ok(deleted.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unversioned_record_is_migrated_with_its_fields() {
        let record = serde_json::json!({"account_id": "1", "certificate_nonce": "n", "alias_records": ["a A"]});
        let state = read_record(record, "/colorid/s/state").unwrap();
        assert_eq!(state.format, FORMAT);
        assert_eq!(state.certificate_nonce.as_deref(), Some("n"));
        assert_eq!(state.alias_records, ["a A"]);
        let written = serde_json::to_string(&state).unwrap();
        assert!(
            written.starts_with(&format!("{{\"format\":{FORMAT},")),
            "{written}"
        );
    }

    #[test]
    fn a_record_of_a_newer_colorid_is_refused_with_exit_2() {
        let record = serde_json::json!({"format": FORMAT + 1, "account_id": "1", "new": {}});
        let err = read_record(record, "/colorid/s/state").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("newer colorid"), "{err}");
        assert!(err.report().contains("upgrade colorid"), "{}", err.report());
        let current = serde_json::json!({"format": FORMAT, "bucket": "b"});
        assert_eq!(
            read_record(current, "p").unwrap().bucket.as_deref(),
            Some("b")
        );
    }
}
