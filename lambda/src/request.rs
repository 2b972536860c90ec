//! What a client asks `/api/attributes` for: the attributes, from the GET
//! query or the POST body, and the `audience` and `nonce` that bind signed
//! attributes to one relying party and one transaction.

use serde::Deserialize;

use crate::attributes::{Definition, Pedigree, Requested, Source, ValidationFailure};

/// Longest `audience` or `nonce` accepted, in bytes.
pub const MAX_BINDING_LEN: usize = 256;

/// One `/api/attributes` request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AttributesRequest {
    /// The attributes wanted.
    pub attributes: Vec<Requested>,
    /// The relying party the signed attributes are for (their `aud`);
    /// `colorid-attributes` when not given.
    #[serde(default)]
    pub audience: Option<String>,
    /// A value the relying party chose for this transaction, copied into the
    /// signed attributes so they cannot be replayed into another one.
    #[serde(default)]
    pub nonce: Option<String>,
}

impl AttributesRequest {
    /// Reads a POST body.
    pub fn from_body(body: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    }

    /// Reads a GET query: `authoritative_attributes`, `self_asserted_attributes`
    /// (comma-separated names), `sign`, `audience` and `nonce`.
    pub fn from_query(query: &str) -> Self {
        let mut out = AttributesRequest::default();
        let mut signed = false;
        let mut lists = Vec::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v);
            match k {
                "authoritative_attributes" => lists.push((Pedigree::Authoritative, v)),
                "self_asserted_attributes" => lists.push((Pedigree::SelfAsserted, v)),
                "sign" => signed = matches!(v.as_str(), "true" | "True" | "1"),
                "audience" => out.audience = Some(v),
                "nonce" => out.nonce = Some(v),
                _ => {}
            }
        }
        for (pedigree, list) in lists {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                out.attributes.push(Requested {
                    name: name.into(),
                    definition: Definition {
                        source: Source::Attribute,
                        pedigree,
                        signed,
                        formula: None,
                    },
                });
            }
        }
        out
    }

    /// Problems with `audience` and `nonce`: each, when given, must be 1 to
    /// 256 bytes without control characters.
    pub fn binding_failures(&self) -> Vec<ValidationFailure> {
        let mut out = Vec::new();
        for (property, value) in [("audience", &self.audience), ("nonce", &self.nonce)] {
            let Some(v) = value else { continue };
            if v.is_empty() || v.len() > MAX_BINDING_LEN || v.chars().any(char::is_control) {
                out.push(ValidationFailure {
                    property: property.into(),
                    failure_reason: format!(
                        "must be 1 to {MAX_BINDING_LEN} bytes without control characters"
                    ),
                });
            }
        }
        out
    }
}

/// Decodes a query value (`%XX` and `+`).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_binding_and_decoding() {
        let r = AttributesRequest::from_query(
            "authoritative_attributes=Email,GivenName&self_asserted_attributes=Nick%6Eame&sign=true\
             &audience=https%3A%2F%2Frp.example&nonce=n-1",
        );
        let names: Vec<_> = r
            .attributes
            .iter()
            .map(|r| (r.name.as_str(), r.definition.pedigree))
            .collect();
        assert_eq!(
            names,
            [
                ("Email", Pedigree::Authoritative),
                ("GivenName", Pedigree::Authoritative),
                ("Nickname", Pedigree::SelfAsserted)
            ]
        );
        assert!(r.attributes.iter().all(|r| r.definition.signed));
        assert_eq!(r.audience.as_deref(), Some("https://rp.example"));
        assert_eq!(r.nonce.as_deref(), Some("n-1"));
        assert!(r.binding_failures().is_empty());
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn empty_long_or_control_bindings_fail() {
        let mut r = AttributesRequest::from_query("nonce=&audience=a%0Ab");
        let props: Vec<_> = r
            .binding_failures()
            .into_iter()
            .map(|f| f.property)
            .collect();
        assert_eq!(props, ["audience", "nonce"]);
        r.audience = Some("a".repeat(MAX_BINDING_LEN + 1));
        r.nonce = Some("n".repeat(MAX_BINDING_LEN));
        assert_eq!(r.binding_failures().len(), 1);
    }
}
