//! The contract between `colorid up` and the deployed function: the names of
//! the function's environment variables and what they hold. This crate owns
//! both ends: `up` renders a [`Deployment`] into the environment with
//! [`Deployment::to_env`]; the function reads it back with
//! [`Deployment::from_env`]; `colorid dev` hands the same [`Plain`] settings to
//! its in-process function with [`Plain::apply`] (defined beside
//! `Settings`, which is built on this contract and so stands above it).

use std::collections::BTreeMap;

use crate::config_error::ConfigError;
use crate::token::MAX_LEEWAY_SECONDS;

/// The environment variables' names.
pub mod env {
    /// The SSM parameter holding the app secret.
    pub const APP_SECRET_PARAM: &str = "COLORID_APP_SECRET_PARAM";
    /// The SSM parameter holding the attribute-signing key (PKCS#8 PEM).
    pub const SIGNING_KEY_PARAM: &str = "COLORID_SIGNING_KEY_PARAM";
    /// The SSM parameter holding the current origin-verify value.
    pub const ORIGIN_VERIFY_PARAM: &str = "COLORID_ORIGIN_VERIFY_PARAM";
    /// The SSM parameter holding the previous origin-verify value (during a rotation).
    pub const ORIGIN_VERIFY_PREVIOUS_PARAM: &str = "COLORID_ORIGIN_VERIFY_PREVIOUS_PARAM";
    /// The SSM parameter holding the OpenID client id.
    pub const CLIENT_ID_PARAM: &str = "COLORID_CLIENT_ID_PARAM";
    /// The SSM parameter holding the issuer URL.
    pub const ISSUER_PARAM: &str = "COLORID_ISSUER_PARAM";
    /// The site's URL.
    pub const SITE_URL: &str = "COLORID_SITE_URL";
    /// The assurance level tokens must reach.
    pub const REQUIRED_LEVEL: &str = "COLORID_REQUIRED_LEVEL";
    /// The claim carrying the assurance level.
    pub const LEVEL_CLAIM: &str = "COLORID_LEVEL_CLAIM";
    /// Level claim values mapped to AAL1..AAL3 (a JSON object).
    pub const LEVEL_MAP: &str = "COLORID_LEVEL_MAP";
    /// Claims the issuer verifies (comma-separated).
    pub const VERIFIED_CLAIMS: &str = "COLORID_VERIFIED_CLAIMS";
    /// Clock leeway in seconds.
    pub const LEEWAY_SECONDS: &str = "COLORID_LEEWAY_SECONDS";
    /// The API identifier access tokens must be for (absent: ID tokens only).
    pub const API_AUDIENCE: &str = "COLORID_API_AUDIENCE";
    /// `/api/v1` attribute names → claims (a JSON object).
    pub const ATTRIBUTE_CLAIMS: &str = crate::attribute_names::ENV;
    /// The sharing preference `GET /api/v1/customer_shared` answers.
    pub const CUSTOMER_SHARED: &str = "COLORID_CUSTOMER_SHARED";
    /// Origins besides the site's own that may call the API (comma-separated).
    pub const ALLOWED_ORIGINS: &str = "COLORID_ALLOWED_ORIGINS";
    /// How long signed attribute sets stay valid, in seconds.
    pub const SIGNED_LIFETIME_SECONDS: &str = "COLORID_SIGNED_LIFETIME_SECONDS";
    /// `1` when `up --local` deployed the stack for a plain-http loopback issuer;
    /// otherwise the function takes https issuers and `jwks_uri`s only.
    pub const LOOPBACK_ISSUER: &str = "COLORID_LOOPBACK_ISSUER";

    /// Every variable production mode reads, kept by the settings cache for each reload.
    pub const ALL: &[&str] = &[
        APP_SECRET_PARAM,
        SIGNING_KEY_PARAM,
        ORIGIN_VERIFY_PARAM,
        ORIGIN_VERIFY_PREVIOUS_PARAM,
        CLIENT_ID_PARAM,
        ISSUER_PARAM,
        SITE_URL,
        REQUIRED_LEVEL,
        LEVEL_CLAIM,
        LEVEL_MAP,
        VERIFIED_CLAIMS,
        LEEWAY_SECONDS,
        API_AUDIENCE,
        ATTRIBUTE_CLAIMS,
        CUSTOMER_SHARED,
        ALLOWED_ORIGINS,
        SIGNED_LIFETIME_SECONDS,
        LOOPBACK_ISSUER,
    ];
}

/// The sharing preference when the stack names none.
pub const DEFAULT_CUSTOMER_SHARED: &str = "NOT_ALWAYS";

