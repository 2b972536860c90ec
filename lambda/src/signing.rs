//! Signed attributes: ES256 JWTs made with the stack's P-256 signing key.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::token::{ATTRIBUTES_TYP, MAX_TOKEN_BYTES, Reason, now, parse_header_within};

/// The `aud` of signed attributes when the request named no audience.
pub const AUDIENCE: &str = "colorid-attributes";
/// How long signed attributes stay valid, in seconds, unless the stack's
/// `[api] signed_attributes_lifetime_seconds` says otherwise.
pub const LIFETIME_SECONDS: u64 = 600;
/// The shortest and longest lifetime a stack may set, in seconds.
pub const LIFETIME_RANGE: std::ops::RangeInclusive<u64> = 60..=3600;

/// The claims of a signed-attributes JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedClaims {
    /// The site's URL.
    pub iss: String,
    /// The relying party the request named, else [`AUDIENCE`].
    pub aud: String,
    /// The pseudonymous user identity the attributes belong to.
    pub sub: String,
    /// Issued at.
    pub iat: u64,
    /// Expires at.
    pub exp: u64,
    /// The nonce the request gave, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Released attributes: claims of the identity token, as in the attributes response.
    pub attributes: Vec<Value>,
    /// Formula results, kept apart so that none can be read as a released attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formulas: Vec<Value>,
    /// `/api/v1`: each signed attribute (not formula) as a top-level claim,
    /// name → value, as the Customer Attributes API documents.
    #[serde(flatten, default)]
    pub top_level: serde_json::Map<String, Value>,
}

/// What one signed-attributes JWT states.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    /// The pseudonymous user identity.
    pub sub: String,
    /// Released attributes.
    pub attributes: Vec<Value>,
    /// Formula results.
    pub formulas: Vec<Value>,
    /// The audience; [`AUDIENCE`] when `None`.
    pub audience: Option<String>,
    /// The nonce.
    pub nonce: Option<String>,
    /// Top-level claims (`/api/v1`): attribute name → value.
    pub top_level: serde_json::Map<String, Value>,
}

/// Signs and verifies attribute JWTs with one key.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    issuer: String,
    lifetime: u64,
}

/// Why the signing key is unusable.
#[derive(Debug, thiserror::Error)]
#[error("the signing key is not a PKCS#8 PEM P-256 private key: {0}")]
pub struct KeyError(String);

/// The DER inside a PEM `PRIVATE KEY` (PKCS#8) block.
fn pkcs8_der(pem: &str) -> Result<Vec<u8>, KeyError> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PRIVATE KEY-----")
        .and_then(|rest| rest.strip_suffix("-----END PRIVATE KEY-----"))
        .ok_or_else(|| KeyError("no PRIVATE KEY block".into()))?;
    let base64: String = body.split_ascii_whitespace().collect();
    STANDARD
        .decode(base64)
        .map_err(|e| KeyError(format!("the PEM body is not base64: {e}")))
}

/// A P-256 public key's coordinates, base64url: the one place a P-256 key
/// becomes a JWK (RFC 7517) and gets its RFC 7638 thumbprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P256Public {
    pub x: String,
    pub y: String,
}

impl P256Public {
    /// From the 32-byte big-endian coordinates.
    pub fn from_xy(x: &[u8], y: &[u8]) -> Self {
        Self {
            x: URL_SAFE_NO_PAD.encode(x),
            y: URL_SAFE_NO_PAD.encode(y),
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in
    /// lexicographic order without whitespace, base64url.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        );
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            canonical.as_bytes(),
        ))
    }

    /// The public JWK for ES256 signatures, with key id `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": kid,
            "alg": "ES256",
            "use": "sig",
        })
    }
}

