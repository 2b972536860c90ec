//! AWS's clock (common/latency.rs): the model's table, the proxy that applies it,
//! and `serve`, the standalone proxy scripts/bench-up runs `up` through.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::common;
use crate::common::fault_proxy::FaultProxy;
use crate::common::latency::{Model, Wait};

/// The scale the bench asked for (`COLORID_CLOCK_SCALE`), 1 (AWS's own clock) by default.
fn scale() -> f64 {
    std::env::var("COLORID_CLOCK_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// The proxy on AWS's clock in front of `COLORID_TEST_ENDPOINT`, until killed:
/// prints `LATENCY_PROXY_PORT=<port>`, appends every call to `COLORID_LATENCY_LOG`.
#[test]
#[ignore = "a server for scripts/bench-up; runs until killed"]
fn serve() {
    let upstream = std::env::var("COLORID_TEST_ENDPOINT").expect("COLORID_TEST_ENDPOINT");
    let log = std::env::var_os("COLORID_LATENCY_LOG").map(std::path::PathBuf::from);
    let proxy = FaultProxy::start_modelled(&upstream, Model::load(scale()), log.as_deref());
    println!("LATENCY_PROXY_PORT={}", proxy.port);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// One step of `up`'s dependency graph (common/up_graph.toml).
#[derive(Debug, Deserialize)]
struct Step {
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    calls: Vec<String>,
    #[serde(default)]
    alongside: Vec<String>,
    #[serde(default)]
    waits: Vec<String>,
}

fn graph() -> BTreeMap<String, Step> {
    let path = common::latency::table_path().with_file_name("up_graph.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).expect("up_graph.toml parses")
}

/// Every step `step` needs, directly or not.
fn needs(graph: &BTreeMap<String, Step>, step: &str, into: &mut BTreeSet<String>) {
    for d in &graph[step].after {
        if into.insert(d.clone()) {
            needs(graph, d, into);
        }
    }
}

#[test]
fn the_graph_is_well_formed() {
    let graph = graph();
    let model = Model::load(1.0);
    for (name, step) in &graph {
        for d in &step.after {
            assert!(graph.contains_key(d), "{name} needs {d}, which is no step");
        }
        let mut all = BTreeSet::new();
        needs(&graph, name, &mut all);
        assert!(!all.contains(name), "{name} needs itself");
        for w in &step.waits {
            assert!(
                model.has_wait(w),
                "{name} waits {w}, which latency.toml has no figure for"
            );
        }
    }
}

#[test]
fn every_wait_has_a_figure() {
    let model = Model::load(1.0);
    for wait in [
        Wait::AcmRecords,
        Wait::AcmIssue,
        Wait::CloudFrontFreshCertificate,
        Wait::CloudFrontDeploy,
        Wait::Route53Insync,
        Wait::IamRole,
        Wait::LambdaPending,
        Wait::LambdaUpdate,
        Wait::S3NameHeld,
        Wait::SsmNameHeld,
        Wait::AcmNotFound,
    ] {
        assert!(
            model.wait(wait) > Duration::ZERO,
            "{} has no figure",
            wait.key()
        );
    }
    assert_eq!(model.wait(Wait::AcmIssue), Duration::from_secs(180));
    let tenth = Model::load(0.1);
    assert_eq!(tenth.wait(Wait::AcmIssue), Duration::from_secs(18));
    assert!(
        model.call_seconds("cloudfront.CreateDistributionWithTags", true)
            > model.call_seconds("cloudfront.GetDistribution", false)
    );
}

/// Under the model each call takes at least its latency, and a certificate issues
/// only `acm_issue` after its validation record is written: `up` from nothing
/// cannot finish sooner than that, and the call log holds every call.
#[test]
fn up_waits_on_the_modelled_clock() {
    let scale = 0.02; // acm_issue 180 s -> 3.6 s
    let log = tempfile::NamedTempFile::new().unwrap();
    let model = Model::load(scale);
    let proxy = FaultProxy::start_modelled(&common::emulator(), model.clone(), Some(log.path()));
    let stack = common::TestStack::new("lat");
    let start = Instant::now();
    let out = stack
        .command_at(&proxy.endpoint(), &["up"])
        .env("COLORID_CLOCK_SCALE", scale.to_string())
        .output()
        .unwrap();
    common::assert_success(&out);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs_f64(180.0 * scale),
        "up took {took:?}, less than the certificate's modelled issuance"
    );
    let calls: Vec<serde_json::Value> = std::fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ops: Vec<&str> = calls.iter().filter_map(|c| c["op"].as_str()).collect();
    for op in [
        "acm.RequestCertificate",
        "route53.ChangeResourceRecordSets",
        "lambda.CreateFunction",
        "cloudfront.CreateDistributionWithTags",
    ] {
        assert!(ops.contains(&op), "{op} not in the call log: {ops:?}");
    }
    for c in &calls {
        let spent = c["end"].as_f64().unwrap() - c["start"].as_f64().unwrap();
        let op = c["op"].as_str().unwrap();
        let floor = model.call_seconds(op, c["mutating"] == true) * model.scale;
        assert!(floor > 0.0, "{op} has no latency");
        assert!(spent + 1e-3 >= floor, "{c} took less than its latency");
    }
    // The certificate was polled PENDING_VALIDATION while the model held it.
    assert!(
        ops.iter()
            .filter(|o| **o == "acm.DescribeCertificate")
            .count()
            >= 2
    );
    the_graph_matches(&calls);
}

/// The engine's real run against up_graph.toml: the graph names every operation
/// `up` made, and no step started before a step it needs had finished (told by
/// the operations only one step makes).
fn the_graph_matches(calls: &[serde_json::Value]) {
    let graph = graph();
    let named: BTreeSet<&str> = graph
        .values()
        .flat_map(|s| s.calls.iter().chain(&s.alongside).map(String::as_str))
        .collect();
    let unknown: BTreeSet<&str> = calls
        .iter()
        .filter_map(|c| c["op"].as_str())
        .filter(|op| !named.contains(op))
        .collect();
    assert!(
        unknown.is_empty(),
        "up made calls up_graph.toml does not name: {unknown:?}"
    );
    let mut owners: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, step) in &graph {
        for op in step.calls.iter().chain(&step.alongside) {
            owners.entry(op.as_str()).or_default().insert(name.as_str());
        }
    }
    let own = |step: &str| -> Vec<&serde_json::Value> {
        calls
            .iter()
            .filter(|c| {
                c["op"].as_str().is_some_and(|op| {
                    owners
                        .get(op)
                        .is_some_and(|o| o.len() == 1 && o.contains(step))
                })
            })
            .collect()
    };
    let mut checked = 0;
    for name in graph.keys() {
        let mine = own(name);
        let Some(first) = mine
            .iter()
            .filter_map(|c| c["start"].as_f64())
            .reduce(f64::min)
        else {
            continue;
        };
        let mut all = BTreeSet::new();
        needs(&graph, name, &mut all);
        for d in &all {
            if let Some(last) = own(d)
                .iter()
                .filter_map(|c| c["end"].as_f64())
                .reduce(f64::max)
            {
                assert!(
                    first + 1e-3 >= last,
                    "{name} started before {d}, which it needs, had finished: the graph claims an order the engine does not keep"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} orderings could be checked");
}
