//! Issue 13's engine and dev-server defences, end to end: supplied secrets of
//! at least 32 bytes, no hash of a secret in `plan`, the function's reserved
//! concurrency against the emulator, and `colorid dev` answering loopback
//! host names only.

use crate::common;

use common::TestStack;
use common::dev;
use sha2::{Digest, Sha256};

/// The 8 hex characters `plan` once printed for a secret: the start of
/// colorid's `names::digest` (SHA-256 over the value and a 0 byte).
fn old_digest_prefix(value: &str) -> String {
    let mut h = Sha256::new();
    h.update(value.as_bytes());
    h.update([0u8]);
    hex::encode(&h.finalize()[..4])
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_supplied_secret_shorter_than_32_bytes_is_refused_before_any_change() {
    let stack = TestStack::new("sec-weak");
    let weak = "hunter2-weak";
    let text = std::fs::read_to_string(stack.file()).unwrap()
        + "\n[secrets]\napp_secret = { env = \"SECTEST_WEAK_APP_SECRET\" }\n";
    std::fs::write(stack.file(), text).unwrap();
    for command in ["plan", "up"] {
        let out = stack
            .command_at(&common::endpoint(), &[command])
            .env("SECTEST_WEAK_APP_SECRET", weak)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(stderr.contains("secrets.app_secret"), "{stderr}");
        assert!(stderr.contains("32 bytes"), "{stderr}");
        assert!(!stderr.contains(weak), "the value leaked: {stderr}");
    }
    // Nothing at all was made: no parameter under the stack's path (not even the
    // lock), no role, no bucket of the stack.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (parameters, role, buckets) = rt.block_on(async {
        let ssm = common::ssm("eu-west-1").await;
        let parameters: Vec<String> = ssm
            .get_parameters_by_path()
            .path(format!("/colorid/{}/", stack.name))
            .recursive(true)
            .send()
            .await
            .unwrap()
            .parameters()
            .iter()
            .filter_map(|p| p.name().map(str::to_string))
            .collect();
        let iam = aws_sdk_iam::Client::new(&common::sdk("us-east-1").await);
        let role = iam
            .get_role()
            .role_name(format!("colorid-{}-identity", stack.name))
            .send()
            .await
            .ok()
            .and_then(|r| r.role.map(|r| r.role_name));
        let buckets: Vec<String> = common::s3("eu-west-1")
            .await
            .list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string))
            .filter(|n| n.contains(&stack.name))
            .collect();
        (parameters, role, buckets)
    });
    assert!(
        parameters.is_empty(),
        "parameters were written: {parameters:?}"
    );
    assert_eq!(role, None, "the role was made");
    assert!(buckets.is_empty(), "a bucket was made: {buckets:?}");
}

#[test]
fn plan_shows_a_changed_origin_secret_without_any_hash_of_it() {
    let stack = TestStack::new("sec-plan");
    let text = std::fs::read_to_string(stack.file()).unwrap()
        + "\n[secrets]\norigin_verify = { env = \"SECTEST_ORIGIN_VERIFY\" }\n";
    std::fs::write(stack.file(), text).unwrap();
    let first = "first-origin-verify-value-0123456789abcdef";
    let second = "second-origin-verify-value-0123456789abcdef";
    let run = |args: &[&str], value: &str| {
        stack
            .command_at(&common::endpoint(), args)
            .env("SECTEST_ORIGIN_VERIFY", value)
            .output()
            .unwrap()
    };
    let up = run(&["up", "--wait-timeout", "120"], first);
    assert!(up.status.success(), "up: {}", stderr_of(&up));
    let plan = run(&["plan"], second);
    assert!(plan.status.success(), "plan: {}", stderr_of(&plan));
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&plan.stdout),
        stderr_of(&plan)
    );
    assert!(
        shown.contains("header.X-Origin-Verify: (secret) → (another secret)"),
        "{shown}"
    );
    for value in [first, second] {
        assert!(!shown.contains(value), "{shown}");
        let prefix = old_digest_prefix(value);
        assert!(
            !shown.contains(&prefix),
            "a hash of a secret: {prefix} in {shown}"
        );
    }
    let down = run(&["down", "--yes", "--wait-timeout", "120"], second);
    assert!(down.status.success(), "down: {}", stderr_of(&down));
}

#[test]
fn reserved_concurrency_is_set_changed_and_removed() {
    let stack = TestStack::new("sec-conc");
    let function = format!("colorid-{}-identity", stack.name);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let reserved = || {
        rt.block_on(async {
            let lambda = aws_sdk_lambda::Client::new(&common::sdk("eu-west-1").await);
            lambda
                .get_function_concurrency()
                .function_name(&function)
                .send()
                .await
                .unwrap()
                .reserved_concurrent_executions()
        })
    };
    let with = |extra: &str| {
        let text = std::fs::read_to_string(stack.file()).unwrap();
        let base = text
            .split("\n[function]")
            .next()
            .unwrap_or(&text)
            .to_string();
        std::fs::write(stack.file(), format!("{base}{extra}")).unwrap();
    };
    with("\n[function]\nreserved_concurrency = 5\n");
    stack.ok(&["up", "--wait-timeout", "120"]);
    assert_eq!(reserved(), Some(5));
    // Converged: plan sees nothing to do for the function.
    let plan = stack.ok(&["plan"]);
    assert!(!plan.contains("reserved_concurrency"), "{plan}");

    with("\n[function]\nreserved_concurrency = 7\n");
    let plan = stack.ok(&["plan"]);
    assert!(plan.contains("reserved_concurrency: 5 → 7"), "{plan}");
    stack.ok(&["up", "--wait-timeout", "120"]);
    assert_eq!(reserved(), Some(7));

    with("\n");
    stack.ok(&["up", "--wait-timeout", "120"]);
    assert_eq!(reserved(), None);
    stack.ok(&["down", "--yes", "--wait-timeout", "120"]);
}

#[test]
fn reserved_concurrency_out_of_range_is_a_config_error() {
    let stack = TestStack::new("sec-conc-bad");
    let text =
        std::fs::read_to_string(stack.file()).unwrap() + "\n[function]\nreserved_concurrency = 0\n";
    std::fs::write(stack.file(), text).unwrap();
    let out = stack.run(&["plan"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("function.reserved_concurrency"), "{stderr}");
}

#[tokio::test]
async fn dev_answers_only_loopback_host_names() {
    let dev = dev::start(dev::Options {
        name: "dev-host",
        files: vec![("index.html", "<h1>the index</h1>")],
        ..Default::default()
    })
    .await;
    let origin = dev.origin.clone();
    let port = origin.rsplit(':').next().unwrap().to_string();
    let http = reqwest::Client::new();
    let status = |host: String, path: &'static str| {
        let req = http
            .get(format!("{origin}{path}"))
            .header("host", host)
            .send();
        async move { req.await.unwrap().status().as_u16() }
    };
    // A rebinding page's own name pointed at 127.0.0.1: refused everywhere.
    for path in [
        "/",
        "/api/health",
        "/idp/.well-known/openid-configuration",
        "/config.json",
    ] {
        assert_eq!(
            status(format!("rebind.attacker.example:{port}"), path).await,
            421,
            "{path}"
        );
        assert_eq!(
            status(format!("localhost.attacker.example:{port}"), path).await,
            421,
            "{path}"
        );
    }
    for host in ["127.0.0.1", "localhost", "[::1]"] {
        assert_eq!(
            status(format!("{host}:{port}"), "/api/health").await,
            200,
            "{host}"
        );
    }
}
