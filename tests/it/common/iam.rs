//! A small IAM policy evaluator for the policy test (tests/it/policy.rs): each
//! call the proxy recorded (common/fault_proxy.rs) is mapped to the IAM
//! actions, resource ARNs and request context AWS authorizes it by, and each
//! of those is checked against a policy document (Allow statements: action and
//! resource patterns, `StringEquals`/`StringLike` conditions).
//!
//! The mapping follows the Service Authorization Reference's "API operations"
//! tables (<https://docs.aws.amazon.com/service-authorization/latest/reference/>),
//! one function per service. A call it does not know is an error naming the
//! call: add a line to that service's function.

use std::collections::{BTreeMap, HashMap};

use axum::http::Method;
use serde_json::Value;

use super::fault_proxy::Recorded;

/// One authorization AWS makes for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub action: String,
    pub resource: String,
    /// Condition keys the request carries (`aws:RequestTag/k`, `aws:ResourceTag/k`, …).
    pub context: BTreeMap<String, String>,
}

impl Request {
    pub fn new(action: &str, resource: impl Into<String>) -> Request {
        Request {
            action: action.to_string(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    fn with(mut self, key: &str, value: &str) -> Request {
        self.context.insert(key.to_string(), value.to_string());
        self
    }

    fn tags(mut self, kind: &str, tags: &BTreeMap<String, String>) -> Request {
        for (k, v) in tags {
            self.context.insert(format!("aws:{kind}/{k}"), v.clone());
        }
        self
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)?;
        if !self.context.is_empty() {
            write!(f, " with {:?}", self.context)?;
        }
        Ok(())
    }
}

// ---- the evaluator ------------------------------------------------------------

/// IAM's wildcard match: `*` any run of characters, `?` one.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether one statement's conditions hold for `request`. A key the request
/// does not carry fails its condition, as in IAM.
fn conditions_hold(condition: Option<&Value>, request: &Request) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return true;
    };
    ops.iter().all(|(op, keys)| {
        let Value::Object(keys) = keys else {
            panic!("condition {op} is not an object")
        };
        keys.iter().all(|(key, wanted)| {
            let found = request
                .context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v);
            let Some(found) = found else {
                return false;
            };
            let wanted = strings(wanted);
            match op.as_str() {
                "StringEquals" => wanted.iter().any(|w| w == found),
                "StringLike" => wanted.iter().any(|w| glob(w, found)),
                other => panic!("the test evaluator does not know the operator {other}"),
            }
        })
    })
}

/// Whether `policy` allows `request`: some Allow statement matches its action
/// (case-insensitive) and resource, and that statement's conditions hold.
pub fn allows(policy: &Value, request: &Request) -> bool {
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"])
                .iter()
                .any(|a| glob(&a.to_lowercase(), &request.action.to_lowercase()))
            && strings(&s["Resource"])
                .iter()
                .any(|r| glob(r, &request.resource))
            && conditions_hold(s.get("Condition"), request)
    })
}

// ---- calls to authorizations -----------------------------------------------------

/// Maps recorded calls to authorizations, remembering the tags it saw put on
/// resources (for `aws:ResourceTag` on later calls).
pub struct Mapper {
    pub account: String,
    tags: HashMap<String, BTreeMap<String, String>>,
}

type Mapped = Result<Vec<Request>, String>;

impl Mapper {
    pub fn new(account: &str) -> Mapper {
        Mapper {
            account: account.to_string(),
            tags: HashMap::new(),
        }
    }

    /// The authorizations AWS makes for `call` (none for calls no permission
    /// guards: `sts:GetCallerIdentity`), or the call named when it is unknown.
    pub fn map(&mut self, rec: &Recorded) -> Mapped {
        let unknown = || {
            format!(
                "unmapped call: {} {} {}?{} (operation {:?}); add it to tests/it/common/iam.rs",
                rec.call.service, rec.method, rec.path, rec.query, rec.call.operation
            )
        };
        let out = match rec.call.service.as_str() {
            "sts" => match rec.call.operation.as_deref() {
                // "No permissions are required to perform this operation" (STS API reference).
                Some("GetCallerIdentity") => Ok(Vec::new()),
                _ => Err(unknown()),
            },
            "iam" => self.iam(rec),
            "ssm" => self.ssm(rec),
            "acm" => self.acm(rec),
            "logs" => self.logs(rec),
            "lambda" => self.lambda(rec),
            "s3" => self.s3(rec),
            "cloudfront" => self.cloudfront(rec),
            "route53" => self.route53(rec),
            _ => Err(unknown()),
        };
        match out {
            Err(e) if e.is_empty() => Err(unknown()),
            other => other,
        }
    }

