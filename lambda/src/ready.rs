//! The configured function's serving state: its settings with the verifier
//! and signer built from them, shared by every route.

use std::sync::Arc;

use crate::identity::Deriver;
use crate::jwks::JwksCache;
use crate::level::Level;
use crate::settings::{ConfigError, Settings};
use crate::signing::Signer;
use crate::token::Verifier;

/// What every request is served with, built once per loaded configuration.
pub(crate) struct Ready {
    pub(crate) settings: Settings,
    pub(crate) verifier: Verifier,
    pub(crate) signer: Signer,
    pub(crate) required_level: Option<Level>,
    /// The app secret, keyed once for every request's identity and colour.
    pub(crate) deriver: Deriver,
}

impl Ready {
    /// Builds the serving state; the issuer's key cache is taken over from
    /// `previous` when the issuer has not changed, so a reload refetches nothing.
    pub(crate) fn build(
        settings: Settings,
        previous: Option<&Ready>,
    ) -> Result<Ready, ConfigError> {
        settings.validate()?;
        let invalid = |name, e: &dyn std::fmt::Display| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        };
        let jwks = match previous {
            Some(p)
                if p.settings.issuer == settings.issuer
                    && p.settings.https_only == settings.https_only
                    && p.settings.jwks_refetch_penalty == settings.jwks_refetch_penalty =>
            {
                p.verifier.shared_jwks()
            }
            _ => Arc::new(
                if settings.https_only {
                    JwksCache::https_only(&settings.issuer, settings.jwks_refetch_penalty)
                } else {
                    JwksCache::new(&settings.issuer, settings.jwks_refetch_penalty)
                }
                .map_err(|e| invalid("issuer", &e))?,
            ),
        };
        let verifier = Verifier::with_shared_jwks(
            &settings.issuer,
            &settings.client_id,
            settings.leeway,
            settings.algorithms.clone(),
            jwks,
        )
        .with_api_audience(settings.api_audience.clone())
        .with_level_claim(&settings.level_claim);
        let signer = Signer::from_pem(&settings.signing_key_pem, &settings.site_url)
            .map_err(|e| invalid("signing_key", &e))?
            .with_lifetime(settings.signed_lifetime_seconds);
        let required_level = settings.required_level.as_deref().and_then(Level::parse);
        let deriver = Deriver::new(&settings.app_secret);
        Ok(Ready {
            settings,
            verifier,
            signer,
            required_level,
            deriver,
        })
    }
}
