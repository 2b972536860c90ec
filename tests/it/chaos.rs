//! The bad day: `up` killed after each of its mutating calls, then finished by
//! `up` or cleaned away by `down`; 20% of requests answered with throttling
//! and server errors; two `up`s at once; waits that run past their bound.
//! Each test runs against its own emulator (it resets it between cases)
//! through the fault-injecting proxy in common/fault_proxy.rs.
//!
//! They are ignored by a plain `cargo test`; scripts/chaos (called by
//! scripts/test) runs them. Every scenario appends `scenario<TAB>runs<TAB>passed` to the file named by
//! `COLORID_CHAOS_REPORT`, which scripts/chaos prints as a table.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::fault_proxy::FaultProxy;
use common::moto::Moto;
use common::{TestStack, sdk_at};

/// How long a killed `up` may run before the proxy trips.
const TRIP_TIMEOUT: Duration = Duration::from_secs(120);

/// One emulator and the proxy in front of it.
struct Rig {
    moto: Moto,
    proxy: FaultProxy,
    rt: tokio::runtime::Runtime,
}

/// What the emulator holds, by kind (the hosted zone itself is the user's and not counted).
type Inventory = BTreeMap<&'static str, usize>;

/// What a converged stack holds: each resource exactly once.
fn converged() -> Inventory {
    BTreeMap::from([
        ("buckets", 1),
        ("certificates", 1),
        ("distributions", 1),
        ("function urls", 1),
        ("functions", 1),
        ("log groups", 1),
        ("origin access controls", 1),
        // Five settings, the state and the lock: released runs leave the lock in
        // place (SSM holds a deleted name for 30 s); only `down` deletes it.
        ("parameters", 7),
        ("records", 3),
        ("roles", 1),
    ])
}

fn nothing() -> Inventory {
    converged().into_keys().map(|k| (k, 0)).collect()
}

impl Rig {
    fn new(acm_wait: u32) -> Rig {
        let moto = Moto::start(acm_wait);
        let proxy = FaultProxy::start(&moto.endpoint());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Rig { moto, proxy, rt }
    }

    /// An empty emulator with the user's hosted zone, a fresh stack and a fresh proxy.
    fn fresh(&self) -> TestStack {
        self.proxy.reset();
        self.moto.reset();
        let stack = TestStack::in_zone("chaos", "chaos.example.com");
        let endpoint = self.moto.endpoint();
        self.rt.block_on(async {
            let r53 = aws_sdk_route53::Client::new(&sdk_at(&endpoint, "us-east-1").await);
            r53.create_hosted_zone()
                .name("chaos.example.com")
                .caller_reference(format!("chaos-{}", std::process::id()))
                .send()
                .await
                .expect("create the user's hosted zone");
        });
        stack
    }

    fn direct(&self, stack: &TestStack, args: &[&str]) -> Output {
        stack
            .command_at(&self.moto.endpoint(), args)
            .output()
            .expect("run colorid")
    }

    fn proxied(&self, stack: &TestStack, args: &[&str]) -> Output {
        stack
            .command_at(&self.proxy.endpoint(), args)
            .output()
            .expect("run colorid")
    }