    fn resource_tags(&self, arn: &str) -> BTreeMap<String, String> {
        self.tags.get(arn).cloned().unwrap_or_default()
    }

    fn iam(&mut self, rec: &Recorded) -> Mapped {
        let form = form(&rec.body);
        let op = form.get("Action").cloned().unwrap_or_default();
        let role = form.get("RoleName").ok_or_else(String::new)?;
        let arn = format!("arn:aws:iam::{}:role/{role}", self.account);
        let mut out = vec![Request::new(&format!("iam:{op}"), arn.clone())];
        if op == "CreateRole" && form.keys().any(|k| k.starts_with("Tags.member")) {
            out.push(Request::new("iam:TagRole", arn));
        }
        Ok(out)
    }

    fn ssm(&mut self, rec: &Recorded) -> Mapped {
        let op = rec.call.operation.clone().unwrap_or_default();
        let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
        let arn = |name: &str| {
            let name = name.strip_prefix('/').unwrap_or(name);
            format!(
                "arn:aws:ssm:{}:{}:parameter/{name}",
                rec.region, self.account
            )
        };
        let names: Vec<String> = match op.as_str() {
            "GetParametersByPath" => strings(&body["Path"]),
            "GetParameters" | "DeleteParameters" => strings(&body["Names"]),
            "ListTagsForResource" | "AddTagsToResource" => strings(&body["ResourceId"]),
            _ => strings(&body["Name"]),
        };
        if names.is_empty() {
            return Err(String::new());
        }
        let mut out = Vec::new();
        for name in names {
            out.push(Request::new(&format!("ssm:{op}"), arn(&name)));
            if op == "PutParameter" && body["Tags"].is_array() {
                out.push(Request::new("ssm:AddTagsToResource", arn(&name)));
            }
        }
        Ok(out)
    }

    fn acm(&mut self, rec: &Recorded) -> Mapped {
        let op = rec.call.operation.clone().unwrap_or_default();
        let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
        let action = format!("acm:{op}");
        let request_tags = json_tags(&body["Tags"], "Key", "Value");
        Ok(match op.as_str() {
            "ListCertificates" => vec![Request::new(&action, "*")],
            "RequestCertificate" => {
                let answer: Value = serde_json::from_slice(&rec.answer).unwrap_or(Value::Null);
                if let Some(arn) = answer["CertificateArn"].as_str() {
                    self.tags.insert(arn.to_string(), request_tags.clone());
                }
                vec![Request::new(&action, "*").tags("RequestTag", &request_tags)]
            }
            _ => {
                let arn = body["CertificateArn"].as_str().ok_or_else(String::new)?;
                let request = Request::new(&action, arn)
                    .tags("ResourceTag", &self.resource_tags(arn))
                    .tags("RequestTag", &request_tags);
                if op == "AddTagsToCertificate" {
                    self.tags
                        .entry(arn.to_string())
                        .or_default()
                        .extend(request_tags);
                }
                if op == "ListTagsForCertificate" {
                    let answer: Value = serde_json::from_slice(&rec.answer).unwrap_or(Value::Null);
                    let seen = json_tags(&answer["Tags"], "Key", "Value");
                    self.tags.insert(arn.to_string(), seen);
                }
                vec![request]
            }
        })
    }

