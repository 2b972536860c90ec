//! The edge's path resolution (`colorid dev`): a request path, percent-decoded,
//! resolved in a site directory that holds files, a dotfile, a link inside
//! and links out of it. Whatever the path, nothing outside the site, no
//! hidden file and nothing through a linked folder is ever found. The module
//! is the CLI's own file, included as it is (it needs only std).
#![no_main]

// `resolves_inside` serves the walk, not the edge.
#[allow(dead_code)]
#[path = "../../../src/publish/site_path.rs"]
mod site_path;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

struct Site {
    dir: PathBuf,
    real: PathBuf,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("colorid-fuzz-site-{}", std::process::id()));
        let dir = root.join("site");
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join("index.html"), "i").unwrap();
        std::fs::write(dir.join("docs/index.html"), "d").unwrap();
        std::fs::write(dir.join(".env"), "secret").unwrap();
        std::fs::write(dir.join(".git/config"), "secret").unwrap();
        std::fs::write(root.join("credentials"), "secret").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            let _ = symlink(root.join("credentials"), dir.join("creds.txt"));
            let _ = symlink(dir.join("index.html"), dir.join("home.html"));
            let _ = symlink(&root, dir.join("up"));
            let _ = symlink("/etc", dir.join("etc"));
        }
        let real = std::fs::canonicalize(&dir).unwrap();
        Site { dir, real }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(uri) = std::str::from_utf8(data) else { return };
    let s = site();
    let key = site_path::decode(uri.trim_start_matches('/'));
    if let Some(found) = site_path::resolve(&s.dir, &s.real, &key) {
        assert!(site_path::key_is_publishable(&key), "{key:?}");
        let real = std::fs::canonicalize(&found).unwrap();
        assert!(real.starts_with(&s.real), "{key:?} -> {real:?}");
        assert!(std::fs::read(&real).unwrap() != b"secret", "{key:?}");
        assert!(!key.split('/').any(|p| p.starts_with('.')), "{key:?}");
    }
});
