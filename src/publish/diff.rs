//! Local files against the bucket: what to upload, re-header, delete or leave alone.

use std::collections::{BTreeMap, BTreeSet};

use super::headers::ObjectHeaders;
use super::remote::{Listed, Manifest, ObjectRecord};
use super::walk::LocalFile;

/// A file to upload or re-header.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub file: LocalFile,
    pub headers: ObjectHeaders,
    pub reason: &'static str,
    /// MD5 of the content it replaces, if any.
    pub old_md5: Option<String>,
}

/// A file already in the bucket as it should be.
#[derive(Debug, Clone)]
pub(crate) struct Unchanged {
    pub key: String,
    pub size: u64,
    pub record: ObjectRecord,
    /// False when only a HEAD (not the manifest) told us so: something outside
    /// publish may have changed it, so CloudFront may hold something else.
    pub vouched: bool,
}

/// What a publish will do.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub uploads: Vec<Change>,
    pub header_updates: Vec<Change>,
    pub deletes: Vec<(String, u64)>,
    pub unchanged: Vec<Unchanged>,
}

impl Plan {
    /// Whether carrying it out writes or deletes anything in the bucket.
    pub(crate) fn changes_bucket(&self) -> bool {
        !(self.uploads.is_empty() && self.header_updates.is_empty() && self.deletes.is_empty())
    }
}

/// The record the manifest holds for `key`, if the listing agrees with it: same ETag,
/// or, from S3-compatible servers whose listings carry no ETag, same size.
fn vouched<'a>(manifest: &'a Manifest, key: &str, listed: &Listed) -> Option<&'a ObjectRecord> {
    let agrees = |r: &&ObjectRecord| {
        if listed.etag.is_empty() {
            r.size == listed.size
        } else {
            r.etag == listed.etag
        }
    };
    manifest.objects.get(key).filter(agrees)
}

/// Keys present both locally and in the bucket that the manifest cannot vouch for.
pub(crate) fn keys_to_head(
    local: &[(LocalFile, ObjectHeaders)],
    listed: &BTreeMap<String, Listed>,
    manifest: &Manifest,
) -> Vec<String> {
    local
        .iter()
        .filter_map(|(file, _)| {
            let remote = listed.get(&file.key)?;
            vouched(manifest, &file.key, remote)
                .is_none()
                .then(|| file.key.clone())
        })
        .collect()
}