    fn logs(&mut self, rec: &Recorded) -> Mapped {
        let op = rec.call.operation.clone().unwrap_or_default();
        let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
        let action = format!("logs:{op}");
        let group = |name: &str| {
            format!(
                "arn:aws:logs:{}:{}:log-group:{name}",
                rec.region, self.account
            )
        };
        Ok(match op.as_str() {
            "DescribeLogGroups" => vec![Request::new(&action, group("*"))],
            "ListTagsForResource" | "TagResource" => {
                let arn = body["resourceArn"].as_str().ok_or_else(String::new)?;
                vec![Request::new(&action, arn)]
            }
            "FilterLogEvents" => {
                let name = body["logGroupName"].as_str().ok_or_else(String::new)?;
                vec![Request::new(&action, format!("{}:*", group(name)))]
            }
            _ => {
                let name = body["logGroupName"].as_str().ok_or_else(String::new)?;
                let mut out = vec![Request::new(&action, group(name))];
                // "To create a log group with tags, you must have both the
                // logs:CreateLogGroup and logs:TagResource permissions."
                if op == "CreateLogGroup" && body["tags"].is_object() {
                    out.push(Request::new("logs:TagResource", group(name)));
                }
                out
            }
        })
    }

    fn lambda(&mut self, rec: &Recorded) -> Mapped {
        let parts: Vec<&str> = rec.path.trim_matches('/').split('/').collect();
        let body: Value = serde_json::from_slice(&rec.body).unwrap_or(Value::Null);
        let function = |name: &str| {
            let name = decode(name);
            if name.starts_with("arn:") {
                name
            } else {
                format!(
                    "arn:aws:lambda:{}:{}:function:{name}",
                    rec.region, self.account
                )
            }
        };
        let m = &rec.method;
        let action = match (parts.as_slice(), m) {
            ([_, "functions"], &Method::POST) => "CreateFunction",
            ([_, "functions", _], &Method::GET) => "GetFunction",
            ([_, "functions", _], &Method::DELETE) => "DeleteFunction",
            ([_, "functions", _, "code"], &Method::PUT) => "UpdateFunctionCode",
            ([_, "functions", _, "configuration"], &Method::GET) => "GetFunctionConfiguration",
            ([_, "functions", _, "configuration"], &Method::PUT) => "UpdateFunctionConfiguration",
            ([_, "functions", _, "url"], &Method::GET) => "GetFunctionUrlConfig",
            ([_, "functions", _, "url"], &Method::POST) => "CreateFunctionUrlConfig",
            ([_, "functions", _, "url"], &Method::PUT) => "UpdateFunctionUrlConfig",
            ([_, "functions", _, "url"], &Method::DELETE) => "DeleteFunctionUrlConfig",
            ([_, "functions", _, "policy"], &Method::GET) => "GetPolicy",
            ([_, "functions", _, "policy"], &Method::POST) => "AddPermission",
            ([_, "functions", _, "policy", _], &Method::DELETE) => "RemovePermission",
            ([_, "functions", _, "concurrency"], &Method::GET) => "GetFunctionConcurrency",
            ([_, "functions", _, "concurrency"], &Method::PUT) => "PutFunctionConcurrency",
            ([_, "functions", _, "concurrency"], &Method::DELETE) => "DeleteFunctionConcurrency",
            ([_, "account-settings"], &Method::GET) => "GetAccountSettings",
            ([_, "tags", ..], &Method::GET) => "ListTags",
            ([_, "tags", ..], &Method::POST) => "TagResource",
            _ => return Err(String::new()),
        };
        let arn = match parts.as_slice() {
            [_, "account-settings"] => "*".to_string(),
            [_, "functions"] => function(body["FunctionName"].as_str().unwrap_or_default()),
            [_, "tags", rest @ ..] => decode(&rest.join("/")),
            [_, "functions", name, ..] => function(name),
            _ => return Err(String::new()),
        };
        let mut out = vec![Request::new(&format!("lambda:{action}"), arn.clone())];
        if action == "CreateFunction" && body["Tags"].is_object() {
            out.push(Request::new("lambda:TagResource", arn));
        }
        if let Some(role) = body["Role"].as_str() {
            out.push(
                Request::new("iam:PassRole", role)
                    .with("iam:PassedToService", "lambda.amazonaws.com"),
            );
        }
        Ok(out)
    }

