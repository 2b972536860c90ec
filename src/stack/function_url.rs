//! The function URL (auth NONE) that CloudFront calls at `/api/*`, and the
//! two resource-policy statements a public function URL needs. The function
//! itself refuses requests without the distribution's origin-verify header.

use std::time::Instant;

use aws_sdk_lambda::Client as LambdaClient;
use aws_sdk_lambda::types::FunctionUrlAuthType;
use serde_json::{Value, json};

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
    /// The statements of the function's policy, whole.
    pub statements: Vec<Value>,
}

/// What one of colorid's statements grants; anything else under its Sid, wider
/// or not, is put back. The shapes AWS returns for `AddPermission` with
/// `FunctionUrlAuthType` and `InvokedViaFunctionUrl`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>).
fn wanted(sid: &str) -> (&'static str, Value) {
    if sid == URL_STATEMENT {
        (
            "lambda:InvokeFunctionUrl",
            json!({"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}),
        )
    } else {
        (
            "lambda:InvokeFunction",
            json!({"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}),
        )
    }
}

/// A policy value as IAM compares it: a one-element list is its element, and
/// scalars are strings.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(a) if a.len() == 1 => canonical(&a[0]),
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), canonical(v))).collect(),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

/// The state of colorid's statement `sid` in the found policy.
fn statement_state(found: &Found, sid: &str, function: &str) -> Statement {
    let Some(s) = found.statements.iter().find(|s| s["Sid"] == sid) else {
        return Statement::Missing;
    };
    let (action, condition) = wanted(sid);
    let principal = canonical(&s["Principal"]);
    let resource = canonical(&s["Resource"]);
    let ours = s["Effect"] == "Allow"
        && canonical(&s["Action"]) == action
        && (principal == "*" || principal == json!({"AWS": "*"}))
        && resource
            .as_str()
            .is_some_and(|r| r.ends_with(&format!(":function:{function}")))
        && canonical(&s["Condition"]) == canonical(&condition)
        && s.as_object().is_some_and(|o| {
            o.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "Sid" | "Effect" | "Principal" | "Action" | "Resource" | "Condition"
                )
            })
        });
    if ours {
        Statement::Right
    } else {
        Statement::Changed
    }
}

/// One of colorid's two statements as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Statement {
    Missing,
    Right,
    /// Present under colorid's Sid with other content (widened by hand, or old).
    Changed,
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
        found.statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    }
    Ok(found)
}

/// What `up` would do to the URL and its permissions.
pub fn plan(found: &Found, function: &str) -> Change {
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
        let old = match statement_state(found, sid, function) {
            Statement::Right => continue,
            Statement::Missing => "(none)",
            Statement::Changed => "(other content)",
        };
        fields.push(FieldChange {
            field: format!("permission {sid}"),
            old: old.into(),
            new: "added".into(),
        });
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
    for sid in [URL_STATEMENT, INVOKE_STATEMENT] {
        if statement_state(&found, sid, function) == Statement::Changed {
            // Same Sid, other content: AddPermission would conflict, so it goes first.
            lambda
                .remove_permission()
                .function_name(function)
                .statement_id(sid)
                .send()
                .await
                .or_gone(|e| e.is_resource_not_found_exception())
                .aws(
                    &format!("remove the changed permission {sid} from"),
                    function,
                )?;
            did.push(format!("replaced changed permission {sid}"));
        }
    }
    if statement_state(&found, URL_STATEMENT, function) != Statement::Right {
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
    if statement_state(&found, INVOKE_STATEMENT, function) != Statement::Right {
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

    fn statement(sid: &str, action: &str, condition: Value) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": "*", "Action": action,
               "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f",
               "Condition": condition})
    }

    #[test]
    fn plan_lists_missing_statements() {
        let (action, condition) = wanted(URL_STATEMENT);
        let found = Found {
            url: Some("https://x.on.aws/".into()),
            auth_type: Some("NONE".into()),
            statements: vec![statement(URL_STATEMENT, action, condition)],
        };
        let text = plan(&found, "f").to_string();
        assert!(text.contains(INVOKE_STATEMENT), "{text}");
        assert!(!text.contains(&format!("permission {URL_STATEMENT}:")));
        assert_eq!(plan(&Found::default(), "f"), Change::Create);
    }

    /// Issue 25, item 7: a statement is compared by what it grants, not by its Sid.
    #[test]
    fn a_widened_statement_under_colorids_sid_is_a_change() {
        let right = |sid| {
            let (action, condition) = wanted(sid);
            statement(sid, action, condition)
        };
        let mut found = Found {
            url: Some("https://x.on.aws/".into()),
            auth_type: Some("NONE".into()),
            statements: vec![right(URL_STATEMENT), right(INVOKE_STATEMENT)],
        };
        assert_eq!(plan(&found, "f"), Change::Unchanged);
        let widened = [
            statement(INVOKE_STATEMENT, "lambda:*", wanted(INVOKE_STATEMENT).1),
            statement(INVOKE_STATEMENT, "lambda:InvokeFunction", Value::Null),
            json!({"Sid": INVOKE_STATEMENT, "Effect": "Allow", "Principal": "*",
                   "Action": "lambda:InvokeFunction", "Resource": "*",
                   "Condition": wanted(INVOKE_STATEMENT).1}),
        ];
        for w in widened {
            found.statements[1] = w.clone();
            let text = plan(&found, "f").to_string();
            assert!(
                text.contains(&format!("permission {INVOKE_STATEMENT}")),
                "{w}: {text}"
            );
        }
        // AWS's list and boolean spellings of the same grant are the same grant.
        found.statements[1] = json!({"Sid": INVOKE_STATEMENT, "Effect": "Allow",
            "Principal": {"AWS": "*"}, "Action": ["lambda:InvokeFunction"],
            "Resource": "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": true}}});
        assert_eq!(plan(&found, "f"), Change::Unchanged);
    }
}
