//! The stack lock: an SSM parameter created without overwrite, so that two
//! runs that change one stack cannot race. It holds who took it and when.

use aws_sdk_ssm::Client as SsmClient;
use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};

use crate::error::{AwsContext, Error, Result};
use crate::names::{Names, STACK_TAG};
use crate::state::delete_parameter;

/// Who holds the lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub holder: String,
    pub since: String,
    pub command: String,
}

/// A taken lock; release it with [`Lock::release`].
pub struct Lock {
    ssm: SsmClient,
    parameter: String,
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    aws_smithy_types::DateTime::from_secs(secs as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn whoami() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    format!("{user}@{host} (pid {})", std::process::id())
}

impl Lock {
    /// Takes the lock, or fails with who holds it. `force` first removes a stale lock.
    pub async fn acquire(
        ssm: SsmClient,
        names: &Names,
        command: &str,
        force: bool,
    ) -> Result<Lock> {
        let parameter = names.lock_parameter();
        if force {
            delete_parameter(&ssm, &parameter, "remove the stale lock").await?;
        }
        let holder = Holder {
            holder: whoami(),
            since: now_rfc3339(),
            command: command.to_string(),
        };
        let value = serde_json::to_string(&holder).unwrap_or_default();
        let tag = Tag::builder()
            .key(STACK_TAG)
            .value(&names.stack)
            .build()
            .map_err(|e| Error::Usage(format!("bad tag: {e}")))?;
        let res = ssm
            .put_parameter()
            .name(&parameter)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(false)
            .tags(tag)
            .send()
            .await;
        match res {
            Ok(_) => Ok(Lock { ssm, parameter }),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_parameter_already_exists()) =>
            {
                let current = ssm
                    .get_parameter()
                    .name(&parameter)
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.parameter)
                    .and_then(|p| p.value)
                    .and_then(|v| serde_json::from_str::<Holder>(&v).ok());
                let (holder, since) = match current {
                    Some(h) => (
                        format!("`colorid {}` run by {}", h.command, h.holder),
                        h.since,
                    ),
                    None => ("another run".to_string(), "an unknown time".to_string()),
                };
                Err(Error::Locked {
                    stack: names.stack.clone(),
                    holder,
                    since,
                })
            }
            Err(err) => Err(err).aws("take the stack lock", &parameter),
        }
    }

    /// Releases the lock.
    pub async fn release(self) -> Result<()> {
        delete_parameter(&self.ssm, &self.parameter, "release the stack lock").await?;
        Ok(())
    }
}
