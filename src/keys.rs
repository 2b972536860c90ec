//! Per-run secrets: the app secret and P-256 keys, from the OS random generator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand::RngCore;
use rand::rngs::OsRng;

/// A fresh app secret: 32 random bytes, hex.
pub fn app_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A P-256 key pair with its PKCS#8 PEM and public JWK.
pub struct EcKey {
    /// The private key, PKCS#8 PEM.
    pub pem: String,
    /// The public key as a JWK (`kty`, `crv`, `x`, `y`, `kid`, `alg`, `use`).
    pub jwk: serde_json::Value,
    /// The key id.
    pub kid: String,
}

impl EcKey {
    /// Generates a key with a random key id.
    pub fn generate() -> EcKey {
        let key = SigningKey::random(&mut OsRng);
        // Serialising a freshly generated key cannot fail.
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| p.to_string())
            .unwrap_or_default();
        let point = key.verifying_key().to_encoded_point(false);
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|b| URL_SAFE_NO_PAD.encode(b));
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        let kid = format!("dev-{}", hex::encode(id));
        let jwk = serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": coordinate(point.x()),
            "y": coordinate(point.y()),
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        });
        EcKey { pem, jwk, kid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_secrets_differ_per_run() {
        assert_ne!(app_secret(), app_secret());
        assert_eq!(app_secret().len(), 64);
        let (a, b) = (EcKey::generate(), EcKey::generate());
        assert_ne!(a.pem, b.pem);
        assert!(a.pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(a.jwk["x"].as_str().map(str::len), Some(43));
        assert_ne!(a.jwk["x"], b.jwk["x"]);
    }
}
