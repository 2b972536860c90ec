//! Terraform's exit codes for scripts and CI: `plan --detailed-exitcode` and
//! `publish --dry-run --detailed-exitcode` exit 0 when nothing would change,
//! 2 when something would, 1 on any error (usage and stack-file errors too,
//! which exit 2 without the flag).

use serde_json::Value;

use crate::common::TestStack;

fn code(stack: &TestStack, args: &[&str]) -> (Option<i32>, String, String) {
    let out = stack.run(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn plan_exits_2_with_changes_0_without_and_1_on_errors() {
    let stack = TestStack::new("exitplan");
    let (c, out, err) = code(&stack, &["plan", "--detailed-exitcode"]);
    assert_eq!(c, Some(2), "a stack not yet up has changes:\n{out}\n{err}");
    assert!(out.contains("to create or update"), "{out}");

    // --output json names each change: resource, name and action.
    let (c, out, _) = code(&stack, &["--output", "json", "plan", "--detailed-exitcode"]);
    assert_eq!(c, Some(2));
    let plan: Value = serde_json::from_str(&out).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(plan["changes"].as_u64(), Some(steps.len() as u64), "{plan}");
    let bucket = steps.iter().find(|s| s["resource"] == "bucket").unwrap();
    assert_eq!(bucket["action"], "create", "{plan}");
    assert!(
        bucket["name"].as_str().unwrap().contains(&stack.name),
        "{plan}"
    );

    stack.ok(&["up"]);
    let (c, out, err) = code(&stack, &["plan", "--detailed-exitcode"]);
    assert_eq!(c, Some(0), "an up-to-date stack:\n{out}\n{err}");
    assert!(out.contains("nothing to do"), "{out}");
    // Without the flag a pending change is still exit 0.
    stack.write("price_class = \"PriceClass_All\"");
    assert_eq!(code(&stack, &["plan"]).0, Some(0));
    let (c, out, _) = code(&stack, &["--output", "json", "plan", "--detailed-exitcode"]);
    assert_eq!(c, Some(2), "{out}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["changes"], 1, "{plan}");
    let changed = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["action"] == "update")
        .unwrap();
    assert_eq!(changed["resource"], "distribution", "{plan}");
    assert_eq!(changed["fields"][0]["field"], "price_class", "{plan}");

    // A stack-file error: 2 without the flag, 1 with it.
    stack.write("price_class = \"PriceClass_Cheap\"");
    assert_eq!(code(&stack, &["plan"]).0, Some(2));
    let (c, _, err) = code(&stack, &["plan", "--detailed-exitcode"]);
    assert_eq!(c, Some(1), "{err}");
    assert!(err.contains("price_class"), "{err}");
    // A usage error (clap's own): 1 with the flag.
    let (c, _, err) = code(&stack, &["plan", "--detailed-exitcode", "--no-such-flag"]);
    assert_eq!(c, Some(1), "{err}");
    assert_eq!(code(&stack, &["plan", "--no-such-flag"]).0, Some(2));
    // An AWS error (nothing listens at the endpoint): 1.
    stack.write("");
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let out = stack
        .command_at(&dead, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    stack.ok(&["down", "--yes"]);
}

#[tokio::test]
async fn publish_dry_run_exits_2_with_changes_0_without_and_1_on_errors() {
    let stack = TestStack::new("exitpub");
    stack.ok(&["up"]);
    let dry = ["publish", "--dry-run", "--detailed-exitcode"];
    let (c, out, err) = code(&stack, &dry);
    assert_eq!(c, Some(0), "just published:\n{out}\n{err}");

    std::fs::write(stack.dir.path().join("site/index.html"), "<h1>changed</h1>").unwrap();
    std::fs::write(stack.dir.path().join("site/new.html"), "<p>new</p>").unwrap();
    let (c, out, err) = code(&stack, &dry);
    assert_eq!(c, Some(2), "{out}\n{err}");
    assert!(
        out.contains("index.html") && out.contains("new.html"),
        "{out}"
    );
    // The dry run changed nothing: the same answer again, and JSON names each file.
    let mut json = vec!["--output", "json"];
    json.extend_from_slice(&dry);
    let (c, out, _) = code(&stack, &json);
    assert_eq!(c, Some(2), "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let files = report["report"]["files"].as_array().unwrap();
    let action = |key: &str| {
        files
            .iter()
            .find(|f| f["key"] == key)
            .map(|f| f["action"].clone())
    };
    assert_eq!(action("index.html"), Some("upload".into()), "{report}");
    assert_eq!(action("new.html"), Some("upload".into()), "{report}");

    stack.ok(&["publish"]);
    assert_eq!(code(&stack, &dry).0, Some(0));

    // Errors: a stack-file error and a missing site folder are 1, not 2.
    std::fs::remove_dir_all(stack.dir.path().join("site")).unwrap();
    assert_eq!(code(&stack, &["publish", "--dry-run"]).0, Some(2));
    let (c, _, err) = code(&stack, &dry);
    assert_eq!(c, Some(1), "{err}");
    // The flag means nothing without --dry-run: a usage error, exit 1.
    let (c, _, err) = code(&stack, &["publish", "--detailed-exitcode"]);
    assert_eq!(c, Some(1), "{err}");
    assert!(err.contains("--dry-run"), "{err}");

    std::fs::create_dir_all(stack.dir.path().join("site")).unwrap();
    stack.ok(&["down", "--yes"]);
}

fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
