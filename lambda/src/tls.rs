//! HTTPS for the function's outbound calls (the issuer's keys, SSM): rustls on
//! aws-lc-rs, the library that already verifies tokens, so the zip carries one
//! crypto library instead of two.

use std::sync::Arc;

/// A reqwest client builder whose TLS uses aws-lc-rs and the webpki root certificates.
pub fn client_builder() -> Result<reqwest::ClientBuilder, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls))
}
