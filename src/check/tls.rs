//! What `check` needs of TLS beyond the handshake: the served certificate's
//! expiry and trust roots from a PEM file (`--cacert`, as curl's option of
//! the same name).

use std::path::Path;

use simple_asn1::ASN1Block;

use crate::error::{Error, Result};

/// The certificates of a PEM file, to be trusted instead of the public roots.
pub fn roots_from(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(Error::usage_fix(
            format!("--cacert {}: holds no PEM certificate", path.display()),
            "give a file of -----BEGIN CERTIFICATE----- blocks (the CA that signed the site's certificate)",
        ));
    }
    Ok(certs)
}

/// The notAfter of a DER certificate, in seconds since the Unix epoch.
pub fn not_after(der: &[u8]) -> Option<i64> {
    let blocks = simple_asn1::from_der(der).ok()?;
    let Some(ASN1Block::Sequence(_, cert)) = blocks.first() else {
        return None;
    };
    let Some(ASN1Block::Sequence(_, tbs)) = cert.first() else {
        return None;
    };
    // version [0] (optional), serial, signature, issuer, validity: the first
    // SEQUENCE of two times.
    tbs.iter().find_map(|b| match b {
        ASN1Block::Sequence(_, v) if v.len() == 2 => match &v[1] {
            ASN1Block::UTCTime(_, t) | ASN1Block::GeneralizedTime(_, t) => {
                Some(t.assume_utc().unix_timestamp())
            }
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_is_read_from_the_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["a.example.com".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 5, 17)
            + std::time::Duration::from_secs(13 * 3600 + 7 * 60 + 5);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        // 2031-05-17T13:07:05Z
        assert_eq!(
            not_after(cert.der()),
            Some(1_936_742_400 + 13 * 3600 + 7 * 60 + 5)
        );
        assert_eq!(not_after(b"not a certificate"), None);
    }
}
