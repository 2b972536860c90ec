//! AWS naming rules, and the names colorid derives from a stack.
//!
//! Names are derived, never random, so that a run killed half-way finds what
//! it made on the next run and `down` finds it without a state record.

use sha2::{Digest, Sha256};

/// The tag every resource of a stack carries: `colorid:stack=<name>`.
pub const STACK_TAG: &str = "colorid:stack";

/// The regions of the commercial `aws` partition that colorid can deploy to.
///
/// colorid writes ARNs (`arn:aws:`), S3 and SSM host names (`amazonaws.com`),
/// and pins ACM, CloudFront and Route53 to us-east-1: all of that is the `aws`
/// partition's. China, GovCloud, ISO and sovereign regions are refused by
/// [`check_region`] with their own message.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The other partitions, by the region-code prefix that the SDK's endpoint
/// rules tell them apart by (smithy `partitions.json`, `regionRegex`).
const OTHER_PARTITIONS: &[(&str, &str)] = &[
    ("cn-", "AWS China (aws-cn)"),
    ("us-gov-", "AWS GovCloud (US) (aws-us-gov)"),
    ("us-isob-", "AWS ISO-B (aws-iso-b)"),
    ("us-isof-", "AWS ISO-F (aws-iso-f)"),
    ("us-iso-", "AWS ISO (aws-iso)"),
    ("eu-isoe-", "AWS ISO-E (aws-iso-e)"),
    ("eusc-", "AWS European Sovereign Cloud (aws-eusc)"),
];

/// Regions whose S3 buckets a CloudFront origin access identity cannot read:
/// "OAI doesn't support ... All Amazon S3 buckets in all AWS Regions, including
/// opt-in Regions launched after December 2022" (origin access control does).
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html>
/// The page states the rule, not a list; these are the opt-in regions opened
/// after December 2022 (Melbourne 2023-01, Tel Aviv 2023-08, Calgary 2023-12,
/// Malaysia 2024-08, Thailand 2025-01, Mexico 2025-01, Taipei 2025-06, New
/// Zealand 2025-09). Hyderabad, Spain, Zurich, UAE and Jakarta opened earlier.
pub const OAI_UNSUPPORTED_REGIONS: &[&str] = &[
    "ap-southeast-4",
    "il-central-1",
    "ca-west-1",
    "ap-southeast-5",
    "ap-southeast-7",
    "mx-central-1",
    "ap-east-2",
    "ap-southeast-6",
];

/// Why colorid cannot deploy to a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionProblem {
    /// Not a region code colorid knows.
    Unknown,
    /// A region of another partition, named.
    OtherPartition(&'static str),
}

impl RegionProblem {
    /// What is wrong, to follow the quoted region code.
    pub fn message(self) -> String {
        match self {
            RegionProblem::Unknown => "is not an AWS region".to_string(),
            RegionProblem::OtherPartition(partition) => format!(
                "is in the {partition} partition; colorid deploys only to the commercial `aws` partition (its ARNs, host names, and ACM, CloudFront and Route53 in us-east-1)"
            ),
        }
    }

    /// How to fix it.
    pub fn hint(self) -> &'static str {
        match self {
            RegionProblem::Unknown => "use a region code such as \"eu-west-1\" or \"us-east-1\"",
            RegionProblem::OtherPartition(_) => {
                "use a commercial region such as \"eu-west-1\" or \"us-east-1\"; China and GovCloud need separate accounts and are not supported"
            }
        }
    }
}

/// Checks that colorid can deploy to `region`.
pub fn check_region(region: &str) -> Result<(), RegionProblem> {
    if REGIONS.contains(&region) {
        return Ok(());
    }
    match OTHER_PARTITIONS.iter().find(|(p, _)| region.starts_with(p)) {
        Some((_, partition)) => Err(RegionProblem::OtherPartition(partition)),
        None => Err(RegionProblem::Unknown),
    }
}

/// Whether a CloudFront origin access identity can read a bucket in `region`.
pub fn origin_access_identity_supported(region: &str) -> bool {
    !OAI_UNSUPPORTED_REGIONS.contains(&region)
}

/// Checks a Route53 hosted zone id, with or without the `/hostedzone/` prefix;
/// returns the bare id.
pub fn check_hosted_zone_id(id: &str) -> Result<&str, &'static str> {
    let bare = id.strip_prefix("/hostedzone/").unwrap_or(id);
    // Route53 caps ids at 32 characters (API_HostedZone: Id, Length 0-32) and
    // issues them in upper case letters and digits, e.g. Z0123456789ABCDEFGHIJ.
    if bare.is_empty() || bare.len() > 32 {
        return Err("must be 1 to 32 characters long");
    }
    if !bare
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err("may hold only upper case letters and digits");
    }
    Ok(bare)
}

