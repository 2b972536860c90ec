//! What a person should do about a failure: the one table of advice for AWS
//! error codes and credential problems, each naming the command that fixes it.
//!
//! The credential chain reports its failures as text, not as types a caller can
//! branch on; so the profile in use (named, and whether it signs in through
//! SSO) is read from ~/.aws before any call, and the advice follows from that.

use std::sync::OnceLock;

use aws_credential_types::provider::error::CredentialsError;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

/// Where this run's credentials come from, as far as the advice needs to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    /// The profile named by `--profile` or `AWS_PROFILE`; `None` for the default chain.
    pub profile: Option<String>,
    /// The profile signs in through IAM Identity Center (`sso_session` or `sso_start_url`).
    pub sso: bool,
}

static SOURCE: OnceLock<Source> = OnceLock::new();

/// Records this run's credential source (once per process; the CLI runs one command).
pub fn set_source(source: Source) {
    let _ = SOURCE.set(source);
}

fn source() -> Source {
    SOURCE.get().cloned().unwrap_or_default()
}

/// A problem with the local AWS set-up: what is wrong, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub problem: String,
    pub fix: String,
}

/// Reads the profile files and finds the profile in use. A profile asked for by
/// name (`--profile`, `AWS_PROFILE`) that neither file defines is a problem.
pub async fn inspect(profile: Option<&str>) -> Result<Source, Problem> {
    let env = Env::real();
    inspect_with(&env, &Fs::real(), profile).await
}

/// [`inspect`] with the environment and file system given (tests).
pub async fn inspect_with(env: &Env, fs: &Fs, profile: Option<&str>) -> Result<Source, Problem> {
    let named = profile
        .map(str::to_string)
        .or_else(|| env.get("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    let files = aws_config::profile::load(
        fs,
        env,
        &EnvConfigFiles::default(),
        named.clone().map(Into::into),
    )
    .await
    .ok();
    let selected = named.clone().unwrap_or_else(|| "default".into());
    let found = files.as_ref().and_then(|f| f.get_profile(&selected));
    if let Some(name) = &named
        && found.is_none()
    {
        let mut known: Vec<&str> = files.iter().flat_map(|f| f.profiles()).collect();
        known.sort_unstable();
        let known = if known.is_empty() {
            "no profile is defined".to_string()
        } else {
            format!("defined: {}", known.join(", "))
        };
        return Err(Problem {
            problem: format!(
                "the AWS profile {name:?} is not in ~/.aws/config or ~/.aws/credentials ({known})"
            ),
            fix: format!(
                "run `aws configure --profile {name}` (or `aws configure sso --profile {name}`), or pass an existing --profile"
            ),
        });
    }
    let sso =
        found.is_some_and(|p| p.get("sso_session").is_some() || p.get("sso_start_url").is_some());
    Ok(Source {
        profile: named,
        sso,
    })
}

/// The command that gives the run fresh credentials.
fn sign_in() -> String {
    let s = source();
    match (&s.profile, s.sso) {
        (Some(p), true) => format!("aws sso login --profile {p}"),
        (None, true) => "aws sso login".into(),
        (Some(p), false) => format!("aws configure --profile {p}"),
        (None, false) => "aws configure".into(),
    }
}

/// The profile in words, for messages.
fn profile_words() -> String {
    match source().profile {
        Some(p) => format!("profile {p}"),
        None => "the default credential chain".into(),
    }
}

/// Finds a credential-loading failure in an error's source chain.
pub fn credentials_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialsError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(c);
        }
        next = e.source();
    }
    None
}

/// What went wrong loading credentials, and what to run.
pub fn for_credentials(err: &CredentialsError) -> Problem {
    let s = source();
    if s.sso {
        return Problem {
            problem: format!(
                "the AWS SSO session of {} has expired (or was never started)",
                profile_words()
            ),
            fix: format!("run `{}`, then the same command again", sign_in()),
        };
    }
    let problem = match err {
        CredentialsError::ProviderTimedOut(_) => {
            format!("loading AWS credentials ({}) timed out", profile_words())
        }
        CredentialsError::InvalidConfiguration(_) => format!(
            "the AWS credentials of {} are configured wrongly",
            profile_words()
        ),
        _ => format!(
            "no AWS credentials found ({}: environment, ~/.aws, instance role)",
            profile_words()
        ),
    };
    Problem {
        problem,
        fix: format!(
            "run `{}` (or `aws sso login --profile P` and pass --profile P); to try colorid without AWS, use --local with the local emulator (`colorid --help` says how to start it)",
            sign_in()
        ),
    }
}

