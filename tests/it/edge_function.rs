//! The directory-index CloudFront Function: its JavaScript, run with node as
//! CloudFront would run it (a viewer-request event in, a request out), meets
//! the same table of cases as the Rust rule the local edge runs; and `up`'s
//! create/update/publish calls, which the emulator lacks (no UpdateFunction,
//! no PublishFunction), answered by the SDK's replay client.

use crate::common;

use std::process::Command;

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::operation::create_function::CreateFunctionOutput;
use aws_sdk_cloudfront::operation::describe_function::{
    DescribeFunctionError, DescribeFunctionOutput,
};
use aws_sdk_cloudfront::operation::publish_function::PublishFunctionOutput;
use aws_sdk_cloudfront::operation::update_function::UpdateFunctionOutput;
use aws_sdk_cloudfront::types::error::NoSuchFunctionExists;
use aws_sdk_cloudfront::types::{
    FunctionConfig, FunctionMetadata, FunctionRuntime, FunctionStage, FunctionSummary,
};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use colorid::edge::directory_index::{CASES, RUNTIME, SOURCE, rewrite};
use colorid::stack::viewer_function::deploy;

const ARN: &str = "arn:aws:cloudfront::123456789012:function/colorid-demo-dir-index";

#[test]
fn the_javascript_meets_every_shared_case() {
    let cases: Vec<(String, String)> = serde_json::from_str(CASES).unwrap();
    // The cloudfront-js-2.0 viewer-request event shape, one event per case.
    let events: Vec<serde_json::Value> = cases
        .iter()
        .map(|(uri, _)| {
            serde_json::json!({
                "version": "1.0",
                "context": {"eventType": "viewer-request"},
                "viewer": {"ip": "127.0.0.1"},
                "request": {"method": "GET", "uri": uri, "querystring": {}, "headers": {}, "cookies": {}},
            })
        })
        .collect();
    let script = format!(
        "{SOURCE}\nconst events = {};\nconsole.log(JSON.stringify(events.map((e) => handler(e).uri)));",
        serde_json::to_string(&events).unwrap()
    );
    let out = Command::new("node")
        .args(["-e", &script])
        .output()
        .expect("node runs (Node.js 20 is part of the test tools)");
    common::assert_success(&out);
    let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    for ((input, want), js) in cases.iter().zip(&got) {
        assert_eq!(js, want, "JavaScript on {input}");
        assert_eq!(&rewrite(input), want, "Rust on {input}");
    }
    assert_eq!(got.len(), cases.len());
}

