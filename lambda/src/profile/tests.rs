use super::*;
use crate::attributes::Definition;
use crate::validation::validate;
use time::macros::date;

fn profile_claims() -> Map<String, Value> {
    json!({"sub": "u1", "birthdate": "1960-06-15", "email": "a@b.c", "email_verified": true,
           "given_name": "Ada"})
    .as_object()
    .unwrap()
    .clone()
}

fn req(name: &str, pedigree: Pedigree, formula: Option<&str>) -> Requested {
    Requested {
        name: name.into(),
        definition: Definition {
            source: if formula.is_some() {
                Source::Formula
            } else {
                Source::Attribute
            },
            pedigree,
            signed: false,
            formula: formula.map(String::from),
        },
    }
}

#[test]
fn age_formula_either_side_of_the_birthday() {
    let claims = profile_claims();
    let verified = vec!["birthdate".to_string()];
    let p = Profile::new(&claims, &verified, None);
    let r = req("Over65", Pedigree::Authoritative, Some("Age >= 65"));
    let f = validate(std::slice::from_ref(&r)).unwrap().remove(0);
    let day_before = p.release(&r, f.as_ref(), date!(2025 - 06 - 14)).unwrap();
    assert_eq!(day_before["value"], json!(false));
    let birthday = p.release(&r, f.as_ref(), date!(2025 - 06 - 15)).unwrap();
    assert_eq!(birthday["value"], json!(true));
    assert_eq!(birthday["metadata"][0]["value"], json!("AUTHORITATIVE"));
}

#[test]
fn constant_formulas_and_attribute_names_are_refused() {
    // Each of these would have been signed as an AUTHORITATIVE value.
    for (name, formula, property) in [
        ("Email", "\"victim@example.com\"", ".name"),
        ("Mail", "\"victim@example.com\"", ".definition.formula"),
        ("Level", "\"AAL3\"", ".name"),
        ("level", "Email == \"x\"", ".name"),
        ("EMAIL", "Email == \"x\"", ".name"),
        ("email_verified", "Email == \"x\"", ".name"),
        ("age", "Age > 3", ".name"),
        ("sub", "Email == \"x\"", ".name"),
        ("Emaіl", "Email == \"x\"", ".name"),
        ("Always", "true", ".definition.formula"),
        ("Seven", "7", ".definition.formula"),
    ] {
        let failures =
            validate(&[req(name, Pedigree::Authoritative, Some(formula))]).expect_err(name);
        let props: Vec<&str> = failures.iter().map(|f| f.property.as_str()).collect();
        assert!(
            props.contains(&format!("attributes[0]{property}").as_str()),
            "{name} = {formula}: {props:?}"
        );
    }
    assert!(validate(&[req("IsAdult", Pedigree::Authoritative, Some("Age >= 18"))]).is_ok());
}

#[test]
fn formula_results_are_marked_as_formulas() {
    let claims = profile_claims();
    let verified = vec!["birthdate".to_string()];
    let p = Profile::new(&claims, &verified, None);
    let r = req("Over65", Pedigree::SelfAsserted, Some("Age >= 65"));
    let f = validate(std::slice::from_ref(&r)).unwrap().remove(0);
    let today = date!(2025 - 06 - 15);
    let v = p.release(&r, f.as_ref(), today).unwrap();
    assert_eq!(
        v["metadata"][1],
        json!({"name": "source", "value": "FORMULA"})
    );
    let email = p
        .release(&req("Email", Pedigree::SelfAsserted, None), None, today)
        .unwrap();
    assert_eq!(email["metadata"][1]["value"], json!("ATTRIBUTE"));
}

#[test]
fn pedigree_gates_release() {
    let claims = profile_claims();
    let verified = vec!["email".to_string()];
    let p = Profile::new(&claims, &verified, None);
    let today = date!(2025 - 01 - 01);
    // Listed and email_verified: Email is authoritative; GivenName is only self-asserted.
    assert!(
        p.release(&req("Email", Pedigree::Authoritative, None), None, today)
            .is_some()
    );
    assert!(
        p.release(
            &req("GivenName", Pedigree::Authoritative, None),
            None,
            today
        )
        .is_none()
    );
    let given = p
        .release(&req("GivenName", Pedigree::SelfAsserted, None), None, today)
        .unwrap();
    assert_eq!(given["metadata"][0]["value"], json!("SELF_ASSERTED"));
    // Age from a self-asserted birthdate cannot be released as authoritative.
    let r = req("Old", Pedigree::Authoritative, Some("Age > 1"));
    let f = validate(std::slice::from_ref(&r)).unwrap().remove(0);
    assert!(p.release(&r, f.as_ref(), today).is_none());
}

