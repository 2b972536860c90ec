//! `colorid init`: a new project folder with a commented stack.toml (the
//! example stack with the user's values), a starter site with the client
//! library, and a .gitignore. It never overwrites a file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// The example stack, every field documented in place.
const EXAMPLE_STACK: &str = include_str!("../stack.toml");

/// The starter site: the example application, its client library, the CIDM
/// Wrapped layer, the favicon and the API's documentation page (the `link` of
/// every API error points there). `starter_site_references_only_its_own_files`
/// checks that every file a page or script references is in this list.
pub const SITE: [(&str, &[u8]); 11] = [
    ("index.html", include_bytes!("../site/index.html")),
    ("color.js", include_bytes!("../site/color.js")),
    ("colorid.js", include_bytes!("../site/colorid.js")),
    ("cidm-wrapped.js", include_bytes!("../site/cidm-wrapped.js")),
    ("callback.html", include_bytes!("../site/callback.html")),
    ("callback.js", include_bytes!("../site/callback.js")),
    ("style.css", include_bytes!("../site/style.css")),
    ("404.html", include_bytes!("../site/404.html")),
    ("color.png", include_bytes!("../site/color.png")),
    ("docs/index.html", include_bytes!("../site/docs/index.html")),
    ("docs/api.html", include_bytes!("../site/docs/api.html")),
];

const GITIGNORE: &str = "# Secrets supplied from files (`{ file = \"...\" }` in stack.toml) stay out of git.\n*.secret\n*.pem\n# Function packages built from source.\n*.zip\n";

/// The values a new stack is made with; `None` asks on a terminal, else takes the example's.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub hosted_zone: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// No domain: the site is served on the distribution's own *.cloudfront.net name.
    pub no_domain: bool,
    /// Also write a GitHub Actions workflow installing this release archive.
    pub ci: Option<CiArchive>,
}

/// The release archive a CI workflow installs colorid from.
#[derive(Debug, Clone, Default)]
pub struct CiArchive {
    pub url: String,
    pub sha256: String,
}

/// What `init` wrote and what it left alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InitReport {
    pub dir: PathBuf,
    pub written: Vec<String>,
    /// Files that existed already: never overwritten.
    pub kept: Vec<String>,
}

/// The example's value of a top-level or `[identity]` field.
fn example(field: &str) -> String {
    EXAMPLE_STACK
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field} = \"")))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_default()
        .to_string()
}

/// A stack name from a folder name: lowercase letters, digits and hyphens, at most 32.
fn name_from_dir(dir: &Path) -> Option<String> {
    let base = dir
        .canonicalize()
        .ok()?
        .file_name()?
        .to_string_lossy()
        .to_ascii_lowercase();
    let name: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').chars().take(32).collect::<String>();
    let name = name.trim_end_matches('-').to_string();
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_lowercase())).then_some(name)
}

