//! The binary as a Unix command: what it does with its output streams.

use std::process::Stdio;

use crate::common::{self, TestStack};

/// `colorid status | head -0`: the reader is gone before the first line; the
/// command ends quietly with 0 instead of panicking on the broken pipe.
#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    let stack = TestStack::new("pipe");
    let mut child = stack
        .command_at(&common::endpoint(), &["status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run colorid");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for colorid");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