/// AWS refused a call: how to say what it said, for the codes a person can act on.
/// `message` is AWS's own; an access denial is shortened to who may not do what on which resource.
pub fn said(code: &str, message: Option<&str>) -> String {
    if is_denied(code)
        && let Some((who, action, resource)) = message.and_then(parse_denial)
    {
        return format!("{code}: {who} may not {action} on {resource}");
    }
    match message {
        Some(m) => format!("{code}: {m}"),
        None => code.to_string(),
    }
}

fn is_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"
    )
}

/// `User: <arn> is not authorized to perform: <action> on resource: <resource> [because ...]`.
fn parse_denial(message: &str) -> Option<(&str, &str, &str)> {
    let (head, rest) = message.split_once(" is not authorized to perform: ")?;
    let who = head.rsplit(' ').next()?;
    let (action, rest) = rest.split_once(" on resource: ")?;
    let resource = rest.split([' ', ',']).next()?;
    Some((who, action.trim(), resource))
}

/// What a person should do about an AWS error code (and AWS's message, for
/// denials): the one table, for the engine's steps and publish alike; `None`
/// when the code has no advice of its own.
pub fn for_code(code: &str, message: Option<&str>) -> Option<String> {
    Some(match code {
        c if is_denied(c) => match message.and_then(parse_denial) {
            Some((who, action, resource)) => format!(
                "allow {action} on {resource} for {who} (an IAM policy on that user or role), then run again"
            ),
            None => "grant the credentials in use the permission named above (an IAM policy on that user or role), then run again".into(),
        },
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
            format!("your AWS credentials have expired: run `{}`, then the same command again", sign_in())
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "AuthFailure" => format!(
            "AWS does not accept these credentials (a deleted key, or a region not enabled for the account): run `{}`, or pick an enabled region (`region` in the stack file or --region)",
            sign_in()
        ),
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException" => {
            "the resource lives in another region: set `region` in the stack file to it, or pass --region".into()
        }
        "Throttling"
        | "ThrottlingException"
        | "SlowDown"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "PriorRequestNotComplete" => {
            "AWS is throttling this account: wait a minute and run again (it resumes where it stopped); for publish, a lower [publish] concurrency helps".into()
        }
        // Quotas: waiting does not lift them (the SDK does not retry them, see guards.rs).
        "TooManyOriginAccessControls" => quota("CloudFront's quota of origin access controls (100 per account)", "delete unused ones (CloudFront console → Security → Origin access)", "CloudFront"),
        "TooManyResponseHeadersPolicies" => quota("CloudFront's quota of response headers policies (20 per account)", "delete unused custom policies (CloudFront console → Policies → Response headers)", "CloudFront"),
        "TooManyFunctions" => quota("CloudFront's quota of CloudFront Functions (100 per account)", "delete unused functions (CloudFront console → Functions)", "CloudFront"),
        "TooManyDistributions" => quota("CloudFront's quota of distributions (200 per account)", "delete disabled distributions you no longer use", "CloudFront"),
        "TooManyCloudFrontOriginAccessIdentities" => quota("CloudFront's quota of origin access identities (100 per account)", "delete unused identities, or use origin_access = \"control\"", "CloudFront"),
        "LimitExceededException" => quota("a quota of this account (for ACM: 2,500 certificates, and at most twice that requested in 365 days; for CloudWatch Logs: log groups)", "delete certificates or log groups you no longer use (`aws acm list-certificates --region us-east-1`)", "AWS Certificate Manager or CloudWatch Logs"),
        "LimitExceeded" => quota("IAM's quota of this kind of entity (e.g. 1,000 roles per account)", "delete roles you no longer use", "IAM"),
        "NoSuchBucket" => "the bucket does not exist: run `colorid up` first".into(),
        "NoSuchDistribution" => "the distribution does not exist: run `colorid up` first".into(),
        "BadDigest" | "InvalidDigest" => {
            "the body S3 received did not match its checksum (the file changed while it was being uploaded, or it was damaged on the way): run publish again once the site build has finished".into()
        }
        "TooManyInvalidationsInProgress" => {
            "CloudFront has too many invalidations in progress: wait a few minutes and run publish again (files already uploaded are not uploaded again)".into()
        }
        "EntityTooLarge" => {
            "the file is larger than S3 allows in one request: lower [publish] multipart_threshold_mib".into()
        }
        _ => return None,
    })
}

