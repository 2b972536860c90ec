//! The one generator of the stack's secrets, for `up` and `colorid dev` alike:
//! random tokens (the app secret, the origin-verify value) and P-256 signing
//! keys, all from the OS's CSPRNG; and a P-256 key's public JWK.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand::RngCore;
use rand::rngs::OsRng;

/// 32 random bytes, base64url without padding (43 characters, header-safe):
/// the shape of the app secret and of the origin-verify value.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A P-256 key pair with its PKCS#8 PEM and public JWK.
pub struct EcKey {
    /// The private key, PKCS#8 PEM.
    pub pem: String,
    /// The public key as a JWK (`kty`, `crv`, `x`, `y`, `kid`, `alg`, `use`).
    pub jwk: serde_json::Value,
    /// The key id: the RFC 7638 thumbprint, as the identity function computes it.
    pub kid: String,
}

impl EcKey {
    /// Generates a key.
    pub fn generate() -> EcKey {
        let key = SigningKey::random(&mut OsRng);
        // Serialising a freshly generated key cannot fail.
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .unwrap_or_default();
        let point = key.verifying_key().to_encoded_point(false);
        let public = colorid_lambda::signing::P256Public::from_xy(
            point.x().map(|b| b.as_slice()).unwrap_or_default(),
            point.y().map(|b| b.as_slice()).unwrap_or_default(),
        );
        let kid = public.thumbprint();
        let jwk = public.jwk(&kid);
        EcKey { pem, jwk, kid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_secrets_differ_per_run() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 43);
        let (a, b) = (EcKey::generate(), EcKey::generate());
        assert_ne!(a.pem, b.pem);
        assert!(a.pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(a.jwk["x"].as_str().map(str::len), Some(43));
        assert_ne!(a.jwk["x"], b.jwk["x"]);
    }

    #[test]
    fn the_kid_is_the_one_the_identity_function_derives_from_the_pem() {
        let key = EcKey::generate();
        let signer = colorid_lambda::signing::Signer::from_pem(&key.pem, "https://s").unwrap();
        assert_eq!(signer.kid(), key.kid);
        assert_eq!(key.jwk["kid"], key.kid.as_str());
    }
}
