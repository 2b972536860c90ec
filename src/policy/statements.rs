//! The statements of the deployer's policy, one group per resource kind, in
//! the order `up` meets them. Each names the stack's own resource by ARN where
//! the service has a resource type for the action, and conditions on the
//! stack's tag where the resource's name is not known in advance (ACM
//! certificates and CloudFront distributions get ids from AWS).

use super::document::Statement;
use super::target::{Target, Zone};
use crate::names::STACK_TAG;

/// CloudFront's and ACM's ARNs live in us-east-1 (ACM) or no region (CloudFront).
const GLOBAL_REGION: &str = "us-east-1";

/// The stack's bucket names: the stack file's `bucket`, else the derived name of
/// any incarnation (`colorid-<stack>-<account>` and that with an 8-hex suffix, one
/// `?` per character, so no other stack's name matches).
fn bucket_names(t: &Target) -> Vec<String> {
    if t.bucket_chosen {
        vec![t.bucket.clone()]
    } else {
        vec![
            t.bucket.clone(),
            format!("{}-{}", t.bucket, "?".repeat(crate::names::BUCKET_SUFFIX)),
        ]
    }
}

fn bucket(t: &Target) -> Vec<String> {
    bucket_names(t)
        .iter()
        .map(|b| format!("arn:aws:s3:::{b}"))
        .collect()
}

fn objects(t: &Target) -> Vec<String> {
    bucket_names(t)
        .iter()
        .map(|b| format!("arn:aws:s3:::{b}/*"))
        .collect()
}

/// The parameter path itself (`GetParametersByPath` is authorized on it) and everything below.
fn parameters(t: &Target) -> Vec<String> {
    let base = format!(
        "arn:aws:ssm:{}:{}:parameter{}",
        t.region,
        t.account,
        t.names.parameter_path()
    );
    vec![base.clone(), format!("{base}/*")]
}

fn role(t: &Target) -> String {
    format!("arn:aws:iam::{}:role/{}", t.account, t.names.role())
}

fn function(t: &Target) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{}",
        t.region,
        t.account,
        t.names.function()
    )
}

fn cloudfront(t: &Target, kind: &str, name: &str) -> String {
    format!("arn:aws:cloudfront::{}:{kind}/{name}", t.account)
}

fn tag_key(kind: &str) -> String {
    format!("aws:{kind}/{STACK_TAG}")
}

