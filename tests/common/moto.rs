//! A private emulator (moto server) for tests that reset it or change its
//! clocks, so they cannot disturb tests that share the one scripts/test starts.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    pub fn start(acm_wait: u32) -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ACM_VALIDATION_WAIT", acm_wait.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server (run the tests with scripts/test, which installs it)");
        let moto = Moto { port, child };
        let start = Instant::now();
        while moto.post("/moto-api/reset", "").is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
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
