//! The function's log group: `up` creates it with the stack's retention and
//! tag, `plan` and `status` show it, `colorid logs` prints what the function
//! wrote (injected here through PutLogEvents), `down` deletes it.

use crate::common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{TestStack, sdk};

const REGION: &str = "eu-west-1";

async fn logs() -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&sdk(REGION).await)
}

fn group_of(stack: &TestStack) -> String {
    format!(
        "/aws/lambda/{}",
        colorid::names::Names::new(&stack.name).function()
    )
}

/// The group's retention and `colorid:stack` tag, or `None` when it does not exist.
async fn describe(group: &str) -> Option<(Option<i32>, Option<String>)> {
    let client = logs().await;
    let out = client
        .describe_log_groups()
        .log_group_name_prefix(group)
        .send()
        .await
        .expect("describe log groups");
    let g = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group))?;
    let arn = g
        .arn()
        .unwrap_or_default()
        .trim_end_matches(":*")
        .to_string();
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("tags");
    Some((
        g.retention_in_days(),
        tags.tags().and_then(|t| t.get("colorid:stack").cloned()),
    ))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Writes lines into the group as Lambda would: one stream, events in time order.
async fn put_lines(group: &str, stream: &str, lines: &[(i64, &str)]) {
    let client = logs().await;
    client
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .expect("create log stream");
    let events = lines.iter().map(|(t, m)| {
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
            .timestamp(*t)
            .message(*m)
            .build()
            .unwrap()
    });
    client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events.collect()))
        .send()
        .await
        .expect("put log events");
}

const REQUEST_LINE: &str = r#"{"level":"INFO","fields":{"message":"request","method":"GET","route":"/api/color","status":200,"latency_us":812,"reason":"ok"},"target":"colorid_lambda"}"#;

#[tokio::test(flavor = "multi_thread")]
async fn up_makes_the_log_group_logs_reads_it_and_down_removes_it() {
    let stack = TestStack::new("logs");
    let group = group_of(&stack);

    let plan = stack.ok(&["plan"]);
    assert!(
        plan.lines()
            .any(|l| l.contains("log group") && l.contains(&group) && l.contains("create")),
        "{plan}"
    );
    stack.ok(&["up"]);
    assert_eq!(
        describe(&group).await,
        Some((Some(30), Some(stack.name.clone()))),
        "up creates the group, kept 30 days by default, tagged for the stack"
    );
    let status = stack.ok(&["status"]);
    assert!(
        status.contains(&format!("log group:     {group} (kept 30 days)")),
        "{status}"
    );

    // The role no longer creates log groups: only `up` does.
    let iam = aws_sdk_iam::Client::new(&sdk("us-east-1").await);
    let role = colorid::names::Names::new(&stack.name).role();
    let policy = iam
        .get_role_policy()
        .role_name(&role)
        .policy_name("colorid-identity")
        .send()
        .await
        .expect("inline policy");
    assert!(
        !policy.policy_document().contains("CreateLogGroup"),
        "{}",
        policy.policy_document()
    );

    let now = now_ms();
    put_lines(
        &group,
        "2026/11/29/[$LATEST]0123456789abcdef",
        &[
            (now - 2 * 3_600_000, "an old line, two hours ago"),
            (now - 2_000, "START RequestId: 1f0e Version: $LATEST"),
            (now - 1_000, REQUEST_LINE),
        ],
    )
    .await;

    let out = stack.ok(&["logs"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "the last 10 minutes by default:\n{out}");
    assert!(
        lines[0].ends_with("START RequestId: 1f0e Version: $LATEST"),
        "{out}"
    );
    assert!(
        lines[1].contains("INFO request")
            && lines[1].contains("route=/api/color")
            && lines[1].contains("status=200")
            && lines[1].contains("reason=ok"),
        "{out}"
    );
    let out = stack.ok(&["logs", "--since", "3h"]);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap()
            .ends_with("an old line, two hours ago")
    );
    let out = stack.ok(&["logs", "--filter", "/api/color"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("route=/api/color"), "{out}");
    let json = stack.ok(&["--output", "json", "logs"]);
    let first: serde_json::Value =
        serde_json::from_str(json.lines().nth(1).expect("two lines")).expect("JSON line");
    assert_eq!(first["message"], REQUEST_LINE);

    // A new retention: planned, then applied, without re-creating the group.
    stack.write("[function]\nlog_retention_days = 7\n");
    let plan = stack.ok(&["plan"]);
    assert!(plan.contains("retention: 30 days → 7 days"), "{plan}");
    let report = stack.json(&["up"]);
    let mutations = report["calls"]["mutations_by_operation"]
        .as_object()
        .unwrap();
    assert!(
        !mutations.keys().any(|k| k.ends_with(".CreateLogGroup")),
        "{mutations:?}"
    );
    assert_eq!(describe(&group).await.unwrap().0, Some(7));
    let report = stack.json(&["up"]);
    let mutations = report["calls"]["mutations_by_operation"]
        .as_object()
        .unwrap();
    assert!(
        !mutations.keys().any(|k| k.ends_with("LogGroup")
            || k.ends_with("RetentionPolicy")
            || k.ends_with(".TagResource")),
        "a second up leaves the group alone: {mutations:?}"
    );

    stack.ok(&["down", "--yes"]);
    assert_eq!(describe(&group).await, None, "down deletes the log group");
    let out = stack.run(&["logs"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("colorid up"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn up_adopts_the_group_lambda_made_and_bad_retention_is_refused() {
    let stack = TestStack::new("lgadopt");
    let group = group_of(&stack);
    // What Lambda makes on a first invocation when its role may: untagged, kept forever.
    logs()
        .await
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("create log group");
    let plan = stack.ok(&["plan"]);
    assert!(
        plan.contains("retention: (never expire) → 30 days"),
        "{plan}"
    );
    stack.ok(&["up"]);
    assert_eq!(
        describe(&group).await,
        Some((Some(30), Some(stack.name.clone())))
    );

    stack.write("[function]\nlog_retention_days = 8\n");
    let out = stack.run(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("function.log_retention_days") && err.contains("stack.toml"),
        "{err}"
    );

    stack.write("");
    stack.ok(&["down", "--yes"]);
    assert_eq!(describe(&group).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_prints_lines_as_they_arrive() {
    use std::io::{BufRead, BufReader};
    let stack = TestStack::new("logsf");
    let group = group_of(&stack);
    stack.ok(&["up"]);
    put_lines(
        &group,
        "2026/11/29/[$LATEST]follow",
        &[(now_ms(), REQUEST_LINE)],
    )
    .await;
    let mut child = stack
        .command_at(&common::endpoint(), &["logs", "--follow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start logs --follow");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |route: &str| loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no line with {route}"));
        if line.contains(route) {
            return line;
        }
    };
    // The backlog first: once its line is printed, `logs --follow` has made its
    // first read, so the next line can only reach it by following.
    wait_for("route=/api/color");
    put_lines(
        &group,
        "2026/11/29/[$LATEST]follow-2",
        &[(
            now_ms(),
            &REQUEST_LINE.replace("/api/color", "/api/v1/health"),
        )],
    )
    .await;
    wait_for("route=/api/v1/health");
    assert!(
        rx.recv_timeout(std::time::Duration::from_secs(5)).is_err(),
        "each line is printed once"
    );
    child.kill().ok();
    child.wait().ok();
    stack.ok(&["down", "--yes"]);
}
