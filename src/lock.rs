//! The stack lock: one SSM parameter, `/colorid/<stack>/lock`, that holds
//! who took it and when, with the host and process id, so that a lock left by
//! a run that was killed on this machine is recognised as stale and taken
//! over; a lock from another machine needs `--force-unlock`.
//!
//! The parameter lives as long as the stack: releasing writes a released
//! marker over it, and only `down` deletes it. SSM will not create a name
//! again for 30 s after it was deleted (API_DeleteParameter), so a lock deleted
//! at each run's end and created by the next (`up && publish`) would meet that
//! on every run. Taking a released lock is a compare-and-set on the
//! parameter's version: the write that made version v+1 over the released
//! version v holds it; a run whose write got a later version lost the race,
//! and the holder is read from the parameter's history.

use aws_sdk_ssm::Client as SsmClient;
use aws_sdk_ssm::types::{ParameterType, Tag};
use serde::{Deserialize, Serialize};

use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::{Names, STACK_TAG};
use crate::state::{delete_parameter, put_waiting_out_deletion};

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
    /// The parameter version this run's write made (unknown when the write's
    /// answer was lost and the holder was recognised as this run).
    version: Option<i64>,
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

/// The value of a released lock.
#[derive(Debug, Serialize, Deserialize)]
struct Released {
    released: String,
}

fn released_value() -> String {
    serde_json::to_string(&Released {
        released: now_rfc3339(),
    })
    .unwrap_or_default()
}

fn is_released(value: &str) -> bool {
    serde_json::from_str::<Released>(value).is_ok()
}

/// One version of the lock parameter.
struct Version {
    number: i64,
    value: String,
}

impl Lock {
    /// Takes the lock, or fails with who holds it. `force` takes it whoever holds
    /// it; a lock whose holder died on this host is taken over without it.
    pub async fn acquire(
        ssm: SsmClient,
        names: &Names,
        command: &str,
        force: bool,
    ) -> Result<Lock> {
        let me = Holder {
            holder: whoami(),
            since: now_rfc3339(),
            command: command.to_string(),
            host: hostname(),
            pid: std::process::id(),
        };
        let mut lock = Lock {
            ssm,
            parameter: names.lock_parameter(),
            version: None,
        };
        if let Some(version) = lock.create(names, &me).await? {
            lock.version = Some(version);
            return Ok(lock);
        }
        let Some(latest) = lock.latest().await? else {
            // Deleted (by a `down`) since the create was refused.
            return Err(locked(names, None));
        };
        if is_released(&latest.value) {
            return lock.claim(names, &me, latest.number).await;
        }
        let current = lock.holder().await?;
        match current {
            // Our own write, whose answer was lost and retried.
            Some(h) if h.host == me.host && h.pid == me.pid => Ok(lock),
            Some(h) if force || h.is_dead_here() => {
                let why = if force {
                    "--force-unlock".to_string()
                } else {
                    "it is no longer running".to_string()
                };
                eprintln!(
                    "note: taking over the lock of stack {}: {} since {} ({why})",
                    names.stack,
                    h.describe(),
                    h.since
                );
                lock.claim(names, &me, latest.number).await
            }
            None if force => lock.claim(names, &me, latest.number).await,
            other => Err(locked(names, other)),
        }
    }

    /// The version of the lock parameter when it is released, `None` when it is
    /// held or missing. A run that reads what the lock guards after this, and then
    /// takes the lock at the next version ([`Lock::follows`]), knows that no run
    /// held the lock in between.
    pub async fn released_version(ssm: SsmClient, names: &Names) -> Result<Option<i64>> {
        let lock = Lock {
            ssm,
            parameter: names.lock_parameter(),
            version: None,
        };
        Ok(lock
            .latest()
            .await?
            .filter(|v| is_released(&v.value))
            .map(|v| v.number))
    }

    /// Whether this run took the lock with the write right after the released
    /// version `seen`: no other run held it since `seen` was read.
    pub fn follows(&self, seen: i64) -> bool {
        self.version == Some(seen + 1)
    }

