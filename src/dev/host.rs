//! Which `Host` the dev server answers. A web page the developer visits can
//! point its own DNS name at 127.0.0.1 (DNS rebinding) and so reach the test
//! identity provider and the API from the browser; refusing every `Host`
//! but loopback names and the bound address stops that. A server opened to
//! the network on purpose (`--host` not loopback) answers any name.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The host names a request may carry; `None` accepts any.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Option<Vec<String>>);

impl AllowedHosts {
    /// For a server bound to `ip`: loopback names and `ip` itself when `ip`
    /// is loopback, anything when the server was opened to the network.
    pub fn for_bound(ip: IpAddr) -> Self {
        if !ip.is_loopback() {
            return AllowedHosts(None);
        }
        let bound = match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .map(String::from)
            .to_vec();
        if !names.contains(&bound) {
            names.push(bound);
        }
        AllowedHosts(Some(names))
    }

    /// Whether a `Host` value (name, optional port) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let Some(names) = &self.0 else {
            return true;
        };
        let host = host.trim().trim_end_matches('.');
        // Strip a port: after the `]` of an IPv6 literal, or after the one colon of a name.
        let name = match host.rfind(':') {
            Some(i) if host.starts_with('[') && host[..i].ends_with(']') => &host[..i],
            Some(i) if !host.starts_with('[') => &host[..i],
            _ => host,
        };
        let name = name.trim_end_matches('.');
        names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// Middleware: 421 Misdirected Request for a `Host` that is not allowed.
pub async fn check(State(allowed): State<Arc<AllowedHosts>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if allowed.allows(&h) => next.run(req).await,
        _ => (
            StatusCode::MISDIRECTED_REQUEST,
            "colorid dev answers only loopback host names (localhost, 127.0.0.1, [::1]); \
             open it with one of them, or pass --host to serve the network on purpose\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn loopback_names_only_unless_opened() {
        let local = AllowedHosts::for_bound(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for ok in [
            "localhost:8080",
            "LOCALHOST",
            "127.0.0.1:1",
            "[::1]:8080",
            "localhost.",
        ] {
            assert!(local.allows(ok), "{ok}");
        }
        for bad in [
            "attacker.example:8080",
            "localhost.attacker.example",
            "127.0.0.1.nip.io:8080",
            "",
            "[::2]:8080",
        ] {
            assert!(!local.allows(bad), "{bad}");
        }
        let v6 = AllowedHosts::for_bound(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(v6.allows("[::1]:9"));
        let other = AllowedHosts::for_bound("127.0.0.2".parse().unwrap());
        assert!(other.allows("127.0.0.2:80"));
        let open = AllowedHosts::for_bound(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert!(open.allows("attacker.example"));
    }
}
