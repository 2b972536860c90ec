//! `colorid policy`: the IAM policy a deployer needs for one stack, scoped to
//! the stack's own resources wherever the service allows it.
//!
//! Resource types and condition keys follow AWS's Service Authorization
//! Reference (<https://docs.aws.amazon.com/service-authorization/latest/reference/>):
//! S3 (`list_amazons3.html`), SSM (`list_awssystemsmanager.html`), IAM
//! (`list_awsidentityandaccessmanagementiam.html`), Lambda (`list_awslambda.html`),
//! CloudWatch Logs (`list_amazoncloudwatchlogs.html`), ACM
//! (`list_awscertificatemanager.html`), CloudFront (`list_amazoncloudfront.html`),
//! Route53 (`list_amazonroute53.html`). Statements whose resource is `*` are
//! those AWS gives no resource-level permission for; each is named by its
//! `Sid` and explained in the README ("The deployer's policy").

mod document;
mod statements;
mod target;

pub use document::{Policy, Statement};
pub use target::{Target, Zone};

/// Which commands the policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `up`, `down`, `plan`, `status`, `logs` and `publish`.
    Up,
    /// Only `publish` (a site-only pipeline).
    Publish,
}

/// The `Sid`s of the statements whose resource is `*`, and why: AWS defines no
/// resource type for these actions (the README explains each).
pub const UNSCOPED: &[(&str, &str)] = &[
    (
        "ListWithoutResourceType",
        "list and look-up actions that act on the whole account: cloudfront:ListDistributions, ListOriginAccessControls, ListCloudFrontOriginAccessIdentities, ListResponseHeadersPolicies; logs:DescribeLogGroups; acm:ListCertificates; route53:ListHostedZonesByName",
    ),
    (
        "CreateWithoutResourceType",
        "cloudfront:CreateOriginAccessControl: the action has no resource type",
    ),
    (
        "RequestStackCertificate",
        "acm:RequestCertificate: no resource type (the certificate does not exist yet); allowed only with the stack's tag on the request",
    ),
    (
        "LocalZoneCreate",
        "only against the emulator (`--local`): route53:CreateHostedZone (no resource type), which colorid never calls on AWS",
    ),
];

/// The policy for `target` and `scope`.
pub fn for_stack(target: &Target, scope: Scope) -> Policy {
    let statement = match scope {
        Scope::Up => statements::up(target),
        Scope::Publish => statements::publish(target),
    };
    Policy {
        version: "2012-10-17",
        statement,
    }
}

/// The target of the stack `ctx` describes: the account (from the state record,
/// else STS), the bucket's name, and the hosted zone's id when it exists.
pub async fn target(ctx: &crate::stack::Ctx) -> crate::error::Result<Target> {
    let account = crate::session::account_id(ctx).await?;
    let zone = if ctx.stack.uses_route53() {
        Some(match crate::stack::zone::find_zone(ctx).await? {
            Some(id) => Zone::Id(id.trim_start_matches("/hostedzone/").to_string()),
            None if ctx.aws.is_local() => Zone::Any,
            None => return Err(crate::stack::zone::missing(ctx)),
        })
    } else {
        None
    };
    Ok(Target {
        names: ctx.names.clone(),
        bucket: ctx
            .stack
            .bucket
            .clone()
            .unwrap_or_else(|| ctx.names.bucket_stem(&account)),
        bucket_chosen: ctx.stack.bucket.is_some(),
        account,
        region: ctx.aws.region(),
        zone,
        certificate: ctx.stack.has_certificate(),
        local: ctx.aws.is_local(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Names;

    fn target() -> Target {
        Target {
            names: Names::new("demo"),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            bucket: "colorid-demo-123456789012".into(),
            bucket_chosen: false,
            zone: Some(Zone::Id("Z0123".into())),
            certificate: true,
            local: false,
        }
    }

    #[test]
    fn stars_only_in_the_documented_statements() {
        for scope in [Scope::Up, Scope::Publish] {
            let p = for_stack(&target(), scope);
            for s in &p.statement {
                let star = s.resource.iter().any(|r| r == "*");
                let listed = UNSCOPED.iter().any(|(sid, _)| *sid == s.sid);
                assert_eq!(star, listed, "{}", s.sid);
                assert!(s.action.iter().all(|a| !a.contains('*')), "{}", s.sid);
            }
            let sids: std::collections::BTreeSet<_> = p.statement.iter().map(|s| &s.sid).collect();
            assert_eq!(sids.len(), p.statement.len(), "duplicate Sid");
        }
    }

    #[test]
    fn pass_role_is_for_the_stack_role_and_lambda_only() {
        let p = for_stack(&target(), Scope::Up);
        let pass: Vec<_> = p
            .statement
            .iter()
            .filter(|s| s.action.iter().any(|a| a == "iam:PassRole"))
            .collect();
        assert_eq!(pass.len(), 1);
        assert_eq!(
            pass[0].resource,
            ["arn:aws:iam::123456789012:role/colorid-demo-identity"]
        );
        assert_eq!(
            pass[0].condition["StringEquals"]["iam:PassedToService"],
            ["lambda.amazonaws.com"]
        );
    }

    #[test]
    fn publish_needs_no_iam_lambda_or_certificate() {
        let json = for_stack(&target(), Scope::Publish).to_json();
        for absent in ["iam:", "lambda:", "acm:", "route53:", "logs:"] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
        assert!(json.contains("arn:aws:s3:::colorid-demo-123456789012/*"));
    }
}