/// The settings that are neither secrets nor where they live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plain {
    pub required_level: Option<String>,
    pub level_claim: String,
    pub level_map: BTreeMap<String, String>,
    pub verified_claims: Vec<String>,
    pub leeway_seconds: u64,
    pub api_audience: Option<String>,
    pub attribute_claims: BTreeMap<String, String>,
    pub customer_shared: String,
    pub allowed_origins: Vec<String>,
    pub signed_lifetime_seconds: u64,
    /// The stack's issuer is plain http on loopback (only a `--local` stack's can be).
    pub loopback_issuer: bool,
}

impl Default for Plain {
    fn default() -> Self {
        Self {
            required_level: None,
            level_claim: "acr".into(),
            level_map: BTreeMap::new(),
            verified_claims: Vec::new(),
            leeway_seconds: 30,
            api_audience: None,
            attribute_claims: BTreeMap::new(),
            customer_shared: DEFAULT_CUSTOMER_SHARED.into(),
            allowed_origins: Vec::new(),
            signed_lifetime_seconds: crate::signing::LIFETIME_SECONDS,
            loopback_issuer: false,
        }
    }
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

fn json_map(name: &'static str, v: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    serde_json::from_str(v).map_err(|e| ConfigError::InvalidEnv {
        name,
        reason: format!("expected a JSON object of strings: {e}"),
    })
}

impl Plain {
    /// Writes the settings into `out`. The level claim, verified claims and
    /// leeway are always written; the rest only when set, so a stack that
    /// does not use them keeps the environment it had.
    pub fn to_env(&self, out: &mut BTreeMap<String, String>) {
        out.insert(env::LEVEL_CLAIM.into(), self.level_claim.clone());
        out.insert(env::VERIFIED_CLAIMS.into(), self.verified_claims.join(","));
        out.insert(env::LEEWAY_SECONDS.into(), self.leeway_seconds.to_string());
        if let Some(level) = &self.required_level {
            out.insert(env::REQUIRED_LEVEL.into(), level.clone());
        }
        if let Some(api) = &self.api_audience {
            out.insert(env::API_AUDIENCE.into(), api.clone());
        }
        if !self.level_map.is_empty() {
            out.insert(
                env::LEVEL_MAP.into(),
                serde_json::to_string(&self.level_map).unwrap_or_default(),
            );
        }
        if self.customer_shared != DEFAULT_CUSTOMER_SHARED {
            out.insert(env::CUSTOMER_SHARED.into(), self.customer_shared.clone());
        }
        if !self.allowed_origins.is_empty() {
            out.insert(env::ALLOWED_ORIGINS.into(), self.allowed_origins.join(","));
        }
        if self.signed_lifetime_seconds != crate::signing::LIFETIME_SECONDS {
            out.insert(
                env::SIGNED_LIFETIME_SECONDS.into(),
                self.signed_lifetime_seconds.to_string(),
            );
        }
        if self.loopback_issuer {
            out.insert(env::LOOPBACK_ISSUER.into(), "1".into());
        }
        if !self.attribute_claims.is_empty() {
            out.insert(
                env::ATTRIBUTE_CLAIMS.into(),
                serde_json::to_string(&self.attribute_claims).unwrap_or_default(),
            );
        }
    }

    /// Reads the settings back; what is absent keeps its default.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        let mut p = Plain::default();
        if let Some(v) = set(env::REQUIRED_LEVEL) {
            p.required_level = Some(v);
        }
        if let Some(v) = set(env::LEVEL_CLAIM) {
            p.level_claim = v;
        }
        if let Some(v) = set(env::LEVEL_MAP) {
            p.level_map = json_map(env::LEVEL_MAP, &v)?;
        }
        if let Some(v) = env(env::VERIFIED_CLAIMS) {
            p.verified_claims = list(&v);
        }
        if let Some(v) = set(env::LEEWAY_SECONDS) {
            p.leeway_seconds = v.parse().ok().filter(|l| *l <= MAX_LEEWAY_SECONDS).ok_or(
                ConfigError::InvalidEnv {
                    name: env::LEEWAY_SECONDS,
                    reason: "a whole number of seconds, at most 60".into(),
                },
            )?;
        }
        if let Some(v) = set(env::API_AUDIENCE) {
            p.api_audience = Some(v);
        }
        if let Some(v) = set(env::ATTRIBUTE_CLAIMS) {
            p.attribute_claims = json_map(env::ATTRIBUTE_CLAIMS, &v)?;
        }
        if let Some(v) = set(env::CUSTOMER_SHARED) {
            p.customer_shared = v;
        }
        if let Some(v) = env(env::ALLOWED_ORIGINS) {
            p.allowed_origins = list(&v);
        }
        if let Some(v) = set(env::SIGNED_LIFETIME_SECONDS) {
            p.signed_lifetime_seconds = v
                .parse()
                .ok()
                .filter(|s| crate::signing::LIFETIME_RANGE.contains(s))
                .ok_or(ConfigError::InvalidEnv {
                    name: env::SIGNED_LIFETIME_SECONDS,
                    reason: "a whole number of seconds from 60 to 3600".into(),
                })?;
        }
        p.loopback_issuer = env(env::LOOPBACK_ISSUER).as_deref() == Some("1");
        Ok(p)
    }
}

