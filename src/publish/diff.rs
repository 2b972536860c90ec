//! Local files against the bucket: what to upload, re-header, delete or leave alone.

use std::collections::BTreeMap;

use super::bucket_view::{Bucket, Remotes, vouched};
use super::headers::ObjectHeaders;
use super::local_file::LocalFile;
use super::manifest::{Manifest, ObjectRecord};
use super::md5_hex;

/// A file to upload or re-header.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub file: LocalFile,
    pub headers: ObjectHeaders,
    pub reason: &'static str,
    /// MD5 of the content it replaces, if any.
    pub old_md5: Option<String>,
}

impl Change {
    /// What the bucket holds once the change wrote `size` bytes with `md5` under
    /// `etag`. The file's time is kept only if the size read is the size the walk
    /// saw (otherwise it changed meanwhile).
    pub(crate) fn written(&self, etag: String, size: u64, md5: [u8; 16]) -> ObjectRecord {
        let file = &self.file;
        let unchanged_since_walk = size == file.size && file.md5.is_none_or(|m| m == md5);
        ObjectRecord {
            etag,
            md5: hex::encode(md5),
            size,
            mtime_ns: if unchanged_since_walk {
                file.mtime_ns
            } else {
                0
            },
            content_type: self.headers.content_type.clone(),
            cache_control: self.headers.cache_control.clone(),
        }
    }
}

/// A file already in the bucket as it should be.
#[derive(Debug, Clone)]
pub(crate) struct Unchanged {
    pub key: String,
    pub size: u64,
    /// The file's modification time, which the next manifest records.
    pub mtime_ns: u64,
    /// What a HEAD told of it; `None` when the manifest's record vouches for it
    /// (which is then read from the manifest rather than copied). Something outside
    /// publish may have changed an object only a HEAD vouches for, so CloudFront may
    /// hold another version: it is invalidated too. Boxed: a site of 50,000 files has
    /// as many unchanged entries, and almost none was headed.
    pub headed: Option<Box<ObjectRecord>>,
}

impl Unchanged {
    /// Its record for the next manifest: the HEAD's or the manifest's, with the
    /// file's current time, so a touched file is read once.
    pub(crate) fn record(&self, manifest: &Manifest) -> Option<ObjectRecord> {
        let record = self
            .headed
            .as_deref()
            .or_else(|| manifest.objects.get(&self.key))?;
        Some(ObjectRecord {
            mtime_ns: self.mtime_ns,
            ..record.clone()
        })
    }
}

/// What a publish will do.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub uploads: Vec<Change>,
    pub header_updates: Vec<Change>,
    pub deletes: Vec<(String, u64)>,
    /// In key order.
    pub unchanged: Vec<Unchanged>,
}

impl Plan {
    /// Whether carrying it out writes or deletes anything in the bucket.
    pub(crate) fn changes_bucket(&self) -> bool {
        !(self.uploads.is_empty() && self.header_updates.is_empty() && self.deletes.is_empty())
    }

    /// True when the manifest already records exactly what the plan leaves in the
    /// bucket: nothing to change, every object vouched for by its record, and every
    /// file's time as recorded. The next manifest would then equal this one.
    pub(crate) fn leaves_manifest_as_is(&self, manifest: &Manifest) -> bool {
        !self.changes_bucket()
            && manifest.pending_invalidation.is_empty()
            && self.unchanged.len() == manifest.objects.len()
            && self
                .unchanged
                .iter()
                .zip(&manifest.objects)
                .all(|(u, (key, record))| {
                    u.headed.is_none() && u.key == *key && u.mtime_ns == record.mtime_ns
                })
    }
}

