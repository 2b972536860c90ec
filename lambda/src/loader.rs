//! The production settings cache. Settings are loaded from SSM at cold start
//! and used for [`SETTINGS_TTL`], then reloaded on the next request, so a
//! value `up` changed or deleted (a retired origin-verify value) stops
//! working in warm instances too. A load that fails is tried again on a later
//! request, at most once per retry interval, instead of leaving the instance
//! answering 503 for its life; while a reload fails, the settings last loaded
//! keep serving.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::ready::Ready;
use crate::settings::{PRODUCTION_ENV, Settings};
use crate::ssm::SsmClient;

/// How long loaded settings are used before they are read again.
pub const SETTINGS_TTL: Duration = Duration::from_secs(300);
/// The least time between two load attempts after a failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);
/// The least time between reload attempts while a failed reload leaves the
/// settings last loaded in service.
const STALE_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Settings from SSM, reloaded after a TTL and retried after a failure.
pub(crate) struct Loader {
    env: HashMap<String, String>,
    ssm: SsmClient,
    ttl: Duration,
    retry_after: Duration,
    state: RwLock<State>,
    // One load at a time; requests that find a load under way carry on with what there is.
    loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    ready: Option<Arc<Ready>>,
    loaded_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

impl Loader {
    /// A cache reading the production variables from `env` once, now.
    pub(crate) fn new(env: &dyn Fn(&str) -> Option<String>, ssm: SsmClient) -> Self {
        let env = PRODUCTION_ENV
            .iter()
            .filter_map(|name| env(name).map(|v| (name.to_string(), v)))
            .collect();
        Loader {
            env,
            ssm,
            ttl: SETTINGS_TTL,
            retry_after: RETRY_AFTER,
            state: RwLock::new(State::default()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn set_timing(&mut self, ttl: Duration, retry_after: Duration) {
        self.ttl = ttl;
        self.retry_after = retry_after;
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings last loaded, without loading.
    pub(crate) fn loaded(&self) -> Option<Arc<Ready>> {
        self.state().ready.clone()
    }

    /// The settings to serve with, loading them first when they are missing
    /// or older than the TTL and the retry interval allows.
    pub(crate) async fn current(&self) -> Option<Arc<Ready>> {
        let (ready, due) = {
            let s = self.state();
            // A reload that failed while older settings serve is retried less
            // often: the request that retries waits for SSM's retries.
            let failed_last = match (s.last_attempt, s.loaded_at) {
                (Some(attempt), Some(loaded)) => attempt > loaded,
                (attempt, None) => attempt.is_some(),
                (None, Some(_)) => false,
            };
            let wait = if s.ready.is_some() && failed_last {
                self.retry_after.max(STALE_RETRY_AFTER)
            } else {
                self.retry_after
            };
            let may_try = s.last_attempt.is_none_or(|at| at.elapsed() >= wait);
            let expired = s.loaded_at.is_none_or(|at| at.elapsed() >= self.ttl);
            (s.ready.clone(), expired && may_try)
        };
        if !due {
            return ready;
        }
        let Ok(_guard) = self.loading.try_lock() else {
            return ready;
        };
        self.load(ready).await
    }

    async fn load(&self, previous: Option<Arc<Ready>>) -> Option<Arc<Ready>> {
        let env = |name: &str| self.env.get(name).cloned();
        let result = Settings::from_env_and_ssm(&env, &self.ssm)
            .await
            .and_then(|s| Ready::build(s, previous.as_deref()));
        let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        s.last_attempt = Some(now);
        match result {
            Ok(ready) => {
                let ready = Arc::new(ready);
                s.ready = Some(Arc::clone(&ready));
                s.loaded_at = Some(now);
                Some(ready)
            }
            Err(e) => {
                if previous.is_some() {
                    tracing::warn!(reason = %e, "reloading the configuration failed; serving with the settings last loaded");
                } else {
                    tracing::error!(reason = %e, "configuration unavailable; answering 503 until a later load succeeds");
                }
                previous
            }
        }
    }
}
