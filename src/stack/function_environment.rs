//! The identity function's environment: the names of the parameters it reads
//! (never a secret value) and its plain settings, written by `up` and applied
//! in-process by `colorid dev`; and Lambda's limit on it (4 KB: every
//! variable, as JSON), checked against the stack file before any AWS call: the
//! settings that end up there (`attribute_claims`, `level_map`,
//! `allowed_origins`, …) are a stack-file error when they do not fit.

use std::collections::BTreeMap;

use colorid_lambda::deployment::{Deployment, Parameters, Plain, env};

use crate::config::{ConfigError, Problem, Stack};
use crate::names::Names;
use crate::stack::Ctx;
use crate::stack::secret_value::SecretName;
use crate::stack::secrets;

/// The function's plain settings, from the stack: what `up` puts in its
/// environment and what `colorid dev` gives its in-process function.
pub fn plain_settings(stack: &Stack) -> Plain {
    let id = &stack.identity;
    Plain {
        required_level: id.required_level.clone(),
        level_claim: id.level_claim.clone(),
        level_map: id.level_map.clone(),
        verified_claims: id.verified_claims.clone(),
        leeway_seconds: 30,
        api_audience: id.api_audience.clone(),
        attribute_claims: stack.api.attribute_claims.clone(),
        customer_shared: stack.api.customer_shared.clone(),
        allowed_origins: stack.api.allowed_origins.clone(),
        signed_lifetime_seconds: stack.api.signed_attributes_lifetime_seconds,
        // The stack file refuses plain http unless `--local`: such a function may take it.
        loopback_issuer: id.issuer.starts_with("http://"),
    }
}

/// The environment: parameter names and plain settings only.
///
/// `site_url` is `None` only on the first `up` of a stack with no domain, before
/// its distribution (whose name is the site's) exists: the variable is then left
/// out, so the function refuses requests rather than answer for another site,
/// and `up` writes it as soon as the distribution is named.
pub fn environment(ctx: &Ctx, site_url: Option<&str>) -> BTreeMap<String, String> {
    environment_of(&ctx.stack, &ctx.names, site_url)
}

/// [`environment`] of a stack by its names, before any client exists.
pub fn environment_of(
    stack: &Stack,
    names: &Names,
    site_url: Option<&str>,
) -> BTreeMap<String, String> {
    let p = |leaf: &str| names.parameter(leaf);
    let mut env = Deployment {
        parameters: Parameters {
            app_secret: p(SecretName::AppSecret.leaf()),
            signing_key: p(SecretName::SigningKey.leaf()),
            origin_verify: p(SecretName::OriginVerify.leaf()),
            origin_verify_previous: p(secrets::ORIGIN_VERIFY_PREVIOUS),
            client_id: p(secrets::CLIENT_ID),
            issuer: p(secrets::ISSUER),
        },
        site_url: site_url.unwrap_or_default().to_string(),
        plain: plain_settings(stack),
    }
    .to_env();
    if site_url.is_none() {
        env.remove(colorid_lambda::deployment::env::SITE_URL);
    }
    env
}

/// Lambda's limit: "4 KB, for all environment variables associated with the function,
/// in aggregate", measured on the variables as JSON (its error shows the string measured).
pub const LIMIT: usize = 4096;

/// The site's URL before a stack with no domain has a distribution: the distribution's
/// own name at its longest.
const PENDING_SITE_URL: &str = "https://d00000000000000.cloudfront.net";

/// The stack file's field behind each variable it fills.
const FIELDS: &[(&str, &str)] = &[
    (env::ATTRIBUTE_CLAIMS, "api.attribute_claims"),
    (env::LEVEL_MAP, "identity.level_map"),
    (env::ALLOWED_ORIGINS, "api.allowed_origins"),
    (env::VERIFIED_CLAIMS, "identity.verified_claims"),
    (env::LEVEL_CLAIM, "identity.level_claim"),
    (env::REQUIRED_LEVEL, "identity.required_level"),
    (env::CUSTOMER_SHARED, "api.customer_shared"),
    (env::SITE_URL, "domain"),
];

/// The environment's size as Lambda measures it.
pub fn measured(vars: &BTreeMap<String, String>) -> usize {
    serde_json::to_string(vars).map_or(0, |s| s.len())
}

