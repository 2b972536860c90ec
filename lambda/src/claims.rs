//! The claims set of an identity token: read for the checks without building
//! a map of it, and kept, once verified, as the few values every request uses
//! and the payload text the routes that release attributes parse in full.
//!
//! [`Members::parse`] accepts exactly the texts that parse into a
//! `Map<String, Value>` with no member named twice: every value is read
//! through the same parser calls a `Value` is (the same grammar, string
//! escapes, number range and nesting limit); only the members the checks look
//! at are kept, the others are read and dropped.

use std::borrow::Cow;
use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::token_refusal::Reason;

/// One member's value, in the forms the checks tell apart.
#[derive(Debug, Clone, PartialEq)]
pub enum Member<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// An array of strings only (or an empty one).
    Strs(Vec<Cow<'a, str>>),
    /// A number.
    Num(Number),
    /// Anything else: null, a boolean, an object, an array holding a non-string.
    Other,
}

impl Member<'_> {
    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Member::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A string or an array of strings.
    pub fn is_string_or_strings(&self) -> bool {
        matches!(self, Member::Str(_) | Member::Strs(_))
    }
}

/// The members the checks read: the ID token's, then the access token's
/// client bindings and marks.
const KEPT: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "azp",
    "client_id",
    "cid",
    "appid",
    "token_use",
    "typ",
    "scope",
    "scp",
];

/// Where the level claim's value is held when it is none of [`KEPT`].
const LEVEL: usize = KEPT.len();

/// Where a kept member's value is held in [`Members`].
fn place(name: &str) -> Option<usize> {
    // A match, not a search of KEPT: it compiles to a switch on the length.
    Some(match name {
        "iss" => 0,
        "sub" => 1,
        "aud" => 2,
        "exp" => 3,
        "nbf" => 4,
        "iat" => 5,
        "azp" => 6,
        "client_id" => 7,
        "cid" => 8,
        "appid" => 9,
        "token_use" => 10,
        "typ" => 11,
        "scope" => 12,
        "scp" => 13,
        _ => return None,
    })
}

/// The members of a claims set that verification and the request read.
#[derive(Debug)]
pub struct Members<'a> {
    values: Values<'a>,
    /// Where the level claim's value is held, when there is a level claim.
    level: Option<usize>,
}

impl<'a> Members<'a> {
    /// Reads a claims set (the payload's JSON text), keeping the members the
    /// checks read and `level_claim`'s.
    pub fn parse(payload: &'a [u8], level_claim: Option<&str>) -> Result<Self, Reason> {
        let mut de = serde_json::Deserializer::from_slice(payload);
        let level = level_claim.map(|c| place(c).unwrap_or(LEVEL));
        let members = Object { level_claim }
            .deserialize(&mut de)
            .and_then(|values| de.end().map(|()| Members { values, level }))
            .map_err(|_| Reason::MalformedPayload)?;
        Ok(members)
    }

    /// The member named `name`, when it is one of those the checks read and the token has it.
    pub fn get(&self, name: &str) -> Option<&Member<'a>> {
        self.at(place(name)?)
    }

    fn at(&self, place: usize) -> Option<&Member<'a>> {
        self.values.0[place].as_ref()
    }

    /// The level claim's value as the level map reads it: a string, or a
    /// number as written; `None` for any other form.
    pub fn level_text(&self) -> Option<String> {
        match self.at(self.level?)? {
            Member::Str(s) => Some(s.to_string()),
            Member::Num(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// The verified claims of an identity token.
#[derive(Debug, Clone)]
pub struct Claims {
    iss: Arc<str>,
    sub: Box<str>,
    level: Option<String>,
    payload: Box<[u8]>,
}

impl Claims {
    /// Verified claims: `iss` and `sub` as checked, the level claim's text,
    /// and the payload's JSON text they were read from.
    pub fn new(iss: Arc<str>, sub: &str, level: Option<String>, payload: &[u8]) -> Self {
        Self {
            iss,
            sub: sub.into(),
            level,
            payload: payload.into(),
        }
    }

    /// The issuer.
    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// The subject.
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// The assurance level claim's value (see [`Members::level_text`]).
    pub fn level(&self) -> Option<&str> {
        self.level.as_deref()
    }

    /// Every claim, as sent: parsed from the payload on each call, for the
    /// routes that release attributes.
    pub fn all(&self) -> Map<String, Value> {
        // Verification read this same text as an object with unique members,
        // so it is one: the empty map is never taken.
        match serde_json::from_slice(&self.payload) {
            Ok(Value::Object(all)) => all,
            _ => Map::new(),
        }
    }
}

/// The top-level object: each member name once, the kept ones read.
struct Object<'c> {
    level_claim: Option<&'c str>,
}

impl<'de> DeserializeSeed<'de> for Object<'_> {
    type Value = Values<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Values<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

/// Each of [`KEPT`] in its place, then the level claim when it is none of them.
#[derive(Debug, Default)]
struct Values<'a>(ManuallyDrop<[Option<Member<'a>>; LEVEL + 1]>);

