//! The stack's response headers policy. The emulator has no response headers
//! policy API: the realism layer keeps one as AWS documents it (rule
//! CloudFrontResponseHeadersPolicyApi, off by default so that the rest of the
//! suite covers the emulator's path), and the last test runs the stack's own
//! policy through `up`, `plan` and `down` against it. The others answer the
//! calls with the SDK's replay client (aws-smithy-mocks): create once, no call
//! when converged, update with the ETag just read, delete with its ETag.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::operation::create_response_headers_policy::CreateResponseHeadersPolicyOutput;
use aws_sdk_cloudfront::operation::delete_response_headers_policy::DeleteResponseHeadersPolicyOutput;
use aws_sdk_cloudfront::operation::get_response_headers_policy_config::GetResponseHeadersPolicyConfigOutput;
use aws_sdk_cloudfront::operation::list_response_headers_policies::ListResponseHeadersPoliciesOutput;
use aws_sdk_cloudfront::operation::update_response_headers_policy::UpdateResponseHeadersPolicyOutput;
use aws_sdk_cloudfront::types::{
    ResponseHeadersPolicy, ResponseHeadersPolicyConfig, ResponseHeadersPolicyList,
    ResponseHeadersPolicySummary, ResponseHeadersPolicyType,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use colorid::names::Names;
use colorid::stack::headers_policy::{delete, ensure_with, headers_of, wanted_config};

const ISSUER_ORIGIN: &str = "https://auth.example.com";

fn policy(id: &str, config: ResponseHeadersPolicyConfig) -> ResponseHeadersPolicy {
    ResponseHeadersPolicy::builder()
        .id(id)
        .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
        .response_headers_policy_config(config)
        .build()
        .unwrap()
}

fn listing(items: Vec<ResponseHeadersPolicy>) -> ListResponseHeadersPoliciesOutput {
    let items: Vec<ResponseHeadersPolicySummary> = items
        .into_iter()
        .map(|p| {
            ResponseHeadersPolicySummary::builder()
                .r#type(ResponseHeadersPolicyType::Custom)
                .response_headers_policy(p)
                .build()
                .unwrap()
        })
        .collect();
    ListResponseHeadersPoliciesOutput::builder()
        .response_headers_policy_list(
            ResponseHeadersPolicyList::builder()
                .max_items(100)
                .quantity(items.len() as i32)
                .set_items(Some(items))
                .build()
                .unwrap(),
        )
        .build()
}

fn wanted() -> ResponseHeadersPolicyConfig {
    wanted_config(&Names::new("demo"), &[ISSUER_ORIGIN.to_string()]).unwrap()
}

#[tokio::test]
async fn up_creates_the_stack_policy_once_named_after_the_stack() {
    let list = mock!(Client::list_response_headers_policies)
        .match_requests(|r| r.r#type() == Some(&ResponseHeadersPolicyType::Custom))
        .then_output(|| {
            let other = ResponseHeadersPolicyConfig::builder()
                .name("someone-else")
                .build()
                .unwrap();
            listing(vec![policy("OTHER", other)])
        });
    let create = mock!(Client::create_response_headers_policy)
        .match_requests(|r| {
            let c = r.response_headers_policy_config().unwrap();
            let csp = c
                .security_headers_config()
                .and_then(|s| s.content_security_policy())
                .map(|p| p.content_security_policy().to_string())
                .unwrap_or_default();
            c.name() == "colorid-demo-headers"
                && csp.contains("connect-src 'self' https://auth.example.com;")
                && c.security_headers_config()
                    .and_then(|s| s.strict_transport_security())
                    .is_some_and(|h| h.access_control_max_age_sec() >= 31_536_000)
        })
        .then_output(|| {
            CreateResponseHeadersPolicyOutput::builder()
                .response_headers_policy(policy("NEW1", wanted()))
                .e_tag("E1")
                .build()
        });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&list, &create]);
    let (id, what) = ensure_with(&cf, wanted()).await.unwrap();
    assert_eq!((id.as_str(), what.as_str()), ("NEW1", "created"));
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn a_converged_policy_makes_no_mutating_call() {
    let list = mock!(Client::list_response_headers_policies)
        .then_output(|| listing(vec![policy("P1", wanted())]));
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&list]);
    let (id, what) = ensure_with(&cf, wanted()).await.unwrap();
    assert_eq!((id.as_str(), what.as_str()), ("P1", "unchanged"));
    assert_eq!(list.num_calls(), 1);
}

