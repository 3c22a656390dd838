//! Webhook bodies saved with their HTTP request: a receiver or a proxy that logs whole requests
//! (`POST /hook HTTP/1.1`, headers, a blank line, the JSON body), one after another.
//!
//! [`HttpHeads`] blanks each request line and its headers (every byte but line ends becomes a
//! space), so the JSON readers see only the bodies, and every record keeps its line and byte
//! offset in the file. Header values (a signature, a token, an address) are never read.

use std::io::{self, BufRead, Read};

/// A line longer than this is not taken for a request line.
const MAX_REQUEST_LINE: usize = 8 * 1024;

/// True when `line` (without its end) is an HTTP/1.x or HTTP/2 request line:
/// `METHOD TARGET HTTP/VERSION`.
fn is_request_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let method_end = line.iter().position(|&b| b == b' ').unwrap_or(0);
    let method = &line[..method_end];
    ["POST", "PUT", "PATCH", "GET"]
        .iter()
        .any(|m| method == m.as_bytes())
        && line[method_end..].windows(6).any(|w| w == b" HTTP/")
}

/// True when `head` starts with an HTTP request line (after blank lines).
pub fn starts_with_request(head: &[u8]) -> bool {
    let head = head.trim_ascii_start();
    let end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    end <= MAX_REQUEST_LINE && is_request_line(&head[..end])
}

/// `head` with its request heads blanked, for recognising the format of the bodies.
pub fn blank_heads(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    let _ = HttpHeads::new(head).read_to_end(&mut out);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line that may be a request line.
    LineStart,
    /// Inside a line of a body.
    Body,
    /// Inside a request head; whether the current line has anything but `\r`.
    Head { text: bool },
}

/// Reads `inner`, blanking HTTP request heads (see the module).
pub struct HttpHeads<R> {
    inner: R,
    buf: Vec<u8>,
    /// Handed out up to here.
    start: usize,
    /// Processed (blanked where needed) up to here.
    ready: usize,
    state: State,
    eof: bool,
}

impl<R: Read> HttpHeads<R> {
    pub fn new(inner: R) -> HttpHeads<R> {
        HttpHeads {
            inner,
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            ready: 0,
            state: State::LineStart,
            eof: false,
        }
    }

    /// Reads more into `buf` (after dropping what was handed out); false at the end.
    fn more(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.ready -= self.start;
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + 64 * 1024, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Processes what is buffered past `ready`, as far as it can be decided (all of it, unless
    /// a line start needs more to be told apart), reading more when nothing is ready.
    fn process(&mut self) -> io::Result<()> {
        loop {
            if self.ready == self.buf.len() && (self.ready > self.start || !self.more()?) {
                return Ok(());
            }
            let rest = &self.buf[self.ready..];
            match self.state {
                State::Body => match memchr::memchr(b'\n', rest) {
                    Some(i) => {
                        self.ready += i + 1;
                        self.state = State::LineStart;
                    }
                    None => self.ready = self.buf.len(),
                },
                State::LineStart => {
                    let line_end = memchr::memchr(b'\n', rest);
                    if line_end.is_none() && rest.len() < MAX_REQUEST_LINE && !self.eof {
                        // Not enough to decide: hand out what is ready, or read more first.
                        if self.ready > self.start {
                            return Ok(());
                        }
                        self.more()?;
                        continue;
                    }
                    let rest = &self.buf[self.ready..];
                    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    self.state = if end <= MAX_REQUEST_LINE && is_request_line(&rest[..end]) {
                        State::Head { text: false }
                    } else {
                        State::Body
                    };
                    continue;
                }
                State::Head { mut text } => {
                    let mut i = self.ready;
                    let mut ended = false;
                    while i < self.buf.len() {
                        match self.buf[i] {
                            b'\n' => {
                                i += 1;
                                if !text {
                                    ended = true;
                                    break;
                                }
                                text = false;
                            }
                            b'\r' => i += 1,
                            _ => {
                                self.buf[i] = b' ';
                                text = true;
                                i += 1;
                            }
                        }
                    }
                    self.ready = i;
                    self.state = if ended {
                        State::LineStart
                    } else {
                        State::Head { text }
                    };
                }
            }
        }
    }
}

impl<R: Read> Read for HttpHeads<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for HttpHeads<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.ready {
            self.process()?;
        }
        Ok(&self.buf[self.start..self.ready])
    }

    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.ready);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "POST /zoom/hook HTTP/1.1\r\nHost: hooks.region.se\r\nContent-Type: application/json\r\nx-zm-signature: v0=secret\r\n\r\n{\"event\":\"meeting.started\",\"payload\":{}}\r\n";

    fn blanked(data: &[u8], cap: usize) -> Vec<u8> {
        let mut out = Vec::new();
        HttpHeads::new(io::BufReader::with_capacity(cap, data))
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn heads_are_blanked_and_bodies_kept_in_place_at_every_read_size() {
        let data = format!("{DUMP}\nPUT /again HTTP/2\nA: b\n\n{{\"x\":1}}\nno head here\n");
        for cap in [1, 2, 5, 17, 4096] {
            let out = blanked(data.as_bytes(), cap);
            assert_eq!(out.len(), data.len(), "capacity {cap}");
            let text = String::from_utf8(out).unwrap();
            // Line ends stay; nothing of the heads does.
            assert_eq!(text.lines().count(), data.lines().count());
            assert!(!text.contains("secret") && !text.contains("POST") && !text.contains("A: b"));
            assert!(text.contains("{\"event\":\"meeting.started\",\"payload\":{}}"));
            assert!(text.contains("{\"x\":1}") && text.contains("no head here"));
            assert_eq!(text.trim_start().chars().next(), Some('{'));
        }
        assert!(starts_with_request(DUMP.as_bytes()));
        assert!(!starts_with_request(b"{\"POST /x HTTP/1.1\":1}\n"));
        assert!(!starts_with_request(b"POSTAL /x\n"));
        assert_eq!(blank_heads(DUMP.as_bytes()).len(), DUMP.len());
    }

    #[test]
    fn a_head_cut_short_at_the_end_is_blanked_too() {
        let out = blanked(b"POST /x HTTP/1.1\r\nHost: a", 3);
        assert!(out.iter().all(|&b| b == b' ' || b == b'\r' || b == b'\n'));
    }
}
