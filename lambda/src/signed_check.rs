//! Checking a signed attribute set a relying party hands back, for both
//! APIs: the signature, lifetime and issuer, the audience it expects and,
//! when it gives one, the nonce; answered in the API's door's wording.

use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

use crate::door::Door;
use crate::exchange::{self, Outcome, Unreadable, done};
use crate::ready::Ready;
use crate::response;
use crate::signing;
use crate::token::Reason;

#[derive(Deserialize)]
struct VerifyBody {
    signed_attributes: String,
    /// The audience the caller expects; the default audience when absent.
    #[serde(default)]
    audience: Option<String>,
    /// The nonce the caller expects, when it sent one.
    #[serde(default)]
    nonce: Option<String>,
}

/// Answers a verify request: 200 with what the set states, formula results
/// apart from attributes so none may pass for a configured attribute; 401
/// with the reason a set is refused; 400 for a body that is not a request.
pub(crate) fn serve(ready: &Ready, req: &Request, door: &Door) -> Outcome {
    let parsed = match exchange::body(req).and_then(|b| {
        serde_json::from_slice::<VerifyBody>(b).map_err(|e| Unreadable::body(e.to_string()))
    }) {
        Ok(p) => p,
        Err(u) => return done(door.unreadable(ready, &u), "bad_request"),
    };
    let audience = parsed.audience.as_deref().unwrap_or(signing::AUDIENCE);
    let verified = ready
        .signer
        .verify_for(&parsed.signed_attributes, audience)
        .and_then(|c| match &parsed.nonce {
            Some(n) if c.nonce.as_ref() != Some(n) => Err(Reason::WrongNonce),
            _ => Ok(c),
        });
    match verified {
        Ok(c) => {
            let mut body = json!({
                "attributes": c.attributes,
                "formulas": c.formulas,
                "audience": c.aud,
                "nonce": c.nonce,
                "issued_at": c.iat,
                "expires_at": c.exp,
            });
            body[door.subject_field] = json!(c.sub);
            done(response::json(200, &body), "-")
        }
        Err(r) => done(response::unauthorized(&r), r.code()),
    }
}