    fn s3(&mut self, rec: &Recorded) -> Mapped {
        let path = rec.path.trim_start_matches('/');
        let (bucket, key) = match path.split_once('/') {
            Some((b, k)) if !k.is_empty() => (b.to_string(), Some(decode(k))),
            _ => (path.trim_end_matches('/').to_string(), None),
        };
        // `x-id` names the SDK's operation; it is not one of S3's subresources.
        let q: Vec<String> = query_keys(&rec.query)
            .into_iter()
            .filter(|k| k != "x-id")
            .collect();
        let has = |k: &str| q.iter().any(|x| x == k);
        let m = &rec.method;
        let bucket_arn = format!("arn:aws:s3:::{bucket}");
        if bucket.is_empty() && *m == Method::GET {
            return Ok(vec![Request::new("s3:ListAllMyBuckets", "*".to_string())]);
        }
        let Some(key) = key else {
            if *m == Method::POST && has("delete") {
                let text = String::from_utf8_lossy(&rec.body).to_string();
                let mut out = Vec::new();
                for object in xml_all(&text, "Object") {
                    let key = xml_all(&object, "Key").pop().unwrap_or_default();
                    let action = if object.contains("<VersionId>") {
                        "s3:DeleteObjectVersion"
                    } else {
                        "s3:DeleteObject"
                    };
                    out.push(Request::new(
                        action,
                        format!("{bucket_arn}/{}", unxml(&key)),
                    ));
                }
                return Ok(out);
            }
            let action = match (m, ()) {
                _ if has("policy") => match *m {
                    Method::GET => "GetBucketPolicy",
                    Method::PUT => "PutBucketPolicy",
                    _ => "DeleteBucketPolicy",
                },
                _ if has("encryption") => match *m {
                    Method::GET => "GetEncryptionConfiguration",
                    _ => "PutEncryptionConfiguration",
                },
                _ if has("tagging") => match *m {
                    Method::GET => "GetBucketTagging",
                    _ => "PutBucketTagging",
                },
                _ if has("publicAccessBlock") => match *m {
                    Method::GET => "GetBucketPublicAccessBlock",
                    _ => "PutBucketPublicAccessBlock",
                },
                _ if has("versions") => "ListBucketVersions",
                _ if has("location") => "GetBucketLocation",
                (&Method::PUT, _) if q.is_empty() => "CreateBucket",
                (&Method::DELETE, _) if q.is_empty() => "DeleteBucket",
                (&Method::HEAD, _) if q.is_empty() => "ListBucket",
                (&Method::GET, _) if q.is_empty() || has("list-type") => "ListBucket",
                _ => return Err(String::new()),
            };
            return Ok(vec![Request::new(&format!("s3:{action}"), bucket_arn)]);
        };
        let object = format!("{bucket_arn}/{key}");
        let action = match *m {
            Method::GET | Method::HEAD if q.is_empty() || has("partNumber") => "GetObject",
            Method::PUT | Method::POST => "PutObject",
            Method::DELETE if has("uploadId") => "AbortMultipartUpload",
            Method::DELETE if has("versionId") => "DeleteObjectVersion",
            Method::DELETE => "DeleteObject",
            _ => return Err(String::new()),
        };
        let mut out = vec![Request::new(&format!("s3:{action}"), object)];
        if let Some(source) = rec.headers.get("x-amz-copy-source") {
            let source = decode(source.to_str().unwrap_or_default().trim_start_matches('/'));
            let source = source.split('?').next().unwrap_or_default().to_string();
            out.push(Request::new(
                "s3:GetObject",
                format!("arn:aws:s3:::{source}"),
            ));
        }
        Ok(out)
    }

