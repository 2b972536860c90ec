//! `colorid init`: a new project folder with a commented stack.toml (the
//! example stack with the user's values), a starter site with the client
//! library, and a .gitignore. It never overwrites a file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// The example stack, every field documented in place.
const EXAMPLE_STACK: &str = include_str!("../stack.toml");

/// The starter site: the example application and its client library.
const SITE: [(&str, &str); 7] = [
    ("index.html", include_str!("../site/index.html")),
    ("color.js", include_str!("../site/color.js")),
    ("colorid.js", include_str!("../site/colorid.js")),
    ("callback.html", include_str!("../site/callback.html")),
    ("callback.js", include_str!("../site/callback.js")),
    ("style.css", include_str!("../site/style.css")),
    ("404.html", include_str!("../site/404.html")),
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

/// Fills every unanswered value: asked on a terminal, else the documented example.
fn complete(answers: &Answers, dir: &Path, ask: bool) -> Result<[(&'static str, String); 5]> {
    let prompt = |field: &'static str,
                  given: &Option<String>,
                  default: String|
     -> Result<(&'static str, String)> {
        if let Some(v) = given {
            return Ok((field, v.trim().to_string()));
        }
        if !ask {
            return Ok((field, default));
        }
        eprint!("{field} [{default}]: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::io("read the answer", e))?;
        let line = line.trim();
        Ok((
            field,
            if line.is_empty() {
                default
            } else {
                line.to_string()
            },
        ))
    };
    let name_default = name_from_dir(dir).unwrap_or_else(|| example("name"));
    Ok([
        prompt("name", &answers.name, name_default)?,
        prompt("domain", &answers.domain, example("domain"))?,
        prompt("hosted_zone", &answers.hosted_zone, example("hosted_zone"))?,
        prompt("issuer", &answers.issuer, example("issuer"))?,
        prompt("client_id", &answers.client_id, example("client_id"))?,
    ])
}

/// The example stack with `values` in place of the example's.
pub fn stack_text(values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(EXAMPLE_STACK.len());
    for line in EXAMPLE_STACK.lines() {
        let replaced = values.iter().find_map(|(field, value)| {
            line.starts_with(&format!("{field} = \""))
                .then(|| format!("{field} = {}", toml::Value::String(value.clone())))
        });
        out.push_str(replaced.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// Writes `text` to `path` unless a file is there.
fn write_new(path: &Path, text: &str, report: &mut InitReport) -> Result<()> {
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
            f.write_all(text.as_bytes())
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
    let mut report = InitReport {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    write_new(&dir.join("stack.toml"), &stack_text(&values), &mut report)?;
    for (file, text) in SITE {
        write_new(&dir.join("site").join(file), text, &mut report)?;
    }
    write_new(&dir.join(".gitignore"), GITIGNORE, &mut report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_values_are_found_and_replaced() {
        assert_eq!(example("domain"), "color.example.com");
        assert_eq!(example("hosted_zone"), "example.com");
        let text = stack_text(&[("domain", "shop.example.org".into())]);
        assert!(text.contains("\ndomain = \"shop.example.org\"\n"), "{text}");
        assert!(!text.contains("domain = \"color.example.com\""));
        assert!(
            text.starts_with("# colorid stack file"),
            "comments are kept"
        );
    }
}
