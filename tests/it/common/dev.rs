//! `colorid dev` for the tests: in-process with [`Options`] ([`start`]) or the
//! real binary on a [`TestStack`] ([`spawn`]), on a free loopback port,
//! stopped when the [`Dev`] is dropped; requests to it, and sign-ins on its
//! test identity provider (the code flow with PKCE, as colorid.js does it).

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use colorid::dev::server::{self, DevOptions};
use serde_json::Value;

use super::TestStack;

/// The PKCE verifier the tests sign in with.
pub const VERIFIER: &str = "a-verifier-that-is-at-least-forty-three-characters-long-0123";

/// A running `colorid dev`, stopped on drop (by its `stop`).
pub struct Dev {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub origin: String,
    /// A client that does not follow redirects.
    pub http: reqwest::Client,
    /// The folder holding the stack file and its `site` (in-process only).
    pub dir: Option<tempfile::TempDir>,
    stop: Stop,
}

enum Stop {
    Task(Option<tokio::sync::oneshot::Sender<()>>),
    Process(Child),
}

impl Drop for Stop {
    fn drop(&mut self) {
        match self {
            Stop::Task(tx) => {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
            Stop::Process(child) => {
                child.kill().ok();
                child.wait().ok();
            }
        }
    }
}

/// What an in-process `colorid dev` serves.
#[derive(Default)]
pub struct Options {
    /// The stack's name.
    pub name: &'static str,
    /// Lines after `[identity]`'s issuer and client id (more identity keys, then other tables).
    pub stack_lines: String,
    /// The repository's own site (else a site of `files` alone).
    pub repository_site: bool,
    /// Files written into the site, by path.
    pub files: Vec<(&'static str, &'static str)>,
    /// The function's required level (the stack file's is not read).
    pub required_level: Option<&'static str>,
    /// The claims the function takes as verified (the stack file's are not read).
    pub verified_claims: Vec<&'static str>,
    /// A real provider's issuer and client id; `None`: the built-in test provider.
    pub issuer: Option<(String, String)>,
}

/// The stack `name` in `dir/stack.toml`, its site in `dir/site`, with `lines` after the identity table's two keys.
pub fn stack(dir: &Path, name: &str, lines: &str) -> colorid::config::Stack {
    let text = format!(
        "name = \"{name}\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\nhosted_zone = \"example.com\"\nsite_dir = \"site\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\n{lines}\n"
    );
    colorid::config::parse(&dir.join("stack.toml"), &text).unwrap()
}

/// A copy of the repository's site in a new folder: the folder and the copy (`site` in it).
pub fn site_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("site"), &site);
    (dir, site)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `colorid dev` in this process, as `opts` says.
pub async fn start(opts: Options) -> Dev {
    let (dir, site) = if opts.repository_site {
        site_copy()
    } else {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(&site).unwrap();
        (dir, site)
    };
    for (path, text) in &opts.files {
        let path = site.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let stack_config = stack(dir.path(), opts.name, &opts.stack_lines);
    let dev = server::bind(DevOptions {
        stack: opts.name.into(),
        function: colorid_lambda::deployment::Plain {
            required_level: opts.required_level.map(String::from),
            verified_claims: opts.verified_claims.iter().map(|c| c.to_string()).collect(),
            ..colorid::stack::function_environment::plain_settings(&stack_config)
        },
        stack_config,
        site_dir: site,
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        issuer: opts.issuer,
        deployed: None,
    })
    .await
    .unwrap();
    let origin = dev.origin.clone();
    assert!(origin.starts_with("http://127.0.0.1:"), "{origin}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(dev.run(async {
        let _ = rx.await;
    }));
    Dev {
        origin,
        http: client(),
        dir: Some(dir),
        stop: Stop::Task(Some(tx)),
    }
}

