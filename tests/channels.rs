//! The webhook and SIEM channels end to end: the real binary, a real SQLite file, and real
//! servers on loopback written here: an HTTP server that checks each Standard Webhooks
//! signature with the secret (computed here with hmac, not with motesvakt's signer), and TCP
//! and UDP syslog listeners. Every byte delivered is checked for planted identity numbers.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::webhook::{Hook, Request, SECRET, webhook_config};
use common::*;
use hmac::{KeyInit, Mac};
use serde_json::Value;

fn setup(dir: &Path, extra: &str) -> (PathBuf, PathBuf, PathBuf) {
    let input = write(dir, "in/log.ndjson", &breach("mote-anna", "anna@region.se"));
    let cfg = dir.join("motesvakt.toml");
    std::fs::write(
        &cfg,
        format!("internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n{extra}"),
    )
    .unwrap();
    (input, cfg, dir.join("state.sqlite"))
}

/// Checks a request's signature the Standard Webhooks way, independently of motesvakt.
fn check_signature(r: &Request) {
    let key = B64.decode(SECRET.strip_prefix("whsec_").unwrap()).unwrap();
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    let ts_n: i64 = ts.parse().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!((now - ts_n).abs() < 300, "a current timestamp: {ts}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&r.body);
    let want = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    let sigs: Vec<&str> = r.headers["webhook-signature"].split(' ').collect();
    assert!(
        sigs.contains(&want.as_str()),
        "signature {sigs:?}, want {want}"
    );
    // A body changed in transit would not verify.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&r.body[1..]);
    let other = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    assert!(!sigs.contains(&other.as_str()));
}

#[test]
fn a_webhook_is_signed_retried_after_500_with_the_same_id_and_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start(&[500, 500, 200]);
    let (input, cfg, db) = setup(dir.path(), &webhook_config(dir.path(), hook.port));
    for (run, want) in [
        (1, "0 delivered, 2 to try again later, 0 given up"),
        (2, "0 delivered, 2 to try again later, 0 given up"),
        (3, "2 delivered, 0 to try again later, 0 given up"),
        (4, "0 delivered, 0 to try again later, 0 given up"),
    ] {
        let out = scan_alert(&cfg, &db, &input);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("alerts (webhook): {want}")),
            "run {run}: {}",
            stderr(&out)
        );
    }
    let got = hook.requests();
    assert_eq!(got.len(), 6, "two alerts, three attempts each");
    let mut by_id: HashMap<String, Vec<&Request>> = HashMap::new();
    for r in &got {
        assert_no_leaks(None, &[&r.raw]);
        check_signature(r);
        assert_eq!(r.headers["content-type"], "application/json");
        by_id
            .entry(r.headers["webhook-id"].clone())
            .or_default()
            .push(r);
    }
    assert_eq!(by_id.len(), 2, "the same webhook-id on every retry");
    let mut rules = Vec::new();
    for (id, rs) in &by_id {
        assert!(id.starts_with("msg_"), "{id}");
        assert_eq!(rs.len(), 3);
        let body: Value = serde_json::from_slice(&rs[0].body).unwrap();
        assert_eq!(body["type"], "incident.new");
        let d = &body["data"];
        assert_eq!(d["severity"], "high");
        assert_eq!(d["platform"], "teams");
        assert_eq!(d["meeting"], "mote-anna");
        let time = d["time"].as_str().unwrap();
        assert!(
            time.starts_with("2020-05-04T08:0") && time.ends_with('Z'),
            "UTC: {time}"
        );
        assert!(
            d["time_local"]
                .as_str()
                .unwrap()
                .starts_with("2020-05-04 10:0"),
            "{d}"
        );
        assert_eq!(d["responsible"], "anna@region.se");
        assert!(d["routine"]["file"].as_str().is_some_and(|f| !f.is_empty()));
        assert!(d["text"].as_str().unwrap().starts_with("HÖG: "), "{d}");
        let text = String::from_utf8_lossy(&rs[0].body);
        assert!(!text.contains("inför remissen"), "no chat text: {text}");
        rules.push(d["rule"].as_str().unwrap().to_string());
    }
    rules.sort();
    assert_eq!(rules, ["chat-patient-data", "recording-video"]);
    // The outbox says where each went.
    let listed = stdout(&motesvakt(&["alerts", "--db", db.to_str().unwrap()]));
    assert_eq!(listed.lines().count(), 2, "{listed}");
    for l in listed.lines() {
        assert!(
            l.contains(" sent high webhook new ") && l.contains("attempts 3"),
            "{l}"
        );
    }
}

