//! A secret's value and where it comes from: held in [`Secret`], which never
//! prints itself; read from the environment variable or file stack.toml names
//! (at `up` time, checked before any change), else generated once with the
//! OS's CSPRNG. Nothing in this module puts a value in a message, a log line
//! or an error.

use std::fmt;

use p256::pkcs8::DecodePrivateKey;

use crate::config::SecretSource;
use crate::error::{Error, Result};
use crate::state_encoding::STANDARD_LIMIT;

/// A secret value. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (SSM, CloudFront).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(secret)")
    }
}

/// The secrets a user can rotate with `up --rotate-secrets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecretName {
    #[value(name = "app_secret")]
    AppSecret,
    #[value(name = "signing_key")]
    SigningKey,
    #[value(name = "origin_verify")]
    OriginVerify,
}

impl SecretName {
    pub const ALL: [SecretName; 3] = [
        SecretName::AppSecret,
        SecretName::SigningKey,
        SecretName::OriginVerify,
    ];

    /// The field under `[secrets]` in stack.toml.
    pub fn field(self) -> &'static str {
        match self {
            SecretName::AppSecret => "app_secret",
            SecretName::SigningKey => "signing_key",
            SecretName::OriginVerify => "origin_verify",
        }
    }

    /// The last segment of the parameter's name.
    pub fn leaf(self) -> &'static str {
        match self {
            SecretName::AppSecret => "app-secret",
            SecretName::SigningKey => "signing-key",
            SecretName::OriginVerify => "origin-verify",
        }
    }

    pub(super) fn source(self, stack: &crate::config::Stack) -> &SecretSource {
        let s = &stack.secrets;
        match self {
            SecretName::AppSecret => &s.app_secret,
            SecretName::SigningKey => &s.signing_key,
            SecretName::OriginVerify => &s.origin_verify,
        }
    }

    /// A fresh value from the OS's CSPRNG.
    pub(super) fn generate(self) -> Result<Secret> {
        match self {
            SecretName::SigningKey => {
                let pem = crate::keys::EcKey::generate().pem;
                if pem.is_empty() {
                    return Err(Error::internal("cannot encode a new signing key"));
                }
                Ok(Secret::new(pem))
            }
            SecretName::AppSecret | SecretName::OriginVerify => Ok(random_token()),
        }
    }
}

/// 32 random bytes, base64url without padding (43 characters, header-safe).
pub fn random_token() -> Secret {
    Secret::new(crate::keys::random_token())
}

/// Reads the value a user supplied through stack.toml, `None` when it is to be generated.
pub(super) fn supplied(stack: &crate::config::Stack, name: SecretName) -> Result<Option<Secret>> {
    let field = format!("secrets.{}", name.field());
    let file = stack.file.display();
    let value = match name.source(stack) {
        SecretSource::Generate => return Ok(None),
        SecretSource::Env(var) => std::env::var(var).map_err(|_| {
            Error::usage_fix(format!("{file}: field `{field}` names the environment variable {var}, which is not set (or not UTF-8)."), format!("export {var} before `colorid up`, or remove `{field}` to let colorid generate the secret"))
        })?,
        SecretSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
            Error::usage_fix(format!("{file}: field `{field}` names the file {}, which cannot be read: {}.", path.display(), e.kind()), format!("create the file, or fix `{field}`"))
        })?,
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(Error::usage_fix(
            format!("{file}: field `{field}` points at an empty value."),
            format!("supply the secret, or remove `{field}` to let colorid generate it"),
        ));
    }
    let chars = value.chars().count();
    if chars > STANDARD_LIMIT {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is {chars} characters, over the {STANDARD_LIMIT} an SSM standard parameter holds (API_PutParameter), where colorid keeps it."
            ),
            format!(
                "supply a shorter value (a secret needs no more than 64 random bytes; a P-256 key in PEM is about 240 characters), or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if let Some(problem) = weak(name, &value) {
        return Err(Error::usage_fix(
            format!("{file}: field `{field}`: {problem}."),
            format!(
                "supply at least {MIN_SUPPLIED_BYTES} random bytes, e.g. the output of `openssl rand -base64 32`, or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if name == SecretName::SigningKey && p256::SecretKey::from_pkcs8_pem(&value).is_err() {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}` does not hold an ES256 (P-256) private key in PKCS#8 PEM."
            ),
            format!(
                "create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    if name == SecretName::OriginVerify && !value.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
    {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is sent as an HTTP header and may hold only printable ASCII without spaces or quotes."
            ),
            "use e.g. 32 random bytes in base64url",
        ));
    }
    if name == SecretName::OriginVerify && value.len() > ORIGIN_HEADER_VALUE_CHARS {
        return Err(Error::usage_fix(
            format!(
                "{file}: field `{field}`: the value is {} characters, and CloudFront allows {ORIGIN_HEADER_VALUE_CHARS} in a custom origin header's value.",
                value.len()
            ),
            format!(
                "supply a shorter value (32 random bytes in base64url are 43 characters), or remove `{field}` to let colorid generate it"
            ),
        ));
    }
    Ok(Some(Secret::new(value)))
}

/// CloudFront's quota on a custom origin header's value: "Maximum length of a custom
/// header value: 1,783 characters" (the origin-verify value travels as one).
pub const ORIGIN_HEADER_VALUE_CHARS: usize = 1783;

