//! `colorid check` over HTTPS with no internet: a loopback TLS front (a
//! certificate made here, signed by a CA made here) before `colorid --local
//! dev`'s edge, reached through `--resolve` and trusted through `--cacert`.
//! The TLS probe passes for a certificate of the name and fails for another
//! name's and for one expiring within 14 days; the DNS probe passes when the
//! name leads to the distribution and fails, with its fix, when it does not.

use crate::check::start_dev;
use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use common::TestStack;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca() -> Ca {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "colorid test CA");
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca { cert, key }
}

/// A server certificate for `name`, valid from yesterday for `days` days from now.
fn leaf(ca: &Ca, name: &str, days: u64) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - std::time::Duration::from_secs(86_400);
    params.not_after = now + std::time::Duration::from_secs(days * 86_400);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    let key = PrivatePkcs8KeyDer::from(key.serialize_der()).into();
    (cert.der().clone(), key)
}

/// Accepts TCP connections and completes the TLS handshake on each.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that refuses the certificate ends the handshake: wait for the next.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// Passes a request to the dev edge under its own host name, as CloudFront
/// sends its origin's name, and the answer back.
async fn forward(State(upstream): State<String>, req: Request) -> Response {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let Ok(resp) = reqwest::Client::new()
        .request(req.method().clone(), format!("{upstream}{path}"))
        .send()
        .await
    else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut out = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if !matches!(
            k.as_str(),
            "transfer-encoding" | "connection" | "content-length"
        ) {
            out = out.header(k, v);
        }
    }
    let body = resp.bytes().await.unwrap_or_default();
    out.body(Body::from(body)).unwrap()
}

/// An HTTPS front on 127.0.0.1 serving `cert` before `upstream` (the dev
/// edge), as CloudFront terminates TLS before its origins; returns its port.
fn front(upstream: &str, cert: (CertificateDer<'static>, PrivateKeyDer<'static>)) -> u16 {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.0], cert.1)
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .fallback(forward)
        .with_state(upstream.to_string());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let tls = TlsListener {
                tcp: tokio::net::TcpListener::from_std(listener).unwrap(),
                acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            };
            axum::serve(tls, app).await.ok();
        });
    });
    port
}

#[test]
fn tls_and_dns_probes_over_a_loopback_https_front() {
    let stack = TestStack::new("chktls");
    stack.ok(&["up"]);
    let status = stack.json(&["status"]);
    let dist = status["distribution"]["domain"]
        .as_str()
        .unwrap_or_else(|| panic!("a distribution: {status}"))
        .to_string();
    let (_dev, dev_url) = start_dev(&stack);
    let upstream = dev_url.as_str();

    let ca = ca();
    let tmp = tempfile::tempdir().unwrap();
    let ca_file = tmp.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.pem()).unwrap();
    let domain = stack.domain.clone();
    // `check` of the name on `port`, the distribution's name pinned to `dist_addr`, trusting `cacert`.
    let run_check = |port: u16, dist_addr: &str, cacert: Option<&std::path::Path>| {
        let url = format!("https://{domain}:{port}");
        let name_pin = format!("{domain}:127.0.0.1");
        let dist_pin = format!("{dist}:{dist_addr}");
        let mut args = vec![
            "check",
            "--url",
            &url,
            "--resolve",
            &name_pin,
            "--resolve",
            &dist_pin,
        ];
        if let Some(file) = cacert {
            args.extend(["--cacert", file.to_str().unwrap()]);
        }
        stack.run(&args)
    };
    let check = |port: u16, dist_addr: &str| {
        let out = run_check(port, dist_addr, Some(&ca_file));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.code(), format!("{stdout}\n{stderr}"))
    };

    // A certificate for the name, 90 days left, and the name pinned to the distribution.
    let good = front(upstream, leaf(&ca, &domain, 90));
    let (code, out) = check(good, "127.0.0.1");
    assert_eq!(code, Some(0), "{out}");
    for line in [
        format!("ok    dns              {domain} resolves to the distribution {dist} (--resolve)"),
        format!("ok    tls              valid for {domain}; expires in "),
        "ok    /    ".to_string(),
        "ok    /config.json".to_string(),
        "ok    /api/v1/health".to_string(),
    ] {
        assert!(out.contains(&line), "{line:?} in:\n{out}");
    }
    // Whole days left: 89 or 90, as the second turns.
    assert!(
        out.contains("expires in 89 days") || out.contains("expires in 90 days"),
        "{out}"
    );

    // Without --cacert the test CA is not trusted.
    let out = run_check(good, "127.0.0.1", None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  tls"), "{stdout}");

    // A certificate of another name, from the same trusted CA.
    let other = front(upstream, leaf(&ca, "other.example.net", 90));
    let (code, out) = check(other, "127.0.0.1");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("FAIL  tls") && l.contains("not valid for name")),
        "{out}"
    );

    // A certificate of the name expiring within 14 days.
    let expiring = front(upstream, leaf(&ca, &domain, 5));
    let (code, out) = check(expiring, "127.0.0.1");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines().any(|l| l.contains("FAIL  tls")
            && (l.contains("expires in 4 days: renew it")
                || l.contains("expires in 5 days: renew it"))),
        "{out}"
    );
    assert!(out.contains("1 of 5 check(s) failed"), "{out}");

    // The name leads elsewhere than the distribution: the DNS probe fails with its fix.
    let (code, out) = check(good, "127.0.0.2");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines().any(|l| l.contains("FAIL  dns")
            && l.contains(&format!("does not resolve to the distribution {dist}"))
            && l.contains("run `colorid up` to write its alias records")),
        "{out}"
    );
    assert!(out.contains("ok    tls"), "{out}");
    assert!(out.contains("1 of 5 check(s) failed"), "{out}");

    // A --cacert file with no certificate: a usage error naming the file.
    let not_pem = tmp.path().join("not.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let out = run_check(good, "127.0.0.1", Some(&not_pem));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not.pem: holds no PEM certificate"),
        "{stderr}"
    );

    // A --resolve that is not NAME:ADDR is a usage error naming the form.
    let out = stack.run(&["check", "--resolve", &format!("{domain}:443:127.0.0.1")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not NAME:ADDR"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