#[test]
fn a_webhook_refused_with_400_is_dead_and_not_tried_again() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start(&[400]);
    let (input, cfg, db) = setup(dir.path(), &webhook_config(dir.path(), hook.port));
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("alerts (webhook): 0 delivered, 0 to try again later, 2 given up"),
        "{}",
        stderr(&out)
    );
    let dead = stdout(&motesvakt(&[
        "alerts",
        "--dead",
        "--db",
        db.to_str().unwrap(),
    ]));
    assert_eq!(dead.lines().count(), 2, "{dead}");
    assert!(dead.contains("HTTP 400"), "{dead}");
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 delivered, 0 to try again later, 0 given up"));
    assert_eq!(hook.requests().len(), 2);
}

#[test]
fn a_webhook_server_down_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (input, cfg, db) = setup(dir.path(), &webhook_config(dir.path(), port));
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("0 delivered, 2 to try again later"),
        "{}",
        stderr(&out)
    );
    let failed = stdout(&motesvakt(&[
        "alerts",
        "--failed",
        "--db",
        db.to_str().unwrap(),
    ]));
    assert!(failed.contains("cannot connect"), "{failed}");
}

/// Splits a TCP syslog stream by RFC 6587 octet counting, checking each count.
fn frames(stream: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&b| b == b' ').expect("LEN SP");
        let len: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().unwrap();
        let msg = &rest[sp + 1..sp + 1 + len];
        out.push(String::from_utf8(msg.to_vec()).unwrap());
        rest = &rest[sp + 1 + len..];
    }
    out
}

/// Checks one RFC 5424 message; returns its structured data's params.
fn check_5424(m: &str, pri: u32) -> HashMap<String, String> {
    let (head, rest) = m.split_once(" [motesvakt@32473 ").expect("structured data");
    let parts: Vec<&str> = head.split(' ').collect();
    assert_eq!(parts.len(), 6, "{head}");
    assert_eq!(parts[0], format!("<{pri}>1"));
    let ts = parts[1];
    assert!(
        ts.ends_with('Z') && ts.len() == "2020-05-04T08:00:00.000000Z".len(),
        "{ts}"
    );
    assert!(ts.parse::<jiff::Timestamp>().is_ok());
    assert!(!parts[2].is_empty());
    assert_eq!(parts[3], "motesvakt");
    assert!(parts[4].parse::<u32>().is_ok(), "PROCID");
    assert_eq!(parts[5], "new");
    let (sd, msg) = rest.split_once("] \u{feff}").expect("SD then BOM and MSG");
    let mut params = HashMap::new();
    let mut s = sd;
    while !s.is_empty() {
        let (name, after) = s.split_once("=\"").unwrap();
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next().unwrap().1),
                '"' => {
                    end = i + 1;
                    break;
                }
                ']' => panic!("an unescaped ] in {sd}"),
                c => value.push(c),
            }
        }
        params.insert(name.trim().to_string(), value);
        s = after[end..].trim_start();
    }
    assert!(msg.starts_with("HÖG: "), "{msg}");
    params
}

