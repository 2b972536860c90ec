//! The command line.

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Stand up a secure, identity-aware static web application on AWS from one stack.toml.
///
/// colorid provisions an ACM certificate, a private S3 bucket readable only by
/// CloudFront, a CloudFront distribution on your domain, Route53 alias records,
/// SSM secrets and the identity function, then publishes your site. Every
/// command converges: run it again and it changes only what differs.
///
/// Try it without an AWS account, against the local emulator (moto):
/// `python3 -m venv ~/.colorid-emulator && ~/.colorid-emulator/bin/pip install 'moto[server]==5.2.5'`,
/// `~/.colorid-emulator/bin/moto_server -p 4566 &`, then `colorid --local up`
/// (in a colorid checkout, `scripts/demo` does all of it).
#[derive(Debug, Parser)]
#[command(name = "colorid", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// The stack file.
    #[arg(long, global = true, default_value = "stack.toml", value_name = "FILE")]
    pub stack: PathBuf,
    /// The AWS profile to use (from ~/.aws/config); default: the standard credential chain.
    #[arg(long, global = true, value_name = "P")]
    pub profile: Option<String>,
    /// Override the stack's region for the bucket, function and parameters.
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (also read from AWS_ENDPOINT_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Use the local AWS emulator: COLORID_LOCAL_ENDPOINT, else http://127.0.0.1:4566, with dummy credentials.
    #[arg(long, global = true)]
    pub local: bool,
    /// How results are printed on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// More log detail on stderr (-v: info, -vv: debug, -vvv: trace). RUST_LOG also works.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what `up` would create, update or leave unchanged. Makes no changes.
    Plan(PlanArgs),
    /// Create or update everything in the stack, then publish the site.
    ///
    /// Order: at once, the certificate (requested first, validated through the
    /// hosted zone, waited for), the bucket, the origin access, the response
    /// headers policy and viewer-request function, and the identity function
    /// (role, secrets and log group at once, then the function, then its URL);
    /// the distribution when all of them are ready; then the bucket policy and
    /// DNS records; then the site is published. A second run changes nothing.
    /// The site folder must exist: checked before any AWS call.
    Up(UpArgs),
    /// Remove everything the stack created, and nothing else.
    ///
    /// Lists what it will delete and asks first; pass --yes to skip the question
    /// (required when there is no terminal).
    Down(DownArgs),
    /// Show what exists: ids, the site URL and the distribution's domain.
    Status,
    /// Push site changes: upload only what changed, fix headers, delete what
    /// is gone, and invalidate only the changed paths.
    ///
    /// Content-Type comes from the extension; Cache-Control from
    /// `[[publish.cache_control]]` rules in the stack file (first match wins).
    /// Hidden files are never published. Symbolic links to files inside the site
    /// directory are followed; links that lead outside it are skipped, with a
    /// warning naming each.
    Publish(PublishArgs),
    /// Run the whole application on localhost: the site, /config.json and the
    /// identity function in-process, with a built-in test identity provider.
    ///
    /// Without --issuer and --client-id, a TEST identity provider is served
    /// under /idp on the same origin, with test users alice (AAL1), bob (AAL2,
    /// born 1950) and carol (AAL1, no email). For local development only.
    Dev(DevArgs),
    /// Print the identity function's log lines (CloudWatch Logs group /aws/lambda/<function>).
    ///
    /// The function writes one line per request: method, route, status, reason
    /// code and latency; never a token or a secret. Lambda adds START, END and
    /// REPORT lines. `up` keeps them `[function] log_retention_days` (default 30).
    Logs(LogsArgs),
    /// Start a new project: a commented stack.toml, a starter site/ with the
    /// client library, and a .gitignore. Never overwrites a file.
    ///
    /// Values not given as options are asked on a terminal; with no terminal
    /// they are the documented example values (edit stack.toml afterwards).
    /// Then try it: `colorid --local up` against the emulator.
    Init(InitArgs),
    /// Probe the deployed site as a browser reaches it: the name resolves to the
    /// distribution, TLS is valid and not near expiry, `/` answers 200 with the
    /// security headers, /config.json matches the stack, and the function answers
    /// /api/v1/health through the distribution. Exit 1 on any failure.
    Check(CheckArgs),
    /// Print the IAM policy (JSON) a deployer needs for this stack: its resources
    /// by name or tag wherever AWS allows it. Attach it to the role CI assumes.
    ///
    /// By default for `up`, `down`, `plan`, `status`, `logs` and `publish`; with
    /// `--for publish` only what `publish` needs (a site-only pipeline). Reads
    /// the account id (STS) and the hosted zone's id (Route53); changes nothing.
    Policy(PolicyArgs),
    /// Print a shell completion script: `colorid completions bash > /etc/bash_completion.d/colorid`,
    /// `colorid completions zsh > "${fpath[1]}/_colorid"`, `colorid completions fish > ~/.config/fish/completions/colorid.fish`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), as `scripts/dist` ships it.
    #[command(hide = true)]
    Man,
}

