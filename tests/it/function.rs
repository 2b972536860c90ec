//! The identity function's resources, end to end: the real `colorid` binary
//! against the moto server, asserting on what moto holds afterwards.
//! (The emulator is the shared one: see `common::moto::shared`.)

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_ssm::types::ParameterType;
use base64::Engine;
use serde_json::{Value, json};

use crate::common;

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

// ---------------------------------------------------------------- moto

/// The shared emulator behind the realism proxy, which answers as AWS documents.
fn moto() -> String {
    common::endpoint()
}

// ---------------------------------------------------------------- fixtures

struct Fixture {
    dir: tempfile::TempDir,
    stack: String,
    env: Vec<(String, String)>,
}

impl Fixture {
    /// A stack file with a unique name, at the apex of a zone of its own (a zone
    /// shared by tests running at once is deleted by the first `down` that made
    /// it); `secrets` is the `[secrets]` table's body.
    fn new(prefix: &str, secrets: &str) -> Fixture {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stack = format!("{prefix}-{}-{n}", std::process::id());
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("site")).expect("site");
        std::fs::write(
            dir.path().join("stack.toml"),
            format!(
                "name = \"{stack}\"\nregion = \"{REGION}\"\ndomain = \"{stack}.example.com\"\n\
                 hosted_zone = \"{stack}.example.com\"\n\
                 [identity]\nissuer = \"{issuer}\"\nclient_id = \"client-{stack}\"\n\
                 required_level = \"AAL2\"\nverified_claims = [\"email\", \"birthdate\"]\n\
                 [identity.level_map]\n\"urn:loa:high\" = \"AAL2\"\n\
                 [secrets]\n{secrets}\n[function]\nmemory_mb = 256\ntimeout_seconds = 10\n",
                issuer = common::issuer::shared()
            ),
        )
        .expect("stack.toml");
        Fixture {
            dir,
            stack,
            env: Vec::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a valid function package whose bootstrap prints `marker`.
    fn zip(&self, name: &str, marker: &str) -> String {
        let path = self.path(name);
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).expect("zip file"));
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        w.start_file("bootstrap", opts).expect("entry");
        w.write_all(format!("#!/bin/sh\necho {marker}\n").as_bytes())
            .expect("write");
        w.finish().expect("finish");
        path.display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_colorid"));
        cmd.arg("--local")
            .arg("--stack")
            .arg(self.path("stack.toml"))
            .args(args)
            .env("COLORID_LOCAL_ENDPOINT", moto())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().expect("run colorid")
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "colorid {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn up_json(&self, zip: &str) -> Value {
        let out = self.ok(&["up", "--function-zip", zip, "--output", "json"]);
        serde_json::from_str(&out).expect("up --output json")
    }

    fn param(&self, leaf: &str) -> String {
        format!("/colorid/{}/{leaf}", self.stack)
    }

    fn function(&self) -> String {
        format!("colorid-{}-identity", self.stack)
    }

    /// GetFunction of the stack's function, as the emulator answers it.
    async fn get_function(
        &self,
    ) -> Result<
        aws_sdk_lambda::operation::get_function::GetFunctionOutput,
        aws_sdk_lambda::error::SdkError<aws_sdk_lambda::operation::get_function::GetFunctionError>,
    > {
        let lambda = aws_sdk_lambda::Client::new(&sdk(REGION).await);
        lambda
            .get_function()
            .function_name(self.function())
            .send()
            .await
    }
}

// ---------------------------------------------------------------- SDK clients

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

