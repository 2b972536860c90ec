//! An account as users have it (issue 24, items 8-14): a CNAME already where the
//! aliases go, creates whose answers were lost, quotas reached, a bucket of the
//! derived name owned by another account, state records of other colorids, and
//! settings too large for Lambda's environment.

use std::time::{Duration, Instant};

use aws_sdk_route53::types::{AliasTarget, ChangeAction, ResourceRecordSet, RrType};

use super::setup::{change, cname, create_bucket, create_zone};
use super::{hits, json, proxy, run, sdk, text};
use crate::common::TestStack;
use crate::common::fault_proxy::FaultProxy;
use crate::common::realism::Rule;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

async fn state_record(proxy: &FaultProxy, stack: &TestStack) -> Option<String> {
    aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await)
        .get_parameter()
        .name(format!("/colorid/{}/state", stack.name))
        .send()
        .await
        .ok()
        .and_then(|o| o.parameter)
        .and_then(|p| p.value)
}

async fn put_state(proxy: &FaultProxy, stack: &TestStack, record: &str) {
    aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await)
        .put_parameter()
        .name(format!("/colorid/{}/state", stack.name))
        .value(record)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("fabricate the state record");
}

/// Item 8: a CNAME of the domain (another site, a verification record) is named by `plan`
/// and `up`, which change nothing and leave it; Route53 would refuse the aliases beside it.
#[test]
fn a_cname_where_the_aliases_go_is_named_and_left() {
    let proxy = proxy();
    let stack = TestStack::new("rl-cname8");
    let rt = rt();
    let zone = rt.block_on(async {
        let r53 = aws_sdk_route53::Client::new(&sdk(proxy, "us-east-1").await);
        let zone = create_zone(&r53, &stack.zone, format!("rl-cname8-{}", stack.name)).await;
        let zone = zone.trim_start_matches("/hostedzone/").to_string();
        r53.change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(change(
                ChangeAction::Create,
                cname(&stack.domain, "old-site.example.net"),
            ))
            .send()
            .await
            .unwrap();
        // What AWS answers to the alias colorid would otherwise have sent.
        let refused = r53
            .change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(change(
                ChangeAction::Upsert,
                ResourceRecordSet::builder()
                    .name(&stack.domain)
                    .r#type(RrType::A)
                    .alias_target(
                        AliasTarget::builder()
                            .hosted_zone_id("Z2FDTNDATAQYW2")
                            .dns_name("d111111abcdef8.cloudfront.net")
                            .evaluate_target_health(false)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            ))
            .send()
            .await
            .expect_err("an alias beside a CNAME");
        assert_eq!(
            aws_sdk_route53::error::ProvideErrorMetadata::code(&refused),
            Some("InvalidChangeBatch")
        );
        zone
    });
    assert_eq!(hits(proxy, Rule::Route53AliasBesideCname), 1);
    for command in ["plan", "up"] {
        let out = run(&stack, proxy, &[command]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("CNAME record {}", stack.domain))
                && err.contains("old-site.example.net")
                && err.contains("delete that CNAME record"),
            "{command}: {err}"
        );
    }
    let (record, state) = rt.block_on(async {
        let r53 = aws_sdk_route53::Client::new(&sdk(proxy, "us-east-1").await);
        let sets = r53
            .list_resource_record_sets()
            .hosted_zone_id(&zone)
            .send()
            .await
            .unwrap()
            .resource_record_sets;
        let left = sets
            .iter()
            .filter(|r| r.name.trim_end_matches('.') == stack.domain)
            .map(|r| r.r#type.as_str().to_string())
            .collect::<Vec<_>>();
        (left, state_record(proxy, &stack).await)
    });
    assert_eq!(record, vec!["CNAME".to_string()], "the CNAME is left alone");
    assert!(state.is_none(), "up changed something: {state:?}");
    // The user moves the CNAME away: `up` goes through.
    rt.block_on(async {
        aws_sdk_route53::Client::new(&sdk(proxy, "us-east-1").await)
            .change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(change(
                ChangeAction::Delete,
                cname(&stack.domain, "old-site.example.net"),
            ))
            .send()
            .await
            .unwrap();
    });
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 9: the origin access control's and the CloudFront Function's creates whose
/// answers were lost meet *AlreadyExists on the SDK's retry; `up` finds what the first
/// made, by name, and the account holds one of each.
#[test]
fn lost_creates_are_found_by_name() {
    let proxy = proxy();
    proxy.realism().set(Rule::CloudFrontFreshCertificate, false);
    let control = TestStack::new("rl-lost-oac");
    proxy.lose_answer_of("cloudfront POST /2020-05-31/origin-access-control");
    let report = json(&control, proxy, &["up"]);
    let after_control = hits(proxy, Rule::CloudFrontNameTaken);
    assert!(after_control > 0, "the retry was not refused");
    let function = TestStack::new("rl-lost-fn");
    proxy.lose_answer_of("cloudfront POST /2020-05-31/function");
    json(&function, proxy, &["up"]);
    assert!(
        hits(proxy, Rule::CloudFrontNameTaken) > after_control,
        "the function's retry was not refused"
    );
    let names = rt().block_on(async {
        aws_sdk_cloudfront::Client::new(&sdk(proxy, "us-east-1").await)
            .list_origin_access_controls()
            .send()
            .await
            .unwrap()
            .origin_access_control_list
            .map(|l| l.items.unwrap_or_default())
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .filter(|n| *n == format!("colorid-{}", control.name))
            .count()
    });
    assert_eq!(names, 1, "one origin access control of the stack's name");
    for stack in [&control, &function] {
        let again = json(stack, proxy, &["up"]);
        assert_eq!(again["calls"]["mutations"], 0, "{}", again["calls"]);
    }
    assert!(
        report["origin_access"]
            .as_str()
            .unwrap()
            .starts_with("control ")
    );
    json(&control, proxy, &["down", "--yes"]);
    json(&function, proxy, &["down", "--yes"]);
}

/// Item 9: a quota reached is not throttling: `up` stops at once (one request, no
/// minute of retries) with the quota named and how to make room.
#[test]
fn a_reached_quota_is_named_and_not_retried() {
    let proxy = proxy();
    // ACM's quota on a stack whose certificate is not requested yet.
    let acm = TestStack::new("rl-quota-acm");
    proxy.realism().certificate_quota_reached(true);
    let start = Instant::now();
    let out = run(&acm, proxy, &["up"]);
    let took = start.elapsed();
    proxy.realism().certificate_quota_reached(false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LimitExceededException")
            && err.contains("2,500 certificates")
            && err.contains("waiting does not lift it"),
        "{err}"
    );
    assert_eq!(
        hits(proxy, Rule::AcmCertificateQuota),
        1,
        "a quota was retried as throttling"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    // CloudFront's quota of origin access controls, on a stack that has none yet.
    let cloudfront = TestStack::new("rl-quota-oac");
    proxy.realism().account_holds_origin_access_controls(100);
    let out = run(&cloudfront, proxy, &["up"]);
    proxy.realism().account_holds_origin_access_controls(0);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TooManyOriginAccessControls")
            && err.contains("100 per account")
            && err.contains("Service Quotas"),
        "{err}"
    );
    assert_eq!(hits(proxy, Rule::CloudFrontQuota), 1);
    // Room made: both come up.
    for stack in [&acm, &cloudfront] {
        json(stack, proxy, &["up"]);
        json(stack, proxy, &["down", "--yes"]);
    }
}

/// Item 10: settings that would make the function's environment larger than Lambda's
/// 4 KB are a stack-file error naming the field (exit 2, no AWS call).
#[test]
fn an_environment_over_4_kb_is_a_stack_file_error() {
    let proxy = proxy();
    let stack = TestStack::new("rl-env");
    let claims: Vec<String> = (0..90)
        .map(|i| format!("attribute_{i:02} = \"custom_claim_number_{i:02}\""))
        .collect();
    stack.write(&format!(
        "\n[api]\nattribute_claims = {{ {} }}\n",
        claims.join(", ")
    ));
    let before = proxy.forwarded();
    for command in ["plan", "up"] {
        let out = run(&stack, proxy, &[command]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("field `api.attribute_claims`") && err.contains("4096"),
            "{err}"
        );
    }
    assert_eq!(proxy.forwarded(), before, "an AWS call was made");
    // What Lambda answers to such an environment (the check above keeps `up` from it).
    let refused = rt().block_on(async {
        let vars: std::collections::HashMap<String, String> = (0..90)
            .map(|i| (format!("A{i:02}"), "x".repeat(50)))
            .collect();
        aws_sdk_lambda::Client::new(&sdk(proxy, "eu-west-1").await)
            .create_function()
            .function_name(format!("{}-probe", stack.name))
            .role("arn:aws:iam::123456789012:role/none")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(vec![0u8]))
                    .build(),
            )
            .environment(
                aws_sdk_lambda::types::Environment::builder()
                    .set_variables(Some(vars))
                    .build(),
            )
            .send()
            .await
            .expect_err("over 4 KB")
    });
    assert_eq!(
        aws_sdk_lambda::error::ProvideErrorMetadata::code(&refused),
        Some("InvalidParameterValueException")
    );
    assert!(hits(proxy, Rule::LambdaEnvironmentSize) > 0);
    // Just under the limit goes up.
    let claims: Vec<String> = (0..20)
        .map(|i| format!("attribute_{i:02} = \"custom_claim_number_{i:02}\""))
        .collect();
    stack.write(&format!(
        "\n[api]\nattribute_claims = {{ {} }}\n",
        claims.join(", ")
    ));
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 13: every S3 request to the stack's bucket says which account must own it, and
/// a bucket the stack names that another account owns is never used: `up` stops
/// before the distribution exists. (A derived name carries a suffix per incarnation,
/// item 1, so the stack file's `bucket` is how a stack meets someone else's bucket.)
#[test]
fn a_bucket_of_another_account_is_never_used() {
    let proxy = proxy();
    let theirs = TestStack::new("rl-owner");
    let bucket = format!("colorid-{}-123456789012", theirs.name);
    let rt = rt();
    rt.block_on(create_bucket(proxy, &bucket))
        .expect("the other account's bucket");
    proxy.realism().bucket_owned_by(&bucket, "210987654321");
    theirs.write(&format!("bucket = \"{bucket}\""));
    let out = run(&theirs, proxy, &["up"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&bucket) && err.contains("another account"),
        "{err}"
    );
    assert!(hits(proxy, Rule::S3ExpectedBucketOwner) > 0);
    let (distributions, objects) = rt.block_on(async {
        let conf = sdk(proxy, "us-east-1").await;
        let cf = aws_sdk_cloudfront::Client::new(&conf);
        let list = cf.list_distributions().send().await.unwrap();
        let mine = list
            .distribution_list
            .and_then(|l| l.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| {
                d.aliases
                    .as_ref()
                    .is_some_and(|a| a.items().contains(&theirs.domain))
            })
            .count();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk(proxy, "eu-west-1").await)
                .force_path_style(true)
                .build(),
        );
        let objects = s3
            .list_objects_v2()
            .bucket(&bucket)
            .expected_bucket_owner("210987654321")
            .send()
            .await
            .unwrap()
            .key_count
            .unwrap_or(0);
        (mine, objects)
    });
    assert_eq!(distributions, 0, "a distribution was made");
    assert_eq!(objects, 0, "the other account's bucket was written");
    // `down` removes what the stopped `up` made and leaves the other account's bucket.
    let down = run(&theirs, proxy, &["down", "--yes"]);
    assert!(down.status.success(), "{}", text(&down));
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("owned by another account"),
        "{}",
        text(&down)
    );
    // Every request to a stack's own bucket carries the owner.
    let ours = TestStack::new("rl-owned");
    let up = json(&ours, proxy, &["up"]);
    let ours_bucket = up["bucket"].as_str().unwrap().to_string();
    std::fs::write(ours.dir.path().join("site/extra.html"), "<p>more</p>").unwrap();
    json(&ours, proxy, &["publish"]);
    json(&ours, proxy, &["down", "--yes"]);
    let unowned = proxy.realism().unowned_requests(&ours_bucket);
    assert!(unowned.is_empty(), "without an expected owner: {unowned:?}");
}

