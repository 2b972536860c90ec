//! Finding the site's files: one `stat` each (from the directory read), directories
//! read on all cores, hidden and ignored files skipped, links out of the site named.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::PublishError;
use super::local_file::{LocalFile, Source};
use super::settings::KeyGlobs;
use super::site_path;

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
pub(crate) type WalkOutcome<T> = (Vec<(Walked, T)>, Vec<String>);

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

/// Starts walking the site off the async runtime (see [`walk_described`]), giving each
/// file what `describe` says of its key (its headers), on the walking threads too.
pub(crate) fn start<T: Send + 'static>(
    site_dir: PathBuf,
    ignore: KeyGlobs,
    describe: impl Fn(&str) -> T + Send + Sync + 'static,
) -> tokio::task::JoinHandle<Result<WalkOutcome<T>, PublishError>> {
    tokio::task::spawn_blocking(move || walk_described(&site_dir, &ignore, &describe))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A site directory holding `files` (path, body).
    pub(crate) fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, body) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        dir
    }

    #[test]
    fn walks_sorted_skipping_hidden_and_ignored() {
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
        assert!(is_hidden("a/.well-known/x") && !is_hidden("a/b.c"));
    }

    /// Directories are read in parallel, in any order: the keys still come out in byte
    /// order wherever a directory's files and its subdirectories' files interleave
    /// (`b.html` < `b/…` < `b0.html`, `b-c` < `b/`).
    #[test]
    fn walks_in_key_order_where_directories_and_files_interleave() {
        let paths = [
            "b.html",
            "b/x.html",
            "b/y/z.html",
            "b/y.html",
            "b0.html",
            "b-c.html",
            "b-c/d.html",
            "ba/1.html",
            "a",
            "b/ya/q.html",
            "b/y-/q.html",
            "b/a b.html",
            "é/x.html",
            "e.html",
            "z/z/z/z.html",
            "Z.html",
        ];
        let dir = site(&paths.map(|p| (p, "x")));
        let (files, _) = walk(dir.path(), &KeyGlobs::default()).unwrap();
        let keys: Vec<&str> = files.iter().map(|w| w.key.as_str()).collect();
        let mut sorted = paths.to_vec();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
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
