//! The function's configuration: from SSM Parameter Store in production, from
//! environment variables in local development, or filled in from code.

use std::collections::HashMap;
use std::time::Duration;

use crate::attribute_names::AttributeNames;
pub use crate::config_error::ConfigError;
use crate::deployment::{Deployment, Plain, env};
use crate::level::Level;
use crate::token::MAX_LEEWAY_SECONDS;

/// The environment variables production mode reads (parameter names and
/// plain settings), kept by the settings cache for each reload.
pub const PRODUCTION_ENV: &[&str] = env::ALL;

/// The values `customer_shared` may take.
pub const SHARING_PREFERENCES: [&str; 2] = ["ALWAYS", "NOT_ALWAYS"];

/// Everything the function needs to answer requests.
#[derive(Clone)]
pub struct Settings {
    /// The OIDC issuer URL; tokens' `iss` must equal it.
    pub issuer: String,
    /// The OIDC client id; ID tokens' `aud` must contain it.
    pub client_id: String,
    /// The API's identifier: when set, JWT access tokens whose `aud` holds it
    /// and that were issued to `client_id` are accepted beside ID tokens.
    pub api_audience: Option<String>,
    /// The HMAC key for identities and colours (its UTF-8 bytes as stored).
    pub app_secret: String,
    /// The PKCS#8 PEM P-256 key that signs released attributes.
    pub signing_key_pem: String,
    /// Accepted `X-Origin-Verify` values (current, then previous).
    pub origin_verify: Vec<String>,
    /// Serve requests without `X-Origin-Verify` (local development only).
    pub skip_origin_verify: bool,
    /// The site's URL, the `iss` of signed attributes.
    pub site_url: String,
    /// The assurance level tokens must reach, e.g. `AAL2`.
    pub required_level: Option<String>,
    /// The claim carrying the assurance level.
    pub level_claim: String,
    /// Claim values mapped to `AAL1`/`AAL2`/`AAL3`.
    pub level_map: HashMap<String, String>,
    /// Claims the issuer verifies, released as AUTHORITATIVE.
    pub verified_claims: Vec<String>,
    /// Clock leeway for `exp`, `nbf` and `iat`, in seconds (at most 60).
    pub leeway: u64,
    /// Identity token algorithms accepted.
    pub algorithms: Vec<String>,
    /// Least time between JWKS refetches caused by unknown key ids.
    pub jwks_refetch_penalty: Duration,
    /// Attribute names of `/api/v1` and the claims they read.
    pub attribute_names: AttributeNames,
    /// The stack's sharing preference, `ALWAYS` or `NOT_ALWAYS`.
    pub customer_shared: String,
    /// Origins besides `site_url`'s that browsers may call the API from.
    pub allowed_origins: Vec<String>,
    /// How long a signed attribute set (`signed_attributes`) stays valid, in seconds.
    pub signed_lifetime_seconds: u64,
    /// Refuse a plain-http issuer or `jwks_uri`, even on loopback: set for every
    /// deployed function but one `up --local` made for a loopback issuer; the
    /// dev server and tests, which build settings in code, leave it off.
    pub https_only: bool,
}

