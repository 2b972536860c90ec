//! `colorid init --ci github`: a GitHub Actions workflow that plans on pull
//! requests and deploys on the default branch, assuming an AWS role through
//! GitHub's OpenID Connect provider (no long-lived keys). The role, its trust
//! policy and its permissions (`colorid policy`) are in docs/deploying-from-ci.md.

use crate::error::{Error, Result};

/// Where the workflow is written, under the project folder.
pub const GITHUB_WORKFLOW: &str = ".github/workflows/colorid.yml";

/// The release archive's target: GitHub's `ubuntu-latest` runners are x86-64 Linux.
pub const RUNNER_TARGET: &str = "x86_64-unknown-linux-gnu";

// Actions pinned by commit (a tag can be moved; a commit cannot), the tag in a comment.
const CHECKOUT: &str = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2";
const CONFIGURE_AWS: &str =
    "aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502 # v4.0.2";

/// What the workflow is written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// The stack's name: one deployment of it at a time.
    pub stack: String,
    /// The stack's region (for the credentials action; colorid reads the stack file).
    pub region: String,
    /// The release archive (`colorid-<version>-x86_64-unknown-linux-gnu.tar.gz`, as scripts/dist names it).
    pub archive_url: String,
    /// Its SHA-256, from the release's `.tar.gz.sha256` file.
    pub archive_sha256: String,
}

impl Workflow {
    /// Checks the archive's URL and checksum (exit 2 with the fix when wrong).
    pub fn new(stack: &str, region: &str, url: &str, sha256: &str) -> Result<Workflow> {
        let sha = sha256.trim().to_ascii_lowercase();
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Error::usage_fix(
                format!("--archive-sha256 {sha256:?} is not a SHA-256 (64 hex digits)."),
                "copy the first field of the release's colorid-<version>-<target>.tar.gz.sha256 file",
            ));
        }
        let file = url.rsplit('/').next().unwrap_or_default();
        let plain = url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/%+@=".contains(c));
        if !url.starts_with("https://")
            || !plain
            || !file.starts_with("colorid-")
            || !file.ends_with(&format!("-{RUNNER_TARGET}.tar.gz"))
        {
            return Err(Error::usage_fix(
                format!(
                    "--archive-url {url:?} is not an https URL of a colorid release archive for {RUNNER_TARGET}."
                ),
                format!(
                    "give the https URL of colorid-<version>-{RUNNER_TARGET}.tar.gz as scripts/dist names it (no query string)"
                ),
            ));
        }
        Ok(Workflow {
            stack: stack.to_string(),
            region: region.to_string(),
            archive_url: url.to_string(),
            archive_sha256: sha,
        })
    }

    /// The workflow file's text.
    pub fn text(&self) -> String {
        TEMPLATE
            .replace("{checkout}", CHECKOUT)
            .replace("{configure_aws}", CONFIGURE_AWS)
            .replace("{stack}", &self.stack)
            .replace("{region}", &self.region)
            .replace("{archive_url}", &self.archive_url)
            .replace("{archive_sha256}", &self.archive_sha256)
            .replace("{install}", INSTALL)
    }
}

/// Download, check the checksum (a mismatch fails the job), unpack, put on PATH.
const INSTALL: &str = r#"          curl --fail --silent --show-error --location --output "$RUNNER_TEMP/colorid.tar.gz" "$COLORID_ARCHIVE_URL"
          echo "$COLORID_ARCHIVE_SHA256  $RUNNER_TEMP/colorid.tar.gz" | sha256sum --check --strict
          mkdir -p "$RUNNER_TEMP/colorid"
          tar -xzf "$RUNNER_TEMP/colorid.tar.gz" -C "$RUNNER_TEMP/colorid" --strip-components=1
          echo "$RUNNER_TEMP/colorid/bin" >> "$GITHUB_PATH"
"#;

