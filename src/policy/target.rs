//! What a deployer's policy is written for: one stack in one account, with
//! its bucket and hosted zone.

use crate::names::Names;

/// What the policy is written for: one stack in one account.
#[derive(Debug, Clone)]
pub struct Target {
    pub names: Names,
    pub account: String,
    /// The stack's region (bucket, parameters, function, log group).
    pub region: String,
    pub bucket: String,
    /// `bucket` is the stack file's choice; otherwise it is the derived name's stem.
    pub bucket_chosen: bool,
    /// The stack writes records into this Route53 zone (`None`: no Route53).
    pub zone: Option<Zone>,
    /// The stack has an ACM certificate (it has a domain).
    pub certificate: bool,
    /// The emulator: `up` may create the hosted zone there (never on AWS).
    pub local: bool,
}

/// The hosted zone the stack's records go into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// Its id, known.
    Id(String),
    /// Not found yet (the emulator creates it on `up`): every zone of the account.
    Any,
}