impl Command {
    /// Whether the command was asked for Terraform's exit codes (0 clean,
    /// 2 changes pending, 1 any error).
    pub fn detailed_exitcode(&self) -> bool {
        match self {
            Command::Plan(args) => args.detailed_exitcode,
            Command::Publish(args) => args.detailed_exitcode,
            _ => false,
        }
    }
}

/// The flag that asks for Terraform's exit codes, as typed.
pub const DETAILED_EXITCODE: &str = "--detailed-exitcode";

/// Options of `policy`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Which commands the policy allows.
    #[arg(long = "for", value_enum, default_value_t = PolicyFor::Up, value_name = "COMMANDS")]
    pub scope: PolicyFor,
}

/// The commands a deployer policy is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFor {
    /// up, down, plan, status, logs and publish.
    Up,
    /// publish only.
    Publish,
}

/// Options of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder (created if missing).
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// The stack's name (default: from the folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The site's host name, e.g. color.example.com.
    #[arg(long)]
    pub domain: Option<String>,
    /// No domain: serve the site on the distribution's own https://<id>.cloudfront.net
    /// name (no certificate, no DNS records). On a terminal, an empty domain answer does the same.
    #[arg(long, conflicts_with_all = ["domain", "hosted_zone"])]
    pub no_domain: bool,
    /// The Route53 hosted zone holding the domain, e.g. example.com.
    #[arg(long, value_name = "ZONE")]
    pub hosted_zone: Option<String>,
    /// The OpenID provider's issuer URL.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// The client id registered at the issuer.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Also write a CI workflow: `github` writes .github/workflows/colorid.yml (plan on pull
    /// requests, up and publish on the default branch, AWS through OIDC; see docs/deploying-from-ci.md).
    #[arg(long, value_enum, requires_all = ["archive_url", "archive_sha256"])]
    pub ci: Option<CiProvider>,
    /// With --ci: the https URL of the release archive the workflow installs
    /// (colorid-<version>-x86_64-unknown-linux-gnu.tar.gz, as scripts/dist names it).
    #[arg(long, value_name = "URL", requires = "ci")]
    pub archive_url: Option<String>,
    /// With --ci: the archive's SHA-256 (from its .tar.gz.sha256 file); the workflow checks it.
    #[arg(long, value_name = "HEX", requires = "ci")]
    pub archive_sha256: Option<String>,
}

/// The CI services `init --ci` writes a workflow for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiProvider {
    /// GitHub Actions.
    Github,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Probe this base URL instead of the stack's site (e.g. `colorid dev`'s http://127.0.0.1:8080,
    /// or https://color.example.com:8443). On the stack's domain, the name must still lead to the distribution.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Connect to ADDR for NAME instead of asking DNS, as curl's --resolve (no port: the URL's is
    /// used); repeatable. E.g. check a new distribution before moving DNS:
    /// `--resolve color.example.com:<an address of dxxxx.cloudfront.net>`.
    #[arg(long, value_name = "NAME:ADDR")]
    pub resolve: Vec<Resolve>,
    /// Trust the CA certificates in this PEM file instead of the public roots, as curl's --cacert
    /// (a private CA, or a test certificate).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
}

/// `NAME:ADDR`: connect to ADDR for NAME instead of asking DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub name: String,
    pub addr: IpAddr,
}