    fn cloudfront(&mut self, rec: &Recorded) -> Mapped {
        let parts: Vec<&str> = rec.path.trim_matches('/').split('/').skip(1).collect();
        let q = query(&rec.query);
        let m = &rec.method;
        let arn =
            |kind: &str, id: &str| format!("arn:aws:cloudfront::{}:{kind}/{id}", self.account);
        let text = String::from_utf8_lossy(&rec.body).to_string();
        let answer = String::from_utf8_lossy(&rec.answer).to_string();
        let request_tags = xml_tags(&text);
        let (action, resource) = match (parts.as_slice(), m) {
            (["distribution"], &Method::GET) => ("ListDistributions", "*".to_string()),
            (["distribution"], &Method::POST) => {
                let id = xml_all(&answer, "Id")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                let resource = arn("distribution", &id);
                self.tags.insert(resource.clone(), request_tags.clone());
                let create = Request::new("cloudfront:CreateDistribution", resource.clone())
                    .tags("RequestTag", &request_tags);
                let mut out = vec![create];
                if q.contains_key("WithTags") {
                    out.push(
                        Request::new("cloudfront:TagResource", resource)
                            .tags("RequestTag", &request_tags),
                    );
                }
                return Ok(out);
            }
            (["distribution", id], &Method::GET) => ("GetDistribution", arn("distribution", id)),
            (["distribution", id], &Method::DELETE) => {
                ("DeleteDistribution", arn("distribution", id))
            }
            (["distribution", id, "config"], &Method::GET) => {
                ("GetDistributionConfig", arn("distribution", id))
            }
            (["distribution", id, "config"], &Method::PUT) => {
                ("UpdateDistribution", arn("distribution", id))
            }
            (["distribution", id, "invalidation"], &Method::POST) => {
                ("CreateInvalidation", arn("distribution", id))
            }
            (["distribution", id, "invalidation"], &Method::GET) => {
                ("ListInvalidations", arn("distribution", id))
            }
            (["distribution", id, "invalidation", _], &Method::GET) => {
                ("GetInvalidation", arn("distribution", id))
            }
            (["origin-access-control"], &Method::GET) => ("ListOriginAccessControls", "*".into()),
            (["origin-access-control"], &Method::POST) => ("CreateOriginAccessControl", "*".into()),
            (["origin-access-control", id], &Method::GET) => {
                ("GetOriginAccessControl", arn("origin-access-control", id))
            }
            (["origin-access-control", id, "config"], &Method::GET) => (
                "GetOriginAccessControlConfig",
                arn("origin-access-control", id),
            ),
            (["origin-access-control", id, "config"], &Method::PUT) => (
                "UpdateOriginAccessControl",
                arn("origin-access-control", id),
            ),
            (["origin-access-control", id], &Method::DELETE) => (
                "DeleteOriginAccessControl",
                arn("origin-access-control", id),
            ),
            (["origin-access-identity", "cloudfront"], &Method::GET) => {
                ("ListCloudFrontOriginAccessIdentities", "*".into())
            }
            (["origin-access-identity", "cloudfront"], &Method::POST) => {
                let id = xml_all(&answer, "Id")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                (
                    "CreateCloudFrontOriginAccessIdentity",
                    arn("origin-access-identity", &id),
                )
            }
            (["origin-access-identity", "cloudfront", id], &Method::GET) => (
                "GetCloudFrontOriginAccessIdentity",
                arn("origin-access-identity", id),
            ),
            (["origin-access-identity", "cloudfront", id], &Method::DELETE) => (
                "DeleteCloudFrontOriginAccessIdentity",
                arn("origin-access-identity", id),
            ),
            (["response-headers-policy"], &Method::GET) => {
                ("ListResponseHeadersPolicies", "*".into())
            }
            (["response-headers-policy"], &Method::POST) => {
                let id = xml_all(&answer, "Id")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                (
                    "CreateResponseHeadersPolicy",
                    arn("response-headers-policy", &id),
                )
            }
            (["response-headers-policy", id], &Method::GET) => (
                "GetResponseHeadersPolicy",
                arn("response-headers-policy", id),
            ),
            (["response-headers-policy", id, "config"], &Method::GET) => (
                "GetResponseHeadersPolicyConfig",
                arn("response-headers-policy", id),
            ),
            (["response-headers-policy", id], &Method::PUT) => (
                "UpdateResponseHeadersPolicy",
                arn("response-headers-policy", id),
            ),
            (["response-headers-policy", id], &Method::DELETE) => (
                "DeleteResponseHeadersPolicy",
                arn("response-headers-policy", id),
            ),
            (["function"], &Method::POST) => {
                let name = xml_all(&text, "Name")
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                ("CreateFunction", arn("function", &name))
            }
            (["function", name], &Method::GET) => ("GetFunction", arn("function", name)),
            (["function", name], &Method::PUT) => ("UpdateFunction", arn("function", name)),
            (["function", name], &Method::DELETE) => ("DeleteFunction", arn("function", name)),
            (["function", name, "describe"], &Method::GET) => {
                ("DescribeFunction", arn("function", name))
            }
            (["function", name, "publish"], &Method::POST) => {
                ("PublishFunction", arn("function", name))
            }
            (["tagging"], &Method::GET) => {
                let resource = decode(q.get("Resource").map(String::as_str).unwrap_or_default());
                self.tags.insert(resource.clone(), xml_tags(&answer));
                ("ListTagsForResource", resource)
            }
            (["tagging"], &Method::POST) => {
                let resource = decode(q.get("Resource").map(String::as_str).unwrap_or_default());
                let action = match q.get("Operation").map(String::as_str) {
                    Some("Tag") => "TagResource",
                    Some("Untag") => "UntagResource",
                    _ => return Err(String::new()),
                };
                let request = Request::new(&format!("cloudfront:{action}"), resource.clone())
                    .tags("ResourceTag", &self.resource_tags(&resource))
                    .tags("RequestTag", &request_tags);
                if action == "TagResource" {
                    self.tags.entry(resource).or_default().extend(request_tags);
                }
                return Ok(vec![request]);
            }
            _ => return Err(String::new()),
        };
        let request = Request::new(&format!("cloudfront:{action}"), resource.clone())
            .tags("ResourceTag", &self.resource_tags(&resource));
        Ok(vec![request])
    }

