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
        .and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(token::from_authorization) else {
        let r = Reason::MissingToken;
        return Err(done(response::unauthorized(&r), &r.code()));
    };
    let claims = match ready.verifier.verify(token).await {
        Ok(c) => c,
        Err(VerifyError::Rejected(r)) => return Err(done(response::unauthorized(&r), &r.code())),
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
    let level = level::of_claims(&claims.all, &s.level_claim, &s.level_map);
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
