//! `colorid policy`: the deployer's IAM policy allows every call colorid makes
//! for its stack, and none on another stack's bucket or parameters. The calls
//! are those the realism proxy passes on during a stack's whole life (plan, up,
//! status, logs, a secret rotation, publish in its modes, down), each mapped to
//! the IAM actions and resources AWS authorizes it by (common/iam.rs).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::fault_proxy::FaultProxy;
use crate::common::iam::{Mapper, Request, allows};
use crate::common::{self, TestStack};

/// moto's account.
const ACCOUNT: &str = "123456789012";

fn run(proxy: &FaultProxy, stack: &TestStack, args: &[&str]) -> String {
    let out = stack.command_at(&proxy.endpoint(), args).output().unwrap();
    assert!(
        out.status.success(),
        "colorid {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `colorid policy [--for publish]` for `stack`, as JSON (through the shared
/// proxy, so its own look-ups are not among the recorded calls).
fn policy(stack: &TestStack, scope: &str) -> Value {
    // Not `stack.ok`: it gives `--function-zip` to any command line holding "up".
    let out = common::command(
        &stack.file(),
        &common::endpoint(),
        &["policy", "--for", scope],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Every authorization the recorded calls need; fails on a call it cannot map.
fn authorizations(mapper: &mut Mapper, proxy: &FaultProxy) -> Vec<Request> {
    let mut out = Vec::new();
    let mut unmapped = Vec::new();
    for call in proxy.recorded() {
        match mapper.map(&call) {
            Ok(requests) => out.extend(requests),
            Err(e) => unmapped.push(e),
        }
    }
    assert!(unmapped.is_empty(), "{}", unmapped.join("\n"));
    out
}

fn denied<'a>(policy: &Value, requests: &'a [Request]) -> Vec<&'a Request> {
    requests.iter().filter(|r| !allows(policy, r)).collect()
}

fn list(requests: &[&Request]) -> String {
    let set: BTreeSet<String> = requests.iter().map(|r| r.to_string()).collect();
    set.into_iter().collect::<Vec<_>>().join("\n  ")
}

#[tokio::test]
async fn every_call_of_a_stack_is_allowed_by_its_policy_and_not_by_another_stacks() {
    let proxy = aws_like_proxy();
    let stack = TestStack::new("policy");
    let other = TestStack::new("policyb");
    let mut mapper = Mapper::new(ACCOUNT);

    proxy.record();
    run(proxy, &stack, &["plan"]);
    run(proxy, &stack, &["up"]);
    run(proxy, &stack, &["status"]);
    run(proxy, &stack, &["plan", "--detailed-exitcode"]);
    run(proxy, &stack, &["logs", "--since", "5m"]);
    run(proxy, &stack, &["up", "--rotate-secrets", "app_secret"]);
    let deploy = authorizations(&mut mapper, proxy);

    let up_policy = policy(&stack, "up");
    let publish_policy = policy(&stack, "publish");
    let not_allowed = denied(&up_policy, &deploy);
    assert!(
        not_allowed.is_empty(),
        "calls of plan/up/status/logs the policy does not allow:\n  {}\npolicy: {up_policy:#}",
        list(&not_allowed)
    );
    let actions: BTreeSet<&str> = deploy.iter().map(|r| r.action.as_str()).collect();
    for needed in [
        "s3:CreateBucket",
        "s3:PutObject",
        "ssm:PutParameter",
        "iam:CreateRole",
        "iam:PassRole",
        "lambda:CreateFunction",
        "cloudfront:CreateDistribution",
        "acm:RequestCertificate",
        "route53:ChangeResourceRecordSets",
        "logs:FilterLogEvents",
        "cloudfront:CreateResponseHeadersPolicy",
    ] {
        assert!(
            actions.contains(needed),
            "{needed} never called: {actions:?}"
        );
    }

    // A site-only pipeline: publish in each mode under the narrower policy.
    proxy.record();
    let site = stack.dir.path().join("site");
    std::fs::write(site.join("index.html"), "<h1>policy</h1>").unwrap();
    std::fs::write(site.join("extra.html"), "<p>extra</p>").unwrap();
    run(proxy, &stack, &["publish", "--dry-run"]);
    run(proxy, &stack, &["publish", "--wait"]);
    std::fs::remove_file(site.join("extra.html")).unwrap();
    run(proxy, &stack, &["publish", "--verify"]);
    let publish = authorizations(&mut mapper, proxy);
    for (name, p) in [("publish", &publish_policy), ("up", &up_policy)] {
        let not_allowed = denied(p, &publish);
        assert!(
            not_allowed.is_empty(),
            "calls of publish the {name} policy does not allow:\n  {}\npolicy: {p:#}",
            list(&not_allowed)
        );
    }
    let actions: BTreeSet<&str> = publish.iter().map(|r| r.action.as_str()).collect();
    for needed in [
        "s3:PutObject",
        "s3:DeleteObject",
        "cloudfront:CreateInvalidation",
    ] {
        assert!(
            actions.contains(needed),
            "{needed} never called: {actions:?}"
        );
    }
    // The publish policy is narrower: it cannot change the stack.
    let redeploy: Vec<&Request> = deploy
        .iter()
        .filter(|r| r.action == "lambda:CreateFunction" || r.action == "iam:PassRole")
        .collect();
    assert!(!redeploy.is_empty());
    assert!(redeploy.iter().all(|r| !allows(&publish_policy, r)));

    // Another stack's policy allows none of this stack's bucket or parameter calls.
    let other_policy = policy(&other, "up");
    let owned: Vec<&Request> = deploy
        .iter()
        .chain(&publish)
        .filter(|r| {
            r.resource.contains(&format!("colorid-{}-", stack.name))
                || r.resource.contains(&format!("/colorid/{}/", stack.name))
                || r.resource.ends_with(&format!("/colorid/{}", stack.name))
        })
        .filter(|r| r.action.starts_with("s3:") || r.action.starts_with("ssm:"))
        .collect();
    assert!(owned.len() > 10, "{}", list(&owned));
    let allowed: Vec<&Request> = owned
        .iter()
        .copied()
        .filter(|r| allows(&other_policy, r))
        .collect();
    assert!(
        allowed.is_empty(),
        "stack {}'s policy allows stack {}'s calls:\n  {}",
        other.name,
        stack.name,
        list(&allowed)
    );
    // Nor its distribution or certificate changes (tag conditions).
    let tagged: Vec<&Request> = deploy
        .iter()
        .chain(&publish)
        .filter(|r| {
            [
                "cloudfront:UpdateDistribution",
                "cloudfront:CreateInvalidation",
                "cloudfront:CreateDistribution",
                "acm:RequestCertificate",
            ]
            .contains(&r.action.as_str())
        })
        .collect();
    assert!(!tagged.is_empty());
    assert!(
        tagged.iter().all(|r| !allows(&other_policy, r)),
        "{}",
        list(&tagged)
    );

    proxy.record();
    run(proxy, &stack, &["down", "--yes"]);
    let down = authorizations(&mut mapper, proxy);
    let not_allowed = denied(&up_policy, &down);
    assert!(
        not_allowed.is_empty(),
        "calls of down the policy does not allow:\n  {}",
        list(&not_allowed)
    );
    let actions: BTreeSet<&str> = down.iter().map(|r| r.action.as_str()).collect();
    for needed in [
        "s3:DeleteBucket",
        "cloudfront:DeleteDistribution",
        "acm:DeleteCertificate",
        "lambda:DeleteFunction",
        "iam:DeleteRole",
        "cloudfront:DeleteResponseHeadersPolicy",
    ] {
        assert!(
            actions.contains(needed),
            "{needed} never called: {actions:?}"
        );
    }
}

/// A recording proxy that answers as AWS does, with the response headers policy
/// API the emulator lacks: the policy is for AWS, so its calls are checked too.
fn aws_like_proxy() -> &'static FaultProxy {
    let proxy = common::proxy_for(&common::emulator());
    proxy.realism().set(
        common::realism::Rule::CloudFrontResponseHeadersPolicyApi,
        true,
    );
    proxy
}

/// A stack's whole life through its own recording proxy: plan, up, status,
/// publish, down; every call must be allowed by the stack's `up` policy, and
/// publish's by its `publish` policy. Returns the actions called.
fn whole_life_is_allowed(stack: &TestStack) -> BTreeSet<String> {
    let proxy = aws_like_proxy();
    let mut mapper = Mapper::new(ACCOUNT);
    let up_policy = policy(stack, "up");
    let publish_policy = policy(stack, "publish");

    proxy.record();
    run(proxy, stack, &["plan"]);
    run(proxy, stack, &["up"]);
    run(proxy, stack, &["status"]);
    run(proxy, stack, &["plan", "--detailed-exitcode"]);
    let mut calls = authorizations(&mut mapper, proxy);
    proxy.record();
    std::fs::write(stack.dir.path().join("site/index.html"), "<h1>life</h1>").unwrap();
    run(proxy, stack, &["publish", "--wait"]);
    let publish = authorizations(&mut mapper, proxy);
    let not_allowed = denied(&publish_policy, &publish);
    assert!(
        not_allowed.is_empty(),
        "{}: calls of publish the publish policy does not allow:\n  {}\npolicy: {publish_policy:#}",
        stack.name,
        list(&not_allowed)
    );
    calls.extend(publish);
    proxy.record();
    run(proxy, stack, &["down", "--yes"]);
    calls.extend(authorizations(&mut mapper, proxy));
    let not_allowed = denied(&up_policy, &calls);
    assert!(
        not_allowed.is_empty(),
        "{}: calls the up policy does not allow:\n  {}\npolicy: {up_policy:#}",
        stack.name,
        list(&not_allowed)
    );
    calls.into_iter().map(|r| r.action).collect()
}

/// A stack without a domain (the distribution's own name): no certificate,
/// no records, and the policy still covers everything it calls.
#[test]
fn a_stack_without_a_domain_is_covered_by_its_policy() {
    let stack = TestStack::new("polnd");
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{}\"\nregion = \"eu-west-1\"\n\n[identity]\nissuer = \"{}\"\nclient_id = \"test-client\"\n",
            stack.name,
            common::issuer::shared()
        ),
    )
    .unwrap();
    let actions = whole_life_is_allowed(&stack);
    assert!(
        actions.contains("cloudfront:CreateDistribution"),
        "{actions:?}"
    );
    assert!(!actions.contains("acm:RequestCertificate"), "{actions:?}");
}

