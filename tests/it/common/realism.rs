//! The realism layer: rules that make the emulator answer the way AWS
//! documents that it answers, where moto does not. It sits in the test proxy
//! (common/fault_proxy.rs) between colorid and the emulator: `before` may
//! answer a request itself (an error AWS would give, or an API moto lacks),
//! `after` may rewrite moto's answer (a record not yet assigned, a status
//! still in progress, a new ETag).
//!
//! Time is scaled down: where AWS takes seconds to minutes, a rule holds for
//! the first few calls that meet it (and never longer than a bound), so the
//! number of calls a run makes stays the same from run to run and a killed run
//! that comes back meets what is left of the window. The shapes are AWS's:
//! same error code, HTTP status and message text.
//!
//! Every rule names the documentation page it comes from (`Rule::source`),
//! counts how often it fired (`Realism::hits`), and can be switched off for a
//! test that shows what the rule catches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;

use super::fault_proxy::Call;

mod accounts;
mod headers_policies;
mod s3_objects;
use super::latency::{Model, Wait};

/// One documented AWS behaviour that the emulator does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    AcmRecordsLate,
    AcmWildcardSharesRecord,
    AcmDeleteInUse,
    CloudFrontEtagChanges,
    CloudFrontInProgress,
    CloudFrontFreshCertificate,
    CloudFrontNotDisabledOnce,
    CloudFrontDeleteWhileEnabled,
    CloudFrontCallerReference,
    CloudFrontOriginAccessIdentityApi,
    CloudFrontDefaultCertificatePolicy,
    CloudFrontResponseHeadersPolicyApi,
    IamRolePropagation,
    LambdaPending,
    LambdaUpdateInProgress,
    LambdaPolicyConditions,
    SsmTypeMismatch,
    S3FreshIdentityPrincipal,
    S3DeleteObjectsErrors,
    Route53DuplicateZones,
    // Issue 24, items 8-13 (accounts-b): the handlers are in realism/accounts.rs.
    Route53AliasBesideCname,
    CloudFrontNameTaken,
    CloudFrontQuota,
    AcmCertificateQuota,
    LambdaEnvironmentSize,
    S3ExpectedBucketOwner,
    CloudFrontHeaderValueLength,
    CloudFrontInvalidationsInProgress,
    // Issue 24, items 1-7 (accounts-a): an account as users have it.
    S3BucketNameHeld,
    SsmNameHeld,
    AcmNotFoundAtFirst,
    LambdaAccountQuotas,
    CloudFrontInvalidationPaths,
    LambdaTagsNeedListTags,
    SsmStandardSize,
    // Issue 28: publish's first upload guards bodies with CRC32 and reads MD5s from ETags.
    S3ChecksumChecked,
    S3MultipartChecksums,
    S3KmsEtagNotMd5,
}

impl Rule {
    pub const ALL: [Rule; 38] = [
        Rule::AcmRecordsLate,
        Rule::AcmWildcardSharesRecord,
        Rule::AcmDeleteInUse,
        Rule::CloudFrontEtagChanges,
        Rule::CloudFrontInProgress,
        Rule::CloudFrontFreshCertificate,
        Rule::CloudFrontNotDisabledOnce,
        Rule::CloudFrontDeleteWhileEnabled,
        Rule::CloudFrontCallerReference,
        Rule::CloudFrontOriginAccessIdentityApi,
        Rule::CloudFrontDefaultCertificatePolicy,
        Rule::CloudFrontResponseHeadersPolicyApi,
        Rule::IamRolePropagation,
        Rule::LambdaPending,
        Rule::LambdaUpdateInProgress,
        Rule::LambdaPolicyConditions,
        Rule::SsmTypeMismatch,
        Rule::S3FreshIdentityPrincipal,
        Rule::S3DeleteObjectsErrors,
        Rule::Route53DuplicateZones,
        // Issue 24, items 8-13 (accounts-b).
        Rule::Route53AliasBesideCname,
        Rule::CloudFrontNameTaken,
        Rule::CloudFrontQuota,
        Rule::AcmCertificateQuota,
        Rule::LambdaEnvironmentSize,
        Rule::S3ExpectedBucketOwner,
        Rule::CloudFrontHeaderValueLength,
        Rule::CloudFrontInvalidationsInProgress,
        // Issue 24, items 1-7.
        Rule::S3BucketNameHeld,
        Rule::SsmNameHeld,
        Rule::AcmNotFoundAtFirst,
        Rule::LambdaAccountQuotas,
        Rule::CloudFrontInvalidationPaths,
        Rule::LambdaTagsNeedListTags,
        Rule::SsmStandardSize,
        // Issue 28.
        Rule::S3ChecksumChecked,
        Rule::S3MultipartChecksums,
        Rule::S3KmsEtagNotMd5,
    ];