#[tokio::test]
async fn a_drifted_policy_is_updated_with_the_etag_just_read() {
    let old = wanted_config(
        &Names::new("demo"),
        &["https://old-issuer.example".to_string()],
    )
    .unwrap();
    let list = mock!(Client::list_response_headers_policies)
        .then_output(move || listing(vec![policy("P1", old.clone())]));
    let read = mock!(Client::get_response_headers_policy_config)
        .match_requests(|r| r.id() == Some("P1"))
        .then_output(|| {
            GetResponseHeadersPolicyConfigOutput::builder()
                .response_headers_policy_config(wanted())
                .e_tag("E7")
                .build()
        });
    let update = mock!(Client::update_response_headers_policy)
        .match_requests(|r| {
            r.id() == Some("P1")
                && r.if_match() == Some("E7")
                && r.response_headers_policy_config()
                    .is_some_and(|c| headers_of(c) == headers_of(&wanted()))
        })
        .then_output(|| {
            UpdateResponseHeadersPolicyOutput::builder()
                .response_headers_policy(policy("P1", wanted()))
                .build()
        });
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&list, &read, &update]
    );
    let (_, what) = ensure_with(&cf, wanted()).await.unwrap();
    assert!(what.contains("content-security-policy"), "{what}");
    assert_eq!(update.num_calls(), 1);
}

#[tokio::test]
async fn down_deletes_the_policy_with_its_etag() {
    let list = mock!(Client::list_response_headers_policies)
        .then_output(|| listing(vec![policy("P1", wanted())]));
    let read = mock!(Client::get_response_headers_policy_config).then_output(|| {
        GetResponseHeadersPolicyConfigOutput::builder()
            .response_headers_policy_config(wanted())
            .e_tag("E9")
            .build()
    });
    let del = mock!(Client::delete_response_headers_policy)
        .match_requests(|r| r.id() == Some("P1") && r.if_match() == Some("E9"))
        .then_output(|| DeleteResponseHeadersPolicyOutput::builder().build());
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&list, &read, &del]
    );
    assert!(delete(&cf, "colorid-demo-headers").await.unwrap());
    assert_eq!(del.num_calls(), 1);
    let empty = mock!(Client::list_response_headers_policies).then_output(|| listing(vec![]));
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&empty]);
    assert!(!delete(&cf, "colorid-demo-headers").await.unwrap());
}

/// Issue 24 item 9: a create whose answer was lost is retried by the SDK and meets
/// ResponseHeadersPolicyAlreadyExists: the policy the first made is found by name.
#[tokio::test]
async fn a_lost_create_finds_the_policy_by_name() {
    use aws_sdk_cloudfront::operation::create_response_headers_policy::CreateResponseHeadersPolicyError;
    use aws_sdk_cloudfront::types::error::ResponseHeadersPolicyAlreadyExists;
    let empty = mock!(Client::list_response_headers_policies).then_output(|| listing(vec![]));
    let create = mock!(Client::create_response_headers_policy).then_error(|| {
        CreateResponseHeadersPolicyError::ResponseHeadersPolicyAlreadyExists(
            ResponseHeadersPolicyAlreadyExists::builder()
                .message("A response headers policy with this name already exists.")
                .build(),
        )
    });
    let found = mock!(Client::list_response_headers_policies)
        .then_output(|| listing(vec![policy("MADE1", wanted())]));
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&empty, &create, &found]
    );
    let (id, what) = ensure_with(&cf, wanted()).await.unwrap();
    assert_eq!((id.as_str(), what.as_str()), ("MADE1", "created"));
    assert_eq!(found.num_calls(), 1);
}

/// Issue 24 item 9: the account's 20 response headers policies are a quota, named with
/// its fix, not a failure to retry.
#[tokio::test]
async fn the_policy_quota_is_named_with_its_fix() {
    use aws_sdk_cloudfront::operation::create_response_headers_policy::CreateResponseHeadersPolicyError;
    use aws_sdk_cloudfront::types::error::TooManyResponseHeadersPolicies;
    let empty = mock!(Client::list_response_headers_policies).then_output(|| listing(vec![]));
    let create = mock!(Client::create_response_headers_policy).then_error(|| {
        CreateResponseHeadersPolicyError::TooManyResponseHeadersPolicies(
            TooManyResponseHeadersPolicies::builder()
                .message("You have reached the maximum number of response headers policies for this AWS account.")
                .meta(
                    aws_sdk_cloudfront::error::ErrorMetadata::builder()
                        .code("TooManyResponseHeadersPolicies")
                        .message("You have reached the maximum number of response headers policies for this AWS account.")
                        .build(),
                )
                .build(),
        )
    });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&empty, &create]);
    let err = ensure_with(&cf, wanted()).await.unwrap_err();
    let report = err.report();
    assert!(
        report.contains("TooManyResponseHeadersPolicies")
            && report.contains("20 per account")
            && report.contains("Service Quotas")
            && report.contains("waiting does not lift it"),
        "{report}"
    );
    assert_eq!(create.num_calls(), 1);
}

