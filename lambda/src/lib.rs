//! The colorid identity function: verifies the user's identity token and
//! answers with a pseudonymous identity, a colour and released attributes.
//!
//! [`App::handle`] serves one request and never fails; `main.rs` runs it under
//! the Lambda runtime and `colorid dev` serves it in-process.

pub mod access;
pub mod attribute_names;
pub mod attributes;
mod authenticate;
pub mod claims;
mod config_error;
mod cors;
pub mod deployment;
mod door;
mod exchange;
pub mod formula;
pub mod identity;
pub mod invocation;
pub mod jwk;
pub mod jwks;
mod legacy;
pub mod level;
mod loader;
pub mod profile;
mod ready;
mod release;
pub mod request;
mod response;
mod routes;
pub mod settings;
mod signed_check;
pub mod signing;
pub mod ssm;
mod tls;
pub mod token;
pub mod token_cache;
pub mod token_refusal;
pub mod v1;
pub mod validation;

use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::{Body, Request, Response};
use time::Date;

pub use loader::SETTINGS_TTL;
pub use settings::{ConfigError, Settings};

use crate::ready::Ready;

/// The configured function, ready to serve; or, while configuration cannot
/// be loaded, a function that answers every request with 503.
pub struct App {
    config: Config,
    today: Option<Date>,
}

enum Config {
    /// Settings given once (development, tests), never reloaded.
    Fixed(Result<Arc<Ready>, String>),
    /// Production: loaded from SSM, reloaded after a TTL, retried after a failure.
    Loaded(Box<loader::Loader>),
}

impl App {
    /// Builds the function from settings. Cheap: the issuer's keys are fetched on first use.
    pub fn new(settings: Settings) -> Result<App, ConfigError> {
        Ok(App {
            config: Config::Fixed(Ok(Arc::new(Ready::build(settings, None)?))),
            today: None,
        })
    }

    /// A function that answers 503 because its configuration could not be loaded.
    pub fn unavailable(reason: impl Into<String>) -> App {
        App {
            config: Config::Fixed(Err(reason.into())),
            today: None,
        }
    }

    /// Production start-up: parameter names from the environment, values from
    /// one SSM `GetParameters` call (retried on throttling and 5xx). Never
    /// fails: while the settings cannot be loaded the function answers 503
    /// and tries again on a later request; loaded settings are reloaded
    /// after [`loader::SETTINGS_TTL`].
    pub async fn from_env_and_ssm() -> App {
        let env = |name: &str| std::env::var(name).ok();
        match ssm::SsmClient::from_env(&env) {
            Ok(client) => Self::from_lookup_and_ssm(&env, client).await,
            Err(e) => Self::from_settings_result(Err(ConfigError::Ssm(e))),
        }
    }

    /// [`App::from_env_and_ssm`] with the environment given as a lookup function.
    pub async fn from_lookup_and_ssm(
        env: &dyn Fn(&str) -> Option<String>,
        ssm: ssm::SsmClient,
    ) -> App {
        let loader = Box::new(loader::Loader::new(env, ssm));
        loader.current().await;
        App {
            config: Config::Loaded(loader),
            today: None,
        }
    }

    /// Sets how long loaded settings are used before a reload, and the least
    /// time between two attempts after a failed load (tests shorten both).
    pub fn with_reload_timing(mut self, ttl: Duration, retry_after: Duration) -> App {
        if let Config::Loaded(l) = &mut self.config {
            l.set_timing(ttl, retry_after);
        }
        self
    }

    /// Start-up from the process environment: the local development mode when
    /// `COLORID_DEV_CONFIG=1` (see [`Settings::from_dev_env`]), otherwise `None`
    /// so the caller loads from SSM.
    pub fn from_dev_env() -> Option<App> {
        let env = |name: &str| std::env::var(name).ok();
        (env("COLORID_DEV_CONFIG").as_deref() == Some("1"))
            .then(|| Self::from_settings_result(Settings::from_dev_env(&env)))
    }

    fn from_settings_result(settings: Result<Settings, ConfigError>) -> App {
        match settings.and_then(App::new) {
            Ok(app) => app,
            Err(e) => {
                tracing::error!(reason = %e, "configuration unavailable; answering 503");
                App::unavailable(e.to_string())
            }
        }
    }

    async fn ready(&self) -> Option<Arc<Ready>> {
        match &self.config {
            Config::Fixed(r) => r.as_ref().ok().cloned(),
            Config::Loaded(l) => l.current().await,
        }
    }

    /// Fixes "today" for formula evaluation (tests); otherwise the UTC date is used.
    pub fn with_today(mut self, today: Date) -> App {
        self.today = Some(today);
        self
    }

    /// The settings in service, without loading.
    fn loaded(&self) -> Option<Arc<Ready>> {
        match &self.config {
            Config::Fixed(r) => r.as_ref().ok().cloned(),
            Config::Loaded(l) => l.loaded(),
        }
    }

    /// How many times the issuer's JWKS has been fetched.
    pub fn jwks_fetch_count(&self) -> u64 {
        self.loaded().map_or(0, |r| r.verifier.jwks().fetch_count())
    }

    /// How many requests the current settings' verified-token cache served.
    pub fn verified_token_hits(&self) -> u64 {
        self.loaded()
            .map_or(0, |r| r.verifier.verified_tokens().hits())
    }

    /// Serves one request. Every outcome, including bad input, is a JSON response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let start = Instant::now();
        // Kept for the log line: the method (a cheap clone for the standard
        // ones), and the path only when it is a route (paths are not logged).
        let method = req.method().clone();
        let route = routes::route_name(req.uri().path()).unwrap_or("other");
        let api_v1 = req.uri().path().starts_with(v1::PREFIX);
        let ready = self.ready().await;
        let site_url = match (&ready, api_v1) {
            (Some(r), true) => r.settings.site_url.clone(),
            _ => String::new(),
        };
        let (resp, reason) = match ready {
            None => (
                response::error(
                    503,
                    "configuration_unavailable",
                    "the function is not configured",
                ),
                "configuration_unavailable".into(),
            ),
            Some(ready) => {
                let today = self
                    .today
                    .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
                routes::route(&ready, req, today).await
            }
        };
        // Every error /api/v1 sends has the definition's Error shape.
        let resp = if api_v1 {
            v1::shape::conform(resp, &site_url)
        } else {
            resp
        };
        tracing::info!(
            method = %method,
            route = %route,
            status = resp.status().as_u16(),
            latency_us = start.elapsed().as_micros() as u64,
            reason = %reason,
            "request"
        );
        resp
    }
}
