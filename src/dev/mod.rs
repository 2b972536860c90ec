//! `colorid dev`: the whole application on localhost. The site and a generated
//! `/config.json` are served from the stack's site directory, `/api/*` goes
//! through the identity function in-process, and, unless a real issuer is
//! given, a built-in test identity provider answers under `/idp`.

pub mod api;
pub mod deployed;
pub mod host;
pub mod keys;
pub mod server;
pub mod test_idp;

pub use server::{DevOptions, serve};
