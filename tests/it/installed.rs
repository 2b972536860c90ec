//! colorid as a user installs it: the binary and the function package beside
//! it, copied into a folder of their own, with a PATH holding no cargo,
//! cargo-lambda, zig or Python; `colorid init` then `colorid --local up` make a
//! working stack, and a second `up` changes nothing.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{endpoint, sdk, unique};

fn run(bin: &Path, dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(bin.join("colorid"))
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", bin)
        .env("HOME", home)
        .env("COLORID_LOCAL_ENDPOINT", endpoint())
        .stdin(Stdio::null())
        .output()
        .expect("run the installed colorid")
}

fn ok(out: Output, what: &str) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_installed_binary_inits_and_deploys_with_no_toolchain() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let project = tmp.path().join(unique("shop"));
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_colorid"), bin.join("colorid")).unwrap();
    // The package a release ships beside the binary (scripts/dist); the emulator never runs it.
    let bootstrap = b"#!/bin/sh\necho packaged function\n";
    let mut w =
        zip::ZipWriter::new(std::fs::File::create(bin.join("colorid-function.zip")).unwrap());
    w.start_file(
        "bootstrap",
        zip::write::SimpleFileOptions::default().unix_permissions(0o755),
    )
    .unwrap();
    std::io::Write::write_all(&mut w, bootstrap).unwrap();
    w.finish().unwrap();
    for tool in ["cargo", "cargo-lambda", "zig", "python3", "rustc"] {
        assert!(!bin.join(tool).exists(), "{tool} must not be on PATH");
    }

    let name = project.file_name().unwrap().to_str().unwrap().to_string();
    let zone = format!("{name}.example.com");
    let domain = format!("www.{zone}");
    // `up` reads the issuer's discovery document: a loopback one.
    let issuer = common::issuer::shared();
    ok(
        run(
            &bin,
            &project,
            tmp.path(),
            &[
                "init",
                "--domain",
                &domain,
                "--hosted-zone",
                &zone,
                "--issuer",
                issuer,
            ],
        ),
        "init",
    );
    let report = ok(
        run(
            &bin,
            &project,
            tmp.path(),
            &["--local", "--output", "json", "up"],
        ),
        "up",
    );
    let function = report["function_name"]
        .as_str()
        .expect("function")
        .to_string();
    let lambda = aws_sdk_lambda::Client::new(&sdk("eu-west-1").await);
    let deployed = lambda
        .get_function()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let expected = colorid::stack::code::sha256_base64(
        &colorid::stack::code::reproducible_zip(bootstrap).unwrap(),
    );
    assert_eq!(
        deployed.configuration().and_then(|c| c.code_sha256()),
        Some(expected.as_str()),
        "the packaged function, re-packed reproducibly"
    );
    let bucket = report["bucket"].as_str().unwrap();
    let keys = common::bucket_keys("eu-west-1", bucket).await;
    assert!(
        ["index.html", "colorid.js"]
            .iter()
            .all(|k| keys.iter().any(|key| key == k)),
        "{keys:?}"
    );

    let again = ok(
        run(
            &bin,
            &project,
            tmp.path(),
            &["--local", "--output", "json", "up"],
        ),
        "second up",
    );
    // A no-op: not one mutating call (the re-packed function's CodeSha256 matches too).
    assert_eq!(
        again["calls"]["mutations"], 0,
        "a no-op up stays a no-op: {}",
        again["calls"]["mutations_by_operation"]
    );
    ok(
        run(&bin, &project, tmp.path(), &["--local", "down", "--yes"]),
        "down",
    );
}
