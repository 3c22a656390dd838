//! The service (`motesvakt run`) as systemd runs it: a real process on real folders, told
//! apart by its store. It must end up holding the incidents `scan` reports over the same files,
//! whatever happens in between: lines appended in pieces, files rotated, copied and dropped
//! whole, and kill -9 at random moments.

mod common;

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A config for a service on `input`, its state in `dir/state`.
fn service_config(dir: &Path, input: &Path, extra: &str) -> PathBuf {
    service_config_q(dir, input, extra, "300ms")
}

fn service_config_q(dir: &Path, input: &Path, extra: &str, quiescence: &str) -> PathBuf {
    let cfg = dir.join("motesvakt.toml");
    std::fs::write(
        &cfg,
        format!(
            "internal_domains = [\"region.se\"]\nstate_dir = \"{}\"\n{extra}\n[service]\nrescan = \"200ms\"\nquiescence = \"{quiescence}\"\n\n[[watch]]\npath = \"{}\"\n",
            dir.join("state").display(),
            input.display()
        ),
    )
    .unwrap();
    cfg
}

struct Service {
    child: Child,
    log: PathBuf,
}

impl Service {
    fn start(cfg: &Path, log: &Path, env: &[(&str, &str)]) -> Service {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = service_command(cfg);
        cmd.stderr(err).env("MOTESVAKT_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Service {
            child: cmd.spawn().expect("motesvakt run starts"),
            log: log.to_path_buf(),
        }
    }

