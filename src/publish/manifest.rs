//! The manifest: publish's record of what it wrote (each object's ETag, the body's
//! MD5, size, file time and headers), and its stored forms: packed binary (version 3,
//! written), gzipped compact JSON (version 2) and JSON (version 1), both still read.

use std::collections::BTreeMap;
#[cfg(test)]
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

mod packed;
mod stored;

/// What publish knows about one published object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectRecord {
    pub etag: String,
    pub md5: String,
    /// Body length; vouches for the record where a listing carries no ETag.
    #[serde(default)]
    pub size: u64,
    /// The local file's modification time (ns since the epoch) when its MD5 was taken;
    /// 0 when unknown. Equal size and time let the next publish skip reading the file.
    #[serde(default)]
    pub mtime_ns: u64,
    /// Shared by every record of the same headers (a site has few distinct ones).
    pub content_type: Arc<str>,
    pub cache_control: Arc<str>,
}

/// The bucket's record of the last publish, written at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub version: u32,
    /// Counts publishes that changed something; part of each invalidation's caller reference.
    pub generation: u64,
    /// When the publish that wrote it started (ns since the epoch); records whose file
    /// time is not clearly older are read again. 0 in manifests from before times.
    #[serde(default)]
    pub started_ns: u64,
    pub objects: BTreeMap<String, ObjectRecord>,
    /// Paths whose invalidation failed last time, retried by the next publish.
    #[serde(default)]
    pub pending_invalidation: Vec<String>,
}

/// The manifest as earlier colorid stored it (version 2), gzipped: one JSON array
/// per object, and the few distinct header pairs once, by index; an MD5 equal to the
/// ETag is left out. Still read ([`stored`]); written here only for the tests that
/// show it is.
#[cfg(test)]
#[derive(Serialize)]
struct StoredManifest {
    version: u32,
    generation: u64,
    started_ns: u64,
    /// (Content-Type, Cache-Control) pairs.
    headers: Vec<(Arc<str>, Arc<str>)>,
    /// In key order.
    objects: Vec<StoredRecord>,
    pending_invalidation: Vec<String>,
}

/// key, ETag, MD5 ("" when equal to the ETag), size, file time, index in `headers`.
#[cfg(test)]
#[derive(Serialize)]
struct StoredRecord(String, String, String, u64, u64, usize);

const STORED_VERSION: u32 = 2;

#[cfg(test)]
impl StoredManifest {
    fn of(manifest: &Manifest) -> Self {
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        let mut headers = Vec::new();
        let objects = manifest
            .objects
            .iter()
            .map(|(key, r)| {
                let pair = (&*r.content_type, &*r.cache_control);
                let at = *index.entry(pair).or_insert_with(|| {
                    headers.push((r.content_type.clone(), r.cache_control.clone()));
                    headers.len() - 1
                });
                let md5 = if r.md5 == r.etag { "" } else { &r.md5 };
                StoredRecord(
                    key.clone(),
                    r.etag.clone(),
                    md5.to_string(),
                    r.size,
                    r.mtime_ns,
                    at,
                )
            })
            .collect();
        Self {
            version: STORED_VERSION,
            generation: manifest.generation,
            started_ns: manifest.started_ns,
            headers,
            objects,
            pending_invalidation: manifest.pending_invalidation.clone(),
        }
    }
}

/// The manifest's bytes as earlier colorid wrote them (version 2: gzipped JSON).
#[cfg(test)]
pub(crate) fn encode_manifest_v2(manifest: &Manifest) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(&StoredManifest::of(manifest))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&json)?;
    gz.finish()
}

/// The manifest's bytes, packed (version 3, see [`packed`]): at 50,000 files about
/// 1.9 MB, read back in a few milliseconds.
pub(crate) fn encode_manifest(manifest: &Manifest) -> Vec<u8> {
    packed::encode(manifest)
}

/// The manifest's bytes as a whole (see [`Incoming`]).
#[cfg(test)]
pub(crate) fn decode_manifest(bytes: &[u8]) -> std::io::Result<Manifest> {
    let mut incoming = Incoming::new(bytes.len());
    incoming.push(bytes)?;
    incoming.finish()
}