/// The real binary: `colorid [--local] --stack <stack> dev --port 0 <args>`
/// against the emulator, once it has printed its URL.
pub fn spawn(stack: &TestStack, local: bool, args: &[&str]) -> Dev {
    let mut command = Command::new(env!("CARGO_BIN_EXE_colorid"));
    if local {
        command.arg("--local");
    }
    let mut child = command
        .arg("--stack")
        .arg(stack.file())
        .args(["dev", "--port", "0"])
        .args(args)
        .env("COLORID_LOCAL_ENDPOINT", super::endpoint())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read stdout to its end on a thread: a closed pipe would end the server
    // when it prints its next line.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.trim().strip_prefix("open:") {
                let _ = tx.send(u.trim().trim_end_matches('/').to_string());
            }
        }
    });
    let origin = rx.recv_timeout(std::time::Duration::from_secs(60));
    let stop = Stop::Process(child);
    let Ok(origin) = origin else {
        drop(stop);
        panic!("colorid dev printed no URL");
    };
    Dev {
        origin,
        http: client(),
        dir: None,
        stop,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// One answer, read whole.
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Got {
    async fn read(resp: reqwest::Response) -> Got {
        Got {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    /// The body as JSON; `Null` when empty.
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A header's value; empty when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Dev {
    /// `method path` with `token` as bearer and `body`.
    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Got {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.origin))
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Got::read(req.send().await.unwrap()).await
    }

    /// `GET path` with `token` as bearer.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Got {
        self.send("GET", path, token, "").await
    }

    /// `GET path`: the status and the body as text.
    pub async fn get_text(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let got = self.get(path, token).await;
        (got.status, got.body)
    }

    /// `GET path`: the status and the body as JSON (`Null` when empty).
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let got = self.get(path, token).await;
        (got.status, got.json())
    }

    /// `POST path` of a JSON `body`: the status and the answer as JSON (`Null` when empty).
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let got = Got::read(req.send().await.unwrap()).await;
        (got.status, got.json())
    }

    /// The test provider's authorization request for the callback page, with
    /// [`VERIFIER`]'s challenge; `extra` fields are added or replace these.
    pub fn authorize_form(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = [
            ("response_type", "code".to_string()),
            ("client_id", "colorid-dev".into()),
            ("redirect_uri", format!("{}/callback.html", self.origin)),
            (
                "code_challenge",
                colorid::dev::test_idp::challenge_of(VERIFIER),
            ),
            ("code_challenge_method", "S256".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            match form.iter_mut().find(|(name, _)| name == k) {
                Some(field) => field.1 = v.to_string(),
                None => form.push((k.to_string(), v.to_string())),
            }
        }
        form
    }

    /// Chooses `user` on the authorize page ([`Self::authorize_form`] with
    /// `extra`); the provider's answer, a redirect to the client when all is well.
    pub async fn authorize(&self, user: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form = self.authorize_form(extra);
        form.push(("user".into(), user.into()));
        self.http
            .post(format!("{}/idp/authorize", self.origin))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Exchanges `code` for tokens with `verifier`: the token endpoint's answer.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Got {
        let redirect = format!("{}/callback.html", self.origin);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("client_id", "colorid-dev"),
            ("code_verifier", verifier),
        ];
        let resp = self
            .http
            .post(format!("{}/idp/token", self.origin))
            .form(&form)
            .send()
            .await
            .unwrap();
        Got::read(resp).await
    }

    /// Signs `user` in with `extra` authorization fields: the token endpoint's answer.
    pub async fn sign_in(&self, user: &str, extra: &[(&str, &str)]) -> Got {
        let resp = self.authorize(user, extra).await;
        self.exchange(code_in(&location(&resp)), VERIFIER).await
    }

    /// Signs `user` in: the ID token.
    pub async fn token(&self, user: &str) -> String {
        let body = self.sign_in(user, &[]).await.json();
        body["id_token"].as_str().unwrap().to_string()
    }
}

/// Where a redirect sends the browser.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_string()
}

/// The authorization code in a redirect to the callback page.
pub fn code_in(location: &str) -> &str {
    location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
}
