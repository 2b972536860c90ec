//! What `check` needs of TLS beyond the handshake: the served certificate's
//! expiry, trust roots from a PEM file (`--cacert`), and names pinned to
//! addresses (`--resolve`), as curl's options of the same names do.

use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use simple_asn1::ASN1Block;

use crate::error::{Error, Result};

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
