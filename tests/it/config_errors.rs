//! Bad stack files: each gets a clear error naming the line and field, exit
//! code 2, and no AWS request is made (the endpoint is a listener that counts
//! connections).

use std::path::Path;
use std::process::Command;

use crate::common::loopback::Untouched;

/// `colorid --stack <file> --endpoint-url <endpoint> <args>` with static keys:
/// its exit code and stderr.
fn run(file: &Path, endpoint: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .arg("--stack")
        .arg(file)
        .args(["--endpoint-url", endpoint])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = r#"name = "demo"
region = "eu-west-1"
domain = "color.example.com"
hosted_zone = "example.com"
price_class = "PriceClass_100"
certificate_names = ["www.color.example.com"]

[identity]
issuer = "https://auth.example.com/"
client_id = "abc"
required_level = "AAL2"

[secrets]
app_secret = { env = "COLORID_APP_SECRET" }

[function]
memory_mb = 256
timeout_seconds = 10
"#;

/// (what is changed, from, to, expected line, expected field text)
const CASES: &[(&str, &str, &str, usize, &str)] = &[
    (
        "uppercase stack name",
        "name = \"demo\"",
        "name = \"Demo\"",
        1,
        "name",
    ),
    (
        "stack name too long",
        "name = \"demo\"",
        "name = \"abcdefghijklmnopqrstuvwxyzabcdefghij\"",
        1,
        "name",
    ),
    ("unknown region", "eu-west-1", "eu-middle-7", 2, "region"),
    ("China region", "eu-west-1", "cn-north-1", 2, "region"),
    ("GovCloud region", "eu-west-1", "us-gov-west-1", 2, "region"),
    (
        "origin access identity where it cannot read the bucket",
        "region = \"eu-west-1\"",
        "region = \"ap-southeast-4\"\norigin_access = \"identity\"",
        3,
        "origin_access",
    ),
    (
        "malformed hosted zone id",
        "hosted_zone = \"example.com\"",
        "hosted_zone = \"example.com\"\nhosted_zone_id = \"zone-1\"",
        5,
        "hosted_zone_id",
    ),
    (
        "domain outside the zone",
        "domain = \"color.example.com\"",
        "domain = \"color.example.org\"",
        3,
        "domain",
    ),
    (
        "domain with underscore",
        "domain = \"color.example.com\"",
        "domain = \"co_lor.example.com\"",
        3,
        "domain",
    ),
    (
        "single-label zone",
        "hosted_zone = \"example.com\"",
        "hosted_zone = \"com\"",
        4,
        "hosted_zone",
    ),
    (
        "bad price class",
        "PriceClass_100",
        "PriceClass_50",
        5,
        "price_class",
    ),
    (
        "extra name outside zone",
        "www.color.example.com",
        "www.other.net",
        6,
        "certificate_names[0]",
    ),
    (
        "misspelled field",
        "price_class =",
        "prize_class =",
        5,
        "prize_class",
    ),
    (
        "wrong type",
        "memory_mb = 256",
        "memory_mb = \"lots\"",
        17,
        "memory_mb",
    ),
    (
        "memory out of range",
        "memory_mb = 256",
        "memory_mb = 64",
        17,
        "function.memory_mb",
    ),
    (
        "timeout out of range",
        "timeout_seconds = 10",
        "timeout_seconds = 300",
        18,
        "function.timeout_seconds",
    ),
    (
        "plain http issuer",
        "https://auth.example.com/",
        "http://auth.example.com/",
        9,
        "identity.issuer",
    ),
    (
        "empty client id",
        "client_id = \"abc\"",
        "client_id = \"\"",
        10,
        "identity.client_id",
    ),
    (
        "unknown level",
        "AAL2",
        "AAL9",
        11,
        "identity.required_level",
    ),
    (
        "secret with two sources",
        "{ env = \"COLORID_APP_SECRET\" }",
        "{ env = \"X\", file = \"y\" }",
        14,
        "secrets.app_secret",
    ),
    (
        "secret written in the file",
        "{ env = \"COLORID_APP_SECRET\" }",
        "\"a-literal-secret-value\"",
        14,
        "secrets.app_secret",
    ),
    (
        "bad env var name",
        "{ env = \"COLORID_APP_SECRET\" }",
        "{ env = \"NOT-A-VAR\" }",
        14,
        "secrets.app_secret",
    ),
    (
        "bad origin access",
        "price_class = \"PriceClass_100\"",
        "origin_access = \"public\"",
        5,
        "origin_access",
    ),
    (
        "missing identity",
        "[identity]",
        "[identityx]",
        8,
        "identityx",
    ),
    ("broken toml", "name = \"demo\"", "name = \"demo", 1, "name"),
];

#[test]
fn every_bad_stack_file_is_refused_before_any_aws_call() {
    let aws = Untouched::new();
    let dir = tempfile::tempdir().unwrap();
    assert!(CASES.len() >= 15);
    for (what, from, to, line, field) in CASES {
        assert!(GOOD.contains(from), "{what}: {from} not in the template");
        let text = GOOD.replacen(from, to, 1);
        let file = dir.path().join("stack.toml");
        std::fs::write(&file, text).unwrap();
        for command in ["plan", "up", "down", "status"] {
            let (code, stderr) = run(&file, &aws.endpoint, &[command]);
            assert_eq!(code, Some(2), "{what} ({command}): {stderr}");
            let location = format!("stack.toml:{line}:");
            assert!(
                stderr.contains(&location),
                "{what}: expected {location} in:\n{stderr}"
            );
            assert!(
                stderr.contains(field),
                "{what}: expected field {field} in:\n{stderr}"
            );
            assert!(stderr.contains("help:"), "{what}: no help in:\n{stderr}");
        }
    }
    aws.assert_untouched();
}

/// `--region` replaces the stack's region, so it is refused for the same reasons, before any AWS call.
#[test]
fn a_region_override_gets_the_stack_files_region_checks() {
    let aws = Untouched::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.toml");
    let identity = GOOD.replacen(
        "price_class = \"PriceClass_100\"",
        "origin_access = \"identity\"",
        1,
    );
    for (what, text, region, expected) in [
        ("China", GOOD, "cn-northwest-1", "aws-cn"),
        ("GovCloud", GOOD, "us-gov-east-1", "aws-us-gov"),
        ("unknown", GOOD, "eu-middle-7", "not an AWS region"),
        ("OAI", identity.as_str(), "il-central-1", "origin_access"),
    ] {
        std::fs::write(&file, text).unwrap();
        for command in ["plan", "up", "down", "status"] {
            let (code, stderr) = run(&file, &aws.endpoint, &["--region", region, command]);
            assert_eq!(code, Some(2), "{what} ({command}): {stderr}");
            assert!(
                stderr.contains("--region") && stderr.contains(expected),
                "{what} ({command}): expected --region and {expected} in:\n{stderr}"
            );
            assert!(stderr.contains("what to do:"), "{what}: {stderr}");
        }
    }
    aws.assert_untouched();
}

#[test]
fn a_missing_stack_file_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .args(["--stack", "/nonexistent/stack.toml", "plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/stack.toml"));
}

/// `up` and `publish` need the site folder: a missing one is refused before any
/// AWS call, so `up` changes nothing (it used to fail only at the publish, after
/// every resource was made).
#[test]
fn a_missing_site_dir_is_refused_before_any_aws_call() {
    let aws = Untouched::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.toml");
    let text = GOOD.replacen(
        "price_class = \"PriceClass_100\"",
        "price_class = \"PriceClass_100\"\nsite_dir = \"no-such-site\"",
        1,
    );
    std::fs::write(&file, text).unwrap();
    for command in ["up", "publish"] {
        let (code, stderr) = run(&file, &aws.endpoint, &[command]);
        assert_eq!(code, Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("site_dir") && stderr.contains("no-such-site"),
            "{command}: {stderr}"
        );
    }
    aws.assert_untouched();
}
