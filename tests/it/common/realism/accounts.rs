//! Realism rules of an account as users have it (issue 24, items 8-13): names
//! already taken, quotas reached, records already in the zone, buckets of
//! other accounts. Each rule names its page in [`source`]; the layer calls
//! [`Realism::accounts_before`] and [`Realism::accounts_after`] for every request.

use std::collections::{HashMap, HashSet};

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::{
    Before, Realism, Rule, Seen, blocks, cloudfront_error, json, json_error, lambda_error,
    record_name, s3_error, xml_response, xml_value,
};

/// The account the emulator answers as (moto's default).
pub const ACCOUNT: &str = "123456789012";

/// CloudFront's quota of origin access controls per account.
pub const ORIGIN_ACCESS_CONTROLS: usize = 100;

/// Lambda's limit on a function's environment: the variables as JSON, in bytes.
pub const ENVIRONMENT_BYTES: usize = 4096;

/// CloudFront's limits on invalidations in progress per distribution.
pub const INVALIDATION_PATHS: usize = 3000;
pub const INVALIDATION_WILDCARDS: usize = 15;

/// CloudFront's limit on a custom origin header's value, in characters.
pub const HEADER_VALUE_CHARS: usize = 1783;

/// What the account holds that these rules need to know.
#[derive(Default)]
pub struct Accounts {
    /// (zone id, record name) of every CNAME seen written or listed.
    cnames: HashSet<(String, String)>,
    /// Origin access control name → id.
    controls: HashMap<String, String>,
    /// CloudFront Function names.
    functions: HashSet<String>,
    /// Origin access controls the account holds besides those seen here.
    other_controls: usize,
    /// ACM answers LimitExceededException to RequestCertificate.
    certificate_quota_reached: bool,
    /// Bucket → the account that owns it, for buckets of other accounts.
    foreign_buckets: HashMap<String, String>,
    /// S3 requests to a bucket that carried no expected owner ("METHOD /bucket…").
    unowned: Vec<String>,
    /// Invalidations of other publishes in progress: paths, wildcard paths, and how long.
    invalidating: Option<(usize, usize, super::Window)>,
}

pub fn name(rule: Rule) -> &'static str {
    match rule {
        Rule::Route53AliasBesideCname => "route53: no alias beside a CNAME of one name",
        Rule::CloudFrontNameTaken => "cloudfront: a taken name answers *AlreadyExists",
        Rule::CloudFrontQuota => "cloudfront: 100 origin access controls per account",
        Rule::AcmCertificateQuota => "acm: certificate quota is LimitExceededException",
        Rule::LambdaEnvironmentSize => "lambda: environment at most 4 KB",
        Rule::S3ExpectedBucketOwner => "s3: another owner than expected is 403",
        Rule::CloudFrontHeaderValueLength => "cloudfront: origin header value ≤ 1,783 chars",
        Rule::CloudFrontInvalidationsInProgress => "cloudfront: 3,000 paths in progress",
        _ => unreachable!("{rule:?} is not an account rule"),
    }
}

pub fn source(rule: Rule) -> &'static str {
    match rule {
        // "If you try to create a CNAME record with the same name as an alias record (or any
        // other record), Route 53 refuses the change" — the change batch example replaces a
        // CNAME by an alias in one batch because both cannot exist: InvalidChangeBatch.
        Rule::Route53AliasBesideCname => {
            "https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html"
        }
        // OriginAccessControlAlreadyExists: "An origin access control with the specified
        // parameters already exists."; CreateFunction: FunctionAlreadyExists.
        Rule::CloudFrontNameTaken => {
            "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateOriginAccessControl.html"
        }
        // Origin access controls per account: 100; response headers policies: 20;
        // functions: 100. Exceeding one answers TooMany* (HTTP 400), not throttling.
        Rule::CloudFrontQuota => {
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html"
        }
        // LimitExceededException: "An ACM quota has been exceeded." (number of certificates,
        // or certificates requested in the last 365 days).
        Rule::AcmCertificateQuota => {
            "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html"
        }
        // "Function environment variables: 4 KB, for all environment variables associated with
        // the function, in aggregate"; InvalidParameterValueException beyond it.
        Rule::LambdaEnvironmentSize => {
            "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
        }
        // "If the bucket is owned by a different account, the request fails with the HTTP
        // status code 403 Forbidden (access denied)."
        Rule::S3ExpectedBucketOwner => {
            "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html"
        }
        // "Maximum length of a custom header value: 1,783 characters".
        Rule::CloudFrontHeaderValueLength => {
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-custom-headers"
        }
        // "Concurrent invalidation requests: 3,000 file paths; wildcard paths: 15".
        Rule::CloudFrontInvalidationsInProgress => {
            "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-invalidations"
        }
        _ => unreachable!("{rule:?} is not an account rule"),
    }
}