/// Item 14: a record written by a newer colorid is refused (exit 2, nothing written); an
/// older, unversioned one is migrated and keeps its fields.
#[test]
fn state_records_of_other_versions() {
    let proxy = proxy();
    let newer = TestStack::new("rl-newer");
    let future =
        r#"{"format":99,"account_id":"123456789012","from_a_later_colorid":{"kept":true}}"#;
    let rt = rt();
    rt.block_on(put_state(proxy, &newer, future));
    for args in [&["up"][..], &["down", "--yes"][..]] {
        let command = args[0];
        let out = run(&newer, proxy, args);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("newer colorid") && err.contains("upgrade colorid"),
            "{err}"
        );
    }
    assert_eq!(
        rt.block_on(state_record(proxy, &newer)).as_deref(),
        Some(future),
        "the newer record was rewritten"
    );
    let older = TestStack::new("rl-older");
    let nonce = "0123456789abcdef";
    rt.block_on(put_state(
        proxy,
        &older,
        &format!(r#"{{"account_id":"123456789012","certificate_nonce":"{nonce}"}}"#),
    ));
    json(&older, proxy, &["up"]);
    let record: serde_json::Value =
        serde_json::from_str(&rt.block_on(state_record(proxy, &older)).unwrap()).unwrap();
    assert_eq!(record["format"], 2, "{record}");
    assert_eq!(record["certificate_nonce"], nonce, "{record}");
    json(&older, proxy, &["down", "--yes"]);
}

