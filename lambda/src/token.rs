//! Identity token (OIDC ID token / JWT) verification against the issuer's JWKS.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::{DecodeSliceError, Engine};

use jsonwebtoken::Algorithm;
use serde::de::{self, Deserialize, Deserializer};

use crate::access;
pub use crate::claims::Claims;
use crate::claims::{Member, Members};
use crate::jwks::{JwksCache, JwksError, Key, KeyKind};
use crate::token_cache::{self, Times, Verified};
pub use crate::token_refusal::{Header, Reason};

/// Tokens longer than this are rejected before any decoding.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The largest clock leeway that may be configured.
pub const MAX_LEEWAY_SECONDS: u64 = 60;
/// The `typ` of colorid's own signed-attributes JWTs, never accepted as an identity token.
pub const ATTRIBUTES_TYP: &str = "colorid-attributes+jwt";

/// A verification failure: either the token's fault (401) or the issuer's keys are unavailable (503).
#[derive(Debug)]
pub enum VerifyError {
    /// The token is not acceptable.
    Rejected(Reason),
    /// The issuer's keys could not be fetched.
    KeysUnavailable(JwksError),
}

impl From<Reason> for VerifyError {
    fn from(r: Reason) -> Self {
        VerifyError::Rejected(r)
    }
}

/// Whether every byte of `x` is in the base64url alphabet. Every byte is
/// looked at (no early exit), so the loop compiles to vector compares over the
/// whole token instead of a branch a byte.
fn is_base64url(x: &str) -> bool {
    x.bytes().fold(true, |ok, b| {
        ok & (b.is_ascii_alphanumeric() | (b == b'-') | (b == b'_'))
    })
}

/// Checks a token's size and shape and decodes its header, without any key.
/// This is what runs on untrusted bytes before anything else (and what the fuzzer drives).
pub fn parse_header(token: &str) -> Result<Header, Reason> {
    parse_header_within(token, MAX_TOKEN_BYTES)
}

/// [`parse_header`] with another size limit.
pub fn parse_header_within(token: &str, max_bytes: usize) -> Result<Header, Reason> {
    if token.len() > max_bytes {
        return Err(Reason::TokenTooLarge);
    }
    // Every JWS header is a JSON object, so its base64url starts `eyJ` (`{"`);
    // anything else that is not three parts is no JWT at all.
    if token.split('.').count() != 3 && !token.starts_with("eyJ") {
        return Err(Reason::OpaqueToken);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reason::Malformed);
    };
    if h.is_empty() || p.is_empty() || !is_base64url(h) || !is_base64url(p) || !is_base64url(s) {
        return Err(Reason::Malformed);
    }
    let mut buf = [0u8; 512];
    let raw = decode_part(h, &mut buf)?;
    // A JSON object (serde would take an array for a struct too).
    if raw.trim_ascii_start().first() != Some(&b'{') {
        return Err(Reason::MalformedHeader);
    }
    let header: HeaderMembers =
        serde_json::from_slice(&raw).map_err(|_| Reason::MalformedHeader)?;
    // Critical extensions we do not understand must make the token invalid (RFC 7515 4.1.11).
    if header.crit {
        return Err(Reason::MalformedHeader);
    }
    Ok(Header {
        alg: header.alg,
        kid: header.kid,
        typ: header.typ,
    })
}

/// One base64url part of a token, decoded into `buf` when it fits (no
/// allocation for the usual sizes), else into a vector of its own.
fn decode_part<'b>(part: &str, buf: &'b mut [u8]) -> Result<Cow<'b, [u8]>, Reason> {
    match URL_SAFE_NO_PAD.decode_slice(part, buf) {
        Ok(n) => Ok(Cow::Borrowed(&buf[..n])),
        Err(DecodeSliceError::OutputSliceTooSmall) => URL_SAFE_NO_PAD
            .decode(part)
            .map(Cow::Owned)
            .map_err(|_| Reason::Malformed),
        Err(DecodeSliceError::DecodeError(_)) => Err(Reason::Malformed),
    }
}

/// The header members verification reads, straight from the JSON: a string
/// `alg`; `kid` and `typ` strings or null; `crit` in any form. Others are
/// skipped unread; a member named twice is refused.
#[derive(serde::Deserialize)]
struct HeaderMembers {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// True for a member that is there, whatever its value (`null` included).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    de::IgnoredAny::deserialize(d).map(|_| true)
}

