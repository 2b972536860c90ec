//! `colorid dev`: the whole application on localhost, through a local edge
//! that applies the stack's distribution configuration. The site comes from
//! the stack's site directory (or with `--local` the deployed bucket) with a
//! generated `/config.json`, `/api/*` goes through the identity function
//! in-process, and, unless a real issuer is given, a built-in test identity
//! provider answers under `/idp`.

pub mod deployed;
pub mod edge;
pub mod host;
pub mod server;
pub mod test_idp;

pub use server::{DevOptions, serve};
