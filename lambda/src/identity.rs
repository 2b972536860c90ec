//! Pseudonymous user identity and colour derivation.
//!
//! Both values are keyed HMACs of the issuer and subject, so they are stable
//! for a user, differ between stacks with different app secrets, and cannot be
//! reversed to the subject without the secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Length of the user identity in base64url characters.
pub const USER_ID_LEN: usize = 22;

/// The identity and colour derived for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// base64url (no padding) of HMAC-SHA256(secret, "user|iss|sub"), 22 characters.
    pub user_identity: String,
    /// First three bytes of HMAC-SHA256(secret, "color|iss|sub"), big-endian.
    pub color: u32,
}

/// The app secret as an HMAC key, set up once per configuration (its two
/// padded key blocks hashed), so each request hashes only its own message.
#[derive(Clone)]
pub struct Deriver {
    keyed: Hmac<Sha256>,
}

impl Deriver {
    /// The deriver for the app secret (its UTF-8 bytes exactly as stored).
    pub fn new(secret: &str) -> Self {
        Self {
            // HMAC accepts keys of any length, so this cannot fail.
            keyed: Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes any key length"),
        }
    }

    fn mac(&self, purpose: &str, iss: &str, sub: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        for part in [purpose, "|", iss, "|", sub] {
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    /// The user identity and colour of the token's issuer and subject.
    pub fn derive(&self, iss: &str, sub: &str) -> Derived {
        let user = self.mac("user", iss, sub);
        let mut user_identity = URL_SAFE_NO_PAD.encode(user);
        user_identity.truncate(USER_ID_LEN);
        let c = self.mac("color", iss, sub);
        let color = u32::from_be_bytes([0, c[0], c[1], c[2]]);
        Derived {
            user_identity,
            color,
        }
    }
}

/// Derives the user identity and colour from the app secret (its UTF-8 bytes
/// exactly as stored), the token's issuer and its subject.
pub fn derive(secret: &str, iss: &str, sub: &str) -> Derived {
    Deriver::new(secret).derive(iss, sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independent_computation() {
        // Expected values computed with `openssl dgst -sha256 -hmac secret`.
        let d = derive("secret", "https://i", "s");
        assert_eq!(d.user_identity, "9YbrA8_M_yXbz9foC_Ep49");
        assert_eq!(d.color, 0x006f6b);
    }

    #[test]
    fn differs_by_secret_issuer_and_subject() {
        let base = derive("secret", "https://i", "s");
        assert_ne!(
            base.user_identity,
            derive("other", "https://i", "s").user_identity
        );
        assert_ne!(
            base.user_identity,
            derive("secret", "https://j", "s").user_identity
        );
        assert_ne!(
            base.user_identity,
            derive("secret", "https://i", "t").user_identity
        );
        assert_ne!(base.color, derive("other", "https://i", "s").color);
    }

    #[test]
    fn one_deriver_serves_many_users_as_a_fresh_one_would() {
        let deriver = Deriver::new("secret");
        for sub in ["s", "t", "s"] {
            assert_eq!(
                deriver.derive("https://i", sub),
                derive("secret", "https://i", sub)
            );
        }
    }
}