impl Signer {
    /// A signer from a PKCS#8 PEM P-256 private key; `issuer` is the site's URL.
    pub fn from_pem(pem: &str, issuer: &str) -> Result<Self, KeyError> {
        let der = pkcs8_der(pem)?;
        // Rejects keys on other curves and private keys that do not match their public key.
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| KeyError(e.to_string()))?;
        let encoding = EncodingKey::from_ec_der(&der);
        // The uncompressed SEC1 point: 0x04, then x and y.
        let (x, y) = match pair.public_key().as_ref() {
            [4, xy @ ..] if xy.len() == 64 => xy.split_at(32),
            _ => return Err(KeyError("unexpected public key encoding".into())),
        };
        let public = P256Public::from_xy(x, y);
        let kid = public.thumbprint();
        let decoding = DecodingKey::from_ec_components(&public.x, &public.y)
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(Self {
            encoding,
            decoding,
            kid,
            issuer: issuer.to_string(),
            lifetime: LIFETIME_SECONDS,
        })
    }

    /// The same signer with signed sets valid for `seconds` from `iat`.
    pub fn with_lifetime(mut self, seconds: u64) -> Self {
        self.lifetime = seconds;
        self
    }

    /// The key id (RFC 7638 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `attributes` for user `sub` with the default audience and no
    /// nonce, valid for the signer's lifetime from `iat`.
    pub fn sign(&self, sub: &str, attributes: Vec<Value>, iat: u64) -> Result<String, KeyError> {
        self.sign_statement(
            Statement {
                sub: sub.into(),
                attributes,
                ..Statement::default()
            },
            iat,
        )
    }

    /// Signs a statement, valid for the signer's lifetime from `iat`.
    pub fn sign_statement(&self, st: Statement, iat: u64) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(ATTRIBUTES_TYP.into());
        header.kid = Some(self.kid.clone());
        let claims = SignedClaims {
            iss: self.issuer.clone(),
            aud: st.audience.unwrap_or_else(|| AUDIENCE.into()),
            sub: st.sub,
            iat,
            exp: iat + self.lifetime,
            nonce: st.nonce,
            attributes: st.attributes,
            formulas: st.formulas,
            top_level: st.top_level,
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| KeyError(e.to_string()))
    }

    /// Verifies a signed-attributes JWT made by this signer for the default audience.
    pub fn verify(&self, token: &str) -> Result<SignedClaims, Reason> {
        self.verify_for(token, AUDIENCE)
    }

    /// Verifies a signed-attributes JWT made by this signer for `audience`.
    pub fn verify_for(&self, token: &str, audience: &str) -> Result<SignedClaims, Reason> {
        // Attribute JWTs may carry many attributes, so they get a larger limit.
        let header = parse_header_within(token, MAX_TOKEN_BYTES * 8)?;
        if header.typ.as_deref() != Some(ATTRIBUTES_TYP) {
            return Err(Reason::WrongTokenType);
        }
        if header.alg != "ES256" {
            return Err(Reason::AlgNotAllowed);
        }
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(Reason::UnknownKid);
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        let data = jsonwebtoken::decode::<SignedClaims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => Reason::BadSignature,
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Reason::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => Reason::WrongIssuer,
                jsonwebtoken::errors::ErrorKind::InvalidAudience => Reason::WrongAudience,
                jsonwebtoken::errors::ErrorKind::Json(_) => Reason::MalformedPayload,
                _ => Reason::Malformed,
            })?;
        if data.claims.iat > now() + 60 {
            return Err(Reason::IssuedInFuture);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_with_a_thumbprint_kid() {
        let pem = PEM;
        let s = Signer::from_pem(pem, "https://site").expect("valid key");
        // Cross-check the RFC 7638 thumbprint against jsonwebtoken's own implementation.
        let enc = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&enc, Algorithm::ES256).unwrap();
        let expected = jwk
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .unwrap();
        assert_eq!(s.kid(), expected);
        let jwt = s
            .sign("user", vec![serde_json::json!({"name": "A"})], now())
            .unwrap();
        let back = s.verify(&jwt).expect("verifies");
        assert_eq!(back.sub, "user");
        assert_eq!(back.nonce, None);
        let bound = s
            .sign_statement(
                Statement {
                    sub: "user".into(),
                    audience: Some("https://rp.example".into()),
                    nonce: Some("n-1".into()),
                    ..Statement::default()
                },
                now(),
            )
            .unwrap();
        assert_eq!(s.verify(&bound).unwrap_err(), Reason::WrongAudience);
        let back = s
            .verify_for(&bound, "https://rp.example")
            .expect("verifies");
        assert_eq!(back.nonce.as_deref(), Some("n-1"));
        assert!(Signer::from_pem("not a key", "https://site").is_err());
    }

    /// A fixed key, so the kid is stable across runs.
    const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPXEN/SN9LmvJpTbj