#[test]
fn syslog_over_tcp_and_udp_and_json_lines_get_each_incident_in_rfc_5424() {
    let dir = tempfile::tempdir().unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let received = std::thread::spawn(move || {
        let (mut c, _) = tcp.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        all
    });
    let file = dir.path().join("siem/motesvakt.jsonl");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let (input, cfg, db) = setup(
        dir.path(),
        &format!("[siem]\nfile = {file:?}\nsyslog = \"tcp://127.0.0.1:{tcp_port}\"\n"),
    );
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("alerts (SIEM file, syslog): 4 delivered, 0 to try again later"),
        "{}",
        stderr(&out)
    );
    let stream = received.join().unwrap();
    assert_no_leaks(None, &[&stream]);
    let msgs = frames(&stream);
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    let mut rules = Vec::new();
    for m in &msgs {
        // authpriv (10) * 8 + err (3, high).
        let sd = check_5424(m, 83);
        assert_eq!(sd["severity"], "high");
        assert_eq!(sd["change"], "new");
        assert_eq!(sd["meeting"], "mote-anna");
        assert_eq!(sd["responsible"], "anna@region.se");
        assert!(!m.contains("inför remissen"));
        rules.push(sd["rule"].clone());
    }
    rules.sort();
    assert_eq!(rules, ["chat-patient-data", "recording-video"]);
    // The JSON lines: one object per line, private.
    let bytes = std::fs::read(&file).unwrap();
    assert_no_leaks(None, &[&bytes]);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let lines: Vec<Value> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["type"] == "incident.new"));

    // UDP, facility local0: one datagram per message.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let udp_port = udp.local_addr().unwrap().port();
    let dir2 = tempfile::tempdir().unwrap();
    let (input, cfg, db) = setup(
        dir2.path(),
        &format!("[siem]\nsyslog = \"udp://127.0.0.1:{udp_port}\"\nfacility = \"local0\"\n"),
    );
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("alerts (syslog): 2 delivered"),
        "{}",
        stderr(&out)
    );
    for _ in 0..2 {
        let mut buf = [0u8; 65536];
        let n = udp.recv(&mut buf).unwrap();
        assert_no_leaks(None, &[&buf[..n]]);
        let m = std::str::from_utf8(&buf[..n]).unwrap();
        // local0 (16) * 8 + err (3).
        check_5424(m, 131);
    }
}

#[test]
fn the_siem_gets_every_change_withdrawn_and_back_included() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("siem.jsonl");
    let siem = format!("[siem]\nfile = {file:?}\n");
    let (input, cfg, db) = setup(dir.path(), &siem);
    let off = dir.path().join("off.toml");
    std::fs::write(
        &off,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n{siem}[rules.recording-video]\nenabled = false\n"
        ),
    )
    .unwrap();
    scan_alert(&cfg, &db, &input);
    // Rotated away between runs: the next change goes to a new file.
    std::fs::rename(&file, dir.path().join("siem.jsonl.1")).unwrap();
    let out = scan_alert(&off, &db, &input);
    assert!(stderr(&out).contains("1 delivered"), "{}", stderr(&out));
    scan_alert(&cfg, &db, &input);
    let read = |p: &Path| -> Vec<(String, String)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["type"].as_str().unwrap().to_string(),
                    v["data"]["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let mut first = read(&dir.path().join("siem.jsonl.1"));
    first.sort();
    assert_eq!(
        first,
        [
            ("incident.new".into(), "chat-patient-data".into()),
            ("incident.new".into(), "recording-video".into())
        ]
    );
    assert_eq!(
        read(&file),
        [
            ("incident.withdrawn".into(), "recording-video".into()),
            ("incident.new".into(), "recording-video".into())
        ]
    );
}