/// Checks a stack name: it becomes part of bucket, role, function and parameter names.
pub fn check_stack_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 32 {
        return Err("must be 1 to 32 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("may hold only lowercase letters, digits and hyphens");
    }
    if name.ends_with('-') || name.contains("--") {
        return Err("may not end with a hyphen or hold two in a row");
    }
    Ok(())
}

/// Checks a DNS host name (lowercase, no trailing dot); `wildcard` allows a leading `*.`.
pub fn check_dns_name(name: &str, wildcard: bool) -> Result<(), &'static str> {
    let body = match name.strip_prefix("*.") {
        Some(rest) if wildcard => rest,
        Some(_) => return Err("may not be a wildcard"),
        None => name,
    };
    if body.is_empty() || body.len() > 253 {
        return Err("must be 1 to 253 characters long");
    }
    let labels: Vec<&str> = body.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels, like example.com");
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err("has an empty label or one longer than 63 characters");
        }
        if !label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("may hold only letters, digits, hyphens and dots");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a label that starts or ends with a hyphen");
        }
    }
    Ok(())
}

/// Whether `name` is `zone` or lies below it.
pub fn within_zone(name: &str, zone: &str) -> bool {
    name == zone || name.ends_with(&format!(".{zone}"))
}

/// Checks an S3 bucket name against the general-purpose bucket rules.
pub fn check_bucket_name(name: &str) -> Result<(), &'static str> {
    if name.len() < 3 || name.len() > 63 {
        return Err("must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return Err("may hold only lowercase letters, digits, hyphens and dots");
    }
    let first_last_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !name.starts_with(first_last_ok) || !name.ends_with(first_last_ok) {
        return Err("must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err("may not hold two dots in a row or a dot next to a hyphen");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err("may not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") {
        return Err("uses a prefix or suffix that S3 reserves");
    }
    Ok(())
}

/// Checks an OpenID issuer URL: https, or http on a loopback host for local testing.
pub fn check_issuer(issuer: &str, allow_loopback_http: bool) -> Result<(), &'static str> {
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(
                "must use https (plain http is allowed only for 127.0.0.1 and localhost, with --local)",
            );
        }
        if !allow_loopback_http {
            return Err(
                "must use https: a plain-http issuer is for the local emulator only (--local)",
            );
        }
        rest
    } else {
        return Err("must be an https:// URL");
    };
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
    if host.is_empty() || issuer.contains(char::is_whitespace) || issuer.contains(['?', '#']) {
        return Err("is not a valid issuer URL (no spaces, query or fragment)");
    }
    Ok(())
}

/// A short, stable hex digest of the given parts, for idempotency tokens and caller references.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// Hex digits of the bucket name's per-incarnation suffix.
pub const BUCKET_SUFFIX: usize = 8;

/// Names derived from the stack name (and account, for the bucket).
#[derive(Debug, Clone)]
pub struct Names {
    pub stack: String,
}

impl Names {
    pub fn new(stack: &str) -> Self {
        Names {
            stack: stack.to_string(),
        }
    }

    /// The default bucket name's stem: stack name plus account id, so it is globally
    /// unique. Stacks brought up before buckets had incarnations use it as it is.
    pub fn bucket_stem(&self, account: &str) -> String {
        format!("colorid-{}-{}", self.stack, account)
    }

    /// The default bucket name of one incarnation of the stack: the stem and a suffix
    /// kept in the state, because S3 keeps a deleted bucket's name from being created
    /// again for hours (409 OperationAborted), so `down` then `up` needs a new name.
    /// At most 8 + 32 + 1 + 12 + 1 + 8 = 62 characters, within S3's 63.
    pub fn bucket(&self, account: &str, incarnation: &str) -> String {
        let suffix: String = incarnation.chars().take(BUCKET_SUFFIX).collect();
        format!("{}-{suffix}", self.bucket_stem(account))
    }

    /// Whether `bucket` is a name this stack derives for `account` (any incarnation).
    pub fn is_derived_bucket(&self, account: &str, bucket: &str) -> bool {
        let stem = self.bucket_stem(account);
        bucket == stem
            || bucket.strip_prefix(&stem).is_some_and(|rest| {
                rest.strip_prefix('-').is_some_and(|s| {
                    s.len() == BUCKET_SUFFIX && s.chars().all(|c| c.is_ascii_hexdigit())
                })
            })
    }

    /// The origin access control's name, unique per account.
    pub fn origin_access_control(&self) -> String {
        format!("colorid-{}", self.stack)
    }

    /// The comment that marks the stack's origin access identity.
    pub fn origin_access_identity_comment(&self) -> String {
        format!("colorid stack {}", self.stack)
    }

    /// The caller reference of the distribution, seeded by a nonce kept in the state
    /// (CloudFront refuses a reference it has seen, even of a deleted distribution).
    pub fn distribution_caller_reference(&self, nonce: &str) -> String {
        format!("colorid-{}-distribution-{nonce}", self.stack)
    }

