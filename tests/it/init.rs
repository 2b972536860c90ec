//! `colorid init`: a new project that `colorid --local up` deploys as it is;
//! never overwrites a file. Also the completion scripts and the man page.

use crate::common;

use std::process::{Command, Stdio};

use common::{endpoint, unique};

fn colorid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_colorid"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run colorid")
}

fn ok(args: &[&str]) -> String {
    let out = colorid(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn without_a_terminal_init_writes_the_documented_example_and_keeps_what_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my-shop");
    let out = ok(&["init", dir.to_str().unwrap()]);
    assert!(out.contains("wrote stack.toml"), "{out}");
    let stack = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(
        stack.contains("\nname = \"my-shop\"\n"),
        "named after the folder:\n{stack}"
    );
    assert!(stack.contains("\ndomain = \"color.example.com\"\n"));
    assert!(stack.contains("\nhosted_zone = \"example.com\"\n"));
    assert!(stack.contains("# The stack's name."), "commented");
    for f in [
        "index.html",
        "colorid.js",
        "color.js",
        "callback.html",
        "style.css",
    ] {
        assert!(dir.join("site").join(f).is_file(), "site/{f}");
    }
    assert!(
        std::fs::read_to_string(dir.join(".gitignore"))
            .unwrap()
            .contains("*.secret")
    );

    std::fs::write(dir.join("site/index.html"), "<h1>mine</h1>").unwrap();
    std::fs::write(dir.join("stack.toml"), "# mine\n").unwrap();
    let out = ok(&[
        "init",
        dir.to_str().unwrap(),
        "--domain",
        "other.example.com",
    ]);
    assert!(out.contains("kept  stack.toml"), "{out}");
    assert!(out.contains("kept  site/index.html"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.join("site/index.html")).unwrap(),
        "<h1>mine</h1>"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("stack.toml")).unwrap(),
        "# mine\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_initialised_project_comes_up_on_the_emulator() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("proj");
    let name = unique("init");
    let zone = format!("{name}.example.com");
    let domain = format!("app.{zone}");
    ok(&[
        "init",
        dir.to_str().unwrap(),
        "--name",
        &name,
        "--domain",
        &domain,
        "--hosted-zone",
        &zone,
        "--issuer",
        common::issuer::shared(),
        "--client-id",
        "shop-client",
    ]);
    let stack = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(
        stack.contains(&format!("\ndomain = \"{domain}\"\n")),
        "{stack}"
    );
    assert!(stack.contains("\nclient_id = \"shop-client\"\n"), "{stack}");

    assert!(up_publish_and_down(&dir).await.ends_with(&domain));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_domain_init_writes_a_stack_that_comes_up_on_the_cloudfront_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nodomain");
    let name = unique("initnd");
    ok(&[
        "init",
        dir.to_str().unwrap(),
        "--name",
        &name,
        "--no-domain",
        // `up` reads the issuer's discovery document: a loopback one.
        "--issuer",
        common::issuer::shared(),
    ]);
    let stack = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(!stack.contains("\ndomain ="), "{stack}");
    assert!(!stack.contains("\nhosted_zone ="), "{stack}");
    assert!(
        stack.contains("# domain = \"color.example.com\""),
        "{stack}"
    );
    assert!(
        stack.contains("uncomment and set `domain` and `hosted_zone`"),
        "{stack}"
    );
    let site_url = up_publish_and_down(&dir).await;
    assert!(
        site_url.starts_with("https://") && site_url.ends_with(".cloudfront.net"),
        "{site_url}"
    );

    // --no-domain and --domain contradict each other.
    let out = colorid(&["init", "--no-domain", "--domain", "a.example.com"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `colorid --local up` in `dir` with a prebuilt function, the site published,
/// then `down`; returns the site URL `up` reported.
async fn up_publish_and_down(dir: &std::path::Path) -> String {
    // A prebuilt package: the emulator never runs the function.
    let zip_path = dir.with_extension("zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    w.start_file(
        "bootstrap",
        zip::write::SimpleFileOptions::default().unix_permissions(0o755),
    )
    .unwrap();
    std::io::Write::write_all(&mut w, b"#!/bin/sh\n").unwrap();
    w.finish().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .current_dir(dir)
        .args(["--local", "--output", "json", "up", "--function-zip"])
        .arg(&zip_path)
        .env("COLORID_LOCAL_ENDPOINT", endpoint())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    common::assert_success(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let site_url = report["site_url"].as_str().unwrap_or_default().to_string();
    let bucket = report["bucket"].as_str().unwrap();
    let keys = common::bucket_keys("eu-west-1", bucket).await;
    for k in ["index.html", "colorid.js", "config.json"] {
        assert!(keys.iter().any(|key| key == k), "{k} published: {keys:?}");
    }
    let down = Command::new(env!("CARGO_BIN_EXE_colorid"))
        .current_dir(dir)
        .args(["--local", "down", "--yes"])
        .env("COLORID_LOCAL_ENDPOINT", endpoint())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    site_url
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(&["completions", shell]);
        for command in ["plan", "up", "down", "logs", "init", "publish"] {
            assert!(script.contains(command), "{shell} completes {command}");
        }
    }
    assert!(ok(&["completions", "bash"]).contains("_colorid()"));
    let man = ok(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH colorid"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert!(man.contains("logs"), "the man page lists the commands");
    let err = colorid(&["completions", "tcsh"]);
    assert_eq!(err.status.code(), Some(2));
}

/// `colorid init DIR` on a terminal (a pty from util-linux's `script`), answering `answers`.
fn init_on_a_terminal(dir: &std::path::Path, answers: &str) -> String {
    let mut child = Command::new("script")
        .arg("-qec")
        .arg(format!(
            "{} init {}",
            env!("CARGO_BIN_EXE_colorid"),
            dir.display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("util-linux `script`");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), answers.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::read_to_string(dir.join("stack.toml")).unwrap()
}

#[test]
fn on_a_terminal_an_empty_domain_answer_leaves_the_domain_out() {
    let tmp = tempfile::tempdir().unwrap();
    // name, domain (empty), issuer, client id.
    let stack = init_on_a_terminal(&tmp.path().join("a"), "shop\n\n\nshop-client\n");
    assert!(stack.contains("\nname = \"shop\"\n"), "{stack}");
    assert!(!stack.contains("\ndomain ="), "{stack}");
    assert!(!stack.contains("\nhosted_zone ="), "{stack}");
    assert!(
        stack.contains("\n# domain = \"color.example.com\"\n"),
        "{stack}"
    );
    assert!(stack.contains("\nclient_id = \"shop-client\"\n"), "{stack}");

    // A domain answered: the zone's default is its parent.
    let stack = init_on_a_terminal(&tmp.path().join("b"), "shop\nshop.example.org\n\n\n\n");
    assert!(
        stack.contains("\ndomain = \"shop.example.org\"\n"),
        "{stack}"
    );
    assert!(
        stack.contains("\nhosted_zone = \"example.org\"\n"),
        "{stack}"
    );
}

/// The site paths a starter file names: quoted absolute paths with a file
/// extension (`href="/style.css"`, `import ... from '/colorid.js'`,
/// `'/callback.html'`), and `url(/...)` in CSS.
fn referenced_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['"', '\'', '('] {
        let close = if quote == '(' { ')' } else { quote };
        for (i, _) in text.match_indices(quote) {
            let rest = &text[i + 1..];
            let Some(end) = rest.find(close) else {
                continue;
            };
            let candidate = rest[..end].trim_matches(['"', '\'']);
            let path = candidate.split(['?', '#']).next().unwrap_or_default();
            let last = path.rsplit('/').next().unwrap_or_default();
            if path.starts_with('/')
                && !path.starts_with("//")
                && last.contains('.')
                && !path.contains([' ', '$', '{', '+'])
            {
                out.push(path.to_string());
            }
        }
    }
    out
}

#[test]
fn every_file_the_starter_site_references_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("refs");
    ok(&["init", dir.to_str().unwrap()]);
    let site = dir.join("site");
    // What colorid serves itself, not files of the site: the generated config and the function.
    let generated = |p: &str| p == "/config.json" || p.starts_with("/api/");
    let mut checked = Vec::new();
    let mut files = vec![site.clone()];
    while let Some(d) = files.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.push(path);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue; // the favicon
            };
            for r in referenced_paths(&text) {
                if generated(&r) {
                    continue;
                }
                let target = site.join(r.trim_start_matches('/'));
                assert!(
                    target.is_file(),
                    "{} references {r}, which `colorid init` did not write",
                    path.display()
                );
                checked.push(r);
            }
        }
    }
    // The function's error links, and cidm-wrapped.js's import of colorid.js (beside it).
    for r in [colorid_lambda::v1::shape::DOCS_PATH, "/colorid.js"] {
        assert!(site.join(r.trim_start_matches('/')).is_file(), "{r}");
        checked.push(r.to_string());
    }
    for needed in [
        "/color.png",
        "/style.css",
        "/colorid.js",
        "/color.js",
        "/callback.js",
        "/callback.html",
        "/docs/api.html",
    ] {
        assert!(
            checked.iter().any(|c| c == needed),
            "{needed} was found as a reference: {checked:?}"
        );
    }
    assert!(site.join("cidm-wrapped.js").is_file());
    let wrapped = std::fs::read_to_string(site.join("cidm-wrapped.js")).unwrap();
    assert!(wrapped.contains("new URL('colorid.js', here)"));
}
