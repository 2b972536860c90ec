//! The identity function's deployment package: a zip holding `bootstrap`.
//!
//! From `--function-zip`, else built with `cargo lambda build` and re-packed
//! with fixed timestamps and permissions, so the same code gives the same
//! bytes and `up` can compare its SHA-256 with the deployed `CodeSha256`.
//! (cargo-lambda 1.9 stamps each entry with the build time, so its own zip
//! differs on every build.)

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::error::{Error, Result};
use crate::stack::Ctx;

/// The binary cargo-lambda builds for the function.
pub const BINARY: &str = "colorid-identity";

/// A deployment package.
pub struct Code {
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of the zip, as Lambda reports `CodeSha256`.
    pub sha256: String,
}

impl Code {
    fn new(zip: Vec<u8>) -> Code {
        let sha256 = sha256_base64(&zip);
        Code { zip, sha256 }
    }
}

/// Base64 of the SHA-256 of `bytes`, Lambda's `CodeSha256` form.
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// A zip holding `bootstrap` (mode 755, dated 1980-01-01), deflated: same input, same bytes.
pub fn reproducible_zip(bootstrap: &[u8]) -> Result<Vec<u8>> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    let fail =
        |e: &dyn std::fmt::Display| Error::internal(format!("cannot write the function zip: {e}"));
    w.start_file("bootstrap", options).map_err(|e| fail(&e))?;
    w.write_all(bootstrap).map_err(|e| fail(&e))?;
    let out = w.finish().map_err(|e| fail(&e))?;
    Ok(out.into_inner())
}

/// The `bootstrap` entry of a zip.
pub fn bootstrap_of(zip: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(|e| e.to_string())?;
    let mut entry = archive
        .by_name("bootstrap")
        .map_err(|_| "it holds no `bootstrap` file at its root".to_string())?;
    let mut out = Vec::new();
    entry.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Reads a zip the user gave, checking that it holds `bootstrap`.
pub fn from_file(path: &Path) -> Result<Code> {
    let zip = std::fs::read(path)
        .map_err(|e| Error::io(format!("read --function-zip {}", path.display()), e))?;
    bootstrap_of(&zip).map_err(|why| {
        Error::usage_fix(
            format!(
                "--function-zip {} is not a Lambda package for provided.al2023: {why}.",
                path.display()
            ),
            "build it with `cargo lambda build --profile function --output-format zip`",
        )
    })?;
    Ok(Code::new(zip))
}

/// The name of the packaged function that ships beside the colorid binary.
pub const PACKAGED: &str = "colorid-function.zip";

/// The package for this run, first found of: `--function-zip`; a build from
/// `[function] source`; a build from a `lambda/` beside the stack file (a colorid
/// checkout); the package shipped beside the binary (`colorid-function.zip`, or
/// `../share/colorid/` of it); a build from the source colorid was built from.
pub async fn load(ctx: &Ctx, zip: Option<&Path>) -> Result<Code> {
    if let Some(path) = zip {
        return from_file(path);
    }
    if let Some(source) = &ctx.stack.function.source {
        let root = stack_dir(ctx).join(source);
        if !root.join("lambda").join("Cargo.toml").is_file() {
            return Err(Error::usage_fix(
                format!(
                    "[function] source = {:?} in {}: {} holds no lambda/Cargo.toml.",
                    source.display(),
                    ctx.stack.file.display(),
                    root.display()
                ),
                "point `source` at a colorid checkout (the folder holding lambda/), or remove it to deploy the packaged function",
            ));
        }
        return build(ctx, &root).await;
    }
    let beside = stack_dir(ctx);
    if beside.join("lambda").join("Cargo.toml").is_file() {
        return build(ctx, &beside).await;
    }
    if let Some(packaged) = packaged() {
        let code = from_file(&packaged)?;
        // Re-packed: the bytes (and so CodeSha256) depend on the binary alone.
        let bootstrap = bootstrap_of(&code.zip).map_err(Error::usage)?;
        return Ok(Code::new(reproducible_zip(&bootstrap)?));
    }
    let built_from = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if built_from.join("lambda").join("Cargo.toml").is_file() {
        return build(ctx, &built_from).await;
    }
    Err(Error::usage_fix(
        format!(
            "cannot find the identity function: no {PACKAGED} beside colorid, and no source to build it from."
        ),
        format!(
            "install colorid from its release archive (it ships {PACKAGED}), or set `[function] source` to a colorid checkout, or pass --function-zip PATH"
        ),
    ))
}

/// The package shipped beside the running binary, if any.
fn packaged() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [
        dir.join(PACKAGED),
        dir.join("..").join("share").join("colorid").join(PACKAGED),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The folder of the stack file, absolute.
fn stack_dir(ctx: &Ctx) -> PathBuf {
    let beside = ctx
        .stack
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // `stack.toml` given without a folder has an empty parent: the current directory.
    std::path::absolute(if beside.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &beside
    })
    .unwrap_or_else(|_| beside.clone())
}

/// Builds the function with cargo-lambda and re-packs it reproducibly.
async fn build(ctx: &Ctx, root: &Path) -> Result<Code> {
    let start = Instant::now();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    // The pinned cargo-lambda and zig live in the checkout's .venv (scripts/test installs them).
    let mut path =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
    path.insert(0, root.join(".venv").join("bin"));
    let path = std::env::join_paths(path).unwrap_or_default();
    let wait = ctx
        .progress
        .wait("building the identity function (cargo lambda build --profile function)");
    let out = tokio::process::Command::new("cargo")
        .args([
            "lambda",
            "build",
            // Cargo.toml's profile for the zip: small, the token's parsing at opt-level 3.
            "--profile",
            "function",
            "--output-format",
            "zip",
            "-p",
            "colorid-lambda",
            "--bin",
            BINARY,
        ])
        .current_dir(root)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| Error::io("run `cargo lambda build`", e))?;
    wait.done();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::usage_fix(
            format!("`cargo lambda build` failed:\n{}", tail.join("\n")),
            "install cargo-lambda and zig (pip install -r requirements.txt), or pass --function-zip PATH",
        ));
    }
    let built = target.join("lambda").join(BINARY).join("bootstrap.zip");
    let zip =
        std::fs::read(&built).map_err(|e| Error::io(format!("read {}", built.display()), e))?;
    let bootstrap = bootstrap_of(&zip)
        .map_err(|why| Error::usage(format!("cargo lambda produced {}: {why}", built.display())))?;
    let code = Code::new(reproducible_zip(&bootstrap)?);
    ctx.progress
        .step("function", "built with cargo lambda", start.elapsed());
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_reproducible() {
        let a = reproducible_zip(b"#!/bin/sh\necho hi\n").expect("zip");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = reproducible_zip(b"#!/bin/sh\necho hi\n").expect("zip");
        assert_eq!(a, b);
        assert_eq!(sha256_base64(&a), sha256_base64(&b));
        assert_ne!(a, reproducible_zip(b"other").expect("zip"));
        assert_eq!(
            bootstrap_of(&a).expect("bootstrap"),
            b"#!/bin/sh\necho hi\n"
        );
        let mut archive = ZipArchive::new(Cursor::new(&a)).expect("archive");
        let entry = archive.by_index(0).expect("entry");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
    }

    #[test]
    fn rejects_zips_without_bootstrap() {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        w.start_file("main", SimpleFileOptions::default())
            .expect("start");
        w.write_all(b"x").expect("write");
        let zip = w.finish().expect("finish").into_inner();
        assert!(bootstrap_of(&zip).is_err());
        assert!(bootstrap_of(b"not a zip").is_err());
    }
}
