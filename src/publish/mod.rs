//! Placeholder until the publisher lands: the `[publish]` settings only.

use serde::Deserialize;

/// stack.toml `[publish]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishSettings {
    pub ignore: Vec<String>,
}

/// One problem in the `[publish]` section.
pub struct SettingsProblem {
    pub field: String,
    pub message: String,
    pub hint: String,
}

impl PublishSettings {
    /// Checks the settings.
    pub fn validate(&self) -> Vec<SettingsProblem> {
        Vec::new()
    }
}
