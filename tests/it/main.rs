//! Every integration test of this crate, in one binary (one link, one process;
//! run a part with `cargo test --test it <module>::`).

mod common;

mod api_v1;
mod chaos;
mod check;
mod check_tls;
mod ci_workflow;
mod cli;
mod config_errors;
mod credentials;
mod dev_access_tokens;
mod dev_local;
mod dev_server;
mod edge;
mod edge_function;
mod engine;
mod exit_codes;
mod external_dns;
mod function;
mod headers_policy;
mod init;
mod installed;
mod latency;
mod logs;
mod no_domain;
mod origin_access_identity;
mod policy;
mod provider_discovery;
mod publish;
mod publish_skip;
mod realism;
mod renewal;
mod security;
