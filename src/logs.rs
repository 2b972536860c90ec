//! `colorid logs`: the identity function's log lines from CloudWatch Logs,
//! since a time, optionally filtered, optionally followed.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client as LogsClient;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::stack::{Ctx, log_group};

/// How often `--follow` asks for new lines.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(2);

/// One log line.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub stream: String,
    pub message: String,
    #[serde(skip)]
    id: String,
}

impl Event {
    /// The line as a person reads it: the time, then the message (the function's
    /// JSON request lines as `key=value` pairs).
    pub fn render(&self) -> String {
        let time = DateTime::from_millis(self.timestamp)
            .fmt(Format::DateTime)
            .unwrap_or_else(|_| self.timestamp.to_string());
        format!("{time} {}", render_message(self.message.trim_end()))
    }
}

/// The function logs JSON (`tracing`'s format); shown as `LEVEL message k=v ...`.
fn render_message(message: &str) -> String {
    let Ok(serde_json::Value::Object(line)) = serde_json::from_str::<serde_json::Value>(message)
    else {
        return message.to_string();
    };
    let mut out = line
        .get("level")
        .and_then(|l| l.as_str())
        .unwrap_or("")
        .to_string();
    if let Some(serde_json::Value::Object(fields)) = line.get("fields") {
        if let Some(m) = fields.get("message").and_then(|m| m.as_str()) {
            out.push(' ');
            out.push_str(m);
        }
        for (k, v) in fields.iter().filter(|(k, _)| *k != "message") {
            match v {
                serde_json::Value::String(s) => out.push_str(&format!(" {k}={s}")),
                other => out.push_str(&format!(" {k}={other}")),
            }
        }
    }
    out
}

/// Parses a duration such as `30s`, `10m`, `2h` or `1d`.
pub fn parse_since(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; use e.g. 30s, 10m, 2h or 1d"))?;
    let seconds = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use s, m, h or d")),
    };
    Ok(Duration::from_secs(seconds))
}

/// The CloudWatch filter pattern for `--filter`: plain text matches lines
/// containing it; a pattern in CloudWatch's own syntax (`{...}`, `[...]`,
/// `"..."`, `?term`) is passed as it is.
pub fn filter_pattern(text: &str) -> String {
    let t = text.trim();
    if t.starts_with(['{', '[', '"', '?']) || t.contains('"') {
        t.to_string()
    } else {
        format!("\"{t}\"")
    }
}

/// Reads the function's log lines.
pub struct Reader {
    logs: LogsClient,
    group: String,
    filter: Option<String>,
    /// Where the next read starts (ms since the epoch).
    from: i64,
    /// The ids already returned at `from`, so a line is never shown twice.
    seen_at_from: HashSet<String>,
}

impl Reader {
    /// A reader of lines written since `since` ago, matching `filter`.
    pub fn new(ctx: &Ctx, since: Duration, filter: Option<&str>) -> Reader {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Reader {
            logs: ctx.aws.logs(),
            group: log_group::name(&ctx.names),
            filter: filter.map(filter_pattern),
            from: now.saturating_sub(since).as_millis() as i64,
            seen_at_from: HashSet::new(),
        }
    }

    /// The next lines, oldest first: everything since the last call.
    pub async fn next(&mut self) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        let mut pages = self
            .logs
            .filter_log_events()
            .log_group_name(&self.group)
            .start_time(self.from)
            .set_filter_pattern(self.filter.clone())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                let gone = e
                    .as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception());
                if gone {
                    Error::usage_fix(
                        format!("the function's log group {} does not exist.", self.group),
                        "run `colorid up` (it creates the group), then `colorid logs` again",
                    )
                } else {
                    crate::error::from_sdk("read the log lines of", &self.group, &e)
                }
            })?;
            for e in page.events() {
                events.push(Event {
                    timestamp: e.timestamp().unwrap_or_default(),
                    stream: e.log_stream_name().unwrap_or_default().to_string(),
                    message: e.message().unwrap_or_default().to_string(),
                    id: e.event_id().unwrap_or_default().to_string(),
                });
            }
        }
        events.sort_by_key(|e| e.timestamp);
        events.retain(|e| !(e.timestamp == self.from && self.seen_at_from.contains(&e.id)));
        if let Some(last) = events.last().map(|e| e.timestamp) {
            if last != self.from {
                self.seen_at_from.clear();
                self.from = last;
            }
            self.seen_at_from.extend(
                events
                    .iter()
                    .filter(|e| e.timestamp == last)
                    .map(|e| e.id.clone()),
            );
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_since("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("10"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_since("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_since("ten").is_err());
        assert!(parse_since("5w").is_err());
    }

    #[test]
    fn quotes_plain_text_only() {
        assert_eq!(filter_pattern("status=500"), "\"status=500\"");
        assert_eq!(
            filter_pattern("{ $.fields.status = 500 }"),
            "{ $.fields.status = 500 }"
        );
        assert_eq!(filter_pattern("\"a b\""), "\"a b\"");
    }

    #[test]
    fn renders_the_functions_request_lines() {
        let line = r#"{"level":"INFO","fields":{"message":"request","method":"GET","route":"/api/color","status":200,"latency_us":812,"reason":"ok"},"target":"colorid_lambda"}"#;
        assert_eq!(
            render_message(line),
            "INFO request method=GET route=/api/color status=200 latency_us=812 reason=ok"
        );
        assert_eq!(render_message("START RequestId: x"), "START RequestId: x");
    }
}