impl Drop for Values<'_> {
    fn drop(&mut self) {
        // Place by place through one call: the compiler's own drop of the
        // array inlines the drop of a value fifteen times, 1.9 KB of the
        // function's code (whose zip has a byte budget).
        for value in self.0.iter_mut() {
            discard(value);
        }
    }
}

#[inline(never)]
fn discard(value: &mut Option<Member>) {
    *value = None;
}

impl<'de> Visitor<'de> for Object<'_> {
    type Value = Values<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values<'de>, A::Error> {
        let mut values: Values<'de> = Default::default();
        // The names of the members not kept, to find one named twice. A
        // linear search: a claims set has a few dozen members at most, and
        // only a token the issuer signed gets this far.
        let mut others: Vec<Cow<'de, str>> = Vec::new();
        let twice = || de::Error::custom("a claim named twice");
        while let Some(name) = map.next_key_seed(Read::KEEP)? {
            // A JSON member name is a string.
            let Member::Str(name) = name else {
                return Err(twice());
            };
            let at = match place(&name) {
                Some(at) => at,
                None if self.level_claim == Some(&*name) => LEVEL,
                None => {
                    if others.contains(&name) {
                        return Err(twice());
                    }
                    map.next_value_seed(Read::SKIP)?;
                    others.push(name);
                    continue;
                }
            };
            if values.0[at]
                .replace(map.next_value_seed(Read::KEEP)?)
                .is_some()
            {
                return Err(twice());
            }
        }
        Ok(values)
    }
}

/// Reads any JSON value through the parser calls a `Value` is read with;
/// keeps it as a [`Member`], or, skipping, reads it only to drop it (always
/// [`Member::Other`], nothing copied). One reader for both keeps the
/// function's code small: each reader is another copy of serde_json's parser.
#[derive(Clone, Copy)]
struct Read {
    keep: bool,
}

impl Read {
    const KEEP: Read = Read { keep: true };
    const SKIP: Read = Read { keep: false };
}

impl<'de> DeserializeSeed<'de> for Read {
    type Value = Member<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Read {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Member<'de>, E> {
        Ok(self.text(|| Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Member<'de>, E> {
        Ok(self.text(|| Cow::Owned(s.to_owned())))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Member<'de>, E> {
        Ok(Member::Num(n.into()))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Member<'de>, E> {
        Ok(Member::Num(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Member<'de>, E> {
        // JSON has no NaN or infinity, so this is always a number.
        Ok(Number::from_f64(n).map_or(Member::Other, Member::Num))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Member<'de>, A::Error> {
        // Strings kept while every element so far is one.
        let mut strings = self.keep.then(Vec::new);
        while let Some(element) = seq.next_element_seed(Read {
            keep: strings.is_some(),
        })? {
            match (element, &mut strings) {
                (Member::Str(s), Some(strings)) => strings.push(s),
                _ => strings = None,
            }
        }
        Ok(strings.map_or(Member::Other, Member::Strs))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Member<'de>, A::Error> {
        while map.next_entry_seed(Read::SKIP, Read::SKIP)?.is_some() {}
        Ok(Member::Other)
    }
}

impl Read {
    fn text<'de>(self, s: impl FnOnce() -> Cow<'de, str>) -> Member<'de> {
        if self.keep {
            Member::Str(s())
        } else {
            Member::Other
        }
    }
}

#[cfg(test)]
mod tests;