/// The stored manifest as it arrives: a packed one (version 3) is gathered and read
/// once the last chunk is in; a gzipped one (version 2) is inflated chunk by chunk,
/// while the rest of the body is still on its way, and its JSON read at the end.
pub(crate) struct Incoming {
    body: Form,
    /// The body's announced length, for the first allocation.
    expected: usize,
}

enum Form {
    /// Fewer than the two bytes that tell gzip from the rest so far.
    Unknown(Vec<u8>),
    Gzip(Box<flate2::write::GzDecoder<Vec<u8>>>),
    /// Packed, or JSON (version 1, or 2 not gzipped).
    Plain(Vec<u8>),
}

impl Incoming {
    /// For a body announced as `expected` bytes long (0 when unknown).
    pub(crate) fn new(expected: usize) -> Self {
        Self {
            body: Form::Unknown(Vec::new()),
            expected,
        }
    }

    /// Takes the next chunk of the body.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match &mut self.body {
            Form::Gzip(gz) => gz.write_all(chunk),
            Form::Plain(plain) => {
                plain.extend_from_slice(chunk);
                Ok(())
            }
            Form::Unknown(head) => {
                head.extend_from_slice(chunk);
                if head.len() < 2 {
                    return Ok(());
                }
                let head = std::mem::take(head);
                self.body = if head.starts_with(&[0x1f, 0x8b]) {
                    // Gzip at its fastest level inflates to about twice its size.
                    let plain = Vec::with_capacity(2 * head.len().max(self.expected));
                    let mut gz = flate2::write::GzDecoder::new(plain);
                    gz.write_all(&head)?;
                    Form::Gzip(Box::new(gz))
                } else {
                    let mut plain = head;
                    plain.reserve(self.expected);
                    Form::Plain(plain)
                };
                Ok(())
            }
        }
    }

    /// Reads the manifest from the whole body.
    pub(crate) fn finish(self) -> std::io::Result<Manifest> {
        let body = match self.body {
            Form::Unknown(head) | Form::Plain(head) => head,
            Form::Gzip(gz) => {
                let json = gz.finish()?;
                tracing::debug!(bytes = json.len(), "publish: manifest inflated");
                json
            }
        };
        if body.starts_with(packed::MAGIC) {
            return packed::decode(&body);
        }
        decode_json(&body)
    }
}

