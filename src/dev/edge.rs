//! The edge `colorid dev` serves through: the distribution configuration
//! `up` would send for this stack (built by the same code), or with
//! `--local` the configuration the emulator holds, with the fields the
//! emulator drops or cannot hold taken from the wanted one.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_cloudfront::types::DistributionConfig;
use axum::body::Bytes;
use colorid_lambda::App;

use super::deployed::Deployed;
use crate::config::Stack;
use crate::edge::origin::{ApiOrigin, SiteOrigin, SiteStore};
use crate::edge::{Edge, EdgeConfig};
use crate::error::Result;
use crate::names::Names;
use crate::publish::LocalSite;
use crate::stack::bucket_policy::{Reader, wanted_policy};
use crate::stack::distribution::{self, Inputs, SECURITY_HEADERS};
use crate::stack::origin_access::Access;
use crate::stack::{headers_policy, viewer_function};

/// The bucket name the working copy stands in for.
const LOCAL_BUCKET: &str = "colorid-dev-site";

/// What the edge is built from.
pub struct EdgeInputs<'a> {
    pub stack: &'a Stack,
    /// The origins the site fetches from: the issuer's and its discovery
    /// document's endpoints' (the test provider's, or `--issuer`'s).
    pub connect_src: &'a [String],
    /// The origin-verify value the distribution sends the function.
    pub verify_secret: &'a str,
    /// `config.json` as dev generates it.
    pub config_json: Vec<u8>,
    pub app: Arc<App>,
    /// With `--local`: the deployed stack.
    pub deployed: Option<&'a Deployed>,
}

/// The configuration `up` would send for `stack`, with `verify_secret` as the
/// origin header's value and placeholders for the ids only AWS assigns.
pub fn wanted_config(stack: &Stack, verify_secret: &str) -> Result<DistributionConfig> {
    let names = Names::new(&stack.name);
    let inputs = Inputs {
        certificate_arn: stack
            .has_certificate()
            .then(|| "arn:aws:acm:us-east-1:000000000000:certificate/local".into()),
        bucket_domain: crate::deploy::bucket_domain(LOCAL_BUCKET, &stack.region),
        access: Access::Control("local".into()),
        api: Some(distribution::ApiOrigin {
            domain: "local.lambda-url.localhost".into(),
            verify_secret: verify_secret.to_string(),
        }),
        has_404_page: stack.site_dir.join("404.html").is_file(),
        headers_policy_id: headers_policy::name(&names),
        viewer_function_arn: Some(format!(
            "arn:aws:cloudfront::000000000000:function/{}",
            viewer_function::name(&names)
        )),
    };
    distribution::build_config(stack, &names, &inputs, None)
}

/// Builds the edge.
pub fn build(inputs: EdgeInputs<'_>) -> Result<Edge> {
    let stack = inputs.stack;
    let names = Names::new(&stack.name);
    let wanted = EdgeConfig::from_distribution(&wanted_config(stack, inputs.verify_secret)?)?;
    let config = match inputs.deployed {
        Some(d) => {
            let mut deployed = EdgeConfig::from_distribution(&d.distribution)?;
            deployed.fill_emulator_gaps(&wanted);
            deployed
        }
        None => wanted,
    };
    // The stack's own policy (the emulator cannot hold it: `--local` applies
    // the one `up` would create on AWS) and AWS's managed one.
    let policy = headers_policy::wanted_config(&names, inputs.connect_src)?;
    let headers = HashMap::from([
        (
            headers_policy::name(&names),
            headers_policy::headers_of(&policy),
        ),
        (
            SECURITY_HEADERS.to_string(),
            headers_policy::managed_security_headers(),
        ),
    ]);
    let (store, bucket, reader) = match inputs.deployed {
        Some(d) => (
            SiteStore::Bucket {
                s3: d.site.s3.clone(),
                bucket: d.site.bucket.clone(),
            },
            d.site.bucket.clone(),
            d.reader.clone(),
        ),
        None => (
            SiteStore::Dir(LocalSite::new(stack.site_dir.clone(), &stack.publish)),
            LOCAL_BUCKET.to_string(),
            Reader::Distribution("arn:aws:cloudfront::000000000000:distribution/LOCAL".into()),
        ),
    };
    let site = SiteOrigin {
        store,
        // The site signs in with dev's provider, not the deployed issuer.
        generated: vec![(
            "config.json".to_string(),
            Bytes::from(inputs.config_json),
            "application/json",
        )],
        // The policy AWS holds (the emulator cannot hold its Deny statements).
        policy: wanted_policy(&bucket, &reader, true),
        bucket,
    };
    Edge::new(config, headers, site, Some(ApiOrigin { app: inputs.app }))
}
