//! The attributes pipeline both APIs answer through, one path from request
//! to response: the verified token, the request read by the API's door, its
//! names and formulas checked against the stack's table, each value read
//! from the claims through that table and released at the wanted pedigree,
//! formulas evaluated, the signed set made, and every value a string.

use lambda_http::Request;
use serde_json::{Value, json};
use time::Date;

use crate::attributes::{Pedigree, Source, ValidationFailure};
use crate::authenticate::authenticate;
use crate::door::Door;
use crate::exchange::{Outcome, done};
use crate::level::Level;
use crate::profile::{Profile, pedigree_of};
use crate::ready::Ready;
use crate::request::AttributesRequest;
use crate::response;
use crate::signing::Statement;
use crate::token::{self, Claims};
use crate::validation::{NameRule, validate_with};

/// Answers an attributes request through `door`: 200 with the released
/// values (and `signed_attributes` when any was asked signed), 204 when none
/// has a value, 400 for a request that cannot be served.
pub(crate) async fn serve(ready: &Ready, req: &Request, today: Date, door: &Door) -> Outcome {
    let (claims, level) = match authenticate(ready, req).await {
        Ok(x) => x,
        Err(outcome) => return outcome,
    };
    let request = match (door.read)(req) {
        Ok(r) => r,
        Err(u) => return done(door.unreadable(ready, &u), "bad_request"),
    };
    match release(ready, &claims, level, request, door.names, today) {
        Ok(Some(body)) => done(response::json(200, &body), "-"),
        Ok(None) => done(response::no_content(), "no_values"),
        Err(Refused::Invalid(failures)) => done(
            (door.invalid)(ready, "the requested attributes are not valid", &failures),
            "bad_request",
        ),
        Err(Refused::SigningFailed) => done(
            response::error(500, "signing_failed", "could not sign"),
            "signing_failed",
        ),
    }
}

/// Why a request released nothing.
enum Refused {
    /// The request's names, formulas, audience or nonce.
    Invalid(Vec<ValidationFailure>),
    /// The signing key would not sign.
    SigningFailed,
}

/// The response body for `request` from the user of `claims`; `None` when no
/// requested attribute has a value at its pedigree.
fn release(
    ready: &Ready,
    claims: &Claims,
    level: Option<Level>,
    request: AttributesRequest,
    rule: NameRule,
    today: Date,
) -> Result<Option<Value>, Refused> {
    let s = &ready.settings;
    let names = &s.attribute_names;
    let requested = &request.attributes;
    let (formulas, mut failures) = match validate_with(requested, names, rule) {
        Ok(f) => (f, Vec::new()),
        Err(failures) => (Vec::new(), failures),
    };
    failures.extend(request.binding_failures());
    if !failures.is_empty() {
        return Err(Refused::Invalid(failures));
    }
    let all = claims.all();
    let profile = Profile::new(&all, &s.verified_claims, level).with_names(names);
    let mut released = Vec::new();
    let mut statement = Statement::default();
    for (r, f) in requested.iter().zip(&formulas) {
        let Some(v) = profile.release(r, f.as_ref(), today) else {
            continue;
        };
        let v = as_text(v);
        if r.definition.signed {
            if r.definition.source == Source::Formula {
                // Formula results stay out of the top level: none may pass for an attribute.
                statement.formulas.push(v.clone());
            } else {
                // Only what the issuer vouched for stands alone at the top level; the
                // rest keeps its pedigree beside it in `attributes`.
                if pedigree_of(&v) == Some(Pedigree::Authoritative) {
                    statement
                        .top_level
                        .insert(r.name.clone(), v["value"].clone());
                }
                statement.attributes.push(v.clone());
            }
        }
        released.push(v);
    }
    if released.is_empty() {
        return Ok(None);
    }
    let mut body = json!({"attributes": released});
    if !statement.attributes.is_empty() || !statement.formulas.is_empty() {
        let d = ready.deriver.derive(claims.iss(), claims.sub());
        statement.sub = d.user_identity;
        statement.audience = request.audience;
        statement.nonce = request.nonce;
        match ready.signer.sign_statement(statement, token::now()) {
            Ok(jwt) => body["signed_attributes"] = Value::String(jwt),
            Err(e) => {
                tracing::error!(error = %e, "signing attributes failed");
                return Err(Refused::SigningFailed);
            }
        }
    }
    Ok(Some(body))
}

/// A released attribute with its `value` as a string, as the Customer
/// Attributes API's `CustomerAttributeResponse` has it (`true`, `65`; a list
/// is space-separated).
fn as_text(mut released: Value) -> Value {
    let text = match released.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    released["value"] = Value::String(text);
    released
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_strings() {
        let a = as_text(json!({"name": "Senior", "value": false}));
        assert_eq!(a["value"], json!("false"));
        let a = as_text(json!({"name": "AuthenticationMethod", "value": ["pwd", "otp"]}));
        assert_eq!(a["value"], json!("pwd otp"));
        let a = as_text(json!({"name": "Email", "value": "a@b.c"}));
        assert_eq!(a["value"], json!("a@b.c"));
    }
}
