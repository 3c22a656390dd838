//! A webhook receiver for the tests: an HTTP/1.1 server on loopback that records every
//! request and answers each `webhook-id` with a script of statuses.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A Standard Webhooks secret (32 bytes, base64).
pub const SECRET: &str = "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9mLTMyLWJ5dGVzIQ==";

/// `[webhook]` to the [`Hook`] on `port`, with [`SECRET`] in a file in `dir`.
pub fn webhook_config(dir: &Path, port: u16) -> String {
    let secret = dir.join("webhook.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    format!(
        "[webhook]\nurl = \"http://127.0.0.1:{port}/hooks/motesvakt\"\nsecret_file = {secret:?}\ntimeout = \"5s\"\n"
    )
}

/// One request the HTTP server received.
#[derive(Debug, Clone)]
pub struct Request {
    pub raw: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// An HTTP/1.1 server on loopback answering each webhook-id with `statuses` in turn (the
/// last one from then on). It stops when dropped, or by itself after five minutes.
pub struct Hook {
    pub port: u16,
    got: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Hook {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Hook {
    pub fn start(statuses: &'static [u16]) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let got: Arc<Mutex<Vec<Request>>> = Arc::default();
        let seen = got.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut per_id: HashMap<String, usize> = HashMap::new();
            while Instant::now() < deadline && !stopped.load(Ordering::SeqCst) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                conn.set_nonblocking(false).unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let Some(req) = read_request(&mut conn) else {
                    continue;
                };
                let id = req.headers.get("webhook-id").cloned().unwrap_or_default();
                let n = per_id.entry(id).or_default();
                let status = statuses[(*n).min(statuses.len() - 1)];
                *n += 1;
                seen.lock().unwrap().push(req);
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    )
                    .as_bytes(),
                );
            }
        });
        Hook { port, got, stop }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap().clone()
    }
}

fn read_request(conn: &mut std::net::TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8(raw[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    assert!(lines.next()?.starts_with("POST "), "{head}");
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let len: usize = headers.get("content-length")?.parse().ok()?;
    while raw.len() < head_end + len {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = raw[head_end..head_end + len].to_vec();
    Some(Request { raw, headers, body })
}