const TEMPLATE: &str = r#"# colorid: `colorid plan` on pull requests (the plan in the job summary);
# `colorid up`, then `colorid publish`, on the default branch.
# Written by `colorid init --ci github`. The job assumes an AWS role through
# GitHub's OpenID Connect provider: no access keys are stored. Create the role
# as docs/deploying-from-ci.md shows (its permissions: `colorid policy`), then
# store its ARN as the repository secret COLORID_ROLE_ARN.
name: colorid

on:
  pull_request:
  push:
  workflow_dispatch:

permissions:
  contents: read
  id-token: write # to request GitHub's OIDC token for the AWS role

env:
  # colorid is installed from its release archive, pinned by version and checksum.
  COLORID_ARCHIVE_URL: "{archive_url}"
  COLORID_ARCHIVE_SHA256: "{archive_sha256}"

jobs:
  plan:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 15
    concurrency:
      group: colorid-plan-{stack}-${{ github.ref }}
      cancel-in-progress: true
    steps:
      - uses: {checkout}
      - uses: {configure_aws}
        with:
          role-to-assume: ${{ secrets.COLORID_ROLE_ARN }}
          aws-region: {region}
      - name: Install colorid
        run: |
{install}      - name: Plan
        # --detailed-exitcode: 0 nothing to change, 2 changes (not a failure here), 1 an error.
        run: |
          status=0
          colorid plan --detailed-exitcode > "$RUNNER_TEMP/plan.txt" || status=$?
          cat "$RUNNER_TEMP/plan.txt"
          {
            echo '### colorid plan for {stack}'
            echo '```'
            cat "$RUNNER_TEMP/plan.txt"
            echo '```'
          } >> "$GITHUB_STEP_SUMMARY"
          if [ "$status" -eq 1 ]; then exit 1; fi

  deploy:
    if: github.event_name != 'pull_request' && github.ref_name == github.event.repository.default_branch
    runs-on: ubuntu-latest
    timeout-minutes: 60
    # One deployment of the stack at a time; a newer one waits, none is cancelled half-way.
    concurrency:
      group: colorid-deploy-{stack}
      cancel-in-progress: false
    steps:
      - uses: {checkout}
      - uses: {configure_aws}
        with:
          role-to-assume: ${{ secrets.COLORID_ROLE_ARN }}
          aws-region: {region}
      - name: Install colorid
        run: |
{install}      - name: Up
        run: colorid up
      - name: Publish
        run: colorid publish
"#;

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str =
        "https://example.com/releases/v0.1.0/colorid-0.1.0-x86_64-unknown-linux-gnu.tar.gz";

    #[test]
    fn the_workflow_pins_the_archive_and_limits_deployments_per_stack() {
        let sha = "a".repeat(64);
        let text = Workflow::new("demo", "eu-west-1", URL, &sha)
            .unwrap()
            .text();
        assert!(text.contains(&format!("COLORID_ARCHIVE_SHA256: \"{sha}\"")));
        assert!(text.contains("sha256sum --check --strict"));
        assert!(text.contains("group: colorid-deploy-demo\n"));
        assert!(text.contains("aws-region: eu-west-1"));
        assert!(!text.contains('{') || !text.contains("{stack}"));
        assert!(!text.contains("aws-access-key-id"));
    }

    #[test]
    fn a_wrong_checksum_or_archive_is_a_usage_error() {
        for (url, sha) in [
            (URL, "abc".to_string()),
            (URL, "g".repeat(64)),
            (
                "http://example.com/colorid-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
                "a".repeat(64),
            ),
            (
                "https://example.com/colorid-0.1.0-aarch64-apple-darwin.tar.gz",
                "a".repeat(64),
            ),
            (
                "https://example.com/x'${{ secrets.A }}/colorid-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
                "a".repeat(64),
            ),
        ] {
            let err = Workflow::new("demo", "eu-west-1", url, &sha).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{url} {sha}");
        }
    }
}
