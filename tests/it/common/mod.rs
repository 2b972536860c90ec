//! Shared helpers for the integration tests: the emulator's endpoint, unique
//! stack files, running the real `colorid` binary, and SDK clients to look at
//! what the emulator holds afterwards.
#![allow(dead_code)]

pub mod dev;
pub mod fault_proxy;
pub mod iam;
pub mod issuer;
pub mod latency;
pub mod loopback;
pub mod moto;
pub mod realism;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The emulator's own endpoint: scripts/test's, or one started for this process.
pub fn emulator() -> String {
    moto::shared().to_string()
}

/// The proxy every test talks through: the emulator, answering
/// as AWS documents (common/realism.rs), with every rule on.
pub fn proxy() -> &'static fault_proxy::FaultProxy {
    static PROXY: std::sync::OnceLock<fault_proxy::FaultProxy> = std::sync::OnceLock::new();
    PROXY.get_or_init(|| fault_proxy::FaultProxy::start(&emulator()))
}

/// A realism proxy in front of another emulator, for the life of the test process.
pub fn proxy_for(upstream: &str) -> &'static fault_proxy::FaultProxy {
    Box::leak(Box::new(fault_proxy::FaultProxy::start(upstream)))
}

/// Where colorid and the tests' own clients send their calls: the realism proxy.
pub fn endpoint() -> String {
    proxy().endpoint()
}

/// The step of a JSON plan (`colorid --output json plan`) for `resource`.
pub fn plan_step(plan: &serde_json::Value, resource: &str) -> serde_json::Value {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["resource"] == resource)
        .cloned()
        .unwrap_or_else(|| panic!("no {resource} in {plan}"))
}

/// A stack name no other test (or earlier run against the same emulator)
/// uses, short enough that `<name>.<name>.example.com` stays within ACM's 64
/// characters for a certificate's first name.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 36u128.pow(6))
        .unwrap_or(0);
    format!("{prefix}-{}{n}-{}", std::process::id() % 1000, base36(t))
}

fn base36(mut n: u128) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// A stack in a temporary directory, with its own site folder.
pub struct TestStack {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub domain: String,
    pub zone: String,
}

impl TestStack {
    /// A stack with its own hosted zone `<name>.example.com`.
    pub fn new(prefix: &str) -> TestStack {
        let name = unique(prefix);
        let zone = format!("{name}.example.com");
        Self::in_zone(&name, &zone)
    }

    /// A stack whose domain lies in an existing (shared) zone.
    pub fn in_zone(name: &str, zone: &str) -> TestStack {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("site")).unwrap();
        std::fs::write(dir.path().join("site/index.html"), "<h1>hi</h1>").unwrap();
        let stack = TestStack {
            dir,
            name: name.to_string(),
            domain: format!("{name}.{zone}"),
            zone: zone.to_string(),
        };
        stack.write("");
        stack
    }

    /// Writes stack.toml with `extra` top-level lines.
    pub fn write(&self, extra: &str) {
        let text = format!(
            r#"name = "{}"
region = "eu-west-1"
domain = "{}"
hosted_zone = "{}"
{extra}

[identity]
issuer = "{}"
client_id = "test-client"
"#,
            self.name,
            self.domain,
            self.zone,
            issuer::shared()
        );
        std::fs::write(self.file(), text).unwrap();
    }

    pub fn file(&self) -> PathBuf {
        self.dir.path().join("stack.toml")
    }

    /// Runs `colorid --local --stack <file> <args>` against the emulator.
    /// `up` and `plan` get a small prebuilt function zip, so tests do not compile the function.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command_at(&endpoint(), args)
            .output()
            .expect("run colorid")
    }

    /// The command `run` runs, against `endpoint`.
    pub fn command_at(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if args.iter().any(|a| *a == "up" || *a == "plan") && !args.contains(&"--function-zip") {
            all.push("--function-zip".into());
            all.push(self.function_zip());
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        command(&self.file(), endpoint, &refs)
    }

    /// A valid Lambda zip holding a `bootstrap` (the emulator never runs it).
    pub fn function_zip(&self) -> String {
        let path = self.dir.path().join("function.zip");
        if !path.exists() {
            let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
            let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
            w.start_file("bootstrap", options).unwrap();
            std::io::Write::write_all(&mut w, b"#!/bin/sh\necho test function\n").unwrap();
            w.finish().unwrap();
        }
        path.display().to_string()
    }

    /// Runs a command that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "colorid {args:?} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Runs a command with `--output json` that must succeed; returns the parsed JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let stdout = self.ok(&all);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
    }
}

/// Asserts that a run succeeded, showing its stderr if not.
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the real binary against the emulator with dummy credentials.
pub fn colorid(stack: &Path, args: &[&str]) -> Output {
    command(stack, &endpoint(), args)
        .output()
        .expect("run colorid")
}

/// The real binary, with `--local` pointed at `endpoint`.
pub fn command(stack: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_colorid"));
    command
        .arg("--local")
        .arg("--stack")
        .arg(stack)
        .args(args)
        .env("COLORID_LOCAL_ENDPOINT", endpoint)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(std::process::Stdio::null());
    command
}

/// SDK configuration pointed at the emulator.
pub async fn sdk(region: &str) -> SdkConfig {
    sdk_at(&endpoint(), region).await
}

/// SDK configuration pointed at `endpoint`.
pub async fn sdk_at(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

pub async fn s3(region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk(region).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The keys of the objects in `bucket` (one listing: the tests' buckets are small).
pub async fn bucket_keys(region: &str, bucket: &str) -> Vec<String> {
    let objects = s3(region)
        .await
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    objects
        .contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect()
}

pub async fn cloudfront() -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&sdk("us-east-1").await)
}

pub async fn route53() -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&sdk("us-east-1").await)
}

pub async fn acm() -> aws_sdk_acm::Client {
    aws_sdk_acm::Client::new(&sdk("us-east-1").await)
}

pub async fn ssm(region: &str) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk(region).await)
}
