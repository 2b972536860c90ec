//! The stack lock: an SSM parameter created without overwrite, so that two
//! runs that change one stack cannot race. It holds who took it and when, and
//! the host and process id, so that a lock left by a run that was killed on
//! this machine is recognised as stale and taken over; a lock from another
//! machine needs `--force-unlock`.

use aws_sdk_ssm::Client as SsmClient;
use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};

use crate::error::{AwsContext, Built, Error, Result};
use crate::names::{Names, STACK_TAG};
use crate::state::delete_parameter;

/// Who holds the lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub holder: String,
    pub since: String,
    pub command: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub pid: u32,
}

impl Holder {
    fn describe(&self) -> String {
        format!("`colorid {}` run by {}", self.command, self.holder)
    }

    /// Whether the run that took the lock is known to be gone: it ran on this
    /// host and no colorid process has its pid any more.
    fn is_dead_here(&self) -> bool {
        self.pid != 0 && self.host == hostname() && !colorid_running(self.pid)
    }
}

/// Whether a colorid process with this pid runs (where that cannot be told, yes).
fn colorid_running(pid: u32) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains("colorid"),
        Err(_) => false,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
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
    format!("{user}@{} (pid {})", hostname(), std::process::id())
}

impl Lock {
    /// Takes the lock, or fails with who holds it. `force` first removes a stale
    /// lock; a lock whose holder died on this host is taken over without it.
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
        let me = Holder {
            holder: whoami(),
            since: now_rfc3339(),
            command: command.to_string(),
            host: hostname(),
            pid: std::process::id(),
        };
        let lock = Lock { ssm, parameter };
        if lock.put(names, &me).await? {
            return Ok(lock);
        }
        let current = lock.holder().await;
        match current {
            // Our own put, whose answer was lost and retried.
            Some(h) if h.host == me.host && h.pid == me.pid => Ok(lock),
            Some(h) if h.is_dead_here() => {
                eprintln!(
                    "note: taking over the lock of stack {}: {} since {} is no longer running",
                    names.stack,
                    h.describe(),
                    h.since
                );
                delete_parameter(&lock.ssm, &lock.parameter, "remove the stale lock").await?;
                if lock.put(names, &me).await? {
                    Ok(lock)
                } else {
                    Err(locked(names, lock.holder().await))
                }
            }
            other => Err(locked(names, other)),
        }
    }

    /// Creates the lock parameter; `false` when it exists already.
    async fn put(&self, names: &Names, me: &Holder) -> Result<bool> {
        let tag = Tag::builder()
            .key(STACK_TAG)
            .value(&names.stack)
            .build()
            .built("the stack tag")?;
        let res = self
            .ssm
            .put_parameter()
            .name(&self.parameter)
            .value(serde_json::to_string(me).unwrap_or_default())
            .r#type(ParameterType::String)
            .overwrite(false)
            .tags(tag)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_parameter_already_exists()) =>
            {
                Ok(false)
            }
            Err(err) => Err(err).aws("take the stack lock", &self.parameter),
        }
    }

    /// Who holds the lock now, when that can be read.
    async fn holder(&self) -> Option<Holder> {
        self.ssm
            .get_parameter()
            .name(&self.parameter)
            .send()
            .await
            .ok()
            .and_then(|o| o.parameter)
            .and_then(|p| p.value)
            .and_then(|v| serde_json::from_str::<Holder>(&v).ok())
    }

    /// Runs `work` while holding the lock, then releases it, whatever the run's
    /// outcome. When both fail, the run's own error is returned and the failed
    /// release is reported beside it.
    pub async fn hold<T>(self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let result = work.await;
        let parameter = self.parameter.clone();
        let released = self.release().await;
        outcome(result, released, &parameter)
    }

    /// Releases the lock.
    pub async fn release(self) -> Result<()> {
        delete_parameter(&self.ssm, &self.parameter, "release the stack lock").await?;
        Ok(())
    }
}

/// A run's result after the lock's release: the run's own error wins, and a
/// release that failed as well is reported beside it.
fn outcome<T>(run: Result<T>, released: Result<()>, parameter: &str) -> Result<T> {
    match (run, released) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(release)) => Err(release),
        (Err(run), Ok(())) => Err(run),
        (Err(run), Err(release)) => {
            eprintln!(
                "warning: the stack lock {parameter} is still held: {release}\n  what to do: the next run needs --force-unlock"
            );
            Err(run)
        }
    }
}

fn locked(names: &Names, holder: Option<Holder>) -> Error {
    let (holder, since) = match holder {
        Some(h) => (h.describe(), h.since),
        None => ("another run".to_string(), "an unknown time".to_string()),
    };
    Error::Locked {
        stack: names.stack.clone(),
        holder,
        since,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runs_own_error_wins_over_a_failed_release() {
        let run: Result<()> = Err(Error::usage("the run failed"));
        let err = outcome(run, Err(Error::internal("release failed")), "/p").unwrap_err();
        assert_eq!(err.to_string(), "the run failed");
    }

    #[test]
    fn a_failed_release_fails_a_good_run_and_a_good_release_keeps_its_value() {
        let err = outcome(Ok(1), Err(Error::internal("release failed")), "/p").unwrap_err();
        assert!(err.to_string().contains("release failed"), "{err}");
        assert_eq!(outcome(Ok(7), Ok(()), "/p").unwrap(), 7);
        let run: Result<()> = Err(Error::usage("the run failed"));
        assert_eq!(
            outcome(run, Ok(()), "/p").unwrap_err().to_string(),
            "the run failed"
        );
    }
}
