//! The tests' one emulator launcher (moto server): the shared emulator every
//! test talks to, and private ones for tests that reset it or change its
//! clocks, so they cannot disturb the others.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long the emulator takes to issue a certificate, as scripts/moto sets it.
const ACM_WAIT_SECONDS: u32 = 2;

/// The emulator the tests share: the one scripts/test started
/// (`COLORID_TEST_ENDPOINT`), or, under a plain `cargo test`, one started for
/// this test process that stops when the process exits, however it exits.
pub fn shared() -> &'static str {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED.get_or_init(|| match std::env::var("COLORID_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => start_for_process(),
    })
}

/// Starts moto under a shell that kills it when the shell's stdin closes: that
/// pipe's writing end is leaked into this process, so it closes when we exit.
fn start_for_process() -> String {
    let port = free_port();
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid",
        moto_server().display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .env("MOTO_ACM_VALIDATION_WAIT", ACM_WAIT_SECONDS.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .expect("start moto_server (scripts/setup installs it into .venv)");
    std::mem::forget(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on port {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free loopback port")
        .local_addr()
        .expect("its address")
        .port()
}

/// A moto server on a free 127.0.0.1 port, stopped on drop.
pub struct Moto {
    pub port: u16,
    child: Child,
}

fn moto_server() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

impl Moto {
    /// Starts a server whose certificates are issued `acm_wait` seconds after their request.
    /// A server that exits at once (its free port taken meanwhile) is started again on
    /// another; a slow start on a loaded machine is waited for up to two minutes.
    pub fn start(acm_wait: u32) -> Moto {
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(moto_server())
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_ACM_VALIDATION_WAIT", acm_wait.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server (run the tests with scripts/test, which installs it)");
            let mut moto = Moto { port, child };
            let start = Instant::now();
            loop {
                if moto.post("/moto-api/reset", "").is_ok() {
                    return moto;
                }
                if moto.child.try_wait().ok().flatten().is_some() {
                    break; // exited: try another port
                }
                assert!(
                    start.elapsed() < Duration::from_secs(120),
                    "moto_server did not answer on 127.0.0.1:{port} within 120 s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("moto_server exited at start three times")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets every resource.
    pub fn reset(&self) {
        self.post("/moto-api/reset", "").expect("reset moto");
    }

    /// Sets how a model's status advances (see moto's state manager).
    pub fn set_transition(&self, model: &str, transition: serde_json::Value) {
        let body = serde_json::json!({"model_name": model, "transition": transition});
        self.post("/moto-api/state-manager/set-transition", &body.to_string())
            .expect("set transition");
    }

    pub fn unset_transition(&self, model: &str) {
        let body = serde_json::json!({"model_name": model});
        self.post(
            "/moto-api/state-manager/unset-transition",
            &body.to_string(),
        )
        .expect("unset transition");
    }

    fn post(&self, path: &str, body: &str) -> std::io::Result<()> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        if answer.starts_with("HTTP/1.1 2") || answer.starts_with("HTTP/1.0 2") {
            Ok(())
        } else {
            Err(std::io::Error::other(answer))
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