/// Where a deployed function's secrets and identity settings live: SSM
/// parameter names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    pub app_secret: String,
    pub signing_key: String,
    pub origin_verify: String,
    pub origin_verify_previous: String,
    pub client_id: String,
    pub issuer: String,
}

/// A deployed function's whole environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub parameters: Parameters,
    pub site_url: String,
    pub plain: Plain,
}

impl Deployment {
    /// The function's environment variables.
    pub fn to_env(&self) -> BTreeMap<String, String> {
        let p = &self.parameters;
        let mut out = BTreeMap::from([
            (env::APP_SECRET_PARAM.to_string(), p.app_secret.clone()),
            (env::SIGNING_KEY_PARAM.into(), p.signing_key.clone()),
            (env::ORIGIN_VERIFY_PARAM.into(), p.origin_verify.clone()),
            (
                env::ORIGIN_VERIFY_PREVIOUS_PARAM.into(),
                p.origin_verify_previous.clone(),
            ),
            (env::CLIENT_ID_PARAM.into(), p.client_id.clone()),
            (env::ISSUER_PARAM.into(), p.issuer.clone()),
            (env::SITE_URL.into(), self.site_url.clone()),
        ]);
        self.plain.to_env(&mut out);
        out
    }

    /// Reads the environment `up` wrote.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |name: &'static str| env(name).ok_or(ConfigError::MissingEnv(name));
        Ok(Self {
            parameters: Parameters {
                app_secret: need(env::APP_SECRET_PARAM)?,
                signing_key: need(env::SIGNING_KEY_PARAM)?,
                origin_verify: need(env::ORIGIN_VERIFY_PARAM)?,
                origin_verify_previous: env(env::ORIGIN_VERIFY_PREVIOUS_PARAM).unwrap_or_default(),
                client_id: need(env::CLIENT_ID_PARAM)?,
                issuer: need(env::ISSUER_PARAM)?,
            },
            site_url: need(env::SITE_URL)?,
            plain: Plain::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_up_writes_the_function_reads_back() {
        let deployment = Deployment {
            parameters: Parameters {
                app_secret: "/colorid/s/app-secret".into(),
                signing_key: "/colorid/s/signing-key".into(),
                origin_verify: "/colorid/s/origin-verify".into(),
                origin_verify_previous: "/colorid/s/origin-verify-previous".into(),
                client_id: "/colorid/s/client-id".into(),
                issuer: "/colorid/s/issuer".into(),
            },
            site_url: "https://color.example.com".into(),
            plain: Plain {
                required_level: Some("AAL2".into()),
                api_audience: Some("https://api.example.com".into()),
                level_map: BTreeMap::from([("pwd".into(), "AAL1".into())]),
                verified_claims: vec!["email".into(), "birthdate".into()],
                attribute_claims: BTreeMap::from([("Email".into(), "email".into())]),
                customer_shared: "ALWAYS".into(),
                allowed_origins: vec!["https://app.example.com".into()],
                signed_lifetime_seconds: 120,
                ..Plain::default()
            },
        };
        let written = deployment.to_env();
        assert!(written.keys().all(|k| env::ALL.contains(&k.as_str())));
        let read = Deployment::from_env(&|name| written.get(name).cloned()).unwrap();
        assert_eq!(read, deployment);
    }

    #[test]
    fn defaults_are_left_out_and_read_back_as_defaults() {
        let mut out = BTreeMap::new();
        Plain::default().to_env(&mut out);
        assert_eq!(
            out.keys().map(String::as_str).collect::<Vec<_>>(),
            [env::LEEWAY_SECONDS, env::LEVEL_CLAIM, env::VERIFIED_CLAIMS]
        );
        assert_eq!(
            Plain::from_env(&|n| out.get(n).cloned()).unwrap(),
            Plain::default()
        );
    }
}
