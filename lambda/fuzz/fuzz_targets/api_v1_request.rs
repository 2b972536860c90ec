//! Untrusted `/api/v1/customer_attributes` and `/api/attributes` requests:
//! the JSON body (trailing commas dropped), the GET query's lists and its
//! URL-encoded JSON, then the name and formula checks and the binding checks.
#![no_main]

use colorid_lambda::attribute_names::AttributeNames;
use colorid_lambda::validation::{NameRule, validate_with};
use colorid_lambda::request::AttributesRequest;
use colorid_lambda::v1::request::{from_json, from_query};
use libfuzzer_sys::fuzz_target;

fn check(req: &AttributesRequest, names: &AttributeNames) {
    let _ = req.binding_failures();
    for rule in [NameRule::InTable, NameRule::WithClaim] {
        if let Ok(formulas) = validate_with(&req.attributes, names, rule) {
            assert_eq!(formulas.len(), req.attributes.len());
            // A formula that passed never carries an attribute's or claim's name.
            for (r, f) in req.attributes.iter().zip(&formulas) {
                if f.is_some() {
                    assert!(!names.all_names().any(|n| n.eq_ignore_ascii_case(&r.name)));
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let names = AttributeNames::default();
    if let Ok(req) = from_json(data) {
        check(&req, &names);
    }
    if let Ok(req) = AttributesRequest::from_body(data) {
        check(&req, &names);
    }
    let Ok(query) = std::str::from_utf8(data) else { return };
    if let Ok(req) = from_query(query) {
        check(&req, &names);
    }
    check(&AttributesRequest::from_query(query), &names);
});
