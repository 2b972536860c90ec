//! Finding the site's files, and hashing only those that may have changed.
//!
//! The walk stats every file (one `stat` each, from the directory read). A file whose
//! size and modification time equal the manifest's record keeps the MD5 the manifest
//! holds and is not read. A file the bucket does not hold yet is not read here either:
//! the upload hashes it from the same read that sends it. Everything else is read and
//! hashed on all cores. `--force` hashes every file the bucket holds.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};

use super::diff::Bucket;
use super::error::PublishError;
use super::remote::Manifest;
use super::settings::KeyGlobs;
use super::site_path;
use super::sorted::SortedLookup;

/// A file modified this close to (or after) the start of the publish that recorded it
/// may have changed again within the same timestamp tick, so its record is not trusted
/// and it is read again: git's "racy clean" rule, with the manifest's `started_ns` in
/// the role of the index's time. File systems with sub-second times tick with the
/// kernel's coarse clock (a few ms); whole-second times may come from one that ticks
/// in 1-2 s (FAT, HFS+, some network shares).
const RACY_WINDOW_NS: u64 = 2_000_000_000;
const FINE_RACY_WINDOW_NS: u64 = 20_000_000;

/// True when a file time is clear of a publish that started at `started_ns`.
fn clear_of(mtime_ns: u64, started_ns: u64) -> bool {
    let window = if mtime_ns.is_multiple_of(1_000_000_000) {
        RACY_WINDOW_NS
    } else {
        FINE_RACY_WINDOW_NS
    };
    mtime_ns != 0 && mtime_ns.saturating_add(window) < started_ns
}

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

/// A site file as the walk finds it: its key, size and time, not read yet (its
/// bytes are `site_dir/key`; its MD5 is `None`).
pub(crate) type Walked = LocalFile;

/// True when any path component starts with `.` (e.g. `.git/`, `.DS_Store`).
pub(crate) fn is_hidden(key: &str) -> bool {
    key.split('/').any(|part| part.starts_with('.'))
}

/// Nanoseconds since the epoch; 0 before it or beyond `u64`.
pub(crate) fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0))
}

/// Lists the files under `site_dir` with size and modification time, sorted by key,
/// skipping hidden and ignored ones. Symbolic links to files inside `site_dir` are
/// followed; links to files outside it are skipped and listed apart (the second
/// list, sorted), so `~/.aws/credentials` never reaches the public site; links to
/// directories are not followed, so a link cycle cannot loop.
#[cfg(test)]
pub(crate) fn walk(
    site_dir: &Path,
    ignore: &KeyGlobs,
) -> Result<(Vec<Walked>, Vec<String>), PublishError> {
    let (found, outside) = walk_described(site_dir, ignore, &|_| ())?;
    Ok((found.into_iter().map(|(w, ())| w).collect(), outside))
}

/// Files found, and the keys of links that lead out of the site directory.
type WalkOutcome<T> = (Vec<(Walked, T)>, Vec<String>);

/// Directories still to read, and how many workers are reading one (and may add more).
struct Pending {
    dirs: Vec<(PathBuf, String)>,
    reading: usize,
    failed: Option<PublishError>,
}

/// The site's files as [`walk`] lists them, each with what `describe` says of its
/// key, on all cores: a stat per file is
/// most of a no-op publish's time, and directories are read in parallel.
fn walk_described<T: Send>(
    site_dir: &Path,
    ignore: &KeyGlobs,
    describe: &(dyn Fn(&str) -> T + Sync),
) -> Result<WalkOutcome<T>, PublishError> {
    let real_dir = std::fs::canonicalize(site_dir).map_err(|e| PublishError::ReadSite {
        path: site_dir.to_path_buf(),
        source: e,
    })?;
    let real_dir = real_dir.as_path();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let pending = Mutex::new(Pending {
        dirs: vec![(site_dir.to_path_buf(), String::new())],
        reading: 0,
        failed: None,
    });
    let changed = std::sync::Condvar::new();
    let worker = || -> WalkOutcome<T> {
        let mut found = Vec::new();
        let mut outside = Vec::new();
        loop {
            let (dir, prefix) = {
                let Ok(mut p) = pending.lock() else {
                    return (found, outside);
                };
                loop {
                    if p.failed.is_some() {
                        return (found, outside);
                    }
                    if let Some(next) = p.dirs.pop() {
                        p.reading += 1;
                        break next;
                    }
                    if p.reading == 0 {
                        return (found, outside);
                    }
                    p = match changed.wait(p) {
                        Ok(p) => p,
                        Err(_) => return (found, outside),
                    };
                }
            };
            let mut subdirs = Vec::new();
            let into = Into {
                found: &mut found,
                subdirs: &mut subdirs,
                outside: &mut outside,
            };
            let read = read_dir(&dir, &prefix, real_dir, ignore, describe, into);
            if let Ok(mut p) = pending.lock() {
                p.reading -= 1;
                p.dirs.append(&mut subdirs);
                if let Err(e) = read {
                    p.failed.get_or_insert(e);
                }
            }
            changed.notify_all();
        }
    };
    let (mut found, mut outside) = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(worker)).collect();
        let (mut found, mut outside) = worker();
        for h in handles {
            let (more, links) = h.join().unwrap_or_default();
            found.extend(more);
            outside.extend(links);
        }
        (found, outside)
    });
    let pending = pending
        .into_inner()
        .map_err(|_| PublishError::Internal("a walking thread panicked".into()))?;
    if let Some(e) = pending.failed {
        return Err(e);
    }
    found.sort_unstable_by(|a, b| a.0.key.cmp(&b.0.key));
    outside.sort_unstable();
    Ok((found, outside))
}