    /// Runs `up` through the proxy armed to stop after the k-th mutation and
    /// kills it there. `Ok(false)` when `up` finished before making k mutations.
    fn kill_up_after(&self, stack: &TestStack, k: u32) -> Result<bool, String> {
        self.proxy.stop_after(k);
        let mut child = stack
            .command_at(&self.proxy.endpoint(), &["up"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        loop {
            if self.proxy.wait_tripped(Duration::from_millis(20)) {
                child.kill().map_err(|e| e.to_string())?; // SIGKILL
                child.wait().map_err(|e| e.to_string())?;
                return Ok(true);
            }
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                return if status.success() {
                    Ok(false)
                } else {
                    Err(format!(
                        "up failed on its own before mutation {k}: {status}"
                    ))
                };
            }
            if start.elapsed() > TRIP_TIMEOUT {
                let _ = child.kill();
                return Err(format!("up neither reached mutation {k} nor ended"));
            }
        }
    }

    fn inventory(&self) -> Inventory {
        let endpoint = self.moto.endpoint();
        self.rt.block_on(inventory(&endpoint))
    }
}

async fn inventory(endpoint: &str) -> Inventory {
    let global = sdk_at(endpoint, "us-east-1").await;
    let regional = sdk_at(endpoint, "eu-west-1").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&regional)
            .force_path_style(true)
            .build(),
    );
    let cf = aws_sdk_cloudfront::Client::new(&global);
    let r53 = aws_sdk_route53::Client::new(&global);
    let acm = aws_sdk_acm::Client::new(&global);
    let lambda = aws_sdk_lambda::Client::new(&regional);
    let iam = aws_sdk_iam::Client::new(&global);
    let ssm = aws_sdk_ssm::Client::new(&regional);

    let mut inv = Inventory::new();
    let buckets = s3.list_buckets().send().await.unwrap();
    inv.insert("buckets", buckets.buckets().len());
    let certs = acm.list_certificates().send().await.unwrap();
    inv.insert("certificates", certs.certificate_summary_list().len());
    let dists = cf.list_distributions().send().await.unwrap();
    inv.insert(
        "distributions",
        dists.distribution_list().map_or(0, |l| l.items().len()),
    );
    let oacs = cf.list_origin_access_controls().send().await.unwrap();
    inv.insert(
        "origin access controls",
        oacs.origin_access_control_list()
            .map_or(0, |l| l.items().len()),
    );
    let mut records = 0;
    for zone in r53.list_hosted_zones().send().await.unwrap().hosted_zones() {
        let sets = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone.id())
            .send()
            .await
            .unwrap();
        records += sets
            .resource_record_sets()
            .iter()
            .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA"))
            .count();
    }
    inv.insert("records", records);
    let functions = lambda.list_functions().send().await.unwrap();
    inv.insert("functions", functions.functions().len());
    let mut urls = 0;
    for f in functions.functions() {
        // moto has no ListFunctionUrlConfigs; a function has at most one URL (no alias here).
        let found = lambda
            .get_function_url_config()
            .function_name(f.function_name().unwrap_or_default())
            .send()
            .await;
        urls += usize::from(found.is_ok());
    }
    inv.insert("function urls", urls);
    let roles = iam.list_roles().send().await.unwrap();
    inv.insert(
        "roles",
        roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with("colorid-"))
            .count(),
    );
    let mut parameters = 0;
    let mut token = None;
    loop {
        let page = ssm
            .describe_parameters()
            .set_next_token(token)
            .max_results(50)
            .send()
            .await
            .unwrap();
        parameters += page.parameters().len();
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    inv.insert("parameters", parameters);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&regional);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/colorid-")
        .send()
        .await
        .unwrap();
    inv.insert("log groups", groups.log_groups().len());
    inv
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn succeeded(what: &str, out: &Output) -> Result<(), String> {
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed: {}", text(out)))
    }
}

/// The mutating calls a second `up` made (from its JSON report).
fn mutations_of(out: &Output) -> Result<u64, String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("up --output json printed no JSON ({e}): {}", text(out)))?;
    Ok(v["calls"]["mutations"].as_u64().unwrap_or(u64::MAX))
}

fn same(what: &str, got: &Inventory, want: &Inventory) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what}: the emulator holds {got:?}, expected {want:?}"
        ))
    }
}