/// Everything `up`, `down`, `plan`, `status`, `logs` and `publish` call.
pub fn up(t: &Target) -> Vec<Statement> {
    let stack = t.names.stack.as_str();
    let mut out = vec![
        Statement::allow(
            "StackBucket",
            &[
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:GetBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:GetEncryptionConfiguration",
                "s3:PutEncryptionConfiguration",
                "s3:GetBucketTagging",
                "s3:PutBucketTagging",
                "s3:GetBucketPublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
            ],
            bucket(t),
        ),
        Statement::allow(
            "StackBucketObjects",
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:AbortMultipartUpload",
            ],
            objects(t),
        ),
        Statement::allow(
            "StackParameters",
            &[
                "ssm:GetParameter",
                "ssm:GetParameters",
                "ssm:GetParametersByPath",
                "ssm:PutParameter",
                "ssm:DeleteParameter",
                "ssm:DeleteParameters",
                "ssm:AddTagsToResource",
                "ssm:ListTagsForResource",
            ],
            parameters(t),
        ),
        Statement::allow(
            "StackFunctionRole",
            &[
                "iam:GetRole",
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:TagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:GetRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
            ],
            vec![role(t)],
        ),
        Statement::allow("PassStackRoleToLambda", &["iam:PassRole"], vec![role(t)]).when(
            "StringEquals",
            "iam:PassedToService",
            "lambda.amazonaws.com",
        ),
        Statement::allow(
            "StackFunction",
            &[
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:CreateFunction",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:TagResource",
                "lambda:ListTags",
                "lambda:GetFunctionUrlConfig",
                "lambda:CreateFunctionUrlConfig",
                "lambda:UpdateFunctionUrlConfig",
                "lambda:DeleteFunctionUrlConfig",
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:GetPolicy",
                "lambda:GetFunctionConcurrency",
                "lambda:PutFunctionConcurrency",
                "lambda:DeleteFunctionConcurrency",
            ],
            vec![function(t)],
        ),
        log_group(t),
    ];
    if t.certificate {
        let certificates = format!("arn:aws:acm:{GLOBAL_REGION}:{}:certificate/*", t.account);
        out.push(Statement::allow(
            "CertificateReads",
            &["acm:DescribeCertificate", "acm:ListTagsForCertificate"],
            vec![certificates.clone()],
        ));
        out.push(
            Statement::allow(
                "RequestStackCertificate",
                &["acm:RequestCertificate"],
                vec!["*".into()],
            )
            .when("StringEquals", &tag_key("RequestTag"), stack),
        );
        out.push(
            Statement::allow(
                "TagStackCertificate",
                &["acm:AddTagsToCertificate"],
                vec![certificates.clone()],
            )
            .when("StringEquals", &tag_key("RequestTag"), stack),
        );
        out.push(
            Statement::allow(
                "DeleteStackCertificate",
                &["acm:DeleteCertificate"],
                vec![certificates],
            )
            .when("StringEquals", &tag_key("ResourceTag"), stack),
        );
    }
    if let Some(zone) = &t.zone {
        let id = match zone {
            Zone::Id(id) => id.as_str(),
            Zone::Any => "*",
        };
        out.push(Statement::allow(
            "StackZoneRecords",
            &[
                "route53:GetHostedZone",
                "route53:ListResourceRecordSets",
                "route53:ChangeResourceRecordSets",
                "route53:ListTagsForResource",
            ],
            vec![format!("arn:aws:route53:::hostedzone/{id}")],
        ));
        out.push(Statement::allow(
            "DnsChangeStatus",
            &["route53:GetChange"],
            vec!["arn:aws:route53:::change/*".into()],
        ));
    }
    out.extend(cloudfront_statements(t));
    let mut lists = vec![
        "cloudfront:ListDistributions",
        "cloudfront:ListOriginAccessControls",
        "cloudfront:ListCloudFrontOriginAccessIdentities",
        "cloudfront:ListResponseHeadersPolicies",
        "logs:DescribeLogGroups",
        // The account's concurrency, read before a reservation or a large memory size.
        "lambda:GetAccountSettings",
    ];
    if !t.bucket_chosen {
        // A derived bucket lost from the state is found by listing the stem's buckets.
        lists.push("s3:ListAllMyBuckets");
    }
    if t.certificate {
        lists.push("acm:ListCertificates");
    }
    if t.zone.is_some() {
        lists.push("route53:ListHostedZonesByName");
    }
    out.push(Statement::allow(
        "ListWithoutResourceType",
        &lists,
        vec!["*".into()],
    ));
    out.push(Statement::allow(
        "CreateWithoutResourceType",
        &["cloudfront:CreateOriginAccessControl"],
        vec!["*".into()],
    ));
    if t.local && t.zone.is_some() {
        // On the emulator colorid creates the zone it is given, and `down` deletes it.
        out.push(Statement::allow(
            "LocalZoneCreate",
            &["route53:CreateHostedZone"],
            vec!["*".into()],
        ));
        out.push(Statement::allow(
            "LocalZoneDelete",
            &["route53:DeleteHostedZone"],
            vec!["arn:aws:route53:::hostedzone/*".into()],
        ));
    }
    out
}

