//! Loopback endpoints that stand where AWS would: one that answers every
//! request with an AWS error, and one that must never be called.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpListener;

/// Answers every request with `status` and the awsJson error `code`/`message`,
/// as SSM (the first service colorid calls) does. Returns its endpoint.
pub fn aws_answering(status: u16, code: &'static str, message: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let answer = serde_json::json!({"__type": code, "message": message}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: 5e1a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    endpoint
}

/// A listener that accepts nothing: [`Untouched::assert_untouched`] fails if
/// anything connected to it (so "no AWS call was made" can fail).
pub struct Untouched {
    listener: TcpListener,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
}

impl Untouched {
    pub fn new() -> Untouched {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        Untouched { listener, endpoint }
    }

    /// Panics if a connection is waiting.
    pub fn assert_untouched(&self) {
        match self.listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("colorid contacted the endpoint: {other:?}"),
        }
    }
}