/// Maps an allowed algorithm name to jsonwebtoken's algorithm and the key kind it needs.
fn algorithm(name: &str) -> Option<(Algorithm, &'static [KeyKind])> {
    Some(match name {
        "RS256" => (Algorithm::RS256, &[KeyKind::Rsa]),
        "RS384" => (Algorithm::RS384, &[KeyKind::Rsa]),
        "RS512" => (Algorithm::RS512, &[KeyKind::Rsa]),
        "PS256" => (Algorithm::PS256, &[KeyKind::Rsa]),
        "PS384" => (Algorithm::PS384, &[KeyKind::Rsa]),
        "PS512" => (Algorithm::PS512, &[KeyKind::Rsa]),
        "ES256" => (Algorithm::ES256, &[KeyKind::EcP256]),
        "ES384" => (Algorithm::ES384, &[KeyKind::EcP384]),
        "EdDSA" => (Algorithm::EdDSA, &[KeyKind::Ed25519]),
        _ => return None,
    })
}

/// The default algorithm allow-list.
pub fn default_algorithms() -> Vec<String> {
    ["RS256", "ES256", "EdDSA"].map(String::from).to_vec()
}

/// Verifies identity tokens for one issuer and client.
pub struct Verifier {
    /// Shared with every token's claims, which hold it as their `iss`.
    issuer: Arc<str>,
    client_id: String,
    /// The API's identifier access tokens must be for; none: ID tokens only.
    api_audience: Option<String>,
    leeway: u64,
    algorithms: Vec<String>,
    /// The claim whose value the claims keep for the assurance level.
    level_claim: Option<String>,
    jwks: Arc<JwksCache>,
    /// Tokens this verifier accepted; never handed to another verifier, so
    /// new settings start with none.
    verified: token_cache::Cache<Claims>,
}

impl Verifier {
    /// A verifier; `algorithms` names must come from RS*, PS*, ES256/384 and EdDSA.
    pub fn new(
        issuer: &str,
        client_id: &str,
        leeway: u64,
        algorithms: Vec<String>,
        jwks: JwksCache,
    ) -> Self {
        Self::with_shared_jwks(issuer, client_id, leeway, algorithms, Arc::new(jwks))
    }

    /// [`Verifier::new`] with a key cache shared with an earlier verifier.
    pub fn with_shared_jwks(
        issuer: &str,
        client_id: &str,
        leeway: u64,
        algorithms: Vec<String>,
        jwks: Arc<JwksCache>,
    ) -> Self {
        let algorithms = algorithms
            .into_iter()
            .filter(|a| algorithm(a).is_some())
            .collect();
        Self {
            issuer: issuer.into(),
            client_id: client_id.to_string(),
            api_audience: None,
            leeway: leeway.min(MAX_LEEWAY_SECONDS),
            algorithms,
            level_claim: None,
            jwks,
            verified: token_cache::Cache::new(token_cache::CAPACITY),
        }
    }

    /// Accepts JWT access tokens for `api_audience` beside ID tokens (none: ID tokens only).
    pub fn with_api_audience(mut self, api_audience: Option<String>) -> Self {
        self.api_audience = api_audience.filter(|a| !a.is_empty());
        self
    }

    /// Keeps the value of `level_claim` in the claims, for the assurance level.
    pub fn with_level_claim(mut self, level_claim: &str) -> Self {
        self.level_claim = Some(level_claim.into());
        self
    }

    /// The key cache, for its fetch counter.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The key cache, to hand on to the verifier that replaces this one.
    pub fn shared_jwks(&self) -> Arc<JwksCache> {
        Arc::clone(&self.jwks)
    }

    /// The tokens this verifier accepted, for their count and hits.
    pub fn verified_tokens(&self) -> &token_cache::Cache<Claims> {
        &self.verified
    }