const R53_NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

/// The zone id of a Route53 record-set path (`/2013-04-01/hostedzone/<id>/rrset`).
fn rrset_zone(path: &str) -> Option<String> {
    let rest = path.split("/hostedzone/").nth(1)?;
    let (zone, tail) = rest.split_once('/')?;
    (tail == "rrset").then(|| zone.to_string())
}

/// The bucket of a path-style S3 path, and whether the path names an object.
fn bucket_of(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}

impl Realism {
    /// Tells the layer that the account holds `n` other origin access controls.
    pub fn account_holds_origin_access_controls(&self, n: usize) {
        self.world.lock().unwrap().accounts.other_controls = n;
    }

    /// Makes ACM's certificate quota reached (or not).
    pub fn certificate_quota_reached(&self, reached: bool) {
        self.world
            .lock()
            .unwrap()
            .accounts
            .certificate_quota_reached = reached;
    }

    /// Makes `bucket` another account's (`owner`): it is created elsewhere, and a request
    /// that expects another owner is refused.
    pub fn bucket_owned_by(&self, bucket: &str, owner: &str) {
        self.world
            .lock()
            .unwrap()
            .accounts
            .foreign_buckets
            .insert(bucket.to_string(), owner.to_string());
    }

    /// Other invalidations in progress on the account's distributions: `paths` paths of
    /// which `wildcards` wildcards, for a window (the next few creates meet them).
    pub fn invalidations_in_progress(&self, paths: usize, wildcards: usize) {
        self.world.lock().unwrap().accounts.invalidating =
            Some((paths, wildcards, super::Window::new()));
    }

    /// The S3 requests to `bucket` that carried no expected bucket owner.
    pub fn unowned_requests(&self, bucket: &str) -> Vec<String> {
        let prefix = format!(" /{bucket}");
        self.world
            .lock()
            .unwrap()
            .accounts
            .unowned
            .iter()
            .filter(|r| {
                r.find(' ').is_some_and(|at| {
                    r[at..] == prefix
                        || r[at..].starts_with(&format!("{prefix}/"))
                        || r[at..].starts_with(&format!("{prefix}?"))
                })
            })
            .cloned()
            .collect()
    }

    pub(super) fn accounts_before(&self, seen: &Seen<'_>, body: &Bytes) -> Option<Before> {
        let answer = match seen.call.service.as_str() {
            "route53" => self.alias_beside_cname(seen, body),
            "cloudfront" => self.cloudfront_names(seen, body),
            "acm" if seen.call.operation.as_deref() == Some("RequestCertificate") => {
                self.certificate_quota()
            }
            "lambda" => self.environment_size(seen, body),
            "s3" => self.expected_owner(seen),
            _ => None,
        };
        answer.map(Before::Answer)
    }

