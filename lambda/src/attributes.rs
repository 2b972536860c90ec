//! What a request asks about an attribute and what a released value says of
//! itself: source, pedigree, the definition, and the failures a request meets.

use serde::{Deserialize, Serialize};

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
