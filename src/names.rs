//! AWS naming rules, and the names colorid derives from a stack.
//!
//! Names are derived, never random, so that a run killed half-way finds what
//! it made on the next run and `down` finds it without a state record.

use sha2::{Digest, Sha256};

/// The tag every resource of a stack carries: `colorid:stack=<name>`.
pub const STACK_TAG: &str = "colorid:stack";

/// The commercial AWS regions (and the partitions' well-known others).
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
    "cn-north-1",
    "cn-northwest-1",
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
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

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
pub fn check_issuer(issuer: &str) -> Result<(), &'static str> {
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err("must use https (plain http is allowed only for 127.0.0.1 and localhost)");
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

    /// The default bucket name: stack name plus account id, so it is globally unique.
    pub fn bucket(&self, account: &str) -> String {
        format!("colorid-{}-{}", self.stack, account)
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
    fn issuers() {
        assert!(check_issuer("https://auth.civic.com/oauth/").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000").is_ok());
        assert!(check_issuer("http://evil.example.com").is_err());
        assert!(check_issuer("ftp://x").is_err());
        assert!(check_issuer("https://").is_err());
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_ne!(digest(&["ab"]), digest(&["a", "b"]));
        assert_eq!(digest(&["x"]).len(), 32);
    }
}
