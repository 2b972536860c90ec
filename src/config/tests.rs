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

pub(super) fn check(text: &str) -> Result<Stack, ConfigError> {
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

/// The example's `[publish]` section names every key `PublishSettings` reads,
/// each with the default the code uses, so the documented defaults cannot drift.
#[test]
fn the_example_documents_every_publish_setting_with_its_default() {
    let text = include_str!("../../stack.toml");
    let example: toml::Table = toml::from_str(text).expect("the example parses");
    let documented = example
        .get("publish")
        .and_then(toml::Value::as_table)
        .expect("the example stack.toml has a [publish] section");
    let defaults = toml::Table::try_from(crate::publish::PublishSettings::default())
        .expect("the defaults serialize");
    let keys = |t: &toml::Table| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(documented), keys(&defaults), "keys of [publish]");
    assert_eq!(documented, &defaults, "values of [publish]");
    let stack = check(text).expect("the example stack.toml must be valid");
    assert_eq!(stack.publish, crate::publish::PublishSettings::default());
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
fn regions_of_other_partitions_are_refused_with_the_reason() {
    for (region, partition) in [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")] {
        let err = check(&GOOD.replace("eu-west-1", region)).unwrap_err();
        let p = &err.problems[0];
        assert_eq!((p.field.as_str(), p.line, p.column), ("region", 3, 10));
        assert!(p.message.contains(partition), "{}", p.message);
        assert!(p.hint.contains("commercial region"), "{}", p.hint);
    }
}

#[test]
fn origin_access_identity_is_refused_where_it_cannot_read_the_bucket() {
    let text = GOOD.replace(
        "hosted_zone = \"example.com\"",
        "hosted_zone = \"example.com\"\norigin_access = \"identity\"",
    );
    assert_eq!(check(&text).unwrap().origin_access, OriginAccess::Identity);
    let err = check(&text.replace("eu-west-1", "ap-southeast-4")).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.field.as_str(), p.line), ("origin_access", 6));
    assert!(p.message.contains("ap-southeast-4"), "{}", p.message);
    assert!(p.hint.contains("\"control\""), "{}", p.hint);
    // Origin access control works everywhere.
    let control = text
        .replace("\"identity\"", "\"control\"")
        .replace("eu-west-1", "ap-southeast-4");
    assert_eq!(
        check(&control).unwrap().origin_access,
        OriginAccess::Control
    );
}

#[test]
fn hosted_zone_id_is_optional_and_loses_its_prefix() {
    assert_eq!(check(GOOD).unwrap().hosted_zone_id, None);
    let with = |id: &str| {
        GOOD.replace(
            "hosted_zone = \"example.com\"",
            &format!("hosted_zone = \"example.com\"\nhosted_zone_id = \"{id}\""),
        )
    };
    for given in ["Z0123456789ABCDEFGHIJ", "/hostedzone/Z0123456789ABCDEFGHIJ"] {
        let s = check(&with(given)).unwrap();
        assert_eq!(s.hosted_zone_id.as_deref(), Some("Z0123456789ABCDEFGHIJ"));
    }
    let err = check(&with("example.com")).unwrap_err();
    assert_eq!(
        (err.problems[0].field.as_str(), err.problems[0].line),
        ("hosted_zone_id", 6)
    );
}

#[test]
fn every_certificate_name_is_an_alias() {
    let text = GOOD.replace(
        "hosted_zone = \"example.com\"",
        "hosted_zone = \"example.com\"\ncertificate_names = [\"www.color.example.com\", \"*.color.example.com\"]",
    );
    let s = check(&text).unwrap();
    assert_eq!(
        s.aliases(),
        [
            "color.example.com",
            "www.color.example.com",
            "*.color.example.com"
        ]
    );
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

/// Issue 25, item 9: whatever the error (a TOML syntax error included), a line
/// that may hold a secret is never shown.
#[test]
fn a_line_that_may_hold_a_secret_is_never_shown_whatever_the_error() {
    for tail in [
        "[secrets]app_secret = \"hunter2-literal-secret-value\"\n",
        "[secrets]\napp_secret = \"hunter2-literal-secret-value\n",
        "[secrets]\napp_secret = \"hunter2-literal-secret-value\" junk\n",
        "[secrets]\nsigning_key = \"\"\"\n-----BEGIN PRIVATE KEY-----\nhunter2 = x\n",
        "[secrets]\n\"hunter2-literal-secret-value\"\n",
        "[secrets]\nhunter2 hunter2\n",
        "secrets = { app_secret = \"hunter2-literal-secret-value\" \n",
        "[identity.extra]\norigin_verify = hunter2\n",
    ] {
        let text = format!("{GOOD}\n{tail}");
        let err = check(&text).unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("hunter2"), "{tail:?}:\n{shown}");
        assert!(err.problems.iter().all(|p| p.line > 0), "{shown}");
    }
    // A line far from any secret is still shown.
    let err = check(&GOOD.replace("region = \"eu-west-1\"", "region = eu-west-1")).unwrap_err();
    assert!(err.to_string().contains("region = eu-west-1"), "{err}");
}

#[test]
fn a_domain_longer_than_acms_64_character_first_name_is_refused_with_its_line() {
    let long = format!("{}.example.com", "a".repeat(52)); // 64 characters: the limit
    assert!(check(&GOOD.replace("color.example.com", &long)).is_ok());
    let too_long = format!("{}.example.com", "a".repeat(53));
    let err = check(&GOOD.replace("color.example.com", &too_long)).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.field.as_str(), p.line), ("domain", 4));
    assert!(p.message.contains("65 characters"), "{}", p.message);
    assert!(p.hint.contains("certificate_names"), "{}", p.hint);
}

#[test]
fn api_audience_is_optional_and_checked() {
    assert_eq!(check(GOOD).unwrap().identity.api_audience, None);
    let set = format!("{GOOD}api_audience = \"https://api.example.com\"\n");
    assert_eq!(
        check(&set).unwrap().identity.api_audience.as_deref(),
        Some("https://api.example.com")
    );
    for bad in ["", "has space", "quote\\\"d"] {
        let text = format!("{GOOD}api_audience = \"{bad}\"\n");
        let err = check(&text).expect_err(bad);
        let p = &err.problems[0];
        assert_eq!(
            (p.line, p.field.as_str()),
            (10, "identity.api_audience"),
            "{bad}"
        );
        assert!(err.to_string().contains("remove the field"), "{err}");
    }
}

/// Issue 25, item 6: a plain-http issuer (the test provider's shape) is a
/// stack-file error naming `identity.issuer`, unless the stack goes to the
/// local emulator.
#[test]
fn a_plain_http_issuer_is_refused_unless_local() {
    let text = GOOD.replace("https://auth.civic.com/oauth/", "http://127.0.0.1:9000");
    let err = check(&text).unwrap_err();
    let p = &err.problems[0];
    assert_eq!((p.field.as_str(), p.line), ("identity.issuer", 8), "{err}");
    assert!(p.message.contains("--local"), "{err}");
    let local = parse_for(Path::new("/tmp/stack.toml"), &text, true).expect("local");
    assert!(crate::stack::function_environment::plain_settings(&local).loopback_issuer);
    assert!(
        !crate::stack::function_environment::plain_settings(&check(GOOD).unwrap()).loopback_issuer
    );
    let remote = GOOD.replace("https://auth.civic.com/oauth/", "http://auth.example.com");
    assert!(parse_for(Path::new("/tmp/stack.toml"), &remote, true).is_err());
}
