//! An in-memory CloudFront answering the distribution calls as AWS does
//! (aws-smithy-mocks rules over shared state), with AWS's refusals as the XML
//! error bodies the SDK parses:
//! - a new or changed distribution is `InProgress` until it has been read
//!   `deploy_after` times, then `Deployed`;
//! - every change needs the current ETag (`PreconditionFailed` otherwise) and
//!   makes a new one (API_UpdateDistribution);
//! - a distribution is deleted only when disabled and deployed
//!   (`DistributionNotDisabled`, API_DeleteDistribution);
//! - a used caller reference is `DistributionAlreadyExists`, an alias another
//!   distribution serves `CNAMEAlreadyExists` (API_CreateDistribution);
//! - ListDistributions pages by marker, with a NextMarker on every page that
//!   has distributions, the last one too (IsTruncated says whether more follow).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::operation::create_distribution_with_tags::CreateDistributionWithTagsOutput;
use aws_sdk_cloudfront::operation::delete_distribution::DeleteDistributionOutput;
use aws_sdk_cloudfront::operation::get_distribution::GetDistributionOutput;
use aws_sdk_cloudfront::operation::get_distribution_config::GetDistributionConfigOutput;
use aws_sdk_cloudfront::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_cloudfront::operation::update_distribution::UpdateDistributionOutput;
use aws_sdk_cloudfront::types::{Distribution, DistributionConfig, Tag, Tags};
use aws_smithy_mocks::{MockResponse, Rule, mock};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// One stored distribution.
#[derive(Debug, Clone)]
pub struct Dist {
    pub id: String,
    pub arn: String,
    pub domain: String,
    pub status: String,
    pub config: DistributionConfig,
    pub etag: String,
    pub tags: Vec<(String, String)>,
    /// Reads left before an in-progress change is deployed.
    reads_left: usize,
    version: u32,
}

#[derive(Default)]
struct Store {
    dists: BTreeMap<String, Dist>,
    calls: Vec<String>,
    created: u32,
    /// Reads of an in-progress distribution before it is deployed.
    deploy_after: usize,
    /// Creates and updates naming a certificate refused as not yet usable.
    fresh_certificate: usize,
    /// Deletes of a disabled, deployed distribution still refused.
    not_disabled: usize,
    /// ListDistributions page size.
    page: usize,
}

/// The fake CloudFront; clones share it.
#[derive(Clone)]
pub struct FakeCloudFront(Arc<Mutex<Store>>);

impl Default for FakeCloudFront {
    fn default() -> Self {
        FakeCloudFront(Arc::new(Mutex::new(Store {
            page: 100,
            ..Store::default()
        })))
    }
}

/// A CloudFront error as the service sends it.
pub fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    );
    HttpResponse::new(
        StatusCode::try_from(status).expect("a valid status"),
        SdkBody::from(body),
    )
}

fn no_such_distribution() -> HttpResponse {
    error(
        404,
        "NoSuchDistribution",
        "The specified distribution does not exist.",
    )
}

impl FakeCloudFront {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A change is deployed after this many reads of the distribution (0: at once).
    pub fn deploy_after(self, reads: usize) -> Self {
        self.store().deploy_after = reads;
        self
    }

    /// The next `times` creates or updates with a certificate are refused as
    /// CloudFront refuses a certificate ACM issued moments ago.
    pub fn fresh_certificate(self, times: usize) -> Self {
        self.store().fresh_certificate = times;
        self
    }

    /// The next `times` deletes of a disabled, deployed distribution are still
    /// refused as not disabled.
    pub fn not_disabled(self, times: usize) -> Self {
        self.store().not_disabled = times;
        self
    }

    /// ListDistributions answers `page` distributions at a time.
    pub fn page(self, page: usize) -> Self {
        self.store().page = page;
        self
    }

    /// Stores a deployed distribution as if made earlier; returns its id.
    pub fn insert(&self, config: DistributionConfig, tags: &[(&str, &str)]) -> String {
        let mut store = self.store();
        let id = Self::add(&mut store, config, tags);
        let d = store.dists.get_mut(&id).expect("just added");
        d.status = "Deployed".into();
        id
    }

    fn add(store: &mut Store, config: DistributionConfig, tags: &[(&str, &str)]) -> String {
        store.created += 1;
        let n = store.created;
        let id = format!("EFAKE{n:04}");
        let reads_left = store.deploy_after;
        store.dists.insert(
            id.clone(),
            Dist {
                arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
                domain: format!("d{n:04}fake.cloudfront.net"),
                status: "InProgress".into(),
                config,
                etag: format!("{id}-v1"),
                tags: tags
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                reads_left,
                version: 1,
                id: id.clone(),
            },
        );
        id
    }

    /// The distribution `id` as stored.
    pub fn get(&self, id: &str) -> Option<Dist> {
        self.store().dists.get(id).cloned()
    }

    /// Every stored distribution's id.
    pub fn ids(&self) -> Vec<String> {
        self.store().dists.keys().cloned().collect()
    }

