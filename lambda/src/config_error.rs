//! Why the function's configuration could not be loaded: shared by the
//! deployment contract that reads the environment and the settings built on it.

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required environment variable is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// An environment variable has an unusable value.
    #[error("environment variable {name} is invalid: {reason}")]
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A parameter could not be read from SSM.
    #[error("SSM parameter {0} is missing or unreadable")]
    MissingParameter(String),
    /// The SSM call failed.
    #[error("reading parameters from SSM failed: {0}")]
    Ssm(String),
    /// A setting is invalid.
    #[error("invalid setting {name}: {reason}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}
