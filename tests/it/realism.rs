//! The engine against AWS's documented behaviour, not moto's: each test runs
//! the real `colorid` through its own realism proxy (common/realism.rs), shows
//! that the rules it is about fired, and that colorid came through. Each one
//! failed before the fix it names (see the closing note of issue 11).
//!
//! `scripts/realism` runs them and prints rule | AWS source | test | result,
//! from the table in [`RULES`].

use crate::common;

mod accounts;
mod setup;

use std::process::Output;

use common::TestStack;
use common::fault_proxy::FaultProxy;
use common::realism::Rule;
use serde_json::Value;

/// Which test exercises which rule (the Route53 rule rewrites nothing: moto
/// already keeps two zones of one name apart; it counts the listings that show
/// two, and its test is in tests/it/engine.rs).
const RULES: &[(Rule, &str)] = &[
    (
        Rule::AcmRecordsLate,
        "wildcard_and_apex_certificate_is_issued",
    ),
    (
        Rule::AcmWildcardSharesRecord,
        "wildcard_and_apex_certificate_is_issued",
    ),
    (Rule::AcmDeleteInUse, "down_waits_out_cloudfront_and_acm"),
    (
        Rule::CloudFrontEtagChanges,
        "a_change_is_sent_with_the_current_etag",
    ),
    (
        Rule::CloudFrontInProgress,
        "down_waits_out_cloudfront_and_acm",
    ),
    (
        Rule::CloudFrontFreshCertificate,
        "up_waits_for_cloudfront_to_accept_a_fresh_certificate",
    ),
    (
        Rule::CloudFrontNotDisabledOnce,
        "down_waits_out_cloudfront_and_acm",
    ),
    (
        Rule::CloudFrontDeleteWhileEnabled,
        "down_waits_out_cloudfront_and_acm",
    ),
    (
        Rule::CloudFrontCallerReference,
        "a_create_whose_answer_was_lost_finds_the_distribution",
    ),
    (
        Rule::CloudFrontOriginAccessIdentityApi,
        "origin_access_identity_end_to_end",
    ),
    (
        Rule::CloudFrontResponseHeadersPolicyApi,
        "headers_policy::the_stack_policy_goes_through_up_plan_and_down",
    ),
    (
        Rule::CloudFrontDefaultCertificatePolicy,
        "no_domain::no_domain_serves_on_the_distribution_name_end_to_end",
    ),
    (
        Rule::IamRolePropagation,
        "a_role_made_by_an_earlier_run_is_waited_for",
    ),
    (
        Rule::LambdaPending,
        "a_role_made_by_an_earlier_run_is_waited_for",
    ),
    (
        Rule::LambdaUpdateInProgress,
        "a_function_update_in_progress_is_waited_for",
    ),
    (
        Rule::LambdaPolicyConditions,
        "a_widened_function_url_permission_is_repaired",
    ),
    (
        Rule::SsmTypeMismatch,
        "a_secret_of_the_other_type_is_replaced",
    ),
    (
        Rule::S3FreshIdentityPrincipal,
        "origin_access_identity_end_to_end",
    ),
    (
        Rule::S3DeleteObjectsErrors,
        "per_key_delete_failures_are_retried_or_reported",
    ),
    (
        Rule::Route53DuplicateZones,
        "engine::two_public_zones_of_one_name_need_hosted_zone_id",
    ),
    // Issue 24, items 8-13 (accounts-b): tests in realism/accounts.rs.
    (
        Rule::Route53AliasBesideCname,
        "accounts::a_cname_where_the_aliases_go_is_named_and_left",
    ),
    (
        Rule::CloudFrontNameTaken,
        "accounts::lost_creates_are_found_by_name",
    ),
    (
        Rule::CloudFrontQuota,
        "accounts::a_reached_quota_is_named_and_not_retried",
    ),
    (
        Rule::AcmCertificateQuota,
        "accounts::a_reached_quota_is_named_and_not_retried",
    ),
    (
        Rule::LambdaEnvironmentSize,
        "accounts::an_environment_over_4_kb_is_a_stack_file_error",
    ),
    (
        Rule::S3ExpectedBucketOwner,
        "accounts::a_bucket_of_another_account_is_never_used",
    ),
    (
        Rule::CloudFrontHeaderValueLength,
        "accounts::quotas_a_plausible_stack_meets",
    ),
    (
        Rule::CloudFrontInvalidationsInProgress,
        "accounts::quotas_a_plausible_stack_meets",
    ),
    // Issue 24, items 1-7 (accounts-a).
    (
        Rule::S3BucketNameHeld,
        "down_then_up_at_once_comes_up_again_on_the_modelled_clock",
    ),
    (
        Rule::SsmNameHeld,
        "the_lock_is_never_deleted_between_runs_and_a_held_name_is_waited_out",
    ),
    (
        Rule::AcmNotFoundAtFirst,
        "a_new_certificate_not_found_at_first_is_waited_for",
    ),
    (
        Rule::LambdaAccountQuotas,
        "a_new_accounts_lambda_quotas_are_refused_before_any_change",
    ),
    (
        Rule::CloudFrontInvalidationPaths,
        "invalidation_paths_are_sent_as_browsers_send_them",
    ),
    (
        Rule::LambdaTagsNeedListTags,
        "function_tags_are_read_with_list_tags",
    ),
    (
        Rule::SsmStandardSize,
        "parameters_stay_within_a_standard_parameter",
    ),
    // Issue 28: publish's first upload (tests in publish.rs).
    (
        Rule::S3ChecksumChecked,
        "publish::a_body_damaged_on_the_way_is_refused_and_sent_again",
    ),
    (
        Rule::S3MultipartChecksums,
        "publish::large_file_goes_multipart_round_trips_and_is_not_uploaded_again",
    ),
    (
        Rule::S3KmsEtagNotMd5,
        "publish::a_kms_bucket_gets_md5s_that_later_publishes_can_read",
    ),
];

