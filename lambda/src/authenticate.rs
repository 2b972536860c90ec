//! The identity token of a request, verified, and the assurance level it
//! carries checked against the stack's: the first step of every route that
//! answers about the user.

use lambda_http::Request;

use crate::exchange::{Outcome, done};
use crate::level;
use crate::ready::Ready;
use crate::response;
use crate::token::{self, Claims, Reason, VerifyError};

/// Verifies the request's identity token and its assurance level.
pub(crate) async fn authenticate(
    ready: &Ready,
    req: &Request,
) -> Result<(std::sync::Arc<Claims>, Option<level::Level>), Outcome> {
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(visible_text);
    let Some(token) = header.and_then(token::from_authorization) else {
        let r = Reason::MissingToken;
        return Err(done(response::unauthorized(&r), r.code()));
    };
    let claims = match ready.verifier.verify(token).await {
        Ok(c) => c,
        Err(VerifyError::Rejected(r)) => return Err(done(response::unauthorized(&r), r.code())),
        Err(VerifyError::KeysUnavailable(e)) => {
            tracing::warn!(error = %e, "issuer keys unavailable");
            return Err(done(
                response::error(
                    503,
                    "issuer_unavailable",
                    "the identity provider's keys could not be fetched",
                ),
                "jwks_unavailable",
            ));
        }
    };
    let s = &ready.settings;
    let level = level::of_value(claims.level(), &s.level_map);
    if let Some(required) = ready.required_level
        && level.is_none_or(|l| l < required)
    {
        return Err(done(
            response::insufficient_assurance(required.as_str()),
            "insufficient_assurance",
        ));
    }
    Ok((claims, level))
}

/// The header's text when it is all visible ASCII or tabs, as
/// `HeaderValue::to_str` has it, but looking at every byte without a branch a
/// byte: a token is hundreds of bytes, and this runs on every request.
fn visible_text(v: &http::HeaderValue) -> Option<&str> {
    let bytes = v.as_bytes();
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & ((b == b'\t') | (0x20..0x7f).contains(&b))
    });
    // All ASCII, so valid UTF-8.
    visible.then(|| std::str::from_utf8(bytes).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::visible_text;

    /// Byte for byte the header text `to_str` accepts, and nothing else.
    #[test]
    fn visible_text_is_to_str() {
        for b in 0..=255u8 {
            let bytes = [b'a', b, b'z'];
            if let Ok(v) = http::HeaderValue::from_bytes(&bytes) {
                assert_eq!(visible_text(&v), v.to_str().ok(), "byte {b:#04x}");
            }
        }
        let token = http::HeaderValue::from_static("Bearer eyJ.eyJ.sig-_0");
        assert_eq!(visible_text(&token), Some("Bearer eyJ.eyJ.sig-_0"));
    }
}