async fn sdk(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(moto())
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

/// name → (value, type) of every parameter under the stack's path.
async fn parameters(stack: &str) -> BTreeMap<String, (String, ParameterType)> {
    let ssm = aws_sdk_ssm::Client::new(&sdk(REGION).await);
    let out = ssm
        .get_parameters_by_path()
        .path(format!("/colorid/{stack}/"))
        .recursive(true)
        .with_decryption(true)
        .send()
        .await
        .expect("get_parameters_by_path");
    out.parameters()
        .iter()
        .map(|p| {
            (
                p.name().unwrap_or_default().to_string(),
                (
                    p.value().unwrap_or_default().to_string(),
                    p.r#type().cloned().expect("type"),
                ),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf8")
}

fn document(s: &str) -> Value {
    serde_json::from_str(s)
        .or_else(|_| serde_json::from_str(&percent_decode(s)))
        .expect("policy JSON")
}

fn b64url_len(s: &str) -> usize {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
        .len()
}

// ---------------------------------------------------------------- tests

#[test]
fn up_builds_least_privilege_function_behind_the_distribution_and_down_removes_it() {
    let mut fx = Fixture::new(
        "fn-up",
        "app_secret = { env = \"FNTEST_APP_SECRET\" }\nsigning_key = { file = \"signing.pem\" }",
    );
    let app_secret = "app-secret-from-env-0123456789abcdefghijklmnop";
    fx.env.push(("FNTEST_APP_SECRET".into(), app_secret.into()));
    let pem = {
        use p256::pkcs8::EncodePrivateKey;
        let key = p256::SecretKey::random(&mut rand::rngs::OsRng);
        key.to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("pem")
            .to_string()
    };
    std::fs::write(fx.path("signing.pem"), &pem).expect("pem file");
    let zip1 = fx.zip("one.zip", "one");
    let zip2 = fx.zip("two.zip", "two");

    let report = fx.up_json(&zip1);
    let rt = runtime();
    let params = rt.block_on(parameters(&fx.stack));

    // Parameters: secrets as SecureString, settings as String; supplied values kept verbatim.
    let get = |leaf: &str| {
        params
            .get(&fx.param(leaf))
            .cloned()
            .unwrap_or_else(|| panic!("parameter {leaf} missing: {params:?}"))
    };
    assert_eq!(
        get("app-secret"),
        (app_secret.into(), ParameterType::SecureString)
    );
    assert_eq!(get("signing-key").0, pem.trim());
    assert_eq!(get("signing-key").1, ParameterType::SecureString);
    let origin_verify = get("origin-verify");
    assert_eq!(origin_verify.1, ParameterType::SecureString);
    assert!(
        b64url_len(&origin_verify.0) >= 32,
        "generated secret too short"
    );
    assert_eq!(
        get("client-id"),
        (format!("client-{}", fx.stack), ParameterType::String)
    );
    assert_eq!(
        get("issuer"),
        (common::issuer::shared().to_string(), ParameterType::String)
    );
    let secrets = [
        app_secret.to_string(),
        pem.trim().to_string(),
        origin_verify.0.clone(),
    ];

    rt.block_on(async {
        let f = fx.get_function().await.expect("function exists");
        let lambda = aws_sdk_lambda::Client::new(&sdk(REGION).await);
        let c = f.configuration().expect("configuration");
        assert_eq!(c.runtime().map(|r| r.as_str()), Some("provided.al2023"));
        assert_eq!(
            c.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            ["x86_64"]
        );
        assert_eq!(c.handler(), Some("bootstrap"));
        assert_eq!(c.memory_size(), Some(256));
        assert_eq!(c.timeout(), Some(10));
        let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{}", fx.function());
        assert_eq!(c.role(), Some(role_arn.as_str()));
        let env: BTreeMap<String, String> = c
            .environment()
            .and_then(|e| e.variables())
            .expect("environment")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let expected = BTreeMap::from([
            ("COLORID_APP_SECRET_PARAM".to_string(), fx.param("app-secret")),
            ("COLORID_SIGNING_KEY_PARAM".into(), fx.param("signing-key")),
            ("COLORID_ORIGIN_VERIFY_PARAM".into(), fx.param("origin-verify")),
            (
                "COLORID_ORIGIN_VERIFY_PREVIOUS_PARAM".into(),
                fx.param("origin-verify-previous"),
            ),
            ("COLORID_CLIENT_ID_PARAM".into(), fx.param("client-id")),
            ("COLORID_ISSUER_PARAM".into(), fx.param("issuer")),
            (
                "COLORID_SITE_URL".into(),
                format!("https://{}.example.com", fx.stack),
            ),
            ("COLORID_REQUIRED_LEVEL".into(), "AAL2".into()),
            ("COLORID_LEVEL_CLAIM".into(), "acr".into()),
            ("COLORID_LEVEL_MAP".into(), r#"{"urn:loa:high":"AAL2"}"#.into()),
            ("COLORID_VERIFIED_CLAIMS".into(), "email,birthdate".into()),
            ("COLORID_LEEWAY_SECONDS".into(), "30".into()),
            // The test stacks name a loopback http issuer, which only `--local` allows.
            ("COLORID_LOOPBACK_ISSUER".into(), "1".into()),
        ]);
        assert_eq!(env, expected);
        for v in env.values() {
            for s in &secrets {
                assert!(!v.contains(s.as_str()), "a secret is in the environment");
            }
        }
        // Lambda answers a function's tags through ListTags (GetFunction leaves them
        // out for a caller without lambda:ListTags; the realism layer does too).
        let tags = lambda
            .list_tags()
            .resource(c.function_arn().expect("arn"))
            .send()
            .await
            .expect("tags");
        assert_eq!(
            tags.tags().and_then(|t| t.get("colorid:stack")),
            Some(&fx.stack)
        );

        // The URL (auth NONE) and both resource-policy statements.
        let url = lambda
            .get_function_url_config()
            .function_name(fx.function())
            .send()
            .await
            .expect("function URL");
        assert_eq!(url.auth_type().as_str(), "NONE");
        let policy = lambda
            .get_policy()
            .function_name(fx.function())
            .send()
            .await
            .expect("resource policy");
        let policy = document(policy.policy().expect("policy"));
        let statements: BTreeMap<String, Value> = policy["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .map(|s| (s["Sid"].as_str().unwrap_or_default().to_string(), s.clone()))
            .collect();
        assert_eq!(
            statements.keys().cloned().collect::<BTreeSet<_>>(),
            BTreeSet::from([
                "colorid-function-url".to_string(),
                "colorid-function-url-invoke".to_string()
            ])
        );
        assert_eq!(
            statements["colorid-function-url"]["Action"],
            "lambda:InvokeFunctionUrl"
        );
        assert_eq!(
            statements["colorid-function-url-invoke"]["Action"],
            "lambda:InvokeFunction"
        );

        // The role: trusted by Lambda only, one inline policy of least privilege.
        let iam = aws_sdk_iam::Client::new(&sdk("us-east-1").await);
        let role = iam
            .get_role()
            .role_name(fx.function())
            .send()
            .await
            .expect("role");
        let role = role.role().expect("role");
        assert_eq!(
            document(role.assume_role_policy_document().expect("trust")),
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"
            }]})
        );
        let names = iam
            .list_role_policies()
            .role_name(fx.function())
            .send()
            .await
            .expect("role policies");
        assert_eq!(names.policy_names(), ["colorid-identity"]);
        let inline = iam
            .get_role_policy()
            .role_name(fx.function())
            .policy_name("colorid-identity")
            .send()
            .await
            .expect("inline policy");
        let group = format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{}",
            fx.function()
        );
        assert_eq!(
            document(inline.policy_document()),
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("{group}:*")},
                    {"Sid": "ReadStackParameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                     "Resource": format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/colorid/{}/*", fx.stack)},
                    // Issue 25, item 8: only the stack's own parameters may be decrypted.
                    {"Sid": "DecryptThroughSsm", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                     "Condition": {
                         "StringEquals": {"kms:ViaService": format!("ssm.{REGION}.amazonaws.com")},
                         "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/colorid/{}/*", fx.stack)}
                     }}
                ]
            })
        );

        // The distribution: the function URL as second origin, behind /api/*.
        let cf = aws_sdk_cloudfront::Client::new(&sdk("us-east-1").await);
        let id = report["distribution_id"].as_str().expect("distribution id");
        let config = cf
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .expect("distribution config");
        let config = config.distribution_config().expect("config");
        let origins = config.origins().expect("origins").items();
        let api = origins.iter().find(|o| o.id() == "api").expect("api origin");
        let url_host = url
            .function_url()
            .trim_start_matches("https://")
            .trim_end_matches('/');
        assert_eq!(api.domain_name(), url_host);
        let headers = api.custom_headers().expect("custom headers").items();
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].header_name(), "X-Origin-Verify");
        assert_eq!(headers[0].header_value(), origin_verify.0);
        let custom = api.custom_origin_config().expect("custom origin");
        assert_eq!(custom.origin_protocol_policy().as_str(), "https-only");
        let behaviors = config.cache_behaviors().expect("behaviors").items();
        let b = behaviors
            .iter()
            .find(|b| b.path_pattern() == "/api/*")
            .expect("/api/* behaviour");
        assert_eq!(b.target_origin_id(), "api");
        assert_eq!(
            b.cache_policy_id(),
            Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
        );
        assert_eq!(
            b.origin_request_policy_id(),
            Some("b689b0a8-53d0-40ab-baf2-68738e2966ac")
        );
        assert_eq!(b.allowed_methods().expect("methods").items().len(), 7);
    });
    assert_eq!(
        report["api_url"],
        format!("https://{}.example.com/api/", fx.stack)
    );

    // Converged: the same zip again makes no change; a new zip, exactly one call.
    let again = fx.up_json(&zip1);
    assert_eq!(again["calls"]["mutations"], 0, "{}", again["calls"]);
    let changed = fx.up_json(&zip2);
    assert_eq!(changed["calls"]["mutations"], 1, "{}", changed["calls"]);
    assert_eq!(
        changed["calls"]["mutations_by_operation"],
        json!({"Lambda.UpdateFunctionCode": 1})
    );
    let sha = rt.block_on(async {
        let f = fx.get_function().await.expect("function");
        f.configuration()
            .and_then(|c| c.code_sha256())
            .unwrap_or_default()
            .to_string()
    });
    let zip2_bytes = std::fs::read(&zip2).expect("zip2");
    use sha2::Digest;
    assert_eq!(
        sha,
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&zip2_bytes))
    );

    // Down leaves nothing of the stack.
    fx.ok(&["down", "--yes", "--wait-timeout", "120"]);
    rt.block_on(async {
        let err = fx.get_function().await.expect_err("function deleted");
        let lambda = aws_sdk_lambda::Client::new(&sdk(REGION).await);
        assert!(
            err.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
        );
        let err = lambda
            .get_function_url_config()
            .function_name(fx.function())
            .send()
            .await
            .expect_err("URL deleted");
        assert!(
            err.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception())
        );
        let iam = aws_sdk_iam::Client::new(&sdk("us-east-1").await);
        let err = iam
            .get_role()
            .role_name(fx.function())
            .send()
            .await
            .expect_err("role deleted");
        assert!(
            err.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception())
        );
    });
    assert_eq!(rt.block_on(parameters(&fx.stack)), BTreeMap::new());
}