/// Keys present both locally and in the bucket that the manifest cannot vouch for.
pub(crate) fn keys_to_head(
    local: &[(LocalFile, ObjectHeaders)],
    bucket: Bucket<'_>,
    manifest: &Manifest,
) -> Vec<String> {
    let Bucket::Listed(listed) = bucket else {
        return Vec::new();
    };
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

/// Compares local files with the bucket, the manifest and any HEAD
/// results. `keep_remote` says which bucket keys without a local file must stay
/// (hidden or ignored).
pub(crate) fn plan(
    local: Vec<(LocalFile, ObjectHeaders)>,
    bucket: Bucket<'_>,
    manifest: &Manifest,
    headed: &BTreeMap<String, ObjectRecord>,
    force: bool,
    delete: bool,
    keep_remote: impl Fn(&str) -> bool,
) -> Plan {
    let mut plan = Plan::default();
    if delete {
        // Sorted already when `local` is (then in linear time).
        let mut local_keys: Vec<&str> = local.iter().map(|(f, _)| f.key.as_str()).collect();
        local_keys.sort_unstable();
        let mut local_keys = local_keys.into_iter().peekable();
        for (key, size) in bucket.objects(manifest) {
            while local_keys.next_if(|k| *k < key.as_str()).is_some() {}
            if local_keys.peek() != Some(&key.as_str()) && !keep_remote(key) {
                plan.deletes.push((key.clone(), size));
            }
        }
    }
    let mut remotes = Remotes::new(bucket, manifest);
    for (file, headers) in local {
        let Some(remote) = remotes.get(&file.key) else {
            plan.uploads.push(Change {
                file,
                headers,
                reason: "new",
                old_md5: None,
            });
            continue;
        };
        let (record, from_head) = match remote.vouched {
            Some(record) => (record, false),
            None => match headed.get(&file.key) {
                Some(record) => (record, true),
                None => {
                    let old_md5 = Some(remote.etag.to_string());
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
        let same_body = file
            .md5
            .is_some_and(|md5| md5_hex::spells(&md5, &record.md5) && remote.size == file.size);
        let reason = if !same_body {
            Some("content changed")
        } else if force {
            Some("forced")
        } else if record.content_type != headers.content_type {
            Some("content type changed")
        } else if record.cache_control != headers.cache_control {
            Some("cache control changed")
        } else {
            None
        };
        match reason {
            Some(reason @ ("content changed" | "forced")) => plan.uploads.push(Change {
                file,
                headers,
                reason,
                old_md5: Some(record.md5.clone()),
            }),
            Some(reason) => plan.header_updates.push(Change {
                file,
                headers,
                reason,
                old_md5: Some(record.md5.clone()),
            }),
            None => plan.unchanged.push(Unchanged {
                key: file.key,
                size: file.size,
                mtime_ns: file.mtime_ns,
                headed: from_head.then(|| Box::new(record.clone())),
            }),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::remote::Listed;

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

    /// A manifest recording one object, as `a.html`.
    fn manifest_of(record: ObjectRecord) -> Manifest {
        Manifest {
            objects: BTreeMap::from([("a.html".to_string(), record)]),
            ..Default::default()
        }
    }

    /// A file of 3 bytes the plan left alone.
    fn unchanged(key: &str, mtime_ns: u64, headed: Option<ObjectRecord>) -> Unchanged {
        Unchanged {
            key: key.into(),
            size: 3,
            mtime_ns,
            headed: headed.map(Box::new),
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
        assert_eq!(
            keys_to_head(&local, Bucket::Listed(&listed), &manifest),
            ["unknown.html"]
        );
        let plan = plan(
            local,
            Bucket::Listed(&listed),
            &manifest,
            &headed,
            false,
            true,
            |k| k.starts_with("drafts/"),
        );
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
            .map(|u| (u.key.as_str(), u.headed.is_none()))
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
        let manifest = manifest_of(record(&f, &f.0.md5_hex()));
        let plan = plan(
            vec![f],
            Bucket::Listed(&listed),
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
        let manifest = manifest_of(record(&f, &f.0.md5_hex()));
        let listed = |size| {
            BTreeMap::from([(
                "a.html".to_string(),
                Listed {
                    etag: String::new(),
                    size,
                },
            )])
        };
        assert!(
            keys_to_head(
                std::slice::from_ref(&f),
                Bucket::Listed(&listed(3)),
                &manifest
            )
            .is_empty()
        );
        assert_eq!(
            keys_to_head(
                std::slice::from_ref(&f),
                Bucket::Listed(&listed(4)),
                &manifest
            ),
            ["a.html"]
        );
    }

    /// The record of a written file keeps the walk's time only when the bytes
    /// written are the bytes the walk saw (same size and, when hashed, same MD5);
    /// otherwise the time is 0 so the next publish reads the file again.
    #[test]
    fn a_written_record_keeps_the_time_only_for_the_bytes_the_walk_saw() {
        let (mut local, headers) = file("a.html", "abc");
        local.mtime_ns = 42;
        let md5 = local.md5.unwrap();
        let change = |local: &LocalFile| Change {
            file: local.clone(),
            headers: headers.clone(),
            reason: "changed",
            old_md5: None,
        };
        let written = change(&local).written("etag".into(), 3, md5);
        assert_eq!((written.mtime_ns, written.size), (42, 3));
        assert_eq!(written.md5, hex::encode(md5));
        assert_eq!(written.etag, "etag");
        // Grew meanwhile (another size read), or changed at the same size.
        assert_eq!(change(&local).written("e".into(), 4, md5).mtime_ns, 0);
        assert_eq!(change(&local).written("e".into(), 3, [0; 16]).mtime_ns, 0);
        // Not hashed before the upload: the size decides.
        local.md5 = None;
        assert_eq!(change(&local).written("e".into(), 3, md5).mtime_ns, 42);
        assert_eq!(change(&local).written("e".into(), 2, md5).mtime_ns, 0);
    }

    /// An unchanged file's next record: the HEAD's when one vouched for it, else
    /// the manifest's, each with the file's current time; none without either.
    #[test]
    fn an_unchanged_record_comes_from_the_head_or_the_manifest_with_the_new_time() {
        let f = file("a.html", "abc");
        let manifest = manifest_of(record(&f, "from-manifest"));
        let vouched = unchanged("a.html", 7, None).record(&manifest).unwrap();
        assert_eq!(
            (vouched.etag.as_str(), vouched.mtime_ns),
            ("from-manifest", 7)
        );
        let headed = unchanged("a.html", 7, Some(record(&f, "from-head")))
            .record(&manifest)
            .unwrap();
        assert_eq!((headed.etag.as_str(), headed.mtime_ns), ("from-head", 7));
        assert!(unchanged("b.html", 7, None).record(&manifest).is_none());
    }

    /// A plan changes the bucket when it uploads, re-headers or deletes anything;
    /// it leaves the manifest as is only when, besides, every file is vouched for
    /// by its record with the recorded time and no invalidation is pending.
    #[test]
    fn what_a_plan_changes() {
        let f = file("a.html", "abc");
        let manifest = manifest_of(record(&f, "e"));
        let as_is = || Plan {
            unchanged: vec![unchanged("a.html", 0, None)],
            ..Default::default()
        };
        assert!(!as_is().changes_bucket());
        assert!(as_is().leaves_manifest_as_is(&manifest));
        let change = Change {
            file: f.0.clone(),
            headers: f.1.clone(),
            reason: "new",
            old_md5: None,
        };
        let changed = [
            Plan {
                uploads: vec![change.clone()],
                ..as_is()
            },
            Plan {
                header_updates: vec![change],
                ..as_is()
            },
            Plan {
                deletes: vec![("b.html".into(), 1)],
                ..as_is()
            },
        ];
        for plan in &changed {
            assert!(plan.changes_bucket(), "{plan:?}");
            assert!(!plan.leaves_manifest_as_is(&manifest), "{plan:?}");
        }
        let rewrites = [
            Plan {
                unchanged: vec![unchanged("a.html", 5, None)],
                ..Default::default()
            },
            Plan {
                unchanged: vec![unchanged("a.html", 0, Some(record(&f, "e")))],
                ..Default::default()
            },
            Plan {
                unchanged: vec![unchanged("b.html", 0, None)],
                ..Default::default()
            },
            Plan::default(),
        ];
        for plan in &rewrites {
            assert!(!plan.changes_bucket(), "{plan:?}");
            assert!(!plan.leaves_manifest_as_is(&manifest), "{plan:?}");
        }
        let pending = Manifest {
            pending_invalidation: vec!["/a.html".into()],
            ..manifest.clone()
        };
        assert!(!as_is().leaves_manifest_as_is(&pending));
    }

    /// A body counts as the same only when both its MD5 and its size match what
    /// the bucket holds: another body of the same size, or the same MD5 recorded
    /// for another size, is uploaded again.
    #[test]
    fn the_same_body_needs_the_same_md5_and_size() {
        let local = file("a.html", "abcd");
        let other = file("a.html", "wxyz");
        let case = |record: ObjectRecord| {
            let listed = BTreeMap::from([(
                "a.html".to_string(),
                Listed {
                    etag: record.etag.clone(),
                    size: record.size,
                },
            )]);
            let manifest = manifest_of(record);
            let plan = plan(
                vec![local.clone()],
                Bucket::Listed(&listed),
                &manifest,
                &BTreeMap::new(),
                false,
                true,
                |_| false,
            );
            (plan.uploads.len(), plan.unchanged.len())
        };
        assert_eq!(case(record(&local, "e")), (0, 1));
        assert_eq!(case(record(&other, "e")), (1, 0), "another body, same size");
        let resized = ObjectRecord {
            size: 5,
            ..record(&local, "e")
        };
        assert_eq!(case(resized), (1, 0), "the same MD5 for another size");
    }
}