    /// `Operation id` of every call, in order.
    pub fn calls(&self) -> Vec<String> {
        self.store().calls.clone()
    }

    /// How many calls so far start with `prefix` (an operation, or one with its id).
    pub fn count(&self, prefix: &str) -> usize {
        self.store()
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }

    /// The calls that change something.
    pub fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.starts_with("Get") && !c.starts_with("List"))
            .collect()
    }

    fn record(&self, op: &str, id: &str) {
        self.store().calls.push(format!("{op} {id}"));
    }

    fn distribution(d: &Dist) -> Distribution {
        Distribution::builder()
            .id(&d.id)
            .arn(&d.arn)
            .status(&d.status)
            .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
            .in_progress_invalidation_batches(0)
            .domain_name(&d.domain)
            .distribution_config(d.config.clone())
            .build()
            .expect("every required field")
    }

    /// Reading an in-progress distribution brings its deployment nearer.
    fn read(store: &mut Store, id: &str) -> Option<Dist> {
        let d = store.dists.get_mut(id)?;
        if d.status == "InProgress" {
            if d.reads_left == 0 {
                d.status = "Deployed".into();
            } else {
                d.reads_left -= 1;
            }
        }
        Some(d.clone())
    }

    fn certificate_refused(store: &mut Store, config: &DistributionConfig) -> bool {
        let named = config
            .viewer_certificate()
            .and_then(|c| c.acm_certificate_arn())
            .is_some();
        if named && store.fresh_certificate > 0 {
            store.fresh_certificate -= 1;
            return true;
        }
        false
    }

    fn fresh_certificate_error() -> HttpResponse {
        error(
            400,
            "InvalidViewerCertificate",
            "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.",
        )
    }

    /// The rules answering CloudFront's distribution calls (rule mode MatchAny).
    pub fn rules(&self) -> Vec<Rule> {
        let create = {
            let fake = self.clone();
            mock!(Client::create_distribution_with_tags).then_compute_response(move |input| {
                let with_tags = input
                    .distribution_config_with_tags()
                    .expect("a config with tags");
                let config = with_tags.distribution_config().expect("a config").clone();
                fake.record("CreateDistributionWithTags", &config.caller_reference);
                let mut store = fake.store();
                if Self::certificate_refused(&mut store, &config) {
                    return MockResponse::Http(Self::fresh_certificate_error());
                }
                if store
                    .dists
                    .values()
                    .any(|d| d.config.caller_reference == config.caller_reference)
                {
                    return MockResponse::Http(error(
                        409,
                        "DistributionAlreadyExists",
                        "The caller reference that you are using to create a distribution is associated with another distribution.",
                    ));
                }
                let aliases: Vec<String> = config
                    .aliases()
                    .map(|a| a.items().to_vec())
                    .unwrap_or_default();
                if store.dists.values().any(|d| {
                    d.config
                        .aliases()
                        .is_some_and(|a| a.items().iter().any(|x| aliases.contains(x)))
                }) {
                    return MockResponse::Http(error(
                        409,
                        "CNAMEAlreadyExists",
                        "One or more of the CNAMEs you provided are already associated with a different resource.",
                    ));
                }
                let tags: Vec<(String, String)> = with_tags
                    .tags()
                    .map(|t| {
                        t.items()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                let tag_refs: Vec<(&str, &str)> =
                    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let id = Self::add(&mut store, config, &tag_refs);
                let d = store.dists[&id].clone();
                MockResponse::Output(
                    CreateDistributionWithTagsOutput::builder()
                        .distribution(Self::distribution(&d))
                        .e_tag(d.etag)
                        .location(format!("https://cloudfront.amazonaws.com/2020-05-31/distribution/{id}"))
                        .build(),
                )
            })
        };
        let get = {
            let fake = self.clone();
            mock!(Client::get_distribution).then_compute_response(move |input| {
                let id = input.id().unwrap_or_default();
                fake.record("GetDistribution", id);
                match Self::read(&mut fake.store(), id) {
                    Some(d) => MockResponse::Output(
                        GetDistributionOutput::builder()
                            .distribution(Self::distribution(&d))
                            .e_tag(d.etag)
                            .build(),
                    ),
                    None => MockResponse::Http(no_such_distribution()),
                }
            })
        };
        let get_config = {
            let fake = self.clone();
            mock!(Client::get_distribution_config).then_compute_response(move |input| {
                let id = input.id().unwrap_or_default();
                fake.record("GetDistributionConfig", id);
                match fake.get(id) {
                    Some(d) => MockResponse::Output(
                        GetDistributionConfigOutput::builder()
                            .distribution_config(d.config)
                            .e_tag(d.etag)
                            .build(),
                    ),
                    None => MockResponse::Http(no_such_distribution()),
                }
            })
        };
        let update = {
            let fake = self.clone();
            mock!(Client::update_distribution).then_compute_response(move |input| {
                let id = input.id().unwrap_or_default().to_string();
                fake.record("UpdateDistribution", &id);
                let config = input.distribution_config().expect("a config").clone();
                let mut store = fake.store();
                let deploy_after = store.deploy_after;
                let Some(current) = store.dists.get(&id).cloned() else {
                    return MockResponse::Http(no_such_distribution());
                };
                if input.if_match() != Some(current.etag.as_str()) {
                    return MockResponse::Http(error(
                        412,
                        "PreconditionFailed",
                        "The precondition given in one or more of the request-header fields evaluated to false.",
                    ));
                }
                if Self::certificate_refused(&mut store, &config) {
                    return MockResponse::Http(Self::fresh_certificate_error());
                }
                let d = store.dists.get_mut(&id).expect("read above");
                d.version += 1;
                d.etag = format!("{id}-v{}", d.version);
                d.config = config;
                d.status = "InProgress".into();
                d.reads_left = deploy_after;
                let d = d.clone();
                MockResponse::Output(
                    UpdateDistributionOutput::builder()
                        .distribution(Self::distribution(&d))
                        .e_tag(d.etag)
                        .build(),
                )
            })
        };
        let delete = {
            let fake = self.clone();
            mock!(Client::delete_distribution).then_compute_response(move |input| {
                let id = input.id().unwrap_or_default().to_string();
                fake.record("DeleteDistribution", &id);
                let mut store = fake.store();
                let Some(current) = store.dists.get(&id).cloned() else {
                    return MockResponse::Http(no_such_distribution());
                };
                if input.if_match() != Some(current.etag.as_str()) {
                    return MockResponse::Http(error(
                        412,
                        "PreconditionFailed",
                        "The precondition given in one or more of the request-header fields evaluated to false.",
                    ));
                }
                let held = store.not_disabled > 0 && !current.config.enabled;
                if current.config.enabled || current.status != "Deployed" || held {
                    if held {
                        store.not_disabled -= 1;
                    }
                    return MockResponse::Http(error(
                        409,
                        "DistributionNotDisabled",
                        "The distribution you are trying to delete has not been disabled.",
                    ));
                }
                store.dists.remove(&id);
                MockResponse::Output(DeleteDistributionOutput::builder().build())
            })
        };
        let list = {
            let fake = self.clone();
            mock!(Client::list_distributions).then_compute_response(move |input| {
                let marker = input.marker().unwrap_or_default().to_string();
                fake.record("ListDistributions", &marker);
                let store = fake.store();
                let all: Vec<&Dist> = store.dists.values().collect();
                // The page holds the distributions after the marker; NextMarker is
                // the id of its last one, also on the last page: API_DistributionList
                // says only that it is present when IsTruncated is true.
                let start = if marker.is_empty() {
                    0
                } else {
                    1 + all
                        .iter()
                        .position(|d| d.id == marker)
                        .expect("a marker this fake gave")
                };
                let page: Vec<&Dist> = all.iter().skip(start).take(store.page).copied().collect();
                let truncated = start + page.len() < all.len();
                let next = page.last().map(|d| d.id.clone());
                let items: String = page
                    .iter()
                    .map(|d| {
                        format!(
                            "<DistributionSummary><Id>{}</Id><ARN>{}</ARN><Status>{}</Status><DomainName>{}</DomainName><Enabled>{}</Enabled></DistributionSummary>",
                            d.id, d.arn, d.status, d.domain, d.config.enabled
                        )
                    })
                    .collect();
                let body = format!(
                    "<?xml version=\"1.0\"?><DistributionList xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Marker>{marker}</Marker>{}<MaxItems>{}</MaxItems><IsTruncated>{}</IsTruncated><Quantity>{}</Quantity><Items>{items}</Items></DistributionList>",
                    next.as_ref()
                        .map(|n| format!("<NextMarker>{n}</NextMarker>"))
                        .unwrap_or_default(),
                    store.page,
                    truncated,
                    page.len(),
                );
                MockResponse::Http(HttpResponse::new(
                    StatusCode::try_from(200).expect("a valid status"),
                    SdkBody::from(body),
                ))
            })
        };
        let tags = {
            let fake = self.clone();
            mock!(Client::list_tags_for_resource).then_compute_response(move |input| {
                let arn = input.resource().unwrap_or_default();
                fake.record("ListTagsForResource", arn);
                let store = fake.store();
                let Some(d) = store.dists.values().find(|d| d.arn == arn) else {
                    return MockResponse::Http(error(
                        404,
                        "NoSuchResource",
                        "The specified CloudFront resource does not exist.",
                    ));
                };
                let items: Vec<Tag> = d
                    .tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build().expect("a key"))
                    .collect();
                MockResponse::Output(
                    ListTagsForResourceOutput::builder()
                        .tags(Tags::builder().set_items(Some(items)).build())
                        .build(),
                )
            })
        };
        vec![create, get, get_config, update, delete, list, tags]
    }
}
