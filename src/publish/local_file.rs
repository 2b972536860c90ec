//! A file to publish as the rest of publish sees it: its key, where its bytes come
//! from, its size and time, and its MD5 once known. The walk makes them, hashing
//! fills in MD5s, the plan compares them and the upload sends them.

use md5::{Digest, Md5};

/// Where an object's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The site file of its key (`site_dir/key`), read only when it must be.
    Site,
    Generated(Vec<u8>),
}

/// A file to publish, with its key, size, modification time and MD5.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    pub key: String,
    pub source: Source,
    pub size: u64,
    /// Nanoseconds since the epoch; 0 when unknown.
    pub mtime_ns: u64,
    /// `None` until read: files the bucket does not hold are hashed while uploading.
    pub md5: Option<[u8; 16]>,
}

impl LocalFile {
    /// The hex MD5, empty while unknown (which compares unequal to every record).
    pub(crate) fn md5_hex(&self) -> String {
        self.md5.map(hex::encode).unwrap_or_default()
    }

    /// A file made by the CLI: it is never read from or written to the site directory.
    pub(crate) fn generated(key: &str, body: &[u8]) -> Self {
        Self {
            key: key.to_string(),
            size: body.len() as u64,
            mtime_ns: 0,
            md5: Some(Md5::digest(body).into()),
            source: Source::Generated(body.to_vec()),
        }
    }
}