/// A stack whose DNS is the user's elsewhere (`dns = "external"`): the
/// certificate without Route53 records.
#[test]
fn a_stack_with_external_dns_is_covered_by_its_policy() {
    let stack = TestStack::new("polext");
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{n}\"\nregion = \"eu-west-1\"\ndomain = \"{n}.elsewhere.example.net\"\ndns = \"external\"\n\n[identity]\nissuer = \"{}\"\nclient_id = \"test-client\"\n",
            common::issuer::shared(),
            n = stack.name,
        ),
    )
    .unwrap();
    let actions = whole_life_is_allowed(&stack);
    assert!(actions.contains("acm:RequestCertificate"), "{actions:?}");
    assert!(
        !actions.contains("route53:ChangeResourceRecordSets"),
        "{actions:?}"
    );
}

/// The legacy origin access identity (`origin_access = "identity"`): the
/// emulator has no OAI API (tests/it/origin_access_identity.rs mocks it), so
/// the actions of its four calls are checked against the stack's policy here.
#[test]
fn an_origin_access_identity_stack_is_allowed_its_identity_calls() {
    let stack = TestStack::new("poloai");
    stack.write("origin_access = \"identity\"");
    let p = policy(&stack, "up");
    for action in [
        "cloudfront:ListCloudFrontOriginAccessIdentities",
        "cloudfront:CreateCloudFrontOriginAccessIdentity",
        "cloudfront:GetCloudFrontOriginAccessIdentity",
        "cloudfront:DeleteCloudFrontOriginAccessIdentity",
    ] {
        let id = action.rsplit(':').next().unwrap();
        let resource = if id.starts_with("List") {
            "*".to_string()
        } else {
            format!("arn:aws:cloudfront::{ACCOUNT}:origin-access-identity/E2OURS")
        };
        let r = Request::new(action, &resource);
        assert!(allows(&p, &r), "{r} denied by: {p:#}");
    }
}

