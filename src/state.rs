//! The state record: ids of what the stack made, kept in the account as the
//! SSM parameter `/colorid/<stack>/state` and saved after each step. It is a
//! cache, not the truth: when it is lost, `up` and `down` rediscover by tag
//! and by the names derived from the stack.

use std::sync::Arc;

use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::{AwsContext, Built, OrGone, Result};
use crate::names::{Names, STACK_TAG};

/// What the stack has made, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
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
        let state = saved
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
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
        let mut put = self
            .ssm
            .put_parameter()
            .name(&self.parameter)
            .value(&json)
            .r#type(ParameterType::String);
        if inner.saved.is_none() {
            put = put.tags(
                Tag::builder()
                    .key(STACK_TAG)
                    .value(&self.stack)
                    .build()
                    .built("the state tag")?,
            );
        } else {
            put = put.overwrite(true);
        }
        match put.send().await {
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
                    .value(&json)
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
