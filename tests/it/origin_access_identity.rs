//! The legacy origin access identity path. The emulator has no origin access
//! identity API, so these tests answer the SDK's calls with its mock
//! utilities (aws-smithy-mocks) and check what colorid sends and builds.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::operation::create_cloud_front_origin_access_identity::CreateCloudFrontOriginAccessIdentityOutput;
use aws_sdk_cloudfront::operation::list_cloud_front_origin_access_identities::ListCloudFrontOriginAccessIdentitiesOutput;
use aws_sdk_cloudfront::types::{
    CloudFrontOriginAccessIdentity, CloudFrontOriginAccessIdentityList,
    CloudFrontOriginAccessIdentitySummary,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use colorid::stack::bucket_policy::{Reader, wanted_policy};
use colorid::stack::origin_access::{create_identity, find_identity};

fn list_with(
    items: Vec<CloudFrontOriginAccessIdentitySummary>,
) -> ListCloudFrontOriginAccessIdentitiesOutput {
    let n = items.len() as i32;
    ListCloudFrontOriginAccessIdentitiesOutput::builder()
        .cloud_front_origin_access_identity_list(
            CloudFrontOriginAccessIdentityList::builder()
                .marker("")
                .max_items(100)
                .is_truncated(false)
                .quantity(n)
                .set_items(Some(items))
                .build()
                .unwrap(),
        )
        .build()
}

fn summary(id: &str, comment: &str) -> CloudFrontOriginAccessIdentitySummary {
    CloudFrontOriginAccessIdentitySummary::builder()
        .id(id)
        .s3_canonical_user_id(format!("canonical-{id}"))
        .comment(comment)
        .build()
        .unwrap()
}

#[tokio::test]
async fn finds_the_stack_identity_by_its_comment_only() {
    let list = mock!(Client::list_cloud_front_origin_access_identities).then_output(|| {
        list_with(vec![
            summary("E1OTHER", "someone else's"),
            summary("E2OURS", "colorid stack demo"),
        ])
    });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&list]);
    let found = find_identity(&cf, "colorid stack demo").await.unwrap();
    assert_eq!(found.as_deref(), Some("E2OURS"));
    let none = mock!(Client::list_cloud_front_origin_access_identities)
        .then_output(|| list_with(vec![summary("E1OTHER", "someone else's")]));
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&none]);
    assert_eq!(
        find_identity(&cf, "colorid stack demo").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn creates_with_the_stack_caller_reference_and_comment() {
    let create = mock!(Client::create_cloud_front_origin_access_identity)
        .match_requests(|req| {
            let config = req.cloud_front_origin_access_identity_config().unwrap();
            config.caller_reference() == "colorid-demo-oai"
                && config.comment() == "colorid stack demo"
        })
        .then_output(|| {
            CreateCloudFrontOriginAccessIdentityOutput::builder()
                .cloud_front_origin_access_identity(
                    CloudFrontOriginAccessIdentity::builder()
                        .id("E3NEW")
                        .s3_canonical_user_id("canonical-E3NEW")
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&create]);
    let id = create_identity(&cf, "colorid stack demo", "colorid-demo-oai")
        .await
        .unwrap();
    assert_eq!(id, "E3NEW");
    assert_eq!(create.num_calls(), 1);
}

#[tokio::test]
async fn an_aws_error_names_the_step_and_resource() {
    let create = mock!(Client::create_cloud_front_origin_access_identity).then_error(|| {
        aws_sdk_cloudfront::operation::create_cloud_front_origin_access_identity::CreateCloudFrontOriginAccessIdentityError::TooManyCloudFrontOriginAccessIdentities(
            aws_sdk_cloudfront::types::error::TooManyCloudFrontOriginAccessIdentities::builder()
                .message("limit reached")
                .meta(
                    aws_sdk_cloudfront::error::ErrorMetadata::builder()
                        .code("TooManyCloudFrontOriginAccessIdentities")
                        .message("limit reached")
                        .build(),
                )
                .build(),
        )
    });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&create]);
    let err = create_identity(&cf, "colorid stack demo", "ref")
        .await
        .unwrap_err();
    let text = err.report();
    assert!(text.contains("create the origin access identity"), "{text}");
    assert!(
        text.contains("TooManyCloudFrontOriginAccessIdentities"),
        "{text}"
    );
    assert!(text.contains("what to do"), "{text}");
}

#[test]
fn the_bucket_policy_grants_only_the_identity() {
    let policy = wanted_policy(
        "site-bucket",
        &Reader::OriginAccessIdentity("E2OURS".into()),
        true,
    );
    let allow = &policy["Statement"][1];
    assert_eq!(
        allow["Principal"]["AWS"],
        "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2OURS"
    );
    assert_eq!(allow["Action"], "s3:GetObject");
    assert_eq!(allow["Resource"], "arn:aws:s3:::site-bucket/*");
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    // The identity may not read publish's manifest.
    let private = &policy["Statement"][2];
    assert_eq!(private["Effect"], "Deny");
    assert_eq!(private["Principal"], allow["Principal"]);
    assert_eq!(private["Action"], "s3:GetObject");
    assert_eq!(private["Resource"], "arn:aws:s3:::site-bucket/.colorid/*");
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 3);
}

#[test]
fn on_aws_the_policy_denies_every_request_without_tls() {
    let policy = wanted_policy(
        "site-bucket",
        &Reader::Distribution("arn:aws:cloudfront::1:distribution/E1".into()),
        true,
    );
    let deny = &policy["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Action"], "s3:*");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    assert_eq!(
        deny["Resource"],
        serde_json::json!(["arn:aws:s3:::site-bucket", "arn:aws:s3:::site-bucket/*"])
    );
    let allow = &policy["Statement"][1];
    assert_eq!(
        allow["Condition"]["StringEquals"]["AWS:SourceArn"],
        "arn:aws:cloudfront::1:distribution/E1"
    );
}
