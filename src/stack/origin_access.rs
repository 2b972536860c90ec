//! How CloudFront reads the bucket: an origin access control (SigV4, always
//! sign) by default, or the legacy origin access identity on request.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_cloudfront::Client as CloudFrontClient;
use aws_sdk_cloudfront::types::{
    CloudFrontOriginAccessIdentityConfig, OriginAccessControlConfig,
    OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols,
};

use crate::config::OriginAccess;
use crate::error::{AwsContext, Built, Error, OrGone, Result};
use crate::stack::{Change, Ctx, diff_fields};

/// The origin access the distribution uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// An origin access control's id.
    Control(String),
    /// An origin access identity's id.
    Identity(String),
}

impl Access {
    pub fn id(&self) -> &str {
        match self {
            Access::Control(id) | Access::Identity(id) => id,
        }
    }
}

/// An origin access control found by name, with its settings.
#[derive(Debug, Clone)]
pub struct FoundControl {
    pub id: String,
    pub fields: BTreeMap<String, String>,
}

fn wanted_control_fields() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("origin_type".into(), "s3".into()),
        ("signing_behavior".into(), "always".into()),
        ("signing_protocol".into(), "sigv4".into()),
    ])
}

/// Finds the stack's origin access control by its derived name.
pub async fn find_control(cf: &CloudFrontClient, name: &str) -> Result<Option<FoundControl>> {
    let mut marker: Option<String> = None;
    loop {
        let out = cf
            .list_origin_access_controls()
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list origin access controls", name)?;
        let Some(list) = out.origin_access_control_list else {
            return Ok(None);
        };
        if let Some(item) = list.items().iter().find(|i| i.name() == name) {
            return Ok(Some(FoundControl {
                id: item.id().to_string(),
                fields: BTreeMap::from([
                    (
                        "origin_type".into(),
                        item.origin_access_control_origin_type()
                            .as_str()
                            .to_string(),
                    ),
                    (
                        "signing_behavior".into(),
                        item.signing_behavior().as_str().to_string(),
                    ),
                    (
                        "signing_protocol".into(),
                        item.signing_protocol().as_str().to_string(),
                    ),
                ]),
            }));
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
            _ => return Ok(None),
        }
    }
}

/// Finds the stack's origin access identity by its comment: `(id, S3 canonical user)`.
pub async fn find_identity(cf: &CloudFrontClient, comment: &str) -> Result<Option<String>> {
    let mut marker: Option<String> = None;
    loop {
        let out = cf
            .list_cloud_front_origin_access_identities()
            .set_marker(marker.clone())
            .send()
            .await
            .aws("list origin access identities", comment)?;
        let Some(list) = out.cloud_front_origin_access_identity_list else {
            return Ok(None);
        };
        if let Some(item) = list.items().iter().find(|i| i.comment() == comment) {
            return Ok(Some(item.id().to_string()));
        }
        match list.next_marker() {
            Some(m) if list.is_truncated() && !m.is_empty() => marker = Some(m.to_string()),
            _ => return Ok(None),
        }
    }
}

/// What `up` would do to the origin access.
pub async fn plan(ctx: &Ctx) -> Result<(Change, Option<Access>)> {
    let cf = ctx.aws.cloudfront();
    Ok(match ctx.stack.origin_access {
        OriginAccess::Control => match find_control(&cf, &ctx.names.origin_access_control()).await?
        {
            Some(f) => (
                Change::from_fields(diff_fields(&f.fields, &wanted_control_fields())),
                Some(Access::Control(f.id)),
            ),
            None => (Change::Create, None),
        },
        OriginAccess::Identity => {
            match find_identity(&cf, &ctx.names.origin_access_identity_comment()).await? {
                Some(id) => (Change::Unchanged, Some(Access::Identity(id))),
                None => (Change::Create, None),
            }
        }
    })
}

fn control_config(name: &str, description: String) -> Result<OriginAccessControlConfig> {
    OriginAccessControlConfig::builder()
        .name(name)
        .description(description)
        .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
        .signing_behavior(OriginAccessControlSigningBehaviors::Always)
        .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
        .build()
        .built("the origin access control config")
}

/// Creates or corrects the origin access the stack asks for.
pub async fn ensure(ctx: &Ctx) -> Result<Access> {
    match ctx.stack.origin_access {
        OriginAccess::Control => ensure_control(ctx).await,
        OriginAccess::Identity => ensure_identity(ctx).await,
    }
}

