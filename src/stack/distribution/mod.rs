//! The CloudFront distribution: the site from the bucket, `/api/*` to the
//! identity function, on the stack's domain with its ACM certificate.
//!
//! Comparison works on a rendered view of the fields colorid manages, so
//! fields AWS adds or that the user set by hand (logging, WAF) are left alone.
//! An origin access control id that the service does not echo back (the
//! local emulator drops it) is compared with the id recorded in the state.

use std::time::Duration;

// The clock the retries sleep on (paused in unit tests, the system's otherwise).
use tokio::time::Instant;

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{DistributionConfig, DistributionConfigWithTags, Tag, Tags};

use crate::error::{AwsContext, Built, Error, OrGone, Result, code_of};
use crate::names::STACK_TAG;
use crate::stack::{Change, Ctx};
use crate::wait::{self, Poll};

mod config;
mod view;

pub use config::*;
pub use view::*;

/// The stack's distribution as found.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub arn: String,
    pub domain: String,
    pub status: String,
    pub config: DistributionConfig,
}

/// Looks the distribution up by id; `None` when it is gone.
pub async fn get(cf: &CloudFrontClient, id: &str) -> Result<Option<Found>> {
    let out = cf
        .get_distribution()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_distribution())
        .aws("read the distribution", id)?;
    Ok(out.and_then(|out| out.distribution).and_then(|d| {
        let config = d.distribution_config.clone()?;
        Some(Found {
            id: d.id,
            arn: d.arn,
            domain: d.domain_name,
            status: d.status,
            config,
        })
    }))
}

/// Finds the stack's distribution: by recorded id, else by alias and tag.
pub async fn find(ctx: &Ctx) -> Result<Option<Found>> {
    let cf = ctx.aws.cloudfront();
    if let Some(id) = ctx.state.get().await.distribution_id
        && let Some(found) = get(&cf, &id).await?
    {
        return Ok(Some(found));
    }
    Ok(find_tagged(ctx).await?.into_iter().next())
}

/// Every distribution tagged for this stack.
pub async fn find_tagged(ctx: &Ctx) -> Result<Vec<Found>> {
    let cf = ctx.aws.cloudfront();
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = cf
            .list_distributions()
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list distributions", "us-east-1")?;
        let Some(list) = page.distribution_list else {
            break;
        };
        for summary in list.items() {
            let tags = cf
                .list_tags_for_resource()
                .resource(summary.arn())
                .send()
                .await
                .or_gone(|e| e.is_no_such_resource())
                .aws("read the tags of", summary.arn())?;
            // Deleted since the listing: not ours to find.
            let Some(tags) = tags else { continue };
            let ours = tags.tags().is_some_and(|t| {
                t.items()
                    .iter()
                    .any(|t| t.key() == STACK_TAG && t.value() == Some(ctx.names.stack.as_str()))
            });
            if ours && let Some(found) = get(&cf, summary.id()).await? {
                out.push(found);
            }
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// What `up` would do to the distribution.
pub fn plan(found: Option<&Found>, wanted: &DistributionConfig, recorded: Recorded<'_>) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(diff(&f.config, wanted, recorded)),
    }
}

/// Creates the distribution or updates the fields that differ. `found` is what `find`
/// found, looked up while the distribution's inputs were being made (on an account
/// with many distributions, the lookup reads the tags of each).
pub async fn ensure(ctx: &Ctx, inputs: &Inputs, found: Option<Found>) -> Result<Found> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let state = ctx.state.get().await;
    let recorded = Recorded {
        origin_access_control: state.origin_access_control_id.as_deref(),
        viewer_function: state.viewer_function_arn.as_deref(),
    };
    let (found, what) = match found {
        Some(existing) => {
            let wanted = wanted_config(ctx, inputs, Some(&existing.config))?;
            let changes = diff(&existing.config, &wanted, recorded);
            if changes.is_empty() {
                (existing, "unchanged".to_string())
            } else {
                let current = cf
                    .get_distribution_config()
                    .id(&existing.id)
                    .send()
                    .await
                    .aws("read the distribution's config", &existing.id)?;
                let wanted = wanted_config(ctx, inputs, current.distribution_config.as_ref())?;
                let etag = current.e_tag;
                let out = until_certificate_usable(ctx, inputs.certificate_arn.as_deref(), || {
                    cf.update_distribution()
                        .id(&existing.id)
                        .set_if_match(etag.clone())
                        .distribution_config(wanted.clone())
                        .send()
                })
                .await
                .aws("update the distribution", &existing.id)?;
                let d = out
                    .distribution
                    .ok_or_else(|| Error::conflict("update_distribution returned nothing"))?;
                let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                let what = format!("updated {}", fields.join(", "));
                (
                    Found {
                        config: d
                            .distribution_config
                            .clone()
                            .unwrap_or_else(|| existing.config.clone()),
                        id: d.id,
                        arn: d.arn,
                        domain: d.domain_name,
                        status: d.status,
                    },
                    what,
                )
            }
        }
        None => create(ctx, inputs).await?,
    };
    ctx.state
        .update(|s| {
            s.distribution_id = Some(found.id.clone());
            s.distribution_domain = Some(found.domain.clone());
        })
        .await?;
    ctx.progress.step(
        "distribution",
        &format!("{} {what}", found.id),
        start.elapsed(),
    );
    Ok(found)
}