    /// Creates the lock parameter: its version, `None` when it exists already.
    async fn create(&self, names: &Names, me: &Holder) -> Result<Option<i64>> {
        let tag = Tag::builder()
            .key(STACK_TAG)
            .value(&names.stack)
            .build()
            .built("the stack tag")?;
        let value = serde_json::to_string(me).unwrap_or_default();
        let res = put_waiting_out_deletion(&self.parameter, || {
            self.ssm
                .put_parameter()
                .name(&self.parameter)
                .value(&value)
                .r#type(ParameterType::String)
                .overwrite(false)
                .tags(tag.clone())
                .send()
        })
        .await;
        match res {
            Ok(out) => Ok(Some(out.version)),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_parameter_already_exists()) =>
            {
                Ok(None)
            }
            Err(err) => Err(err).aws("take the stack lock", &self.parameter),
        }
    }

    /// Writes `me` over version `seen` (released, or stale and taken over); holds
    /// the lock when that write made the next version, else names who did.
    async fn claim(mut self, names: &Names, me: &Holder, seen: i64) -> Result<Lock> {
        let value = serde_json::to_string(me).unwrap_or_default();
        let out = self
            .ssm
            .put_parameter()
            .name(&self.parameter)
            .value(&value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .aws("take the stack lock", &self.parameter)?;
        if out.version == seen + 1 {
            self.version = Some(out.version);
            return Ok(self);
        }
        // Another run wrote first (or ours was retried): the write after `seen` holds it.
        let winner = self
            .history()
            .await?
            .into_iter()
            .find(|v| v.number == seen + 1)
            .and_then(|v| serde_json::from_str::<Holder>(&v.value).ok());
        match winner {
            Some(h) if h.host == me.host && h.pid == me.pid => {
                self.version = Some(seen + 1);
                Ok(self)
            }
            other => Err(locked(names, other)),
        }
    }

    /// The latest version, `None` when there is no lock parameter.
    async fn latest(&self) -> Result<Option<Version>> {
        let out = self
            .ssm
            .get_parameter()
            .name(&self.parameter)
            .send()
            .await
            .or_gone(|e| e.is_parameter_not_found())
            .aws("read the stack lock", &self.parameter)?;
        Ok(out.and_then(|o| o.parameter).map(|p| Version {
            number: p.version,
            value: p.value.unwrap_or_default(),
        }))
    }

    /// Every version SSM keeps (its last 100), oldest first.
    async fn history(&self) -> Result<Vec<Version>> {
        let pages: Vec<_> = self
            .ssm
            .get_parameter_history()
            .name(&self.parameter)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<std::result::Result<_, _>>()
            .aws("read the history of the stack lock", &self.parameter)?;
        let mut out: Vec<Version> = pages
            .iter()
            .flat_map(|p| p.parameters())
            .map(|p| Version {
                number: p.version,
                value: p.value().unwrap_or_default().to_string(),
            })
            .collect();
        out.sort_by_key(|v| v.number);
        Ok(out)
    }

    /// Who holds the lock now: the first write after the last release.
    async fn holder(&self) -> Result<Option<Holder>> {
        Ok(holder_in(&self.history().await?))
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

    /// As [`Lock::hold`], for `down`: a run that succeeded deletes the lock with
    /// the rest of the stack; one that failed releases it.
    pub async fn hold_then_delete<T>(self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let result = work.await;
        let parameter = self.parameter.clone();
        let released = if result.is_ok() {
            delete_parameter(&self.ssm, &self.parameter, "delete the stack lock")
                .await
                .map(|_| ())
        } else {
            self.release().await
        };
        outcome(result, released, &parameter)
    }

    /// Releases the lock: writes the released marker over it.
    pub async fn release(self) -> Result<()> {
        self.ssm
            .put_parameter()
            .name(&self.parameter)
            .value(released_value())
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .aws("release the stack lock", &self.parameter)?;
        Ok(())
    }
}

/// The holder a history shows: the first holder written after the last release
/// (the first version SSM kept when none is a release).
fn holder_in(history: &[Version]) -> Option<Holder> {
    let after = history
        .iter()
        .rposition(|v| is_released(&v.value))
        .map_or(0, |i| i + 1);
    history
        .get(after)
        .and_then(|v| serde_json::from_str::<Holder>(&v.value).ok())
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

    fn v(number: i64, value: &str) -> Version {
        Version {
            number,
            value: value.to_string(),
        }
    }

    #[test]
    fn the_holder_is_the_first_write_after_the_last_release() {
        let a = r#"{"holder":"a","since":"t","command":"up","host":"h","pid":1}"#;
        let b = r#"{"holder":"b","since":"t","command":"up","host":"h","pid":2}"#;
        let free = r#"{"released":"t"}"#;
        assert_eq!(holder_in(&[v(1, a)]).unwrap().holder, "a");
        assert_eq!(
            holder_in(&[v(1, a), v(2, free), v(3, b), v(4, a)])
                .unwrap()
                .holder,
            "b"
        );
        assert!(holder_in(&[v(1, a), v(2, free)]).is_none());
    }

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
