//! The one SSM call the function makes to load its settings: `GetParameters`
//! with decryption, signed with SigV4 from the credentials Lambda puts in the
//! environment, retried with backoff on throttling, 5xx and network errors.
//! Signing it here instead of linking the AWS SDK keeps the deployment zip small.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Value, json};

/// A minimal SSM client.
pub struct SsmClient {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Credentials,
    retry: RetryPolicy,
}

/// How `GetParameters` is retried: exponential backoff with jitter, a bounded
/// number of attempts, and no new attempt after `deadline` (a cold start must
/// stay well inside Lambda's 10-second init phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// No attempt starts later than this after the first.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            deadline: Duration::from_secs(5),
        }
    }
}

/// Why `GetParameters` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsmError {
    /// What happened, without any parameter value.
    pub message: String,
    /// Whether trying again may succeed (throttling, 5xx, network).
    pub retryable: bool,
}

impl fmt::Display for SsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl SsmError {
    fn fatal(message: impl ToString) -> Self {
        SsmError {
            message: message.to_string(),
            retryable: false,
        }
    }
}

/// AWS JSON error types worth retrying (throttling); 5xx are retried whatever their type.
const RETRYABLE_TYPES: &[&str] = &[
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
];

/// The outcome of `GetParameters`: values by name, and the names SSM did not find.
pub struct Parameters {
    /// Parameter values by name.
    pub values: HashMap<String, String>,
    /// Names SSM reported as invalid (missing or not readable).
    pub invalid: Vec<String>,
}

impl SsmClient {
    /// A client for `endpoint` (e.g. `https://ssm.eu-west-1.amazonaws.com`).
    pub fn new(
        endpoint: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
    ) -> Result<Self, String> {
        let http = crate::tls::client_builder()?
            .connect_timeout(Duration::from_secs(2))
            // A cold start must not hang on SSM: each attempt fails within seconds.
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: region.to_string(),
            credentials: Credentials::new(
                access_key_id,
                secret_access_key,
                session_token,
                None,
                "environment",
            ),
            retry: RetryPolicy::default(),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// From the Lambda environment: `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the endpoint from
    /// `AWS_ENDPOINT_URL_SSM` or `AWS_ENDPOINT_URL` when set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let need = |n: &str| {
            env(n)
                .filter(|v| !v.is_empty())
                .ok_or(format!("{n} is not set"))
        };
        let region = need("AWS_REGION").or_else(|_| need("AWS_DEFAULT_REGION"))?;
        let endpoint = env("AWS_ENDPOINT_URL_SSM")
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://ssm.{region}.amazonaws.com"));
        Self::new(
            &endpoint,
            &region,
            &need("AWS_ACCESS_KEY_ID")?,
            &need("AWS_SECRET_ACCESS_KEY")?,
            env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
        )
    }

    /// `GetParameters` for `names` with decryption, retried as the policy says.
    pub async fn get_parameters(&self, names: &[String]) -> Result<Parameters, SsmError> {
        let start = Instant::now();
        let mut attempt = 1;
        loop {
            let err = match self.get_parameters_once(names).await {
                Ok(p) => return Ok(p),
                Err(e) => e,
            };
            let delay = backoff(&self.retry, attempt);
            if !err.retryable
                || attempt >= self.retry.attempts
                || start.elapsed() + delay > self.retry.deadline
            {
                return Err(SsmError {
                    message: format!("{} (after {attempt} attempts)", err.message),
                    retryable: err.retryable,
                });
            }
            tracing::warn!(attempt, error = %err, "GetParameters failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn get_parameters_once(&self, names: &[String]) -> Result<Parameters, SsmError> {
        let body = json!({"Names": names, "WithDecryption": true}).to_string();
        let url = format!("{}/", self.endpoint);
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_string();
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonSSM.GetParameters"),
            ("host", host.as_str()),
        ];
        let identity: Identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ssm")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(SsmError::fatal)?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(SsmError::fatal)?;
        let (instructions, _) = sign(signable, &params)
            .map_err(SsmError::fatal)?
            .into_parts();
        let mut req = http::Request::post(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut req = req.body(body).map_err(SsmError::fatal)?;
        instructions.apply_to_request_http1x(&mut req);
        let req = reqwest::Request::try_from(req).map_err(SsmError::fatal)?;
        // Connection failures and timeouts are worth another attempt.
        let network = |e: reqwest::Error| SsmError {
            message: e.to_string(),
            retryable: true,
        };
        let resp = self.http.execute(req).await.map_err(network)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(network)?;
        let out: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            // SSM names the error in __type (sometimes namespace#Type); the message may be under either spelling.
            let kind = out["__type"].as_str().unwrap_or("unknown error");
            let kind = kind.rsplit('#').next().unwrap_or(kind);
            let msg = out["message"]
                .as_str()
                .or(out["Message"].as_str())
                .unwrap_or("");
            return Err(SsmError {
                message: format!("HTTP {status}: {kind}: {msg}"),
                retryable: status.is_server_error()
                    || status.as_u16() == 429
                    || RETRYABLE_TYPES.contains(&kind),
            });
        }
        if out.is_null() {
            return Err(SsmError::fatal(format!(
                "HTTP {status}: the answer is not JSON"
            )));
        }
        let values = out["Parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some((
                    p["Name"].as_str()?.to_string(),
                    p["Value"].as_str()?.to_string(),
                ))
            })
            .collect();
        let invalid = out["InvalidParameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(String::from))
            .collect();
        Ok(Parameters { values, invalid })
    }
}

/// The wait after failed attempt `attempt` (1-based): exponential, capped,
/// with "equal jitter" so instances that failed together do not retry together.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(policy.max_delay);
    let half = exp / 2;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let spread = half.as_nanos().max(1) as u64;
    half + Duration::from_nanos(u64::from(nanos) % spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_and_credentials_come_from_the_environment() {
        let env = |n: &str| match n {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
            _ => None,
        };
        let c = SsmClient::from_env(&env).unwrap();
        assert_eq!(c.endpoint, "https://ssm.eu-west-1.amazonaws.com");
        assert_eq!(c.region, "eu-west-1");
        let local = |n: &str| match n {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000/".to_string()),
            other => env(other),
        };
        assert_eq!(
            SsmClient::from_env(&local).unwrap().endpoint,
            "http://127.0.0.1:5000"
        );
        let no_keys = |n: &str| (n == "AWS_REGION").then(|| "eu-west-1".to_string());
        let err = SsmClient::from_env(&no_keys).err().unwrap();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn backoff_doubles_within_its_cap() {
        let p = RetryPolicy::default();
        for (attempt, (lo, hi)) in [
            (1, (50, 100)),
            (2, (100, 200)),
            (3, (200, 400)),
            (9, (500, 1000)),
        ] {
            let d = backoff(&p, attempt).as_millis();
            assert!((lo..=hi).contains(&d), "attempt {attempt}: {d} ms");
        }
    }
}
