//! A `[secrets]` entry: as written, `{ env = … }` / `{ file = … }`, or a
//! value written straight into the file, which is recognised (to refuse it
//! with a clear message) without ever being kept or shown; and checked, into
//! the [`SecretSource`] `up` reads.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::stack::SecretSource;
use super::validator::Validator;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSecretSource {
    pub(super) env: Option<String>,
    pub(super) file: Option<String>,
}

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

impl Validator<'_> {
    pub(super) fn secret_source(
        &mut self,
        base: &Path,
        field: &str,
        raw: Option<&Spanned<RawSecret>>,
    ) -> SecretSource {
        let Some(raw) = raw else {
            return SecretSource::Generate;
        };
        let source = match raw.get_ref() {
            RawSecret::Source(source) => source,
            RawSecret::Literal => {
                self.push(
                    &raw.span(),
                    field,
                    "a secret's value is never written in stack.toml (the value is not shown here)".to_string(),
                    "put the value in an environment variable or a file and write { env = \"VARIABLE\" } or { file = \"path\" }, or remove the line to let `up` generate the secret; treat the value as leaked if the file was shared",
                );
                self.hide_last_line();
                return SecretSource::Generate;
            }
        };
        match (&source.env, &source.file) {
            (Some(env), None) => {
                let ok = !env.is_empty()
                    && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !env.starts_with(|c: char| c.is_ascii_digit());
                if !ok {
                    self.push(
                        &raw.span(),
                        field,
                        format!("{env:?} is not an environment variable name"),
                        "use letters, digits and underscores, e.g. { env = \"COLORID_APP_SECRET\" }",
                    );
                }
                SecretSource::Env(env.clone())
            }
            (None, Some(file)) if !file.is_empty() => SecretSource::File(base.join(file)),
            _ => {
                self.push(
                    &raw.span(),
                    field,
                    "needs exactly one of `env` or `file`".to_string(),
                    "write { env = \"VARIABLE\" } or { file = \"path\" }, or remove it to let `up` generate the secret",
                );
                SecretSource::Generate
            }
        }
    }
}