impl std::fmt::Debug for Settings {
    // Secrets stay out of logs even when someone prints the settings.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("api_audience", &self.api_audience)
            .field("site_url", &self.site_url)
            .field("required_level", &self.required_level)
            .field("level_claim", &self.level_claim)
            .field("verified_claims", &self.verified_claims)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Settings with the defaults for everything optional; the origin check is on
    /// with the given values.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        app_secret: impl Into<String>,
        signing_key_pem: impl Into<String>,
        site_url: impl Into<String>,
        origin_verify: Vec<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            api_audience: None,
            app_secret: app_secret.into(),
            signing_key_pem: signing_key_pem.into(),
            origin_verify,
            skip_origin_verify: false,
            site_url: site_url.into(),
            required_level: None,
            level_claim: "acr".into(),
            level_map: HashMap::new(),
            verified_claims: Vec::new(),
            leeway: 30,
            algorithms: crate::token::default_algorithms(),
            jwks_refetch_penalty: crate::jwks::DEFAULT_PENALTY,
            attribute_names: AttributeNames::default(),
            customer_shared: crate::deployment::DEFAULT_CUSTOMER_SHARED.into(),
            allowed_origins: Vec::new(),
            signed_lifetime_seconds: crate::signing::LIFETIME_SECONDS,
            https_only: false,
        }
    }

    /// Checks values that would otherwise fail later, per request.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |name, reason: &str| {
            Err(ConfigError::Invalid {
                name,
                reason: reason.into(),
            })
        };
        if self.leeway > MAX_LEEWAY_SECONDS {
            return invalid("leeway", "at most 60 seconds");
        }
        if self.app_secret.is_empty() {
            return invalid("app_secret", "empty");
        }
        if self.client_id.is_empty() {
            return invalid("client_id", "empty");
        }
        if self.https_only && !self.issuer.starts_with("https://") {
            return invalid(
                "issuer",
                "a deployed function takes an https issuer only (plain http is for `colorid dev` and `--local` stacks)",
            );
        }
        if !self.skip_origin_verify && self.origin_verify.iter().all(|v| v.is_empty()) {
            return invalid(
                "origin_verify",
                "no value and the check is not switched off",
            );
        }
        if let Some(level) = &self.required_level
            && Level::parse(level).is_none()
        {
            return invalid("required_level", "must be AAL1, AAL2 or AAL3");
        }
        if self.level_map.values().any(|v| Level::parse(v).is_none()) {
            return invalid("level_map", "values must be AAL1, AAL2 or AAL3");
        }
        if !crate::signing::LIFETIME_RANGE.contains(&self.signed_lifetime_seconds) {
            return invalid("signed_lifetime_seconds", "from 60 to 3600 seconds");
        }
        if !SHARING_PREFERENCES.contains(&self.customer_shared.as_str()) {
            return invalid("customer_shared", "must be ALWAYS or NOT_ALWAYS");
        }
        Ok(())
    }

    /// Local development and test mode, used when `COLORID_DEV_CONFIG=1`: every
    /// value, secrets included, comes from environment variables
    /// (`COLORID_ISSUER`, `COLORID_CLIENT_ID`, `COLORID_APP_SECRET`,
    /// `COLORID_SIGNING_KEY_PEM`, `COLORID_SITE_URL`, optional
    /// `COLORID_ORIGIN_VERIFY`; `COLORID_SKIP_ORIGIN_VERIFY=1` switches the
    /// origin check off). Never use this mode for a deployed function.
    pub fn from_dev_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |name: &'static str| env(name).ok_or(ConfigError::MissingEnv(name));
        let mut s = Settings::new(
            need("COLORID_ISSUER")?,
            need("COLORID_CLIENT_ID")?,
            need("COLORID_APP_SECRET")?,
            need("COLORID_SIGNING_KEY_PEM")?,
            need("COLORID_SITE_URL")?,
            env("COLORID_ORIGIN_VERIFY").into_iter().collect(),
        );
        s.skip_origin_verify = env("COLORID_SKIP_ORIGIN_VERIFY").is_some_and(|v| v == "1");
        Plain::from_env(env)?.apply(&mut s)?;
        s.validate()?;
        Ok(s)
    }

    /// Production mode: the environment names SSM parameters, read in one
    /// `GetParameters` call with decryption.
    pub async fn from_env_and_ssm(
        env: &(dyn Fn(&str) -> Option<String> + Sync),
        ssm: &crate::ssm::SsmClient,
    ) -> Result<Self, ConfigError> {
        let Deployment {
            parameters: p,
            site_url,
            plain,
        } = Deployment::from_env(env)?;
        let (secret, signing, origin, client, issuer) = (
            p.app_secret,
            p.signing_key,
            p.origin_verify,
            p.client_id,
            p.issuer,
        );
        let previous = Some(p.origin_verify_previous).filter(|p| !p.is_empty());

        let mut names = vec![
            secret.clone(),
            signing.clone(),
            origin.clone(),
            client.clone(),
            issuer.clone(),
        ];
        names.extend(previous.clone());
        let values = ssm
            .get_parameters(&names)
            .await
            .map_err(|e| ConfigError::Ssm(e.to_string()))?
            .values;
        let get = |name: &String| {
            values
                .get(name)
                .cloned()
                .ok_or_else(|| ConfigError::MissingParameter(name.clone()))
        };
        let mut origin_verify = vec![get(&origin)?];
        // The previous value exists only during a rotation.
        if let Some(prev) = previous.as_ref().and_then(|p| values.get(p)) {
            origin_verify.push(prev.clone());
        }
        let mut s = Settings::new(
            get(&issuer)?,
            get(&client)?,
            get(&secret)?,
            get(&signing)?,
            site_url,
            origin_verify,
        );
        plain.apply(&mut s)?;
        s.https_only = !plain.loopback_issuer;
        s.validate()?;
        Ok(s)
    }
}

/// `up`'s plain settings onto [`Settings`]: the function's own start-up and
/// `colorid dev`, which hands its in-process function the same [`Plain`].
impl Plain {
    /// Puts the settings into `settings`.
    pub fn apply(&self, settings: &mut Settings) -> Result<(), ConfigError> {
        settings.required_level = self.required_level.clone();
        settings.level_claim = self.level_claim.clone();
        settings.level_map = self.level_map.clone().into_iter().collect();
        settings.verified_claims = self.verified_claims.clone();
        settings.leeway = self.leeway_seconds;
        settings.api_audience = self.api_audience.clone();
        settings.attribute_names =
            AttributeNames::with_overrides(&self.attribute_claims).map_err(|reason| {
                ConfigError::InvalidEnv {
                    name: env::ATTRIBUTE_CLAIMS,
                    reason,
                }
            })?;
        settings.customer_shared = self.customer_shared.clone();
        settings.allowed_origins = self.allowed_origins.clone();
        settings.signed_lifetime_seconds = self.signed_lifetime_seconds;
        Ok(())
    }
}