/// Prints the rule table for scripts/realism (rule, source, test), tab-separated.
#[test]
#[ignore]
fn rule_table() {
    for (rule, test) in RULES {
        println!("RULE\t{}\t{}\t{test}\t{rule:?}", rule.name(), rule.source());
    }
    for rule in Rule::ALL {
        assert!(
            RULES.iter().any(|(r, _)| *r == rule),
            "{rule:?} has no test"
        );
    }
}

/// A realism proxy of this test's own (its hit counts are this test's).
fn proxy() -> &'static FaultProxy {
    common::proxy_for(&common::emulator())
}

fn run(stack: &TestStack, proxy: &FaultProxy, args: &[&str]) -> Output {
    stack
        .command_at(&proxy.endpoint(), args)
        .output()
        .expect("run colorid")
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command with `--output json` that must succeed.
fn json(stack: &TestStack, proxy: &FaultProxy, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let out = run(stack, proxy, &all);
    assert!(
        out.status.success(),
        "colorid {args:?} failed: {}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)))
}

fn hits(proxy: &FaultProxy, rule: Rule) -> u32 {
    proxy.realism().hits(rule)
}

async fn sdk(proxy: &FaultProxy, region: &str) -> aws_config::SdkConfig {
    common::sdk_at(&proxy.endpoint(), region).await
}

async fn certificate_exists(proxy: &FaultProxy, arn: &str) -> bool {
    aws_sdk_acm::Client::new(&sdk(proxy, "us-east-1").await)
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .is_ok()
}

async fn state_of(proxy: &FaultProxy, stack: &TestStack) -> Value {
    let out = aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await)
        .get_parameter()
        .name(format!("/colorid/{}/state", stack.name))
        .send()
        .await
        .expect("the state record");
    serde_json::from_str(
        out.parameter
            .and_then(|p| p.value)
            .as_deref()
            .unwrap_or("{}"),
    )
    .unwrap()
}

/// Defect: validation records were de-duplicated, then counted against the names,
/// so `*.x` + `x` (one record) never became "ready" and `up` timed out.
#[test]
fn wildcard_and_apex_certificate_is_issued() {
    let proxy = proxy();
    let stack = TestStack::new("rl-wild");
    stack.write(&format!("certificate_names = [\"*.{}\"]", stack.domain));
    let report = json(&stack, proxy, &["up", "--wait-timeout", "60"]);
    assert!(
        report["certificate_arn"]
            .as_str()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        hits(proxy, Rule::AcmRecordsLate) > 0,
        "records were never late"
    );
    assert!(
        hits(proxy, Rule::AcmWildcardSharesRecord) > 0,
        "no shared record"
    );
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defect: a fresh certificate's InvalidViewerCertificate failed `up`.
#[test]
fn up_waits_for_cloudfront_to_accept_a_fresh_certificate() {
    let proxy = proxy();
    let stack = TestStack::new("rl-cert");
    let report = json(&stack, proxy, &["up"]);
    assert!(
        report["distribution_id"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(hits(proxy, Rule::CloudFrontFreshCertificate) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// An update sends the ETag of the read just before it (CloudFront changes it on every change).
#[test]
fn a_change_is_sent_with_the_current_etag() {
    let proxy = proxy();
    let stack = TestStack::new("rl-etag");
    json(&stack, proxy, &["up"]);
    stack.write("price_class = \"PriceClass_All\"");
    json(&stack, proxy, &["up"]);
    stack.write("price_class = \"PriceClass_200\"");
    let again = json(&stack, proxy, &["up"]);
    assert_eq!(
        again["calls"]["mutations_by_operation"]["CloudFront.UpdateDistribution"],
        1
    );
    assert!(
        hits(proxy, Rule::CloudFrontEtagChanges) >= 2,
        "the ETag never changed"
    );
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defects: DistributionNotDisabled after the disabled distribution read Deployed failed
/// `down`; the certificate is in use for a while after the distribution is gone.
#[test]
fn down_waits_out_cloudfront_and_acm() {
    let proxy = proxy();
    let stack = TestStack::new("rl-down");
    let report = json(&stack, proxy, &["up"]);
    let arn = report["certificate_arn"].as_str().unwrap().to_string();
    let id = report["distribution_id"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // AWS refuses to delete an enabled (or still deploying) distribution; moto deletes it.
    assert_eq!(
        rt.block_on(delete_distribution_now(proxy, &id)).as_deref(),
        Some("DistributionNotDisabled")
    );
    assert!(hits(proxy, Rule::CloudFrontDeleteWhileEnabled) > 0);
    // A `down` that skipped the disable, or the wait for Deployed, meets that
    // refusal until the window's bound (60 s), past this wait timeout.
    json(&stack, proxy, &["down", "--yes", "--wait-timeout", "30"]);
    assert!(hits(proxy, Rule::CloudFrontNotDisabledOnce) > 0);
    assert!(hits(proxy, Rule::CloudFrontInProgress) > 0);
    assert!(hits(proxy, Rule::AcmDeleteInUse) > 0);
    assert!(
        !rt.block_on(certificate_exists(proxy, &arn)),
        "the certificate is left"
    );
}

/// Deletes a distribution with its current ETag, as `down` would without the
/// disable; the error code when refused.
async fn delete_distribution_now(proxy: &FaultProxy, id: &str) -> Option<String> {
    use aws_sdk_cloudfront::error::ProvideErrorMetadata;
    let cf = aws_sdk_cloudfront::Client::new(&sdk(proxy, "us-east-1").await);
    let etag = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("the distribution's config")
        .e_tag;
    let deleted = cf
        .delete_distribution()
        .id(id)
        .set_if_match(etag)
        .send()
        .await;
    deleted
        .err()
        .map(|e| e.code().unwrap_or("no code").to_string())
}

/// Defect: the caller reference was fixed per stack, so a create retried after a lost
/// answer, or a stack brought up again after `down`, met DistributionAlreadyExists.
#[test]
fn a_create_whose_answer_was_lost_finds_the_distribution() {
    let proxy = proxy();
    let stack = TestStack::new("rl-ref");
    // Only the lost answer here: a refusal of the fresh certificate would be what is lost.
    proxy.realism().set(Rule::CloudFrontFreshCertificate, false);
    proxy.lose_answer_of("cloudfront POST /2020-05-31/distribution");
    let first = json(&stack, proxy, &["up"]);
    assert!(
        hits(proxy, Rule::CloudFrontCallerReference) > 0,
        "the retry was not refused"
    );
    let again = json(&stack, proxy, &["up"]);
    assert_eq!(again["distribution_id"], first["distribution_id"]);
    assert_eq!(again["calls"]["mutations"], 0);
    json(&stack, proxy, &["down", "--yes"]);
    // The same stack again: a new caller reference, so a new distribution.
    let second = json(&stack, proxy, &["up"]);
    assert_ne!(second["distribution_id"], first["distribution_id"]);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defects: the origin access identity path could not run on the emulator, and the
/// bucket policy naming a fresh identity (MalformedPolicy) failed `up`.
#[test]
fn origin_access_identity_end_to_end() {
    let proxy = proxy();
    let stack = TestStack::new("rl-oai");
    stack.write("origin_access = \"identity\"");
    let report = json(&stack, proxy, &["up"]);
    let access = report["origin_access"].as_str().unwrap().to_string();
    assert!(access.starts_with("identity E"), "{access}");
    assert!(hits(proxy, Rule::CloudFrontOriginAccessIdentityApi) > 0);
    assert!(
        hits(proxy, Rule::S3FreshIdentityPrincipal) > 0,
        "the policy was never refused"
    );
    let again = json(&stack, proxy, &["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{}", again["calls"]);
    json(&stack, proxy, &["down", "--yes"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt.block_on(async {
        aws_sdk_cloudfront::Client::new(&sdk(proxy, "us-east-1").await)
            .list_cloud_front_origin_access_identities()
            .send()
            .await
            .unwrap()
            .cloud_front_origin_access_identity_list
            .map(|l| l.quantity)
            .unwrap_or(0)
    });
    assert_eq!(left, 0, "the origin access identity is left");
}

/// Defect: the role-not-assumable retry ran only when this run had created the role,
/// so a role made by a killed run failed CreateFunction; and a Pending function
/// was not waited for.
#[test]
fn a_role_made_by_an_earlier_run_is_waited_for() {
    let proxy = proxy();
    let stack = TestStack::new("rl-role");
    // A run killed right after CreateRole left the role and nothing after it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let iam = aws_sdk_iam::Client::new(&sdk(proxy, "us-east-1").await);
        iam.create_role()
            .role_name(format!("colorid-{}", stack.name))
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .tags(aws_sdk_iam::types::Tag::builder().key("colorid:stack").value(&stack.name).build().unwrap())
            .send()
            .await
            .expect("create the role as a killed run would have");
    });
    let report = json(&stack, proxy, &["up"]);
    assert!(
        report["function_name"]
            .as_str()
            .is_some_and(|f| !f.is_empty())
    );
    assert!(
        hits(proxy, Rule::IamRolePropagation) > 0,
        "the role was never refused"
    );
    assert!(
        hits(proxy, Rule::LambdaPending) > 0,
        "the function was never Pending"
    );
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defect: a function left updating (a killed run, or a change by hand) was updated
/// again at once: ResourceConflictException.
#[test]
fn a_function_update_in_progress_is_waited_for() {
    let proxy = proxy();
    let stack = TestStack::new("rl-upd");
    let report = json(&stack, proxy, &["up"]);
    let name = report["function_name"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        aws_sdk_lambda::Client::new(&sdk(proxy, "eu-west-1").await)
            .update_function_configuration()
            .function_name(&name)
            .memory_size(1024)
            .send()
            .await
            .expect("change the memory by hand");
    });
    let again = json(&stack, proxy, &["up"]);
    assert_eq!(
        again["calls"]["mutations_by_operation"]["Lambda.UpdateFunctionConfiguration"], 1,
        "{}",
        again["calls"]
    );
    assert!(hits(proxy, Rule::LambdaUpdateInProgress) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defects: a parameter of the other type was overwritten, which AWS refuses; and
/// the fallback for a type changed between colorid's read and its write was
/// reached by no test.
#[test]
fn a_secret_of_the_other_type_is_replaced() {
    let proxy = proxy();
    let stack = TestStack::new("rl-ssm");
    json(&stack, proxy, &["up"]);
    let name = format!("/colorid/{}/client-id", stack.name);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await);
        let refused = ssm
            .put_parameter()
            .name(&name)
            .value("test-client")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .expect_err("AWS refuses a type change");
        assert_eq!(
            aws_sdk_ssm::error::ProvideErrorMetadata::code(&refused),
            Some("HierarchyTypeMismatchException")
        );
        ssm.delete_parameter().name(&name).send().await.unwrap();
        // SSM holds a deleted name for 30 s (rule SsmNameHeld): a user waits it out too.
        let mut tries = 0;
        while let Err(err) = ssm
            .put_parameter()
            .name(&name)
            .value("test-client")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
        {
            tries += 1;
            assert!(tries < 10, "{err:?}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    // The test's own refused write is the one hit so far.
    assert_eq!(hits(proxy, Rule::SsmTypeMismatch), 1);
    json(&stack, proxy, &["up"]);
    let read = |name: &str| {
        rt.block_on(async {
            aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await)
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .unwrap()
                .parameter
                .map(|p| (p.r#type, p.value))
                .unwrap()
        })
    };
    assert_eq!(
        read(&name).0,
        Some(aws_sdk_ssm::types::ParameterType::String)
    );
    // `up` saw the other type and deleted before writing: AWS refused none of its writes.
    assert_eq!(
        hits(proxy, Rule::SsmTypeMismatch),
        1,
        "up overwrote across types"
    );

    // Another writer gives the app secret the other type after `up` read it: the
    // overwrite is refused, and `up` deletes and writes it again.
    let secret = format!("/colorid/{}/app-secret", stack.name);
    let (_, before) = read(&secret);
    proxy.realism().retype_behind(&secret);
    json(&stack, proxy, &["up", "--rotate-secrets", "app_secret"]);
    assert_eq!(
        hits(proxy, Rule::SsmTypeMismatch),
        2,
        "up's overwrite was not refused once"
    );
    let (kind, after) = read(&secret);
    assert_eq!(kind, Some(aws_sdk_ssm::types::ParameterType::SecureString));
    assert_ne!(after, before, "the rotated secret was not written");
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defects: publish gave up on a per-key DeleteObjects failure that a retry fixes, and
/// emptying the bucket ignored per-key failures (it looped while one persisted).
#[test]
fn per_key_delete_failures_are_retried_or_reported() {
    let proxy = proxy();
    let stack = TestStack::new("rl-del");
    let site = stack.dir.path().join("site");
    for i in 0..5 {
        std::fs::write(site.join(format!("page{i}.html")), format!("<p>{i}</p>")).unwrap();
    }
    std::fs::create_dir_all(site.join("keep")).unwrap();
    std::fs::write(site.join("keep/held.txt"), "under legal hold").unwrap();
    json(&stack, proxy, &["up"]);
    for i in 0..5 {
        std::fs::remove_file(site.join(format!("page{i}.html"))).unwrap();
    }
    let published = json(&stack, proxy, &["publish"]);
    assert!(
        hits(proxy, Rule::S3DeleteObjectsErrors) > 0,
        "no per-key failure"
    );
    assert!(published.to_string().contains("page0.html"), "{published}");
    // An object S3 refuses to delete: `down` stops with the key, it does not loop.
    proxy.realism().deny_delete("keep/held.txt");
    let start = std::time::Instant::now();
    let out = run(&stack, proxy, &["down", "--yes"]);
    assert!(
        !out.status.success(),
        "down deleted a held object: {}",
        text(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keep/held.txt") && err.contains("AccessDenied"),
        "{err}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(120));
    proxy.realism().allow_delete("keep/held.txt");
    json(&stack, proxy, &["down", "--yes", "--force-unlock"]);
}

/// Defect: a replaced certificate was deleted before publishing, with a wait that could
/// outlast the distribution's redeploy. Now it is listed in the state and deleted by a
/// later run once CloudFront lets go of it.
#[test]
fn a_replaced_certificate_is_deleted_by_a_later_up() {
    let proxy = proxy();
    let stack = TestStack::new("rl-repl");
    let first = json(&stack, proxy, &["up"]);
    let old = first["certificate_arn"].as_str().unwrap().to_string();
    stack.write(&format!("certificate_names = [\"www.{}\"]", stack.domain));
    let second = json(&stack, proxy, &["up"]);
    assert_ne!(second["certificate_arn"].as_str().unwrap(), old);
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(
        rt.block_on(certificate_exists(proxy, &old)),
        "deleted while in use"
    );
    let state = rt.block_on(state_of(proxy, &stack));
    assert_eq!(
        state["certificates_to_delete"],
        serde_json::json!([old.clone()])
    );
    // CloudFront lets go after a while (the rule's window): a later up deletes it.
    for _ in 0..3 {
        json(&stack, proxy, &["up"]);
    }
    assert!(
        !rt.block_on(certificate_exists(proxy, &old)),
        "never deleted"
    );
    let state = rt.block_on(state_of(proxy, &stack));
    assert_eq!(state["certificates_to_delete"], serde_json::json!([]));
    json(&stack, proxy, &["down", "--yes"]);
}

/// Defect: `down` deleted every validation CNAME of the stack's certificates, even one
/// that existed before colorid (ACM gives every certificate of a name the same record,
/// so it may serve another certificate). Only the records the stack created go.
#[test]
fn a_validation_record_that_was_there_before_is_left() {
    let proxy = proxy();
    let stack = TestStack::new("rl-cname");
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Another certificate of the same name, validated before colorid came: its record is in the zone.
    let (zone_id, record) = rt.block_on(async {
        let conf = sdk(proxy, "us-east-1").await;
        let r53 = aws_sdk_route53::Client::new(&conf);
        let zone = setup::create_zone(&r53, &stack.zone, format!("rl-cname-{}", stack.name)).await;
        let acm = aws_sdk_acm::Client::new(&conf);
        let arn = acm
            .request_certificate()
            .domain_name(&stack.domain)
            .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
            .send()
            .await
            .unwrap()
            .certificate_arn
            .unwrap();
        let record = loop {
            // A certificate requested moments ago is not found for a few seconds
            // (rule AcmNotFoundAtFirst): this client waits too.
            let d = match acm
                .describe_certificate()
                .certificate_arn(&arn)
                .send()
                .await
            {
                Ok(d) => d,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_not_found_exception()) =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
                Err(e) => panic!("{e:?}"),
            };
            let rr = d.certificate.and_then(|c| {
                c.domain_validation_options?
                    .into_iter()
                    .next()?
                    .resource_record
            });
            if let Some(rr) = rr {
                break rr;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        };
        r53.change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(setup::change(
                aws_sdk_route53::types::ChangeAction::Create,
                setup::cname(record.name(), record.value()),
            ))
            .send()
            .await
            .unwrap();
        (zone, record.name().to_string())
    });
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["down", "--yes"]);
    let left = rt.block_on(async {
        aws_sdk_route53::Client::new(&sdk(proxy, "us-east-1").await)
            .list_resource_record_sets()
            .hosted_zone_id(&zone_id)
            .send()
            .await
            .unwrap()
            .resource_record_sets
            .into_iter()
            .any(|r| r.name == record)
    });
    assert!(left, "down deleted the record another certificate uses");
}

// --- Issue 24, items 1-7: an account as users have it ----------------------

fn ssm_deletes(proxy: &FaultProxy) -> usize {
    proxy
        .sequence()
        .iter()
        .filter(|k| k.starts_with("ssm.DeleteParameter"))
        .count()
}

/// Item 1. S3 holds a deleted bucket's name for hours: `down` then `up` at once, on
/// AWS's clock, comes up again in a bucket of a new name (a suffix per incarnation),
/// while the old name is still refused.
#[test]
fn down_then_up_at_once_comes_up_again_on_the_modelled_clock() {
    let scale = 0.02;
    let proxy = Box::leak(Box::new(FaultProxy::start_modelled(
        &common::emulator(),
        common::latency::Model::load(scale),
        None,
    )));
    let stack = TestStack::new("rl-again");
    let modelled = |args: &[&str]| {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let out = stack
            .command_at(&proxy.endpoint(), &all)
            .env("COLORID_CLOCK_SCALE", scale.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "colorid {args:?}: {}", text(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = modelled(&["up"]);
    let old = first["bucket"].as_str().unwrap().to_string();
    assert!(
        old.starts_with(&format!("colorid-{}-123456789012-", stack.name)),
        "{old}"
    );
    modelled(&["down", "--yes"]);
    let again = modelled(&["up"]);
    let new = again["bucket"].as_str().unwrap().to_string();
    assert_ne!(
        new, old,
        "down then up re-created the deleted bucket's name"
    );
    assert!(new.len() <= 63, "{new}");
    // The old name is still held by S3.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let refused = rt
        .block_on(setup::create_bucket(proxy, &old))
        .expect_err("S3 holds a deleted bucket's name");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&refused),
        Some("OperationAborted")
    );
    assert!(hits(proxy, Rule::S3BucketNameHeld) > 0);
    modelled(&["down", "--yes"]);
}

/// Item 1, a bucket the user named: `down` then `up` waits, with progress, for S3 to
/// release the name.
#[test]
fn a_chosen_bucket_name_is_waited_for_after_down() {
    let proxy = proxy();
    let stack = TestStack::new("rl-chosen");
    let bucket = format!("{}-site", stack.name);
    stack.write(&format!("bucket = \"{bucket}\""));
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["down", "--yes"]);
    let out = run(&stack, proxy, &["up"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("release the name {bucket}")),
        "{}",
        text(&out)
    );
    assert!(hits(proxy, Rule::S3BucketNameHeld) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 2. SSM holds a deleted name for 30 s. The lock is written over, never deleted,
/// between runs (`--force-unlock` included); `down` then `up` waits out the names
/// `down` deleted.
#[test]
fn the_lock_is_never_deleted_between_runs_and_a_held_name_is_waited_out() {
    let proxy = proxy();
    let stack = TestStack::new("rl-held");
    let lock = format!("/colorid/{}/lock", stack.name);
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["up"]);
    json(&stack, proxy, &["publish"]);
    assert_eq!(ssm_deletes(proxy), 0, "{:?}", proxy.sequence());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ssm = rt.block_on(async { aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await) });
    let value = |ssm: &aws_sdk_ssm::Client| {
        rt.block_on(async {
            ssm.get_parameter()
                .name(&lock)
                .send()
                .await
                .unwrap()
                .parameter
                .and_then(|p| p.value)
                .unwrap_or_default()
        })
    };
    assert!(value(&ssm).contains("released"), "{}", value(&ssm));
    // A holder on another machine: refused, then taken with --force-unlock.
    rt.block_on(async {
        ssm.put_parameter()
            .name(&lock)
            .value(r#"{"holder":"someone@elsewhere (pid 1)","since":"2026-01-01T00:00:00Z","command":"up","host":"elsewhere","pid":1}"#)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
    });
    let out = run(&stack, proxy, &["up"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("someone@elsewhere"), "{}", text(&out));
    json(&stack, proxy, &["up", "--force-unlock"]);
    assert_eq!(ssm_deletes(proxy), 0, "{:?}", proxy.sequence());
    assert!(value(&ssm).contains("released"));
    // `down` deletes every name; `up` at once meets SSM's hold and waits it out.
    json(&stack, proxy, &["down", "--yes"]);
    let out = run(&stack, proxy, &["up"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SSM holds the name"),
        "{}",
        text(&out)
    );
    assert!(hits(proxy, Rule::SsmNameHeld) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 3. A certificate requested moments ago is not found for a few seconds: that
/// is "not yet", not "disappeared".
#[test]
fn a_new_certificate_not_found_at_first_is_waited_for() {
    let proxy = proxy();
    let stack = TestStack::new("rl-acmnf");
    json(&stack, proxy, &["up"]);
    assert!(hits(proxy, Rule::AcmNotFoundAtFirst) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 4. A new account's Lambda quotas: `plan` and `up` read them and refuse a
/// reservation (Lambda keeps 100 unreserved of 10) or memory above 3,008 MB before
/// any change, naming the quota and how to raise it.
#[test]
fn a_new_accounts_lambda_quotas_are_refused_before_any_change() {
    let proxy = proxy();
    proxy.realism().new_account();
    let stack = TestStack::new("rl-quota");
    stack.write("[function]\nreserved_concurrency = 10");
    for command in ["plan", "up"] {
        let out = run(&stack, proxy, &[command]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("concurrency quota")
                && err.contains("is 10")
                && err.contains("no reservation is possible")
                && err.contains("reserved_concurrency")
                && err.contains("Service Quotas"),
            "{err}"
        );
    }
    stack.write("[function]\nmemory_mb = 4096");
    let out = run(&stack, proxy, &["up"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3008 MB") && err.contains("memory_mb"),
        "{err}"
    );
    // Nothing but the lock was written.
    let others: Vec<String> = proxy
        .sequence()
        .into_iter()
        .filter(|k| k != "ssm.PutParameter")
        .collect();
    assert!(others.is_empty(), "{others:?}");
    assert!(hits(proxy, Rule::LambdaAccountQuotas) > 0);
}

/// Item 5. Invalidation paths as browsers send them: `logo@2x.png` as it is, a space
/// and non-ASCII percent-encoded.
#[test]
fn invalidation_paths_are_sent_as_browsers_send_them() {
    let proxy = proxy();
    let stack = TestStack::new("rl-inval");
    json(&stack, proxy, &["up"]);
    let site = stack.dir.path().join("site");
    let files = ["logo@2x.png", "a b.png", "é.png"];
    for f in files {
        std::fs::write(site.join(f), "one").unwrap();
    }
    json(&stack, proxy, &["publish"]);
    for f in files {
        std::fs::write(site.join(f), "two, longer").unwrap();
    }
    let published = json(&stack, proxy, &["publish"]);
    let id = published["report"]["summary"]["invalidation_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no invalidation: {published}"))
        .to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (paths, refused) = rt.block_on(async {
        let cf = aws_sdk_cloudfront::Client::new(&sdk(proxy, "us-east-1").await);
        let state = state_of(proxy, &stack).await;
        let dist = state["distribution_id"].as_str().unwrap().to_string();
        let got = cf
            .get_invalidation()
            .distribution_id(&dist)
            .id(&id)
            .send()
            .await
            .unwrap();
        let paths: Vec<String> = got
            .invalidation()
            .and_then(|i| i.invalidation_batch())
            .and_then(|b| b.paths())
            .map(|p| p.items().to_vec())
            .unwrap_or_default();
        // An over-encoded path, as a tool that encodes everything would send it.
        let batch = aws_sdk_cloudfront::types::InvalidationBatch::builder()
            .caller_reference(format!("over-{id}"))
            .paths(
                aws_sdk_cloudfront::types::Paths::builder()
                    .quantity(1)
                    .items("/logo%402x.png")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        cf.create_invalidation()
            .distribution_id(&dist)
            .invalidation_batch(batch)
            .send()
            .await
            .unwrap();
        (paths, proxy.realism().over_encoded())
    });
    for p in ["/logo@2x.png", "/a%20b.png", "/%C3%A9.png"] {
        assert!(paths.iter().any(|x| x == p), "{p} not in {paths:?}");
    }
    assert_eq!(refused, vec!["/logo%402x.png".to_string()]);
    assert!(hits(proxy, Rule::CloudFrontInvalidationPaths) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 6. GetFunction holds no Tags unless the caller may ListTags: read with
/// ListTags, a second `up` does not tag again and `plan` comes back clean.
#[test]
fn function_tags_are_read_with_list_tags() {
    let proxy = proxy();
    let stack = TestStack::new("rl-tags");
    json(&stack, proxy, &["up"]);
    let before = proxy.sequence().len();
    json(&stack, proxy, &["up"]);
    let second: Vec<String> = proxy.sequence()[before..].to_vec();
    assert!(
        !second.iter().any(|k| k.contains("/tags/")),
        "the second up tagged again: {second:?}"
    );
    let plan = json(&stack, proxy, &["plan"]);
    assert!(
        !plan.to_string().contains("\"tag\""),
        "plan is not clean: {plan}"
    );
    assert!(hits(proxy, Rule::LambdaTagsNeedListTags) > 0);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Item 7. A standard parameter holds 4,096 characters: a longer value is refused
/// by SSM, a supplied secret that long is a stack-file error before any change, and
/// the state record is written within the limit.
#[test]
fn parameters_stay_within_a_standard_parameter() {
    let proxy = proxy();
    let stack = TestStack::new("rl-4k");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let refused = rt.block_on(async {
        aws_sdk_ssm::Client::new(&sdk(proxy, "eu-west-1").await)
            .put_parameter()
            .name(format!("/colorid/{}/too-long", stack.name))
            .value("x".repeat(4097))
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .expect_err("SSM refuses 4,097 characters")
    });
    assert_eq!(
        aws_sdk_ssm::error::ProvideErrorMetadata::code(&refused),
        Some("ValidationException")
    );
    assert!(hits(proxy, Rule::SsmStandardSize) > 0);
    let secret = stack.dir.path().join("app-secret.txt");
    std::fs::write(&secret, "s".repeat(5000)).unwrap();
    stack.write(&format!(
        "[secrets]\napp_secret = {{ file = \"{}\" }}",
        secret.display()
    ));
    let out = run(&stack, proxy, &["up"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("secrets.app_secret") && err.contains("4096") && err.contains("stack.toml"),
        "{err}"
    );
    assert!(!err.contains(&"s".repeat(100)), "the secret was shown");
    assert!(
        proxy.sequence().iter().all(|k| k == "ssm.PutParameter"),
        "{:?}",
        proxy.sequence()
    );
    stack.write("");
    json(&stack, proxy, &["up"]);
    let state = rt.block_on(state_of(proxy, &stack));
    assert!(state.to_string().len() <= 4096);
    json(&stack, proxy, &["down", "--yes"]);
}

/// Issue 25, item 7: the function URL's permissions were checked by Sid only,
/// so a statement widened by hand under colorid's Sid stayed. Now its content
/// is compared (in the shape AWS shows it) and the statement put back.
#[test]
fn a_widened_function_url_permission_is_repaired() {
    let proxy = proxy();
    let stack = TestStack::new("rl-perm");
    let report = json(&stack, proxy, &["up"]);
    let name = report["function_name"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lambda = rt.block_on(async { aws_sdk_lambda::Client::new(&sdk(proxy, "eu-west-1").await) });
    rt.block_on(async {
        lambda
            .remove_permission()
            .function_name(&name)
            .statement_id("colorid-function-url-invoke")
            .send()
            .await
            .expect("remove the statement");
        // Same Sid, anyone may invoke the function any way.
        lambda
            .add_permission()
            .function_name(&name)
            .statement_id("colorid-function-url-invoke")
            .action("lambda:InvokeFunction")
            .principal("*")
            .send()
            .await
            .expect("widen the statement");
    });
    let plan = run(&stack, proxy, &["plan"]);
    assert!(
        String::from_utf8_lossy(&plan.stdout).contains("colorid-function-url-invoke"),
        "{}",
        text(&plan)
    );
    let again = json(&stack, proxy, &["up"]);
    let mutations = &again["calls"]["mutations_by_operation"];
    assert_eq!(
        mutations["Lambda.RemovePermission"], 1,
        "{}",
        again["calls"]
    );
    assert_eq!(mutations["Lambda.AddPermission"], 1, "{}", again["calls"]);
    let policy = rt.block_on(async {
        lambda
            .get_policy()
            .function_name(&name)
            .send()
            .await
            .expect("policy")
    });
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let invoke = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "colorid-function-url-invoke")
        .expect("the statement is back")
        .clone();
    assert_eq!(
        invoke["Condition"],
        serde_json::json!({"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}),
        "{invoke}"
    );
    assert!(hits(proxy, Rule::LambdaPolicyConditions) > 0);
    // Right again: the next run changes nothing.
    let third = json(&stack, proxy, &["up"]);
    assert!(
        third["calls"]["mutations_by_operation"]["Lambda.AddPermission"].is_null(),
        "{}",
        third["calls"]
    );
    json(&stack, proxy, &["down", "--yes"]);
}
