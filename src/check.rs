//! `colorid check`: probes the deployed site the way a browser reaches it,
//! one line per probe, and fails when any probe fails.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

mod tls;

use crate::cli::Resolve;
use crate::config::{Dns, Stack};
use crate::site::SiteConfig;
use crate::stack::{Ctx, distribution};

/// The headers every page must carry (the distribution's response headers policy).
pub const SECURITY_HEADERS: [&str; 3] = [
    "strict-transport-security",
    "x-content-type-options",
    "referrer-policy",
];

/// Days before expiry at which the certificate counts as near it.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// One probe's result.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub name: String,
    pub ok: bool,
    /// Skipped probes (not applicable to the URL) count as passed.
    pub skipped: bool,
    pub detail: String,
}

fn probe(name: &str, ok: bool, detail: impl Into<String>) -> Probe {
    Probe {
        name: name.into(),
        ok,
        skipped: false,
        detail: detail.into(),
    }
}

fn skipped(name: &str, detail: impl Into<String>) -> Probe {
    Probe {
        name: name.into(),
        ok: true,
        skipped: true,
        detail: detail.into(),
    }
}

/// How `check` reaches the site.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Another base URL than the stack's site.
    pub url: Option<String>,
    /// Names pinned to addresses instead of DNS (`--resolve`).
    pub resolve: Vec<Resolve>,
    /// Trust these roots instead of the public ones (`--cacert`).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Options {
    fn pinned(&self, host: &str) -> BTreeSet<std::net::IpAddr> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.resolve
            .iter()
            .filter(|r| r.name == host)
            .map(|r| r.addr)
            .collect()
    }

    /// The addresses of `host`: the pinned ones, else DNS's; and whether pinned.
    async fn addresses(&self, host: &str) -> (BTreeSet<std::net::IpAddr>, bool) {
        let pinned = self.pinned(host);
        if !pinned.is_empty() {
            return (pinned, true);
        }
        let found = tokio::net::lookup_host((host, 443))
            .await
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default();
        (found, false)
    }

    fn client(&self) -> crate::error::Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .tls_info(true);
        for r in &self.resolve {
            // Port 0: the URL's port is used.
            b = b.resolve(&r.name, std::net::SocketAddr::new(r.addr, 0));
        }
        if let Some(path) = &self.ca_file {
            b = b.tls_built_in_root_certs(false);
            for cert in tls::roots_from(path)? {
                b = b.add_root_certificate(cert);
            }
        }
        b.build()
            .map_err(|e| crate::error::Error::usage(format!("cannot make an HTTP client: {e}")))
    }
}

/// The `--url` given, parsed.
fn given_url(opts: &Options) -> crate::error::Result<Option<reqwest::Url>> {
    opts.url
        .as_deref()
        .map(|u| {
            reqwest::Url::parse(u.trim_end_matches('/'))
                .map_err(|e| crate::error::Error::usage(format!("--url {u:?} is not a URL: {e}")))
        })
        .transpose()
}

/// Whether the probes need the account: the stack's own name (also behind
/// `--url`, e.g. on another port) must lead to the stack's distribution. Any
/// other `--url` (such as `colorid dev`'s) is probed without AWS credentials.
pub fn needs_account(stack: &Stack, opts: &Options) -> crate::error::Result<bool> {
    Ok(given_url(opts)?.as_ref().is_none_or(|u| {
        u.host_str()
            .is_some_and(|h| stack.domain.as_deref() == Some(h))
    }))
}

