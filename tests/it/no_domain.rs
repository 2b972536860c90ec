//! A stack with no `domain`: served on the distribution's own
//! `*.cloudfront.net` name with CloudFront's default certificate; `plan`, `up`
//! and `down` make no ACM or Route53 call, and the identity function learns the
//! site's URL once the distribution is named.

use crate::common;

use std::process::Output;

use common::TestStack;
use common::fault_proxy::FaultProxy;
use common::realism::Rule;
use serde_json::Value;

const REGION: &str = "eu-west-1";

fn write_no_domain(stack: &TestStack) {
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{}\"\nregion = \"{REGION}\"\n\n[identity]\nissuer = \"{issuer}\"\nclient_id = \"test-client\"\n",
            stack.name,
            issuer = common::issuer::shared()
        ),
    )
    .unwrap();
}

fn run(stack: &TestStack, proxy: &FaultProxy, args: &[&str]) -> Output {
    let out = stack
        .command_at(&proxy.endpoint(), args)
        .output()
        .expect("run colorid");
    assert!(
        out.status.success(),
        "colorid {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn json(stack: &TestStack, proxy: &FaultProxy, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let text = stdout(&run(stack, proxy, &all));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The operations of a run's `calls` report that went to ACM or Route53.
fn acm_or_route53(report: &Value) -> Vec<String> {
    let calls = &report["calls"];
    ["reads_by_operation", "mutations_by_operation"]
        .iter()
        .flat_map(|kind| {
            calls[*kind]
                .as_object()
                .unwrap_or_else(|| panic!("{kind} in {report}"))
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|k| {
            let k = k.to_ascii_lowercase();
            k.starts_with("acm") || k.starts_with("route")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_domain_serves_on_the_distribution_name_end_to_end() {
    // A proxy of this test's own: its rule hits are this test's.
    let proxy = common::proxy_for(&common::emulator());
    let stack = TestStack::new("nodomain");
    write_no_domain(&stack);

    // plan: no zone, no certificate, no records; the distribution on its own name.
    let plan = stdout(&run(&stack, proxy, &["plan"]));
    assert!(plan.contains(".cloudfront.net"), "{plan}");
    for absent in ["hosted zone", "certificate", "dns "] {
        assert!(
            !plan.lines().any(|l| l.trim_start().starts_with(absent)),
            "{absent}: {plan}"
        );
    }
    assert!(
        plan.lines()
            .any(|l| l.trim_start().starts_with("distribution")
                && l.contains("*.cloudfront.net")
                && l.contains("create")),
        "{plan}"
    );

    // up: the site's URL is the distribution's, printed at the end.
    let up = stdout(&run(&stack, proxy, &["up"]));
    let status = json(&stack, proxy, &["status"]);
    let dist_domain = status["distribution"]["domain"]
        .as_str()
        .unwrap_or_else(|| panic!("a distribution: {status}"))
        .to_string();
    assert!(dist_domain.ends_with(".cloudfront.net"), "{dist_domain}");
    let site_url = format!("https://{dist_domain}");
    assert!(
        up.lines()
            .any(|l| l.trim_start().starts_with("site:") && l.trim_end().ends_with(&site_url)),
        "the cloudfront URL is printed:\n{up}"
    );
    assert_eq!(status["site_url"], site_url.as_str(), "{status}");
    assert_eq!(status["api_url"], format!("{site_url}/api/"), "{status}");
    assert!(status["certificate"].is_null(), "{status}");
    assert!(status["hosted_zone_id"].is_null(), "{status}");

    // The distribution: CloudFront's default certificate, no alternate names.
    let cf = aws_sdk_cloudfront::Client::new(&common::sdk_at(&proxy.endpoint(), "us-east-1").await);
    let id = status["distribution"]["id"].as_str().unwrap();
    let config = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("distribution config")
        .distribution_config
        .expect("config");
    let cert = config.viewer_certificate().expect("viewer certificate");
    assert_eq!(cert.cloud_front_default_certificate(), Some(true));
    assert!(
        cert.acm_certificate_arn().is_none_or(str::is_empty),
        "{cert:?}"
    );
    assert_eq!(config.aliases().map_or(0, |a| a.quantity()), 0);
    assert!(
        proxy
            .realism()
            .hits(Rule::CloudFrontDefaultCertificatePolicy)
            > 0,
        "AWS's own security policy was read back"
    );

    // The identity function knows the site's URL: the distribution's name.
    let lambda = aws_sdk_lambda::Client::new(&common::sdk_at(&proxy.endpoint(), REGION).await);
    let function = status["function_name"].as_str().expect("function");
    let env = lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .expect("function configuration")
        .environment
        .and_then(|e| e.variables)
        .unwrap_or_default();
    assert_eq!(
        env.get(colorid_lambda::deployment::env::SITE_URL),
        Some(&site_url),
        "{env:?}"
    );

    // config.json: this stack's, with the API on the same (distribution) origin.
    let s3 = aws_sdk_s3::Client::new(&common::sdk_at(&proxy.endpoint(), REGION).await);
    let bucket = status["bucket"].as_str().expect("bucket");
    let body = s3
        .get_object()
        .bucket(bucket)
        .key("config.json")
        .send()
        .await
        .expect("config.json")
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let site_config: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(site_config["issuer"], common::issuer::shared());
    assert_eq!(site_config["clientId"], "test-client");
    assert_eq!(site_config["apiBase"], "/api");
    assert_eq!(site_config["stack"], stack.name.as_str());

    // Converged: a second up makes no mutating call, and none to ACM or Route53.
    let again = json(&stack, proxy, &["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{again}");
    assert_eq!(again["site_url"], site_url.as_str(), "{again}");
    assert!(again["certificate_arn"].is_null(), "{again}");
    assert_eq!(acm_or_route53(&again), Vec::<String>::new());
    let plan = stdout(&run(&stack, proxy, &["plan"]));
    assert!(plan.contains("nothing to do"), "{plan}");
    assert!(plan.contains(&dist_domain), "{plan}");

    // down: everything goes, with no ACM or Route53 call.
    let down = json(&stack, proxy, &["down", "--yes"]);
    assert_eq!(acm_or_route53(&down), Vec::<String>::new(), "{down}");
    let after = json(&stack, proxy, &["status"]);
    for gone in ["distribution", "function_name", "function_url", "log_group"] {
        assert!(after[gone].is_null(), "{gone}: {after}");
    }
    assert!(after["bucket"].is_null(), "{after}");
    let exists = s3.head_bucket().bucket(bucket).send().await;
    assert!(exists.is_err(), "the bucket {bucket} is deleted");
    assert!(
        lambda
            .get_function()
            .function_name(function)
            .send()
            .await
            .is_err(),
        "the function is deleted"
    );
}

#[test]
fn zone_fields_without_a_domain_are_a_config_error_and_no_aws_call() {
    let stack = TestStack::new("nodomain-cfg");
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{}\"\nregion = \"{REGION}\"\nhosted_zone = \"example.com\"\n\n[identity]\nissuer = \"{issuer}\"\nclient_id = \"test-client\"\n",
            stack.name,
            issuer = common::issuer::shared()
        ),
    )
    .unwrap();
    // No endpoint at all: a config error is found before any AWS call.
    let out = stack
        .command_at("http://127.0.0.1:9", &["plan"])
        .output()
        .expect("run colorid");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stack.toml:3:"), "{err}");
    assert!(err.contains("hosted_zone"), "{err}");
    assert!(err.contains("add domain = "), "{err}");
    assert!(err.contains("remove `hosted_zone`"), "{err}");
}

/// The zone's records whose name is `name` or lies under it, as "name type".
async fn records_under(r53: &aws_sdk_route53::Client, zone: &str, name: &str) -> Vec<String> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("list records");
    let name = format!("{name}.");
    out.resource_record_sets()
        .iter()
        .filter(|r| r.name() == name || r.name().ends_with(&format!(".{name}")))
        .map(|r| format!("{} {}", r.name(), r.r#type().as_str()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_that_drops_its_domain_loses_its_records_and_certificate() {
    let proxy = common::proxy_for(&common::emulator());
    let stack = TestStack::new("nd-drop");
    let first = json(&stack, proxy, &["up"]);
    let cert = first["certificate_arn"]
        .as_str()
        .expect("a certificate")
        .to_string();
    let zone = first["hosted_zone_id"].as_str().unwrap().to_string();
    let r53 = aws_sdk_route53::Client::new(&common::sdk_at(&proxy.endpoint(), "us-east-1").await);
    let made = records_under(&r53, &zone, &stack.domain).await;
    assert!(made.iter().any(|r| r.ends_with(" A")), "{made:?}");
    assert!(made.iter().any(|r| r.ends_with(" CNAME")), "{made:?}");

    write_no_domain(&stack);
    let plan = stdout(&run(&stack, proxy, &["plan"]));
    for gone in [
        format!("certificate: {cert} → (deleted: the stack has no domain)"),
        "alias records: the distribution → (deleted: the stack has no domain)".to_string(),
        "validation record: ".to_string(),
    ] {
        assert!(plan.contains(&gone), "{gone}: {plan}");
    }

    let up = json(&stack, proxy, &["up"]);
    let dist_domain = up["distribution_domain"].as_str().unwrap();
    assert_eq!(up["site_url"], format!("https://{dist_domain}"), "{up}");
    assert!(up["certificate_arn"].is_null(), "{up}");
    let left = records_under(&r53, &zone, &stack.domain).await;
    assert_eq!(
        left,
        Vec::<String>::new(),
        "the domain's records are deleted"
    );
    let cf = aws_sdk_cloudfront::Client::new(&common::sdk_at(&proxy.endpoint(), "us-east-1").await);
    let config = cf
        .get_distribution_config()
        .id(up["distribution_id"].as_str().unwrap())
        .send()
        .await
        .expect("config")
        .distribution_config
        .expect("config");
    assert_eq!(config.aliases().map_or(0, |a| a.quantity()), 0);
    assert_eq!(
        config
            .viewer_certificate()
            .and_then(|c| c.cloud_front_default_certificate()),
        Some(true)
    );

    // down takes the certificate CloudFront has let go of, and the rest.
    let out = run(&stack, proxy, &["down", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("deleted certificate {cert}")),
        "{err}"
    );
    let acm = aws_sdk_acm::Client::new(&common::sdk_at(&proxy.endpoint(), "us-east-1").await);
    assert!(
        acm.describe_certificate()
            .certificate_arn(&cert)
            .send()
            .await
            .is_err(),
        "the certificate is deleted"
    );
    let after = json(&stack, proxy, &["status"]);
    assert!(after["distribution"].is_null(), "{after}");
}

#[test]
fn check_without_a_domain_or_a_distribution_says_to_run_up() {
    let proxy = common::proxy_for(&common::emulator());
    let stack = TestStack::new("nodomain-check");
    write_no_domain(&stack);
    let out = stack
        .command_at(&proxy.endpoint(), &["check"])
        .output()
        .expect("run colorid");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no `domain` and no distribution yet"), "{err}");
    assert!(err.contains("colorid up"), "{err}");
    assert!(err.lines().count() <= 3, "{err}");
}
