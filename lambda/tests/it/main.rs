//! Every integration test of this crate, in one binary (one link, one process;
//! run a part with `cargo test --test it <module>::`).

mod common;

mod access_tokens;
mod attributes;
mod both_apis;
mod config;
mod cors;
mod emulator;
mod events;
mod jwks_refresh;
mod providers;
mod reload;
mod signed_attributes;
mod token_cache;
mod tokens;
mod v1_strict;