/// The pedigree `Email` (or another attribute) is released with.
fn pedigree(claims: Value, verified: &[&str], name: &str) -> Option<Value> {
    let claims = claims.as_object().unwrap().clone();
    let verified: Vec<String> = verified.iter().map(|s| s.to_string()).collect();
    let p = Profile::new(&claims, &verified, None);
    let v = p.release(
        &req(name, Pedigree::SelfAsserted, None),
        None,
        date!(2025 - 01 - 01),
    )?;
    Some(v["metadata"][0]["value"].clone())
}

#[test]
fn email_verified_false_gives_self_asserted() {
    let auth = Some(json!("AUTHORITATIVE"));
    let selfa = Some(json!("SELF_ASSERTED"));
    let email = |flag: Value| json!({"sub": "u", "email": "a@b.c", "email_verified": flag});
    // Listed in verified_claims, but the token says the address is not verified.
    assert_eq!(pedigree(email(json!(false)), &["email"], "Email"), selfa);
    // A string is not the boolean OpenID Connect defines.
    assert_eq!(pedigree(email(json!("true")), &["email"], "Email"), selfa);
    assert_eq!(
        pedigree(json!({"sub": "u", "email": "a@b.c"}), &["email"], "Email"),
        selfa
    );
    assert_eq!(pedigree(email(json!(true)), &["email"], "Email"), auth);
    // The flag alone is not enough: the stack must list the claim.
    assert_eq!(pedigree(email(json!(true)), &[], "Email"), selfa);
    let phone =
        |flag: Value| json!({"sub": "u", "phone_number": "+1", "phone_number_verified": flag});
    assert_eq!(
        pedigree(phone(json!(false)), &["phone_number"], "PhoneNumber"),
        selfa
    );
    assert_eq!(
        pedigree(phone(json!(true)), &["phone_number"], "PhoneNumber"),
        auth
    );
}

#[test]
fn no_other_claim_verified_flag_is_trusted() {
    let auth = Some(json!("AUTHORITATIVE"));
    let selfa = Some(json!("SELF_ASSERTED"));
    let claims = json!({"sub": "u", "given_name": "Ada", "given_name_verified": true,
        "birthdate": "1960-06-15", "birthdate_verified": true});
    assert_eq!(pedigree(claims.clone(), &[], "GivenName"), selfa);
    assert_eq!(pedigree(claims.clone(), &[], "DateOfBirth"), selfa);
    // A claim OpenID Connect gives no flag is authoritative when listed, flag or not.
    assert_eq!(pedigree(claims, &["birthdate"], "DateOfBirth"), auth);
}

/// A claim is an attribute value when it is a non-empty string, a non-empty
/// array of strings, a number or a boolean; anything else is no value.
#[test]
fn only_usable_claim_values_are_attributes() {
    let claims = serde_json::json!({
        "name": "", "amr": [], "given_name": ["a", 1], "family_name": 42,
        "nickname": true, "middle_name": null, "locale": {"x": 1},
        "preferred_username": ["a", "b"], "email": "a@example.com",
    });
    let claims = claims.as_object().unwrap();
    let profile = Profile::new(claims, &[], None);
    let value = |name: &str| profile.get(name).map(|(v, _)| v);
    for name in [
        "Name",
        "AuthenticationMethod",
        "GivenName",
        "MiddleName",
        "Locale",
        "Picture",
    ] {
        assert_eq!(value(name), None, "{name}");
    }
    assert_eq!(value("FamilyName"), Some(serde_json::json!(42)));
    assert_eq!(value("Nickname"), Some(Value::Bool(true)));
    assert_eq!(
        value("PreferredUsername"),
        Some(serde_json::json!(["a", "b"]))
    );
    assert_eq!(value("Email"), Some(serde_json::json!("a@example.com")));
}

/// Age is 0 on the day of birth and none for a birth date still to come; a
/// `0000` year (some providers' "unknown") is no date at all.
#[test]
fn age_at_the_edges() {
    let at = |birthdate: &str, today: Date| {
        let claims = serde_json::json!({ "birthdate": birthdate });
        let claims = claims.as_object().unwrap().clone();
        Profile::new(&claims, &[], None)
            .age(today)
            .map(|(years, _)| years)
    };
    assert_eq!(at("2025-06-15", date!(2025 - 06 - 15)), Some(0));
    assert_eq!(at("2025-06-16", date!(2025 - 06 - 15)), None);
    assert_eq!(at("1960-06-15", date!(2025 - 06 - 15)), Some(65));
    assert_eq!(at("0000-06-15", date!(2025 - 06 - 15)), None);
    assert_eq!(parse_date("0000-01-01"), None);
    assert_eq!(parse_date("0001-01-01"), Some(date!(0001 - 01 - 01)));
}