fn log_group(t: &Target) -> Statement {
    let group = format!(
        "arn:aws:logs:{}:{}:log-group:/aws/lambda/{}",
        t.region,
        t.account,
        t.names.function()
    );
    Statement::allow(
        "StackLogGroup",
        &[
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:ListTagsForResource",
            "logs:FilterLogEvents",
        ],
        vec![group.clone(), format!("{group}:*")],
    )
}

/// The distribution (by tag), its origin access, headers policy and viewer function.
fn cloudfront_statements(t: &Target) -> Vec<Statement> {
    let stack = t.names.stack.as_str();
    let distributions = cloudfront(t, "distribution", "*");
    vec![
        Statement::allow(
            "DistributionReads",
            &[
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:ListTagsForResource",
            ],
            vec![distributions.clone()],
        ),
        Statement::allow(
            "CreateStackDistribution",
            &["cloudfront:CreateDistribution", "cloudfront:TagResource"],
            vec![distributions.clone()],
        )
        .when("StringEquals", &tag_key("RequestTag"), stack),
        Statement::allow(
            "ChangeStackDistribution",
            &[
                "cloudfront:UpdateDistribution",
                "cloudfront:DeleteDistribution",
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
            ],
            vec![distributions],
        )
        .when("StringEquals", &tag_key("ResourceTag"), stack),
        Statement::allow(
            "OriginAccess",
            &[
                "cloudfront:GetOriginAccessControl",
                "cloudfront:UpdateOriginAccessControl",
                "cloudfront:DeleteOriginAccessControl",
                "cloudfront:CreateCloudFrontOriginAccessIdentity",
                "cloudfront:GetCloudFrontOriginAccessIdentity",
                "cloudfront:DeleteCloudFrontOriginAccessIdentity",
            ],
            vec![
                cloudfront(t, "origin-access-control", "*"),
                cloudfront(t, "origin-access-identity", "*"),
            ],
        ),
        Statement::allow(
            "HeadersPolicy",
            &[
                "cloudfront:CreateResponseHeadersPolicy",
                "cloudfront:GetResponseHeadersPolicy",
                "cloudfront:GetResponseHeadersPolicyConfig",
                "cloudfront:UpdateResponseHeadersPolicy",
                "cloudfront:DeleteResponseHeadersPolicy",
            ],
            vec![cloudfront(t, "response-headers-policy", "*")],
        ),
        Statement::allow(
            "StackViewerFunction",
            &[
                "cloudfront:CreateFunction",
                "cloudfront:DescribeFunction",
                "cloudfront:GetFunction",
                "cloudfront:UpdateFunction",
                "cloudfront:PublishFunction",
                "cloudfront:DeleteFunction",
            ],
            vec![cloudfront(
                t,
                "function",
                &crate::stack::viewer_function::name(&t.names),
            )],
        ),
    ]
}

/// Only what `publish` calls: the bucket's objects, the stack's parameters
/// (read; the lock written), and invalidations of the stack's distribution.
pub fn publish(t: &Target) -> Vec<Statement> {
    let lock = format!(
        "arn:aws:ssm:{}:{}:parameter{}",
        t.region,
        t.account,
        t.names.lock_parameter()
    );
    vec![
        Statement::allow("StackBucket", &["s3:ListBucket"], bucket(t)),
        Statement::allow(
            "StackBucketObjects",
            &[
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
            ],
            objects(t),
        ),
        Statement::allow(
            "StackParameters",
            &["ssm:GetParameter", "ssm:GetParameters"],
            parameters(t),
        ),
        Statement::allow(
            "StackLock",
            &[
                "ssm:PutParameter",
                "ssm:DeleteParameter",
                "ssm:AddTagsToResource",
            ],
            vec![lock],
        ),
        Statement::allow(
            "InvalidateStackDistribution",
            &[
                "cloudfront:CreateInvalidation",
                "cloudfront:GetInvalidation",
            ],
            vec![cloudfront(t, "distribution", "*")],
        )
        .when("StringEquals", &tag_key("ResourceTag"), &t.names.stack),
    ]
}