/// Compares local files with the listing, the manifest and any HEAD results.
/// `keep_remote` says which bucket keys without a local file must stay (hidden or ignored).
pub(crate) fn plan(
    local: Vec<(LocalFile, ObjectHeaders)>,
    listed: &BTreeMap<String, Listed>,
    manifest: &Manifest,
    headed: &BTreeMap<String, ObjectRecord>,
    force: bool,
    delete: bool,
    keep_remote: impl Fn(&str) -> bool,
) -> Plan {
    let mut plan = Plan::default();
    let local_keys: BTreeSet<String> = local.iter().map(|(f, _)| f.key.clone()).collect();
    for (file, headers) in local {
        let Some(remote) = listed.get(&file.key) else {
            plan.uploads.push(Change {
                file,
                headers,
                reason: "new",
                old_md5: None,
            });
            continue;
        };
        let (record, is_vouched) = match vouched(manifest, &file.key, remote) {
            Some(record) => (record, true),
            None => match headed.get(&file.key) {
                Some(record) => (record, false),
                None => {
                    let old_md5 = Some(remote.etag.clone());
                    plan.uploads.push(Change {
                        file,
                        headers,
                        reason: "not recorded",
                        old_md5,
                    });
                    continue;
                }
            },
        };
        let old_md5 = Some(record.md5.clone());
        let reason = if record.md5 != file.md5_hex() || remote.size != file.size {
            Some("content changed")
        } else if force {
            Some("forced")
        } else {
            None
        };
        if let Some(reason) = reason {
            plan.uploads.push(Change {
                file,
                headers,
                reason,
                old_md5,
            });
        } else if record.headers() != headers {
            let reason = if record.content_type != headers.content_type {
                "content type changed"
            } else {
                "cache control changed"
            };
            plan.header_updates.push(Change {
                file,
                headers,
                reason,
                old_md5,
            });
        } else {
            // The record takes the file's current time, so a touched file is read once.
            plan.unchanged.push(Unchanged {
                record: ObjectRecord {
                    mtime_ns: file.mtime_ns,
                    ..record.clone()
                },
                key: file.key,
                size: file.size,
                vouched: is_vouched,
            });
        }
    }
    if delete {
        plan.deletes = listed
            .iter()
            .filter(|(key, _)| !local_keys.contains(*key) && !keep_remote(key))
            .map(|(key, l)| (key.clone(), l.size))
            .collect();
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str, body: &str) -> (LocalFile, ObjectHeaders) {
        let headers = ObjectHeaders {
            content_type: "text/html".into(),
            cache_control: "no-cache".into(),
        };
        (LocalFile::generated(key, body.as_bytes()), headers)
    }

    fn record(f: &(LocalFile, ObjectHeaders), etag: &str) -> ObjectRecord {
        ObjectRecord {
            etag: etag.into(),
            md5: f.0.md5_hex(),
            size: f.0.size,
            mtime_ns: 0,
            content_type: f.1.content_type.clone(),
            cache_control: f.1.cache_control.clone(),
        }
    }

    #[test]
    fn classifies_every_kind_of_difference() {
        let same = file("same.html", "same");
        let multi = file("big.bin", "big");
        let changed = file("changed.html", "new body");
        let reheadered = file("rehead.html", "x");
        let fresh = file("fresh.html", "fresh");
        let unknown = file("unknown.html", "u");
        let mut manifest = Manifest::default();
        let mut listed = BTreeMap::new();
        for f in [&same, &reheadered] {
            listed.insert(
                f.0.key.clone(),
                Listed {
                    etag: f.0.md5_hex(),
                    size: f.0.size,
                },
            );
            manifest
                .objects
                .insert(f.0.key.clone(), record(f, &f.0.md5_hex()));
        }
        manifest
            .objects
            .get_mut("rehead.html")
            .unwrap()
            .cache_control = "max-age=60".into();
        listed.insert(
            "big.bin".into(),
            Listed {
                etag: "abc-2".into(),
                size: multi.0.size,
            },
        );
        manifest
            .objects
            .insert("big.bin".into(), record(&multi, "abc-2"));
        listed.insert(
            "changed.html".into(),
            Listed {
                etag: "0ld".into(),
                size: 3,
            },
        );
        manifest.objects.insert(
            "changed.html".into(),
            ObjectRecord {
                md5: "0ld".into(),
                ..record(&changed, "0ld")
            },
        );
        listed.insert(
            "unknown.html".into(),
            Listed {
                etag: unknown.0.md5_hex(),
                size: 1,
            },
        );
        let headed = BTreeMap::from([(
            "unknown.html".to_string(),
            record(&unknown, &unknown.0.md5_hex()),
        )]);
        listed.insert(
            "gone.html".into(),
            Listed {
                etag: "g".into(),
                size: 7,
            },
        );
        listed.insert(
            "drafts/keep.html".into(),
            Listed {
                etag: "k".into(),
                size: 1,
            },
        );

        let local = vec![same, multi, changed, reheadered, fresh, unknown];
        assert_eq!(keys_to_head(&local, &listed, &manifest), ["unknown.html"]);
        let plan = plan(local, &listed, &manifest, &headed, false, true, |k| {
            k.starts_with("drafts/")
        });
        let keys = |c: &[Change]| {
            c.iter()
                .map(|c| (c.file.key.clone(), c.reason))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys(&plan.uploads),
            [
                ("changed.html".into(), "content changed"),
                ("fresh.html".into(), "new")
            ]
        );
        assert_eq!(
            keys(&plan.header_updates),
            [("rehead.html".into(), "cache control changed")]
        );
        assert_eq!(plan.deletes, [("gone.html".to_string(), 7)]);
        let unchanged: Vec<(&str, bool)> = plan
            .unchanged
            .iter()
            .map(|u| (u.key.as_str(), u.vouched))
            .collect();
        assert_eq!(
            unchanged,
            [
                ("same.html", true),
                ("big.bin", true),
                ("unknown.html", false)
            ]
        );
    }

    #[test]
    fn force_reuploads_and_no_delete_keeps_remote_files() {
        let f = file("a.html", "a");
        let listed = BTreeMap::from([
            (
                "a.html".to_string(),
                Listed {
                    etag: f.0.md5_hex(),
                    size: 1,
                },
            ),
            (
                "b.html".to_string(),
                Listed {
                    etag: "b".into(),
                    size: 1,
                },
            ),
        ]);
        let manifest = Manifest {
            objects: BTreeMap::from([("a.html".to_string(), record(&f, &f.0.md5_hex()))]),
            ..Default::default()
        };
        let plan = plan(
            vec![f],
            &listed,
            &manifest,
            &BTreeMap::new(),
            true,
            false,
            |_| false,
        );
        assert_eq!(plan.uploads[0].reason, "forced");
        assert!(plan.deletes.is_empty() && plan.unchanged.is_empty());
    }

    #[test]
    fn listing_without_etags_falls_back_to_size() {
        let f = file("a.html", "abc");
        let manifest = Manifest {
            objects: BTreeMap::from([("a.html".to_string(), record(&f, &f.0.md5_hex()))]),
            ..Default::default()
        };
        let listed = |size| {
            BTreeMap::from([(
                "a.html".to_string(),
                Listed {
                    etag: String::new(),
                    size,
                },
            )])
        };
        assert!(keys_to_head(std::slice::from_ref(&f), &listed(3), &manifest).is_empty());
        assert_eq!(
            keys_to_head(std::slice::from_ref(&f), &listed(4), &manifest),
            ["a.html"]
        );
    }
}
