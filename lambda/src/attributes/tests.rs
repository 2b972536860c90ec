use super::*;
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
    let p = Profile::new(&claims, &[], None);
    let today = date!(2025 - 01 - 01);
    // email_verified makes Email authoritative; GivenName is only self-asserted.
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