    /// A short name for tables and messages.
    pub fn name(self) -> &'static str {
        match self {
            Rule::AcmRecordsLate => "acm: validation records come late",
            Rule::AcmWildcardSharesRecord => "acm: *.x and x share one record",
            Rule::AcmDeleteInUse => "acm: delete answers in-use for a while",
            Rule::CloudFrontEtagChanges => "cloudfront: ETag changes on every change",
            Rule::CloudFrontInProgress => "cloudfront: InProgress after a change",
            Rule::CloudFrontFreshCertificate => "cloudfront: fresh certificate refused",
            Rule::CloudFrontNotDisabledOnce => "cloudfront: delete says not disabled once",
            Rule::CloudFrontDeleteWhileEnabled => "cloudfront: no delete while enabled/deploying",
            Rule::CloudFrontCallerReference => "cloudfront: a used CallerReference",
            Rule::CloudFrontOriginAccessIdentityApi => {
                "cloudfront: OAI API; configs echo S3OriginConfig"
            }
            Rule::CloudFrontDefaultCertificatePolicy => {
                "cloudfront: default certificate answers TLSv1, vip"
            }
            Rule::CloudFrontResponseHeadersPolicyApi => {
                "cloudfront: headers policy API; no delete in use"
            }
            Rule::IamRolePropagation => "iam: new role not yet assumable",
            Rule::LambdaPending => "lambda: Pending before Active",
            Rule::LambdaUpdateInProgress => "lambda: update in progress conflicts",
            Rule::LambdaPolicyConditions => "lambda: policy shows URL permissions as conditions",
            Rule::SsmTypeMismatch => "ssm: type change refused",
            Rule::S3FreshIdentityPrincipal => "s3: fresh OAI is an invalid principal",
            Rule::S3DeleteObjectsErrors => "s3: DeleteObjects fails per key",
            Rule::Route53DuplicateZones => "route53: two zones of one name",
            // Issue 24, items 1-7.
            Rule::S3BucketNameHeld => "s3: a deleted bucket's name is held",
            Rule::SsmNameHeld => "ssm: a deleted name is held 30 s",
            Rule::AcmNotFoundAtFirst => "acm: a new certificate is not found at first",
            Rule::LambdaAccountQuotas => "lambda: a new account's quotas",
            Rule::CloudFrontInvalidationPaths => "cloudfront: invalidation paths as browsers send",
            Rule::LambdaTagsNeedListTags => "lambda: tags only through ListTags",
            Rule::SsmStandardSize => "ssm: standard parameters hold 4,096 chars",
            Rule::S3ChecksumChecked => "s3: a body must match its checksum",
            Rule::S3MultipartChecksums => "s3: part checksums of the upload's algorithm",
            Rule::S3KmsEtagNotMd5 => "s3: an SSE-KMS object's ETag is not its MD5",
            other => accounts::name(other),
        }
    }

    /// The AWS documentation page the rule models.
    pub fn source(self) -> &'static str {
        match self {
            // "After successful completion of the RequestCertificate action, there is a delay of
            // several seconds before you can retrieve information about the new certificate."
            Rule::AcmRecordsLate => {
                "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"
            }
            // A wildcard name is validated by the CNAME of its apex; ACM reuses a name's record.
            Rule::AcmWildcardSharesRecord => {
                "https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html"
            }
            // ResourceInUseException while a service (CloudFront) still holds the certificate.
            Rule::AcmDeleteInUse => {
                "https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html"
            }
            // IfMatch must be the ETag of the last GetDistributionConfig; PreconditionFailed otherwise.
            Rule::CloudFrontEtagChanges => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html"
            }
            // Status is InProgress until the change has propagated to every edge location.
            Rule::CloudFrontInProgress => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Distribution.html"
            }
            // InvalidViewerCertificate until CloudFront can use a newly issued certificate.
            Rule::CloudFrontFreshCertificate => {
                "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/troubleshooting-distributions.html"
            }
            // DistributionNotDisabled: "The distribution you are trying to delete has not been disabled."
            // "you must first disable the distribution [...] and wait for the status to
            // change to Deployed" (moto deletes an enabled distribution at once).
            Rule::CloudFrontNotDisabledOnce | Rule::CloudFrontDeleteWhileEnabled => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html"
            }
            // "If CallerReference is a value that you already sent in a previous request to create
            // a distribution, CloudFront returns a DistributionAlreadyExists error."
            Rule::CloudFrontCallerReference => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html"
            }
            Rule::CloudFrontOriginAccessIdentityApi => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCloudFrontOriginAccessIdentity.html"
            }
            // "If the distribution uses the CloudFront domain name such as
            // d111111abcdef8.cloudfront.net (you set CloudFrontDefaultCertificate to true),
            // CloudFront automatically sets the security policy to TLSv1 regardless of the
            // value that you set here" (MinimumProtocolVersion); its configs then read
            // SSLSupportMethod vip, as in the CreateDistribution example's output
            // (DeveloperGuide/example_cloudfront_CreateDistribution_section.html).
            Rule::CloudFrontDefaultCertificatePolicy => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html"
            }
            // "You cannot delete a response headers policy if it's attached to a cache
            // behavior" (ResponseHeadersPolicyInUse); the emulator has no such API at all.
            Rule::CloudFrontResponseHeadersPolicyApi => headers_policies::SOURCE,
            // "The role defined for the function cannot be assumed by Lambda." (IAM is eventually consistent)
            Rule::IamRolePropagation => {
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency"
            }
            Rule::LambdaPending | Rule::LambdaUpdateInProgress => {
                "https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html"
            }
            // GetPolicy shows AddPermission's FunctionUrlAuthType and InvokedViaFunctionUrl as
            // the conditions they grant under (StringEquals lambda:FunctionUrlAuthType,
            // Bool lambda:InvokedViaFunctionUrl); moto echoes the request's fields instead.
            Rule::LambdaPolicyConditions => {
                "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"
            }
            // HierarchyTypeMismatchException: you can't change a parameter's type.
            Rule::SsmTypeMismatch => {
                "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html"
            }
            // A new OAI takes a while to be a valid principal: MalformedPolicy "Invalid principal in policy".
            Rule::S3FreshIdentityPrincipal => {
                "https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error"
            }
            // DeleteObjects answers 200 with an Error element per key that failed.
            Rule::S3DeleteObjectsErrors => {
                "https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html"
            }
            // Hosted zones are told apart by id and CallerReference, not by name.
            Rule::Route53DuplicateZones => {
                "https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html"
            }
            // Issue 24, items 1-7.
            // "After you send a request to delete a bucket, Amazon S3 queues the bucket name
            // for deletion ... it might take 48-72 hours" (409 OperationAborted "A conflicting
            // conditional operation is currently in progress against this resource.").
            Rule::S3BucketNameHeld => {
                "https://repost.aws/knowledge-center/s3-conflicting-conditional-operation"
            }
            // "After deleting a parameter, wait for at least 30 seconds to create a parameter
            // with the same name." The page names no error; the layer answers PutParameter's
            // documented TooManyUpdates.
            Rule::SsmNameHeld => {
                "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DeleteParameter.html"
            }
            // "there is a delay of several seconds before you can retrieve information about
            // the new certificate": DescribeCertificate answers ResourceNotFoundException.
            Rule::AcmNotFoundAtFirst => {
                "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"
            }
            // "New AWS accounts have reduced concurrency and memory quotas"; Lambda keeps 100
            // of the account's concurrency unreserved (PutFunctionConcurrency).
            Rule::LambdaAccountQuotas => {
                "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
            }
            // "If the path includes non-ASCII characters or unsafe characters as defined in
            // RFC 1738, URL-encode those characters. Do not URL-encode any other characters
            // in the path, or CloudFront will not invalidate the old version of the updated file."
            Rule::CloudFrontInvalidationPaths => {
                "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_InvalidationBatch.html"
            }
            // "lambda:ListTags ... For tagged functions, this permission is also necessary for
            // GetFunction": without it GetFunction's answer holds no Tags.
            Rule::LambdaTagsNeedListTags => {
                "https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html"
            }
            // Value: "Standard parameters have a value limit of 4 KB" (ValidationException
            // "Standard tier parameters support a maximum parameter value of 4096 characters").
            Rule::SsmStandardSize => {
                "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html"
            }
            Rule::S3ChecksumChecked => s3_objects::CHECKSUM_SOURCE,
            Rule::S3MultipartChecksums => s3_objects::MULTIPART_SOURCE,
            Rule::S3KmsEtagNotMd5 => s3_objects::KMS_ETAG_SOURCE,
            other => accounts::source(other),
        }
    }
}

/// How many calls a window lasts (scaled time), and its bound in real time.
const CALLS: u32 = 2;
const BOUND: Duration = Duration::from_secs(60);

/// A window that closes after `CALLS` uses or `BOUND`, whichever comes first;
/// under the latency model (common/latency.rs), after its duration on AWS's clock.
#[derive(Debug, Clone, Copy)]
struct Window {
    left: u32,
    since: Instant,
    /// Set under the latency model: open for this long, however often used.
    lasts: Option<Duration>,
}

impl Window {
    fn new() -> Window {
        Window {
            left: CALLS,
            since: Instant::now(),
            lasts: None,
        }
    }

    fn lasting(d: Duration) -> Window {
        Window {
            lasts: Some(d),
            ..Window::new()
        }
    }

    fn open(&self) -> bool {
        match self.lasts {
            Some(d) => self.since.elapsed() < d,
            None => self.left > 0 && self.since.elapsed() < BOUND,
        }
    }

    /// Uses the window once; `true` while it was open.
    fn take(&mut self) -> bool {
        let open = self.open();
        if open && self.lasts.is_none() {
            self.left -= 1;
        }
        open
    }
}

fn take(map: &mut HashMap<String, Window>, key: &str) -> bool {
    map.get_mut(key).is_some_and(Window::take)
}

/// An origin access identity the layer keeps for the emulator, which has none.
#[derive(Debug, Clone)]
struct Identity {
    caller_reference: String,
    comment: String,
    version: u32,
}

/// What the layer remembers of the account.
#[derive(Default)]
struct World {
    records_late: HashMap<String, Window>,
    issued_seen: HashSet<String>,
    fresh_certificates: HashMap<String, Window>,
    /// Distribution id → the certificate ARN its config names.
    certificate_of: HashMap<String, String>,
    /// Distribution id → the origin access identity its config names.
    identity_of: HashMap<String, String>,
    released_certificates: HashMap<String, Window>,
    etag_versions: HashMap<String, u32>,
    /// Distribution id → the `<Origin>` blocks last sent, by origin id.
    sent_origins: HashMap<String, HashMap<String, String>>,
    in_progress: HashMap<String, Window>,
    /// Distribution id → whether the config last sent enables it.
    enabled: HashMap<String, bool>,
    delete_refused: HashSet<String>,
    caller_references: HashMap<String, String>,
    identities: BTreeMap<String, Identity>,
    identity_references: HashMap<String, String>,
    fresh_identities: HashMap<String, Window>,
    fresh_roles: HashMap<String, Window>,
    pending: HashMap<String, Window>,
    updating: HashMap<String, Window>,
    parameter_types: HashMap<String, String>,
    /// Parameters another writer gives the other type just before colorid's next write.
    retyped_behind: HashSet<String>,
    delete_failed: HashSet<String>,
    /// Keys DeleteObjects always refuses (AccessDenied), as for an object under legal hold.
    delete_denied: HashSet<String>,
    /// Latency model: record name → when a change batch wrote it.
    records_written: HashMap<String, Instant>,
    /// Latency model: Route53 change id → when it was made.
    changes: HashMap<String, Instant>,
    /// The response headers policies the layer keeps for the emulator, which has none.
    headers_policies: headers_policies::HeadersPolicies,
    /// Issue 24 (accounts-b): names, quotas and owners of the account.
    accounts: accounts::Accounts,
    // Issue 24, items 1-7.
    held_buckets: HashMap<String, Window>,
    held_parameters: HashMap<String, Window>,
    unknown_certificates: HashMap<String, Window>,
    /// A new account's Lambda quotas ([`Realism::new_account`]); AWS's defaults otherwise.
    small_account: bool,
    /// Function → its reserved concurrency.
    reserved: HashMap<String, i64>,
    /// Invalidation paths sent encoded where a browser sends the character as it is.
    over_encoded: Vec<String>,
    /// Issue 28: damaged bodies and SSE-KMS objects.
    objects: s3_objects::Objects,
}

/// The rules, what they remember, and how often each fired.
pub struct Realism {
    off: Mutex<HashSet<Rule>>,
    world: Mutex<World>,
    hits: Mutex<BTreeMap<Rule, u32>>,
    /// The test that started this layer (libtest's name for its thread); a shared
    /// proxy serves later tests too.
    test: String,
    /// AWS's clock: windows last their modelled durations, and certificates
    /// issue only that long after their validation record was written.
    model: Option<Arc<Model>>,
}

