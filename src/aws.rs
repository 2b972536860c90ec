//! SDK clients: one `SdkConfig` from the standard credential chain, with
//! profile, region, endpoint and retry overrides, and a counter of the calls
//! made (reads and mutations, by operation) for `--output json` and tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_acm::Client as AcmClient;
use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudwatchlogs::Client as LogsClient;
use aws_sdk_iam::Client as IamClient;
use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_route53::Client as Route53Client;
use aws_sdk_s3::Client as S3Client;
use aws_sdk_ssm::Client as SsmClient;
use aws_sdk_sts::Client as StsClient;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The endpoint `--local` uses when `COLORID_LOCAL_ENDPOINT` is unset.
pub const DEFAULT_LOCAL_ENDPOINT: &str = "http://127.0.0.1:4566";

/// CloudFront, its certificates and Route53 are global services homed in us-east-1.
pub const GLOBAL_REGION: &str = "us-east-1";

/// Where and how to reach AWS, from the command line.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub local: bool,
}

/// Counts of the AWS operations a run made, by kind.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CallCounts {
    pub reads: u64,
    pub mutations: u64,
    /// Mutating operations by `Service.Operation`.
    pub mutations_by_operation: BTreeMap<String, u64>,
    /// Reading operations by `Service.Operation`.
    pub reads_by_operation: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Clone)]
struct CallCounter(Arc<Mutex<CallCounts>>);

impl CallCounter {
    fn record(&self, service: &str, operation: &str) {
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = format!("{service}.{operation}");
        if is_mutating(operation) {
            counts.mutations += 1;
            *counts.mutations_by_operation.entry(key).or_default() += 1;
        } else {
            counts.reads += 1;
            *counts.reads_by_operation.entry(key).or_default() += 1;
        }
    }
}

/// Whether an operation changes something, judged by its verb.
pub fn is_mutating(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 6] = ["Get", "List", "Describe", "Head", "Select", "Filter"];
    !READ_PREFIXES.iter().any(|p| operation.starts_with(p))
}

#[derive(Debug)]
struct CountingInterceptor(CallCounter);

impl Intercept for CountingInterceptor {
    fn name(&self) -> &'static str {
        "colorid::CallCounter"
    }

    // Client-level interceptors see `read_before_execution` before the
    // operation's metadata is in the bag; serialization comes after it.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.0.record(meta.service(), meta.name());
        }
        Ok(())
    }
}

/// The SDK configuration of one run, and the clients built from it.
#[derive(Debug, Clone)]
pub struct Aws {
    regional: SdkConfig,
    global: SdkConfig,
    endpoint_overridden: bool,
    counter: CallCounter,
    local: bool,
    /// The account that must own the stack's bucket (every S3 request says so).
    owner: crate::guards::ExpectedOwner,
    /// Unit tests only: the aws-smithy-mocks rules that answer every call.
    #[cfg(test)]
    mocks: Option<aws_smithy_runtime_api::client::interceptors::SharedInterceptor>,
}

/// A client config builder with the unit tests' mock answers when there are
/// any (outside tests, the builder as it is).
macro_rules! mocked {
    ($aws:expr, $builder:expr) => {{
        let builder = $builder;
        #[cfg(test)]
        let builder = match &$aws.mocks {
            Some(mocks) => builder.interceptor(mocks.clone()),
            None => builder,
        };
        builder
    }};
}

