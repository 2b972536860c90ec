//! `[api]`: the Customer Attributes API's stack settings — the sharing
//! preference `customer_shared` answers, the origins browsers may call the
//! API from, and overrides of the attribute-name → claim table.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::validator::{Validator, is_claim_name};
use colorid_lambda::attribute_names;
use colorid_lambda::settings::SHARING_PREFERENCES;

/// The validated `[api]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// `ALWAYS` or `NOT_ALWAYS` (default), answered by `GET /api/v1/customer_shared`.
    pub customer_shared: String,
    /// Origins besides the site's that may call the API from a browser; `*` for any (no credentials).
    pub allowed_origins: Vec<String>,
    /// Attribute name → claim overrides (`""`: the name has no value).
    pub attribute_claims: BTreeMap<String, String>,
    /// How long a signed attribute set stays valid, in seconds (60 to 3600; default 600).
    pub signed_attributes_lifetime_seconds: u64,
}

impl Default for Api {
    fn default() -> Self {
        Self {
            customer_shared: colorid_lambda::deployment::DEFAULT_CUSTOMER_SHARED.into(),
            allowed_origins: Vec::new(),
            attribute_claims: BTreeMap::new(),
            signed_attributes_lifetime_seconds: colorid_lambda::signing::LIFETIME_SECONDS,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    customer_shared: Option<Spanned<String>>,
    #[serde(default)]
    allowed_origins: Vec<Spanned<String>>,
    #[serde(default)]
    attribute_claims: BTreeMap<String, Spanned<String>>,
    signed_attributes_lifetime_seconds: Option<Spanned<i64>>,
}

/// Whether `s` is `scheme://host[:port]` with nothing after.
fn is_origin(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    matches!(scheme, "https" | "http")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', '@'])
}

impl Validator<'_> {
    pub(super) fn validate_api(&mut self, raw: &RawApi) -> Api {
        let mut api = Api::default();
        if let Some(s) = &raw.customer_shared {
            if !SHARING_PREFERENCES.contains(&s.get_ref().as_str()) {
                self.push(
                    &s.span(),
                    "api.customer_shared",
                    format!("{:?} is not a sharing preference", s.get_ref()),
                    "use \"ALWAYS\" or \"NOT_ALWAYS\"",
                );
            }
            api.customer_shared = s.get_ref().clone();
        }
        for (i, o) in raw.allowed_origins.iter().enumerate() {
            let v = o.get_ref();
            if v != "*" && !is_origin(v) {
                self.push(
                    &o.span(),
                    &format!("api.allowed_origins[{i}]"),
                    format!("{v:?} is not an origin"),
                    "write scheme://host[:port] with no path, e.g. \"https://app.example.com\", or \"*\" for any origin (then without credentials)",
                );
            }
            api.allowed_origins.push(v.clone());
        }
        for (name, claim) in &raw.attribute_claims {
            let c = claim.get_ref();
            let problem = attribute_names::name_problem(name).or_else(|| {
                (!c.is_empty() && !is_claim_name(c)).then(|| format!("{c:?} is not a claim name"))
            });
            if let Some(p) = problem {
                self.push(
                    &claim.span(),
                    &format!("api.attribute_claims.{name}"),
                    p,
                    "map an attribute name (letters, digits, '_' or '-') to a token claim such as \"given_name\", or to \"\" for no value",
                );
            }
            api.attribute_claims.insert(name.clone(), c.clone());
        }
        if let Some(l) = &raw.signed_attributes_lifetime_seconds {
            let range = colorid_lambda::signing::LIFETIME_RANGE;
            match u64::try_from(*l.get_ref())
                .ok()
                .filter(|s| range.contains(s))
            {
                Some(s) => api.signed_attributes_lifetime_seconds = s,
                None => self.push(
                    &l.span(),
                    "api.signed_attributes_lifetime_seconds",
                    format!("{} is out of range", l.get_ref()),
                    "give a whole number of seconds from 60 to 3600 (default 600)",
                ),
            }
        }
        api
    }
}
