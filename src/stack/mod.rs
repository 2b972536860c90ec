//! The stack's resources, one module per kind. Each finds what exists,
//! compares it with what the stack wants, makes it so, and deletes it.

use std::fmt;

use serde::Serialize;

use crate::aws::Aws;
use crate::config::Stack;
use crate::names::Names;
use crate::progress::Progress;
use crate::state::StateStore;

pub mod bucket;
pub mod bucket_name;
pub mod bucket_policy;
pub mod certificate;
pub mod code;
pub mod distribution;
pub mod dns;
pub mod former_domain;
pub mod function;
pub mod function_concurrency;
pub mod function_environment;
pub mod function_quotas;
pub mod function_ready;
pub mod function_url;
pub mod headers_policy;
pub mod log_group;
pub mod origin_access;
pub mod role;
pub mod secret_value;
pub mod secrets;
pub mod viewer_function;
pub mod zone;

/// Everything a resource step needs.
#[derive(Clone)]
pub struct Ctx {
    pub stack: Stack,
    pub aws: Aws,
    pub names: Names,
    pub progress: Progress,
    pub state: StateStore,
}

/// The fields of one resource kind that `up` updates in place, each named as
/// `plan` shows it. An update dispatches on the enum, so a field without an
/// update is a compile error, and a change naming no field an internal error.
pub trait Field: Sized + Copy + 'static {
    const ALL: &'static [Self];

    /// The name `plan` shows.
    fn name(self) -> &'static str;

    /// The field a change is about.
    fn of(change: &FieldChange) -> crate::error::Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name() == change.field)
            .ok_or_else(|| {
                crate::error::Error::internal(format!(
                    "no update is written for the field `{}`",
                    change.field
                ))
            })
    }
}

/// One field that differs between what exists and what the stack wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// What `up` would do (or did) to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Change {
    Create,
    Update { fields: Vec<FieldChange> },
    Unchanged,
}

impl Change {
    /// `Unchanged` when there are no field changes, else `Update`.
    pub fn from_fields(fields: Vec<FieldChange>) -> Change {
        if fields.is_empty() {
            Change::Unchanged
        } else {
            Change::Update { fields }
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Create => write!(f, "create"),
            Change::Unchanged => write!(f, "unchanged"),
            Change::Update { fields } => {
                write!(f, "update")?;
                for c in fields {
                    write!(f, "\n      {}: {} → {}", c.field, c.old, c.new)?;
                }
                Ok(())
            }
        }
    }
}

/// One resource's line in a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub resource: String,
    pub name: String,
    #[serde(flatten)]
    pub change: Change,
}

/// Compares two maps of rendered fields (what exists vs what is wanted).
pub fn diff_fields(
    existing: &std::collections::BTreeMap<String, String>,
    wanted: &std::collections::BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, new) in wanted {
        let old = existing
            .get(field)
            .cloned()
            .unwrap_or_else(|| "(none)".into());
        if &old != new {
            out.push(FieldChange {
                field: field.clone(),
                old,
                new: new.clone(),
            });
        }
    }
    for (field, old) in existing {
        if !wanted.contains_key(field) {
            out.push(FieldChange {
                field: field.clone(),
                old: old.clone(),
                new: "(none)".into(),
            });
        }
    }
    out
}

/// The stack's tag as a `(key, value)` pair.
pub fn stack_tag(names: &Names) -> (String, String) {
    (crate::names::STACK_TAG.to_string(), names.stack.clone())
}
