//! HTTPS for the function's outbound calls (the issuer's keys, SSM): rustls on
//! aws-lc-rs, the library that already verifies tokens, so the zip carries one
//! crypto library instead of two; trusting the system's CA bundle, read once
//! per process, rather than a copy of Mozilla's roots compiled into the zip.
//!
//! Lambda's `provided.al2023` image has the Amazon Linux bundle at
//! `/etc/pki/tls/certs/ca-bundle.crt` (143 roots; the Go report of that runtime's
//! TLS start-up, golang/go#79018, reads it there); `colorid dev` and the tests
//! run where Debian's, Alpine's or macOS's bundle is. `SSL_CERT_FILE` names
//! another, as it does for OpenSSL.

use std::sync::{Arc, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Where the CA bundle is looked for, first found first.
pub const BUNDLES: &[&str] = &[
    // Amazon Linux 2 and 2023 (Lambda's provided.al2 and provided.al2023), RHEL, Fedora.
    "/etc/pki/tls/certs/ca-bundle.crt",
    // Debian, Ubuntu, Alpine.
    "/etc/ssl/certs/ca-certificates.crt",
    // macOS, Alpine, the BSDs.
    "/etc/ssl/cert.pem",
];

/// A reqwest client builder whose TLS uses aws-lc-rs and the system's CA bundle.
pub fn client_builder() -> Result<reqwest::ClientBuilder, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(Arc::clone(roots()))
        .with_no_client_auth();
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls))
}

/// The process's trusted roots, read on first use. Without a bundle the store
/// is empty: plain-http loopback issuers (`colorid dev`) still work, every
/// https call fails its certificate check, and the log says why.
fn roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let given = std::env::var("SSL_CERT_FILE")
            .ok()
            .filter(|f| !f.is_empty());
        match load(given.as_deref()) {
            Ok(store) => Arc::new(store),
            Err(why) => {
                tracing::error!(reason = %why, "no trusted CA certificates: https calls will fail");
                Arc::new(RootCertStore::empty())
            }
        }
    })
}

/// The roots of `given` (SSL_CERT_FILE), else of the first of [`BUNDLES`] that exists.
pub fn load(given: Option<&str>) -> Result<RootCertStore, String> {
    let path = match given {
        Some(path) => path,
        None => BUNDLES
            .iter()
            .copied()
            .find(|p| std::path::Path::new(p).is_file())
            .ok_or_else(|| {
                format!(
                    "no CA bundle at {}; set SSL_CERT_FILE to a PEM file of trusted roots",
                    BUNDLES.join(", ")
                )
            })?,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{path}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))?;
    let mut store = RootCertStore::empty();
    let (added, _unusable) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{path}: no usable CA certificate in it"));
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_bundle_is_read_and_a_bad_one_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("colorid-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = load(Some(empty.to_str().unwrap())).unwrap_err();
        assert!(
            err.contains("empty.pem") && err.contains("no usable CA"),
            "{err}"
        );
        let missing = dir.join("missing.pem");
        let err = load(Some(missing.to_str().unwrap())).unwrap_err();
        assert!(err.contains("missing.pem"), "{err}");
        // One root is one usable certificate.
        let root = isrg_root_x1();
        let one = dir.join("one.pem");
        std::fs::write(&one, root).unwrap();
        assert_eq!(load(Some(one.to_str().unwrap())).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_systems_bundle_is_found_where_there_is_one() {
        if BUNDLES.iter().any(|p| std::path::Path::new(p).is_file()) {
            assert!(load(None).unwrap().len() > 10);
        } else {
            assert!(load(None).unwrap_err().contains("SSL_CERT_FILE"));
        }
    }

    /// A CA certificate in PEM (ISRG Root X1, as Let's Encrypt publishes it).
    fn isrg_root_x1() -> &'static str {
        include_str!("../tests/it/data/isrg-root-x1.pem")
    }
}
