//! What the realism tests put in the account before colorid runs (a hosted
//! zone, a record, a bucket of a chosen name), through the test's proxy.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use crate::common;
use crate::common::fault_proxy::FaultProxy;

/// A change batch of one change.
pub(super) fn change(action: ChangeAction, set: ResourceRecordSet) -> ChangeBatch {
    ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(action)
                .resource_record_set(set)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

/// A CNAME record `name` → `value`, TTL 300.
pub(super) fn cname(name: &str, value: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap()
}

/// Creates the hosted zone `name`; its id as Route53 answers it (`/hostedzone/…`).
pub(super) async fn create_zone(
    r53: &aws_sdk_route53::Client,
    name: &str,
    caller_reference: String,
) -> String {
    r53.create_hosted_zone()
        .name(name)
        .caller_reference(caller_reference)
        .send()
        .await
        .unwrap()
        .hosted_zone
        .unwrap()
        .id
}

/// Asks S3 for a bucket named `name` in eu-west-1; what S3 answers.
pub(super) async fn create_bucket(
    proxy: &FaultProxy,
    name: &str,
) -> Result<
    aws_sdk_s3::operation::create_bucket::CreateBucketOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::create_bucket::CreateBucketError>,
> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&common::sdk_at(&proxy.endpoint(), "eu-west-1").await)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
}
