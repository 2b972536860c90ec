//! The stack's CSP from the provider's discovery document (issue 23): `up`
//! and `plan` read it from a loopback provider whose token endpoint lives on
//! another origin, `plan` shows the CSP change when the document changes, and
//! a document that cannot be read stops both before any change.
//!
//! The emulator has no response headers policy API: on it the CSP `up` would
//! set is kept in the state record, which these tests read back.

use crate::common;

use common::TestStack;
use common::issuer::Issuer;

/// A stack whose issuer is `issuer` (not the shared one).
fn stack_for(prefix: &str, issuer: &Issuer) -> TestStack {
    let stack = TestStack::new(prefix);
    let text = std::fs::read_to_string(stack.file())
        .unwrap()
        .replace(common::issuer::shared(), &issuer.url);
    std::fs::write(stack.file(), text).unwrap();
    stack
}

/// The state record the emulator holds for `stack`, and its version (`None`: no record).
async fn state_of(stack: &TestStack) -> (Option<serde_json::Value>, Option<i64>) {
    let ssm = common::ssm("eu-west-1").await;
    let name = format!("/colorid/{}/state", stack.name);
    match ssm.get_parameter().name(&name).send().await {
        Ok(out) => {
            let p = out.parameter.unwrap();
            let value = serde_json::from_str(p.value().unwrap()).unwrap();
            (Some(value), Some(p.version()))
        }
        Err(_) => (None, None),
    }
}

/// The version of the stack's lock parameter (kept between runs, marked released).
async fn lock_version(stack: &TestStack) -> Option<i64> {
    let ssm = common::ssm("eu-west-1").await;
    let name = format!("/colorid/{}/lock", stack.name);
    ssm.get_parameter()
        .name(&name)
        .send()
        .await
        .ok()
        .and_then(|o| o.parameter.map(|p| p.version()))
}

/// Every parameter the emulator holds under the stack's path.
async fn parameters_of(stack: &TestStack) -> Vec<String> {
    let ssm = common::ssm("eu-west-1").await;
    let out = ssm
        .get_parameters_by_path()
        .path(format!("/colorid/{}", stack.name))
        .recursive(true)
        .send()
        .await
        .unwrap();
    out.parameters()
        .iter()
        .filter_map(|p| p.name().map(String::from))
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The "headers policy" line of a JSON plan.
fn headers_policy_step(plan: &serde_json::Value) -> serde_json::Value {
    common::plan_step(plan, "headers policy")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_csp_allows_the_token_endpoint_origin_and_plan_shows_its_change() {
    let issuer = Issuer::start();
    // Cognito's shape: the token and revocation endpoints on the user pool's domain.
    let first = "https://demo.auth.eu-west-1.amazoncognito.com";
    issuer.set(Issuer::document(&issuer.url, &format!("{first}/oauth2")));
    let stack = stack_for("csp-disc", &issuer);

    let plan = stack.json(&["plan"]);
    assert_eq!(headers_policy_step(&plan)["action"], "create", "{plan}");
    stack.ok(&["up"]);
    let (state, _) = state_of(&stack).await;
    let csp = state.unwrap()["content_security_policy"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("connect-src 'self' {} {first};", issuer.url)),
        "{csp}"
    );
    let plan = stack.json(&["plan"]);
    assert_eq!(headers_policy_step(&plan)["action"], "unchanged", "{plan}");

    // The provider moves its token endpoint: plan shows the CSP change, up applies it.
    let moved = "https://tokens.example.net";
    issuer.set(Issuer::document(&issuer.url, moved));
    let text = stack.ok(&["plan"]);
    assert!(
        text.contains("header.content-security-policy:") && text.contains(moved),
        "{text}"
    );
    let plan = stack.json(&["plan"]);
    let step = headers_policy_step(&plan);
    assert_eq!(step["action"], "update", "{plan}");
    let change = &step["fields"][0];
    assert_eq!(change["field"], "header.content-security-policy");
    assert!(change["old"].as_str().unwrap().contains(first), "{change}");
    assert!(!change["new"].as_str().unwrap().contains(first), "{change}");
    assert!(
        change["new"]
            .as_str()
            .unwrap()
            .contains(&format!("connect-src 'self' {} {moved};", issuer.url)),
        "{change}"
    );
    stack.ok(&["up"]);
    let plan = stack.json(&["plan"]);
    assert_eq!(headers_policy_step(&plan)["action"], "unchanged", "{plan}");

    // The provider breaks: `up` stops naming the URL, and the record is not touched.
    let (_, version) = state_of(&stack).await;
    let lock = lock_version(&stack).await;
    issuer.set_raw(500, "oops");
    let out = stack.run(&["up"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&issuer.document_url()) && err.contains("HTTP 500"),
        "{err}"
    );
    assert_eq!(
        state_of(&stack).await.1,
        version,
        "the state record changed"
    );
    assert_eq!(lock_version(&stack).await, lock, "a lock was taken");
    issuer.set(Issuer::document(&issuer.url, moved));
    stack.ok(&["down", "--yes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_or_malformed_discovery_document_changes_nothing() {
    // Unreachable: a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let issuer = Issuer::start();
    let stack = stack_for("csp-bad", &issuer);
    let text = std::fs::read_to_string(stack.file()).unwrap();
    std::fs::write(stack.file(), text.replace(&issuer.url, &gone)).unwrap();
    for command in ["up", "plan"] {
        let out = stack.run(&[command]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains(&format!("{gone}/.well-known/openid-configuration"))
                && err.contains("unreachable"),
            "{command}: {err}"
        );
        assert!(err.contains("identity") && err.contains("issuer"), "{err}");
    }
    std::fs::write(stack.file(), text).unwrap();

    // Malformed: not JSON; JSON without a token endpoint; another issuer's document.
    let mut no_token = Issuer::document(&issuer.url, &issuer.url);
    no_token.as_object_mut().unwrap().remove("token_endpoint");
    let other = Issuer::document("https://someone-else.example", &issuer.url);
    let cases: [(&dyn Fn(), &str); 3] = [
        (&|| issuer.set_raw(200, "<html>not json</html>"), "not JSON"),
        (&|| issuer.set(no_token.clone()), "token_endpoint"),
        (&|| issuer.set(other.clone()), "someone-else.example"),
    ];
    for (serve, says) in cases {
        serve();
        let out = stack.run(&["up"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&issuer.document_url()) && err.contains(says),
            "{says}: {err}"
        );
    }
    // Nothing was made: no state record, no lock, no secret, no bucket.
    assert_eq!(parameters_of(&stack).await, Vec::<String>::new());
    let s3 = common::s3("eu-west-1").await;
    let buckets = s3.list_buckets().send().await.unwrap();
    assert!(
        !buckets
            .buckets()
            .iter()
            .any(|b| b.name().is_some_and(|n| n.contains(&stack.name))),
        "a bucket was made"
    );
}
