//! Attribute names: the attribute-name → OpenID Connect claim table both
//! APIs read (the defaults, the names of the CIDM guide, overridden per stack
//! by `[api.attribute_claims]`), the pseudo-attributes `Level` and `Age`, and
//! the checks that keep a configured or formula name from taking another's.

use std::collections::BTreeMap;

use crate::formula::Type;

/// Attribute names and the claims they come from. `Level` is the assurance level.
pub const CLAIMS: &[(&str, &str)] = &[
    ("GivenName", "given_name"),
    ("FamilyName", "family_name"),
    ("MiddleName", "middle_name"),
    ("Name", "name"),
    ("Nickname", "nickname"),
    ("PreferredUsername", "preferred_username"),
    ("Email", "email"),
    ("PhoneNumber", "phone_number"),
    ("DateOfBirth", "birthdate"),
    ("Picture", "picture"),
    ("Locale", "locale"),
    ("UserId", "sub"),
    ("AuthenticationMethod", "amr"),
];

/// The pseudo-attribute holding the assurance level.
pub const LEVEL: &str = "Level";
/// The formula-only value: whole years since DateOfBirth.
pub const AGE: &str = "Age";

/// Claim names of the identity token beyond those in [`CLAIMS`]; a formula may
/// not take any of them as its name either.
const OTHER_CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "azp",
    "nonce",
    "acr",
    "auth_time",
    "email_verified",
    "phone_number_verified",
    "address",
    "gender",
    "zoneinfo",
    "updated_at",
    "website",
    "profile",
];

/// Whether `name` has the shape of an attribute or formula name: 1 to 64
/// ASCII letters, digits, `_` or `-`.
fn well_formed(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether a formula may be called `name`: 1 to 64 ASCII letters, digits, `_`
/// or `-`, and not the name of an attribute, a claim, `Level` or `Age` in any
/// case, so a formula result can never pass for a released attribute.
pub fn formula_name_problem(name: &str) -> Option<String> {
    if !well_formed(name) {
        return Some("a formula needs a name of 1 to 64 ASCII letters, digits, '_' or '-'".into());
    }
    let taken = [LEVEL, AGE]
        .iter()
        .chain(OTHER_CLAIMS)
        .chain(CLAIMS.iter().flat_map(|(a, c)| [a, c]))
        .any(|n| n.eq_ignore_ascii_case(name));
    taken.then(|| {
        format!("'{name}' is an attribute or claim name; choose another name for the formula")
    })
}

/// The type a formula sees for an attribute name.
pub fn formula_type(name: &str) -> Option<Type> {
    if name == AGE {
        Some(Type::Int)
    } else if name == LEVEL || CLAIMS.iter().any(|(n, _)| *n == name) {
        Some(Type::Str)
    } else {
        None
    }
}

/// The environment variable carrying the stack's overrides, a JSON object of
/// attribute name → claim name (`""`: the name has no claim).
pub const ENV: &str = "COLORID_ATTRIBUTE_CLAIMS";

/// Names the CIDM guide uses beyond [`CLAIMS`], with their claims.
const GUIDE_NAMES: &[(&str, &str)] = &[("FirstName", "given_name")];

/// Names the CIDM guide lists that no standard OpenID Connect claim carries:
/// known (a request for them is valid) but without a value until the stack's
/// `[api.attribute_claims]` maps them, so pages written for the guide run.
const GUIDE_UNMAPPED: &[&str] = &[
    "QID",
    "AustralianBusinessNumber",
    "SamlSubjectId",
    "VANguardCredentialType",
    "AUSkeyCommonName",
    "AUSkeyEmailAddress",
    "AUSkeyGivenNames",
    "AUSkeySBRPersonId",
    "AUSkeyStaleCRLMinutes",
    "AUSkeySurname",
];

/// Names that can never be configured: the pseudo-attributes and the claims
/// a signed-attributes JWT carries itself.
const RESERVED: &[&str] = &[
    LEVEL,
    AGE,
    "iss",
    "aud",
    "sub",
    "iat",
    "exp",
    "nbf",
    "jti",
    "nonce",
    "attributes",
    "formulas",
];

/// Why a configured name or claim is unusable.
pub fn name_problem(name: &str) -> Option<String> {
    if !well_formed(name) {
        return Some(format!(
            "{name:?}: an attribute name has 1 to 64 ASCII letters, digits, '_' or '-'"
        ));
    }
    RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
        .then(|| format!("{name:?} is reserved"))
}

/// Attribute names and the claims they read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    /// Name → claim; an empty claim means the name has no value.
    table: BTreeMap<String, String>,
}

impl Default for AttributeNames {
    fn default() -> Self {
        let table = CLAIMS
            .iter()
            .chain(GUIDE_NAMES)
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .chain(
                GUIDE_UNMAPPED
                    .iter()
                    .map(|n| (n.to_string(), String::new())),
            )
            .collect();
        Self { table }
    }
}

impl AttributeNames {
    /// The defaults with `overrides` applied (`""` removes a name's claim).
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut names = Self::default();
        for (name, claim) in overrides {
            if let Some(p) = name_problem(name) {
                return Err(p);
            }
            if claim.len() > 128 || claim.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(format!("{name}: {claim:?} is not a claim name"));
            }
            names.table.insert(name.clone(), claim.clone());
        }
        Ok(names)
    }

    /// The claim an attribute reads, if it has one.
    pub fn claim_of(&self, name: &str) -> Option<&str> {
        self.table
            .get(name)
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }

    /// Whether `name` is in the table, with a claim or without (or is `Level`):
    /// a request for any other name is invalid.
    pub fn is_known(&self, name: &str) -> bool {
        name == LEVEL || self.table.contains_key(name)
    }

    /// Whether `name` is an attribute with a claim (or `Level`).
    pub fn is_attribute(&self, name: &str) -> bool {
        name == LEVEL || self.claim_of(name).is_some()
    }

    /// The type a formula sees for `name`.
    pub fn formula_type(&self, name: &str) -> Option<Type> {
        if name == AGE {
            Some(Type::Int)
        } else if self.is_attribute(name) {
            Some(Type::Str)
        } else {
            None
        }
    }

    /// Every name and claim in the table, mapped or not.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.table
            .iter()
            .flat_map(|(n, c)| [n.as_str(), c.as_str()])
            .filter(|s| !s.is_empty())
    }

    /// The table, for documentation (`openapi.json`).
    pub fn table(&self) -> &BTreeMap<String, String> {
        &self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_unmapped_names() {
        let n = AttributeNames::default();
        assert_eq!(n.claim_of("FirstName"), Some("given_name"));
        assert_eq!(n.claim_of("GivenName"), Some("given_name"));
        assert_eq!(n.claim_of("DateOfBirth"), Some("birthdate"));
        assert_eq!(n.claim_of("QID"), None);
        assert!(n.is_known("QID") && n.is_known("Level") && !n.is_known("Qid"));
        let o = BTreeMap::from([
            ("QID".to_string(), "qid".to_string()),
            ("Nickname".to_string(), String::new()),
        ]);
        let n = AttributeNames::with_overrides(&o).unwrap();
        assert_eq!(n.claim_of("QID"), Some("qid"));
        assert_eq!(n.claim_of("Nickname"), None);
        assert!(!n.is_attribute("Nickname"));
        for bad in ["sub", "Age", "a b", ""] {
            let o = BTreeMap::from([(bad.to_string(), "x".to_string())]);
            assert!(AttributeNames::with_overrides(&o).is_err(), "{bad}");
        }
    }
}