/// Version 2 as `encode_manifest` writes it (its `version` first), else version 1.
fn decode_json(json: &[u8]) -> std::io::Result<Manifest> {
    let stored = format!("{{\"version\":{STORED_VERSION},");
    if json.starts_with(stored.as_bytes()) {
        let mut de = serde_json::Deserializer::from_slice(json);
        let manifest = de.deserialize_map(stored::Reader)?;
        de.end()?;
        Ok(manifest)
    } else {
        Ok(serde_json::from_slice(json)?)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn manifest_round_trips_and_tolerates_missing_pending() {
        let json = r#"{"version":1,"generation":3,"objects":{"a.html":{"etag":"e","md5":"m","content_type":"text/html","cache_control":"no-cache"}}}"#;
        let manifest: Manifest = serde_json::from_str(json).unwrap();
        assert_eq!(manifest.generation, 3);
        assert!(manifest.pending_invalidation.is_empty());
        assert_eq!(
            decode_manifest(&encode_manifest(&manifest)).unwrap(),
            manifest
        );
        let v2 = encode_manifest_v2(&manifest).unwrap();
        assert_eq!(decode_manifest(&v2).unwrap(), manifest);
        assert_eq!(decode_manifest(json.as_bytes()).unwrap(), manifest);
    }

    #[test]
    fn version_2_shares_headers_and_leaves_out_md5s_equal_to_etags() {
        let record = |etag: &str, md5: &str, content_type: &str| ObjectRecord {
            etag: etag.into(),
            md5: md5.into(),
            size: 4,
            mtime_ns: 17,
            content_type: content_type.into(),
            cache_control: "no-cache".into(),
        };
        let manifest = Manifest {
            version: 1,
            generation: 9,
            started_ns: 5,
            objects: BTreeMap::from([
                ("a.html".into(), record("aa", "aa", "text/html")),
                ("b.html".into(), record("bb", "bb", "text/html")),
                ("big.mp4".into(), record("cc-2", "dd", "video/mp4")),
            ]),
            pending_invalidation: vec!["/a.html".into()],
        };
        let bytes = encode_manifest_v2(&manifest).unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut json)
            .unwrap();
        assert!(json.starts_with(r#"{"version":2,"#), "{json}");
        assert!(json.contains(r#"["a.html","aa","",4,17,0]"#), "{json}");
        assert!(json.contains(r#"["big.mp4","cc-2","dd",4,17,1]"#), "{json}");
        assert_eq!(json.matches("no-cache").count(), 2, "{json}");
        assert_eq!(decode_manifest(&bytes).unwrap(), manifest);
        // An index past the table is an unreadable manifest, not a panic.
        let broken = json.replace(r#"4,17,1]"#, r#"4,17,7]"#);
        let err = decode_manifest(broken.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("big.mp4: no headers at index 7"),
            "{err}"
        );
    }

    #[test]
    fn manifest_read_as_it_arrives_in_any_chunks() {
        let record = |etag: &str| ObjectRecord {
            etag: etag.into(),
            md5: etag.into(),
            size: 4,
            mtime_ns: 17,
            content_type: "text/html".into(),
            cache_control: "no-cache".into(),
        };
        let manifest = Manifest {
            version: 1,
            generation: 2,
            started_ns: 3,
            objects: (0..500)
                .map(|i| (format!("p/{i}.html"), record(&format!("{i:032x}"))))
                .collect(),
            pending_invalidation: Vec::new(),
        };
        let packed = encode_manifest(&manifest);
        let gz = encode_manifest_v2(&manifest).unwrap();
        let v1 = serde_json::to_vec(&manifest).unwrap();
        for bytes in [&packed, &gz, &v1] {
            for size in [1, 2, 3, 1000, bytes.len()] {
                let mut incoming = Incoming::new(bytes.len());
                for chunk in bytes.chunks(size) {
                    incoming.push(chunk).unwrap();
                }
                assert_eq!(incoming.finish().unwrap(), manifest, "chunks of {size}");
            }
        }
        // A body cut short is unreadable, not a smaller manifest.
        for bytes in [&packed, &gz] {
            let mut incoming = Incoming::new(bytes.len());
            incoming.push(&bytes[..bytes.len() - 9]).unwrap();
            assert!(incoming.finish().is_err());
        }
        assert!(decode_manifest(&[0x1f]).is_err());
    }

    #[test]
    fn version_2_refuses_short_records_missing_fields_and_a_late_table() {
        let ok = r#"{"version":2,"generation":1,"started_ns":2,"headers":[["text/html","no-cache"]],"objects":[["a","e","",1,2,0]],"pending_invalidation":[],"later":{"x":[1]}}"#;
        let manifest = decode_manifest(ok.as_bytes()).unwrap();
        assert_eq!(manifest.objects["a"].md5, "e");
        assert_eq!((manifest.generation, manifest.started_ns), (1, 2));
        for (from, to) in [
            (r#"["a","e","",1,2,0]"#, r#"["a","e","",1,2]"#),
            (r#"["a","e","",1,2,0]"#, r#"["a","e","",1,2,0,9]"#),
            (r#""generation":1,"#, ""),
            (r#","pending_invalidation":[]"#, ""),
        ] {
            let broken = ok.replace(from, to);
            assert!(decode_manifest(broken.as_bytes()).is_err(), "{broken}");
        }
        let late = r#"{"version":2,"generation":1,"started_ns":2,"objects":[],"headers":[],"pending_invalidation":[]}"#;
        let err = decode_manifest(late.as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("before their header table"),
            "{err}"
        );
    }
}
