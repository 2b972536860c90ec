//! What token verification reports about a token before and beyond any key:
//! the parts of its header it reads, and why it was refused. Below both the
//! ID-token checks (`token`) and the access-token checks (`access`).

use std::borrow::Cow;

/// Why a token was refused; `code()` is the stable reason code in 401 bodies and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No token in the request.
    MissingToken,
    /// More than 8 KiB.
    TokenTooLarge,
    /// Not three base64url parts, or a part that does not decode.
    Malformed,
    /// The header is not a JSON object with a string `alg`.
    MalformedHeader,
    /// The payload is not a JSON object.
    MalformedPayload,
    /// `alg` is not on the allow-list (includes `none` and HS*).
    AlgNotAllowed,
    /// The token is a colorid signed-attributes JWT, not an identity token.
    WrongTokenType,
    /// No `kid` and no single key that fits.
    MissingKid,
    /// The issuer does not publish the key.
    UnknownKid,
    /// The key's type does not match the algorithm.
    KeyAlgMismatch,
    /// The signature does not verify.
    BadSignature,
    /// `exp` has passed.
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    WrongIssuer,
    /// `aud` does not contain the client id (or, for signed attributes, is not the expected audience).
    WrongAudience,
    /// Signed attributes carry another nonce than the one expected.
    WrongNonce,
    /// `azp` is not the client id.
    WrongAzp,
    /// Several audiences and no `azp`.
    MissingAzp,
    /// A required claim (`exp`, `iss`, `aud`, `sub`) is absent.
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type.
    InvalidClaim(&'static str),
    /// Not a JWT at all: an opaque access token (Google's, for one), which
    /// only its issuer can check.
    OpaqueToken,
    /// An access token, and the stack sets no `[identity] api_audience`.
    AccessTokenNotAccepted,
    /// An access token whose client binding (`azp`, `client_id`, `cid`,
    /// `appid`) names another client.
    WrongClient,
    /// An access token with no client binding claim at all.
    MissingClient,
}

impl Reason {
    /// The stable reason code.
    pub fn code(&self) -> Cow<'static, str> {
        // The fixed codes are not copied: one is logged with every refusal.
        Cow::Borrowed(match self {
            Reason::MissingToken => "missing_token",
            Reason::TokenTooLarge => "token_too_large",
            Reason::Malformed => "malformed_token",
            Reason::MalformedHeader => "malformed_header",
            Reason::MalformedPayload => "malformed_payload",
            Reason::AlgNotAllowed => "alg_not_allowed",
            Reason::WrongTokenType => "wrong_token_type",
            Reason::MissingKid => "missing_kid",
            Reason::UnknownKid => "unknown_kid",
            Reason::KeyAlgMismatch => "key_alg_mismatch",
            Reason::BadSignature => "bad_signature",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::IssuedInFuture => "issued_in_future",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::WrongAudience => "wrong_audience",
            Reason::WrongNonce => "wrong_nonce",
            Reason::WrongAzp => "wrong_azp",
            Reason::MissingAzp => "missing_azp",
            Reason::MissingClaim(c) => return format!("missing_{c}").into(),
            Reason::InvalidClaim(c) => return format!("invalid_{c}").into(),
            Reason::OpaqueToken => "opaque_token",
            Reason::AccessTokenNotAccepted => "access_token_not_accepted",
            Reason::WrongClient => "wrong_client",
            Reason::MissingClient => "missing_client",
        })
    }

    /// What the caller can do about it, where the code alone does not say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Reason::OpaqueToken => Some(
                "an opaque access token (Google's, for one) cannot be verified here; send the ID token, or a JWT access token for the stack's api_audience",
            ),
            Reason::AccessTokenNotAccepted => Some(
                "this stack accepts ID tokens only; send the ID token, or set [identity] api_audience to accept access tokens",
            ),
            _ => None,
        }
    }
}

/// The parts of a JWT header verification looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The `alg` as written.
    pub alg: String,
    /// The `kid`, if any.
    pub kid: Option<String>,
    /// The `typ`, if any.
    pub typ: Option<String>,
}
