//! How the state record is written into its SSM parameter. A standard
//! parameter holds 4,096 characters ("Standard parameters have a value limit
//! of 4 KB", <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html>),
//! and the record grows with names, alias and validation records and replaced
//! certificates: a record that fits is plain JSON (as every colorid wrote it
//! before); a longer one is `gz1:` and the base64 of its gzipped JSON. Both
//! read back the same.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Error, Result};

/// The most characters a standard SSM parameter holds.
pub const STANDARD_LIMIT: usize = 4096;

const GZIP: &str = "gz1:";

/// The parameter value for the record's JSON.
pub fn encode(json: &str) -> Result<String> {
    if json.chars().count() <= STANDARD_LIMIT {
        return Ok(json.to_string());
    }
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(json.as_bytes())
        .and_then(|()| gz.finish())
        .map(|bytes| format!("{GZIP}{}", STANDARD.encode(bytes)))
        .map_err(|e| Error::internal(format!("compress the state record: {e}")))
        .and_then(|value| {
            if value.len() <= STANDARD_LIMIT {
                Ok(value)
            } else {
                Err(Error::conflict_fix(
                    format!(
                        "the state record is {} characters even compressed ({} as JSON), over the {STANDARD_LIMIT} an SSM standard parameter holds.",
                        value.len(),
                        json.len()
                    ),
                    "run `colorid up` once more (it deletes the replaced certificates the record lists), or report this at colorid's issue tracker",
                ))
            }
        })
}

/// The record's JSON from a parameter value (either form); a value that does not
/// decode is returned as it is (and then reads as an empty state).
pub fn decode(value: &str) -> String {
    let Some(packed) = value.strip_prefix(GZIP) else {
        return value.to_string();
    };
    let mut json = String::new();
    match STANDARD.decode(packed) {
        Ok(bytes) if GzDecoder::new(&bytes[..]).read_to_string(&mut json).is_ok() => json,
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_record_stays_json_and_an_older_one_reads() {
        let json = r#"{"bucket":"colorid-a-123456789012"}"#;
        assert_eq!(encode(json).unwrap(), json);
        assert_eq!(decode(json), json);
    }

    #[test]
    fn a_long_record_is_compressed_within_the_limit_and_reads_back() {
        let arns: Vec<String> = (0..60)
            .map(|i| {
                format!(
                    "arn:aws:acm:us-east-1:123456789012:certificate/{i:08x}-1234-4abc-9def-{i:012x}"
                )
            })
            .collect();
        let json = serde_json::json!({ "certificates_to_delete": arns }).to_string();
        assert!(json.len() > STANDARD_LIMIT, "{}", json.len());
        let value = encode(&json).unwrap();
        assert!(
            value.starts_with(GZIP) && value.len() <= STANDARD_LIMIT,
            "{}",
            value.len()
        );
        assert_eq!(decode(&value), json);
    }
}