/// Item 12: quotas a plausible stack file meets. A supplied origin-verify value longer
/// than CloudFront's custom header value limit is a stack-file error; a publish that
/// meets TooManyInvalidationsInProgress (other invalidations hold 3,000 paths) waits
/// with backoff and goes through.
#[test]
fn quotas_a_plausible_stack_meets() {
    let proxy = proxy();
    let stack = TestStack::new("rl-limits");
    std::fs::write(stack.dir.path().join("verify.txt"), "v".repeat(2000)).unwrap();
    stack.write("\n[secrets]\norigin_verify = { file = \"verify.txt\" }\n");
    let out = run(&stack, proxy, &["up"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`secrets.origin_verify`") && err.contains("1783") && !err.contains("vvvv"),
        "{err}"
    );
    // What CloudFront answers to such a header (the check above keeps `up` from it).
    let probe = rt().block_on(async {
        reqwest::Client::new()
        .post(format!("{}/2020-05-31/distribution", proxy.endpoint()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(format!(
            "<DistributionConfig><Origins><Items><Origin><CustomHeaders><Items><OriginCustomHeader><HeaderName>x-origin-verify</HeaderName><HeaderValue>{}</HeaderValue></OriginCustomHeader></Items></CustomHeaders></Origin></Items></Origins></DistributionConfig>",
            "v".repeat(2000)
        ))
        .send()
        .await
        .unwrap()
    });
    assert_eq!(probe.status().as_u16(), 400);
    assert!(hits(proxy, Rule::CloudFrontHeaderValueLength) > 0);
    stack.write("");
    json(&stack, proxy, &["up"]);
    proxy.realism().invalidations_in_progress(3000, 0);
    std::fs::write(stack.dir.path().join("site/more.html"), "<p>more</p>").unwrap();
    let start = Instant::now();
    let published = json(&stack, proxy, &["publish"]);
    assert_eq!(
        hits(proxy, Rule::CloudFrontInvalidationsInProgress),
        2,
        "the invalidation was not tried again"
    );
    assert!(
        published.to_string().contains("invalidation_id\":\""),
        "{published}"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 11: the role, origin access control, headers policy, CloudFront Function and
/// distribution are named per account, the state per region. The same stack in another
/// region (a changed `region`, or --region) is refused by `plan`, `up` and `down`, and the
/// first region's stack is left as it was.
#[test]
fn a_stack_of_another_region_is_not_taken_over() {
    let proxy = proxy();
    let stack = TestStack::new("rl-region");
    let first = json(&stack, proxy, &["up"]);
    let distribution = first["distribution_id"].as_str().unwrap().to_string();
    for args in [
        &["plan", "--region", "us-west-2"][..],
        &["up", "--region", "us-west-2"][..],
        &["down", "--yes", "--region", "us-west-2"][..],
    ] {
        let out = run(&stack, proxy, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("already deployed in region eu-west-1")
                && err.contains("set `region = \"eu-west-1\"`"),
            "{args:?}: {err}"
        );
    }
    let (policy, origins) = rt().block_on(async {
        let iam = aws_sdk_iam::Client::new(&sdk(proxy, "us-east-1").await);
        let policy = iam
            .get_role_policy()
            .role_name(format!("colorid-{}-identity", stack.name))
            .policy_name("colorid-identity")
            .send()
            .await
            .map(|p| p.policy_document)
            .unwrap_or_default();
        let cf = aws_sdk_cloudfront::Client::new(&sdk(proxy, "us-east-1").await);
        let config = cf
            .get_distribution_config()
            .id(&distribution)
            .send()
            .await
            .unwrap()
            .distribution_config
            .unwrap();
        let origins: Vec<String> = config
            .origins
            .map(|o| o.items)
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.domain_name)
            .collect();
        (policy, origins)
    });
    let policy = urlencoding_decode(&policy);
    assert!(
        policy.contains("eu-west-1") && !policy.contains("us-west-2"),
        "the role was rewritten: {policy}"
    );
    assert!(
        origins.iter().any(|o| o.contains(".s3.eu-west-1."))
            && !origins.iter().any(|o| o.contains("us-west-2")),
        "the distribution was rewritten: {origins:?}"
    );
    json(&stack, proxy, &["down", "--yes"]);
    // Once the first region's stack is gone, what the refused `up` made in the other
    // region can go too.
    json(&stack, proxy, &["down", "--yes", "--region", "us-west-2"]);
}

fn urlencoding_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).to_string()
}
