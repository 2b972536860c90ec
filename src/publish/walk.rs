//! Finding the site's files and hashing them in parallel.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use md5::{Digest, Md5};

use super::error::PublishError;
use super::settings::KeyGlobs;

/// Where an object's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    File(PathBuf),
    Generated(Vec<u8>),
}

/// A file to publish, with its key, size and MD5.
#[derive(Debug, Clone)]
pub(crate) struct LocalFile {
    pub key: String,
    pub source: Source,
    pub size: u64,
    pub md5: [u8; 16],
}

impl LocalFile {
    pub(crate) fn md5_hex(&self) -> String {
        hex::encode(self.md5)
    }

    /// A file made by the CLI: it is never read from or written to the site directory.
    pub(crate) fn generated(key: &str, body: &[u8]) -> Self {
        Self {
            key: key.to_string(),
            size: body.len() as u64,
            md5: Md5::digest(body).into(),
            source: Source::Generated(body.to_vec()),
        }
    }
}

/// True when any path component starts with `.` (e.g. `.git/`, `.DS_Store`).
pub(crate) fn is_hidden(key: &str) -> bool {
    key.split('/').any(|part| part.starts_with('.'))
}

/// Lists the files under `site_dir` as (key, path), sorted by key, skipping hidden
/// and ignored ones. Symbolic links to files are followed; links to directories are
/// not, so a link cycle cannot loop.
pub(crate) fn walk(
    site_dir: &Path,
    ignore: &KeyGlobs,
) -> Result<Vec<(String, PathBuf)>, PublishError> {
    let read_err = |path: &Path, source| PublishError::ReadSite {
        path: path.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    let mut dirs = vec![(site_dir.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| read_err(&dir, e))? {
            let entry = entry.map_err(|e| read_err(&dir, e))?;
            let path = entry.path();
            let name = entry
                .file_name()
                .into_string()
                .map_err(|_| PublishError::NonUtf8Path { path: path.clone() })?;
            if name.starts_with('.') {
                continue;
            }
            let key = format!("{prefix}{name}");
            let file_type = entry.file_type().map_err(|e| read_err(&path, e))?;
            let is_file = file_type.is_file()
                || (file_type.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
            if file_type.is_dir() {
                dirs.push((path, format!("{key}/")));
            } else if is_file && !ignore.is_match(&key) {
                found.push((key, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Walks the site and hashes every file on all cores, off the async runtime.
pub(crate) async fn scan(
    site_dir: PathBuf,
    ignore: KeyGlobs,
) -> Result<Vec<LocalFile>, PublishError> {
    tokio::task::spawn_blocking(move || hash_files(walk(&site_dir, &ignore)?))
        .await
        .map_err(|e| PublishError::Internal(format!("hashing task failed: {e}")))?
}

/// Hashes files in parallel; keeps the input order.
fn hash_files(files: Vec<(String, PathBuf)>) -> Result<Vec<LocalFile>, PublishError> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<LocalFile, PublishError>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((key, path)) = files.get(i) else {
                        break;
                    };
                    let hashed = hash_file(path, &mut buf).map(|(size, md5)| LocalFile {
                        key: key.clone(),
                        source: Source::File(path.clone()),
                        size,
                        md5,
                    });
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

fn hash_file(path: &Path, buf: &mut [u8]) -> Result<(u64, [u8; 16]), PublishError> {
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

    #[test]
    fn walks_sorted_skipping_hidden_and_ignored_and_hashes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, body) in [
            ("index.html", "<h1>hi</h1>"),
            ("docs/index.html", "docs"),
            ("docs/a.js.map", "{}"),
            (".env", "SECRET=1"),
            (".git/config", "x"),
            ("docs/.DS_Store", "x"),
            ("empty.txt", ""),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        let ignore = KeyGlobs::new(["*.map"]).unwrap();
        let files = walk(root, &ignore).unwrap();
        let keys: Vec<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["docs/index.html", "empty.txt", "index.html"]);

        let hashed = hash_files(files).unwrap();
        assert_eq!(hashed[1].md5_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hashed[2].md5_hex(),
            hex::encode(Md5::digest(b"<h1>hi</h1>"))
        );
        assert_eq!(hashed[2].size, 11);
        assert!(is_hidden("a/.well-known/x") && !is_hidden("a/b.c"));
    }

    #[test]
    fn missing_site_dir_names_the_path() {
        let err = walk(Path::new("/nonexistent/site"), &KeyGlobs::default()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/site"), "{err}");
    }
}