async fn ensure_control(ctx: &Ctx) -> Result<Access> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let name = ctx.names.origin_access_control();
    let description = format!("colorid stack {}", ctx.names.stack);
    let (id, what) = match find_control(&cf, &name).await? {
        Some(found) => {
            let changes = diff_fields(&found.fields, &wanted_control_fields());
            if changes.is_empty() {
                (found.id, "unchanged".to_string())
            } else {
                let current = cf
                    .get_origin_access_control()
                    .id(&found.id)
                    .send()
                    .await
                    .aws("read the origin access control", &name)?;
                cf.update_origin_access_control()
                    .id(&found.id)
                    .set_if_match(current.e_tag)
                    .origin_access_control_config(control_config(&name, description)?)
                    .send()
                    .await
                    .aws("update the origin access control", &name)?;
                (found.id, "updated to SigV4, always sign".to_string())
            }
        }
        None => {
            let created = cf
                .create_origin_access_control()
                .origin_access_control_config(control_config(&name, description)?)
                .send()
                .await;
            let id = match created {
                Ok(out) => out.origin_access_control.map(|o| o.id),
                // The SDK's retry of a create whose answer was lost: the first made it.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_origin_access_control_already_exists()) =>
                {
                    find_control(&cf, &name).await?.map(|f| f.id)
                }
                Err(err) => return Err(err).aws("create the origin access control", &name),
            }
            .ok_or_else(|| Error::conflict(format!("creating {name} returned no id")))?;
            (id, "created (S3, SigV4, always sign)".to_string())
        }
    };
    ctx.state
        .update(|s| s.origin_access_control_id = Some(id.clone()))
        .await?;
    ctx.progress.step(
        "origin access",
        &format!("control {id} {what}"),
        start.elapsed(),
    );
    Ok(Access::Control(id))
}

async fn ensure_identity(ctx: &Ctx) -> Result<Access> {
    let start = Instant::now();
    let cf = ctx.aws.cloudfront();
    let comment = ctx.names.origin_access_identity_comment();
    let (id, what) = match find_identity(&cf, &comment).await? {
        Some(id) => (id, "unchanged"),
        None => {
            let nonce = ctx
                .state
                .nonce(|s| &mut s.origin_access_identity_nonce)
                .await?;
            let reference = ctx.names.oai_caller_reference(&nonce);
            match create_identity(&cf, &comment, &reference).await {
                Ok(id) => (id, "created"),
                // Created by an earlier attempt whose answer was lost (with another config).
                Err(err) if err.code() == Some("CloudFrontOriginAccessIdentityAlreadyExists") => {
                    match find_identity(&cf, &comment).await? {
                        Some(id) => (id, "found (created by an earlier attempt)"),
                        None => return Err(err),
                    }
                }
                Err(err) => return Err(err),
            }
        }
    };
    ctx.state
        .update(|s| s.origin_access_identity_id = Some(id.clone()))
        .await?;
    ctx.progress.step(
        "origin access",
        &format!("identity {id} {what}"),
        start.elapsed(),
    );
    Ok(Access::Identity(id))
}

/// Creates an origin access identity; the caller reference makes a repeat return the same one.
pub async fn create_identity(
    cf: &CloudFrontClient,
    comment: &str,
    caller_reference: &str,
) -> Result<String> {
    let out = cf
        .create_cloud_front_origin_access_identity()
        .cloud_front_origin_access_identity_config(
            CloudFrontOriginAccessIdentityConfig::builder()
                .caller_reference(caller_reference)
                .comment(comment)
                .build()
                .built("the origin access identity config")?,
        )
        .send()
        .await
        .aws("create the origin access identity", comment)?;
    out.cloud_front_origin_access_identity
        .map(|o| o.id)
        .ok_or_else(|| Error::conflict(format!("creating {comment} returned no id")))
}

/// Deletes an origin access control by id (after the distribution is gone).
pub async fn delete_control(cf: &CloudFrontClient, id: &str) -> Result<()> {
    let Some(current) = cf
        .get_origin_access_control()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_origin_access_control())
        .aws("read the origin access control", id)?
    else {
        return Ok(());
    };
    cf.delete_origin_access_control()
        .id(id)
        .set_if_match(current.e_tag)
        .send()
        .await
        .aws("delete the origin access control", id)?;
    Ok(())
}

/// Deletes an origin access identity by id (after the distribution is gone).
pub async fn delete_identity(cf: &CloudFrontClient, id: &str) -> Result<()> {
    let Some(current) = cf
        .get_cloud_front_origin_access_identity()
        .id(id)
        .send()
        .await
        .or_gone(|e| e.is_no_such_cloud_front_origin_access_identity())
        .aws("read the origin access identity", id)?
    else {
        return Ok(());
    };
    cf.delete_cloud_front_origin_access_identity()
        .id(id)
        .set_if_match(current.e_tag)
        .send()
        .await
        .aws("delete the origin access identity", id)?;
    Ok(())
}
