//! colorid: stand up, update and tear down a secure, identity-aware static
//! web application on AWS from one `stack.toml`.

pub mod advice;
pub mod aws;
pub mod check;
pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod delete_objects;
pub mod deploy;
pub mod dev;
pub mod discovery;
pub mod edge;
pub mod error;
pub mod guards;
pub mod init;
pub mod keys;
pub mod lock;
pub mod logs;
pub mod names;
pub mod output;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod publish;
pub mod session;
pub mod site;
pub mod stack;
pub mod state;
pub mod state_encoding;
pub mod teardown;
pub mod wait;

#[cfg(test)]
mod fake_aws;
