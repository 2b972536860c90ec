//! `up`, `plan`, `down` against the local AWS emulator: assert on what the
//! emulator holds afterwards, not just on what colorid prints.

use crate::common;

use common::TestStack;
use serde_json::Value;

struct Seen {
    distribution: aws_sdk_cloudfront::types::Distribution,
}

async fn distribution_of(stack: &TestStack) -> Option<Seen> {
    let cf = common::cloudfront().await;
    let mut all = Vec::new();
    let mut pages = cf.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        all.extend(
            page.unwrap()
                .distribution_list
                .and_then(|l| l.items)
                .unwrap_or_default(),
        );
    }
    let mut found = Vec::new();
    for d in all {
        if d.aliases
            .as_ref()
            .is_some_and(|a| a.items().contains(&stack.domain))
        {
            let full = cf.get_distribution().id(&d.id).send().await.unwrap();
            found.push(full.distribution.unwrap());
        }
    }
    assert!(
        found.len() <= 1,
        "{} distributions serve {}",
        found.len(),
        stack.domain
    );
    found.pop().map(|distribution| Seen { distribution })
}

async fn zone_id(zone: &str) -> Option<String> {
    let r53 = common::route53().await;
    let out = r53
        .list_hosted_zones_by_name()
        .dns_name(format!("{zone}."))
        .send()
        .await
        .unwrap();
    let zones: Vec<_> = out
        .hosted_zones()
        .iter()
        .filter(|z| z.name() == format!("{zone}."))
        .collect();
    assert!(zones.len() <= 1, "zone {zone} exists {} times", zones.len());
    zones
        .first()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
}

async fn records(zone: &str) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    let Some(id) = zone_id(zone).await else {
        return Vec::new();
    };
    common::route53()
        .await
        .list_resource_record_sets()
        .hosted_zone_id(id)
        .send()
        .await
        .unwrap()
        .resource_record_sets
}

async fn certificates_for(domain: &str) -> Vec<String> {
    let acm = common::acm().await;
    let mut found = Vec::new();
    let mut pages = acm.list_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        found.extend(
            page.unwrap()
                .certificate_summary_list()
                .iter()
                .filter(|c| c.domain_name() == Some(domain))
                .filter_map(|c| c.certificate_arn().map(str::to_string)),
        );
    }
    found
}

async fn oac_count(stack: &str) -> usize {
    let cf = common::cloudfront().await;
    let out = cf.list_origin_access_controls().send().await.unwrap();
    out.origin_access_control_list
        .map(|l| {
            l.items()
                .iter()
                .filter(|i| i.name() == format!("colorid-{stack}"))
                .count()
        })
        .unwrap_or(0)
}

async fn bucket_exists(bucket: &str) -> bool {
    common::s3("eu-west-1")
        .await
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .is_ok()
}

/// The stack's bucket: its derived name carries a suffix per incarnation (S3 holds
/// a deleted bucket's name), so it is looked up; the bare stem when there is none.
async fn bucket_of(stack: &TestStack) -> String {
    let stem = format!("colorid-{}-123456789012", stack.name);
    common::s3("eu-west-1")
        .await
        .list_buckets()
        .send()
        .await
        .ok()
        .and_then(|o| {
            o.buckets
                .unwrap_or_default()
                .into_iter()
                .filter_map(|b| b.name)
                .find(|n| n.starts_with(&format!("{stem}-")))
        })
        .unwrap_or(stem)
}

/// The steps of a plan that change something.
fn changes(plan: &Value) -> Vec<&Value> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "unchanged")
        .collect()
}