impl FromStr for Resolve {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let usage = || {
            format!(
                "{s:?} is not NAME:ADDR, e.g. color.example.com:192.0.2.10 or color.example.com:[2001:db8::1] (no port: the URL's is used)"
            )
        };
        // Names hold no ':'; an IPv6 address may, bracketed or not.
        let (name, addr) = s.split_once(':').ok_or_else(usage)?;
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Err(usage());
        }
        let addr = addr.parse().map_err(|_| usage())?;
        Ok(Resolve { name, addr })
    }
}

/// Options of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new lines as they arrive, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Start this long ago: 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = crate::logs::parse_since)]
    pub since: std::time::Duration,
    /// Only lines containing TEXT (or a CloudWatch filter pattern: `{ $.fields.status = 500 }`).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}

/// Options of `dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// The port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on. Anything but loopback exposes the test identity provider.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Use this OpenID provider instead of the built-in test one (needs --client-id).
    #[arg(long, value_name = "URL", requires = "client_id")]
    pub issuer: Option<String>,
    /// The client id registered at --issuer.
    #[arg(long, value_name = "ID", requires = "issuer")]
    pub client_id: Option<String>,
}

/// Options of `up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Remove a lock left by a run that died, then proceed.
    #[arg(long)]
    pub force_unlock: bool,
    /// The longest to wait for the certificate to be issued, in seconds.
    #[arg(long, default_value_t = 2700, value_name = "SECONDS")]
    pub wait_timeout: u64,
    /// Deploy this zip (holding `bootstrap`) as the identity function instead of building it with cargo-lambda.
    #[arg(long, value_name = "PATH")]
    pub function_zip: Option<PathBuf>,
    /// Replace these stored secrets with new generated values (app_secret, signing_key, origin_verify).
    #[arg(long, value_enum, num_args = 1.., value_delimiter = ',', value_name = "NAME")]
    pub rotate_secrets: Vec<crate::stack::secret_value::SecretName>,
}

/// Options of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Compare this zip with the deployed function code (without it, code is compared by `up`).
    #[arg(long, value_name = "PATH")]
    pub function_zip: Option<PathBuf>,
    /// Exit 0 when nothing would change, 2 when something would, 1 on any error
    /// (Terraform's `-detailed-exitcode`; usage and stack-file errors exit 1 too).
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Options of `down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Remove a lock left by a run that died, then proceed.
    #[arg(long)]
    pub force_unlock: bool,
    /// The longest to wait for the distribution to be disabled, in seconds.
    #[arg(long, default_value_t = 2700, value_name = "SECONDS")]
    pub wait_timeout: u64,
}

/// Options of `publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Print every file with its reason and the paths to invalidate; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Read and re-upload every file (even those whose size and modification time match
    /// the last publish), and allow deleting more files than the delete limit.
    #[arg(long)]
    pub force: bool,
    /// List the bucket and check every object against it, rather than trust the record
    /// the last publish left: use it when something other than colorid changed the bucket
    /// (an object deleted or overwritten by hand). Publish lists on its own when the last
    /// publish did not finish.
    #[arg(long)]
    pub verify: bool,
    /// Keep objects whose files are gone from the site directory.
    #[arg(long)]
    pub no_delete: bool,
    /// Wait until CloudFront has finished the invalidation.
    #[arg(long)]
    pub wait: bool,
    /// Remove a lock left by a run that died, then proceed.
    #[arg(long)]
    pub force_unlock: bool,
    /// With --dry-run: exit 0 when the bucket matches the site, 2 when a publish
    /// would change something, 1 on any error (usage and stack-file errors too).
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_takes_a_name_and_an_address() {
        let r: Resolve = "Color.Example.com.:127.0.0.1".parse().unwrap();
        assert_eq!(r.name, "color.example.com");
        assert_eq!(r.addr, IpAddr::from([127, 0, 0, 1]));
        let r: Resolve = "a.example.com:[::1]".parse().unwrap();
        assert_eq!(r.addr, "::1".parse::<IpAddr>().unwrap());
        let r: Resolve = "a.example.com:::1".parse().unwrap();
        assert_eq!(r.addr, "::1".parse::<IpAddr>().unwrap());
        for bad in [
            "a.example.com",
            ":127.0.0.1",
            "a.example.com:443:127.0.0.1",
            "a:b",
        ] {
            assert!(bad.parse::<Resolve>().is_err(), "{bad}");
        }
    }
}
