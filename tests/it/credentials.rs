//! Credential and permission failures, as a user without a working AWS set-up
//! meets them: the real binary, a HOME of the test's own, no instance metadata,
//! and a local endpoint that answers the way AWS answers (its JSON error
//! bodies). Each message is at most three plain lines and names its fix.

use crate::common;
use crate::common::loopback::aws_answering;

use std::path::Path;
use std::process::{Command, Output};

/// `colorid <args>` against real-AWS settings (no --local), with `home` as HOME and
/// nothing else to find credentials in.
fn colorid(
    home: &Path,
    stack: &Path,
    endpoint: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_colorid"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "RUST_LOG" || k == "NO_COLOR" {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--stack")
        .arg(stack)
        .args(["--endpoint-url", endpoint])
        .args(args)
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null());
    cmd.output().expect("run colorid")
}

/// The stderr of a failed run, checked for what every such message must be.
fn message(out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{err}");
    let lines = err.lines().count();
    assert!(
        (1..=3).contains(&lines),
        "at most three lines, got {lines}:\n{err}"
    );
    for noise in [
        "WARN",
        "Error {",
        "DispatchFailure",
        "ConnectorError",
        "source:",
        "\x1b[",
    ] {
        assert!(!err.contains(noise), "{noise:?} in:\n{err}");
    }
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn setup() -> (tempfile::TempDir, common::TestStack) {
    let home = tempfile::tempdir().unwrap();
    let stack = common::TestStack::new("creds");
    // Real-AWS settings (no --local) take only an https issuer; these runs stop at
    // the credentials, before the provider is read.
    let text = std::fs::read_to_string(stack.file()).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("issuer = ") {
                "issuer = \"https://issuer.example.com/\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(stack.file(), text).unwrap();
    (home, stack)
}

const STATIC_KEYS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
];

/// `colorid <args>` with no credentials but `home`'s, against an endpoint it must
/// not reach: the message of its exit code 2.
fn refused_before_aws(home: &Path, stack: &common::TestStack, args: &[&str]) -> String {
    let endpoint = aws_answering(500, "InternalFailure", "must not be reached".into());
    let out = colorid(home, &stack.file(), &endpoint, args, &[]);
    let err = message(&out, 2);
    assert!(!err.contains("must not be reached"), "{err}");
    err
}

/// `colorid <args>` with static keys against an endpoint that answers every call
/// with `status`, `code` and `text`: the message of its exit code 1.
fn refused_by_aws(
    home: &Path,
    stack: &common::TestStack,
    args: &[&str],
    (status, code, text): (u16, &'static str, String),
) -> String {
    let endpoint = aws_answering(status, code, text);
    let out = colorid(home, &stack.file(), &endpoint, args, &STATIC_KEYS);
    message(&out, 1)
}

#[test]
fn no_credentials_says_aws_configure_or_local() {
    let (home, stack) = setup();
    let err = refused_before_aws(home.path(), &stack, &["plan"]);
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(
        err.contains("`aws configure`") && err.contains("--local"),
        "{err}"
    );
}

#[test]
fn an_unknown_profile_names_the_profiles_there_are() {
    let (home, stack) = setup();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = eu-west-1\n[profile staging]\nregion = eu-west-1\n",
    )
    .unwrap();
    let err = refused_before_aws(home.path(), &stack, &["--profile", "prod", "plan"]);
    assert!(err.contains("\"prod\" is not in ~/.aws/config"), "{err}");
    assert!(err.contains("default, staging"), "{err}");
    assert!(err.contains("aws configure --profile prod"), "{err}");
}

#[test]
fn an_expired_sso_session_says_aws_sso_login() {
    let (home, stack) = setup();
    std::fs::create_dir_all(home.path().join(".aws/sso/cache")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile work]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Deployer\nregion = eu-west-1\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    )
    .unwrap();
    // The token `aws sso login` cached for the session (file named by the SHA-1 of
    // "corp"), expired and without a refresh token.
    std::fs::write(
        home.path().join(".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"expired-token","expiresAt":"2024-01-01T00:00:00Z","region":"eu-west-1","startUrl":"https://corp.awsapps.com/start"}"#,
    )
    .unwrap();
    let err = refused_before_aws(home.path(), &stack, &["--profile", "work", "status"]);
    assert!(
        err.contains("SSO session of profile work has expired"),
        "{err}"
    );
    assert!(err.contains("`aws sso login --profile work`"), "{err}");
    assert!(
        !err.contains("expired-token"),
        "the token is never shown:\n{err}"
    );
}

#[test]
fn access_denied_names_the_action_and_the_resource() {
    let (home, stack) = setup();
    let resource = format!(
        "arn:aws:ssm:eu-west-1:123456789012:parameter/colorid/{}/state",
        stack.name
    );
    let answer = (
        400,
        "AccessDeniedException",
        format!(
            "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ssm:GetParameter on resource: {resource} because no identity-based policy allows the ssm:GetParameter action"
        ),
    );
    let err = refused_by_aws(home.path(), &stack, &["plan"], answer);
    assert!(
        err.contains(&format!(
            "arn:aws:iam::123456789012:user/dev may not ssm:GetParameter on {resource}"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("allow ssm:GetParameter on {resource}")),
        "{err}"
    );
}

#[test]
fn expired_credentials_say_how_to_refresh_them() {
    let (home, stack) = setup();
    let answer = (
        400,
        "ExpiredTokenException",
        "The security token included in the request is expired".into(),
    );
    let err = refused_by_aws(home.path(), &stack, &["plan"], answer);
    assert!(err.contains("credentials have expired"), "{err}");
    assert!(err.contains("`aws configure`"), "{err}");
}

#[test]
fn a_region_not_enabled_for_the_account_says_pick_another() {
    let (home, stack) = setup();
    // What AWS answers in an opt-in region the account has not enabled.
    let answer = (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.".into(),
    );
    let err = refused_by_aws(
        home.path(),
        &stack,
        &["--region", "ap-east-1", "plan"],
        answer,
    );
    assert!(err.contains("region not enabled"), "{err}");
    assert!(err.contains("--region"), "{err}");
}
