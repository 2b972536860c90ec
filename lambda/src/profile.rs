//! The user's attributes as one verified token holds them: each name read
//! through the table, with the pedigree the issuer vouches for, `Level`, and
//! `Age` for formulas; then one requested attribute released or not.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::Date;

use crate::attribute_names::{AGE, AttributeNames, CLAIMS, LEVEL};
use crate::attributes::{Pedigree, Requested, Source};
use crate::formula::{self, Formula};
use crate::level::Level;

/// The claims OpenID Connect Core (section 5.1) gives a verification flag, and the flag.
pub const VERIFIED_FLAGS: &[(&str, &str)] = &[
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

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