fn summary(comment: &str, stage: FunctionStage) -> FunctionSummary {
    FunctionSummary::builder()
        .name("colorid-demo-dir-index")
        .status("DEPLOYED")
        .function_config(
            FunctionConfig::builder()
                .comment(comment)
                .runtime(FunctionRuntime::from(RUNTIME))
                .build()
                .unwrap(),
        )
        .function_metadata(
            FunctionMetadata::builder()
                .function_arn(ARN)
                .stage(stage)
                .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn missing() -> DescribeFunctionError {
    DescribeFunctionError::NoSuchFunctionExists(
        NoSuchFunctionExists::builder()
            .message("no such function")
            .meta(
                aws_sdk_cloudfront::error::ErrorMetadata::builder()
                    .code("NoSuchFunctionExists")
                    .build(),
            )
            .build(),
    )
}

/// PublishFunction of the development stage whose ETag is `etag`: `comment` is live.
fn publish_of(etag: &'static str, comment: &'static str) -> aws_smithy_mocks::Rule {
    mock!(Client::publish_function)
        .match_requests(move |r| r.if_match() == Some(etag))
        .then_output(move || {
            PublishFunctionOutput::builder()
                .function_summary(summary(comment, FunctionStage::Live))
                .build()
        })
}

#[tokio::test]
async fn a_new_function_is_created_with_the_source_then_published() {
    let live = mock!(Client::describe_function)
        .match_requests(|r| r.stage() == Some(&FunctionStage::Live))
        .then_error(missing);
    let dev = mock!(Client::describe_function)
        .match_requests(|r| r.stage() == Some(&FunctionStage::Development))
        .then_error(missing);
    let create = mock!(Client::create_function)
        .match_requests(|r| {
            r.name() == Some("colorid-demo-dir-index")
                && r.function_code().map(|b| b.as_ref()) == Some(SOURCE.as_bytes())
                && r.function_config().map(|c| c.runtime().as_str()) == Some(RUNTIME)
                && r.function_config().map(|c| c.comment()) == Some("v1")
                && r.tags().is_some_and(|t| {
                    t.items()
                        .iter()
                        .any(|t| t.key() == "colorid:stack" && t.value() == Some("demo"))
                })
        })
        .then_output(|| {
            CreateFunctionOutput::builder()
                .function_summary(summary("v1", FunctionStage::Development))
                .e_tag("E-CREATED")
                .build()
        });
    let publish = publish_of("E-CREATED", "v1");
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&live, &dev, &create, &publish]
    );
    let out = deploy(&cf, "colorid-demo-dir-index", "v1", "demo", true)
        .await
        .unwrap();
    assert_eq!(out.arn, ARN);
    assert_eq!(out.what, "created, published");
    assert_eq!((create.num_calls(), publish.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_changed_source_is_updated_with_its_etag_and_published() {
    let live = mock!(Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(summary("old", FunctionStage::Live))
            .e_tag("E-LIVE")
            .build()
    });
    let dev = mock!(Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(summary("old", FunctionStage::Development))
            .e_tag("E-DEV")
            .build()
    });
    let update = mock!(Client::update_function)
        .match_requests(|r| {
            r.if_match() == Some("E-DEV")
                && r.function_config().map(|c| c.comment()) == Some("new")
                && r.function_code().map(|b| b.as_ref()) == Some(SOURCE.as_bytes())
        })
        .then_output(|| {
            UpdateFunctionOutput::builder()
                .function_summary(summary("new", FunctionStage::Development))
                .e_tag("E-UPDATED")
                .build()
        });
    let publish = publish_of("E-UPDATED", "new");
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&live, &dev, &update, &publish]
    );
    let out = deploy(&cf, "colorid-demo-dir-index", "new", "demo", true)
        .await
        .unwrap();
    assert_eq!(out.what, "updated, published");
    assert_eq!((update.num_calls(), publish.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_current_live_function_costs_one_read_and_no_write() {
    let live = mock!(Client::describe_function)
        .match_requests(|r| r.stage() == Some(&FunctionStage::Live))
        .then_output(|| {
            DescribeFunctionOutput::builder()
                .function_summary(summary("v1", FunctionStage::Live))
                .e_tag("E-LIVE")
                .build()
        });
    let cf = mock_client!(aws_sdk_cloudfront, RuleMode::Sequential, &[&live]);
    let out = deploy(&cf, "colorid-demo-dir-index", "v1", "demo", true)
        .await
        .unwrap();
    assert_eq!((out.arn.as_str(), out.what.as_str()), (ARN, "unchanged"));
    assert_eq!(live.num_calls(), 1);
}

#[tokio::test]
async fn created_but_unpublished_after_a_crash_is_published_by_the_next_run() {
    let live = mock!(Client::describe_function).then_error(missing);
    let dev = mock!(Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(summary("v1", FunctionStage::Development))
            .e_tag("E-DEV")
            .build()
    });
    let publish = publish_of("E-DEV", "v1");
    let cf = mock_client!(
        aws_sdk_cloudfront,
        RuleMode::Sequential,
        &[&live, &dev, &publish]
    );
    let out = deploy(&cf, "colorid-demo-dir-index", "v1", "demo", true)
        .await
        .unwrap();
    assert_eq!(out.what, "unchanged, published");
    assert_eq!(publish.num_calls(), 1);
}