/// `parliament` (PyPI, pinned in requirements.txt) on both policies of a stack
/// with a domain: no finding above LOW.
#[test]
fn parliament_finds_nothing_above_low() {
    let parliament =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/parliament");
    assert!(
        parliament.exists(),
        "parliament is not installed: .venv/bin/pip install -r requirements.txt"
    );
    let stack = TestStack::new("lint");
    for scope in ["up", "publish"] {
        // parliament reads the policy from stdin (it refuses --file when stdin is not a terminal).
        let mut child = std::process::Command::new(&parliament)
            .arg("--json")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run parliament");
        let text = policy(&stack, scope).to_string();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
        let out = child.wait_with_output().expect("wait for parliament");
        assert!(
            matches!(out.status.code(), Some(0 | 1)) && out.stderr.is_empty(),
            "parliament did not run: {out:?}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        eprintln!(
            "parliament --for {scope}: exit {:?}, {} finding(s)\n{stdout}{}",
            out.status.code(),
            stdout.lines().count(),
            String::from_utf8_lossy(&out.stderr)
        );
        let above_low: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                let finding: Value = serde_json::from_str(l).unwrap_or(Value::Null);
                !matches!(finding["severity"].as_str(), Some("LOW" | "INFO"))
            })
            .collect();
        assert!(
            above_low.is_empty(),
            "--for {scope}:\n{}",
            above_low.join("\n")
        );
    }
}