/// Every stored secret, and each line of a PEM body, as strings that must never be printed.
fn needles(params: &BTreeMap<String, (String, ParameterType)>) -> Vec<String> {
    let mut out = Vec::new();
    for (value, kind) in params.values() {
        if *kind != ParameterType::SecureString {
            continue;
        }
        out.push(value.clone());
        for line in value.lines() {
            if !line.starts_with("-----") && line.len() >= 16 {
                out.push(line.to_string());
            }
        }
    }
    out
}

fn assert_clean(what: &str, out: &Output, needles: &[String]) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for n in needles {
        assert!(
            !text.contains(n.as_str()),
            "`colorid {what}` printed a secret"
        );
    }
}

#[test]
fn no_command_prints_a_secret_even_at_debug_level() {
    for format in ["text", "json"] {
        leak_check(format);
    }
}

/// plan, up, up with a rotation, plan, status and down, all at -vv in one
/// output format, on a fresh stack (moto cannot re-request a deleted
/// certificate with the same idempotency token, so a stack is not reused).
fn leak_check(format: &str) {
    let mut fx = Fixture::new(
        "fn-leak",
        "app_secret = { file = \"app.secret\" }\norigin_verify = { env = \"FNTEST_ORIGIN_VERIFY\" }",
    );
    std::fs::write(
        fx.path("app.secret"),
        "file-supplied-app-secret-0123456789abcdef\n",
    )
    .expect("secret file");
    fx.env.push((
        "FNTEST_ORIGIN_VERIFY".into(),
        "env-supplied-origin-verify-0123456789abcdef".into(),
    ));
    let zip = fx.zip("one.zip", "one");
    let rt = runtime();
    let mut outputs = Vec::new();
    // Every secret ever stored, collected after each command (rotation replaces values).
    let mut seen = BTreeMap::new();
    for args in [
        vec!["plan", "--function-zip", zip.as_str()],
        vec!["up", "--function-zip", zip.as_str()],
        vec![
            "up",
            "--function-zip",
            zip.as_str(),
            "--rotate-secrets",
            "signing_key",
        ],
        vec!["plan", "--function-zip", zip.as_str()],
        vec!["status"],
    ] {
        let mut all = args.clone();
        all.extend(["-vv", "--output", format]);
        let out = fx.run(&all);
        assert!(
            out.status.success(),
            "{all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((format!("{all:?}"), out));
        for (name, value) in rt.block_on(parameters(&fx.stack)) {
            seen.insert(format!("{name} {}", value.0), value);
        }
    }
    assert_eq!(
        seen.keys().filter(|k| k.contains("/signing-key ")).count(),
        2,
        "the rotation made a second signing key"
    );
    let needles = needles(&seen);
    assert!(
        needles
            .iter()
            .any(|n| n.contains("file-supplied-app-secret"))
    );
    assert!(
        needles
            .iter()
            .any(|n| n.contains("env-supplied-origin-verify"))
    );
    let down = fx.run(&[
        "down",
        "--yes",
        "-vv",
        "--output",
        format,
        "--wait-timeout",
        "120",
    ]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    outputs.push((format!("down {format}"), down));
    for (what, out) in &outputs {
        assert_clean(what, out, &needles);
    }
    assert_eq!(rt.block_on(parameters(&fx.stack)), BTreeMap::new());
}

#[test]
fn unreadable_secret_source_is_a_usage_error_that_changes_nothing() {
    let fx = Fixture::new(
        "fn-missing",
        "app_secret = { env = \"FNTEST_SURELY_UNSET_VARIABLE\" }",
    );
    let zip = fx.zip("one.zip", "one");
    let out = fx.run(&["up", "--function-zip", &zip]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("secrets.app_secret"), "{stderr}");
    assert!(stderr.contains("FNTEST_SURELY_UNSET_VARIABLE"), "{stderr}");
    let rt = runtime();
    // Nothing but nothing: no parameter (not even a leftover lock), no role, no function.
    assert_eq!(rt.block_on(parameters(&fx.stack)), BTreeMap::new());
    rt.block_on(async {
        let iam = aws_sdk_iam::Client::new(&sdk("us-east-1").await);
        assert!(
            iam.get_role()
                .role_name(fx.function())
                .send()
                .await
                .is_err()
        );
        assert!(fx.get_function().await.is_err());
    });

    let out = fx.run(&[
        "up",
        "--function-zip",
        &zip,
        "--rotate-secrets",
        "app_secret,bogus",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bogus") && stderr.contains("origin_verify"),
        "{stderr}"
    );
}

#[test]
fn rotating_origin_verify_keeps_the_previous_value_until_the_distribution_has_the_new_one() {
    let fx = Fixture::new("fn-rotate", "");
    let zip = fx.zip("one.zip", "one");
    let rt = runtime();
    fx.up_json(&zip);
    let before = rt.block_on(parameters(&fx.stack));
    let old = before[&fx.param("origin-verify")].0.clone();
    let old_app = before[&fx.param("app-secret")].0.clone();

    let report: Value = serde_json::from_str(&fx.ok(&[
        "up",
        "--function-zip",
        &zip,
        "--rotate-secrets",
        "origin_verify",
        "--output",
        "json",
    ]))
    .expect("json");
    let after = rt.block_on(parameters(&fx.stack));
    let new = after[&fx.param("origin-verify")].0.clone();
    assert_ne!(new, old);
    assert!(b64url_len(&new) >= 32);
    assert_eq!(
        after[&fx.param("origin-verify-previous")],
        (old, ParameterType::SecureString)
    );
    assert_eq!(
        after[&fx.param("app-secret")].0,
        old_app,
        "only the named secret rotates"
    );
    let header = rt.block_on(async {
        let cf = aws_sdk_cloudfront::Client::new(&sdk("us-east-1").await);
        let c = cf
            .get_distribution_config()
            .id(report["distribution_id"].as_str().expect("id"))
            .send()
            .await
            .expect("config");
        c.distribution_config()
            .and_then(|c| c.origins())
            .map(|o| o.items().to_vec())
            .unwrap_or_default()
            .iter()
            .flat_map(|o| {
                o.custom_headers()
                    .map(|h| h.items().to_vec())
                    .unwrap_or_default()
            })
            .map(|h| h.header_value().to_string())
            .next()
    });
    assert_eq!(header.as_deref(), Some(new.as_str()));

    // The distribution sends the new value once its change has deployed (it reads
    // InProgress for a while, as on AWS): a run after that retires the old one.
    let mut last = rt.block_on(parameters(&fx.stack));
    for _ in 0..3 {
        fx.up_json(&zip);
        last = rt.block_on(parameters(&fx.stack));
        if !last.contains_key(&fx.param("origin-verify-previous")) {
            break;
        }
    }
    assert!(!last.contains_key(&fx.param("origin-verify-previous")));
    assert_eq!(last[&fx.param("origin-verify")].0, new);
    fx.ok(&["down", "--yes", "--wait-timeout", "120"]);
}
