//! Publishes a directory to a bucket on an S3-compatible endpoint, for scripts/bench-publish.
//!
//! Usage: publish_bench ENDPOINT BUCKET SITE_DIR
//! Prints the report's summary line; exits non-zero on failure.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use colorid::publish::{PublishOptions, PublishSettings, PublishTarget, publish};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, bucket, site_dir] = args.as_slice() else {
        return Err("usage: publish_bench ENDPOINT BUCKET SITE_DIR".into());
    };
    let credentials = Credentials::new("testing", "testing", None, None, "bench");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(credentials.clone())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .build(),
    );
    let cloudfront = aws_sdk_cloudfront::Client::from_conf(
        aws_sdk_cloudfront::Config::builder()
            .behavior_version(aws_sdk_cloudfront::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudfront::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .endpoint_url(endpoint)
            .build(),
    );
    let target = PublishTarget {
        s3,
        cloudfront,
        bucket: bucket.clone(),
        // `aws s3 sync` does not invalidate either; compare like with like.
        distribution_id: None,
        site_dir: site_dir.into(),
        generated: Vec::new(),
    };
    let settings = PublishSettings::default();
    let report = publish(&target, &settings, &PublishOptions::default(), &|_| {}).await?;
    println!("{}", report.summary_line());
    Ok(())
}