    /// The caller reference of the origin access identity, seeded like the distribution's.
    pub fn oai_caller_reference(&self, nonce: &str) -> String {
        format!("colorid-{}-oai-{nonce}", self.stack)
    }

    /// The SSM path under which the stack keeps its state, lock and secrets.
    pub fn parameter_path(&self) -> String {
        format!("/colorid/{}", self.stack)
    }

    /// The SSM parameter holding the state record.
    pub fn state_parameter(&self) -> String {
        format!("{}/state", self.parameter_path())
    }

    /// The SSM parameter holding the lock.
    pub fn lock_parameter(&self) -> String {
        format!("{}/lock", self.parameter_path())
    }

    /// A parameter of the stack by its last path segment, e.g. `app-secret`.
    pub fn parameter(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.parameter_path())
    }

    /// The identity function's name (also its role's name).
    pub fn function(&self) -> String {
        format!("colorid-{}-identity", self.stack)
    }

    /// The identity function's IAM role.
    pub fn role(&self) -> String {
        format!("colorid-{}-identity", self.stack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names() {
        assert!(check_stack_name("colorid-demo").is_ok());
        assert!(check_stack_name("a").is_ok());
        for bad in ["", "Demo", "1abc", "a_b", "a--b", "ab-", &"a".repeat(33)] {
            assert!(check_stack_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dns_names() {
        assert!(check_dns_name("color.example.com", false).is_ok());
        assert!(check_dns_name("*.example.com", true).is_ok());
        assert!(check_dns_name("*.example.com", false).is_err());
        for bad in [
            "example",
            "-a.example.com",
            "a..com",
            "a_b.example.com",
            "A.com",
        ] {
            assert!(check_dns_name(bad, false).is_err(), "{bad}");
        }
        assert!(within_zone("a.example.com", "example.com"));
        assert!(within_zone("example.com", "example.com"));
        assert!(!within_zone("aexample.com", "example.com"));
    }

    #[test]
    fn regions_of_other_partitions_are_named() {
        assert_eq!(check_region("eu-west-1"), Ok(()));
        assert_eq!(check_region("us-east-1"), Ok(()));
        assert_eq!(check_region("eu-middle-7"), Err(RegionProblem::Unknown));
        for (region, partition) in [
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "(aws-iso)"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            match check_region(region) {
                Err(p @ RegionProblem::OtherPartition(name)) => {
                    assert!(name.contains(partition), "{region}: {name}");
                    assert!(p.message().contains("`aws` partition"), "{region}");
                }
                other => panic!("{region}: {other:?}"),
            }
        }
    }

    #[test]
    fn origin_access_identity_regions() {
        assert!(origin_access_identity_supported("eu-west-1"));
        assert!(origin_access_identity_supported("ap-south-2"));
        assert!(!origin_access_identity_supported("ap-southeast-4"));
        assert!(!origin_access_identity_supported("il-central-1"));
        for r in OAI_UNSUPPORTED_REGIONS {
            assert!(REGIONS.contains(r), "{r} is not a known region");
        }
    }

    #[test]
    fn hosted_zone_ids() {
        assert_eq!(check_hosted_zone_id("Z0123456789ABC"), Ok("Z0123456789ABC"));
        assert_eq!(
            check_hosted_zone_id("/hostedzone/Z0123456789ABC"),
            Ok("Z0123456789ABC")
        );
        for bad in [
            "",
            "z012",
            "Z-12",
            "/hostedzone/",
            &"Z".repeat(33),
            "hostedzone/Z1",
        ] {
            assert!(check_hosted_zone_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bucket_names() {
        assert!(check_bucket_name("colorid-demo-123456789012").is_ok());
        for bad in [
            "ab",
            "Upper",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "a-",
            "abc-s3alias",
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derived_bucket_names_fit_and_are_recognised() {
        let names = Names::new(&"a".repeat(32));
        let b = names.bucket("123456789012", "0123456789abcdef");
        assert!(check_bucket_name(&b).is_ok(), "{b}");
        assert_eq!(b.len(), 62);
        assert!(names.is_derived_bucket("123456789012", &b));
        assert!(names.is_derived_bucket("123456789012", &names.bucket_stem("123456789012")));
        assert!(!names.is_derived_bucket("123456789012", &format!("{b}0")));
        assert!(!names.is_derived_bucket("210987654321", &b));
    }

    #[test]
    fn issuers() {
        for local in [false, true] {
            assert!(check_issuer("https://auth.civic.com/oauth/", local).is_ok());
            assert!(check_issuer("http://evil.example.com", local).is_err());
            assert!(check_issuer("ftp://x", local).is_err());
            assert!(check_issuer("https://", local).is_err());
        }
        assert!(check_issuer("http://127.0.0.1:9000", true).is_ok());
        assert!(check_issuer("http://127.0.0.1:9000", false).is_err());
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["ab"]), digest(&["a", "b"]));
        assert_eq!(digest(&["x"]).len(), 32);
    }
}