j0/03YEkOaVVzFw/ZWB1pzz0miOhRANCAAT4Vqhvy1Lx20hGpUK3ySJPrLLghMC6
nkCN21ThkFXmX2K5DnyefDx2tvi+7yiHJbAsNJL3+bBXgn0oq0HBAoNS
-----END PRIVATE KEY-----\n";

    fn signer() -> Signer {
        Signer::from_pem(PEM, "https://site").expect("valid key")
    }

    #[test]
    fn the_attributes_signed_are_the_attributes_verified() {
        let s = signer();
        let attrs = vec![serde_json::json!({"name": "Email", "value": "a@example.com"})];
        let back = s
            .verify(&s.sign("u", attrs.clone(), now()).unwrap())
            .unwrap();
        assert_eq!(back.attributes, attrs);
        // A set larger than one identity token (8 KiB) still verifies.
        let many: Vec<Value> = (0..400)
            .map(|i| serde_json::json!({"name": format!("Attribute{i}"), "value": "x".repeat(20)}))
            .collect();
        let big = s.sign("u", many.clone(), now()).unwrap();
        assert!(big.len() > MAX_TOKEN_BYTES + 8, "{}", big.len());
        assert_eq!(s.verify(&big).unwrap().attributes, many);
    }

    #[test]
    fn each_refusal_has_its_reason() {
        let s = signer();
        let jwt = s.sign("u", vec![], now()).unwrap();
        // Another set's signature on this set's header and payload.
        let mut parts: Vec<String> = jwt.split('.').map(String::from).collect();
        parts[2] = s
            .sign("v", vec![], now())
            .unwrap()
            .split('.')
            .nth(2)
            .unwrap()
            .into();
        let swapped = parts.join(".");
        assert_eq!(s.verify(&swapped).unwrap_err(), Reason::BadSignature);
        // Signed, but not the shape of a signed set (attributes not a list).
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(ATTRIBUTES_TYP.into());
        header.kid = Some(s.kid.clone());
        let odd = serde_json::json!({"iss": "https://site", "aud": AUDIENCE, "sub": "u",
            "iat": now(), "exp": now() + 60, "attributes": "not a list"});
        let odd = jsonwebtoken::encode(&header, &odd, &s.encoding).unwrap();
        assert_eq!(s.verify(&odd).unwrap_err(), Reason::MalformedPayload);
        // Issued more than a minute ahead of this clock.
        let ahead = s.sign("u", vec![], now() + 600).unwrap();
        assert_eq!(s.verify(&ahead).unwrap_err(), Reason::IssuedInFuture);
        assert!(s.verify(&s.sign("u", vec![], now() + 30).unwrap()).is_ok());
        // A minute ahead is the bound, and within it.
        assert!(s.verify(&s.sign("u", vec![], now() + 60).unwrap()).is_ok());
    }

    #[test]
    fn the_public_jwk_verifies_what_the_signer_signs() {
        let s = signer();
        let (x, y) = {
            let jwk =
                jsonwebtoken::jwk::Jwk::from_encoding_key(&s.encoding, Algorithm::ES256).unwrap();
            match jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p) => (p.x, p.y),
                _ => unreachable!(),
            }
        };
        let public = P256Public { x, y };
        let jwk = public.jwk(s.kid());
        for (field, want) in [
            ("kty", "EC"),
            ("crv", "P-256"),
            ("alg", "ES256"),
            ("use", "sig"),
        ] {
            assert_eq!(jwk[field], want, "{field}");
        }
        assert_eq!(jwk["kid"], s.kid());
        let key = DecodingKey::from_jwk(&serde_json::from_value(jwk).unwrap()).unwrap();
        let jwt = s.sign("u", vec![], now()).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUDIENCE]);
        assert!(jsonwebtoken::decode::<SignedClaims>(&jwt, &key, &validation).is_ok());
    }
}