    fn route53(&mut self, rec: &Recorded) -> Mapped {
        let parts: Vec<&str> = rec.path.trim_matches('/').split('/').skip(1).collect();
        let m = &rec.method;
        let zone = |id: &str| format!("arn:aws:route53:::hostedzone/{id}");
        let (action, resource) = match (parts.as_slice(), m) {
            (["hostedzonesbyname"], &Method::GET) => ("ListHostedZonesByName", "*".to_string()),
            (["hostedzone"], &Method::GET) => ("ListHostedZones", "*".into()),
            (["hostedzone"], &Method::POST) => ("CreateHostedZone", "*".into()),
            (["hostedzone", id], &Method::GET) => ("GetHostedZone", zone(id)),
            (["hostedzone", id], &Method::DELETE) => ("DeleteHostedZone", zone(id)),
            (["hostedzone", id, "rrset"], &Method::GET) => ("ListResourceRecordSets", zone(id)),
            (["hostedzone", id, "rrset"], &Method::POST) => ("ChangeResourceRecordSets", zone(id)),
            (["change", id], &Method::GET) => {
                ("GetChange", format!("arn:aws:route53:::change/{id}"))
            }
            (["tags", "hostedzone", id], &Method::GET) => ("ListTagsForResource", zone(id)),
            (["tags", "hostedzone", id], &Method::POST) => ("ChangeTagsForResource", zone(id)),
            _ => return Err(String::new()),
        };
        Ok(vec![Request::new(&format!("route53:{action}"), resource)])
    }
}

// ---- small parsers ---------------------------------------------------------------

/// Percent-decoding (and `+` as space, for forms).
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    query(&String::from_utf8_lossy(body))
}

fn query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

fn query_keys(q: &str) -> Vec<String> {
    query(q).into_keys().collect()
}

/// The text of every `<tag>…</tag>` element, in order.
fn xml_all(text: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].to_string());
        rest = &after[end + close.len()..];
    }
    out
}

fn unxml(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// CloudFront's `<Tag><Key>…</Key><Value>…</Value></Tag>` pairs.
fn xml_tags(text: &str) -> BTreeMap<String, String> {
    xml_all(text, "Tag")
        .iter()
        .map(|t| {
            let key = xml_all(t, "Key").pop().unwrap_or_default();
            let value = xml_all(t, "Value").pop().unwrap_or_default();
            (unxml(&key), unxml(&value))
        })
        .collect()
}

fn json_tags(v: &Value, key: &str, value: &str) -> BTreeMap<String, String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    Some((
                        t[key].as_str()?.to_string(),
                        t[value].as_str().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::bc/x"));
        assert!(!glob("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
        assert!(glob("*", "anything"));
        assert_eq!(decode("a%2Fb+c"), "a/b c");
    }
}
