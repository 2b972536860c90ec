//! The function URL (auth NONE) that CloudFront calls at `/api/*`, and the
//! two resource-policy statements a public function URL needs. The function
//! itself refuses requests without the distribution's origin-verify header.

use std::time::Instant;

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::types::FunctionUrlAuthType;
use serde_json::Value;

use crate::error::{AwsContext, OrGone, Result};
use crate::stack::{Change, Ctx, FieldChange};

/// The statement that lets anyone call the URL (the function checks the origin header).
pub const URL_STATEMENT: &str = "colorid-function-url";
/// The statement AWS also requires since October 2025: InvokeFunction, only via the URL.
pub const INVOKE_STATEMENT: &str = "colorid-function-url-invoke";

/// The URL and its resource-policy statements as found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub url: Option<String>,
    pub auth_type: Option<String>,
    pub statements: Vec<String>,
}

/// The host name of a function URL (`https://<id>.lambda-url.<region>.on.aws/`).
pub fn host(url: &str) -> String {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Finds the URL config and the statement ids of the function's policy.
pub async fn find(lambda: &LambdaClient, function: &str) -> Result<Found> {
    // Two independent reads, at once.
    let (url, policy) = tokio::try_join!(
        async {
            lambda
                .get_function_url_config()
                .function_name(function)
                .send()
                .await
                .or_gone(|e| e.is_resource_not_found_exception())
                .aws("read the function URL of", function)
        },
        async {
            lambda
                .get_policy()
                .function_name(function)
                .send()
                .await
                .or_gone(|e| e.is_resource_not_found_exception())
                .aws("read the resource policy of", function)
        },
    )?;
    let mut found = Found::default();
    if let Some(out) = url {
        found.auth_type = Some(out.auth_type.as_str().to_string());
        found.url = Some(out.function_url);
    }
    if let Some(out) = policy {
        let policy: Value = out
            .policy
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null);
        found.statements = policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Sid"].as_str().map(str::to_string))
            .collect();
    }
    Ok(found)
}

/// What `up` would do to the URL and its permissions.
pub fn plan(found: &Found) -> Change {
    if found.url.is_none() {
        return Change::Create;
    }
    let mut fields = Vec::new();
    if found.auth_type.as_deref() != Some(FunctionUrlAuthType::None.as_str()) {
        fields.push(FieldChange {
            field: "auth_type".into(),
            old: found.auth_type.clone().unwrap_or_default(),
            new: "NONE".into(),
        });
    }
    for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
        if !found.statements.iter().any(|s| s == sid) {
            fields.push(FieldChange {
                field: format!("permission {sid}"),
                old: "(none)".into(),
                new: "added".into(),
            });
        }
    }
    Change::from_fields(fields)
}

/// Creates or fixes the URL config and adds the missing statements; returns the URL.
pub async fn ensure(ctx: &Ctx, function: &str) -> Result<String> {
    let start = Instant::now();
    let lambda = ctx.aws.lambda();
    let found = find(&lambda, function).await?;
    let mut did = Vec::new();
    let url = match &found.url {
        None => {
            let out = lambda
                .create_function_url_config()
                .function_name(function)
                .auth_type(FunctionUrlAuthType::None)
                .send()
                .await
                .aws("create the function URL of", function)?;
            did.push("created".to_string());
            out.function_url
        }
        Some(url) if found.auth_type.as_deref() != Some(FunctionUrlAuthType::None.as_str()) => {
            lambda
                .update_function_url_config()
                .function_name(function)
                .auth_type(FunctionUrlAuthType::None)
                .send()
                .await
                .aws("update the function URL of", function)?;
            did.push("auth type set to NONE".to_string());
            url.clone()
        }
        Some(url) => url.clone(),
    };
    if !found.statements.iter().any(|s| s == URL_STATEMENT) {
        lambda
            .add_permission()
            .function_name(function)
            .statement_id(URL_STATEMENT)
            .action("lambda:InvokeFunctionUrl")
            .principal("*")
            .function_url_auth_type(FunctionUrlAuthType::None)
            .send()
            .await
            .aws("allow public calls to the function URL of", function)?;
        did.push(format!("added permission {URL_STATEMENT}"));
    }
    if !found.statements.iter().any(|s| s == INVOKE_STATEMENT) {
        lambda
            .add_permission()
            .function_name(function)
            .statement_id(INVOKE_STATEMENT)
            .action("lambda:InvokeFunction")
            .principal("*")
            .invoked_via_function_url(true)
            .send()
            .await
            .aws("allow invocation through the function URL of", function)?;
        did.push(format!("added permission {INVOKE_STATEMENT}"));
    }
    ctx.state
        .update(|s| s.function_url = Some(url.clone()))
        .await?;
    let what = if did.is_empty() {
        format!("{url} unchanged")
    } else {
        format!("{url} {}", did.join(", "))
    };
    ctx.progress.step("function url", &what, start.elapsed());
    Ok(url)
}

/// Deletes the URL config and the two statements; missing ones are fine.
pub async fn delete(ctx: &Ctx, function: &str) -> Result<()> {
    let lambda = ctx.aws.lambda();
    lambda
        .delete_function_url_config()
        .function_name(function)
        .send()
        .await
        .or_gone(|e| e.is_resource_not_found_exception())
        .aws("delete the function URL of", function)?;
    for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
        lambda
            .remove_permission()
            .function_name(function)
            .statement_id(sid)
            .send()
            .await
            .or_gone(|e| e.is_resource_not_found_exception())
            .aws(&format!("remove permission {sid} from"), function)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(
            host("https://abc123.lambda-url.eu-west-1.on.aws/"),
            "abc123.lambda-url.eu-west-1.on.aws"
        );
        assert_eq!(host("abc.on.aws"), "abc.on.aws");
    }

    #[test]
    fn plan_lists_missing_statements() {
        let found = Found {
            url: Some("https://x.on.aws/".into()),
            auth_type: Some("NONE".into()),
            statements: vec![URL_STATEMENT.into()],
        };
        let text = plan(&found).to_string();
        assert!(text.contains(INVOKE_STATEMENT), "{text}");
        assert!(!text.contains(&format!("permission {URL_STATEMENT}:")));
        assert_eq!(plan(&Found::default()), Change::Create);
    }
}
