//! Attribute release: claims under stable names, their pedigree, and formulas.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::Date;

use crate::attribute_names::AttributeNames;
use crate::formula::{self, Formula, Type};
use crate::level::Level;

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

/// The claims OpenID Connect Core (section 5.1) gives a verification flag, and the flag.
pub const VERIFIED_FLAGS: &[(&str, &str)] = &[
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

/// The pseudo-attribute holding the assurance level.
pub const LEVEL: &str = "Level";
/// The formula-only value: whole years since DateOfBirth.
pub const AGE: &str = "Age";

/// Where an attribute value comes from (`ATTRIBUTE` when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Source {
    /// A claim of the identity token.
    #[default]
    Attribute,
    /// A formula over other attributes.
    Formula,
}

/// How trustworthy a value is (`SELF_ASSERTED` when not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Pedigree {
    /// Asserted by the user, not checked by the issuer.
    #[default]
    SelfAsserted,
    /// Verified by the issuer.
    Authoritative,
}

/// What a client asks for about one attribute; every field has the Swagger
/// definition's default, so the whole definition may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Definition {
    /// Claim or formula.
    #[serde(default)]
    pub source: Source,
    /// The least pedigree acceptable.
    #[serde(default)]
    pub pedigree: Pedigree,
    /// Include it in the signed attributes.
    #[serde(default)]
    pub signed: bool,
    /// The formula, for `source: FORMULA`; the Swagger definition's spelling
    /// `forumla` is accepted too, since clients copy it.
    #[serde(default, alias = "forumla", skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
}

/// One requested attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Requested {
    /// The attribute's name (or a chosen name for a formula).
    pub name: String,
    /// How it is wanted.
    #[serde(default)]
    pub definition: Definition,
}

/// A request problem, reported in the 400 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationFailure {
    /// The property at fault, e.g. `attributes[1].definition.formula`.
    pub property: String,
    /// Why.
    pub failure_reason: String,
}

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

/// Whether a formula may be called `name`: 1 to 64 ASCII letters, digits, `_`
/// or `-`, and not the name of an attribute, a claim, `Level` or `Age` in any
/// case, so a formula result can never pass for a released attribute.
pub fn formula_name_problem(name: &str) -> Option<String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
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

/// Checks the requested attributes and parses their formulas: `/api/attributes`,
/// where an unknown attribute name is a failure.
pub fn validate(req: &[Requested]) -> Result<Vec<Option<Formula>>, Vec<ValidationFailure>> {
    validate_with(req, &AttributeNames::default(), true)
}

