//! A `[secrets]` entry as written: `{ env = … }` / `{ file = … }`, or a value
//! written straight into the file, which is recognised (to refuse it with a
//! clear message) without ever being kept or shown.

use std::fmt;

use serde::Deserialize;

use super::raw::RawSecretSource;

/// A secret's entry: where to read it, or a value written in the file, which
/// is refused without ever being kept or shown.
pub(super) enum RawSecret {
    Source(RawSecretSource),
    Literal,
}

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = RawSecret;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("{ env = \"VARIABLE\" } or { file = \"path\" }")
            }
            fn visit_str<E>(self, _: &str) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal)
            }
            fn visit_i64<E>(self, _: i64) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal)
            }
            fn visit_u64<E>(self, _: u64) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal)
            }
            fn visit_f64<E>(self, _: f64) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal)
            }
            fn visit_bool<E>(self, _: bool) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawSecret, A::Error> {
                RawSecretSource::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawSecret::Source)
            }
        }
        d.deserialize_any(Entry)
    }
}