/// Refuses a stack whose settings would make the function's environment larger than
/// Lambda allows, naming the field that takes the most of it.
pub fn check(stack: &Stack, names: &Names) -> Result<(), ConfigError> {
    let site_url = stack
        .site_url(None)
        .unwrap_or_else(|| PENDING_SITE_URL.to_string());
    let vars = environment_of(stack, names, Some(&site_url));
    let size = measured(&vars);
    if size <= LIMIT {
        return Ok(());
    }
    let (field, takes) = FIELDS
        .iter()
        .filter_map(|(var, field)| {
            let value = vars.get(*var)?;
            Some((
                *field,
                var.len() + serde_json::to_string(value).map_or(0, |s| s.len()) + 4,
            ))
        })
        .max_by_key(|(_, n)| *n)
        .unwrap_or(("api.attribute_claims", 0));
    Err(ConfigError {
        file: stack.file.clone(),
        problems: vec![Problem {
            line: 0,
            column: 0,
            field: field.to_string(),
            message: format!(
                "the identity function's environment would be {size} bytes, and Lambda allows {LIMIT} (all its variables, as JSON); `{field}` takes {takes} of them."
            ),
            hint: format!(
                "shorten `{field}` (fewer or shorter entries) by at least {} bytes, then run again",
                size - LIMIT
            ),
            source_line: String::new(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use colorid_lambda::deployment::{Deployment, Parameters, Plain, env};

    #[test]
    fn secrets_are_named_never_valued() {
        // The environment holds where each secret lives (an SSM parameter
        // name), never a value: the contract has no field for one.
        let path = |leaf: &str| format!("/colorid/demo/{leaf}");
        let written = Deployment {
            parameters: Parameters {
                app_secret: path("app-secret"),
                signing_key: path("signing-key"),
                origin_verify: path("origin-verify"),
                origin_verify_previous: path("origin-verify-previous"),
                client_id: path("client-id"),
                issuer: path("issuer"),
            },
            site_url: "https://color.example.com".into(),
            plain: Plain::default(),
        }
        .to_env();
        for name in [
            env::APP_SECRET_PARAM,
            env::SIGNING_KEY_PARAM,
            env::ORIGIN_VERIFY_PARAM,
            env::ORIGIN_VERIFY_PREVIOUS_PARAM,
        ] {
            assert!(written[name].starts_with("/colorid/demo/"), "{name}");
            assert!(env::ALL.contains(&name), "the function reads {name}");
        }
    }

    #[test]
    fn api_audience_reaches_the_functions_environment_and_the_site() {
        let text = "name = \"demo\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\n\
                    hosted_zone = \"example.com\"\n[identity]\nissuer = \"https://id.example.com/\"\n\
                    client_id = \"c\"\napi_audience = \"https://api.example.com\"\n";
        let stack = crate::config::parse(std::path::Path::new("/tmp/stack.toml"), text).unwrap();
        let plain = super::plain_settings(&stack);
        let mut out = std::collections::BTreeMap::new();
        plain.to_env(&mut out);
        assert_eq!(out[env::API_AUDIENCE], "https://api.example.com");
        // What `up` writes, the function reads back; `colorid dev` applies the same Plain.
        assert_eq!(Plain::from_env(&|n| out.get(n).cloned()).unwrap(), plain);
        let site = crate::site::SiteConfig::of(&stack);
        let json: serde_json::Value = serde_json::from_slice(&site.to_json()).unwrap();
        assert_eq!(json["apiAudience"], "https://api.example.com");
        // Unset: neither in the environment nor in /config.json.
        let bare = text.replace("api_audience = \"https://api.example.com\"\n", "");
        let stack = crate::config::parse(std::path::Path::new("/tmp/stack.toml"), &bare).unwrap();
        let mut out = std::collections::BTreeMap::new();
        super::plain_settings(&stack).to_env(&mut out);
        assert!(!out.contains_key(env::API_AUDIENCE));
        let json: serde_json::Value =
            serde_json::from_slice(&crate::site::SiteConfig::of(&stack).to_json()).unwrap();
        assert!(json.get("apiAudience").is_none());
    }
}