/// [`validate`] over a stack's name table; with `unknown_fails` false (the
/// `/api/v1` API) a name of the table without a claim is not a failure (it
/// simply has no value), but a name outside the table is, with the name itself
/// as the failure's `property`.
pub fn validate_with(
    req: &[Requested],
    names: &AttributeNames,
    unknown_fails: bool,
) -> Result<Vec<Option<Formula>>, Vec<ValidationFailure>> {
    let mut failures = Vec::new();
    if req.is_empty() {
        failures.push(ValidationFailure {
            property: "attributes".into(),
            failure_reason: "no attributes were requested".into(),
        });
    }
    let mut formulas = Vec::new();
    for (i, r) in req.iter().enumerate() {
        let mut fail = |prop: &str, reason: String| {
            failures.push(ValidationFailure {
                property: format!("attributes[{i}]{prop}"),
                failure_reason: reason,
            })
        };
        match (r.definition.source, &r.definition.formula) {
            (Source::Attribute, _) => {
                if unknown_fails && (names.formula_type(&r.name).is_none() || r.name == AGE) {
                    fail(".name", format!("unknown attribute '{}'", r.name));
                } else if !unknown_fails
                    && let Some(p) = crate::attribute_names::name_problem(&r.name)
                    && r.name != LEVEL
                {
                    fail(".name", p);
                } else if !unknown_fails && !names.is_known(&r.name) {
                    // The definition's "invalid Attributes": the property is the name itself.
                    failures.push(ValidationFailure {
                        property: r.name.clone(),
                        failure_reason: format!(
                            "unknown attribute name '{}' (attributes[{i}]): not in the stack's attribute table",
                            r.name
                        ),
                    });
                }
                formulas.push(None);
            }
            (Source::Formula, None) => {
                fail(
                    ".definition.formula",
                    "a FORMULA attribute needs a formula".into(),
                );
                formulas.push(None);
            }
            (Source::Formula, Some(src)) => {
                if let Some(problem) = formula_name_problem(&r.name).or_else(|| {
                    names
                        .all_names()
                        .any(|n| n.eq_ignore_ascii_case(&r.name))
                        .then(|| format!("'{}' is an attribute or claim name; choose another name for the formula", r.name))
                }) {
                    fail(".name", problem);
                }
                let types = |n: &str| names.formula_type(n);
                match formula::parse(src, &types) {
                    // A constant would be released with the pedigree of nothing read: AUTHORITATIVE.
                    Ok(f) if f.attributes().is_empty() => {
                        fail(
                            ".definition.formula",
                            "a formula must read at least one attribute".into(),
                        );
                        formulas.push(None);
                    }
                    Ok(f) => formulas.push(Some(f)),
                    Err(e) => {
                        fail(".definition.formula", e.to_string());
                        formulas.push(None);
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(formulas)
    } else {
        Err(failures)
    }
}

/// The user's attributes as found in one verified token.
pub struct Profile<'a> {
    claims: &'a Map<String, Value>,
    verified_claims: &'a [String],
    level: Option<Level>,
    names: Option<&'a AttributeNames>,
}

impl<'a> Profile<'a> {
    /// A profile over verified token claims.
    pub fn new(
        claims: &'a Map<String, Value>,
        verified_claims: &'a [String],
        level: Option<Level>,
    ) -> Self {
        Self {
            claims,
            verified_claims,
            level,
            names: None,
        }
    }

    /// Reads attributes through a stack's name table instead of [`CLAIMS`].
    pub fn with_names(mut self, names: &'a AttributeNames) -> Self {
        self.names = Some(names);
        self
    }

    /// AUTHORITATIVE only for what the issuer vouches for: `sub` and `amr`,
    /// its statements about this login, and the claims the stack lists in
    /// `verified_claims` — and, where OpenID Connect defines a flag for the
    /// claim, only when the token sets that flag to `true`. No other
    /// `<claim>_verified` is trusted: anyone's provider can mint one.
    fn pedigree_of(&self, claim: &str) -> Pedigree {
        let flag_ok = VERIFIED_FLAGS
            .iter()
            .find(|(c, _)| *c == claim)
            .is_none_or(|(_, flag)| self.claims.get(*flag) == Some(&Value::Bool(true)));
        if matches!(claim, "sub" | "amr")
            || (flag_ok && self.verified_claims.iter().any(|c| c == claim))
        {
            Pedigree::Authoritative
        } else {
            Pedigree::SelfAsserted
        }
    }

    /// An attribute's value and pedigree, if the token has it.
    pub fn get(&self, name: &str) -> Option<(Value, Pedigree)> {
        if name == LEVEL {
            return self
                .level
                .map(|l| (Value::String(l.as_str().into()), Pedigree::Authoritative));
        }
        let claim = match self.names {
            Some(names) => names.claim_of(name)?,
            None => CLAIMS.iter().find(|(n, _)| *n == name)?.1,
        };
        let value = self.claims.get(claim)?;
        let ok = match value {
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty() && a.iter().all(Value::is_string),
            Value::Number(_) | Value::Bool(_) => true,
            _ => false,
        };
        ok.then(|| (value.clone(), self.pedigree_of(claim)))
    }

    /// Whole years from DateOfBirth to `today`.
    fn age(&self, today: Date) -> Option<(i64, Pedigree)> {
        let (dob, pedigree) = self.get("DateOfBirth")?;
        let dob = parse_date(dob.as_str()?)?;
        if dob > today {
            return None;
        }
        let mut years = i64::from(today.year() - dob.year());
        if (today.month() as u8, today.day()) < (dob.month() as u8, dob.day()) {
            years -= 1;
        }
        Some((years, pedigree))
    }

    fn formula_input(&self, name: &str, today: Date) -> Option<(formula::Value, Pedigree)> {
        if name == AGE {
            return self.age(today).map(|(a, p)| (formula::Value::Int(a), p));
        }
        let (v, p) = self.get(name)?;
        let s = match v {
            Value::String(s) => s,
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        Some((formula::Value::Str(s), p))
    }

    /// Evaluates one requested attribute; `None` when it has no value at the wanted pedigree.
    pub fn release(
        &self,
        req: &Requested,
        formula: Option<&Formula>,
        today: Date,
    ) -> Option<Value> {
        let (value, pedigree) = match formula {
            None => self.get(&req.name)?,
            Some(f) => {
                // A formula is only as trustworthy as the least trustworthy input it read.
                let mut pedigree = Pedigree::Authoritative;
                let mut inputs = Vec::new();
                for name in f.attributes() {
                    let (v, p) = self.formula_input(name, today)?;
                    pedigree = pedigree.min(p);
                    inputs.push((name, v));
                }
                let lookup = |n: &str| inputs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone());
                let value = match f.eval(&lookup)? {
                    formula::Value::Bool(b) => Value::Bool(b),
                    formula::Value::Int(i) => Value::from(i),
                    formula::Value::Str(s) => Value::String(s),
                };
                (value, pedigree)
            }
        };
        if pedigree < req.definition.pedigree {
            return None;
        }
        let source = if formula.is_some() {
            Source::Formula
        } else {
            Source::Attribute
        };
        Some(json!({
            "name": req.name,
            "value": value,
            "metadata": [
                {"name": "pedigree", "value": pedigree},
                {"name": "source", "value": source},
            ],
            "definition": req.definition,
        }))
    }
}

/// The pedigree a released value carries in its metadata (see [`Profile::release`]).
pub fn pedigree_of(released: &Value) -> Option<Pedigree> {
    released["metadata"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == "pedigree")
        .and_then(|m| Pedigree::deserialize(&m["value"]).ok())
}

/// Parses an OIDC `birthdate` (`YYYY-MM-DD`; `0000` years are not usable for age).
pub fn parse_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).ok().filter(|d| d.year() > 0)
}

#[cfg(test)]
mod tests;
