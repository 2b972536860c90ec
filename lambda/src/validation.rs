//! The name and formula check of a request, one for both APIs: every name
//! read through the stack's table, and no formula named like an attribute or
//! claim, so a formula result can never pass for a released attribute.

use crate::attribute_names::{AGE, AttributeNames, LEVEL, formula_name_problem, name_problem};
use crate::attributes::{Requested, Source, ValidationFailure};
use crate::formula::{self, Formula};

/// Which attribute names a door takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// `/api/attributes`: only a name that reads a claim (or `Level`); any
    /// other is an `unknown attribute` at `attributes[i].name`.
    WithClaim,
    /// `/api/v1`: any name of the table, one without a claim simply having no
    /// value; a name outside the table fails with the name itself as the
    /// failure's `property`, as the definition's "invalid Attributes" does.
    InTable,
}

/// Checks the requested attributes and parses their formulas over the
/// default name table, by `/api/attributes`' rule.
pub fn validate(req: &[Requested]) -> Result<Vec<Option<Formula>>, Vec<ValidationFailure>> {
    validate_with(req, &AttributeNames::default(), NameRule::WithClaim)
}

/// Checks the requested attributes against a stack's name table and parses
/// their formulas: one formula per request, `None` for an attribute.
pub fn validate_with(
    req: &[Requested],
    names: &AttributeNames,
    rule: NameRule,
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
                match rule {
                    NameRule::WithClaim => {
                        if names.formula_type(&r.name).is_none() || r.name == AGE {
                            fail(".name", format!("unknown attribute '{}'", r.name));
                        }
                    }
                    NameRule::InTable => {
                        if let Some(p) = name_problem(&r.name)
                            && r.name != LEVEL
                        {
                            fail(".name", p);
                        } else if !names.is_known(&r.name) {
                            failures.push(ValidationFailure {
                            property: r.name.clone(),
                            failure_reason: format!(
                                "unknown attribute name '{}' (attributes[{i}]): not in the stack's attribute table",
                                r.name
                            ),
                        });
                        }
                    }
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
