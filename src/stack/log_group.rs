//! The identity function's log group, `/aws/lambda/<function>`: created by
//! `up` before the function (so Lambda never creates it, and the role needs
//! no `logs:CreateLogGroup`), with the stack's retention and tag; deleted by
//! `down`.

use std::time::Instant;

use aws_sdk_cloudwatchlogs::Client as LogsClient;

use crate::error::{AwsContext, OrGone, Result};
use crate::names::{Names, STACK_TAG};
use crate::stack::{Change, Ctx, FieldChange};

/// The log group Lambda writes the function's lines to.
pub fn name(names: &Names) -> String {
    format!("/aws/lambda/{}", names.function())
}

/// The log group as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    /// Its ARN without the trailing `:*` (the form the tagging API takes).
    pub arn: String,
    /// Days kept; `None` keeps lines forever.
    pub retention_days: Option<i32>,
    /// The value of its `colorid:stack` tag, if it has one.
    pub stack_tag: Option<String>,
}

/// Finds the log group by its exact name; `None` when it does not exist.
pub async fn find(logs: &LogsClient, group: &str) -> Result<Option<Found>> {
    let mut pages = logs
        .describe_log_groups()
        .log_group_name_prefix(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws("look up the log group", group)?;
        let Some(g) = page
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(group))
        else {
            continue;
        };
        let arn = g
            .log_group_arn()
            .or(g.arn())
            .unwrap_or_default()
            .trim_end_matches(":*")
            .to_string();
        let tags = logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .aws("read the tags of the log group", group)?;
        return Ok(Some(Found {
            name: group.to_string(),
            stack_tag: tags.tags().and_then(|t| t.get(STACK_TAG).cloned()),
            arn,
            retention_days: g.retention_in_days(),
        }));
    }
    Ok(None)
}

fn show(days: Option<i32>) -> String {
    days.map_or_else(|| "(never expire)".into(), |d| format!("{d} days"))
}

/// The fields that differ from what the stack wants.
fn differences(ctx: &Ctx, found: &Found) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let wanted = Some(ctx.stack.function.log_retention_days);
    if found.retention_days != wanted {
        out.push(FieldChange {
            field: "retention".into(),
            old: show(found.retention_days),
            new: show(wanted),
        });
    }
    if found.stack_tag.as_deref() != Some(ctx.names.stack.as_str()) {
        out.push(FieldChange {
            field: format!("tag {STACK_TAG}"),
            old: found.stack_tag.clone().unwrap_or_else(|| "(none)".into()),
            new: ctx.names.stack.clone(),
        });
    }
    out
}

/// What `up` would do to the log group.
pub fn plan(ctx: &Ctx, found: Option<&Found>) -> Change {
    match found {
        None => Change::Create,
        Some(f) => Change::from_fields(differences(ctx, f)),
    }
}

/// Creates the group (tagged, with the retention) or brings its retention and tag in line.
pub async fn ensure(ctx: &Ctx) -> Result<String> {
    let start = Instant::now();
    let logs = ctx.aws.logs();
    let group = name(&ctx.names);
    let days = ctx.stack.function.log_retention_days;
    match find(&logs, &group).await? {
        None => {
            let created = logs
                .create_log_group()
                .log_group_name(&group)
                .tags(STACK_TAG, &ctx.names.stack)
                .send()
                .await;
            // Lost a race with the function's first invocation (an older role could
            // still create it): converge the one that exists.
            if let Err(e) = created {
                let exists = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception());
                if !exists {
                    return Err(crate::error::from_sdk("create the log group", &group, &e));
                }
                return converge(ctx, &logs, &group, start).await;
            }
            put_retention(&logs, &group, days).await?;
            ctx.progress.step(
                "log group",
                &format!("created {group} (kept {days} days)"),
                start.elapsed(),
            );
        }
        Some(found) => {
            apply(ctx, &logs, &found).await?;
            if !differences(ctx, &found).is_empty() {
                ctx.progress
                    .step("log group", &format!("updated {group}"), start.elapsed());
            }
        }
    }
    Ok(group)
}

async fn converge(ctx: &Ctx, logs: &LogsClient, group: &str, start: Instant) -> Result<String> {
    if let Some(found) = find(logs, group).await? {
        apply(ctx, logs, &found).await?;
        ctx.progress
            .step("log group", &format!("updated {group}"), start.elapsed());
    }
    Ok(group.to_string())
}

/// Makes only the calls the differences need.
async fn apply(ctx: &Ctx, logs: &LogsClient, found: &Found) -> Result<()> {
    let days = ctx.stack.function.log_retention_days;
    if found.retention_days != Some(days) {
        put_retention(logs, &found.name, days).await?;
    }
    if found.stack_tag.as_deref() != Some(ctx.names.stack.as_str()) {
        logs.tag_resource()
            .resource_arn(&found.arn)
            .tags(STACK_TAG, &ctx.names.stack)
            .send()
            .await
            .aws("tag the log group", &found.name)?;
    }
    Ok(())
}

async fn put_retention(logs: &LogsClient, group: &str, days: i32) -> Result<()> {
    logs.put_retention_policy()
        .log_group_name(group)
        .retention_in_days(days)
        .send()
        .await
        .aws("set the retention of the log group", group)?;
    Ok(())
}

/// Deletes the group and every line in it; already gone is fine.
pub async fn delete(ctx: &Ctx, group: &str) -> Result<()> {
    ctx.aws
        .logs()
        .delete_log_group()
        .log_group_name(group)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("delete the log group", group)?;
    Ok(())
}