    /// Verifies `token` and returns its claims. A token verified before is
    /// not checked again while its times still pass and the key that signed
    /// it is still the issuer's; otherwise (and for every refusal) it gets
    /// the whole check, so a hit decides exactly what a miss would.
    pub async fn verify(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Reason::TokenTooLarge.into());
        }
        let digest = token_cache::digest_of(token);
        if let Some(hit) = self.verified.get(&digest) {
            if self.still_holds(&hit).await {
                self.verified.count_hit();
                return Ok(Arc::clone(&hit.claims));
            }
            self.verified.remove(&digest);
        }
        let verified = self.verify_uncached(token).await?;
        let claims = Arc::clone(&verified.claims);
        self.verified.insert(digest, verified);
        Ok(claims)
    }

    /// Whether a cached verification still holds now.
    async fn still_holds(&self, hit: &Verified<Claims>) -> bool {
        let Times { exp, nbf, iat } = hit.times;
        self.check_dates(Some(exp), nbf).is_ok()
            && self.check_iat_value(iat).is_ok()
            && matches!(self.key_for(&hit.header).await, Ok((_, key)) if Arc::ptr_eq(&key, &hit.key))
    }

    /// The issuer's key for a token with this header: the checks that come
    /// before the signature.
    async fn key_for(&self, header: &Header) -> Result<(Algorithm, Arc<Key>), VerifyError> {
        if header.typ.as_deref() == Some(ATTRIBUTES_TYP) {
            return Err(Reason::WrongTokenType.into());
        }
        if !self.algorithms.contains(&header.alg) {
            return Err(Reason::AlgNotAllowed.into());
        }
        let Some((alg, kinds)) = algorithm(&header.alg) else {
            return Err(Reason::AlgNotAllowed.into());
        };
        let fits =
            |k: &Key| kinds.contains(&k.kind) && k.alg.as_deref().is_none_or(|a| a == header.alg);
        let key = match self.jwks.key(header.kid.as_deref(), &fits).await {
            Ok(Some(key)) => key,
            Ok(None) | Err(JwksError::Penalty) if header.kid.is_none() => {
                return Err(Reason::MissingKid.into());
            }
            Ok(None) => return Err(Reason::UnknownKid.into()),
            Err(e) => return Err(VerifyError::KeysUnavailable(e)),
        };
        if !fits(&key) {
            return Err(Reason::KeyAlgMismatch.into());
        }
        Ok((alg, key))
    }

    /// Every check, from the token's bytes.
    async fn verify_uncached(&self, token: &str) -> Result<Verified<Claims>, VerifyError> {
        let header = parse_header(token)?;
        let (alg, key) = self.key_for(&header).await?;
        // parse_header has checked that the token is three base64url parts.
        let (message, signature) = token.rsplit_once('.').ok_or(Reason::Malformed)?;
        let (_, payload) = message.split_once('.').ok_or(Reason::Malformed)?;
        // RSA-8192's 1,024 bytes at most from any key that verifies.
        let mut buf = [0u8; 1024];
        let signature = decode_part(signature, &mut buf)?;
        if !key.verifies(alg, message.as_bytes(), &signature) {
            return Err(Reason::BadSignature.into());
        }
        let mut buf = [0u8; 1024];
        let payload = decode_part(payload, &mut buf)?;
        let members = Members::parse(&payload, self.level_claim.as_deref())?;
        // A token is one kind or the other, never tried as both.
        match (access::kind_of(&header, &members), &self.api_audience) {
            (access::Kind::Id, _) => self.check_claims(&members),
            (access::Kind::Access, None) => Err(Reason::AccessTokenNotAccepted),
            (access::Kind::Access, Some(api)) => self.check_access_claims(&members, api),
        }?;
        // Both checks require exp and read the dates the same way.
        let times = Times {
            exp: members.get("exp").and_then(numeric_date).unwrap_or(0),
            nbf: members.get("nbf").and_then(numeric_date),
            iat: members.get("iat").and_then(as_f64),
        };
        // Both checks have found `iss` to be the issuer and `sub` a string.
        let claims = Claims::new(
            Arc::clone(&self.issuer),
            members
                .get("sub")
                .and_then(Member::as_str)
                .unwrap_or_default(),
            members.level_text(),
            &payload,
        );
        Ok(Verified {
            claims: Arc::new(claims),
            header,
            key,
            times,
        })
    }

    /// Every claim check, in the order jsonwebtoken's validation made them
    /// (so each bad token keeps its reason code), then `sub`, `azp` and `iat`.
    fn check_claims(&self, claims: &Members) -> Result<(), Reason> {
        let iss = string_or_strings(claims, "iss")?;
        let aud = string_or_strings(claims, "aud")?;
        let exp = self.check_times(claims)?;
        self.check_issuer(iss)?;
        let audiences = match aud {
            Member::Str(s) if *s == *self.client_id => 1,
            Member::Strs(a) if a.iter().any(|v| *v == *self.client_id) => a.len(),
            _ => return Err(Reason::WrongAudience),
        };
        subject(claims)?;
        if exp.is_none() {
            return Err(Reason::MissingClaim("exp"));
        }
        match claims.get("azp") {
            None if audiences > 1 => return Err(Reason::MissingAzp),
            None => {}
            Some(Member::Str(azp)) if *azp == *self.client_id => {}
            Some(Member::Str(_)) => return Err(Reason::WrongAzp),
            Some(_) => return Err(Reason::InvalidClaim("azp")),
        }
        self.check_iat(claims)
    }

    /// An access token's checks (RFC 9068 section 4): the same issuer, times
    /// and subject as an ID token, `aud` naming the API (or, for Cognito, a
    /// scope of the API's resource server), and the client it was issued to.
    fn check_access_claims(&self, claims: &Members, api: &str) -> Result<(), Reason> {
        let iss = string_or_strings(claims, "iss")?;
        let exp = self.check_times(claims)?;
        self.check_issuer(iss)?;
        access::check_audience(claims, api)?;
        subject(claims)?;
        if exp.is_none() {
            return Err(Reason::MissingClaim("exp"));
        }
        access::check_client(claims, &self.client_id)?;
        self.check_iat(claims)
    }

    /// `exp` and `nbf` against the clock; returns `exp` when present.
    fn check_times(&self, claims: &Members) -> Result<Option<u64>, Reason> {
        let date = |name: &'static str| match claims.get(name) {
            None => Ok(None),
            Some(v) => numeric_date(v).map(Some).ok_or(Reason::InvalidClaim(name)),
        };
        let exp = date("exp")?;
        self.check_dates(exp, date("nbf")?)?;
        Ok(exp)
    }

    /// `exp` not passed and `nbf` reached, with the leeway.
    fn check_dates(&self, exp: Option<u64>, nbf: Option<u64>) -> Result<(), Reason> {
        let now = now();
        if exp.is_some_and(|exp| exp < now.saturating_sub(self.leeway)) {
            return Err(Reason::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now + self.leeway) {
            return Err(Reason::NotYetValid);
        }
        Ok(())
    }

    /// `iss`, which must be the configured issuer as a single string.
    fn check_issuer(&self, iss: &Member) -> Result<(), Reason> {
        match iss {
            Member::Str(s) if *s == *self.issuer => Ok(()),
            Member::Strs(a) if a.iter().any(|v| *v == *self.issuer) => {
                Err(Reason::InvalidClaim("iss"))
            }
            _ => Err(Reason::WrongIssuer),
        }
    }

    /// `iat`, when present, must not be in the future.
    fn check_iat(&self, claims: &Members) -> Result<(), Reason> {
        match claims.get("iat") {
            None => Ok(()),
            Some(Member::Num(n)) => match n.as_f64() {
                Some(iat) => self.check_iat_value(Some(iat)),
                None => Err(Reason::InvalidClaim("iat")),
            },
            Some(_) => Err(Reason::InvalidClaim("iat")),
        }
    }

    /// An `iat` read as a number must not be in the future.
    fn check_iat_value(&self, iat: Option<f64>) -> Result<(), Reason> {
        match iat {
            Some(iat) if iat > (now() + self.leeway) as f64 => Err(Reason::IssuedInFuture),
            _ => Ok(()),
        }
    }
}

