//! The bucket as the plan sees it: either what the trusted manifest records, or a
//! listing with the manifest vouching only for the objects it agrees with.

use std::collections::BTreeMap;

use super::manifest::{Manifest, ObjectRecord};
use super::remote::Listed;
use super::sorted::SortedLookup;

/// What the bucket holds, as far as the plan is concerned.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bucket<'a> {
    /// The manifest is trusted: the bucket holds what it records.
    Recorded,
    /// A listing of the bucket; the manifest vouches only where it agrees.
    Listed(&'a BTreeMap<String, Listed>),
}

/// One bucket object against the manifest: its size and ETag as the bucket has
/// them, and the manifest's record when it vouches for the object.
pub(crate) struct Remote<'a> {
    pub size: u64,
    pub etag: &'a str,
    pub vouched: Option<&'a ObjectRecord>,
}

impl<'a> Bucket<'a> {
    /// Whether the bucket holds `key`.
    pub(crate) fn holds(&self, manifest: &Manifest, key: &str) -> bool {
        match self {
            Bucket::Recorded => manifest.objects.contains_key(key),
            Bucket::Listed(listed) => listed.contains_key(key),
        }
    }

    /// The bucket's keys and sizes, in key order.
    pub(crate) fn objects(
        &self,
        manifest: &'a Manifest,
    ) -> Box<dyn Iterator<Item = (&'a String, u64)> + 'a> {
        match *self {
            Bucket::Recorded => Box::new(manifest.objects.iter().map(|(k, r)| (k, r.size))),
            Bucket::Listed(listed) => Box::new(listed.iter().map(|(k, l)| (k, l.size))),
        }
    }
}

/// Whether the manifest's record agrees with the listing: same ETag, or, from
/// S3-compatible servers whose listings carry no ETag, same size.
fn agrees(record: &ObjectRecord, listed: &Listed) -> bool {
    if listed.etag.is_empty() {
        record.size == listed.size
    } else {
        record.etag == listed.etag
    }
}

/// The record the manifest holds for `key`, if the listing agrees with it.
pub(crate) fn vouched<'a>(
    manifest: &'a Manifest,
    key: &str,
    listed: &Listed,
) -> Option<&'a ObjectRecord> {
    manifest.objects.get(key).filter(|r| agrees(r, listed))
}

/// Finds each local file's object in the bucket, for keys in key order.
pub(crate) struct Remotes<'a> {
    records: SortedLookup<'a, ObjectRecord>,
    listed: Option<SortedLookup<'a, Listed>>,
}

impl<'a> Remotes<'a> {
    pub(crate) fn new(bucket: Bucket<'a>, manifest: &'a Manifest) -> Self {
        Self {
            records: SortedLookup::new(&manifest.objects),
            listed: match bucket {
                Bucket::Recorded => None,
                Bucket::Listed(listed) => Some(SortedLookup::new(listed)),
            },
        }
    }

    pub(crate) fn get(&mut self, key: &str) -> Option<Remote<'a>> {
        match &mut self.listed {
            None => self.records.get(key).map(|r| Remote {
                size: r.size,
                etag: &r.etag,
                vouched: Some(r),
            }),
            Some(listed) => listed.get(key).map(|l| Remote {
                size: l.size,
                etag: &l.etag,
                vouched: self.records.get(key).filter(|r| agrees(r, l)),
            }),
        }
    }
}