impl Aws {
    /// Loads the configuration from the standard chain with the given overrides.
    /// A profile asked for by name that ~/.aws does not define fails here, before any call.
    pub async fn load(options: &AwsOptions, stack_region: &str) -> crate::error::Result<Aws> {
        if !options.local {
            crate::advice::set_source(crate::advice::inspect(options.profile.as_deref()).await?);
        }
        let region = options
            .region
            .clone()
            .unwrap_or_else(|| stack_region.to_string());
        let retry = RetryConfig::standard()
            .with_max_attempts(10)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region))
            .retry_config(retry);
        if options.local {
            let endpoint = std::env::var("COLORID_LOCAL_ENDPOINT")
                .ok()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| DEFAULT_LOCAL_ENDPOINT.to_string());
            let endpoint = options.endpoint_url.clone().unwrap_or(endpoint);
            loader = loader.endpoint_url(endpoint).credentials_provider(
                aws_sdk_s3::config::Credentials::new("test", "test", None, None, "colorid-local"),
            );
        } else {
            if let Some(profile) = &options.profile {
                loader = loader.profile_name(profile);
            }
            if let Some(endpoint) = &options.endpoint_url {
                loader = loader.endpoint_url(endpoint);
            }
        }
        let regional = loader.load().await;
        let global = regional
            .to_builder()
            .region(Region::new(GLOBAL_REGION))
            .build();
        let endpoint_overridden = regional.endpoint_url().is_some()
            || std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.is_empty());
        Ok(Aws {
            regional,
            global,
            endpoint_overridden,
            counter: CallCounter::default(),
            local: options.local,
            owner: Default::default(),
            #[cfg(test)]
            mocks: None,
        })
    }

    /// Unit tests: a run in eu-west-1 whose every call is answered by `mocks`
    /// (aws-smithy-mocks rules; a call no rule matches fails the test).
    #[cfg(test)]
    pub fn mocked(mocks: aws_smithy_mocks::MockResponseInterceptor) -> Aws {
        let regional = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_sdk_s3::config::Credentials::new("test", "test", None, None, "unit-test"),
                ),
            )
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .build();
        let global = regional
            .to_builder()
            .region(Region::new(GLOBAL_REGION))
            .build();
        Aws {
            regional,
            global,
            endpoint_overridden: false,
            counter: CallCounter::default(),
            local: false,
            owner: Default::default(),
            mocks: Some(
                aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(mocks),
            ),
        }
    }

    /// Whether this run talks to the local emulator.
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// The region of the bucket, function and parameters.
    pub fn region(&self) -> String {
        self.regional
            .region()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    /// From now on every S3 request expects `account` to own the bucket (set once the
    /// run knows its account; a later call changes nothing).
    pub fn expect_bucket_owner(&self, account: &str) {
        if !account.is_empty() {
            let _ = self.owner.set(account.to_string());
        }
    }

    /// The counts of calls made so far.
    pub fn counts(&self) -> CallCounts {
        self.counter
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn interceptor(&self) -> CountingInterceptor {
        CountingInterceptor(self.counter.clone())
    }

    pub fn s3(&self) -> S3Client {
        let conf = mocked!(
            self,
            aws_sdk_s3::config::Builder::from(&self.regional)
                .force_path_style(self.endpoint_overridden)
                .interceptor(self.interceptor())
                .interceptor(crate::guards::ExpectBucketOwner(self.owner.clone()))
        )
        .build();
        S3Client::from_conf(conf)
    }

    pub fn ssm(&self) -> SsmClient {
        let conf = mocked!(
            self,
            aws_sdk_ssm::config::Builder::from(&self.regional).interceptor(self.interceptor())
        )
        .build();
        SsmClient::from_conf(conf)
    }

    /// An SSM client whose calls are not counted: the lock's own traffic.
    pub fn ssm_uncounted(&self) -> SsmClient {
        SsmClient::from_conf(
            mocked!(self, aws_sdk_ssm::config::Builder::from(&self.regional)).build(),
        )
    }

    pub fn lambda(&self) -> LambdaClient {
        let conf = mocked!(
            self,
            aws_sdk_lambda::config::Builder::from(&self.regional).interceptor(self.interceptor())
        )
        .build();
        LambdaClient::from_conf(conf)
    }

    /// CloudWatch Logs in the function's region.
    pub fn logs(&self) -> LogsClient {
        let conf = mocked!(
            self,
            aws_sdk_cloudwatchlogs::config::Builder::from(&self.regional)
                .interceptor(self.interceptor())
                .retry_classifier(crate::guards::QuotasAreNotThrottling)
        )
        .build();
        LogsClient::from_conf(conf)
    }

    pub fn iam(&self) -> IamClient {
        let conf = mocked!(
            self,
            aws_sdk_iam::config::Builder::from(&self.global).interceptor(self.interceptor())
        )
        .build();
        IamClient::from_conf(conf)
    }

    pub fn sts(&self) -> StsClient {
        let conf = mocked!(
            self,
            aws_sdk_sts::config::Builder::from(&self.regional).interceptor(self.interceptor())
        )
        .build();
        StsClient::from_conf(conf)
    }

    /// ACM in us-east-1, where CloudFront looks for certificates.
    pub fn acm(&self) -> AcmClient {
        let conf = mocked!(
            self,
            aws_sdk_acm::config::Builder::from(&self.global)
                .interceptor(self.interceptor())
                .retry_classifier(crate::guards::QuotasAreNotThrottling)
        )
        .build();
        AcmClient::from_conf(conf)
    }

    pub fn cloudfront(&self) -> CloudFrontClient {
        let conf = mocked!(
            self,
            aws_sdk_cloudfront::config::Builder::from(&self.global).interceptor(self.interceptor())
        )
        .build();
        CloudFrontClient::from_conf(conf)
    }

    pub fn route53(&self) -> Route53Client {
        let conf = mocked!(
            self,
            aws_sdk_route53::config::Builder::from(&self.global).interceptor(self.interceptor())
        )
        .build();
        Route53Client::from_conf(conf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_operations() {
        for read in [
            "GetObject",
            "ListBuckets",
            "DescribeCertificate",
            "HeadBucket",
        ] {
            assert!(!is_mutating(read), "{read}");
        }
        for write in [
            "PutObject",
            "CreateDistribution",
            "DeleteParameter",
            "RequestCertificate",
            "ChangeResourceRecordSets",
            "UpdateDistribution",
            "TagResource",
        ] {
            assert!(is_mutating(write), "{write}");
        }
    }
}