#[tokio::test]
async fn up_creates_one_of_each_with_the_promised_settings() {
    let stack = TestStack::new("up");
    let report = stack.json(&["up"]);
    let bucket = bucket_of(&stack).await;
    assert_eq!(report["bucket"], Value::String(bucket.clone()));

    // Bucket: private, encrypted, readable by this distribution only, TLS only.
    let s3 = common::s3("eu-west-1").await;
    let pab = s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration.unwrap();
    assert_eq!(
        (
            pab.block_public_acls,
            pab.ignore_public_acls,
            pab.block_public_policy,
            pab.restrict_public_buckets
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let rule = enc.server_side_encryption_configuration.unwrap().rules[0].clone();
    assert_eq!(
        rule.apply_server_side_encryption_by_default
            .unwrap()
            .sse_algorithm
            .as_str(),
        "AES256"
    );

    let seen = distribution_of(&stack).await.expect("a distribution");
    let d = &seen.distribution;
    let policy: Value = serde_json::from_str(
        &s3.get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .unwrap()
            .policy
            .unwrap(),
    )
    .unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let allow = statements.iter().find(|s| s["Effect"] == "Allow").unwrap();
    assert_eq!(allow["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert_eq!(allow["Action"], "s3:GetObject");
    assert_eq!(
        allow["Condition"]["StringEquals"]["AWS:SourceArn"],
        Value::String(d.arn.clone())
    );
    // The emulator cannot evaluate a conditional Deny (it denies everything), so
    // --local leaves the TLS-only statement out; tests/it/origin_access_identity.rs
    // checks the statement AWS gets.
    assert_eq!(statements.len(), 1, "{policy}");

    // Distribution.
    let config = d.distribution_config.as_ref().unwrap();
    assert_eq!(
        config.aliases.as_ref().unwrap().items(),
        std::slice::from_ref(&stack.domain)
    );
    assert_eq!(config.default_root_object.as_deref(), Some("index.html"));
    let behavior = config.default_cache_behavior.as_ref().unwrap();
    assert_eq!(
        behavior.viewer_protocol_policy.as_str(),
        "redirect-to-https"
    );
    assert_eq!(
        behavior.cache_policy_id.as_deref(),
        Some("658327ea-f89d-4fab-a63d-7e88639e58f6")
    );
    assert_eq!(
        behavior.response_headers_policy_id.as_deref(),
        Some("67f7725c-6f97-4210-82d7-5512b31e9d03")
    );
    let cert = config.viewer_certificate.as_ref().unwrap();
    assert_eq!(
        cert.minimum_protocol_version.as_ref().unwrap().as_str(),
        "TLSv1.2_2021"
    );
    assert_eq!(
        cert.ssl_support_method.as_ref().unwrap().as_str(),
        "sni-only"
    );
    let cert_arn = cert.acm_certificate_arn.clone().unwrap();
    assert_eq!(
        config.price_class.as_ref().unwrap().as_str(),
        "PriceClass_100"
    );
    assert_eq!(config.http_version.as_ref().unwrap().as_str(), "http2and3");
    assert_eq!(config.is_ipv6_enabled, Some(true));
    let origin = &config.origins.as_ref().unwrap().items[0];
    assert_eq!(
        origin.domain_name,
        format!("{bucket}.s3.eu-west-1.amazonaws.com")
    );

    // Exactly one of each.
    assert_eq!(
        certificates_for(&stack.domain).await,
        vec![cert_arn.clone()]
    );
    assert_eq!(oac_count(&stack.name).await, 1);

    // DNS: A and AAAA alias the distribution; the validation CNAME is the certificate's.
    let recs = records(&stack.zone).await;
    for kind in ["A", "AAAA"] {
        let r: Vec<_> = recs
            .iter()
            .filter(|r| r.r#type.as_str() == kind && r.name == format!("{}.", stack.domain))
            .collect();
        assert_eq!(r.len(), 1, "{kind}");
        let alias = r[0].alias_target.as_ref().unwrap();
        assert_eq!(alias.hosted_zone_id, "Z2FDTNDATAQYW2");
        assert_eq!(alias.dns_name.trim_end_matches('.'), d.domain_name);
    }
    let detail = common::acm()
        .await
        .describe_certificate()
        .certificate_arn(&cert_arn)
        .send()
        .await
        .unwrap()
        .certificate
        .unwrap();
    assert_eq!(detail.status.clone().unwrap().as_str(), "ISSUED");
    let rr = detail.domain_validation_options()[0]
        .resource_record()
        .unwrap()
        .clone();
    let cname = recs
        .iter()
        .find(|r| {
            r.r#type.as_str() == "CNAME"
                && r.name.trim_end_matches('.') == rr.name.trim_end_matches('.')
        })
        .expect("validation CNAME");
    assert_eq!(cname.resource_records()[0].value, rr.value);

    stack.ok(&["down", "--yes"]);
}

#[tokio::test]
async fn second_up_changes_nothing_and_a_price_class_change_is_one_update() {
    let stack = TestStack::new("converge");
    stack.ok(&["up"]);
    let ssm = common::ssm("eu-west-1").await;
    let state_param = format!("/colorid/{}/state", stack.name);
    let version =
        |p: aws_sdk_ssm::operation::get_parameter::GetParameterOutput| p.parameter.unwrap().version;
    let before = version(ssm.get_parameter().name(&state_param).send().await.unwrap());

    let second = stack.json(&["up"]);
    assert_eq!(second["calls"]["mutations"], 0, "{second}");
    let after = version(ssm.get_parameter().name(&state_param).send().await.unwrap());
    assert_eq!(before, after, "the state record was rewritten");

    let plan = stack.json(&["plan"]);
    let changed = changes(&plan);
    assert!(changed.is_empty(), "{plan}");

    stack.write("price_class = \"PriceClass_All\"");
    let plan = stack.json(&["plan"]);
    let changed = changes(&plan);
    assert_eq!(changed.len(), 1, "{plan}");
    assert_eq!(changed[0]["resource"], "distribution");
    let fields = changed[0]["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 1, "{plan}");
    assert_eq!(fields[0]["field"], "price_class");
    assert_eq!(fields[0]["old"], "PriceClass_100");
    assert_eq!(fields[0]["new"], "PriceClass_All");

    let applied = stack.json(&["up"]);
    assert_eq!(applied["calls"]["mutations"], 1, "{applied}");
    assert_eq!(
        applied["calls"]["mutations_by_operation"]["CloudFront.UpdateDistribution"],
        1
    );
    let d = distribution_of(&stack).await.unwrap().distribution;
    assert_eq!(
        d.distribution_config.unwrap().price_class.unwrap().as_str(),
        "PriceClass_All"
    );
    stack.ok(&["down", "--yes"]);
}

#[tokio::test]
async fn down_removes_the_stack_and_nothing_else() {
    let shared_zone = format!("{}.example.com", common::unique("shared"));
    let a = TestStack::in_zone(&common::unique("a"), &shared_zone);
    let b = TestStack::in_zone(&common::unique("b"), &shared_zone);
    a.ok(&["up"]);
    b.ok(&["up"]);
    let a_cert = certificates_for(&a.domain).await;
    assert_eq!(a_cert.len(), 1);

    // Without a terminal and without --yes, down refuses and deletes nothing.
    let refused = a.run(&["down"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));
    assert!(distribution_of(&a).await.is_some());

    a.ok(&["down", "--yes"]);

    assert!(distribution_of(&a).await.is_none());
    assert!(certificates_for(&a.domain).await.is_empty());
    assert_eq!(oac_count(&a.name).await, 0);
    assert!(!bucket_exists(&bucket_of(&a).await).await);
    let recs = records(&shared_zone).await;
    assert!(
        !recs.iter().any(|r| r.name.contains(&a.name)),
        "records of a remain: {recs:?}"
    );
    let params = common::ssm("eu-west-1")
        .await
        .get_parameters_by_path()
        .path(format!("/colorid/{}", a.name))
        .recursive(true)
        .send()
        .await
        .unwrap();
    assert!(params.parameters().is_empty(), "{:?}", params.parameters());

    // b is untouched.
    assert!(distribution_of(&b).await.is_some());
    assert_eq!(certificates_for(&b.domain).await.len(), 1);
    assert_eq!(oac_count(&b.name).await, 1);
    assert!(bucket_exists(&bucket_of(&b).await).await);
    let b_aliases = recs
        .iter()
        .filter(|r| r.name == format!("{}.", b.domain) && r.alias_target.is_some())
        .count();
    assert_eq!(b_aliases, 2);
    let again = b.json(&["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{again}");

    assert!(
        zone_id(&shared_zone).await.is_some(),
        "b's zone was deleted with a"
    );
    b.ok(&["down", "--yes"]);
}

#[tokio::test]
async fn down_rediscovers_without_the_state_record() {
    let stack = TestStack::new("lost");
    stack.ok(&["up"]);
    common::ssm("eu-west-1")
        .await
        .delete_parameter()
        .name(format!("/colorid/{}/state", stack.name))
        .send()
        .await
        .unwrap();
    let again = stack.json(&["up"]);
    // Rediscovered by tag and derived name: nothing new is created.
    let ops = again["calls"]["mutations_by_operation"]
        .as_object()
        .unwrap();
    assert!(ops.keys().all(|k| k == "SSM.PutParameter"), "{again}");
    assert_eq!(certificates_for(&stack.domain).await.len(), 1);
    stack.ok(&["down", "--yes"]);
    assert!(distribution_of(&stack).await.is_none());
    assert!(!bucket_exists(&bucket_of(&stack).await).await);
}

/// Writes the stack's lock as held by a run on another machine.
async fn hold_lock_elsewhere(ssm: &aws_sdk_ssm::Client, stack: &TestStack) {
    ssm.put_parameter()
        .name(format!("/colorid/{}/lock", stack.name))
        .value(r#"{"holder":"someone@elsewhere (pid 1)","since":"2026-01-01T00:00:00Z","command":"up"}"#)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

/// Runs `args`, which must fail (exit 1) naming the holder [`hold_lock_elsewhere`]
/// wrote; its stderr.
fn refused_on_the_lock(stack: &TestStack, args: &[&str]) -> String {
    let out = stack.run(args);
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("someone@elsewhere"), "{args:?}: {err}");
    err
}

#[tokio::test]
async fn a_second_run_fails_fast_on_the_lock() {
    let stack = TestStack::new("lock");
    let ssm = common::ssm("eu-west-1").await;
    hold_lock_elsewhere(&ssm, &stack).await;
    let err = refused_on_the_lock(&stack, &["up"]);
    assert!(err.contains("2026-01-01T00:00:00Z"), "{err}");
    assert!(err.contains("--force-unlock"), "{err}");
    assert!(distribution_of(&stack).await.is_none());
    // A publish names the lock too, before the bucket it has not got yet.
    refused_on_the_lock(&stack, &["publish"]);
    stack.ok(&["up", "--force-unlock"]);
    stack.ok(&["down", "--yes"]);
}

/// A publish with nothing to write takes no lock: it leaves the lock's version as it
/// was. One with a change takes and releases it (two versions), and a lock held
/// elsewhere still refuses a publish, changes or none.
#[tokio::test]
async fn a_publish_with_nothing_to_write_takes_no_lock() {
    let stack = TestStack::new("nolock");
    let ssm = common::ssm("eu-west-1").await;
    let lock = format!("/colorid/{}/lock", stack.name);
    let version = || async {
        let p = ssm.get_parameter().name(&lock).send().await.unwrap();
        p.parameter
            .map(|p| (p.version, p.value.unwrap_or_default()))
    };
    stack.ok(&["up"]);
    let (before, value) = version().await.unwrap();
    assert!(value.contains("released"), "{value}");
    let noop = stack.json(&["publish"]);
    assert_eq!(noop["report"]["summary"]["uploaded"], 0, "{noop}");
    assert_eq!(version().await.unwrap().0, before, "a no-op took the lock");

    std::fs::write(stack.dir.path().join("site/new.html"), "<p>new</p>").unwrap();
    let changed = stack.json(&["publish"]);
    assert_eq!(changed["report"]["summary"]["uploaded"], 1, "{changed}");
    let (after, value) = version().await.unwrap();
    assert_eq!(after, before + 2, "taken and released once");
    assert!(value.contains("released"), "{value}");

    hold_lock_elsewhere(&ssm, &stack).await;
    refused_on_the_lock(&stack, &["publish"]);
    stack.ok(&["publish", "--force-unlock"]);
    stack.ok(&["down", "--yes"]);
}

/// The lock's compare-and-set tells a run that planned without the lock whether
/// another run held it since: taken right after the released version it read, it
/// follows that version; after another run's take and release, it does not.
#[tokio::test]
async fn a_lock_taken_after_another_runs_does_not_follow_the_version_read() {
    use colorid::lock::Lock;
    let names = colorid::names::Names::new(&common::unique("follow"));
    let ssm = common::ssm("eu-west-1").await;
    let first = Lock::acquire(ssm.clone(), &names, "test", false)
        .await
        .unwrap();
    assert_eq!(
        Lock::released_version(ssm.clone(), &names).await.unwrap(),
        None,
        "held: no released version"
    );
    first.release().await.unwrap();
    let seen = Lock::released_version(ssm.clone(), &names)
        .await
        .unwrap()
        .unwrap();
    let next = Lock::acquire(ssm.clone(), &names, "test", false)
        .await
        .unwrap();
    assert!(next.follows(seen));
    next.release().await.unwrap();

    let seen = Lock::released_version(ssm.clone(), &names)
        .await
        .unwrap()
        .unwrap();
    // Another run takes and releases the lock in between.
    let other = Lock::acquire(ssm.clone(), &names, "other", false)
        .await
        .unwrap();
    other.release().await.unwrap();
    let late = Lock::acquire(ssm.clone(), &names, "test", false)
        .await
        .unwrap();
    assert!(!late.follows(seen));
    late.release().await.unwrap();
    ssm.delete_parameter()
        .name(names.lock_parameter())
        .send()
        .await
        .unwrap();
}

/// `down` deletes only what carries the stack's tag (or, untagged, the name the stack
/// derives): a state record pointed at another stack's resources leaves them alone.
#[tokio::test]
async fn down_refuses_what_the_state_names_but_the_stack_does_not_own() {
    let a = TestStack::new("own-a");
    let b = TestStack::new("own-b");
    a.ok(&["up"]);
    let b_up = b.json(&["up"]);
    let ssm = common::ssm("eu-west-1").await;
    let state_name = format!("/colorid/{}/state", a.name);
    let record = ssm
        .get_parameter()
        .name(&state_name)
        .send()
        .await
        .unwrap()
        .parameter
        .and_then(|p| p.value)
        .unwrap();
    let mut state: Value = serde_json::from_str(&record).unwrap();
    state["bucket"] = b_up["bucket"].clone();
    state["function_name"] = b_up["function_name"].clone();
    state["role_name"] = Value::String(format!("colorid-{}-identity", b.name));
    state["distribution_id"] = b_up["distribution_id"].clone();
    ssm.put_parameter()
        .name(&state_name)
        .value(state.to_string())
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let out = a.run(&["down", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("left alone"), "{err}");

    // Everything of b is still there, and b converges without a change.
    assert!(distribution_of(&b).await.is_some());
    assert!(bucket_exists(&bucket_of(&b).await).await);
    let again = b.json(&["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{again}");
    b.ok(&["down", "--yes"]);
}

/// Creates a hosted zone in the emulator; returns its bare id.
async fn create_zone(name: &str, private: bool) -> String {
    let r53 = common::route53().await;
    let mut req = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(common::unique("zone"));
    if private {
        req = req
            .vpc(
                aws_sdk_route53::types::Vpc::builder()
                    .vpc_region(aws_sdk_route53::types::VpcRegion::UsEast1)
                    .vpc_id("vpc-12345678")
                    .build(),
            )
            .hosted_zone_config(
                aws_sdk_route53::types::HostedZoneConfig::builder()
                    .private_zone(true)
                    .build(),
            );
    }
    let out = req.send().await.unwrap();
    out.hosted_zone
        .unwrap()
        .id
        .trim_start_matches("/hostedzone/")
        .to_string()
}

async fn records_in(zone_id: &str) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    common::route53()
        .await
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .unwrap()
        .resource_record_sets
}

/// The alias records named `name` in the zone, as their types.
fn alias_kinds(recs: &[aws_sdk_route53::types::ResourceRecordSet], name: &str) -> Vec<String> {
    let mut kinds: Vec<String> = recs
        .iter()
        .filter(|r| r.name == format!("{name}.") && r.alias_target.is_some())
        .map(|r| r.r#type.as_str().to_string())
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn two_public_zones_of_one_name_need_hosted_zone_id() {
    let stack = TestStack::new("zones");
    // Route53 allows several zones of one name; a private one never counts.
    let first = create_zone(&stack.zone, false).await;
    create_zone(&stack.zone, true).await;
    stack.ok(&["up"]);
    assert_eq!(
        alias_kinds(&records_in(&first).await, &stack.domain),
        ["A", "AAAA"]
    );

    let second = create_zone(&stack.zone, false).await;
    for args in [&["plan"][..], &["up"], &["status"], &["down", "--yes"]] {
        let out = stack.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&first) && err.contains(&second) && err.contains("hosted_zone_id"),
            "{args:?}: {err}"
        );
    }
    assert!(distribution_of(&stack).await.is_some(), "down went ahead");
    assert!(alias_kinds(&records_in(&second).await, &stack.domain).is_empty());

    // Naming the zone, with the prefix Route53 prints: the converged stack is unchanged.
    stack.write(&format!("hosted_zone_id = \"/hostedzone/{first}\""));
    let again = stack.json(&["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{again}");
    assert_eq!(stack.json(&["status"])["hosted_zone_id"], first.as_str());

    // An id of a zone with another name, or of no zone, is refused.
    let other = create_zone(&format!("other-{}", stack.zone), false).await;
    for (id, said) in [
        (other.as_str(), "is the zone of"),
        ("ZNOSUCHZONE0000", "does not exist"),
    ] {
        stack.write(&format!("hosted_zone_id = \"{id}\""));
        let out = stack.run(&["plan"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{id}: {err}");
        assert!(err.contains(id) && err.contains(said), "{id}: {err}");
    }

    stack.write(&format!("hosted_zone_id = \"{first}\""));
    stack.ok(&["down", "--yes"]);
    assert!(distribution_of(&stack).await.is_none());
    assert!(alias_kinds(&records_in(&first).await, &stack.domain).is_empty());
}

#[tokio::test]
async fn every_certificate_name_is_aliased_and_gets_records_but_wildcards() {
    let stack = TestStack::new("names");
    let www = format!("www.{}", stack.domain);
    let wildcard = format!("*.{}", stack.domain);
    let other = format!("other.{}", stack.zone);
    stack.write(&format!(
        "certificate_names = [\"{www}\", \"{wildcard}\", \"{other}\"]"
    ));
    stack.ok(&["up"]);
    let d = distribution_of(&stack).await.expect("a distribution");
    let config = d.distribution.distribution_config.unwrap();
    let mut aliases = config.aliases.unwrap().items.unwrap_or_default();
    aliases.sort();
    let mut wanted = vec![
        stack.domain.clone(),
        www.clone(),
        wildcard.clone(),
        other.clone(),
    ];
    wanted.sort();
    assert_eq!(aliases, wanted);
    let target = d.distribution.domain_name.clone();
    let recs = records(&stack.zone).await;
    for name in [&stack.domain, &www, &other] {
        assert_eq!(alias_kinds(&recs, name), ["A", "AAAA"], "{name}");
        for r in recs.iter().filter(|r| r.name == format!("{name}.")) {
            let alias = r.alias_target.as_ref().unwrap();
            assert_eq!(alias.dns_name.trim_end_matches('.'), target, "{name}");
        }
    }
    assert!(
        !recs
            .iter()
            .any(|r| r.name.starts_with('*') || r.name.starts_with("\\052")),
        "a wildcard record was made: {recs:?}"
    );

    let second = stack.json(&["up"]);
    assert_eq!(second["calls"]["mutations"], 0, "{second}");
    let plan = stack.json(&["plan"]);
    let steps = plan["steps"].as_array().unwrap();
    let dns: Vec<&str> = steps
        .iter()
        .filter(|s| s["resource"] == "dns")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(dns.len(), 3, "{plan}");
    assert!(
        dns.iter().any(|n| n.starts_with(&format!("{other} "))),
        "{plan}"
    );
    assert!(steps.iter().all(|s| s["action"] == "unchanged"), "{plan}");

    // A name taken off the list loses its records (they pointed at this distribution).
    stack.write(&format!("certificate_names = [\"{www}\", \"{wildcard}\"]"));
    stack.ok(&["up"]);
    let recs = records(&stack.zone).await;
    assert!(alias_kinds(&recs, &other).is_empty(), "{recs:?}");
    assert_eq!(alias_kinds(&recs, &www), ["A", "AAAA"]);

    stack.ok(&["down", "--yes"]);
    assert!(distribution_of(&stack).await.is_none());
    let recs = records(&stack.zone).await;
    assert!(
        !recs.iter().any(|r| r.alias_target.is_some()),
        "alias records remain: {recs:?}"
    );
}