/// Where one directory's read puts what it finds.
struct Into<'a, T> {
    found: &'a mut Vec<(Walked, T)>,
    subdirs: &'a mut Vec<(PathBuf, String)>,
    outside: &'a mut Vec<String>,
}

/// Reads one directory: its files (described) into `found`, its subdirectories into
/// `subdirs`, each with its key prefix, and links to files out of `real_dir` into
/// `outside`.
fn read_dir<T>(
    dir: &Path,
    prefix: &str,
    real_dir: &Path,
    ignore: &KeyGlobs,
    describe: &(dyn Fn(&str) -> T + Sync),
    into: Into<'_, T>,
) -> Result<(), PublishError> {
    let Into {
        found,
        subdirs,
        outside,
    } = into;
    let read_err = |path: &Path, source| PublishError::ReadSite {
        path: path.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
        let entry = entry.map_err(|e| read_err(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(PublishError::NonUtf8Path { path: entry.path() });
        };
        if name.starts_with('.') {
            continue;
        }
        let mut key = String::with_capacity(prefix.len() + name.len() + 1);
        key.push_str(prefix);
        key.push_str(name);
        let file_type = entry.file_type().map_err(|e| read_err(&entry.path(), e))?;
        if file_type.is_dir() {
            key.push('/');
            subdirs.push((entry.path(), key));
            continue;
        }
        if ignore.is_match(&key) {
            continue;
        }
        let meta = if file_type.is_symlink() {
            match std::fs::metadata(entry.path()) {
                Ok(meta) if !site_path::resolves_inside(real_dir, &entry.path()) => {
                    if meta.is_file() {
                        outside.push(key);
                    }
                    continue;
                }
                Ok(meta) => meta,
                Err(_) => continue,
            }
        } else {
            entry.metadata().map_err(|e| read_err(&entry.path(), e))?
        };
        if !meta.is_file() {
            continue;
        }
        let described = describe(&key);
        let walked = LocalFile {
            key,
            source: Source::Site,
            size: meta.len(),
            mtime_ns: meta.modified().map_or(0, nanos),
            md5: None,
        };
        found.push((walked, described));
    }
    Ok(())
}

/// Walks the site off the async runtime (see [`walk_described`]) and gives each file what
/// `describe` says of its key (its headers), on the walking threads too.
pub(crate) async fn scan<T: Send + 'static>(
    site_dir: PathBuf,
    ignore: KeyGlobs,
    describe: impl Fn(&str) -> T + Send + Sync + 'static,
) -> Result<WalkOutcome<T>, PublishError> {
    tokio::task::spawn_blocking(move || walk_described(&site_dir, &ignore, &describe))
        .await
        .map_err(|e| PublishError::Internal(format!("walking task failed: {e}")))?
}

/// The site's files with what is known of their MD5s.
#[derive(Debug)]
pub(crate) struct Resolved<T> {
    /// In walk order, each with what the walk gave it.
    pub files: Vec<(LocalFile, T)>,
    /// How many were read to take their MD5.
    pub hashed: usize,
    /// Of those, how many only because their record was too recent to trust.
    pub racy: usize,
}