    /// Waits for the service's `ready:` line (its first full look done, the store made).
    fn wait_ready(&self) {
        let started = Instant::now();
        while !self.log().contains(" ready: ") {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not ready after 30 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM; returns the exit code and how long it took.
    fn terminate(mut self) -> (Option<i32>, Duration) {
        signal(&self.child, "TERM");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("did not stop within 20 s after SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

fn status(cfg: &Path) -> Option<Value> {
    let out = motesvakt(&["status", "--config", cfg.to_str().unwrap(), "--json"]);
    if out.status.code() != Some(0) {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Waits until the store says every file present was read to its end and nothing waits for
/// judgement now.
fn wait_caught_up(cfg: &Path, input: &Path, service: &Service) {
    let started = Instant::now();
    loop {
        if let Some(s) = status(cfg) {
            let files = s["files"].as_array().cloned().unwrap_or_default();
            let present = files.iter().filter(|f| f["state"] != "gone");
            let mut all = true;
            for f in present {
                let done = match f["kind"].as_str() {
                    Some("document") => f["state"] == "done",
                    _ => f["offset"] == f["size"],
                };
                all &= done;
            }
            // Every file of the folder known (copies are known as their original).
            let on_disk = std::fs::read_dir(input).unwrap().count();
            if all && s["pending_now"] == 0 && !files.is_empty() && on_disk > 0 {
                // And stable: nothing moved for a while.
                std::thread::sleep(Duration::from_millis(800));
                if status(cfg).map(|t| t["files"].clone()) == Some(s["files"].clone()) {
                    return;
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not caught up after 60 s:\n{}\n{}",
            status(cfg).map(|s| s.to_string()).unwrap_or_default(),
            service.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn run_on_the_sample_exports_stores_what_scan_reports() {
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exports");
    let cfg = service_config(dir.path(), &samples, "");
    let service = Service::start(&cfg, &dir.path().join("log"), &[]);
    wait_caught_up(&cfg, &samples, &service);
    let (code, took) = service.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    let stored = store_incidents(&cfg);
    assert!(!stored.is_empty());
    assert_eq!(stored, scan_incidents(&cfg, &[&samples]));
    let log = std::fs::read(dir.path().join("log")).unwrap();
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("new file, native (lines)"), "{text}");
    assert!(text.contains("ready: 3 file(s) known"), "{text}");
    assert_no_leaks(Some(&dir.path().join("state")), &[&log]);
}

/// A day of meetings in native NDJSON, in time order: starts, joins (some external, some past
/// the lobby), chat (some with an identity number), recordings, control handed over, ends
/// (all but the first few meetings, which stay open long before the data ends).
fn meetings(n: usize, seed: u64) -> Vec<(usize, String)> {
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let base = jiff::Timestamp::from_second(1_714_636_800).unwrap(); // 2024-05-02 08:00 UTC
    let mut out: Vec<(jiff::Timestamp, usize, String)> = Vec::new();
    for m in 0..n {
        let start = base
            .checked_add(jiff::SignedDuration::from_mins(20 * m as i64))
            .unwrap();
        let at = |min: i64| {
            start
                .checked_add(jiff::SignedDuration::from_mins(min))
                .unwrap()
        };
        let id = format!("m{m}");
        let chair = format!("chair{}@region.se", m % 7);
        let line = |t: jiff::Timestamp, actor: &str, ty: &str, extra: Value| {
            let mut v = json!({"time": t.to_string(), "platform": "teams", "meeting": id,
                "type": ty, "actor": {"id": actor}});
            if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
                o.extend(e);
            }
            v.to_string()
        };
        let file = (next() % 2) as usize;
        let subject = if m % 3 == 0 {
            "Samordnad vårdplanering"
        } else {
            "Veckomöte"
        };
        out.push((
            at(0),
            file,
            line(
                at(0),
                &chair,
                "meeting_started",
                json!({"subject": subject}),
            ),
        ));
        let guest = format!("g{m}@kommun.se");
        let lobby = next() % 3 != 0;
        out.push((
            at(1),
            file,
            line(
                at(1),
                &guest,
                "participant_joined",
                json!({"via_lobby": lobby, "role": "attendee"}),
            ),
        ));
        for k in 0..(3 + next() % 6) {
            let text = if next() % 5 == 0 {
                format!("Gäller patient {PNR}, se journalen")
            } else {
                format!("Meddelande {k}")
            };
            // Chat goes to either file: a meeting's events come from two files.
            let f = (next() % 2) as usize;
            out.push((
                at(2 + k as i64),
                f,
                line(
                    at(2 + k as i64),
                    &chair,
                    "chat_message",
                    json!({"text": text}),
                ),
            ));
        }
        if next() % 4 == 0 {
            out.push((
                at(12),
                file,
                line(
                    at(12),
                    &chair,
                    "recording_started",
                    json!({"media": "video"}),
                ),
            ));
        }
        if next() % 6 == 0 {
            out.push((
                at(13),
                file,
                line(
                    at(13),
                    &chair,
                    "control_granted",
                    json!({"target": {"id": guest}}),
                ),
            ));
        }
        if m >= 3 {
            out.push((
                at(15),
                file,
                line(
                    at(15),
                    &chair,
                    "meeting_ended",
                    json!({"reason": "ended_by_host"}),
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(_, f, l)| (f, l + "\n")).collect()
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn kill_9_at_random_moments_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // The writer below pauses mid-line for up to a few hundred milliseconds (and for a restart):
    // a last line is taken as ended only after longer than that.
    let cfg = service_config_q(dir.path(), &input, "", "3s");
    let log = dir.path().join("log");

    let lines = meetings(150, 7);
    // The last fifth of file 1's lines is dropped whole as a gzip document instead.
    let cut = lines.len() * 4 / 5;
    let (live, late) = lines.split_at(cut);
    let mut bytes: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    for (f, l) in live {
        bytes[*f].extend_from_slice(l.as_bytes());
    }
    let mut doc = Vec::new();
    for (f, l) in late {
        if *f == 1 {
            doc.extend_from_slice(l.as_bytes());
        } else {
            bytes[0].extend_from_slice(l.as_bytes());
        }
    }
    let total_lines = lines.len();

    let mut rng: u64 = 0x9e3779b97f4a7c15;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let a = input.join("a.ndjson");
    let b = input.join("b.ndjson");
    let mut written = [0usize; 2];
    let mut service = Some(Service::start(&cfg, &log, &[]));
    let mut kills = 0;
    let mut rotated = false;
    let mut copied = false;
    let mut dropped = false;
    while written[0] < bytes[0].len() || written[1] < bytes[1].len() {
        // Append a piece (cut anywhere, mid-line too) to one of the files.
        let f = next(2) as usize;
        let path = if f == 0 { &a } else { &b };
        let take = (1 + next(4000) as usize).min(bytes[f].len() - written[f]);
        append(path, &bytes[f][written[f]..written[f] + take]);
        written[f] += take;
        // Half-way through a: rotated (renamed; the service reads it on to its end).
        if !rotated && written[0] > bytes[0].len() / 2 && bytes[0][written[0] - 1] == b'\n' {
            std::fs::rename(&a, input.join("a.1.ndjson")).unwrap();
            rotated = true;
        }
        // b copied under another name: the same content, not read twice.
        if !copied && written[1] > bytes[1].len() / 3 && bytes[1][written[1] - 1] == b'\n' {
            std::fs::copy(&b, input.join("b-copy.ndjson")).unwrap();
            copied = true;
        }
        if !dropped && written[1] > bytes[1].len() * 2 / 3 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&doc).unwrap();
            let tmp = input.join("late.ndjson.gz.part");
            std::fs::write(&tmp, gz.finish().unwrap()).unwrap();
            std::fs::rename(&tmp, input.join("late.ndjson.gz")).unwrap();
            dropped = true;
        }
        std::thread::sleep(Duration::from_millis(next(40)));
        if next(6) == 0 {
            // kill -9 at a random moment, then start again.
            std::thread::sleep(Duration::from_millis(next(150)));
            if let Some(s) = service.take() {
                s.kill9();
                kills += 1;
            }
            service = Some(Service::start(&cfg, &log, &[]));
        }
    }
    assert!(rotated && copied && dropped);
    assert!(kills >= 5, "only {kills} kills");
    let service = service.take().unwrap();
    wait_caught_up(&cfg, &input, &service);
    // Every line read: wait for the records to add up (bounded).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let n: u64 = status(&cfg).map_or(0, |s| {
            s["files"].as_array().map_or(0, |f| {
                f.iter().map(|f| f["records"].as_u64().unwrap_or(0)).sum()
            })
        });
        if n as usize >= total_lines {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, _) = service.terminate();
    assert_eq!(code, Some(0), "{}", std::fs::read_to_string(&log).unwrap());

    // Every line read once: the records the store counts per content are the lines written.
    let s = status(&cfg).unwrap();
    let records: u64 = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["records"].as_u64().unwrap())
        .sum();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        records as usize, total_lines,
        "records read across {kills} kills; status: {s}\n{logged}"
    );
    let stored = store_incidents(&cfg);
    let scanned = scan_incidents(&cfg, &[&input]);
    assert!(stored.len() > 20, "{stored:?}");
    assert_eq!(stored, scanned, "after {kills} kills");
    assert!(
        stored.iter().any(|i| i.1 == "meeting-not-ended"),
        "the open meetings are judged too"
    );
    assert_no_leaks(Some(&dir.path().join("state")), &[logged.as_bytes()]);
}

/// Reads what the service sends to its notify socket until `want` is seen.
fn expect_notify(sock: &UnixDatagram, want: &str, within: Duration) -> Vec<String> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while started.elapsed() < within {
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let hit = msg.lines().any(|l| l == want || l.starts_with(want));
            got.push(msg);
            if hit {
                return got;
            }
        }
    }
    panic!("no {want} within {within:?}; got {got:?}");
}

#[test]
fn speaks_systemds_notify_protocol_and_reloads_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let cfg = service_config(dir.path(), &input, "");
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let service = Service::start(
        &cfg,
        &dir.path().join("log"),
        &[
            ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    expect_notify(&sock, "READY=1", Duration::from_secs(10));
    expect_notify(&sock, "WATCHDOG=1", Duration::from_secs(5));
    // Input arrives: the status line counts it.
    write(
        &input,
        "a.ndjson",
        &[ev("m1", 0, "anna@region.se", "meeting_started", json!({}))],
    );
    expect_notify(
        &sock,
        "STATUS=1 files (1 open); 1 records",
        Duration::from_secs(10),
    );

    // A broken configuration on SIGHUP: logged, the old one kept, still running.
    let good = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{good}\nnot valid toml = = =\n")).unwrap();
    signal(&service.child, "HUP");
    expect_notify(&sock, "READY=1", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        service
            .log()
            .contains("configuration not reloaded, the old one is kept"),
        "{}",
        service.log()
    );
    // A good one: reloaded.
    std::fs::write(&cfg, &good).unwrap();
    signal(&service.child, "HUP");
    expect_notify(&sock, "READY=1", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        service.log().contains("configuration reloaded"),
        "{}",
        service.log()
    );
    expect_notify(&sock, "WATCHDOG=1", Duration::from_secs(5));

    let (code, took) = service.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(10));
}

#[test]
fn an_appended_line_is_judged_at_once_and_an_open_meeting_by_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let cfg = service_config(dir.path(), &input, "");
    let service = Service::start(&cfg, &dir.path().join("log"), &[]);
    service.wait_ready();
    let now = jiff::Timestamp::now();
    let at = |ago_min: i64| {
        now.checked_sub(jiff::SignedDuration::from_mins(ago_min))
            .unwrap()
            .to_string()
    };
    let line = |t: String, ty: &str, extra: Value| {
        let mut v = json!({"time": t, "platform": "teams", "meeting": "live",
            "type": ty, "actor": {"id": "anna@region.se"}});
        if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        v.to_string() + "\n"
    };
    let file = input.join("live.ndjson");
    // Started nine hours ago and never ended: past the 8 h timeout by the wall clock, though
    // no later event says so.
    append(
        &file,
        line(at(540), "meeting_started", json!({})).as_bytes(),
    );
    append(
        &file,
        line(at(539), "recording_started", json!({"media": "video"})).as_bytes(),
    );
    let wait_for = |rule: &str| {
        let started = Instant::now();
        loop {
            if store_incidents(&cfg).iter().any(|i| i.1 == rule) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no {rule}:\n{}",
                service.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("meeting-not-ended");
    // A personnummer in the chat now makes the recording a breach.
    append(
        &file,
        line(
            at(538),
            "chat_message",
            json!({"text": format!("patient {PNR}")}),
        )
        .as_bytes(),
    );
    wait_for("chat-patient-data");
    let (code, _) = service.terminate();
    assert_eq!(code, Some(0));
}

#[test]
fn a_configuration_that_cannot_be_used_exits_78_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[[watch]]\npath = \"/x\"\nmode = \"sometimes\"\n").unwrap();
    let out = motesvakt(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--log-format",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("mode"), "{}", stderr(&out));
    let out = motesvakt(&["status", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_watched_folder_made_after_the_start_is_followed_with_inotify_once_it_exists() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("later");
    let cfg = service_config(dir.path(), &input, "");
    let service = Service::start(&cfg, &dir.path().join("log"), &[]);
    service.wait_ready();
    let log = service.log();
    assert!(log.contains("later: cannot read"), "{log}");
    assert!(log.contains("inotify failed"), "{log}");
    std::fs::create_dir_all(&input).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exports/teams");
    for e in std::fs::read_dir(&samples).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), input.join(e.file_name())).unwrap();
    }
    wait_caught_up(&cfg, &input, &service);
    let log = service.log();
    let back = log.find("later: readable again").expect(&log);
    let watching = log[back..].find("with inotify").map(|i| i + back);
    assert!(watching.is_some(), "inotify set up again:\n{log}");
    assert_eq!(
        log.matches("cannot read").count(),
        1,
        "a missing folder is logged once, not at every look:\n{log}"
    );
    let (code, _) = service.terminate();
    assert_eq!(code, Some(0));
    assert_eq!(store_incidents(&cfg), scan_incidents(&cfg, &[&input]));
}
