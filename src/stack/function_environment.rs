//! Lambda's limit on the identity function's environment (4 KB: every variable,
//! as JSON), checked against the stack file before any AWS call: the settings
//! that end up there (`attribute_claims`, `level_map`, `allowed_origins`, …)
//! are a stack-file error when they do not fit.

use colorid_lambda::deployment::env;

use crate::config::{ConfigError, Problem, Stack};
use crate::names::Names;
use crate::stack::function::environment_of;

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
pub fn measured(vars: &std::collections::BTreeMap<String, String>) -> usize {
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