/// How long CloudFront may refuse a newly issued certificate (InvalidViewerCertificate).
const FRESH_CERTIFICATE_WAIT: Duration = Duration::from_secs(300);

/// Sends a create or update, again while CloudFront answers `InvalidViewerCertificate`
/// for a certificate ACM has just issued (it takes CloudFront a little while to see it).
async fn until_certificate_usable<T, E, F, Fut>(
    ctx: &Ctx,
    certificate: Option<&str>,
    mut send: F,
) -> std::result::Result<
    T,
    aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
>
where
    E: aws_sdk_cloudfront::error::ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: std::future::Future<
            Output = std::result::Result<
                T,
                aws_smithy_runtime_api::client::result::SdkError<
                    E,
                    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
                >,
            >,
        >,
{
    let start = Instant::now();
    let mut wait: Option<crate::progress::Wait> = None;
    let mut delay = Duration::from_secs(1);
    loop {
        match send().await {
            Err(err)
                if code_of(&err) == Some("InvalidViewerCertificate")
                    && start.elapsed() < FRESH_CERTIFICATE_WAIT
                    && let Some(certificate) = certificate =>
            {
                wait.get_or_insert_with(|| {
                    ctx.progress.wait(&format!(
                        "waiting for CloudFront to accept the new certificate {certificate}"
                    ))
                })
                .tick("InvalidViewerCertificate");
                tokio::time::sleep(crate::wait::pause(delay)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            res => {
                if let Some(w) = wait {
                    w.done();
                }
                return res;
            }
        }
    }
}

/// Creates the distribution with the stack's tag. Its caller reference is seeded by a
/// nonce kept in the state: a create that did happen but whose answer was lost meets
/// `DistributionAlreadyExists` on the retry, and the distribution is then found by tag.
async fn create(ctx: &Ctx, inputs: &Inputs) -> Result<(Found, String)> {
    let cf = ctx.aws.cloudfront();
    let nonce = ctx.state.nonce(|s| &mut s.distribution_nonce).await?;
    let mut wanted = wanted_config(ctx, inputs, None)?;
    wanted.caller_reference = ctx.names.distribution_caller_reference(&nonce);
    let tags = Tags::builder()
        .items(
            Tag::builder()
                .key(STACK_TAG)
                .value(&ctx.names.stack)
                .build()
                .built("the distribution config")?,
        )
        .build();
    let with_tags = DistributionConfigWithTags::builder()
        .distribution_config(wanted)
        .tags(tags)
        .build();
    let out = until_certificate_usable(ctx, inputs.certificate_arn.as_deref(), || {
        cf.create_distribution_with_tags()
            .distribution_config_with_tags(with_tags.clone())
            .send()
    })
    .await;
    let out = match out {
        Ok(out) => out,
        Err(err) if code_of(&err) == Some("DistributionAlreadyExists") => {
            return match find_tagged(ctx).await?.into_iter().next() {
                Some(found) => Ok((found, "found (created by an earlier attempt)".into())),
                None => Err(Error::conflict_fix(
                    format!(
                        "CloudFront says a distribution with this stack's caller reference exists, but none is tagged {STACK_TAG}={}.",
                        ctx.names.stack
                    ),
                    format!(
                        "run `colorid up` again; if it persists, find the distribution whose comment is \"colorid stack {}\" in the CloudFront console and delete it",
                        ctx.names.stack
                    ),
                )),
            };
        }
        Err(err) if code_of(&err) == Some("CNAMEAlreadyExists") => {
            return Err(Error::conflict_fix(
                format!(
                    "another CloudFront distribution already serves {}.",
                    ctx.stack.domain_name()
                ),
                format!(
                    "remove {} from that distribution's alternate domain names, or choose another `domain`",
                    ctx.stack.domain_name()
                ),
            ));
        }
        Err(err) => return Err(err).aws("create the distribution of stack", &ctx.names.stack),
    };
    let d = out
        .distribution
        .ok_or_else(|| Error::conflict("create_distribution returned nothing"))?;
    Ok((
        Found {
            config: d
                .distribution_config
                .clone()
                .unwrap_or_else(unreachable_config),
            id: d.id,
            arn: d.arn,
            domain: d.domain_name,
            status: d.status,
        },
        "created (deploying to the edge takes a few minutes)".to_string(),
    ))
}

fn unreachable_config() -> DistributionConfig {
    // Only reached if the service returned a distribution without a config.
    DistributionConfig::builder()
        .caller_reference("")
        .comment("")
        .enabled(true)
        .build()
        .expect("a config with its required fields builds")
}

/// Waits until the (disabled) distribution is deployed, before `down` deletes it.
pub async fn wait_deployed(ctx: &Ctx, id: &str, max: Duration) -> Result<Found> {
    let cf = ctx.aws.cloudfront();
    let (found, took) = wait::until(
        &ctx.progress,
        &format!("waiting for distribution {id} to deploy"),
        max,
        "CloudFront takes 5-15 minutes to disable a distribution; run `colorid down` again later (it continues from here), or give --wait-timeout more seconds",
        || async {
            let found = get(&cf, id).await?.ok_or_else(|| {
                Error::conflict(format!("the distribution {id} disappeared while deploying"))
            })?;
            if found.status == "Deployed" {
                Ok(Poll::Ready(found))
            } else {
                Ok(Poll::Pending(found.status.clone()))
            }
        },
    )
    .await?;
    ctx.progress.step("distribution", "deployed", took);
    Ok(found)
}

/// Disables the distribution, waits until that is deployed, and deletes it.
pub async fn delete(ctx: &Ctx, id: &str, max: Duration) -> Result<()> {
    let cf = ctx.aws.cloudfront();
    let Some(current) = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_distribution())
        .aws("read the distribution's config", id)?
    else {
        return Ok(());
    };
    if let Some(config) = current.distribution_config.clone()
        && config.enabled()
    {
        let mut disabled = config;
        disabled.enabled = false;
        cf.update_distribution()
            .id(id)
            .set_if_match(current.e_tag.clone())
            .distribution_config(disabled)
            .send()
            .await
            .aws("disable the distribution", id)?;
        ctx.progress
            .step("distribution", &format!("{id} disabled"), Duration::ZERO);
    }
    wait_deployed(ctx, id, max).await?;
    // CloudFront may still answer DistributionNotDisabled for a little while after the
    // disabled distribution reads Deployed: try again, with a fresh ETag each time.
    let fix = "CloudFront has not finished disabling the distribution; run `colorid down` again in a few minutes (it continues from here)";
    wait::until(
        &ctx.progress,
        &format!("waiting for CloudFront to let distribution {id} be deleted"),
        max.min(Duration::from_secs(600)),
        fix,
        || async {
            let Some(etag) = cf
                .get_distribution_config()
                .id(id)
                .send()
                .await
                .or_gone(|e| e.is_no_such_distribution())
                .aws("read the distribution's config", id)?
                .map(|out| out.e_tag)
            else {
                return Ok(Poll::Ready(()));
            };
            match cf
                .delete_distribution()
                .id(id)
                .set_if_match(etag)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Ready(())),
                Err(err) => match code_of(&err) {
                    Some("NoSuchDistribution") => Ok(Poll::Ready(())),
                    Some(code @ ("DistributionNotDisabled" | "PreconditionFailed")) => {
                        Ok(Poll::Pending(code.to_string()))
                    }
                    _ => Err(err).aws("delete the distribution", id),
                },
            }
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_aws::{FakeCloudFront, FakeSsm, Run, STACK};
    use crate::stack::origin_access::Access;

    const CERTIFICATE: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

    fn inputs() -> Inputs {
        Inputs {
            certificate_arn: Some(CERTIFICATE.into()),
            bucket_domain: "b.s3.eu-west-1.amazonaws.com".into(),
            access: Access::Control("OAC1".into()),
            api: Some(ApiOrigin {
                domain: "abc.lambda-url.eu-west-1.on.aws".into(),
                verify_secret: "verify-secret".into(),
            }),
            has_404_page: false,
            headers_policy_id: "policy".into(),
            viewer_function_arn: None,
        }
    }

    async fn open(cf: &FakeCloudFront, ssm: &FakeSsm) -> Run {
        Run::open(STACK, ssm.clone(), &cf.rules()).await
    }

    /// A config of another stack (or made by hand), serving `alias`.
    fn other_config(run: &Run, reference: &str, alias: Option<&str>) -> DistributionConfig {
        let mut config = wanted_config(&run.ctx, &inputs(), None).unwrap();
        config.caller_reference = reference.into();
        config.aliases = alias.map(|a| {
            aws_sdk_cloudfront::types::Aliases::builder()
                .quantity(1)
                .items(a)
                .build()
                .unwrap()
        });
        config
    }

    #[tokio::test]
    async fn a_first_ensure_creates_the_tagged_distribution_and_records_it() {
        let (cf, ssm) = (FakeCloudFront::default(), FakeSsm::default());
        let run = open(&cf, &ssm).await;
        let found = ensure(&run.ctx, &inputs(), None).await.unwrap();
        let stored = cf.get(&found.id).unwrap();
        assert_eq!(stored.tags, [(STACK_TAG.to_string(), "demo".to_string())]);
        let nonce = run.ctx.state.get().await.distribution_nonce.unwrap();
        assert_eq!(
            stored.config.caller_reference,
            run.ctx.names.distribution_caller_reference(&nonce)
        );
        assert_eq!(
            (found.arn.as_str(), found.domain.as_str()),
            (stored.arn.as_str(), stored.domain.as_str())
        );
        assert_eq!(found.status, "InProgress");
        assert_eq!(
            found.config.caller_reference,
            stored.config.caller_reference
        );
        let state = run.ctx.state.get().await;
        assert_eq!(state.distribution_id.as_deref(), Some(found.id.as_str()));
        assert_eq!(
            state.distribution_domain.as_deref(),
            Some(found.domain.as_str())
        );
        assert!(
            run.lines().iter().any(|l| l.contains("distribution")
                && l.contains(&format!("{} created (deploying", found.id))),
            "{:?}",
            run.lines()
        );
        // The next run finds it by the recorded id, with no listing.
        let again = open(&cf, &ssm).await;
        let before = cf.calls().len();
        let found_again = find(&again.ctx).await.unwrap().unwrap();
        assert_eq!(found_again.id, found.id);
        assert_eq!(
            cf.calls()[before..],
            [format!("GetDistribution {}", found.id)]
        );
    }

    #[tokio::test]
    async fn an_unchanged_distribution_is_left_alone_and_a_changed_one_updated_with_its_etag() {
        let (cf, ssm) = (FakeCloudFront::default(), FakeSsm::default());
        let run = open(&cf, &ssm).await;
        let made = ensure(&run.ctx, &inputs(), None).await.unwrap();
        let wanted = wanted_config(&run.ctx, &inputs(), Some(&made.config)).unwrap();
        assert_eq!(plan(None, &wanted, Recorded::default()), Change::Create);
        assert_eq!(
            plan(Some(&made), &wanted, Recorded::default()),
            Change::Unchanged
        );

        let before = cf.writes().len();
        let same = ensure(&run.ctx, &inputs(), Some(made.clone()))
            .await
            .unwrap();
        assert_eq!(same.id, made.id);
        assert_eq!(cf.writes().len(), before, "{:?}", cf.writes());
        assert!(
            run.lines()
                .iter()
                .any(|l| l.contains(&format!("{} unchanged", made.id)))
        );

        let mut changed = inputs();
        changed.has_404_page = true;
        let wanted = wanted_config(&run.ctx, &changed, Some(&made.config)).unwrap();
        let Change::Update { fields } = plan(Some(&made), &wanted, Recorded::default()) else {
            panic!("an update")
        };
        let updated = ensure(&run.ctx, &changed, Some(made.clone()))
            .await
            .unwrap();
        assert_eq!(
            cf.writes()[before..],
            [format!("UpdateDistribution {}", made.id)]
        );
        let stored = cf.get(&made.id).unwrap();
        assert_eq!(stored.etag, format!("{}-v2", made.id));
        assert_eq!(
            stored.config.custom_error_responses().map(|c| c.quantity()),
            Some(1)
        );
        assert_eq!(updated.config, stored.config);
        assert_eq!(updated.status, "InProgress");
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        let line = format!("{} updated {}", made.id, names.join(", "));
        assert!(
            run.lines().iter().any(|l| l.contains(&line)),
            "{line}: {:?}",
            run.lines()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_certificate_is_waited_for() {
        let (cf, ssm) = (
            FakeCloudFront::default().fresh_certificate(4),
            FakeSsm::default(),
        );
        let run = open(&cf, &ssm).await;
        let t0 = Instant::now();
        let found = ensure(&run.ctx, &inputs(), None).await.unwrap();
        // Refused four times: waits of 1, 2, 4 and 8 s.
        assert_eq!(t0.elapsed().as_secs(), 15);
        assert!(cf.get(&found.id).is_some());
        let creates = cf.count("CreateDistribution");
        assert_eq!(creates, 5);
        assert!(
            run.lines().iter().any(|l| l.contains(&format!(
                "waiting for CloudFront to accept the new certificate {CERTIFICATE}"
            ))),
            "{:?}",
            run.lines()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_certificate_refused_past_five_minutes_is_an_error() {
        // Refused 200 times, then accepted: more than five minutes of backed-off
        // retries make, and few enough that a loop without its bound or backoff ends.
        let (cf, ssm) = (
            FakeCloudFront::default().fresh_certificate(200),
            FakeSsm::default(),
        );
        let run = open(&cf, &ssm).await;
        let t0 = Instant::now();
        let err = ensure(&run.ctx, &inputs(), None).await.err().unwrap();
        let waited = t0.elapsed().as_secs();
        assert!((300..=310).contains(&waited), "{waited}");
        assert!(
            err.to_string().contains("InvalidViewerCertificate"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("create the distribution of stack demo"),
            "{err}"
        );
        // The waits back off to 10 s: 1, 2, 4, 8, then 10 s apart.
        let creates = cf.count("CreateDistribution");
        assert!((33..=35).contains(&creates), "{creates}");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_certificate_the_refusal_is_not_waited_out() {
        use aws_smithy_mocks::mock;
        let refused = mock!(aws_sdk_cloudfront::Client::create_distribution_with_tags)
            .then_http_response(|| {
                crate::fake_aws::cloudfront::error(400, "InvalidViewerCertificate", "no")
            });
        let ssm = FakeSsm::default();
        let run = Run::open(STACK, ssm, &[refused]).await;
        let mut no_domain = inputs();
        no_domain.certificate_arn = None;
        let t0 = Instant::now();
        let err = ensure(&run.ctx, &no_domain, None).await.err().unwrap();
        assert_eq!(t0.elapsed().as_secs(), 0);
        assert!(
            err.to_string().contains("InvalidViewerCertificate"),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_create_whose_answer_was_lost_finds_the_tagged_distribution() {
        let (cf, ssm) = (FakeCloudFront::default(), FakeSsm::default());
        let run = open(&cf, &ssm).await;
        let made = ensure(&run.ctx, &inputs(), None).await.unwrap();
        // Another stack's distribution, listed first.
        cf.insert(other_config(&run, "other", None), &[(STACK_TAG, "other")]);
        let again = open(&cf, &ssm).await;
        let t0 = Instant::now();
        let found = ensure(&again.ctx, &inputs(), None).await.unwrap();
        assert_eq!(
            t0.elapsed().as_secs(),
            0,
            "not retried as a fresh certificate"
        );
        assert_eq!(found.id, made.id);
        assert_eq!(cf.ids().len(), 2);
        assert!(
            again
                .lines()
                .iter()
                .any(|l| l.contains("found (created by an earlier attempt)"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_reference_taken_by_an_untagged_distribution_is_explained() {
        let (cf, ssm) = (FakeCloudFront::default(), FakeSsm::default());
        let run = open(&cf, &ssm).await;
        let nonce = run
            .ctx
            .state
            .nonce(|s| &mut s.distribution_nonce)
            .await
            .unwrap();
        let reference = run.ctx.names.distribution_caller_reference(&nonce);
        cf.insert(other_config(&run, &reference, None), &[]);
        let t0 = Instant::now();
        let err = ensure(&run.ctx, &inputs(), None).await.err().unwrap();
        assert_eq!(
            t0.elapsed().as_secs(),
            0,
            "not retried as a fresh certificate"
        );
        let report = err.report();
        assert!(
            report.contains("none is tagged colorid:stack=demo"),
            "{report}"
        );
        assert!(report.contains("\"colorid stack demo\""), "{report}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_domain_another_distribution_serves_is_named() {
        let (cf, ssm) = (FakeCloudFront::default(), FakeSsm::default());
        let run = open(&cf, &ssm).await;
        cf.insert(other_config(&run, "theirs", Some("color.example.com")), &[]);
        let t0 = Instant::now();
        let err = ensure(&run.ctx, &inputs(), None).await.err().unwrap();
        assert_eq!(
            t0.elapsed().as_secs(),
            0,
            "not retried as a fresh certificate"
        );
        let report = err.report();
        assert!(
            report.contains("another CloudFront distribution already serves color.example.com."),
            "{report}"
        );
        assert!(report.contains("choose another `domain`"), "{report}");
        assert_eq!(cf.ids().len(), 1);
        assert!(run.ctx.state.get().await.distribution_id.is_none());
    }

    #[tokio::test]
    async fn find_tagged_reads_every_page_and_skips_what_vanished() {
        use aws_smithy_mocks::mock;
        let cf = FakeCloudFront::default().page(2);
        let ssm = FakeSsm::default();
        let run = open(&cf, &ssm).await;
        let mut ours = Vec::new();
        for i in 0..6 {
            let stack = if i % 3 == 0 { "demo" } else { "other" };
            let id = cf.insert(
                other_config(&run, &format!("r{i}"), None),
                &[(STACK_TAG, stack), ("team", "x")],
            );
            if stack == "demo" {
                ours.push(id);
            }
        }
        let found: Vec<String> = find_tagged(&run.ctx)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(found, ours);
        let pages = cf.count("ListDistributions");
        assert_eq!(pages, 3);
        // No recorded id: find looks by tag.
        assert_eq!(find(&run.ctx).await.unwrap().unwrap().id, ours[0]);

        // A distribution deleted between the listing and the tag read is not ours to find.
        let gone_arn = cf.get(&ours[0]).unwrap().arn;
        let vanished = mock!(aws_sdk_cloudfront::Client::list_tags_for_resource)
            .match_requests(move |r| r.resource() == Some(gone_arn.as_str()))
            .then_http_response(|| {
                crate::fake_aws::cloudfront::error(404, "NoSuchResource", "gone")
            });
        let mut rules = vec![vanished];
        rules.extend(cf.rules());
        let run = Run::open(STACK, ssm.clone(), &rules).await;
        let found: Vec<String> = find_tagged(&run.ctx)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.id)
            .collect();
        assert_eq!(found, ours[1..]);
        assert!(
            get(&run.ctx.aws.cloudfront(), "ENONE")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn delete_disables_waits_for_the_deployment_and_deletes() {
        let cf = FakeCloudFront::default().deploy_after(3).not_disabled(2);
        let ssm = FakeSsm::default();
        let run = open(&cf, &ssm).await;
        let id = cf.insert(
            wanted_config(&run.ctx, &inputs(), None).unwrap(),
            &[(STACK_TAG, "demo")],
        );
        delete(&run.ctx, &id, Duration::from_secs(600))
            .await
            .unwrap();
        assert!(cf.get(&id).is_none());
        let writes = cf.writes();
        assert_eq!(writes[0], format!("UpdateDistribution {id}"));
        // Refused twice as not yet disabled, then deleted.
        assert_eq!(writes[1..], vec![format!("DeleteDistribution {id}"); 3][..]);
        assert!(
            run.lines()
                .iter()
                .any(|l| l.contains(&format!("{id} disabled")))
        );
        assert!(run.lines().iter().any(|l| l.contains("deployed")));
        // Already deleted: nothing to do.
        delete(&run.ctx, &id, Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(cf.writes().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_distribution_deleted_by_someone_else_meanwhile_is_gone_as_wanted() {
        use aws_smithy_mocks::mock;
        let cf = FakeCloudFront::default();
        let deleted_meanwhile = mock!(aws_sdk_cloudfront::Client::delete_distribution)
            .then_http_response(|| {
                crate::fake_aws::cloudfront::error(404, "NoSuchDistribution", "gone")
            });
        let mut rules = vec![deleted_meanwhile];
        rules.extend(cf.rules());
        let run = Run::open(STACK, FakeSsm::default(), &rules).await;
        let mut config = wanted_config(&run.ctx, &inputs(), None).unwrap();
        config.enabled = false;
        let id = cf.insert(config, &[]);
        delete(&run.ctx, &id, Duration::from_secs(600))
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_disabled_distribution_is_not_updated_again() {
        let cf = FakeCloudFront::default();
        let ssm = FakeSsm::default();
        let run = open(&cf, &ssm).await;
        let mut config = wanted_config(&run.ctx, &inputs(), None).unwrap();
        config.enabled = false;
        let id = cf.insert(config, &[]);
        delete(&run.ctx, &id, Duration::from_secs(600))
            .await
            .unwrap();
        assert_eq!(cf.writes(), [format!("DeleteDistribution {id}")]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deployment_that_outlasts_the_bound_is_a_timeout_that_says_how_to_go_on() {
        let cf = FakeCloudFront::default().deploy_after(usize::MAX);
        let ssm = FakeSsm::default();
        let run = open(&cf, &ssm).await;
        let id = cf.insert(wanted_config(&run.ctx, &inputs(), None).unwrap(), &[]);
        let t0 = Instant::now();
        let err = delete(&run.ctx, &id, Duration::from_secs(120))
            .await
            .err()
            .unwrap();
        assert_eq!(t0.elapsed().as_secs(), 120);
        let report = err.report();
        assert!(
            report.contains(&format!("waiting for distribution {id} to deploy")),
            "{report}"
        );
        assert!(
            report.contains("run `colorid down` again later"),
            "{report}"
        );
        assert!(cf.get(&id).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_distribution_that_vanishes_while_deploying_is_an_error() {
        use aws_smithy_mocks::mock;
        let gone = mock!(aws_sdk_cloudfront::Client::get_distribution).then_http_response(|| {
            crate::fake_aws::cloudfront::error(404, "NoSuchDistribution", "gone")
        });
        let run = Run::open(STACK, FakeSsm::default(), &[gone]).await;
        let err = wait_deployed(&run.ctx, "EGONE", Duration::from_secs(60))
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("the distribution EGONE disappeared while deploying"),
            "{err}"
        );
    }
}