/// The least length of a supplied app secret or origin-verify value: as long
/// as the 32 random bytes colorid generates, so a short one cannot be guessed.
pub const MIN_SUPPLIED_BYTES: usize = 32;

/// Why a supplied value is too weak to use (never showing it).
fn weak(name: SecretName, value: &str) -> Option<String> {
    match name {
        SecretName::AppSecret | SecretName::OriginVerify if value.len() < MIN_SUPPLIED_BYTES => {
            Some(format!(
                "the supplied value is shorter than {MIN_SUPPLIED_BYTES} bytes"
            ))
        }
        _ => None,
    }
}

/// Reads every user-supplied secret once, so a missing one fails before any change.
pub fn check_sources(stack: &crate::config::Stack) -> Result<()> {
    for name in SecretName::ALL {
        supplied(stack, name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
    }

    #[test]
    fn short_supplied_secrets_are_refused_without_showing_them() {
        for name in [SecretName::AppSecret, SecretName::OriginVerify] {
            let problem = weak(name, "hunter2-short").expect("too short");
            assert!(!problem.contains("hunter2"), "{problem}");
            assert!(weak(name, &"x".repeat(MIN_SUPPLIED_BYTES)).is_none());
        }
        assert!(weak(SecretName::OriginVerify, random_token().expose()).is_none());
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(a.expose())
            .expect("base64url");
        assert!(bytes.len() >= 32);
        let key = SecretName::SigningKey.generate().expect("key");
        assert!(key.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(p256::SecretKey::from_pkcs8_pem(key.expose()).is_ok());
    }

    #[test]
    fn the_redacted_forms_and_the_names() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{s}"), "(secret)");
        // The stack.toml fields and the parameters' last segments: renaming either
        // breaks every existing stack file or orphans every deployed parameter.
        let names: Vec<_> = SecretName::ALL
            .iter()
            .map(|n| (n.field(), n.leaf()))
            .collect();
        assert_eq!(
            names,
            [
                ("app_secret", "app-secret"),
                ("signing_key", "signing-key"),
                ("origin_verify", "origin-verify")
            ]
        );
    }

    /// What `supplied` accepts from a file, and what it refuses, naming the field
    /// and never the value.
    #[test]
    fn supplied_values_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        // A stack whose secret `name` is read from the file `value` beside it.
        let stack_reading = |name: SecretName| {
            let text = format!(
                "name = \"demo\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\n\
                 hosted_zone = \"example.com\"\n[identity]\nissuer = \"https://id.example.com/\"\n\
                 client_id = \"c\"\n[secrets]\n{} = {{ file = \"value\" }}\n",
                name.field()
            );
            crate::config::parse(&dir.path().join("stack.toml"), &text).unwrap()
        };
        let check = |name: SecretName, value: &str| {
            std::fs::write(dir.path().join("value"), format!("{value}\n")).unwrap();
            supplied(&stack_reading(name), name).map_err(|e| {
                let shown = e.to_string();
                assert!(shown.contains(name.field()), "{shown}");
                assert!(value.len() < 8 || !shown.contains(value), "{shown}");
                shown
            })
        };
        let good = "k".repeat(MIN_SUPPLIED_BYTES);
        let got = check(SecretName::AppSecret, &good).unwrap().unwrap();
        assert_eq!(got.expose(), good, "read and trimmed");
        // A space is fine in the app secret, not in a header value.
        let spaced = format!("{good} x");
        assert!(check(SecretName::AppSecret, &spaced).unwrap().is_some());
        let err = check(SecretName::OriginVerify, &spaced).unwrap_err();
        assert!(err.contains("printable ASCII"), "{err}");
        let quoted = format!("{good}\"x");
        assert!(
            check(SecretName::OriginVerify, &quoted)
                .unwrap_err()
                .contains("quotes")
        );
        assert!(check(SecretName::OriginVerify, &good).unwrap().is_some());
        // SSM standard parameter: 4,096 characters at most.
        assert!(check(SecretName::AppSecret, &"k".repeat(STANDARD_LIMIT)).is_ok());
        let err = check(SecretName::AppSecret, &"k".repeat(STANDARD_LIMIT + 1)).unwrap_err();
        assert!(err.contains("4097 characters"), "{err}");
        // CloudFront: 1,783 characters in a custom header's value.
        let at = "k".repeat(ORIGIN_HEADER_VALUE_CHARS);
        assert!(check(SecretName::OriginVerify, &at).unwrap().is_some());
        let err = check(SecretName::OriginVerify, &format!("{at}k")).unwrap_err();
        assert!(err.contains("1783"), "{err}");
        let err = check(SecretName::SigningKey, &good).unwrap_err();
        assert!(err.contains("P-256"), "{err}");
        assert!(
            check(SecretName::AppSecret, "  ")
                .unwrap_err()
                .contains("empty")
        );
        // `up` reads every source before any change: a missing file is found then.
        std::fs::remove_file(dir.path().join("value")).unwrap();
        let stack = stack_reading(SecretName::OriginVerify);
        let err = check_sources(&stack).unwrap_err().to_string();
        assert!(err.contains("secrets.origin_verify"), "{err}");
    }
}
