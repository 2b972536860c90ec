//! Which file of the site directory a key names, by the rules of the walk:
//! no hidden segment (`.env`, `.git/`), no `.`/`..`, no backslash, no link
//! to a directory on the way, and the real file under the site directory.
//! `colorid dev` serves a key only when this finds it, so the edge serves
//! exactly what `publish` would upload. Std only: the fuzz target
//! `site_path` (lambda/fuzz) includes this file as it is.

use std::path::{Path, PathBuf};

/// The S3 key of a request path: percent-decoded, as CloudFront's S3 origin reads it.
pub fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `key` is spelled as a walk key can be: non-empty segments joined by
/// `/`, none hidden (starting with `.`, which covers `.` and `..`), no
/// backslash (a separator on Windows) and no control character.
pub fn key_is_publishable(key: &str) -> bool {
    !key.is_empty()
        && !key.contains('\\')
        && !key.chars().any(char::is_control)
        && key
            .split('/')
            .all(|segment| !segment.is_empty() && !segment.starts_with('.'))
}

/// True when `path`, with every link resolved, lies under `real_dir` (the
/// site directory, canonicalised). A path that cannot be resolved is not.
pub fn resolves_inside(real_dir: &Path, path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|real| real.starts_with(real_dir))
}

/// The file the walk would publish under `key`, as a path under `dir`
/// (`real_dir` is `dir` canonicalised); `None` when the walk would not.
pub fn resolve(dir: &Path, real_dir: &Path, key: &str) -> Option<PathBuf> {
    if !key_is_publishable(key) {
        return None;
    }
    let mut path = dir.to_path_buf();
    let mut segments = key.split('/').peekable();
    while let Some(segment) = segments.next() {
        path.push(segment);
        // The walk does not follow links to directories: each folder on the way is a real one.
        if segments.peek().is_some() && !std::fs::symlink_metadata(&path).ok()?.is_dir() {
            return None;
        }
    }
    let real = std::fs::canonicalize(&path).ok()?;
    (real.starts_with(real_dir) && std::fs::metadata(&real).ok()?.is_file()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_the_walk_could_not_produce_are_refused() {
        for good in ["index.html", "docs/a b.html", "a/b/c.js", "x..y"] {
            assert!(key_is_publishable(good), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "a/",
            ".env",
            "docs/.git/config",
            "..",
            "a/../../b",
            "./a",
            "a\\..\\b",
            "a\u{0}b",
            "a\tb",
        ] {
            assert!(!key_is_publishable(bad), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_files_under_the_site_directory_resolve() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let site = root.path().join("site");
        std::fs::create_dir_all(site.join("docs")).unwrap();
        std::fs::write(site.join("index.html"), "i").unwrap();
        std::fs::write(site.join("docs/a.html"), "a").unwrap();
        std::fs::write(root.path().join("credentials"), "secret").unwrap();
        symlink(site.join("index.html"), site.join("inside.html")).unwrap();
        symlink(root.path().join("credentials"), site.join("creds.txt")).unwrap();
        symlink(site.join("docs"), site.join("linked")).unwrap();
        let real = std::fs::canonicalize(&site).unwrap();
        let found = |key: &str| resolve(&site, &real, key).is_some();
        assert!(found("index.html"));
        assert!(found("docs/a.html"));
        assert!(found("inside.html"), "a link inside the site is published");
        assert!(!found("creds.txt"), "a link out of the site is not");
        assert!(
            !found("linked/a.html"),
            "the walk does not enter linked folders"
        );
        assert!(!found("docs"), "a folder is not a file");
        assert!(!found("missing.html"));
        assert!(resolves_inside(&real, &site.join("inside.html")));
        assert!(!resolves_inside(&real, &site.join("creds.txt")));
    }
}