/// The non-empty `sub`.
fn subject(claims: &Members) -> Result<(), Reason> {
    match claims.get("sub") {
        Some(Member::Str(s)) if !s.is_empty() => Ok(()),
        None => Err(Reason::MissingClaim("sub")),
        _ => Err(Reason::InvalidClaim("sub")),
    }
}

/// A NumericDate as jsonwebtoken reads one: a non-negative integer, or a
/// non-negative finite number rounded to the nearest second.
fn numeric_date(v: &Member) -> Option<u64> {
    let Member::Num(n) = v else { return None };
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// A claim that counts as present only when it is a string or an array of strings.
fn string_or_strings<'m, 'a>(
    claims: &'m Members<'a>,
    name: &'static str,
) -> Result<&'m Member<'a>, Reason> {
    claims
        .get(name)
        .filter(|v| v.is_string_or_strings())
        .ok_or(Reason::MissingClaim(name))
}

/// A number's value as `iat` is compared.
fn as_f64(v: &Member) -> Option<f64> {
    match v {
        Member::Num(n) => n.as_f64(),
        _ => None,
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Extracts the token from an `Authorization` header value: `Bearer <token>` or a bare token.
pub fn from_authorization(value: &str) -> Option<&str> {
    let value = value.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if value.eq_ignore_ascii_case("bearer") => return None,
        None => value,
    };
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token of exactly the size limit is parsed; one byte over is refused.
    #[test]
    fn the_size_limit_is_inclusive() {
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", "e".repeat(100));
        assert!(parse_header_within(&token, token.len()).is_ok());
        assert_eq!(
            parse_header_within(&token, token.len() - 1).unwrap_err(),
            Reason::TokenTooLarge
        );
    }

    /// A part that fits the stack buffer and one that does not decode alike.
    #[test]
    fn parts_decode_whatever_their_size() {
        for size in [0, 10, 383, 384, 385, 1000, 4000] {
            let text = "x".repeat(size);
            let mut buf = [0u8; 384];
            let decoded = decode_part(&URL_SAFE_NO_PAD.encode(&text), &mut buf);
            assert_eq!(decoded.as_deref(), Ok(text.as_bytes()), "{size}");
        }
        let mut buf = [0u8; 4];
        assert_eq!(decode_part("a+b", &mut buf), Err(Reason::Malformed));
        assert_eq!(
            decode_part(&"a+".repeat(50), &mut buf),
            Err(Reason::Malformed)
        );
        let kid = "k".repeat(2000);
        let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#));
        assert_eq!(
            parse_header(&format!("{h}.e30.x")).map(|h| h.kid),
            Ok(Some(kid))
        );
    }

    /// The base64url alphabet, byte for byte, and nothing else.
    #[test]
    fn base64url_alphabet() {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for c in (0..128u8)
            .map(char::from)
            .chain(['é', '\u{2d}', '\u{ff3f}'])
        {
            let text = format!("{alphabet}{c}{alphabet}");
            assert_eq!(is_base64url(&text), alphabet.contains(c), "{c:?}");
        }
        assert!(is_base64url(""));
    }

    #[test]
    fn header_checks_run_before_decoding() {
        let big = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(parse_header(&big), Err(Reason::TokenTooLarge));
        assert_eq!(parse_header("eyJa.b"), Err(Reason::Malformed));
        assert_eq!(parse_header("eyJa.b.c.d"), Err(Reason::Malformed));
        // Google's access tokens look like this: no JWT, nothing to verify here.
        assert_eq!(
            parse_header("ya29.a0AfB_byC-opaque"),
            Err(Reason::OpaqueToken)
        );
        assert_eq!(parse_header("opaque"), Err(Reason::OpaqueToken));
        assert_eq!(parse_header("a+.b.c"), Err(Reason::Malformed));
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#);
        assert_eq!(
            parse_header(&format!("{h}.e30.sig")),
            Ok(Header {
                alg: "RS256".into(),
                kid: Some("k1".into()),
                typ: None
            })
        );
        let arr = URL_SAFE_NO_PAD.encode(r#"["RS256"]"#);
        assert_eq!(
            parse_header(&format!("{arr}.e30.x")),
            Err(Reason::MalformedHeader)
        );
    }

    /// The header's members as read without a JSON map: others skipped,
    /// `crit` refused in any form, wrong types and repeated members refused.
    #[test]
    fn header_members() {
        let parse = |json: &str| parse_header(&format!("{}.e30.x", URL_SAFE_NO_PAD.encode(json)));
        assert_eq!(
            parse(r#" {"typ":null,"x5t":{"a":[1]},"alg":"ES256","typ2":1}"#),
            Ok(Header {
                alg: "ES256".into(),
                kid: None,
                typ: None
            })
        );
        assert_eq!(
            parse(r#"{"alg":"RS256","typ":"JWT","kid":"k\u0031"}"#).map(|h| (h.typ, h.kid)),
            Ok((Some("JWT".into()), Some("k1".into())))
        );
        for bad in [
            r#"{"alg":"RS256","crit":null}"#,
            r#"{"alg":"RS256","crit":[]}"#,
            r#"{"alg":null}"#,
            r#"{"kid":"k"}"#,
            r#"{"alg":"RS256","kid":7}"#,
            r#"{"alg":"RS256","typ":["JWT"]}"#,
            r#"{"alg":"none","alg":"RS256"}"#,
            r#""RS256""#,
            r#"{"alg":"RS256"} x"#,
        ] {
            assert_eq!(parse(bad), Err(Reason::MalformedHeader), "{bad}");
        }
    }

    #[test]
    fn bearer_or_bare() {
        assert_eq!(from_authorization("Bearer abc"), Some("abc"));
        assert_eq!(from_authorization("bearer  abc "), Some("abc"));
        assert_eq!(from_authorization("abc"), Some("abc"));
        assert_eq!(from_authorization("Basic abc"), None);
        assert_eq!(from_authorization("Bearer "), None);
    }
}
