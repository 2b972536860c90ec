//! AWS's clock: the latency model of common/latency.toml (per-call latency and
//! the long waits AWS imposes), scaled by a factor so a bench can run AWS's
//! minutes in seconds. The proxy applies it when started with a model
//! (`FaultProxy::start_modelled`); with no model, nothing here is used and the
//! realism rules keep their call-counted windows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::Method;
use serde::Deserialize;

use super::fault_proxy::Call;

/// The model's table, as written.
#[derive(Debug, Clone, Deserialize)]
struct Table {
    default: HashMap<String, f64>,
    call: HashMap<String, f64>,
    wait: HashMap<String, f64>,
}

/// The model, with its scale.
#[derive(Debug, Clone)]
pub struct Model {
    table: Table,
    /// AWS seconds → real seconds (0.1 runs AWS's clock ten times faster).
    pub scale: f64,
}

/// One of the long waits (`[wait]` in the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    AcmRecords,
    AcmIssue,
    CloudFrontFreshCertificate,
    CloudFrontDeploy,
    Route53Insync,
    IamRole,
    LambdaPending,
    LambdaUpdate,
    S3NameHeld,
    SsmNameHeld,
    AcmNotFound,
}

impl Wait {
    pub fn key(self) -> &'static str {
        match self {
            Wait::AcmRecords => "acm_records",
            Wait::AcmIssue => "acm_issue",
            Wait::CloudFrontFreshCertificate => "cloudfront_fresh_certificate",
            Wait::CloudFrontDeploy => "cloudfront_deploy",
            Wait::Route53Insync => "route53_insync",
            Wait::IamRole => "iam_role",
            Wait::LambdaPending => "lambda_pending",
            Wait::LambdaUpdate => "lambda_update",
            Wait::S3NameHeld => "s3_name_held",
            Wait::SsmNameHeld => "ssm_name_held",
            Wait::AcmNotFound => "acm_not_found",
        }
    }
}

/// The table's path in the repository.
pub fn table_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/common/latency.toml")
}

impl Model {
    /// The repository's table at `scale`.
    pub fn load(scale: f64) -> Model {
        let text = std::fs::read_to_string(table_path()).expect("read latency.toml");
        let table: Table = toml::from_str(&text).expect("latency.toml parses");
        assert!(scale > 0.0, "the latency scale must be positive");
        Model { table, scale }
    }

    fn scaled(&self, seconds: f64) -> Duration {
        Duration::from_secs_f64(seconds * self.scale)
    }

    /// What one call costs at least, in AWS seconds.
    pub fn call_seconds(&self, key: &str, mutating: bool) -> f64 {
        if let Some(s) = self.table.call.get(key) {
            return *s;
        }
        let service = key.split('.').next().unwrap_or("unknown");
        let kind = if mutating { "write" } else { "read" };
        self.table
            .default
            .get(&format!("{service}.{kind}"))
            .or_else(|| self.table.default.get(&format!("unknown.{kind}")))
            .copied()
            .unwrap_or(0.0)
    }

    /// What one call costs at least, on the scaled clock.
    pub fn call(&self, key: &str, mutating: bool) -> Duration {
        self.scaled(self.call_seconds(key, mutating))
    }

    /// Whether the table has a figure for the wait named `key`.
    pub fn has_wait(&self, key: &str) -> bool {
        self.table.wait.contains_key(key)
    }

    /// How long a state holds, on the scaled clock.
    pub fn wait(&self, wait: Wait) -> Duration {
        self.scaled(self.table.wait.get(wait.key()).copied().unwrap_or(0.0))
    }
}