/// Runs every probe against the stack's site URL (its domain, or with no
/// domain the distribution's own name) or `opts.url`. `account` is needed
/// when [`needs_account`] says so.
pub async fn check(
    stack: &Stack,
    account: Option<&Ctx>,
    opts: &Options,
) -> crate::error::Result<Vec<Probe>> {
    let ours = needs_account(stack, opts)?;
    let dist = match account {
        Some(ctx) if ours => distribution::find(ctx).await?,
        _ => None,
    };
    let base = match &opts.url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => stack
            .site_url(dist.as_ref().map(|d| d.domain.as_str()))
            .ok_or_else(|| {
                crate::error::Error::conflict_fix(
                    "the stack has no `domain` and no distribution yet: there is no site to check.",
                    "run `colorid up` first (the site is then served on the distribution's *.cloudfront.net name), or point --url at a site",
                )
            })?,
    };
    let parsed = reqwest::Url::parse(&base)
        .map_err(|e| crate::error::Error::usage(format!("{base:?} is not a URL: {e}")))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let https = parsed.scheme() == "https";
    let mut out = vec![dns_probe(stack, opts, &host, ours, dist.as_ref()).await];

    // TLS: the handshake checks the chain and the name; the served certificate its expiry.
    let http = opts.client()?;
    if !https {
        out.push(skipped("tls", format!("{base} is not https")));
    } else {
        out.push(match http.head(&base).send().await {
            Err(e) => probe("tls", false, format!("{host}: {}", error_chain(&e))),
            Ok(resp) => expiry_probe(&host, &resp),
        });
    }

    // `/`: 200 with the security headers.
    match http.get(format!("{base}/")).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let missing: Vec<&str> = SECURITY_HEADERS
                .iter()
                .copied()
                .filter(|h| !resp.headers().contains_key(*h))
                .collect();
            let ok = status == 200 && missing.is_empty();
            out.push(probe(
                "/",
                ok,
                if missing.is_empty() {
                    format!("{status}, security headers present")
                } else {
                    format!("{status}, missing {}", missing.join(", "))
                },
            ));
        }
        Err(e) => out.push(probe("/", false, error_chain(&e))),
    }

    // `/config.json`: what this stack publishes.
    let wanted = serde_json::to_value(SiteConfig::of(stack)).unwrap_or_default();
    match http.get(format!("{base}/config.json")).send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            let differing: Vec<&str> = ["issuer", "clientId", "apiBase", "stack"]
                .into_iter()
                .filter(|k| body.get(k) != wanted.get(k))
                .collect();
            let ok = status == 200 && differing.is_empty();
            out.push(probe(
                "/config.json",
                ok,
                if ok {
                    "matches the stack".to_string()
                } else if status != 200 {
                    format!("{status}")
                } else {
                    format!(
                        "differs from the stack in {} (run `colorid publish`)",
                        differing.join(", ")
                    )
                },
            ));
        }
        Err(e) => out.push(probe("/config.json", false, error_chain(&e))),
    }

    // The function through the distribution.
    let health = match http.get(format!("{base}/api/v1/health")).send().await {
        Ok(resp) if resp.status().is_success() => probe(
            "/api/v1/health",
            true,
            format!("{}", resp.status().as_u16()),
        ),
        Ok(resp) => {
            let mut detail = format!("{}", resp.status().as_u16());
            // A function from before /api/v1 still answers the older route.
            if let Ok(old) = http.get(format!("{base}/api/health")).send().await
                && old.status().is_success()
            {
                detail.push_str(": the deployed function predates /api/v1 (run `colorid up`)");
            }
            probe("/api/v1/health", false, detail)
        }
        Err(e) => probe("/api/v1/health", false, error_chain(&e)),
    };
    out.push(health);
    Ok(out)
}

/// The name resolves; for the stack's own name, to its distribution.
async fn dns_probe(
    stack: &Stack,
    opts: &Options,
    host: &str,
    ours: bool,
    dist: Option<&distribution::Found>,
) -> Probe {
    let (found, pinned) = opts.addresses(host).await;
    let how = if pinned { " (--resolve)" } else { "" };
    let resolves = |what: &str| {
        probe(
            "dns",
            !found.is_empty(),
            if found.is_empty() {
                format!("{host}{what} does not resolve")
            } else {
                format!("{host}{what} resolves{how}")
            },
        )
    };
    match dist {
        _ if !ours => resolves(""),
        None => probe("dns", false, "no distribution: run `colorid up`"),
        Some(_) if stack.domain.is_none() => resolves(" (the distribution's own name)"),
        Some(d) => {
            let (theirs, _) = opts.addresses(&d.domain).await;
            let ok = !found.is_empty() && !found.is_disjoint(&theirs);
            let fix = match stack.dns {
                Dns::Route53 => "run `colorid up` to write its alias records".to_string(),
                Dns::External => {
                    format!(
                        "at your DNS provider, point {host} at {} (a CNAME, or an ALIAS at the apex)",
                        d.domain
                    )
                }
            };
            probe(
                "dns",
                ok,
                if ok {
                    format!("{host} resolves to the distribution {}{how}", d.domain)
                } else if found.is_empty() {
                    format!("{host} does not resolve: {fix}")
                } else {
                    format!(
                        "{host}{how} does not resolve to the distribution {}: {fix}",
                        d.domain
                    )
                },
            )
        }
    }
}

/// The handshake succeeded; the served certificate must outlive the warning window.
fn expiry_probe(host: &str, resp: &reqwest::Response) -> Probe {
    let not_after = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .and_then(tls::not_after);
    let Some(not_after) = not_after else {
        return probe(
            "tls",
            false,
            format!("valid for {host}, but its expiry is unreadable"),
        );
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = (not_after - now).div_euclid(86_400);
    if days > EXPIRY_WARNING_DAYS {
        probe(
            "tls",
            true,
            format!("valid for {host}; expires in {days} days"),
        )
    } else {
        probe(
            "tls",
            false,
            format!(
                "valid for {host}, but expires in {days} days: renew it (ACM renews a DNS-validated certificate while its validation records exist: `colorid up` restores them)"
            ),
        )
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}
