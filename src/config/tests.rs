use super::*;

const GOOD: &str = r#"
name = "demo"
region = "eu-west-1"
domain = "color.example.com"
hosted_zone = "example.com"

[identity]
issuer = "https://auth.civic.com/oauth/"
client_id = "abc"
"#;

fn check(text: &str) -> Result<Stack, ConfigError> {
    parse(Path::new("/tmp/stack.toml"), text)
}

#[test]
fn minimal_stack_gets_defaults() {
    let s = check(GOOD).expect("valid");
    assert_eq!(s.origin_access, OriginAccess::Control);
    assert_eq!(s.price_class, "PriceClass_100");
    assert_eq!(s.site_dir, Path::new("/tmp/site"));
    assert_eq!(s.identity.level_claim, "acr");
    assert_eq!(s.secrets.app_secret, SecretSource::Generate);
    assert_eq!(s.function.memory_mb, 256);
}

#[test]
fn the_example_stack_is_valid() {
    let text = include_str!("../../stack.toml");
    check(text).expect("the example stack.toml must be valid");
}

#[test]
fn errors_name_line_column_and_field() {
    let text = GOOD.replace("color.example.com", "color.example.org");
    let err = check(&text).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.line, p.field.as_str()), (4, "domain"));
    assert_eq!(p.column, 10);
    let shown = err.to_string();
    assert!(shown.contains("/tmp/stack.toml:4:10"), "{shown}");
    assert!(shown.contains("help:"), "{shown}");
}

#[test]
fn unknown_fields_are_named() {
    let text = GOOD.replace("region =", "regoin =");
    let err = check(&text).unwrap_err();
    assert!(err.to_string().contains("regoin"), "{err}");
    assert_eq!(err.problems[0].line, 3);
}

#[test]
fn secrets_need_exactly_one_source() {
    let text = format!("{GOOD}\n[secrets]\napp_secret = {{ env = \"A\", file = \"b\" }}\n");
    let err = check(&text).unwrap_err();
    assert_eq!(err.problems[0].field, "secrets.app_secret");
    let ok = format!("{GOOD}\n[secrets]\napp_secret = {{ file = \"secret.txt\" }}\n");
    let s = check(&ok).unwrap();
    assert_eq!(
        s.secrets.app_secret,
        SecretSource::File("/tmp/secret.txt".into())
    );
}

#[test]
fn every_problem_is_reported() {
    let text = GOOD
        .replace("\"demo\"", "\"Demo\"")
        .replace("eu-west-1", "eu-west-9");
    let err = check(&text).unwrap_err();
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["name", "region"]);
}

#[test]
fn a_secret_written_in_the_file_is_refused_and_never_shown() {
    for value in [
        "\"hunter2-literal-secret-value\"",
        "424242424242",
        "{ env = \"A\", value = \"hunter2-literal-secret-value\" }",
    ] {
        let text = format!("{GOOD}\n[secrets]\napp_secret = {value}\n");
        let err = check(&text).unwrap_err();
        let shown = err.to_string();
        assert_eq!(err.problems[0].field, "secrets.app_secret", "{shown}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("424242"),
            "{shown}"
        );
        assert!(!shown.contains("RawSecret"), "{shown}");
        assert!(shown.contains("{ env = "), "{shown}");
    }
}