/// What the walk could not tell alone: the MD5 of each file, taken from the manifest
/// when size and time match its record and that time is clear of the publish that
/// wrote the manifest (unless `force`), left for the upload when the
/// bucket does not hold the key, and otherwise read and hashed on all cores.
///
/// `racy` counts files read only because their record was too close to the last
/// publish that are clear of this one (`started_ns`): their records do not change, yet
/// the manifest must be written again for the next publish to trust them.
pub(crate) async fn resolve<T: Send + 'static>(
    site_dir: &Path,
    mut files: Vec<(Walked, T)>,
    manifest: &Manifest,
    bucket: Bucket<'_>,
    force: bool,
    started_ns: u64,
) -> Result<Resolved<T>, PublishError> {
    let mut to_hash = Vec::new();
    let mut racy = 0;
    let mut records = SortedLookup::new(&manifest.objects);
    for (i, (file, _)) in files.iter_mut().enumerate() {
        let record = records.get(&file.key);
        let same = record.filter(|r| {
            !force && file.mtime_ns != 0 && r.mtime_ns == file.mtime_ns && r.size == file.size
        });
        file.md5 = same
            .filter(|_| clear_of(file.mtime_ns, manifest.started_ns))
            .and_then(|r| parse_md5(&r.md5));
        let held = match bucket {
            Bucket::Recorded => record.is_some(),
            Bucket::Listed(_) => bucket.holds(manifest, &file.key),
        };
        if file.md5.is_none() && held {
            to_hash.push(i);
            if same.is_some() && clear_of(file.mtime_ns, started_ns) {
                racy += 1;
            }
        }
    }
    let hashed = to_hash.len();
    if hashed == 0 {
        return Ok(Resolved {
            files,
            hashed,
            racy,
        });
    }
    let site_dir = site_dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let paths: Vec<PathBuf> = to_hash
            .iter()
            .map(|&i| site_dir.join(&files[i].0.key))
            .collect();
        let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let sums = hash_files(&paths)?;
        for (i, (size, md5)) in to_hash.into_iter().zip(sums) {
            let file = &mut files[i].0;
            // The size read wins over the stat: the file may have changed in between.
            if size != file.size {
                file.mtime_ns = 0;
            }
            file.size = size;
            file.md5 = Some(md5);
        }
        Ok(Resolved {
            files,
            hashed,
            racy,
        })
    })
    .await
    .map_err(|e| PublishError::Internal(format!("hashing task failed: {e}")))?
}

fn parse_md5(hex_md5: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex_md5, &mut out).ok()?;
    Some(out)
}

/// A file's size and MD5.
type Sum = (u64, [u8; 16]);

/// Hashes files in parallel; keeps the input order.
fn hash_files(paths: &[&Path]) -> Result<Vec<Sum>, PublishError> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(paths.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Sum, PublishError>>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else {
                        break;
                    };
                    let hashed = hash_file(path, &mut buf);
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(hashed);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| PublishError::Internal("a hashing thread panicked".into()))?;
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(PublishError::Internal("a file was not hashed".into()))))
        .collect()
}