/// The operation's name, `service.Operation`: from the protocol where it names it
/// (JSON and query services), from the verb and path for the REST ones.
pub fn operation(call: &Call, method: &Method, path: &str, query: &str) -> String {
    if let Some(op) = &call.operation {
        return format!("{}.{op}", call.service);
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let has = |q: &str| {
        query
            .split('&')
            .any(|kv| kv == q || kv.starts_with(&format!("{q}=")))
    };
    let m = method.as_str();
    let op: String = match call.service.as_str() {
        "cloudfront" => match (m, parts.get(1).copied(), parts.len()) {
            ("POST", Some("distribution"), 2) if has("WithTags") => {
                "CreateDistributionWithTags".into()
            }
            ("POST", Some("distribution"), 2) => "CreateDistribution".into(),
            ("GET", Some("distribution"), 2) => "ListDistributions".into(),
            ("GET", Some("distribution"), 3) => "GetDistribution".into(),
            ("GET", Some("distribution"), 4) if parts[3] == "config" => {
                "GetDistributionConfig".into()
            }
            ("PUT", Some("distribution"), 4) if parts[3] == "config" => "UpdateDistribution".into(),
            ("POST", Some("distribution"), 4) if parts[3] == "invalidation" => {
                "CreateInvalidation".into()
            }
            (_, Some(kind), _) => format!("{m} {kind}"),
            _ => format!("{m} {path}"),
        },
        "lambda" => match (m, parts.get(1).copied(), parts.get(3).copied()) {
            ("POST", Some("functions"), None) if parts.len() == 2 => "CreateFunction".into(),
            ("GET", Some("functions"), None) if parts.len() == 3 => "GetFunction".into(),
            ("GET", Some("functions"), Some("configuration")) => "GetFunctionConfiguration".into(),
            ("PUT", Some("functions"), Some("code")) => "UpdateFunctionCode".into(),
            ("PUT", Some("functions"), Some("configuration")) => {
                "UpdateFunctionConfiguration".into()
            }
            ("POST", Some("functions"), Some("url")) => "CreateFunctionUrlConfig".into(),
            ("GET", Some("functions"), Some("url")) => "GetFunctionUrlConfig".into(),
            ("PUT", Some("functions"), Some("url")) => "UpdateFunctionUrlConfig".into(),
            ("POST", Some("functions"), Some("policy")) => "AddPermission".into(),
            ("GET", Some("functions"), Some("policy")) => "GetPolicy".into(),
            ("PUT", Some("functions"), Some("concurrency")) => "PutFunctionConcurrency".into(),
            ("GET", Some("account-settings"), _) => "GetAccountSettings".into(),
            ("GET", Some("tags"), _) => "ListTags".into(),
            ("GET", _, Some(kind)) | ("GET", Some(kind), None) => format!("Get {kind}"),
            _ => format!("{m} {}", parts.get(1).copied().unwrap_or("")),
        },
        "route53" => match (m, parts.get(1).copied(), parts.get(3).copied()) {
            ("POST", Some("hostedzone"), Some("rrset")) => "ChangeResourceRecordSets".into(),
            ("GET", Some("hostedzone"), Some("rrset")) => "ListResourceRecordSets".into(),
            ("POST", Some("hostedzone"), None) => "CreateHostedZone".into(),
            ("GET", Some("hostedzone"), None) => "GetHostedZone".into(),
            ("GET", Some("hostedzonesbyname"), _) => "ListHostedZonesByName".into(),
            ("GET", Some("change"), _) => "GetChange".into(),
            (_, Some(kind), _) => format!("{m} {kind}"),
            _ => format!("{m} {path}"),
        },
        "s3" => {
            let object = parts.len() > 1;
            match (m, object) {
                ("PUT", true) => "PutObject".into(),
                ("GET", true) => "GetObject".into(),
                ("HEAD", true) => "HeadObject".into(),
                ("DELETE", true) => "DeleteObject".into(),
                ("POST", false) if has("delete") => "DeleteObjects".into(),
                ("GET", false) if has("list-type") => "ListObjectsV2".into(),
                (_, false) => {
                    let sub = query
                        .split('&')
                        .next()
                        .and_then(|kv| kv.split('=').next())
                        .filter(|s| !s.is_empty())
                        .unwrap_or("bucket");
                    format!("{m} ?{sub}")
                }
                _ => format!("{m} object"),
            }
        }
        _ => format!("{m} {path}"),
    };
    format!("{}.{op}", call.service)
}
