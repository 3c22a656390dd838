//! Incidents to a SIEM: every change of an incident (new, raised, lowered, withdrawn) as one
//! JSON object per line appended to a file, and/or as an RFC 5424 syslog message over TCP
//! (octet-counting framing, RFC 6587) or UDP (one datagram per message, RFC 5426).
//!
//! The file is created 0600, each line written whole and synced before the event counts as
//! delivered, and it is safe to rotate: it is opened again when the path no longer names the
//! file written to (renamed or removed), and at a reload (SIGHUP).

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::Channel;
use super::smtp::Failure;
use crate::incident::Severity;

/// `[siem]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSiem {
    pub file: Option<PathBuf>,
    pub syslog: Option<String>,
    pub facility: Option<String>,
    pub min_severity: Option<String>,
    pub timeout: Option<String>,
}

/// Where syslog messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    Tcp { host: String, port: u16 },
    Udp { host: String, port: u16 },
}

/// `[siem]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SiemSettings {
    pub file: Option<PathBuf>,
    pub syslog: Option<SyslogTarget>,
    /// The syslog facility's number (default 10, authpriv).
    pub facility: u8,
    /// Changes of incidents below this (before and after the change) are not sent.
    pub min_severity: Severity,
    pub timeout: Duration,
}

/// The syslog facilities by name (RFC 5424 §6.2.1), with their numbers.
const FACILITIES: &[(&str, u8)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

fn syslog_target(s: &str) -> Option<SyslogTarget> {
    let (scheme, rest) = s.trim().split_once("://")?;
    let (host, port) = rest.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let host = host.to_string();
    match scheme {
        "tcp" => Some(SyslogTarget::Tcp { host, port }),
        "udp" => Some(SyslogTarget::Udp { host, port }),
        _ => None,
    }
}

impl SiemSettings {
    pub fn from_raw<E>(
        raw: Option<RawSiem>,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<Option<SiemSettings>, E> {
        let Some(r) = raw else {
            return Ok(None);
        };
        if r.file.is_none() && r.syslog.is_none() {
            return Err(invalid(
                "siem",
                "give file = \"PATH\" or syslog = \"tcp://host:port\" (or both)".into(),
            ));
        }
        let syslog = match &r.syslog {
            None => None,
            Some(s) => Some(syslog_target(s).ok_or_else(|| {
                invalid(
                    "siem.syslog",
                    "expected \"tcp://host:port\" or \"udp://host:port\"".into(),
                )
            })?),
        };
        let facility = match &r.facility {
            None => 10,
            Some(f) => FACILITIES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(f.trim()))
                .map(|(_, n)| *n)
                .ok_or_else(|| {
                    invalid(
                        "siem.facility",
                        "expected a syslog facility: authpriv, auth, daemon, local0 … local7"
                            .into(),
                    )
                })?,
        };
        let min_severity = super::severity_setting(
            "siem.min_severity",
            &r.min_severity,
            Severity::Info,
            invalid,
        )?;
        let timeout =
            super::duration_setting("siem.timeout", &r.timeout, Duration::from_secs(10), invalid)?;
        if timeout.is_zero() {
            return Err(invalid("siem.timeout", "must be more than 0s".into()));
        }
        Ok(Some(SiemSettings {
            file: r.file,
            syslog,
            facility,
            min_severity,
            timeout,
        }))
    }

    /// The outbox channels this writes to.
    pub fn channels(&self) -> Vec<Channel> {
        let mut out = Vec::new();
        if self.file.is_some() {
            out.push(Channel::SiemFile);
        }
        if self.syslog.is_some() {
            out.push(Channel::Syslog);
        }
        out
    }
}

/// The syslog severity of an incident change: critical 2 (crit), high 3 (err), medium 4
/// (warning), low 5 (notice), info 6 (informational); a withdrawal is 5 (notice).
pub fn syslog_severity(severity: Severity, change: &str) -> u8 {
    if change == "withdrawn" {
        return 5;
    }
    match severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// An SD-PARAM value (RFC 5424 §6.3.3): `"`, `\` and `]` escaped with `\`; control
/// characters, which a SIEM's parser may take for the end of the message, become spaces.
pub fn sd_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A header field (HOSTNAME, APP-NAME, MSGID): printable US-ASCII without spaces, at most
/// `max` characters; `-` when nothing is left.
fn header_field(s: &str, max: usize) -> String {
    let v: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if v.is_empty() { "-".into() } else { v }
}

/// This machine's name for the HOSTNAME field.
pub fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    header_field(name.trim(), 255)
}

/// One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME motesvakt PROCID MSGID [SD] BOM MSG`.
/// `sd` are the structured data's (name, value) pairs, under the SD-ID `motesvakt@32473`
/// (32473: the private enterprise number RFC 5612 sets aside for examples and documentation).
pub fn syslog_message(
    facility: u8,
    severity: u8,
    time: jiff::Timestamp,
    hostname: &str,
    msgid: &str,
    sd: &[(&str, String)],
    msg: &str,
) -> Vec<u8> {
    let pri = u16::from(facility) * 8 + u16::from(severity);
    let micros = time.subsec_microsecond();
    let time = jiff::Timestamp::from_second(time.as_second()).unwrap_or(time);
    let mut out = format!(
        "<{pri}>1 {}.{micros:06}Z {} motesvakt {} {} [motesvakt@32473",
        time.strftime("%Y-%m-%dT%H:%M:%S"),
        header_field(hostname, 255),
        std::process::id(),
        header_field(msgid, 32),
    );
    for (name, value) in sd {
        out.push_str(&format!(" {name}=\"{}\"", sd_value(value)));
    }
    out.push_str("] \u{feff}");
    out.push_str(&msg.replace(['\r', '\n'], " "));
    out.into_bytes()
}

/// The JSON-lines file, opened again when it was rotated.
#[derive(Debug)]
pub struct JsonLines {
    path: PathBuf,
    open: Option<(std::fs::File, u64, u64)>,
}

impl JsonLines {
    pub fn new(path: &Path) -> JsonLines {
        JsonLines {
            path: path.to_path_buf(),
            open: None,
        }
    }

    /// Appends `line` and a newline, synced to disk.
    pub fn append(&mut self, line: &[u8]) -> std::io::Result<()> {
        let same = match (&self.open, std::fs::metadata(&self.path)) {
            (Some((_, dev, ino)), Ok(m)) => m.dev() == *dev && m.ino() == *ino,
            _ => false,
        };
        if !same {
            self.open = None;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)?;
            let m = file.metadata()?;
            self.open = Some((file, m.dev(), m.ino()));
        }
        let Some((file, _, _)) = &mut self.open else {
            unreachable!("opened above")
        };
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line);
        buf.push(b'\n');
        let r = file.write_all(&buf).and_then(|_| file.sync_data());
        if r.is_err() {
            self.open = None;
        }
        r
    }
}