/// The stack's policy through `up`, `plan` and `down` on an endpoint that has the
/// API: created before the distribution names it, the CSP following the provider's
/// token endpoint, updated in place with its ETag, deleted only after the
/// distribution (AWS refuses to delete a policy a cache behavior names).
#[test]
fn the_stack_policy_goes_through_up_plan_and_down() {
    use crate::common::{self, TestStack, issuer::Issuer, realism::Rule};
    let proxy = common::proxy_for(&common::emulator());
    proxy
        .realism()
        .set(Rule::CloudFrontResponseHeadersPolicyApi, true);
    let issuer = Issuer::start();
    let first = "https://demo.auth.eu-west-1.amazoncognito.com";
    issuer.set(Issuer::document(&issuer.url, &format!("{first}/oauth2")));
    let stack = TestStack::new("hp-e2e");
    let text = std::fs::read_to_string(stack.file())
        .unwrap()
        .replace(common::issuer::shared(), &issuer.url);
    std::fs::write(stack.file(), text).unwrap();
    let json = |args: &[&str]| {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let out = stack.command_at(&proxy.endpoint(), &all).output().unwrap();
        assert!(
            out.status.success(),
            "colorid {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let step = |plan: &serde_json::Value| common::plan_step(plan, "headers policy");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cf =
        rt.block_on(async { Client::new(&common::sdk_at(&proxy.endpoint(), "us-east-1").await) });
    let name = format!("colorid-{}-headers", stack.name);
    let ours = || {
        rt.block_on(async {
            let list = cf.list_response_headers_policies().send().await.unwrap();
            list.response_headers_policy_list
                .map(|l| l.items.unwrap_or_default())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| s.response_headers_policy)
                .find(|p| {
                    p.response_headers_policy_config.as_ref().map(|c| c.name())
                        == Some(name.as_str())
                })
        })
    };
    let csp = |p: &ResponseHeadersPolicy| {
        headers_of(p.response_headers_policy_config.as_ref().unwrap())
            .into_iter()
            .find(|h| h.0 == "content-security-policy")
            .unwrap()
            .1
    };

    assert_eq!(step(&json(&["plan"]))["action"], "create");
    let report = json(&["up"]);
    let policy = ours().expect("up made no policy");
    assert!(csp(&policy).contains(&format!("connect-src 'self' {} {first};", issuer.url)));
    let id = report["distribution_id"].as_str().unwrap().to_string();
    let used = rt.block_on(async {
        cf.get_distribution_config()
            .id(&id)
            .send()
            .await
            .unwrap()
            .distribution_config
            .unwrap()
            .default_cache_behavior
            .unwrap()
            .response_headers_policy_id
    });
    assert_eq!(
        used.as_deref(),
        Some(policy.id()),
        "the distribution does not use it"
    );
    assert_eq!(step(&json(&["plan"]))["action"], "unchanged");
    let again = json(&["up"]);
    assert_eq!(again["calls"]["mutations"], 0, "{}", again["calls"]);

    // The provider moves its token endpoint: plan shows it, up updates the policy in place.
    let moved = "https://tokens.example.net";
    issuer.set(Issuer::document(&issuer.url, moved));
    assert_eq!(step(&json(&["plan"]))["action"], "update");
    json(&["up"]);
    let updated = ours().unwrap();
    assert_eq!(updated.id(), policy.id(), "replaced, not updated");
    assert!(csp(&updated).contains(moved) && !csp(&updated).contains(first));
    assert_eq!(step(&json(&["plan"]))["action"], "unchanged");

    json(&["down", "--yes"]);
    assert!(ours().is_none(), "down left the policy");
    assert!(
        proxy
            .realism()
            .hits(Rule::CloudFrontResponseHeadersPolicyApi)
            > 0
    );
}
