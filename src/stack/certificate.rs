//! The ACM certificate (us-east-1, DNS-validated through the hosted zone).

use std::time::{Duration, Instant};

use aws_sdk_acm::Client as AcmClient;
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Tag, ValidationMethod};
use aws_sdk_route53::types::{
    Change as R53Change, ChangeAction, ResourceRecord, ResourceRecordSet, RrType,
};

use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::names::{STACK_TAG, digest};
use crate::stack::{Change, Ctx, FieldChange};
use crate::wait::{self, Poll};

/// A certificate the stack owns.
#[derive(Debug, Clone)]
pub struct Found {
    pub arn: String,
    pub names: Vec<String>,
    pub status: String,
    /// (record name, record value) of each DNS validation CNAME.
    pub validation: Vec<(String, String)>,
    /// A certificate of the stack this one replaces (the names changed); deleted once unused.
    pub replaces: Option<String>,
    /// Issued, or ACM has assigned every validation record.
    pub records_ready: bool,
    /// Whole days until the certificate expires, when issued.
    pub days_left: Option<i64>,
}

/// All the names the certificate must cover, sorted.
pub fn wanted_names(ctx: &Ctx) -> Vec<String> {
    let mut names = ctx.stack.aliases();
    names.sort();
    names
}

fn found_from(detail: &CertificateDetail) -> Found {
    let mut names: Vec<String> = detail.subject_alternative_names().to_vec();
    if names.is_empty()
        && let Some(d) = detail.domain_name()
    {
        names.push(d.to_string());
    }
    names.sort();
    names.dedup();
    let mut validation: Vec<(String, String)> = detail
        .domain_validation_options()
        .iter()
        .filter_map(|o| o.resource_record())
        .map(|r| (r.name().to_string(), r.value().to_string()))
        .collect();
    validation.sort();
    validation.dedup();
    let issued = detail.status() == Some(&CertificateStatus::Issued);
    // Ready when ACM has assigned a record to every name. Names share records (a wildcard
    // and its apex have one; ACM reuses a name's record across certificates), so the
    // distinct records may be fewer than the names.
    let options = detail.domain_validation_options();
    let records_ready =
        issued || (!options.is_empty() && options.iter().all(|o| o.resource_record().is_some()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days_left = detail.not_after().map(|t| (t.secs() - now) / 86_400);
    Found {
        days_left,
        records_ready,
        arn: detail.certificate_arn().unwrap_or_default().to_string(),
        names,
        status: detail
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        validation,
        replaces: None,
    }
}

fn usable(status: &str) -> bool {
    matches!(status, "ISSUED" | "PENDING_VALIDATION")
}

async fn describe(acm: &AcmClient, arn: &str) -> Result<Option<CertificateDetail>> {
    Ok(acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("describe the certificate", arn)?
        .and_then(|out| out.certificate))
}

/// Of the certificates `arns` (named by the state record), those tagged for this
/// stack; nothing is asked of ACM when `arns` is empty. A stack with no domain looks
/// only here: it has no certificate, unless one is left from when it had a domain.
pub async fn find_recorded(ctx: &Ctx, arns: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for arn in arns {
        if tagged_for_stack(ctx, arn).await? == Some(true) && !out.contains(arn) {
            out.push(arn.clone());
        }
    }
    Ok(out)
}

/// Whether the certificate carries this stack's tag; `None` when it is gone.
async fn tagged_for_stack(ctx: &Ctx, arn: &str) -> Result<Option<bool>> {
    let tags = ctx
        .aws
        .acm()
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("read the certificate's tags", arn)?;
    Ok(tags.map(|t| {
        t.tags()
            .iter()
            .any(|t| t.key() == STACK_TAG && t.value() == Some(ctx.names.stack.as_str()))
    }))
}

/// Every certificate tagged for this stack (used when the state record is lost, and by `down`).
pub async fn find_tagged(ctx: &Ctx) -> Result<Vec<Found>> {
    let acm = ctx.aws.acm();
    let pages: Vec<_> = acm
        .list_certificates()
        .into_paginator()
        .send()
        .try_collect()
        .await
        .aws("list certificates", "us-east-1")?;
    let mut out = Vec::new();
    for page in pages {
        for summary in page.certificate_summary_list() {
            let Some(arn) = summary.certificate_arn() else {
                continue;
            };
            // Deleted since the listing (by another stack's `down`, say): not ours to find.
            if tagged_for_stack(ctx, arn).await? == Some(true)
                && let Some(detail) = describe_listed(ctx, &acm, arn).await?
            {
                out.push(found_from(&detail));
            }
        }
    }
    Ok(out)
}

/// Describes a certificate the listing showed and its tags name: one requested
/// moments ago (by an `up` that was stopped before it kept the ARN) is listed
/// but not yet described — "a delay of several seconds before you can retrieve
/// information about the new certificate" (API_RequestCertificate) — so not
/// found is "not yet" while its tags are still readable; `None` once they are
/// gone too (deleted since the listing).
async fn describe_listed(
    ctx: &Ctx,
    acm: &AcmClient,
    arn: &str,
) -> Result<Option<CertificateDetail>> {
    if let Some(detail) = describe(acm, arn).await? {
        return Ok(Some(detail));
    }
    let (detail, _) = wait::until(
        &ctx.progress,
        "waiting for a new certificate to be readable",
        Duration::from_secs(60),
        "run the command again in a minute; ACM has not yet made the certificate readable",
        || async {
            if let Some(detail) = describe(acm, arn).await? {
                return Ok(Poll::Ready(Some(detail)));
            }
            if tagged_for_stack(ctx, arn).await?.is_none() {
                return Ok(Poll::Ready(None));
            }
            Ok(Poll::Pending("listed, not yet readable".into()))
        },
    )
    .await?;
    Ok(detail)
}

/// Finds the certificate that covers exactly the wanted names.
pub async fn find(ctx: &Ctx) -> Result<Option<Found>> {
    let wanted = wanted_names(ctx);
    if let Some(arn) = ctx.state.get().await.certificate_arn
        && let Some(detail) = describe(&ctx.aws.acm(), &arn).await?
    {
        let found = found_from(&detail);
        if found.names == wanted && usable(&found.status) {
            return Ok(Some(found));
        }
    }
    Ok(find_tagged(ctx)
        .await?
        .into_iter()
        .find(|f| f.names == wanted && usable(&f.status)))
}

/// What `up` would do to the certificate.
pub fn plan(ctx: &Ctx, found: Option<&Found>, previous_names: Option<Vec<String>>) -> Change {
    match found {
        Some(_) => Change::Unchanged,
        None => match previous_names {
            Some(old) => Change::Update {
                fields: vec![FieldChange {
                    field: "names (replaced by a new certificate)".into(),
                    old: old.join(","),
                    new: wanted_names(ctx).join(","),
                }],
            },
            None => Change::Create,
        },
    }
}

/// Requests the certificate when missing, upserts its validation records and waits for ISSUED.
/// Without a zone (`dns = "external"`) the records are printed for the user to add instead.
/// The request needs only the stack's names: `zone_id` is awaited once the records are
/// known, so the request and ACM's delay before its records overlap the zone's making.
pub async fn ensure(
    ctx: &Ctx,
    zone_id: impl Future<Output = Result<Option<String>>>,
    max_wait: Duration,
) -> Result<Found> {
    let start = Instant::now();
    let acm = ctx.aws.acm();
    let wanted = wanted_names(ctx);
    let previous = ctx.state.get().await.certificate_arn;
    let (arn, what, known) = match find(ctx).await? {
        Some(found) => (found.arn.clone(), "found", Some(found)),
        None => {
            let nonce = ctx.state.nonce(|s| &mut s.certificate_nonce).await?;
            let token = digest(&[&ctx.names.stack, &nonce, &wanted.join(",")]);
            let mut req = acm
                .request_certificate()
                .domain_name(ctx.stack.domain_name())
                .validation_method(ValidationMethod::Dns)
                .idempotency_token(&token[..32])
                .tags(
                    Tag::builder()
                        .key(STACK_TAG)
                        .value(&ctx.names.stack)
                        .build()
                        .built("the stack tag")?,
                );
            for name in &ctx.stack.certificate_names {
                req = req.subject_alternative_names(name);
            }
            if !ctx.stack.certificate_names.is_empty() {
                req = req.subject_alternative_names(ctx.stack.domain_name());
            }
            let out = req
                .send()
                .await
                .aws("request the certificate for", ctx.stack.domain_name())?;
            let arn = out.certificate_arn.unwrap_or_default();
            (arn, "requested", None)
        }
    };
    ctx.state
        .update(|s| s.certificate_arn = Some(arn.clone()))
        .await?;
    ctx.progress
        .step("certificate", &format!("{what} {arn}"), start.elapsed());

    // ACM fills in the validation records a few seconds after the request.
    let detail = match known.filter(|f| f.records_ready) {
        Some(found) => found,
        None => wait_for_records(ctx, &acm, &arn).await?,
    };
    let zone_id = zone_id.await?;
    let zone_id = zone_id.as_deref();
    match zone_id {
        Some(zone_id) => ensure_validation_records(ctx, zone_id, &detail).await?,
        // A certificate requested now gets its records printed even if ACM issued it
        // already (records of an earlier certificate of the name may be in place).
        None if detail.status != "ISSUED" || what == "requested" => {
            print_validation_records(ctx, &detail)
        }
        None => {}
    }

    let replaces = previous.filter(|p| p != &arn);
    if detail.status == "ISSUED" {
        return Ok(Found { replaces, ..detail });
    }
    let fix = match zone_id {
        Some(_) => format!(
            "the certificate {arn} is still being validated (DNS validation usually takes 1-30 minutes once the records resolve); check that {} is delegated to Route53, then run `colorid up` again (it picks up the same certificate), or give --wait-timeout more seconds",
            ctx.stack.hosted_zone
        ),
        None => format!(
            "the certificate {arn} is still being validated: add the CNAME record(s) printed above at your DNS provider (check with `dig CNAME <name>`), then run `colorid up` again (it picks up the same certificate and goes on)"
        ),
    };
    let waiting = match zone_id {
        Some(_) => format!(
            "waiting for certificate {} to be issued",
            ctx.stack.domain_name()
        ),
        None => format!(
            "waiting for ACM to see the validation record(s) at your DNS provider and issue the certificate for {}",
            ctx.stack.domain_name()
        ),
    };
    let (found, took) = wait::until(
        &ctx.progress,
        &waiting,
        max_wait,
        &fix,
        || async {
            let detail = describe(&acm, &arn).await?.ok_or_else(|| {
                Error::conflict(format!("the certificate {arn} disappeared while validating"))
            })?;
            let status = detail.status().cloned();
            match status {
                Some(CertificateStatus::Issued) => Ok(Poll::Ready(found_from(&detail))),
                Some(CertificateStatus::PendingValidation) | None => {
                    Ok(Poll::Pending("PENDING_VALIDATION".into()))
                }
                Some(
                    s @ (CertificateStatus::Failed
                    | CertificateStatus::Expired
                    | CertificateStatus::Inactive
                    | CertificateStatus::Revoked
                    | CertificateStatus::ValidationTimedOut),
                ) => Err(Error::conflict_fix(format!("the certificate {arn} ended in status {}: {}.", s.as_str(), detail
                        .failure_reason()
                        .map(|r| r.as_str().to_string())
                        .unwrap_or_else(|| "no reason given".into())), "run `colorid down` for the certificate or delete it in the ACM console, then `colorid up` requests a new one")),
                Some(other) => Ok(Poll::Pending(other.as_str().to_string())),
            }
        },
    )
    .await?;
    ctx.progress.step("certificate", "issued", took);
    Ok(Found { replaces, ..found })
}

/// Waits until ACM has assigned the certificate's validation records.
async fn wait_for_records(ctx: &Ctx, acm: &AcmClient, arn: &str) -> Result<Found> {
    let (found, _) = wait::until(
        &ctx.progress,
        "waiting for the certificate's validation records",
        Duration::from_secs(120),
        "run `colorid up` again; the certificate request is kept",
        || async {
            // "There is a delay of several seconds before you can retrieve information
            // about the new certificate" (API_RequestCertificate): not found is "not yet".
            let Some(detail) = describe(acm, arn).await? else {
                return Ok(Poll::Pending("not yet visible to ACM's reads".into()));
            };
            let f = found_from(&detail);
            if f.records_ready {
                Ok(Poll::Ready(f))
            } else {
                Ok(Poll::Pending("records not yet assigned".into()))
            }
        },
    )
    .await?;
    Ok(found)
}

/// Upserts the validation CNAMEs that are missing or differ. A record that did not
/// exist is claimed in the state before it is created, so `down` deletes it (and only
/// such records: ACM gives every certificate of a name the same record, so one that was
/// there before may serve another certificate, of this account or another region).
/// `dns = "external"`: the CNAMEs ACM checks, for the user to add at their DNS provider.
fn print_validation_records(ctx: &Ctx, cert: &Found) {
    ctx.progress.note(&format!(
        "  add at your DNS provider, to validate the certificate for {}:",
        ctx.stack.domain_name()
    ));
    for (name, value) in &cert.validation {
        ctx.progress.note(&format!("    {name} CNAME {value}"));
    }
}

async fn ensure_validation_records(ctx: &Ctx, zone_id: &str, cert: &Found) -> Result<()> {
    let start = Instant::now();
    let r53 = ctx.aws.route53();
    let mut changes = Vec::new();
    let mut created = Vec::new();
    for (name, value) in &cert.validation {
        let existing = crate::stack::dns::find_record(&r53, zone_id, name, RrType::Cname).await?;
        let current = existing
            .as_ref()
            .and_then(|r| r.resource_records().first())
            .map(|r| r.value().to_string());
        if current.is_none() {
            created.push(name.clone());
        }
        if current.as_deref() != Some(value.as_str()) {
            let set = ResourceRecordSet::builder()
                .name(name)
                .r#type(RrType::Cname)
                .ttl(300)
                .resource_records(
                    ResourceRecord::builder()
                        .value(value)
                        .build()
                        .built("the validation record value")?,
                )
                .build()
                .built("the validation record")?;
            changes.push(
                R53Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(set)
                    .build()
                    .built("the validation record change")?,
            );
        }
    }
    if !created.is_empty() {
        ctx.state
            .update(|s| {
                for name in created {
                    if !s.validation_records.contains(&name) {
                        s.validation_records.push(name);
                    }
                }
            })
            .await?;
    }
    if !changes.is_empty() {
        let count = changes.len();
        crate::stack::dns::change_records(ctx, zone_id, changes, "certificate validation records")
            .await?;
        ctx.progress.step(
            "validation",
            &format!("upserted {count} CNAME record(s)"),
            start.elapsed(),
        );
    }
    Ok(())
}

/// Deletes a certificate if CloudFront has released it; `false` while it is still in use.
pub async fn try_delete(ctx: &Ctx, arn: &str) -> Result<bool> {
    match ctx
        .aws
        .acm()
        .delete_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
    {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(false)
        }
        Err(err) => Err(err).aws("delete the certificate", arn),
    }
}

/// Deletes a certificate; CloudFront releases it a little after the distribution is gone.
pub async fn delete(ctx: &Ctx, arn: &str) -> Result<()> {
    let fix = "the certificate is still attached to a CloudFront distribution; run `colorid down` again in a few minutes";
    wait::until(
        &ctx.progress,
        "waiting for CloudFront to release the certificate",
        Duration::from_secs(600),
        fix,
        || async {
            Ok(if try_delete(ctx, arn).await? {
                Poll::Ready(())
            } else {
                Poll::Pending("in use".into())
            })
        },
    )
    .await?;
    Ok(())
}
