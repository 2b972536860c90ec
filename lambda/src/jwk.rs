//! The keys of a JWKS that can verify a signature: each key's kind, the
//! algorithms it may verify, and the key parsed once per algorithm when the
//! JWKS arrives. Below the key cache (`jwks`) and the token checks (`token`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};

/// The kind of a published key, which decides the algorithms it may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// kty RSA: RS256/384/512, PS256/384/512.
    Rsa,
    /// kty EC, crv P-256: ES256.
    EcP256,
    /// kty EC, crv P-384: ES384.
    EcP384,
    /// kty OKP, crv Ed25519: EdDSA.
    Ed25519,
}

impl KeyKind {
    /// The algorithms a key of this kind can verify.
    pub fn algorithms(self) -> &'static [Algorithm] {
        match self {
            KeyKind::Rsa => &[
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
            ],
            KeyKind::EcP256 => &[Algorithm::ES256],
            KeyKind::EcP384 => &[Algorithm::ES384],
            KeyKind::Ed25519 => &[Algorithm::EdDSA],
        }
    }
}

/// One usable key from the JWKS.
pub struct Key {
    /// Which algorithms the key can verify.
    pub kind: KeyKind,
    /// The `alg` the JWKS pins this key to, if any.
    pub alg: Option<String>,
    // Parsed once per algorithm when the JWKS arrives, not on every request.
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
    /// The JWK as published, which tells a key the issuer still publishes
    /// from one it replaced under the same `kid`.
    published: String,
}

impl Key {
    /// Whether `signature` is a valid `alg` signature of `message` by this key
    /// (false for an algorithm the key cannot verify).
    pub fn verifies(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.parsed
            .iter()
            .find(|(a, _)| *a == alg)
            .is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }
}

/// The key parsed for verifying `alg`, with the parameters jsonwebtoken's
/// aws-lc backend uses (RSA keys of 2048 to 8192 bits, fixed-size ECDSA signatures).
fn parse_for(decoding: &DecodingKey, alg: Algorithm) -> Option<ParsedPublicKey> {
    let rsa = |params: &'static sig::RsaParameters| match decoding.kind() {
        DecodingKeyKind::RsaModulusExponent { n, e } => RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(params)
            .ok(),
        DecodingKeyKind::SecretOrDer(_) => None,
    };
    let raw = |params: &'static dyn sig::VerificationAlgorithm| {
        ParsedPublicKey::new(params, decoding.try_get_as_bytes().ok()?).ok()
    };
    match alg {
        Algorithm::RS256 => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => raw(&sig::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => raw(&sig::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => raw(&sig::ED25519),
        _ => None,
    }
}

/// The usable keys of one JWKS document.
#[derive(Default)]
pub(crate) struct Keys {
    pub(crate) by_kid: HashMap<String, Arc<Key>>,
    pub(crate) without_kid: Vec<Arc<Key>>,
    /// When these keys are to be fetched again.
    pub(crate) expires: Option<Instant>,
}

impl Keys {
    pub(crate) fn fresh(&self) -> bool {
        self.expires.is_some_and(|e| Instant::now() < e)
    }

    /// These keys, each one `previous` held too (the same `kid`, the same JWK)
    /// taken over as it was: a token verified by a key the issuer still
    /// publishes stays verified across a refetch, and one whose key left the
    /// JWKS or changed does not (`Arc::ptr_eq` tells them apart).
    pub(crate) fn keeping(mut self, previous: &Keys) -> Keys {
        for (kid, key) in self.by_kid.iter_mut() {
            if let Some(old) = previous.by_kid.get(kid)
                && old.published == key.published
            {
                *key = Arc::clone(old);
            }
        }
        for key in self.without_kid.iter_mut() {
            if let Some(old) = previous
                .without_kid
                .iter()
                .find(|old| old.published == key.published)
            {
                *key = Arc::clone(old);
            }
        }
        self
    }
}

/// Keeps the signature keys we can use and skips the rest (encryption keys, unknown types).
pub(crate) fn parse_keys(list: &[serde_json::Value]) -> Keys {
    let mut keys = Keys::default();
    for value in list {
        if value
            .get("use")
            .and_then(|u| u.as_str())
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
            continue;
        };
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                KeyKind::EcP256
            }
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => {
                KeyKind::EcP384
            }
            AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                KeyKind::Ed25519
            }
            // Symmetric (oct) keys are never accepted: HS* is not allowed.
            _ => continue,
        };
        let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let parsed: Vec<_> = kind
            .algorithms()
            .iter()
            .filter_map(|&alg| Some((alg, parse_for(&decoding, alg)?)))
            .collect();
        if parsed.is_empty() {
            continue;
        }
        let key = Arc::new(Key {
            kind,
            alg: value
                .get("alg")
                .and_then(|a| a.as_str())
                .map(str::to_string),
            parsed,
            published: value.to_string(),
        });
        match jwk.common.key_id {
            Some(kid) => {
                keys.by_kid.insert(kid, key);
            }
            None => keys.without_kid.push(key),
        }
    }
    keys
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const ED: &str = r#"{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn parse(json: &str) -> Keys {
        let list: serde_json::Value = serde_json::from_str(json).unwrap();
        parse_keys(list.as_array().unwrap())
    }

    /// An Ed25519 key, for tests of what holds keys.
    pub(crate) fn ed_key() -> Arc<Key> {
        Arc::clone(&parse(&format!("[{ED}]")).by_kid["ed"])
    }

    #[test]
    fn a_refetch_keeps_the_keys_the_issuer_still_publishes() {
        let before = parse(&format!("[{ED}]"));
        let same = parse(&format!("[{ED}]")).keeping(&before);
        assert!(Arc::ptr_eq(&same.by_kid["ed"], &before.by_kid["ed"]));
        // A JWK published differently under the same kid is a new key.
        let other = ED.replace(r#""kid": "ed", "#, r#""kid": "ed", "alg": "EdDSA", "#);
        let replaced = parse(&format!("[{other}]")).keeping(&before);
        assert!(!Arc::ptr_eq(&replaced.by_kid["ed"], &before.by_kid["ed"]));
        let without_kid = ED.replace(r#""kid": "ed", "#, "");
        let before = parse(&format!("[{without_kid}]"));
        let after = parse(&format!("[{without_kid}]")).keeping(&before);
        assert!(Arc::ptr_eq(&after.without_kid[0], &before.without_kid[0]));
    }

    #[test]
    fn skips_encryption_and_symmetric_keys() {
        let list = serde_json::json!([
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"},
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "sXch", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ]);
        let keys = parse_keys(list.as_array().unwrap());
        assert_eq!(keys.by_kid.len(), 1);
        assert_eq!(keys.by_kid["ed"].kind, KeyKind::Ed25519);
    }

    #[test]
    fn a_key_is_taken_only_with_the_curve_of_its_type() {
        // 32 bytes that would pass for an Ed25519 key, and a P-521 point: neither
        // is a key of an algorithm this function verifies.
        let x32 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let list = serde_json::json!([
            {"kty": "OKP", "crv": "P-256", "kid": "okp-p256", "x": x32},
            {"kty": "EC", "crv": "P-521", "kid": "p521",
             "x": "AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
             "y": "AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"},
        ]);
        let keys = parse_keys(list.as_array().unwrap());
        assert!(keys.by_kid.is_empty(), "{:?}", keys.by_kid.keys());
    }
}