/// `motesvakt run`, stopped (and if need be killed) when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let t = Instant::now();
        while self.0.try_wait().ok().flatten().is_none() {
            if t.elapsed() > Duration::from_secs(20) {
                let _ = self.0.kill();
                let _ = self.0.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn wait_for(what: &str, log: &Path, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{what}: not within 30 s\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |s| s.lines().count())
}

#[test]
fn the_service_calls_the_webhook_and_writes_the_siem_file_across_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start(&[200]);
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let file = dir.path().join("incidents.jsonl");
    let cfg = dir.path().join("motesvakt.toml");
    std::fs::write(
        &cfg,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\nstate_dir = {:?}\n{}[siem]\nfile = {file:?}\n[service]\nrescan = \"200ms\"\nquiescence = \"300ms\"\n\n[[watch]]\npath = {input:?}\n",
            dir.path().join("state"),
            webhook_config(dir.path(), hook.port),
        ),
    )
    .unwrap();
    let log = dir.path().join("service.log");
    let _service = Running(
        service_command(&cfg)
            .stderr(std::fs::File::create(&log).unwrap())
            .env("MOTESVAKT_LOG", "info")
            .spawn()
            .unwrap(),
    );
    write(&input, "a.ndjson", &breach("mote-a", "anna@region.se"));
    wait_for("two SIEM lines", &log, || lines(&file) == 2);
    wait_for("two webhook calls", &log, || hook.requests().len() == 2);
    // logrotate moves the file away; the service writes the next incidents to a new one.
    std::fs::rename(&file, dir.path().join("incidents.jsonl.1")).unwrap();
    write(&input, "b.ndjson", &breach("mote-b", "anna@region.se"));
    wait_for("two lines in the new file", &log, || lines(&file) == 2);
    wait_for("four webhook calls", &log, || hook.requests().len() == 4);
    assert_eq!(lines(&dir.path().join("incidents.jsonl.1")), 2);
    let new = std::fs::read_to_string(&file).unwrap();
    assert!(new.contains("mote-b") && !new.contains("mote-a"), "{new}");
    for r in hook.requests() {
        check_signature(&r);
        assert_no_leaks(None, &[&r.raw]);
    }
    assert_no_leaks(
        None,
        &[
            &std::fs::read(&file).unwrap(),
            &std::fs::read(&log).unwrap(),
        ],
    );
}

#[test]
fn a_bad_webhook_secret_or_url_is_refused_at_the_start_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("webhook.secret");
    std::fs::write(&secret, "whsec_c2VjcmV0LXRvby1zaG9ydA==\n").unwrap();
    let (_, cfg, _) = setup(
        dir.path(),
        &format!("[webhook]\nurl = \"https://soar.region.se/h\"\nsecret_file = {secret:?}\n"),
    );
    let out = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("[webhook]: secret_file") && err.contains("16 bytes"),
        "{err}"
    );
    assert!(!err.contains("c2VjcmV0"), "the secret is not shown: {err}");
    let (_, cfg, _) = setup(
        dir.path(),
        &format!("[webhook]\nurl = \"http://soar.region.se/h\"\nsecret_file = {secret:?}\n"),
    );
    let out = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("webhook.url") && stderr(&out).contains("https://"));
}

#[test]
fn a_false_positive_raised_calls_no_webhook_and_the_siem_still_hears_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Hook::start(&[200]);
    let file = dir.path().join("siem.jsonl");
    let channels = format!(
        "{}[siem]\nfile = {file:?}\n",
        webhook_config(dir.path(), hook.port)
    );
    let (input, cfg, db) = setup(dir.path(), &channels);
    scan_alert(&cfg, &db, &input);
    assert_eq!(hook.requests().len(), 2);
    let d = db.to_str().unwrap();
    let chat = incidents(&motesvakt(&["incidents", "--json", "--db", d]))
        .into_iter()
        .find(|i| i["rule"] == "chat-patient-data")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = motesvakt(&[
        "incidents",
        "false-positive",
        &chat,
        "--by",
        "Bo",
        "--reason",
        "test-meeting",
        "--db",
        d,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Judged again at a higher severity: news, but a false positive alerts nobody.
    let raised = dir.path().join("raised.toml");
    std::fs::write(
        &raised,
        format!(
            "{}[rules.chat-patient-data]\nseverity = \"critical\"\n",
            std::fs::read_to_string(&cfg).unwrap()
        ),
    )
    .unwrap();
    let out = scan_alert(&raised, &db, &input);
    assert!(
        stderr(&out).contains("1 delivered, 0 to try again later, 0 given up"),
        "the SIEM event only: {}",
        stderr(&out)
    );
    assert_eq!(
        hook.requests().len(),
        2,
        "no webhook call for a false positive"
    );
    let events: Vec<(String, String)> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["type"].as_str().unwrap().to_string(),
                v["data"]["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[2],
        (
            "incident.raised".to_string(),
            "chat-patient-data".to_string()
        )
    );
    let listed = stdout(&motesvakt(&["alerts", "--db", d]));
    assert!(
        !listed
            .lines()
            .any(|l| l.contains(" webhook raised ") && l.contains(&chat)),
        "{listed}"
    );
}