/// The syslog sender: one TCP connection per delivery round, or a UDP socket.
#[derive(Debug)]
pub struct Syslog {
    target: SyslogTarget,
    timeout: Duration,
    tcp: Option<tokio::net::TcpStream>,
}

impl Syslog {
    pub fn new(target: SyslogTarget, timeout: Duration) -> Syslog {
        Syslog {
            target,
            timeout,
            tcp: None,
        }
    }

    /// Closes the TCP connection (at the end of a round).
    pub fn close(&mut self) {
        self.tcp = None;
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &[u8]) -> Result<(), Failure> {
        let timeout = self.timeout;
        let r = tokio::time::timeout(timeout, self.send_inner(msg)).await;
        let r = match r {
            Ok(r) => r,
            Err(_) => Err(format!("no progress within {} s", timeout.as_secs_f64())),
        };
        r.map_err(|message| {
            self.tcp = None;
            Failure {
                message: crate::report::shown(&format!("syslog: {message}")),
                permanent: false,
            }
        })
    }

    async fn send_inner(&mut self, msg: &[u8]) -> Result<(), String> {
        match &self.target {
            SyslogTarget::Udp { host, port } => {
                let addr = tokio::net::lookup_host((host.as_str(), *port))
                    .await
                    .map_err(|e| format!("cannot resolve the server: {e}"))?
                    .next()
                    .ok_or("cannot resolve the server")?;
                let local = if addr.is_ipv4() {
                    "0.0.0.0:0"
                } else {
                    "[::]:0"
                };
                let socket = tokio::net::UdpSocket::bind(local)
                    .await
                    .map_err(|e| format!("UDP: {e}"))?;
                socket
                    .send_to(msg, addr)
                    .await
                    .map_err(|e| format!("UDP: {e}"))?;
                Ok(())
            }
            SyslogTarget::Tcp { host, port } => {
                // A connection the server closed since the last message is opened again
                // rather than written into.
                if let Some(c) = &self.tcp {
                    let mut b = [0u8; 1];
                    match c.try_read(&mut b) {
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        _ => self.tcp = None,
                    }
                }
                if self.tcp.is_none() {
                    let c = tokio::net::TcpStream::connect((host.as_str(), *port))
                        .await
                        .map_err(|e| format!("cannot connect: {e}"))?;
                    let _ = c.set_nodelay(true);
                    self.tcp = Some(c);
                }
                let Some(c) = &mut self.tcp else {
                    unreachable!("connected above")
                };
                // RFC 6587 octet counting: "LEN SP MSG".
                let mut frame = format!("{} ", msg.len()).into_bytes();
                frame.extend_from_slice(msg);
                c.write_all(&frame).await.map_err(|e| format!("TCP: {e}"))?;
                c.flush().await.map_err(|e| format!("TCP: {e}"))?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_checked() {
        let bad = |k: &str, m: String| format!("{k}: {m}");
        let raw = |file: Option<&str>, syslog: Option<&str>, facility: Option<&str>| RawSiem {
            file: file.map(PathBuf::from),
            syslog: syslog.map(String::from),
            facility: facility.map(String::from),
            min_severity: None,
            timeout: None,
        };
        let s = SiemSettings::from_raw(
            Some(raw(None, Some("tcp://siem.region.se:6514"), None)),
            &bad,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            s.syslog,
            Some(SyslogTarget::Tcp {
                host: "siem.region.se".into(),
                port: 6514
            })
        );
        assert_eq!((s.facility, s.min_severity), (10, Severity::Info));
        assert_eq!(s.channels(), vec![Channel::Syslog]);
        let s = SiemSettings::from_raw(
            Some(raw(Some("/x"), Some("udp://[::1]:514"), Some("local0"))),
            &bad,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.facility, 16);
        assert_eq!(s.channels(), vec![Channel::SiemFile, Channel::Syslog]);
        assert!(SiemSettings::from_raw(Some(raw(None, None, None)), &bad).is_err());
        for wrong in [
            "siem.region.se:514",
            "tls://sys9:1",
            "tcp://sys9",
            "tcp://sys9:0",
            "tcp://:514",
        ] {
            let e = SiemSettings::from_raw(Some(raw(None, Some(wrong), None)), &bad).unwrap_err();
            assert!(e.starts_with("siem.syslog") && !e.contains(wrong), "{e}");
        }
        assert!(SiemSettings::from_raw(Some(raw(Some("/x"), None, Some("local9"))), &bad).is_err());
    }

    #[test]
    fn sd_values_escaped_and_messages_framed_per_rfc_5424() {
        assert_eq!(sd_value(r#"a"b\c]d"#), r#"a\"b\\c\]d"#);
        assert_eq!(sd_value("a\r\nb"), "a  b");
        let t: jiff::Timestamp = "2020-05-04T08:00:00.1234567Z".parse().unwrap();
        let m = syslog_message(
            10,
            3,
            t,
            "host name",
            "new",
            &[("rule", "recording-video".into()), ("who", "x\"]y".into())],
            "Hög: line\none",
        );
        let m = String::from_utf8(m).unwrap();
        let pid = std::process::id();
        assert_eq!(
            m,
            format!(
                "<83>1 2020-05-04T08:00:00.123456Z hostname motesvakt {pid} new [motesvakt@32473 rule=\"recording-video\" who=\"x\\\"\\]y\"] \u{feff}Hög: line one"
            )
        );
        assert_eq!(syslog_severity(Severity::Critical, "new"), 2);
        assert_eq!(syslog_severity(Severity::Info, "raised"), 6);
        assert_eq!(syslog_severity(Severity::Critical, "withdrawn"), 5);
    }

    #[test]
    fn the_file_is_private_and_opened_again_after_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("siem.jsonl");
        let mut w = JsonLines::new(&path);
        w.append(b"{\"n\":1}").unwrap();
        w.append(b"{\"n\":2}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "0600 (less with the umask): {mode:o}");
        // logrotate: renamed away, the next line goes to a new file.
        std::fs::rename(&path, dir.path().join("siem.jsonl.1")).unwrap();
        w.append(b"{\"n\":3}").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("siem.jsonl.1")).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":3}\n");
        // Removed: created again.
        std::fs::remove_file(&path).unwrap();
        w.append(b"{\"n\":4}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":4}\n");
    }
}