/// Reads one answer from the terminal after `question`.
fn ask_line(question: &str) -> Result<String> {
    eprint!("{question}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("read the answer", e))?;
    Ok(line.trim().to_string())
}

/// A value of the new stack: `None` leaves the field out.
type Value = (&'static str, Option<String>);

/// Fills every unanswered value: asked on a terminal, else the documented example.
/// An empty answer to the domain question (or `no_domain`) leaves `domain` and
/// `hosted_zone` out.
fn complete(answers: &Answers, dir: &Path, ask: bool) -> Result<[Value; 5]> {
    let prompt = |field: &'static str, given: &Option<String>, default: String| -> Result<Value> {
        if let Some(v) = given {
            return Ok((field, Some(v.trim().to_string())));
        }
        if !ask {
            return Ok((field, Some(default)));
        }
        let line = ask_line(&format!("{field} [{default}]"))?;
        Ok((field, Some(if line.is_empty() { default } else { line })))
    };
    let name = prompt(
        "name",
        &answers.name,
        name_from_dir(dir).unwrap_or_else(|| example("name")),
    )?;
    let domain = match (&answers.domain, answers.no_domain) {
        (_, true) => None,
        (Some(d), false) => Some(d.trim().to_string()),
        (None, false) if !ask => Some(example("domain")),
        (None, false) => Some(ask_line(
            "domain, e.g. color.example.com (empty: none, the site is served on the distribution's *.cloudfront.net name)",
        )?)
        .filter(|d| !d.is_empty()),
    };
    let hosted_zone = match &domain {
        None => ("hosted_zone", None),
        // The zone is most often the domain's parent.
        Some(d) => prompt(
            "hosted_zone",
            &answers.hosted_zone,
            d.split_once('.')
                .filter(|_| ask)
                .map_or_else(|| example("hosted_zone"), |(_, parent)| parent.to_string()),
        )?,
    };
    Ok([
        name,
        ("domain", domain),
        hosted_zone,
        prompt("issuer", &answers.issuer, example("issuer"))?,
        prompt("client_id", &answers.client_id, example("client_id"))?,
    ])
}

/// The example stack with `values` in place of the example's; a `None` value
/// turns the example's line into a comment that says how to set it.
pub fn stack_text(values: &[Value]) -> String {
    let mut out = String::with_capacity(EXAMPLE_STACK.len());
    for line in EXAMPLE_STACK.lines() {
        let replaced = values.iter().find_map(|(field, value)| {
            line.starts_with(&format!("{field} = \"")).then(|| match value {
                Some(v) => format!("{field} = {}", toml::Value::String(v.clone())),
                None if *field == "domain" => format!(
                    "# No domain: the site is served on the distribution's own name. To serve it\n# on yours, uncomment and set `domain` and `hosted_zone`, then `colorid up`.\n# {line}"
                ),
                None => format!("# {line}"),
            })
        });
        out.push_str(replaced.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Writes `text` to `path` unless a file is there.
fn write_new(path: &Path, text: &[u8], report: &mut InitReport) -> Result<()> {
    let shown = path
        .strip_prefix(&report.dir)
        .unwrap_or(path)
        .display()
        .to_string();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(text)
                .map_err(|e| Error::io(format!("write {}", path.display()), e))?;
            report.written.push(shown);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => report.kept.push(shown),
        Err(e) => return Err(Error::io(format!("create {}", path.display()), e)),
    }
    Ok(())
}

/// Makes the project in `dir` (created if missing). Values not given are asked on a
/// terminal; with no terminal they are the documented example values.
pub fn init(dir: &Path, answers: &Answers) -> Result<InitReport> {
    std::fs::create_dir_all(dir.join("site"))
        .map_err(|e| Error::io(format!("create {}", dir.join("site").display()), e))?;
    let ask = std::io::stdin().is_terminal();
    let values = complete(answers, dir, ask)?;
    // Checked before anything is written.
    let workflow = match &answers.ci {
        Some(ci) => {
            let name = values[0].1.clone().unwrap_or_default();
            Some(crate::ci::Workflow::new(
                &name,
                &example("region"),
                &ci.url,
                &ci.sha256,
            )?)
        }
        None => None,
    };
    let mut report = InitReport {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    write_new(
        &dir.join("stack.toml"),
        stack_text(&values).as_bytes(),
        &mut report,
    )?;
    for (file, text) in SITE {
        let path = dir.join("site").join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("create {}", parent.display()), e))?;
        }
        write_new(&path, text, &mut report)?;
    }
    write_new(&dir.join(".gitignore"), GITIGNORE.as_bytes(), &mut report)?;
    if let Some(workflow) = workflow {
        let path = dir.join(crate::ci::GITHUB_WORKFLOW);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("create {}", parent.display()), e))?;
        }
        write_new(&path, workflow.text().as_bytes(), &mut report)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_values_are_found_and_replaced() {
        assert_eq!(example("domain"), "color.example.com");
        assert_eq!(example("hosted_zone"), "example.com");
        let text = stack_text(&[("domain", Some("shop.example.org".into()))]);
        assert!(text.contains("\ndomain = \"shop.example.org\"\n"), "{text}");
        assert!(!text.contains("domain = \"color.example.com\""));
        assert!(
            text.starts_with("# colorid stack file"),
            "comments are kept"
        );
    }

    #[test]
    fn no_domain_comments_out_domain_and_zone_and_says_how_to_add_them() {
        let text = stack_text(&[("domain", None), ("hosted_zone", None)]);
        assert!(!text.contains("\ndomain ="), "{text}");
        assert!(!text.contains("\nhosted_zone ="), "{text}");
        assert!(
            text.contains("\n# domain = \"color.example.com\"\n"),
            "{text}"
        );
        assert!(
            text.contains("\n# hosted_zone = \"example.com\"\n"),
            "{text}"
        );
        assert!(text.contains("uncomment and set `domain` and `hosted_zone`"));
    }
}
