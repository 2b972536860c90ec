//! The stack file as written: serde's view of `stack.toml`, with the spans
//! the validator needs to point at a line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::api::RawApi;
use super::secret_entry::RawSecret;
use super::stack::{Dns, OriginAccess};
use crate::publish::PublishSettings;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStack {
    pub(super) name: Spanned<String>,
    pub(super) region: Spanned<String>,
    pub(super) domain: Option<Spanned<String>>,
    pub(super) dns: Option<Spanned<Dns>>,
    pub(super) hosted_zone: Option<Spanned<String>>,
    pub(super) hosted_zone_id: Option<Spanned<String>>,
    pub(super) site_dir: Option<Spanned<String>>,
    pub(super) origin_access: Option<Spanned<OriginAccess>>,
    pub(super) price_class: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) certificate_names: Vec<Spanned<String>>,
    pub(super) bucket: Option<Spanned<String>>,
    pub(super) identity: Spanned<RawIdentity>,
    #[serde(default)]
    pub(super) secrets: RawSecrets,
    #[serde(default)]
    pub(super) function: RawFunction,
    #[serde(default)]
    pub(super) publish: Option<Spanned<PublishSettings>>,
    #[serde(default)]
    pub(super) api: RawApi,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentity {
    pub(super) issuer: Spanned<String>,
    pub(super) client_id: Spanned<String>,
    pub(super) required_level: Option<Spanned<String>>,
    pub(super) level_claim: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) level_map: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(super) verified_claims: Vec<Spanned<String>>,
    pub(super) scopes: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) api_audience: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) sign_in_on_load: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecrets {
    pub(super) app_secret: Option<Spanned<RawSecret>>,
    pub(super) signing_key: Option<Spanned<RawSecret>>,
    pub(super) origin_verify: Option<Spanned<RawSecret>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFunction {
    pub(super) memory_mb: Option<Spanned<i64>>,
    pub(super) timeout_seconds: Option<Spanned<i64>>,
    pub(super) reserved_concurrency: Option<Spanned<i64>>,
    pub(super) log_retention_days: Option<Spanned<i64>>,
    pub(super) source: Option<String>,
}