/// Appends a scenario's line for scripts/chaos, prints it, and fails the test
/// with every failed case.
fn report(scenario: &str, results: Vec<(String, Result<(), String>)>) {
    let runs = results.len();
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|(case, r)| r.err().map(|e| format!("{case}: {e}")))
        .collect();
    let passed = runs - failures.len();
    println!("chaos: {scenario}: {passed}/{runs} passed");
    assert!(runs > 0, "{scenario}: no case ran (0/0 is not a pass)");
    if let Ok(path) = std::env::var("COLORID_CHAOS_REPORT") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(Path::new(&path))
            .expect("open the chaos report");
        writeln!(f, "{scenario}\t{runs}\t{passed}").unwrap();
    }
    assert!(
        failures.is_empty(),
        "{scenario}: {} of {runs} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The number of mutating calls a full `up` from nothing makes, measured
/// through the proxy (the stack lock's two calls included).
fn mutations_of_full_up(rig: &Rig) -> u32 {
    let stack = rig.fresh();
    let out = rig.proxied(&stack, &["--output", "json", "up"]);
    assert!(out.status.success(), "a clean up failed: {}", text(&out));
    let counted = mutations_of(&out).unwrap();
    let k = rig.proxy.mutations();
    assert_eq!(
        k as u64,
        counted + 2,
        "the proxy and colorid disagree on the mutations of up (the proxy saw {:?})",
        rig.proxy.mutations_by_operation()
    );
    assert_eq!(rig.inventory(), converged(), "a clean up is not converged");
    for (i, call) in rig.proxy.sequence().iter().enumerate() {
        println!("chaos: mutation {} of a full up: {call}", i + 1);
    }
    k
}

/// Kills `up` after its k-th mutation, then runs `finish`; returns the
/// interrupted call with the outcome.
fn up_killed_then(rig: &Rig, k: u32, finish: &str) -> (String, Result<(), String>) {
    let stack = rig.fresh();
    match rig.kill_up_after(&stack, k) {
        Ok(true) => {}
        Ok(false) => {
            return (
                String::new(),
                Err(format!("up made fewer than {k} mutations")),
            );
        }
        Err(e) => return (String::new(), Err(e)),
    }
    let call = rig.proxy.tripped_by().unwrap_or_default();
    (call, finish_after_kill(rig, &stack, finish))
}

/// Finishes through the disarmed proxy: the realism layer still answers as
/// AWS does (its windows as the kill left them), as a run after a crash meets them.
fn finish_after_kill(rig: &Rig, stack: &TestStack, finish: &str) -> Result<(), String> {
    rig.proxy.disarm();
    if finish == "up" {
        succeeded("the second up", &rig.proxied(stack, &["up"]))?;
        let again = rig.proxied(stack, &["--output", "json", "up"]);
        succeeded("the third up", &again)?;
        let n = mutations_of(&again)?;
        if n != 0 {
            return Err(format!(
                "not converged: a further up made {n} mutations: {}",
                text(&again)
            ));
        }
        same("after up", &rig.inventory(), &converged())
    } else {
        succeeded("down", &rig.proxied(stack, &["down", "--yes"]))?;
        same("after down", &rig.inventory(), &nothing())
    }
}

/// Emulators per kill matrix (`COLORID_CHAOS_WORKERS`, default 3): each k runs
/// on one of them, taken in turn, so the matrix's runs, which mostly wait on the
/// delays the realism layer models rather than use the CPU, overlap. Every k still
/// starts from an empty emulator of its own.
fn workers() -> usize {
    match std::env::var("COLORID_CHAOS_WORKERS") {
        Ok(w) => w.parse().ok().filter(|w| *w >= 1).unwrap_or_else(|| {
            panic!("COLORID_CHAOS_WORKERS={w:?}: give a number of emulators, 1 or more")
        }),
        Err(_) => 3,
    }
}

fn kill_matrix(finish: &str, scenario: &str) {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let rig = Rig::new(1);
    let k_total = mutations_of_full_up(&rig);
    let only: Option<u32> = std::env::var("COLORID_CHAOS_K").ok().map(|k| {
        k.parse()
            .ok()
            .filter(|k| (1..=k_total).contains(k))
            .unwrap_or_else(|| {
                panic!("COLORID_CHAOS_K={k:?}: a full `up` makes {k_total} mutating calls; use 1 to {k_total}")
            })
    });
    let ks: Vec<u32> = (1..=k_total)
        .filter(|k| only.is_none_or(|o| o == *k))
        .collect();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let mut first = Some(rig);
    std::thread::scope(|scope| {
        for _ in 0..workers().min(ks.len()) {
            let (ks, next, results) = (&ks, &next, &results);
            let rig = first.take();
            scope.spawn(move || {
                let rig = rig.unwrap_or_else(|| Rig::new(1));
                while let Some(&k) = ks.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let (call, r) = up_killed_then(&rig, k, finish);
                    let case = format!("k={k} (killed after {call})");
                    match &r {
                        Ok(()) => println!("chaos: {scenario}: {case}: ok"),
                        Err(e) => eprintln!("chaos: {scenario}: {case}: FAILED: {e}"),
                    }
                    results.lock().unwrap().push((k, case, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(k, _, _)| *k);
    report(
        &format!("{scenario} (K={k_total})"),
        results.into_iter().map(|(_, case, r)| (case, r)).collect(),
    );
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn up_killed_after_each_mutation_is_finished_by_the_next_up() {
    kill_matrix("up", "kill up after call k, then up");
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn up_killed_after_each_mutation_is_cleaned_away_by_down() {
    kill_matrix("down", "kill up after call k, then down");
}

/// MD5 of each object against its file.
fn check_objects(rig: &Rig, stack: &TestStack) -> Result<usize, String> {
    use md5::{Digest, Md5};
    let endpoint = rig.moto.endpoint();
    let site = stack.dir.path().join("site");
    rig.rt.block_on(async {
        let regional = sdk_at(&endpoint, "eu-west-1").await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&regional)
                .force_path_style(true)
                .build(),
        );
        let bucket = s3.list_buckets().send().await.unwrap().buckets()[0]
            .name()
            .unwrap()
            .to_string();
        let mut checked = 0;
        for entry in walk(&site) {
            let key = entry
                .strip_prefix(&site)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let body = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| format!("{key} is not in the bucket: {e:?}"))?
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            let want = Md5::digest(std::fs::read(&entry).unwrap());
            if Md5::digest(&body) != want {
                return Err(format!("{key}: the object's MD5 differs from the file's"));
            }
            checked += 1;
        }
        Ok(checked)
    })
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn throttling_and_server_errors_do_not_fail_a_run() {
    let rig = Rig::new(1);
    let mut results = Vec::new();
    for seed in [1u64, 2, 3] {
        let stack = rig.fresh();
        rig.proxy.inject_faults(seed, 0.2);
        let case = (|| {
            succeeded("up", &rig.proxied(&stack, &["up"]))?;
            for i in 0..500 {
                let dir = stack.dir.path().join(format!("site/d{:02}", i % 20));
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(
                    dir.join(format!("f{i:03}.html")),
                    format!("<p>{i}</p>\n").repeat(1 + i % 40),
                )
                .unwrap();
            }
            succeeded("publish", &rig.proxied(&stack, &["publish"]))?;
            let checked = check_objects(&rig, &stack)?;
            if checked < 500 {
                return Err(format!("only {checked} objects checked"));
            }
            same("after up", &rig.inventory(), &converged())?;
            succeeded("down", &rig.proxied(&stack, &["down", "--yes"]))?;
            same("after down", &rig.inventory(), &nothing())?;
            let injected = rig.proxy.injected();
            let total = injected + rig.proxy.forwarded();
            let share = injected as f64 / total.max(1) as f64;
            println!(
                "chaos: seed {seed}: {injected} of {total} requests failed by the proxy ({:.0}%)",
                share * 100.0
            );
            if !(0.15..=0.25).contains(&share) {
                return Err(format!("injected {share:.2} of requests, wanted about 0.2"));
            }
            Ok(())
        })();
        results.push((format!("seed {seed}"), case));
    }
    report("20% throttling/5xx: up, publish 500 files, down", results);
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn a_second_up_fails_fast_while_one_runs() {
    let rig = Rig::new(1);
    let mut results = Vec::new();
    for round in 1..=3 {
        let stack = rig.fresh();
        // The first up holds after the lock and two more changes, until resumed.
        rig.proxy.stop_after(3);
        let first = stack
            .command_at(&rig.proxy.endpoint(), &["up"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let case = (|| {
            if !rig.proxy.wait_tripped(TRIP_TIMEOUT) {
                return Err("the first up never reached its third change".to_string());
            }
            for second in [&["up"][..], &["publish"], &["down", "--yes"]] {
                let start = Instant::now();
                let out = rig.direct(&stack, second);
                let took = start.elapsed();
                let err = String::from_utf8_lossy(&out.stderr).to_string();
                if out.status.code() != Some(1) || !err.contains("is locked by `colorid up`") {
                    return Err(format!(
                        "{second:?} during up did not fail on the lock: {}",
                        text(&out)
                    ));
                }
                if !err.contains("since") || !err.contains("--force-unlock") {
                    return Err(format!("the lock message lacks since/remedy: {err}"));
                }
                if took > Duration::from_secs(5) {
                    return Err(format!("{second:?} took {took:?} to fail on the lock"));
                }
            }
            Ok(())
        })();
        rig.proxy.resume();
        let out = first.wait_with_output().unwrap();
        let case = case
            .and_then(|()| succeeded("the first up", &out))
            .and_then(|()| same("after both", &rig.inventory(), &converged()));
        results.push((format!("round {round}"), case));
    }
    report("up running: a second up, publish, down fail fast", results);
}

/// The run ended on its wait bound: exit 1, the bound, and how to resume.
fn timed_out(out: &Output, seconds: u32, resume: &str) -> Result<(), String> {
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) || !err.contains(&format!("did not finish within {seconds} s"))
    {
        return Err(format!("expected a timeout with exit 1: {}", text(out)));
    }
    if !err.contains(resume) || !err.contains("--wait-timeout") {
        return Err(format!("the timeout does not say how to resume: {err}"));
    }
    Ok(())
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn a_certificate_wait_past_its_bound_ends_clearly_and_resumes() {
    // Certificates are issued 6 s after their request.
    let rig = Rig::new(6);
    let stack = rig.fresh();
    let case = (|| {
        timed_out(
            &rig.direct(&stack, &["up", "--wait-timeout", "1"]),
            1,
            "colorid up",
        )?;
        let before = rig.inventory();
        if before["certificates"] != 1 {
            return Err(format!("after the timeout: {before:?}"));
        }
        succeeded("the next up", &rig.direct(&stack, &["up"]))?;
        same("after the next up", &rig.inventory(), &converged())
    })();
    report(
        "certificate wait past its bound, then up",
        vec![("once".into(), case)],
    );
}

#[test]
#[ignore = "run by scripts/chaos (minutes; starts its own emulators)"]
fn a_distribution_wait_past_its_bound_ends_clearly_and_resumes() {
    let rig = Rig::new(1);
    let stack = rig.fresh();
    let model = "cloudfront::distribution";
    // Distributions stay InProgress until told otherwise.
    rig.moto.set_transition(
        model,
        serde_json::json!({"progression": "manual", "times": 1_000_000}),
    );
    let case = (|| {
        succeeded("up", &rig.direct(&stack, &["up"]))?;
        let out = rig.direct(&stack, &["down", "--yes", "--wait-timeout", "2"]);
        timed_out(&out, 2, "colorid down")?;
        rig.moto
            .set_transition(model, serde_json::json!({"progression": "immediate"}));
        succeeded("the next down", &rig.direct(&stack, &["down", "--yes"]))?;
        same("after the next down", &rig.inventory(), &nothing())
    })();
    rig.moto.unset_transition(model);
    report(
        "distribution wait past its bound, then down",
        vec![("once".into(), case)],
    );
}