/// Size and MD5 of one file, read in blocks of `buf`'s size.
pub(crate) fn hash_file(path: &Path, buf: &mut [u8]) -> Result<Sum, PublishError> {
    let read_err = |source| PublishError::ReadSite {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut hasher = Md5::new();
    let mut size = 0u64;
    loop {
        let n = file.read(buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::remote::{Listed, ObjectRecord};
    use std::collections::BTreeMap;

    fn plain(walked: &[Walked]) -> Vec<(Walked, ())> {
        walked.iter().cloned().map(|w| (w, ())).collect()
    }

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, body) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    #[test]
    fn walks_sorted_skipping_hidden_and_ignored_and_hashes_every_file() {
        let dir = site(&[
            ("index.html", "<h1>hi</h1>"),
            ("docs/index.html", "docs"),
            ("docs/a.js.map", "{}"),
            (".env", "SECRET=1"),
            (".git/config", "x"),
            ("docs/.DS_Store", "x"),
            ("empty.txt", ""),
        ]);
        let ignore = KeyGlobs::new(["*.map"]).unwrap();
        let (files, _) = walk(dir.path(), &ignore).unwrap();
        let keys: Vec<&str> = files.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["docs/index.html", "empty.txt", "index.html"]);
        assert!(files.iter().all(|w| w.mtime_ns > 0));
        assert_eq!(files[2].size, 11);

        let paths: Vec<PathBuf> = files.iter().map(|w| dir.path().join(&w.key)).collect();
        let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let hashed = hash_files(&paths).unwrap();
        assert_eq!(hex::encode(hashed[1].1), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hashed[2], (11, Md5::digest(b"<h1>hi</h1>").into()));
        assert!(is_hidden("a/.well-known/x") && !is_hidden("a/b.c"));
    }

    /// The manifest's MD5 is taken on size and time alone: a record with a made-up MD5
    /// proves the file was not read.
    #[tokio::test]
    async fn hashes_only_what_size_and_time_cannot_vouch_for() {
        let dir = site(&[
            ("same.html", "same"),
            ("touched.html", "t"),
            ("new.html", "n"),
        ]);
        let (walked, _) = walk(dir.path(), &KeyGlobs::default()).unwrap();
        let record = |w: &Walked, mtime_ns| ObjectRecord {
            etag: "e".into(),
            md5: "00112233445566778899aabbccddeeff".into(),
            size: w.size,
            mtime_ns,
            content_type: "text/html".into(),
            cache_control: "no-cache".into(),
        };
        let by_key = |k: &str| walked.iter().find(|w| w.key == k).unwrap();
        let (same, touched) = (by_key("same.html"), by_key("touched.html"));
        let mut manifest = Manifest {
            started_ns: nanos(SystemTime::now()) + RACY_WINDOW_NS,
            ..Manifest::default()
        };
        manifest
            .objects
            .insert("same.html".into(), record(same, same.mtime_ns));
        manifest
            .objects
            .insert("touched.html".into(), record(touched, touched.mtime_ns + 1));
        let listed: BTreeMap<String, Listed> = ["same.html", "touched.html"]
            .into_iter()
            .map(|k| {
                (
                    k.to_string(),
                    Listed {
                        etag: "e".into(),
                        size: 1,
                    },
                )
            })
            .collect();

        let now = nanos(SystemTime::now());
        let resolve_listed = |manifest: &Manifest, force, started_ns| {
            let (files, manifest) = (plain(&walked), manifest.clone());
            let (site_dir, listed) = (dir.path().to_path_buf(), listed.clone());
            async move {
                resolve(
                    &site_dir,
                    files,
                    &manifest,
                    Bucket::Listed(&listed),
                    force,
                    started_ns,
                )
                .await
                .unwrap()
            }
        };
        let Resolved { files, hashed, .. } = resolve_listed(&manifest, false, now).await;
        let md5 = |key: &str| {
            let f = files.iter().find(|(f, _)| f.key == key).unwrap();
            f.0.md5_hex()
        };
        assert_eq!(hashed, 1);
        assert_eq!(md5("same.html"), "00112233445566778899aabbccddeeff");
        assert_eq!(md5("touched.html"), hex::encode(Md5::digest(b"t")));
        assert_eq!(md5("new.html"), "", "new files are hashed while uploading");

        let Resolved { files, hashed, .. } = resolve_listed(&manifest, true, now).await;
        assert_eq!(hashed, 2);
        assert_eq!(files[1].0.md5_hex(), hex::encode(Md5::digest(b"same")));

        // A record made within the racy window of its publish is not trusted; once this
        // publish is clear of the file's time, the manifest must be rewritten.
        manifest.started_ns = same.mtime_ns + 1;
        let r = resolve_listed(&manifest, false, now).await;
        assert_eq!((r.hashed, r.racy), (2, 0), "this publish is racy too");
        let later = now + 2 * RACY_WINDOW_NS;
        let r = resolve_listed(&manifest, false, later).await;
        assert_eq!((r.hashed, r.racy), (2, 1));
    }

    /// Issue 25, item 5: a link to a file outside the site is skipped and named;
    /// a link inside it is published.
    #[cfg(unix)]
    #[test]
    fn links_out_of_the_site_are_skipped_and_named() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let site = root.path().join("site");
        std::fs::create_dir_all(site.join("docs")).unwrap();
        std::fs::write(site.join("index.html"), "i").unwrap();
        std::fs::write(root.path().join("credentials"), "secret").unwrap();
        symlink(root.path().join("credentials"), site.join("docs/creds.txt")).unwrap();
        symlink(site.join("index.html"), site.join("home.html")).unwrap();
        symlink("../index.html", site.join("docs/relative.html")).unwrap();
        symlink(root.path(), site.join("up")).unwrap();
        let (files, outside) = walk(&site, &KeyGlobs::default()).unwrap();
        let keys: Vec<&str> = files.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["docs/relative.html", "home.html", "index.html"]);
        assert_eq!(outside, ["docs/creds.txt"]);
    }

    #[test]
    fn missing_site_dir_names_the_path() {
        let err = walk(Path::new("/nonexistent/site"), &KeyGlobs::default()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/site"), "{err}");
    }
}
