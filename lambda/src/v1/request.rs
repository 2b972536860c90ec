//! Reading `/api/v1/customer_attributes` requests: the POST body, the GET
//! query's lists, and the GET's `attributes=<URL-encoded JSON>`, which is
//! the POST body in a query parameter.

use crate::attributes::ValidationFailure;
use crate::request::{AttributesRequest, percent_decode};

/// Reads a JSON body. The CIDM guide's examples carry trailing commas
/// (`"signed": true, }`); clients copy them, so a comma before a closing
/// bracket is dropped. Nothing else is relaxed.
pub fn from_json(body: &[u8]) -> Result<AttributesRequest, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
    serde_json::from_str(&without_trailing_commas(text)).map_err(|e| e.to_string())
}

/// The forms `sign` takes: what clients send for a boolean.
pub const SIGN_FORMS: [&str; 6] = ["true", "false", "True", "False", "1", "0"];

/// Reads a GET query: `attributes` (the POST body as JSON), then
/// `authoritative_attributes` and `self_asserted_attributes`, `sign`,
/// `audience` and `nonce`, as `/api/attributes` reads them.
pub fn from_query(query: &str) -> Result<AttributesRequest, ValidationFailure> {
    if let Some(bad) = query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        (k == "sign" && !SIGN_FORMS.contains(&v.as_str())).then_some(v)
    }) {
        return Err(ValidationFailure {
            property: "sign".into(),
            failure_reason: format!(
                "{bad:?} is not a boolean: use true or false (True/False and 1/0 are accepted too)"
            ),
        });
    }
    let mut out = AttributesRequest::from_query(query);
    let json = query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "attributes").then(|| percent_decode(v))
    });
    if let Some(json) = json {
        let given = from_json(json.as_bytes()).map_err(|e| ValidationFailure {
            property: "attributes".into(),
            failure_reason: format!("not the JSON of a CustomerAttributesRequest: {e}"),
        })?;
        let mut attributes = given.attributes;
        attributes.append(&mut out.attributes);
        out.attributes = attributes;
        out.audience = out.audience.or(given.audience);
        out.nonce = out.nonce.or(given.nonce);
    }
    Ok(out)
}

fn without_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::{Definition, Pedigree};

    #[test]
    fn the_guides_example_with_its_slips_reads() {
        let body = r#"{"attributes": [
            {"name": "GivenName", "definition": {"pedigree": "SELF_ASSERTED", "signed": true,}},
            {"name": "FamilyName", "definition": {"pedigree": "AUTHORITATIVE", "signed": true,}},
            {"name": "Senior", "definition": {"source": "FORMULA", "forumla": "Age >= 65, ok"}},
            {"name": "Email"}
        ]}"#;
        let r = from_json(body.as_bytes()).unwrap();
        assert_eq!(r.attributes.len(), 4);
        assert_eq!(
            r.attributes[2].definition.formula.as_deref(),
            Some("Age >= 65, ok")
        );
        assert_eq!(r.attributes[3].definition, Definition::default());
        assert_eq!(r.attributes[3].definition.pedigree, Pedigree::SelfAsserted);
        // Only a comma before a closing bracket goes; a doubled one stays an error.
        assert!(from_json(br#"{"attributes": [{"name": "A"},,]}"#).is_err());
    }

    #[test]
    fn attributes_in_the_query_and_lists_together() {
        let q = "attributes=%7B%22attributes%22%3A%5B%7B%22name%22%3A%22Email%22%7D%5D%7D\
                 &authoritative_attributes=DateOfBirth";
        let r = from_query(q).unwrap();
        let names: Vec<_> = r.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Email", "DateOfBirth"]);
        assert_eq!(
            from_query("attributes=%7B").unwrap_err().property,
            "attributes"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41b"), "Ab");
    }

    #[test]
    fn sign_takes_the_boolean_forms_and_refuses_others() {
        for (form, signed) in [
            ("true", true),
            ("True", true),
            ("1", true),
            ("false", false),
            ("False", false),
            ("0", false),
        ] {
            let r = from_query(&format!("self_asserted_attributes=Email&sign={form}")).unwrap();
            assert_eq!(r.attributes[0].definition.signed, signed, "{form}");
        }
        for bad in ["yes", "TRUE", "", "2", "on"] {
            let f = from_query(&format!("self_asserted_attributes=Email&sign={bad}")).unwrap_err();
            assert_eq!(f.property, "sign", "{bad}");
        }
    }
}
