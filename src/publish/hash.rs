//! Which site files must be read, and reading them: a file whose size and modification
//! time equal the manifest's record keeps the MD5 the manifest holds and is not read.
//! A file the bucket does not hold yet is not read here either: the upload hashes it
//! from the same read that sends it. Everything else is read and hashed on all cores.
//! `--force` hashes every file the bucket holds.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use md5::{Digest, Md5};

use super::bucket_view::Bucket;
use super::error::PublishError;
use super::local_file::LocalFile;
use super::manifest::Manifest;
use super::md5_hex;
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
    mut files: Vec<(LocalFile, T)>,
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
            .and_then(|r| md5_hex::parse(&r.md5));
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

/// What one read of a file to upload gives: its size, the CRC32 of each part (the
/// last one may be short; a single part when the file goes whole), and its MD5 when
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartSums {
    pub size: u64,
    pub crc32s: Vec<u32>,
    pub md5: Option<[u8; 16]>,
}

/// Reads `path` once in 256 KiB blocks, summing each `part_size` bytes with CRC32 and,
/// with `with_md5`, the whole with MD5.
pub(crate) fn part_sums(
    path: &Path,
    part_size: u64,
    with_md5: bool,
) -> Result<PartSums, PublishError> {
    let read_err = |source| PublishError::ReadSite {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut md5 = with_md5.then(Md5::new);
    let mut crc = crc32fast::Hasher::new();
    let mut crc32s = Vec::new();
    let (mut size, mut in_part) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        if let Some(md5) = &mut md5 {
            md5.update(&buf[..n]);
        }
        let mut block = &buf[..n];
        while !block.is_empty() {
            let take = block
                .len()
                .min((part_size - in_part).try_into().unwrap_or(usize::MAX));
            crc.update(&block[..take]);
            in_part += take as u64;
            block = &block[take..];
            if in_part == part_size {
                crc32s.push(std::mem::take(&mut crc).finalize());
                in_part = 0;
            }
        }
        size += n as u64;
    }
    if in_part > 0 || crc32s.is_empty() {
        crc32s.push(crc.finalize());
    }
    Ok(PartSums {
        size,
        crc32s,
        md5: md5.map(|m| m.finalize().into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sums_split_at_part_boundaries_in_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let body: Vec<u8> = (0..600_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &body).unwrap();
        let sums = part_sums(&path, 250_000, true).unwrap();
        assert_eq!(sums.size, 600_000);
        let want: Vec<u32> = body.chunks(250_000).map(crc32fast::hash).collect();
        assert_eq!(sums.crc32s, want);
        assert_eq!(sums.md5, Some(Md5::digest(&body).into()));
        let whole = part_sums(&path, u64::MAX, false).unwrap();
        assert_eq!(
            (whole.crc32s, whole.md5),
            (vec![crc32fast::hash(&body)], None)
        );
        let exact = part_sums(&path, 300_000, false).unwrap();
        assert_eq!(exact.crc32s.len(), 2, "no empty part after an exact end");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(part_sums(&path, 10, false).unwrap().crc32s, vec![0]);
    }
    use crate::publish::manifest::ObjectRecord;
    use crate::publish::remote::Listed;
    use crate::publish::settings::KeyGlobs;
    use crate::publish::walk::tests::site;
    use crate::publish::walk::{Walked, nanos, walk};
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    fn plain(walked: &[Walked]) -> Vec<(Walked, ())> {
        walked.iter().cloned().map(|w| (w, ())).collect()
    }

    #[test]
    fn hashes_every_file_in_order() {
        let dir = site(&[("index.html", "<h1>hi</h1>"), ("empty.txt", "")]);
        let (files, _) = walk(dir.path(), &KeyGlobs::default()).unwrap();
        let paths: Vec<PathBuf> = files.iter().map(|w| dir.path().join(&w.key)).collect();
        let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let hashed = hash_files(&paths).unwrap();
        assert_eq!(hex::encode(hashed[0].1), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hashed[1], (11, Md5::digest(b"<h1>hi</h1>").into()));
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

        // This publish starts just after the files were written (from their own
        // times, not the clock: on a loaded machine the clock may already be past
        // the fine window when the test gets here).
        let now = same.mtime_ns.max(touched.mtime_ns) + 1;
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
}
