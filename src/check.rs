//! `colorid check`: probes the deployed site the way a browser reaches it,
//! one line per probe, and fails when any probe fails.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use crate::site::SiteConfig;
use crate::stack::{Ctx, certificate, distribution};

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

async fn addresses(host: &str) -> BTreeSet<std::net::IpAddr> {
    tokio::net::lookup_host((host, 443))
        .await
        .map(|a| a.map(|s| s.ip()).collect())
        .unwrap_or_default()
}

/// Runs every probe against `base` (the stack's site URL unless given: its
/// domain, or with no domain the distribution's own name).
pub async fn check(ctx: &Ctx, url: Option<&str>) -> crate::error::Result<Vec<Probe>> {
    let dist = match url {
        Some(_) => None,
        None => distribution::find(ctx).await?,
    };
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => ctx
            .stack
            .site_url(dist.as_ref().map(|d| d.domain.as_str()))
            .ok_or_else(|| {
                crate::error::Error::conflict_fix(
                    "the stack has no `domain` and no distribution yet: there is no site to check.",
                    "run `colorid up` first (the site is then served on the distribution's *.cloudfront.net name), or point --url at a site",
                )
            })?,
    };
    let parsed = reqwest::Url::parse(&base)
        .map_err(|e| crate::error::Error::usage(format!("--url {base:?} is not a URL: {e}")))?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let https = parsed.scheme() == "https";
    let mut out = Vec::new();

    // The name resolves, and (for the stack's own name) to the distribution.
    let found = addresses(&host).await;
    if url.is_some() {
        out.push(probe(
            "dns",
            !found.is_empty(),
            if found.is_empty() {
                format!("{host} does not resolve")
            } else {
                format!("{host} resolves")
            },
        ));
    } else {
        match &dist {
            None => out.push(probe("dns", false, "no distribution: run `colorid up`")),
            Some(_) if ctx.stack.domain.is_none() => out.push(probe(
                "dns",
                !found.is_empty(),
                if found.is_empty() {
                    format!("{host} (the distribution's own name) does not resolve yet")
                } else {
                    format!("{host} (the distribution's own name) resolves")
                },
            )),
            Some(d) => {
                let theirs = addresses(&d.domain).await;
                let ok = !found.is_empty() && !found.is_disjoint(&theirs);
                out.push(probe(
                    "dns",
                    ok,
                    if ok {
                        format!("{host} resolves to the distribution {}", d.domain)
                    } else {
                        format!(
                            "{host} does not resolve to the distribution {} (point it there: `colorid up`, or the record at your DNS provider)",
                            d.domain
                        )
                    },
                ));
            }
        }
    }

    // TLS: the handshake checks the chain and the name; ACM says when it expires.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| crate::error::Error::usage(format!("cannot make an HTTP client: {e}")))?;
    if !https {
        out.push(skipped("tls", format!("{base} is not https")));
    } else {
        let handshake = http.head(&base).send().await;
        let mut detail = match &handshake {
            Ok(_) => format!("valid for {host}"),
            Err(e) => format!("{host}: {}", error_chain(e)),
        };
        let mut ok = handshake.is_ok();
        if url.is_none()
            && ctx.stack.has_certificate()
            && let Some(days) = certificate::find(ctx).await?.and_then(|c| c.days_left)
        {
            detail.push_str(&format!("; expires in {days} days"));
            ok &= days > EXPIRY_WARNING_DAYS;
        }
        out.push(probe("tls", ok, detail));
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
    let wanted = serde_json::to_value(SiteConfig::of(&ctx.stack)).unwrap_or_default();
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

    // The function through the distribution: /api/v1/health, else the older /api/health.
    let mut health = probe("/api/v1/health", false, "no answer");
    for path in ["/api/v1/health", "/api/health"] {
        match http.get(format!("{base}{path}")).send().await {
            Ok(resp) if resp.status().is_success() => {
                health = probe(path, true, format!("{}", resp.status().as_u16()));
                break;
            }
            Ok(resp) => health.detail = format!("{path}: {}", resp.status().as_u16()),
            Err(e) => health.detail = format!("{path}: {}", error_chain(&e)),
        }
    }
    out.push(health);
    Ok(out)
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