    pub(super) fn accounts_after(
        &self,
        seen: &Seen<'_>,
        request: &Bytes,
        status: StatusCode,
        body: &mut Bytes,
    ) {
        if !status.is_success() {
            return;
        }
        let text = String::from_utf8_lossy(body).to_string();
        let sent = String::from_utf8_lossy(request).to_string();
        let mut w = self.world.lock().unwrap();
        let a = &mut w.accounts;
        match seen.call.service.as_str() {
            "route53" => {
                let Some(zone) = rrset_zone(seen.path) else {
                    return;
                };
                if seen.method == Method::POST {
                    for change in blocks(&sent, "Change") {
                        let (Some(action), Some(name), Some("CNAME")) = (
                            xml_value(change, "Action"),
                            xml_value(change, "Name"),
                            xml_value(change, "Type"),
                        ) else {
                            continue;
                        };
                        let key = (zone.clone(), record_name(name));
                        if action == "DELETE" {
                            a.cnames.remove(&key);
                        } else {
                            a.cnames.insert(key);
                        }
                    }
                } else {
                    for set in blocks(&text, "ResourceRecordSet") {
                        if let (Some(name), Some("CNAME")) =
                            (xml_value(set, "Name"), xml_value(set, "Type"))
                        {
                            a.cnames.insert((zone.clone(), record_name(name)));
                        }
                    }
                }
            }
            "cloudfront" => {
                let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
                match (seen.method.as_str(), parts.as_slice()) {
                    ("POST", [_, "origin-access-control"]) => {
                        if let (Some(name), Some(id)) =
                            (xml_value(&sent, "Name"), xml_value(&text, "Id"))
                        {
                            a.controls.insert(name.to_string(), id.to_string());
                        }
                    }
                    ("GET", [_, "origin-access-control"]) => {
                        for item in blocks(&text, "OriginAccessControlSummary") {
                            if let (Some(name), Some(id)) =
                                (xml_value(item, "Name"), xml_value(item, "Id"))
                            {
                                a.controls.insert(name.to_string(), id.to_string());
                            }
                        }
                    }
                    ("DELETE", [_, "origin-access-control", id]) => {
                        a.controls.retain(|_, v| v != id);
                    }
                    ("POST", [_, "function"]) => {
                        if let Some(name) = xml_value(&sent, "Name") {
                            a.functions.insert(name.to_string());
                        }
                    }
                    ("DELETE", [_, "function", name]) => {
                        a.functions.remove(*name);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// An A or AAAA record (alias or not) where the zone has a CNAME of the same name.
    fn alias_beside_cname(&self, seen: &Seen<'_>, body: &Bytes) -> Option<Response> {
        if seen.method != Method::POST || !self.on(Rule::Route53AliasBesideCname) {
            return None;
        }
        let zone = rrset_zone(seen.path)?;
        let text = String::from_utf8_lossy(body).to_string();
        let w = self.world.lock().unwrap();
        let changes = blocks(&text, "Change");
        // A CNAME deleted in the same batch makes room (AWS's own example).
        let deleted: HashSet<String> = changes
            .iter()
            .filter(|c| {
                xml_value(c, "Action") == Some("DELETE") && xml_value(c, "Type") == Some("CNAME")
            })
            .filter_map(|c| xml_value(c, "Name").map(record_name))
            .collect();
        for change in changes {
            let (Some(action), Some(name), Some(kind)) = (
                xml_value(change, "Action"),
                xml_value(change, "Name"),
                xml_value(change, "Type"),
            ) else {
                continue;
            };
            let name = record_name(name);
            if action != "DELETE"
                && kind != "CNAME"
                && !deleted.contains(&name)
                && w.accounts.cnames.contains(&(zone.clone(), name.clone()))
            {
                drop(w);
                self.hit(Rule::Route53AliasBesideCname);
                return Some(xml_response(
                    400,
                    None,
                    &format!(
                        "<ErrorResponse xmlns=\"{R53_NS}\"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[RRSet of type {kind} with DNS name {name}. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone {zone}.]</Message></Error><RequestId>c0l0r1d-realism</RequestId></ErrorResponse>"
                    ),
                ));
            }
        }
        None
    }

    /// Names taken (origin access controls, functions) and the origin access control quota;
    /// a custom origin header value over CloudFront's limit.
    fn cloudfront_names(&self, seen: &Seen<'_>, body: &Bytes) -> Option<Response> {
        let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
        let text = String::from_utf8_lossy(body).to_string();
        match (seen.method.as_str(), parts.as_slice()) {
            ("POST", [_, "origin-access-control"]) => {
                let name = xml_value(&text, "Name")?.to_string();
                let w = self.world.lock().unwrap();
                let taken = w.accounts.controls.contains_key(&name);
                let held = w.accounts.controls.len() + w.accounts.other_controls;
                drop(w);
                if taken && self.on(Rule::CloudFrontNameTaken) {
                    self.hit(Rule::CloudFrontNameTaken);
                    return Some(cloudfront_error(
                        409,
                        "OriginAccessControlAlreadyExists",
                        "An origin access control with the specified parameters already exists.",
                    ));
                }
                if held >= ORIGIN_ACCESS_CONTROLS && self.on(Rule::CloudFrontQuota) {
                    self.hit(Rule::CloudFrontQuota);
                    return Some(cloudfront_error(
                        400,
                        "TooManyOriginAccessControls",
                        "The number of origin access controls in your AWS account exceeds the maximum allowed.",
                    ));
                }
                None
            }
            ("POST", [_, "function"]) => {
                let name = xml_value(&text, "Name")?;
                let taken = self.world.lock().unwrap().accounts.functions.contains(name);
                if taken && self.on(Rule::CloudFrontNameTaken) {
                    self.hit(Rule::CloudFrontNameTaken);
                    return Some(cloudfront_error(
                        409,
                        "FunctionAlreadyExists",
                        &format!(
                            "The function name that you are using to create a function is associated with another function. Already exists: {name}"
                        ),
                    ));
                }
                None
            }
            ("POST", [_, "distribution", _, "invalidation"]) => {
                let paths = blocks(&text, "Path");
                let wildcards = paths.iter().filter(|p| p.ends_with('*')).count();
                let mut w = self.world.lock().unwrap();
                let Some((held, held_wildcards, window)) = &mut w.accounts.invalidating else {
                    return None;
                };
                let over = *held + paths.len() > INVALIDATION_PATHS
                    || *held_wildcards + wildcards > INVALIDATION_WILDCARDS;
                if !over || !self.on(Rule::CloudFrontInvalidationsInProgress) || !window.take() {
                    return None;
                }
                drop(w);
                self.hit(Rule::CloudFrontInvalidationsInProgress);
                Some(cloudfront_error(
                    400,
                    "TooManyInvalidationsInProgress",
                    "Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.",
                ))
            }
            ("POST", [_, "distribution"]) | ("PUT", [_, "distribution", _, "config"]) => {
                if !self.on(Rule::CloudFrontHeaderValueLength) {
                    return None;
                }
                let too_long = blocks(&text, "OriginCustomHeader")
                    .into_iter()
                    .filter_map(|h| xml_value(h, "HeaderValue"))
                    .any(|v| v.chars().count() > HEADER_VALUE_CHARS);
                if too_long {
                    self.hit(Rule::CloudFrontHeaderValueLength);
                    return Some(cloudfront_error(
                        400,
                        "InvalidArgument",
                        "The parameter HeaderValue is too big.",
                    ));
                }
                None
            }
            _ => None,
        }
    }

    fn certificate_quota(&self) -> Option<Response> {
        let reached = self
            .world
            .lock()
            .unwrap()
            .accounts
            .certificate_quota_reached;
        if !reached || !self.on(Rule::AcmCertificateQuota) {
            return None;
        }
        self.hit(Rule::AcmCertificateQuota);
        Some(json_error(
            400,
            "LimitExceededException",
            "Error: you have reached your limit of 2500 certificates in the last year.",
        ))
    }

    /// CreateFunction and UpdateFunctionConfiguration with more than 4 KB of environment.
    fn environment_size(&self, seen: &Seen<'_>, body: &Bytes) -> Option<Response> {
        let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
        let sets = matches!(
            (seen.method.as_str(), parts.as_slice()),
            ("POST", [_, "functions"]) | ("PUT", [_, "functions", _, "configuration"])
        );
        if !sets || !self.on(Rule::LambdaEnvironmentSize) {
            return None;
        }
        let variables = json(body)["Environment"]["Variables"].clone();
        if !variables.is_object() {
            return None;
        }
        let measured = variables.to_string();
        if measured.len() <= ENVIRONMENT_BYTES {
            return None;
        }
        self.hit(Rule::LambdaEnvironmentSize);
        Some(lambda_error(
            400,
            "InvalidParameterValueException",
            &format!(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {} bytes",
                measured.len()
            ),
        ))
    }

    /// Requests to a bucket: a mismatching expected owner is 403; a bucket of another
    /// account cannot be created again.
    fn expected_owner(&self, seen: &Seen<'_>) -> Option<Response> {
        let (bucket, key) = bucket_of(seen.path)?;
        let header = |name: &str| {
            seen.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let expected = header("x-amz-expected-bucket-owner");
        let mut w = self.world.lock().unwrap();
        let owner = w
            .accounts
            .foreign_buckets
            .get(bucket)
            .cloned()
            .unwrap_or_else(|| ACCOUNT.to_string());
        let creates = seen.method == Method::PUT && key.is_empty() && seen.query.is_empty();
        if expected.is_none() && !creates {
            w.accounts
                .unowned
                .push(format!("{} {}", seen.method, seen.path));
        }
        drop(w);
        if !self.on(Rule::S3ExpectedBucketOwner) {
            return None;
        }
        if creates && owner != ACCOUNT {
            self.hit(Rule::S3ExpectedBucketOwner);
            return Some(s3_error(
                409,
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            ));
        }
        if expected.as_ref().is_some_and(|e| *e != owner) {
            self.hit(Rule::S3ExpectedBucketOwner);
            return Some(s3_error(403, "AccessDenied", "Access Denied"));
        }
        None
    }
}
