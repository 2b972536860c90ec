//! What a person should do about an AWS error code: one table for every
//! command (the engine's steps and publish alike), so the same refusal always
//! gets the same advice.

/// The advice for `code`, or `None` when the code has no specific advice.
pub fn for_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            "grant the credentials in use the permission for the call and resource named above (README: permissions), then run again"
        }
        "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired" => {
            "the AWS credentials are invalid or expired: refresh them (`aws configure`, or `aws sso login --profile P`), or use --local for the emulator, and run again"
        }
        "Throttling"
        | "ThrottlingException"
        | "SlowDown"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "PriorRequestNotComplete" => {
            "AWS is throttling this account: wait a minute and run again (it resumes where it stopped); for publish, a lower [publish] concurrency helps"
        }
        "NoSuchBucket" => "the bucket does not exist: run `colorid up` first",
        "NoSuchDistribution" => "the distribution does not exist: run `colorid up` first",
        "BadDigest" | "InvalidDigest" => {
            "the file changed while it was being uploaded: run publish again once the site build has finished"
        }
        "TooManyInvalidationsInProgress" => {
            "CloudFront has too many invalidations in progress: wait a few minutes and run publish again (files already uploaded are not uploaded again)"
        }
        "EntityTooLarge" => {
            "the file is larger than S3 allows in one request: lower [publish] multipart_threshold_mib"
        }
        _ => return None,
    })
}

/// The advice for an AWS error that has no specific advice: runs resume.
pub const RUN_AGAIN: &str =
    "fix the cause above and run the same command again: it resumes where it stopped";

/// The advice for an endpoint that could not be reached.
pub const UNREACHABLE: &str = "AWS could not be reached: check the network, the region and any endpoint override (with --local: is the emulator running? scripts/demo starts it)";

/// The advice for `code`, falling back to [`RUN_AGAIN`].
pub fn for_code_or_default(code: Option<&str>) -> &'static str {
    code.and_then(for_code).unwrap_or(RUN_AGAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_throttling_and_missing_resources_have_their_advice() {
        assert!(
            for_code("InvalidAccessKeyId")
                .unwrap()
                .contains("aws configure")
        );
        assert!(for_code("ExpiredToken").unwrap().contains("aws sso login"));
        assert!(for_code("SlowDown").unwrap().contains("concurrency"));
        assert!(for_code("NoSuchBucket").unwrap().contains("colorid up"));
        assert_eq!(for_code_or_default(Some("SomethingElse")), RUN_AGAIN);
        assert_eq!(for_code_or_default(None), RUN_AGAIN);
    }
}