/// The advice for a reached quota: what it is, how to make room, where to ask for more.
fn quota(what: &str, make_room: &str, service: &str) -> String {
    format!(
        "this account has reached {what}; waiting does not lift it: {make_room}, or ask for a higher quota in the Service Quotas console ({service}), then run the same command again"
    )
}

/// The advice for an AWS error that has no advice of its own: runs resume.
pub const RUN_AGAIN: &str =
    "fix the cause above and run the same command again: it resumes where it stopped";

/// The advice for an endpoint that could not be reached.
pub const UNREACHABLE: &str = "AWS could not be reached: check the network, the region and any endpoint override (with --local: is the emulator running at COLORID_LOCAL_ENDPOINT, default http://127.0.0.1:4566? `colorid --help` says how to start it)";

/// The advice for `code`, falling back to [`RUN_AGAIN`].
pub fn remedy_for(code: Option<&str>, message: Option<&str>) -> String {
    code.and_then(|c| for_code(c, message))
        .unwrap_or_else(|| RUN_AGAIN.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_throttling_and_missing_resources_have_their_advice() {
        assert!(
            for_code("InvalidAccessKeyId", None)
                .unwrap()
                .contains("aws configure")
        );
        assert!(
            for_code("ExpiredToken", None)
                .unwrap()
                .contains("aws configure")
        );
        assert!(for_code("SlowDown", None).unwrap().contains("concurrency"));
        assert!(
            for_code("NoSuchBucket", None)
                .unwrap()
                .contains("colorid up")
        );
        assert_eq!(remedy_for(Some("SomethingElse"), None), RUN_AGAIN);
        assert_eq!(remedy_for(None, None), RUN_AGAIN);
    }

    #[test]
    fn shortens_an_access_denial_to_who_what_and_where() {
        let m = "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:eu-west-1:123456789012:parameter/colorid/x/state because no identity-based policy allows the ssm:GetParameter action";
        assert_eq!(
            said("AccessDeniedException", Some(m)),
            "AccessDeniedException: arn:aws:iam::123456789012:user/dev may not ssm:GetParameter on arn:aws:ssm:eu-west-1:123456789012:parameter/colorid/x/state"
        );
        let r = remedy_for(Some("AccessDeniedException"), Some(m));
        assert!(
            r.starts_with("allow ssm:GetParameter on arn:aws:ssm:"),
            "{r}"
        );
        assert_eq!(
            said("AccessDenied", Some("Access Denied")),
            "AccessDenied: Access Denied"
        );
    }

    #[tokio::test]
    async fn an_unknown_profile_names_the_known_ones_and_the_fix() {
        let env = Env::from_slice(&[("HOME", "/home/u")]);
        let fs = Fs::from_slice(&[(
            "/home/u/.aws/config",
            "[default]\nregion = eu-west-1\n[profile work]\nsso_session = corp\n[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n",
        )]);
        let err = inspect_with(&env, &fs, Some("nope")).await.unwrap_err();
        assert!(
            err.problem.contains("\"nope\"") && err.problem.contains("default, work"),
            "{err:?}"
        );
        assert!(err.fix.contains("aws configure --profile nope"), "{err:?}");
        let work = inspect_with(&env, &fs, Some("work")).await.unwrap();
        assert_eq!(
            work,
            Source {
                profile: Some("work".into()),
                sso: true
            }
        );
        let default = inspect_with(&env, &fs, None).await.unwrap();
        assert_eq!(
            default,
            Source {
                profile: None,
                sso: false
            }
        );
    }
}