impl Default for Realism {
    fn default() -> Self {
        Realism {
            // Off unless a test turns it on: the rest of the suite covers the path
            // `colorid --local` users have, an emulator without the API.
            off: Mutex::new(HashSet::from([Rule::CloudFrontResponseHeadersPolicyApi])),
            world: Mutex::new(World::default()),
            hits: Mutex::new(BTreeMap::new()),
            test: std::thread::current()
                .name()
                .filter(|n| *n != "main")
                .unwrap_or("?")
                .to_string(),
            model: None,
        }
    }
}

/// What the layer does with a request before the emulator sees it.
pub enum Before {
    /// Send it on (possibly with a rewritten body).
    Forward,
    /// Send it on, and merge this into the answer (a per-key error of DeleteObjects).
    ForwardMerging(String),
    /// Answer it here.
    Answer(Response),
}

/// The request as the layer sees it.
pub struct Seen<'a> {
    pub call: &'a Call,
    pub method: &'a Method,
    /// Path without the query.
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
}

impl Seen<'_> {
    /// The request's If-Match (the ETag it names), empty when it has none.
    fn if_match(&self) -> &str {
        self.headers
            .get("if-match")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Realism {
    /// Every rule on, on AWS's clock.
    pub fn modelled(model: Arc<Model>) -> Realism {
        Realism {
            model: Some(model),
            ..Realism::default()
        }
    }

    /// A window for `wait`: its modelled duration, or the call-counted default.
    fn window(&self, wait: Wait) -> Window {
        match &self.model {
            Some(m) => Window::lasting(m.wait(wait)),
            None => Window::new(),
        }
    }

    pub fn set(&self, rule: Rule, on: bool) {
        let mut off = self.off.lock().unwrap();
        if on {
            off.remove(&rule);
        } else {
            off.insert(rule);
        }
    }

    fn on(&self, rule: Rule) -> bool {
        !self.off.lock().unwrap().contains(&rule)
    }

    /// How often `rule` changed an answer.
    pub fn hits(&self, rule: Rule) -> u32 {
        self.hits.lock().unwrap().get(&rule).copied().unwrap_or(0)
    }

    /// Forgets the world (the emulator was reset) and the counts.
    pub fn reset(&self) {
        *self.world.lock().unwrap() = World::default();
        self.hits.lock().unwrap().clear();
    }

    /// Makes DeleteObjects refuse `key` (AccessDenied) until `allow_delete`.
    pub fn deny_delete(&self, key: &str) {
        self.world
            .lock()
            .unwrap()
            .delete_denied
            .insert(key.to_string());
    }

    pub fn allow_delete(&self, key: &str) {
        self.world.lock().unwrap().delete_denied.remove(key);
    }

    /// Makes the account a new one: Lambda concurrency 10, memory at most 3,008 MB.
    pub fn new_account(&self) {
        self.world.lock().unwrap().small_account = true;
    }

    /// Another writer gives parameter `name` the other type between colorid's read
    /// and its next write of it (the race that `secrets::ensure`'s fallback handles).
    pub fn retype_behind(&self, name: &str) {
        self.world
            .lock()
            .unwrap()
            .retyped_behind
            .insert(name.to_string());
    }

    /// Invalidation paths CloudFront would not match against what browsers send.
    pub fn over_encoded(&self) -> Vec<String> {
        self.world.lock().unwrap().over_encoded.clone()
    }

    fn hit(&self, rule: Rule) {
        *self.hits.lock().unwrap().entry(rule).or_default() += 1;
        // scripts/realism totals the hits per rule from this file ("rule<TAB>test" lines,
        // the test that started this proxy; every test process appends to it).
        if let Some(path) = std::env::var_os("COLORID_REALISM_HITS")
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
        {
            let line = format!("{}\t{}\n", rule.name(), self.test);
            let _ = std::io::Write::write_all(&mut f, line.as_bytes());
        }
    }

    /// Answers or lets through a request; may rewrite its body.
    pub fn before(&self, seen: &Seen<'_>, body: &mut Bytes) -> Before {
        let op = seen.call.operation.as_deref().unwrap_or("");
        if let Some(answer) = self.accounts_before(seen, body) {
            return answer;
        }
        match seen.call.service.as_str() {
            "acm" if op == "DeleteCertificate" => self.acm_delete(body),
            "acm" if op == "DescribeCertificate" => self.acm_not_yet(body),
            "cloudfront" => self.cloudfront_before(seen, body),
            "lambda" => match self.lambda_quotas(seen, body) {
                Before::Forward => self.lambda_before(seen, body),
                other => other,
            },
            "ssm" if op == "PutParameter" => match self.ssm_put_held(body) {
                Before::Forward => self.ssm_put(body),
                other => other,
            },
            "s3" => match self.s3_name_held(seen) {
                Before::Forward => match self.s3_multipart_checksums(seen, body) {
                    Before::Forward => match self.s3_checksum(seen, body) {
                        Before::Forward => self.s3_before(seen, body),
                        other => other,
                    },
                    other => other,
                },
                other => other,
            },
            _ => Before::Forward,
        }
    }

    /// Rewrites the emulator's answer.
    pub fn after(
        &self,
        seen: &Seen<'_>,
        merge: Option<&str>,
        request: &Bytes,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: &mut Bytes,
    ) {
        self.accounts_after(seen, request, status, body);
        let op = seen.call.operation.as_deref().unwrap_or("");
        match seen.call.service.as_str() {
            "acm" if status.is_success() => match op {
                "RequestCertificate" => {
                    self.acm_requested(body);
                    self.acm_unknown_for_a_while(body);
                }
                "DescribeCertificate" => self.acm_described(body),
                _ => {}
            },
            "cloudfront" => self.cloudfront_after(seen, request, status, headers, body),
            "iam" if op == "CreateRole" && status.is_success() => {
                if let Some(arn) = xml_value(&String::from_utf8_lossy(body), "Arn") {
                    let mut w = self.world.lock().unwrap();
                    w.fresh_roles
                        .insert(arn.to_string(), self.window(Wait::IamRole));
                }
            }
            "lambda" if status.is_success() => {
                self.lambda_tags(seen, request, body);
                self.lambda_after(seen, request, body);
            }
            "ssm" if status.is_success() => {
                self.ssm_held_after(op, request);
                self.ssm_after(op, request, body);
            }
            "s3" => {
                self.s3_held_after(seen, status);
                self.s3_after(merge, status, body);
                self.s3_kms_etags(seen, status, headers, body);
                self.s3_upload_created(seen, status, body);
            }
            "route53" if status.is_success() => self.route53_after(seen, request, body),
            _ => {}
        }
    }

    // --- ACM -------------------------------------------------------------

    fn acm_requested(&self, body: &Bytes) {
        if let Some(arn) = json(body)["CertificateArn"].as_str() {
            let mut w = self.world.lock().unwrap();
            w.records_late
                .insert(arn.to_string(), self.window(Wait::AcmRecords));
        }
    }

    fn acm_described(&self, body: &mut Bytes) {
        let mut doc = json(body);
        let Some(cert) = doc.get_mut("Certificate") else {
            return;
        };
        let arn = cert["CertificateArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut changed = self.hold_issuance(&arn, cert);
        let issued = cert["Status"] == "ISSUED";
        {
            let mut w = self.world.lock().unwrap();
            if issued
                && w.issued_seen.insert(arn.clone())
                && self.on(Rule::CloudFrontFreshCertificate)
            {
                w.fresh_certificates
                    .insert(arn.clone(), self.window(Wait::CloudFrontFreshCertificate));
            }
            if !issued && self.on(Rule::AcmRecordsLate) && take(&mut w.records_late, &arn) {
                if let Some(options) = cert["DomainValidationOptions"].as_array_mut() {
                    for o in options {
                        if let Some(o) = o.as_object_mut() {
                            o.remove("ResourceRecord");
                        }
                    }
                }
                self.hit(Rule::AcmRecordsLate);
                changed = true;
            }
        }
        if self.on(Rule::AcmWildcardSharesRecord)
            && let Some(options) = cert["DomainValidationOptions"].as_array_mut()
        {
            let records: HashMap<String, serde_json::Value> = options
                .iter()
                .filter_map(|o| {
                    Some((
                        o["DomainName"].as_str()?.to_string(),
                        o.get("ResourceRecord")?.clone(),
                    ))
                })
                .collect();
            let mut shared = false;
            for o in options.iter_mut() {
                let name = o["DomainName"].as_str().unwrap_or_default().to_string();
                if let Some(apex) = name.strip_prefix("*.")
                    && let Some(record) = records.get(apex)
                    && o.get("ResourceRecord").is_some()
                {
                    o["ResourceRecord"] = record.clone();
                    shared = true;
                }
            }
            if shared {
                self.hit(Rule::AcmWildcardSharesRecord);
                changed = true;
            }
        }
        if changed {
            *body = Bytes::from(doc.to_string());
        }
    }

    /// Under the latency model, a certificate this proxy saw requested stays
    /// PENDING_VALIDATION until its validation records were written `acm_issue` ago
    /// (the emulator issues it at once). `true` when it rewrote the answer.
    fn hold_issuance(&self, arn: &str, cert: &mut serde_json::Value) -> bool {
        let Some(model) = &self.model else {
            return false;
        };
        let w = self.world.lock().unwrap();
        if cert["Status"] != "ISSUED"
            || w.issued_seen.contains(arn)
            || !w.records_late.contains_key(arn)
        {
            return false;
        }
        let wait = model.wait(Wait::AcmIssue);
        let names: Vec<String> = cert["DomainValidationOptions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["ResourceRecord"]["Name"].as_str())
            .map(record_name)
            .collect();
        let validated = !names.is_empty()
            && names.iter().all(|n| {
                w.records_written
                    .get(n)
                    .is_some_and(|at| at.elapsed() >= wait)
            });
        if validated {
            return false;
        }
        cert["Status"] = "PENDING_VALIDATION".into();
        for o in cert["DomainValidationOptions"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            o["ValidationStatus"] = "PENDING_VALIDATION".into();
        }
        true
    }

    // --- Route53 (latency model only) -------------------------------------

    /// Notes when records were written and changes made; a change reads PENDING
    /// for `route53_insync`.
    fn route53_after(&self, seen: &Seen<'_>, request: &Bytes, body: &mut Bytes) {
        let text = String::from_utf8_lossy(body).to_string();
        // moto, as AWS, keeps zones of one name apart: the rule rewrites nothing, and
        // counts the answers that list two public zones of one name.
        if seen.method == Method::GET && seen.path.ends_with("/hostedzonesbyname") {
            let mut public = HashMap::<&str, u32>::new();
            for zone in blocks(&text, "HostedZone") {
                if !zone.contains("<PrivateZone>true</PrivateZone>")
                    && let Some(name) = xml_value(zone, "Name")
                {
                    *public.entry(name).or_default() += 1;
                }
            }
            if public.values().any(|n| *n > 1) {
                self.hit(Rule::Route53DuplicateZones);
            }
        }
        let Some(model) = &self.model else { return };
        let mut w = self.world.lock().unwrap();
        if seen.method == Method::POST && seen.path.ends_with("/rrset") {
            let sent = String::from_utf8_lossy(request).to_string();
            for set in blocks(&sent, "ResourceRecordSet") {
                if let Some(name) = xml_value(set, "Name") {
                    w.records_written.insert(record_name(name), Instant::now());
                }
            }
        }
        let change = blocks(&text, "ChangeInfo")
            .first()
            .and_then(|c| xml_value(c, "Id"));
        if let Some(id) = change {
            let id = id.rsplit('/').next().unwrap_or(id).to_string();
            let at = *w.changes.entry(id).or_insert_with(Instant::now);
            if at.elapsed() < model.wait(Wait::Route53Insync) {
                *body = Bytes::from(
                    text.replace("<Status>INSYNC</Status>", "<Status>PENDING</Status>"),
                );
            }
        }
    }

    fn acm_delete(&self, body: &Bytes) -> Before {
        if !self.on(Rule::AcmDeleteInUse) {
            return Before::Forward;
        }
        let arn = json(body)["CertificateArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut w = self.world.lock().unwrap();
        let attached = w.certificate_of.values().any(|a| a == &arn);
        if attached || take(&mut w.released_certificates, &arn) {
            drop(w);
            self.hit(Rule::AcmDeleteInUse);
            return Before::Answer(json_error(
                400,
                "ResourceInUseException",
                &format!("Certificate {arn} in account 123456789012 is in use."),
            ));
        }
        Before::Forward
    }

    // --- CloudFront ------------------------------------------------------

    fn cloudfront_before(&self, seen: &Seen<'_>, body: &mut Bytes) -> Before {
        let route = CloudFront::route(seen.method, seen.path);
        if let CloudFront::Invalidate(_) = route {
            return self.invalidation_paths(body);
        }
        if let CloudFront::Identity(op) = &route {
            if self.on(Rule::CloudFrontOriginAccessIdentityApi) {
                return Before::Answer(self.identity_api(op, seen, body));
            }
            return Before::Forward;
        }
        if let Some(op) = headers_policies::Op::route(seen.method, seen.path) {
            if self.on(Rule::CloudFrontResponseHeadersPolicyApi) {
                return Before::Answer(self.headers_policy_api(&op, seen, body));
            }
            return Before::Forward;
        }
        let text = String::from_utf8_lossy(body).to_string();
        if matches!(route, CloudFront::Create | CloudFront::UpdateConfig(_))
            && let Some(answer) = self.unknown_headers_policy(&text)
        {
            return Before::Answer(answer);
        }
        let if_match = seen.if_match().to_string();
        let mut w = self.world.lock().unwrap();
        match &route {
            CloudFront::Create => {
                if self.on(Rule::CloudFrontCallerReference)
                    && let Some(reference) = xml_value(&text, "CallerReference")
                    && let Some(existing) = w.caller_references.get(reference)
                {
                    let message = format!(
                        "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {existing}"
                    );
                    drop(w);
                    self.hit(Rule::CloudFrontCallerReference);
                    return Before::Answer(cloudfront_error(
                        409,
                        "DistributionAlreadyExists",
                        &message,
                    ));
                }
                if let Some(answer) = self.fresh_certificate(&mut w, &text) {
                    return Before::Answer(answer);
                }
            }
            CloudFront::UpdateConfig(id) => {
                if let Some(answer) = self.check_etag(&w, id, &if_match) {
                    return Before::Answer(answer);
                }
                if let Some(answer) = self.fresh_certificate(&mut w, &text) {
                    return Before::Answer(answer);
                }
            }
            CloudFront::Delete(id) => {
                if let Some(answer) = self.check_etag(&w, id, &if_match) {
                    return Before::Answer(answer);
                }
                // Peeked, not taken: only reading the status moves a deployment on.
                let enabled = w.enabled.get(id).copied().unwrap_or(false);
                let deploying = w.in_progress.get(id).is_some_and(Window::open);
                if self.on(Rule::CloudFrontDeleteWhileEnabled) && (enabled || deploying) {
                    drop(w);
                    self.hit(Rule::CloudFrontDeleteWhileEnabled);
                    return Before::Answer(cloudfront_error(
                        409,
                        "DistributionNotDisabled",
                        "The distribution you are trying to delete has not been disabled.",
                    ));
                }
                if self.on(Rule::CloudFrontNotDisabledOnce) && w.delete_refused.insert(id.clone()) {
                    drop(w);
                    self.hit(Rule::CloudFrontNotDisabledOnce);
                    return Before::Answer(cloudfront_error(
                        409,
                        "DistributionNotDisabled",
                        "The distribution you are trying to delete has not been disabled.",
                    ));
                }
            }
            _ => {}
        }
        Before::Forward
    }

    fn fresh_certificate(&self, w: &mut World, config: &str) -> Option<Response> {
        let arn = xml_value(config, "ACMCertificateArn")?;
        if !take(&mut w.fresh_certificates, arn) {
            return None;
        }
        self.hit(Rule::CloudFrontFreshCertificate);
        Some(cloudfront_error(
            400,
            "InvalidViewerCertificate",
            "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.",
        ))
    }

    fn etag(w: &World, id: &str) -> String {
        let version = w.etag_versions.get(id).copied().unwrap_or(0);
        let mut h = DefaultHasher::new();
        (id, version).hash(&mut h);
        format!("E{:013X}", h.finish() >> 12)
    }

    fn check_etag(&self, w: &World, id: &str, if_match: &str) -> Option<Response> {
        if !self.on(Rule::CloudFrontEtagChanges) || if_match == Self::etag(w, id) {
            return None;
        }
        self.hit(Rule::CloudFrontEtagChanges);
        Some(cloudfront_error(
            412,
            "PreconditionFailed",
            "The If-Match version is missing or not valid for the resource.",
        ))
    }

    fn cloudfront_after(
        &self,
        seen: &Seen<'_>,
        request: &Bytes,
        status: StatusCode,
        headers: &mut HeaderMap,
        body: &mut Bytes,
    ) {
        if !status.is_success() {
            return;
        }
        self.default_certificate_policy(body);
        let route = CloudFront::route(seen.method, seen.path);
        let text = String::from_utf8_lossy(body).to_string();
        let sent = String::from_utf8_lossy(request).to_string();
        let mut w = self.world.lock().unwrap();
        let id = match &route {
            CloudFront::Create => xml_value(&text, "Id").map(str::to_string),
            CloudFront::Get(id) | CloudFront::GetConfig(id) | CloudFront::UpdateConfig(id) => {
                Some(id.clone())
            }
            CloudFront::Delete(id) => {
                w.etag_versions.remove(id);
                w.enabled.remove(id);
                if let Some(arn) = w.certificate_of.remove(id) {
                    w.released_certificates.insert(arn, Window::new());
                }
                w.identity_of.remove(id);
                w.headers_policies.distribution_uses(id, None);
                None
            }
            _ => None,
        };
        let Some(id) = id else { return };
        let changed = matches!(route, CloudFront::Create | CloudFront::UpdateConfig(_));
        if changed {
            if let CloudFront::Create = route
                && let Some(reference) = xml_value(&sent, "CallerReference")
            {
                w.caller_references
                    .insert(reference.to_string(), id.clone());
            }
            let certificate = xml_value(&sent, "ACMCertificateArn").map(str::to_string);
            let old = match certificate {
                Some(arn) => w
                    .certificate_of
                    .insert(id.clone(), arn.clone())
                    .filter(|o| *o != arn),
                None => w.certificate_of.remove(&id),
            };
            if let Some(old) = old {
                w.released_certificates.insert(old, Window::new());
            }
            w.headers_policies.distribution_uses(&id, Some(&sent));
            match identity_in(&sent) {
                Some(oai) => w.identity_of.insert(id.clone(), oai),
                None => w.identity_of.remove(&id),
            };
            let origins = blocks(&sent, "Origin")
                .into_iter()
                .filter_map(|o| Some((xml_value(o, "Id")?.to_string(), o.to_string())))
                .collect();
            w.sent_origins.insert(id.clone(), origins);
            w.enabled.insert(id.clone(), top_level_enabled(&sent));
            if matches!(route, CloudFront::UpdateConfig(_)) && self.on(Rule::CloudFrontEtagChanges)
            {
                *w.etag_versions.entry(id.clone()).or_default() += 1;
            }
            if self.on(Rule::CloudFrontInProgress) {
                w.in_progress
                    .insert(id.clone(), self.window(Wait::CloudFrontDeploy));
            }
        }
        if self.on(Rule::CloudFrontEtagChanges) && headers.contains_key("etag") {
            let etag = Self::etag(&w, &id);
            headers.insert("etag", HeaderValue::from_str(&etag).unwrap());
            // A hit when the answer carries an ETag the emulator (whose ETag never
            // changes) would not have given: one after a change.
            if w.etag_versions.get(&id).copied().unwrap_or(0) > 0 {
                self.hit(Rule::CloudFrontEtagChanges);
            }
        }
        // AWS echoes each origin as it was sent; the emulator drops S3OriginConfig (the
        // origin access identity) and OriginAccessControlId.
        let mut text = text;
        if self.on(Rule::CloudFrontOriginAccessIdentityApi)
            && let Some(sent) = w.sent_origins.get(&id)
        {
            let mut echoed = text.clone();
            for got in blocks(&text, "Origin") {
                let Some(mine) = xml_value(got, "Id").and_then(|i| sent.get(i)) else {
                    continue;
                };
                let mut missing = String::new();
                for tag in ["S3OriginConfig", "OriginAccessControlId"] {
                    if !got.contains(&format!("<{tag}>"))
                        && let Some(v) = xml_value(mine, tag)
                    {
                        missing.push_str(&format!("<{tag}>{v}</{tag}>"));
                    }
                }
                if !missing.is_empty() {
                    echoed = echoed.replacen(
                        &format!("<Origin>{got}</Origin>"),
                        &format!("<Origin>{got}{missing}</Origin>"),
                        1,
                    );
                }
            }
            if echoed != text {
                *body = Bytes::from(echoed.clone());
                text = echoed;
            }
        }
        let reads_status = matches!(route, CloudFront::Get(_)) || changed;
        if reads_status
            && text.contains("<Status>Deployed</Status>")
            && take(&mut w.in_progress, &id)
        {
            self.hit(Rule::CloudFrontInProgress);
            *body = Bytes::from(
                text.replace("<Status>Deployed</Status>", "<Status>InProgress</Status>"),
            );
        }
    }

    /// A distribution on CloudFront's default certificate reads back with AWS's own
    /// security policy (TLSv1) and support method (vip), whatever was sent.
    fn default_certificate_policy(&self, body: &mut Bytes) {
        if !self.on(Rule::CloudFrontDefaultCertificatePolicy) {
            return;
        }
        let text = String::from_utf8_lossy(body).to_string();
        let mut echoed = text.clone();
        for cert in blocks(&text, "ViewerCertificate") {
            if xml_value(cert, "CloudFrontDefaultCertificate") != Some("true") {
                continue;
            }
            let mut aws = cert.to_string();
            for (tag, value) in [
                ("MinimumProtocolVersion", "TLSv1"),
                ("SSLSupportMethod", "vip"),
            ] {
                let wanted = format!("<{tag}>{value}</{tag}>");
                aws = match xml_value(&aws, tag) {
                    Some(v) => aws.replacen(&format!("<{tag}>{v}</{tag}>"), &wanted, 1),
                    None => format!("{aws}{wanted}"),
                };
            }
            if aws != cert {
                echoed = echoed.replacen(
                    &format!("<ViewerCertificate>{cert}</ViewerCertificate>"),
                    &format!("<ViewerCertificate>{aws}</ViewerCertificate>"),
                    1,
                );
            }
        }
        if echoed != text {
            self.hit(Rule::CloudFrontDefaultCertificatePolicy);
            *body = Bytes::from(echoed);
        }
    }

    /// The origin access identity API, which the emulator lacks, kept here.
    fn identity_api(&self, op: &IdentityOp, seen: &Seen<'_>, body: &Bytes) -> Response {
        self.hit(Rule::CloudFrontOriginAccessIdentityApi);
        let mut w = self.world.lock().unwrap();
        let if_match = seen.if_match();
        let missing = || {
            cloudfront_error(
                404,
                "NoSuchCloudFrontOriginAccessIdentity",
                "The specified origin access identity does not exist.",
            )
        };
        match op {
            IdentityOp::List => {
                let items: String = w
                    .identities
                    .iter()
                    .map(|(id, i)| {
                        format!(
                            "<CloudFrontOriginAccessIdentitySummary><Id>{id}</Id><S3CanonicalUserId>{}</S3CanonicalUserId><Comment>{}</Comment></CloudFrontOriginAccessIdentitySummary>",
                            canonical_user(id),
                            i.comment
                        )
                    })
                    .collect();
                xml_response(
                    200,
                    None,
                    &format!(
                        "<CloudFrontOriginAccessIdentityList xmlns=\"{CF_NS}\"><Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>{}</Quantity><Items>{items}</Items></CloudFrontOriginAccessIdentityList>",
                        w.identities.len()
                    ),
                )
            }
            IdentityOp::Create => {
                let text = String::from_utf8_lossy(body);
                let reference = xml_value(&text, "CallerReference")
                    .unwrap_or_default()
                    .to_string();
                let comment = xml_value(&text, "Comment").unwrap_or_default().to_string();
                if let Some(existing) = w.identity_references.get(&reference).cloned() {
                    // Same reference, same config: the same answer; another config: AlreadyExists.
                    match w.identities.get(&existing) {
                        Some(i) if i.comment == comment => {
                            let answer = identity_xml(&existing, i);
                            let etag = identity_etag(&existing, i.version);
                            return xml_response(201, Some(&etag), &answer);
                        }
                        _ => {
                            return cloudfront_error(
                                409,
                                "CloudFrontOriginAccessIdentityAlreadyExists",
                                "If the CallerReference is a value you already sent in a previous request to create an identity but the content of the CloudFrontOriginAccessIdentityConfig is different from the original request, CloudFront returns a CloudFrontOriginAccessIdentityAlreadyExists error.",
                            );
                        }
                    }
                }
                let mut h = DefaultHasher::new();
                (&reference, w.identities.len(), Instant::now()).hash(&mut h);
                let id = format!("E{:013X}", h.finish() >> 12);
                let identity = Identity {
                    caller_reference: reference.clone(),
                    comment,
                    version: 0,
                };
                let answer = identity_xml(&id, &identity);
                w.identity_references.insert(reference, id.clone());
                w.identities.insert(id.clone(), identity);
                w.fresh_identities.insert(id.clone(), Window::new());
                xml_response(201, Some(&identity_etag(&id, 0)), &answer)
            }
            IdentityOp::Get(id) | IdentityOp::GetConfig(id) => match w.identities.get(id) {
                Some(i) => {
                    let xml = if matches!(op, IdentityOp::Get(_)) {
                        identity_xml(id, i)
                    } else {
                        identity_config_xml(i)
                    };
                    xml_response(200, Some(&identity_etag(id, i.version)), &xml)
                }
                None => missing(),
            },
            IdentityOp::Delete(id) => {
                let Some(i) = w.identities.get(id) else {
                    return missing();
                };
                if if_match != identity_etag(id, i.version) {
                    return cloudfront_error(
                        412,
                        "PreconditionFailed",
                        "The If-Match version is missing or not valid for the resource.",
                    );
                }
                if w.identity_of.values().any(|o| o == id) {
                    return cloudfront_error(
                        409,
                        "CloudFrontOriginAccessIdentityInUse",
                        "The Origin Access Identity specified is already in use.",
                    );
                }
                w.identities.remove(id);
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NO_CONTENT;
                r
            }
        }
    }

    // --- Lambda ----------------------------------------------------------

    fn lambda_before(&self, seen: &Seen<'_>, body: &Bytes) -> Before {
        let route = Lambda::route(seen.method, seen.path);
        let mut w = self.world.lock().unwrap();
        match &route {
            Lambda::Create => {
                let role = json(body)["Role"].as_str().unwrap_or_default().to_string();
                if self.on(Rule::IamRolePropagation) && take(&mut w.fresh_roles, &role) {
                    drop(w);
                    self.hit(Rule::IamRolePropagation);
                    return Before::Answer(lambda_error(
                        400,
                        "InvalidParameterValueException",
                        "The role defined for the function cannot be assumed by Lambda.",
                    ));
                }
            }
            Lambda::UpdateCode(name)
            | Lambda::UpdateConfig(name)
            | Lambda::CreateUrl(name)
            | Lambda::AddPermission(name) => {
                if self.on(Rule::LambdaPending) && w.pending.get(name).is_some_and(Window::open) {
                    drop(w);
                    self.hit(Rule::LambdaPending);
                    return Before::Answer(lambda_error(
                        409,
                        "ResourceConflictException",
                        "The operation cannot be performed at this time. The function is currently in the following state: Pending",
                    ));
                }
                let update = matches!(route, Lambda::UpdateCode(_) | Lambda::UpdateConfig(_));
                if update
                    && self.on(Rule::LambdaUpdateInProgress)
                    && w.updating.get(name).is_some_and(Window::open)
                {
                    drop(w);
                    self.hit(Rule::LambdaUpdateInProgress);
                    return Before::Answer(lambda_error(
                        409,
                        "ResourceConflictException",
                        &format!(
                            "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:{name}"
                        ),
                    ));
                }
            }
            _ => {}
        }
        Before::Forward
    }

    fn lambda_after(&self, seen: &Seen<'_>, request: &Bytes, body: &mut Bytes) {
        let route = Lambda::route(seen.method, seen.path);
        if matches!(route, Lambda::GetPolicy) && self.on(Rule::LambdaPolicyConditions) {
            if policy_conditions(body) {
                self.hit(Rule::LambdaPolicyConditions);
            }
            return;
        }
        let mut w = self.world.lock().unwrap();
        let (name, config_at): (String, Option<&str>) = match &route {
            Lambda::Create => {
                let name = json(request)["FunctionName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if self.on(Rule::LambdaPending) {
                    w.pending
                        .insert(name.clone(), self.window(Wait::LambdaPending));
                }
                (name, Some(""))
            }
            Lambda::UpdateCode(name) | Lambda::UpdateConfig(name) => {
                if self.on(Rule::LambdaUpdateInProgress) {
                    w.updating
                        .insert(name.clone(), self.window(Wait::LambdaUpdate));
                }
                (name.clone(), Some(""))
            }
            Lambda::Get(name) => (name.clone(), Some("Configuration")),
            Lambda::GetConfig(name) => (name.clone(), Some("")),
            _ => return,
        };
        let Some(at) = config_at else { return };
        let mut doc = json(body);
        let config = if at.is_empty() {
            &mut doc
        } else {
            match doc.get_mut(at) {
                Some(c) => c,
                None => return,
            }
        };
        let reading = matches!(route, Lambda::Get(_) | Lambda::GetConfig(_));
        let mut changed = false;
        let pending = if reading {
            take(&mut w.pending, &name)
        } else {
            w.pending.get(&name).is_some_and(Window::open)
        };
        if pending {
            config["State"] = "Pending".into();
            config["StateReason"] = "The function is being created.".into();
            config["StateReasonCode"] = "Creating".into();
            if reading {
                self.hit(Rule::LambdaPending);
            }
            changed = true;
        }
        let updating = if reading {
            take(&mut w.updating, &name)
        } else {
            w.updating.get(&name).is_some_and(Window::open)
        };
        if updating {
            config["LastUpdateStatus"] = "InProgress".into();
            config["LastUpdateStatusReason"] = "The function is being updated.".into();
            config["LastUpdateStatusReasonCode"] = "Updating".into();
            if reading {
                self.hit(Rule::LambdaUpdateInProgress);
            }
            changed = true;
        }
        if changed {
            *body = Bytes::from(doc.to_string());
        }
    }

    // --- SSM -------------------------------------------------------------

    fn ssm_put(&self, body: &Bytes) -> Before {
        if !self.on(Rule::SsmTypeMismatch) {
            return Before::Forward;
        }
        let req = json(body);
        let name = req["Name"].as_str().unwrap_or_default();
        let Some(kind) = req["Type"].as_str() else {
            return Before::Forward;
        };
        let mut w = self.world.lock().unwrap();
        if w.retyped_behind.remove(name) {
            let other = if kind == "SecureString" {
                "String"
            } else {
                "SecureString"
            };
            w.parameter_types
                .insert(name.to_string(), other.to_string());
        }
        if req["Overwrite"] == true
            && let Some(have) = w.parameter_types.get(name)
            && have != kind
        {
            drop(w);
            self.hit(Rule::SsmTypeMismatch);
            return Before::Answer(json_error(
                400,
                "HierarchyTypeMismatchException",
                "Parameter Store does not support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.",
            ));
        }
        Before::Forward
    }

    fn ssm_after(&self, op: &str, request: &Bytes, body: &Bytes) {
        let mut w = self.world.lock().unwrap();
        let req = json(request);
        match op {
            "PutParameter" => {
                if let (Some(name), Some(kind)) = (req["Name"].as_str(), req["Type"].as_str()) {
                    w.parameter_types.insert(name.to_string(), kind.to_string());
                }
            }
            "DeleteParameter" => {
                if let Some(name) = req["Name"].as_str() {
                    w.parameter_types.remove(name);
                }
            }
            "DeleteParameters" => {
                for name in req["Names"].as_array().into_iter().flatten() {
                    if let Some(name) = name.as_str() {
                        w.parameter_types.remove(name);
                    }
                }
            }
            "GetParameter" | "GetParameters" | "GetParametersByPath" => {
                let doc = json(body);
                let one = doc.get("Parameter").into_iter();
                let many = doc["Parameters"].as_array().into_iter().flatten();
                for p in one.chain(many) {
                    if let (Some(name), Some(kind)) = (p["Name"].as_str(), p["Type"].as_str()) {
                        w.parameter_types.insert(name.to_string(), kind.to_string());
                    }
                }
            }
            _ => {}
        }
    }

    // --- S3 --------------------------------------------------------------

    fn s3_before(&self, seen: &Seen<'_>, body: &mut Bytes) -> Before {
        let has = |q: &str| {
            seen.query
                .split('&')
                .any(|kv| kv == q || kv.starts_with(&format!("{q}=")))
        };
        if seen.method == Method::PUT && has("policy") && self.on(Rule::S3FreshIdentityPrincipal) {
            let text = String::from_utf8_lossy(body).to_string();
            let mut w = self.world.lock().unwrap();
            let fresh: Vec<String> = w.fresh_identities.keys().cloned().collect();
            for id in fresh {
                if text.contains(&format!("Origin Access Identity {id}"))
                    && take(&mut w.fresh_identities, &id)
                {
                    drop(w);
                    self.hit(Rule::S3FreshIdentityPrincipal);
                    return Before::Answer(s3_error(
                        400,
                        "MalformedPolicy",
                        "Invalid principal in policy",
                    ));
                }
            }
        }
        if seen.method == Method::POST && has("delete") && self.on(Rule::S3DeleteObjectsErrors) {
            return self.delete_objects(seen.path, body);
        }
        Before::Forward
    }

    /// Fails the first key of each batch the first time that key is seen:
    /// DeleteObjects still answers 200, with an `Error` for it.
    fn delete_objects(&self, path: &str, body: &mut Bytes) -> Before {
        let text = String::from_utf8_lossy(body).to_string();
        let denied = self.world.lock().unwrap().delete_denied.clone();
        if let Some(locked) = blocks(&text, "Object")
            .into_iter()
            .find(|o| xml_value(o, "Key").is_some_and(|k| denied.contains(k)))
        {
            let error = format!(
                "<Error><Key>{}</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                xml_value(locked, "Key").unwrap_or_default()
            );
            let rest = text.replacen(&format!("<Object>{locked}</Object>"), "", 1);
            if blocks(&rest, "Object").is_empty() {
                return Before::Answer(xml_response(
                    200,
                    None,
                    &format!("<DeleteResult xmlns=\"{S3_NS}\">{error}</DeleteResult>"),
                ));
            }
            *body = Bytes::from(rest);
            return Before::ForwardMerging(error);
        }
        let objects: Vec<&str> = blocks(&text, "Object");
        let Some(first) = objects.first() else {
            return Before::Forward;
        };
        let key = format!("{path}/{first}");
        if !self.world.lock().unwrap().delete_failed.insert(key) {
            return Before::Forward;
        }
        self.hit(Rule::S3DeleteObjectsErrors);
        let error = format!(
            "<Error><Key>{}</Key>{}<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
            xml_value(first, "Key").unwrap_or_default(),
            xml_value(first, "VersionId")
                .map(|v| format!("<VersionId>{v}</VersionId>"))
                .unwrap_or_default()
        );
        if objects.len() == 1 {
            return Before::Answer(xml_response(
                200,
                None,
                &format!("<DeleteResult xmlns=\"{S3_NS}\">{error}</DeleteResult>"),
            ));
        }
        let rest = text.replacen(&format!("<Object>{first}</Object>"), "", 1);
        *body = Bytes::from(rest);
        Before::ForwardMerging(error)
    }

    fn s3_after(&self, merge: Option<&str>, status: StatusCode, body: &mut Bytes) {
        let Some(error) = merge.filter(|_| status.is_success()) else {
            return;
        };
        let text = String::from_utf8_lossy(body).to_string();
        let merged = match text.rfind("</DeleteResult>") {
            Some(at) => format!("{}{error}{}", &text[..at], &text[at..]),
            None => format!("<DeleteResult xmlns=\"{S3_NS}\">{error}</DeleteResult>"),
        };
        *body = Bytes::from(merged);
    }
}

// --- Issue 24, items 1-7: an account as users have it -----------------------

impl Realism {
    /// CreateBucket of a name deleted moments ago: 409 OperationAborted while S3
    /// still holds it.
    fn s3_name_held(&self, seen: &Seen<'_>) -> Before {
        let Some(bucket) = bucket_of(seen) else {
            return Before::Forward;
        };
        if seen.method != Method::PUT || !self.on(Rule::S3BucketNameHeld) {
            return Before::Forward;
        }
        if !take(&mut self.world.lock().unwrap().held_buckets, &bucket) {
            return Before::Forward;
        }
        self.hit(Rule::S3BucketNameHeld);
        Before::Answer(s3_error(
            409,
            "OperationAborted",
            "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        ))
    }

    fn s3_held_after(&self, seen: &Seen<'_>, status: StatusCode) {
        if seen.method == Method::DELETE
            && status.is_success()
            && let Some(bucket) = bucket_of(seen)
        {
            let window = self.window(Wait::S3NameHeld);
            self.world
                .lock()
                .unwrap()
                .held_buckets
                .insert(bucket, window);
        }
    }

    /// PutParameter of a name deleted less than 30 s ago, or of a value over the
    /// standard tier's 4,096 characters.
    fn ssm_put_held(&self, body: &Bytes) -> Before {
        let req = json(body);
        let name = req["Name"].as_str().unwrap_or_default().to_string();
        let advanced = matches!(
            req["Tier"].as_str(),
            Some("Advanced" | "Intelligent-Tiering")
        );
        let chars = req["Value"].as_str().map_or(0, |v| v.chars().count());
        if self.on(Rule::SsmStandardSize) && !advanced && chars > 4096 {
            self.hit(Rule::SsmStandardSize);
            return Before::Answer(json_error(
                400,
                "ValidationException",
                "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
            ));
        }
        if self.on(Rule::SsmNameHeld)
            && take(&mut self.world.lock().unwrap().held_parameters, &name)
        {
            self.hit(Rule::SsmNameHeld);
            return Before::Answer(json_error(
                400,
                "TooManyUpdates",
                "There are concurrent updates for a resource that supports one update at a time.",
            ));
        }
        Before::Forward
    }

    fn ssm_held_after(&self, op: &str, request: &Bytes) {
        let req = json(request);
        let names: Vec<String> = match op {
            "DeleteParameter" => req["Name"]
                .as_str()
                .map(str::to_string)
                .into_iter()
                .collect(),
            "DeleteParameters" => req["Names"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            _ => return,
        };
        let mut w = self.world.lock().unwrap();
        for name in names {
            w.held_parameters
                .insert(name, self.window(Wait::SsmNameHeld));
        }
    }

    fn acm_unknown_for_a_while(&self, body: &Bytes) {
        if let Some(arn) = json(body)["CertificateArn"].as_str() {
            let window = self.window(Wait::AcmNotFound);
            self.world
                .lock()
                .unwrap()
                .unknown_certificates
                .insert(arn.to_string(), window);
        }
    }

    /// DescribeCertificate of a certificate requested moments ago: not found yet.
    fn acm_not_yet(&self, body: &Bytes) -> Before {
        let arn = json(body)["CertificateArn"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !self.on(Rule::AcmNotFoundAtFirst)
            || !take(&mut self.world.lock().unwrap().unknown_certificates, &arn)
        {
            return Before::Forward;
        }
        self.hit(Rule::AcmNotFoundAtFirst);
        Before::Answer(json_error(
            400,
            "ResourceNotFoundException",
            &format!("Could not find certificate with arn {arn}"),
        ))
    }

    /// GetAccountSettings answers the account's quotas; a reservation that leaves
    /// less than 100 unreserved and, on a new account, memory above 3,008 MB are refused.
    fn lambda_quotas(&self, seen: &Seen<'_>, body: &Bytes) -> Before {
        if !self.on(Rule::LambdaAccountQuotas) {
            return Before::Forward;
        }
        let route = Lambda::route(seen.method, seen.path);
        let mut w = self.world.lock().unwrap();
        let limit: i64 = if w.small_account { 10 } else { 1000 };
        let refuse = |message: &str| {
            Before::Answer(lambda_error(400, "InvalidParameterValueException", message))
        };
        match route {
            Lambda::AccountSettings => {
                let reserved: i64 = w.reserved.values().sum();
                drop(w);
                self.hit(Rule::LambdaAccountQuotas);
                let doc = serde_json::json!({
                    "AccountLimit": {
                        "TotalCodeSize": 80530636800u64,
                        "CodeSizeUnzipped": 262144000,
                        "CodeSizeZipped": 52428800,
                        "ConcurrentExecutions": limit,
                        "UnreservedConcurrentExecutions": limit - reserved,
                    },
                    "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
                });
                Before::Answer(respond(200, "application/json", doc.to_string()))
            }
            Lambda::PutConcurrency(name) => {
                let n = json(body)["ReservedConcurrentExecutions"]
                    .as_i64()
                    .unwrap_or(0);
                let others: i64 = w
                    .reserved
                    .iter()
                    .filter(|(f, _)| **f != name)
                    .map(|(_, r)| *r)
                    .sum();
                if limit - others - n < 100 {
                    drop(w);
                    self.hit(Rule::LambdaAccountQuotas);
                    return refuse(
                        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
                    );
                }
                w.reserved.insert(name, n);
                Before::Forward
            }
            Lambda::Create | Lambda::UpdateConfig(_) if w.small_account => {
                let memory = json(body)["MemorySize"].as_i64().unwrap_or(0);
                if memory > 3008 {
                    drop(w);
                    self.hit(Rule::LambdaAccountQuotas);
                    return refuse(
                        "'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to 3008",
                    );
                }
                Before::Forward
            }
            _ => Before::Forward,
        }
    }

    /// GetFunction's answer holds no Tags: reading them takes ListTags.
    fn lambda_tags(&self, seen: &Seen<'_>, _request: &Bytes, body: &mut Bytes) {
        if !self.on(Rule::LambdaTagsNeedListTags)
            || !matches!(Lambda::route(seen.method, seen.path), Lambda::Get(_))
        {
            return;
        }
        let mut doc = json(body);
        if let Some(map) = doc.as_object_mut()
            && map.remove("Tags").is_some()
        {
            self.hit(Rule::LambdaTagsNeedListTags);
            *body = Bytes::from(doc.to_string());
        }
    }

    /// Invalidation paths are matched against the URI a browser sends: raw spaces
    /// and non-ASCII are refused; a character encoded that browsers send as it is
    /// would leave the old version cached (flagged, see [`Realism::over_encoded`]).
    fn invalidation_paths(&self, body: &Bytes) -> Before {
        if !self.on(Rule::CloudFrontInvalidationPaths) {
            return Before::Forward;
        }
        let text = String::from_utf8_lossy(body).to_string();
        let mut flagged = Vec::new();
        for path in blocks(&text, "Path") {
            let path = path.replace("&amp;", "&").replace("&apos;", "'");
            if path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
                self.hit(Rule::CloudFrontInvalidationPaths);
                return Before::Answer(cloudfront_error(
                    400,
                    "InvalidArgument",
                    "Your request contains one or more invalid invalidation paths.",
                ));
            }
            let bytes = path.as_bytes();
            let over = (0..bytes.len()).any(|i| {
                bytes[i] == b'%'
                    && std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .is_some_and(|b| {
                            b.is_ascii_alphanumeric() || b"-._~!$&'()+,;=:@/".contains(&b)
                        })
            });
            if over {
                flagged.push(path);
            }
        }
        if !flagged.is_empty() {
            for _ in &flagged {
                self.hit(Rule::CloudFrontInvalidationPaths);
            }
            self.world.lock().unwrap().over_encoded.extend(flagged);
        }
        Before::Forward
    }
}

/// The bucket a path-style S3 request addresses as a whole (CreateBucket,
/// DeleteBucket): one path segment and no query.
fn bucket_of(seen: &Seen<'_>) -> Option<String> {
    let name = seen.path.trim_matches('/');
    (!name.is_empty() && !name.contains('/') && seen.query.is_empty()).then(|| name.to_string())
}

// --- routes ----------------------------------------------------------------

enum IdentityOp {
    List,
    Create,
    Get(String),
    GetConfig(String),
    Delete(String),
}

enum CloudFront {
    Create,
    Get(String),
    GetConfig(String),
    UpdateConfig(String),
    Delete(String),
    Identity(IdentityOp),
    Invalidate(String),
    Other,
}

impl CloudFront {
    fn route(method: &Method, path: &str) -> CloudFront {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method.as_str(), parts.as_slice()) {
            ("POST", [_, "distribution"]) => CloudFront::Create,
            ("GET", [_, "distribution", id]) => CloudFront::Get(id.to_string()),
            ("GET", [_, "distribution", id, "config"]) => CloudFront::GetConfig(id.to_string()),
            ("PUT", [_, "distribution", id, "config"]) => CloudFront::UpdateConfig(id.to_string()),
            ("DELETE", [_, "distribution", id]) => CloudFront::Delete(id.to_string()),
            ("POST", [_, "distribution", id, "invalidation"]) => {
                CloudFront::Invalidate(id.to_string())
            }
            ("GET", [_, "origin-access-identity", "cloudfront"]) => {
                CloudFront::Identity(IdentityOp::List)
            }
            ("POST", [_, "origin-access-identity", "cloudfront"]) => {
                CloudFront::Identity(IdentityOp::Create)
            }
            ("GET", [_, "origin-access-identity", "cloudfront", id]) => {
                CloudFront::Identity(IdentityOp::Get(id.to_string()))
            }
            ("GET", [_, "origin-access-identity", "cloudfront", id, "config"]) => {
                CloudFront::Identity(IdentityOp::GetConfig(id.to_string()))
            }
            ("DELETE", [_, "origin-access-identity", "cloudfront", id]) => {
                CloudFront::Identity(IdentityOp::Delete(id.to_string()))
            }
            _ => CloudFront::Other,
        }
    }
}

enum Lambda {
    Create,
    Get(String),
    GetConfig(String),
    UpdateCode(String),
    UpdateConfig(String),
    CreateUrl(String),
    AddPermission(String),
    PutConcurrency(String),
    AccountSettings,
    GetPolicy,
    Other,
}

impl Lambda {
    fn route(method: &Method, path: &str) -> Lambda {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let name = |n: &str| n.rsplit(':').next().unwrap_or(n).to_string();
        match (method.as_str(), parts.as_slice()) {
            ("POST", [_, "functions"]) => Lambda::Create,
            ("GET", [_, "functions", n]) => Lambda::Get(name(n)),
            ("GET", [_, "functions", n, "configuration"]) => Lambda::GetConfig(name(n)),
            ("PUT", [_, "functions", n, "code"]) => Lambda::UpdateCode(name(n)),
            ("PUT", [_, "functions", n, "configuration"]) => Lambda::UpdateConfig(name(n)),
            ("POST", [_, "functions", n, "url"]) => Lambda::CreateUrl(name(n)),
            ("POST", [_, "functions", n, "policy"]) => Lambda::AddPermission(name(n)),
            ("PUT", [_, "functions", n, "concurrency"]) => Lambda::PutConcurrency(name(n)),
            ("GET", [_, "account-settings"]) => Lambda::AccountSettings,
            ("GET", [_, "functions", _, "policy"]) => Lambda::GetPolicy,
            _ => Lambda::Other,
        }
    }
}

// --- shapes ----------------------------------------------------------------

/// Rewrites a GetPolicy answer's statements into AWS's shape: the function URL
/// fields moto echoes become the conditions AWS shows. True when one changed.
fn policy_conditions(body: &mut Bytes) -> bool {
    let mut doc = json(body);
    let Some(mut policy) = doc["Policy"]
        .as_str()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
    else {
        return false;
    };
    let mut changed = false;
    for s in policy["Statement"].as_array_mut().into_iter().flatten() {
        let Some(o) = s.as_object_mut() else { continue };
        if let Some(auth) = o.remove("FunctionUrlAuthType") {
            let c = o
                .entry("Condition")
                .or_insert_with(|| serde_json::json!({}));
            c["StringEquals"]["lambda:FunctionUrlAuthType"] = auth;
            changed = true;
        }
        if let Some(via) = o.remove("InvokedViaFunctionUrl") {
            let c = o
                .entry("Condition")
                .or_insert_with(|| serde_json::json!({}));
            let via = via.as_bool().map_or(via.clone(), |b| b.to_string().into());
            c["Bool"]["lambda:InvokedViaFunctionUrl"] = via;
            changed = true;
        }
    }
    if changed {
        doc["Policy"] = policy.to_string().into();
        *body = Bytes::from(doc.to_string());
    }
    changed
}

const CF_NS: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";
const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
const REQUEST_ID: &str = "c0l0r1d-realism";

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

/// The text of the first `<tag>…</tag>`.
pub fn xml_value<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&format!("</{tag}>"))?;
    Some(&text[start..start + end])
}

/// A DNS name as compared: lower case, without the final dot.
fn record_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The inner text of every `<tag>…</tag>`.
fn blocks<'a>(text: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(s) = rest.find(&open) {
        let after = &rest[s + open.len()..];
        let Some(e) = after.find(&close) else { break };
        out.push(&after[..e]);
        rest = &after[e + close.len()..];
    }
    out
}

fn identity_in(config: &str) -> Option<String> {
    let at = config.find("origin-access-identity/cloudfront/")?;
    let rest = &config[at + "origin-access-identity/cloudfront/".len()..];
    let end = rest.find('<').unwrap_or(rest.len());
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

fn canonical_user(id: &str) -> String {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    format!(
        "{:016x}{:016x}{:016x}{:016x}",
        h.finish(),
        !h.finish(),
        h.finish().rotate_left(7),
        h.finish().rotate_right(9)
    )
}

fn identity_etag(id: &str, version: u32) -> String {
    format!("E{}V{version}", &id[1..id.len().min(8)])
}

fn identity_config_xml(i: &Identity) -> String {
    format!(
        "<CloudFrontOriginAccessIdentityConfig xmlns=\"{CF_NS}\"><CallerReference>{}</CallerReference><Comment>{}</Comment></CloudFrontOriginAccessIdentityConfig>",
        i.caller_reference, i.comment
    )
}

fn identity_xml(id: &str, i: &Identity) -> String {
    format!(
        "<CloudFrontOriginAccessIdentity xmlns=\"{CF_NS}\"><Id>{id}</Id><S3CanonicalUserId>{}</S3CanonicalUserId><CloudFrontOriginAccessIdentityConfig><CallerReference>{}</CallerReference><Comment>{}</Comment></CloudFrontOriginAccessIdentityConfig></CloudFrontOriginAccessIdentity>",
        canonical_user(id),
        i.caller_reference,
        i.comment
    )
}

fn respond(status: u16, content_type: &str, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    h.insert("x-amzn-requestid", HeaderValue::from_static(REQUEST_ID));
    h.insert("x-amz-request-id", HeaderValue::from_static(REQUEST_ID));
    r
}

fn xml_response(status: u16, etag: Option<&str>, xml: &str) -> Response {
    let mut r = respond(
        status,
        "text/xml",
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{xml}"),
    );
    if let Some(etag) = etag {
        r.headers_mut()
            .insert("etag", HeaderValue::from_str(etag).unwrap());
    }
    r
}

fn cloudfront_error(status: u16, code: &str, message: &str) -> Response {
    xml_response(
        status,
        None,
        &format!(
            "<ErrorResponse xmlns=\"{CF_NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"
        ),
    )
}

fn s3_error(status: u16, code: &str, message: &str) -> Response {
    xml_response(
        status,
        None,
        &format!(
            "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{REQUEST_ID}</RequestId><HostId>{REQUEST_ID}</HostId></Error>"
        ),
    )
}

/// An error of the JSON 1.1 services (ACM, SSM).
fn json_error(status: u16, code: &str, message: &str) -> Response {
    respond(
        status,
        "application/x-amz-json-1.1",
        serde_json::json!({"__type": code, "message": message}).to_string(),
    )
}

/// An error of Lambda's REST-JSON protocol.
fn lambda_error(status: u16, code: &str, message: &str) -> Response {
    let mut r = respond(
        status,
        "application/json",
        serde_json::json!({"Type": "User", "message": message}).to_string(),
    );
    r.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_str(code).unwrap());
    r
}

/// The `Enabled` of a sent `DistributionConfig` itself, not of a nested block
/// (Logging, TrustedSigners, ...): the SDK writes members in the shape's order,
/// and the distribution's own `Enabled` follows `PriceClass`.
fn top_level_enabled(config: &str) -> bool {
    let rest = config
        .find("</PriceClass>")
        .map_or(config, |i| &config[i..]);
    xml_value(rest, "Enabled") == Some("true")
}
