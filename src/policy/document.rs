//! An IAM policy document and its statements, as IAM takes them.

use std::collections::BTreeMap;

use serde::Serialize;

/// An IAM policy document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

/// One statement: always `Allow`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: &'static str,
    pub action: Vec<String>,
    pub resource: Vec<String>,
    /// Operator → key → values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl Statement {
    /// Allows `actions` on `resources`.
    pub fn allow(sid: &str, actions: &[&str], resources: Vec<String>) -> Statement {
        Statement {
            sid: sid.to_string(),
            effect: "Allow",
            action: actions.iter().map(|a| a.to_string()).collect(),
            resource: resources,
            condition: BTreeMap::new(),
        }
    }

    /// Adds a condition: `operator` (e.g. `StringEquals`) on `key` with `value`.
    pub fn when(mut self, operator: &str, key: &str, value: &str) -> Statement {
        self.condition
            .entry(operator.to_string())
            .or_default()
            .insert(key.to_string(), vec![value.to_string()]);
        self
    }
}

impl Policy {
    /// The document as IAM takes it (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}
