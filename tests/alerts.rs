//! Alerts end to end: the real binary, a real SQLite file and a real SMTP server (Python's
//! aiosmtpd on loopback, tests/support/smtp_sink.py) that writes every message it accepts to a
//! folder. `.ci/run` installs aiosmtpd; outside CI a machine without it skips these tests and
//! says so.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Whether python3 with aiosmtpd is here; in CI it must be.
fn have_aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with aiosmtpd (.ci/run installs it)"
        );
        eprintln!("SKIPPED: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
    }
    ok
}

/// The SMTP server, stopped when dropped.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sink {
    fn start(dir: &Path, args: &[&str]) -> Sink {
        std::fs::create_dir_all(dir).unwrap();
        // aiosmtpd logs a refused handshake with a traceback: kept out of the test output.
        let log = std::fs::File::create(dir.with_extension("log")).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| {
                let log = std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default();
                panic!("the SMTP server did not start: {line:?}\n{log}")
            })
            .parse()
            .unwrap();
        Sink {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// The messages received, in order, decoded (each raw message is checked for leaks).
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let raw = std::fs::read(p).unwrap();
                let text = std::fs::read(p.with_extension("txt")).unwrap();
                assert_no_leaks(None, &[&raw, &text]);
                String::from_utf8(text).unwrap()
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Input with breaches by anna, bo (both in the directory) and carl (not in it).
fn setup(dir: &Path, port: u16, extra: &str) -> (PathBuf, PathBuf, PathBuf) {
    let mut lines = breach("mote-anna", "anna@region.se");
    lines.extend(breach("mote-bo", "bo@region.se"));
    lines.extend(breach("mote-carl", "carl@region.se"));
    let input = write(dir, "in/log.ndjson", &lines);
    let directory = dir.join("katalog.csv");
    std::fs::write(
        &directory,
        "\u{feff}Namn;user;unit;manager\nAnna A;anna@region.se;Akuten;chef.anna@region.se\n\
         Bo B;BO@region.se;BUP;chef.bo@region.se\n",
    )
    .unwrap();
    let cfg = dir.join("motesvakt.toml");
    std::fs::write(
        &cfg,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n\
             [alerts]\nit_security = [\"sec@region.se\"]\nit_security_severity = \"critical\"\n\
             [directory]\nfile = {directory:?}\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"motesvakt@region.se\"\n\
             timeout = \"5s\"\n{extra}"
        ),
    )
    .unwrap();
    (input, cfg, dir.join("state.sqlite"))
}

/// `motesvakt run` on the input of [`setup`] (or `lines` in its place), with `alerts` added to
/// `[alerts]` (and `group_wait = "1s"`); its log in `service.log`.
struct Service {
    child: Child,
    log: PathBuf,
    started: Instant,
}

impl Service {
    /// The service, its configuration and the folder it watches.
    fn start(
        dir: &Path,
        port: u16,
        alerts: &str,
        lines: Option<&[String]>,
    ) -> (Service, PathBuf, PathBuf) {
        let (input, cfg, _) = setup(
            dir,
            port,
            "tls = \"none\"\n[service]\nrescan = \"200ms\"\nquiescence = \"300ms\"\n",
        );
        let watched = input.parent().unwrap().to_path_buf();
        if let Some(lines) = lines {
            std::fs::remove_file(&input).unwrap();
            write(&watched, "log.ndjson", lines);
        }
        let text = std::fs::read_to_string(&cfg).unwrap().replace(
            "[alerts]\n",
            &format!("[alerts]\ngroup_wait = \"1s\"\n{alerts}"),
        );
        std::fs::write(
            &cfg,
            format!(
                "state_dir = {:?}\n{text}\n[[watch]]\npath = {watched:?}\n",
                dir.join("state")
            ),
        )
        .unwrap();
        let log = dir.join("service.log");
        let err = std::fs::File::create(&log).unwrap();
        let child = service_command(&cfg)
            .stderr(err)
            .env("MOTESVAKT_LOG", "info")
            .spawn()
            .unwrap();
        let service = Service {
            child,
            log,
            started: Instant::now(),
        };
        (service, cfg, watched)
    }

    /// Waits until `sink` has `n` mails, at most until `within` after the start.
    fn wait_for(&mut self, sink: &Sink, n: usize, within: Duration) {
        while sink.messages().len() < n {
            if self.started.elapsed() > within {
                let _ = self.child.kill();
                panic!(
                    "{} of {n} mails after {within:?}:\n{}",
                    sink.messages().len(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM: it stops with 0, and its log leaks nothing.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        let logged = std::fs::read(&self.log).unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&logged)
        );
        assert_no_leaks(None, &[&logged]);
    }
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn the_right_manager_gets_the_right_mail_and_no_number() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let out = scan_alert(&cfg, &db, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 mail(s) sent"), "{}", stderr(&out));
    let mails = sink.messages();
    assert_eq!(mails.len(), 3);
    let to = |who: &str| {
        let m: Vec<&String> = mails
            .iter()
            .filter(|m| header(m, "X-Envelope-To") == Some(who))
            .collect();
        assert_eq!(m.len(), 1, "one mail to {who}");
        m[0].clone()
    };
    let anna = to("chef.anna@region.se");
    // Both incidents of the meeting in one mail.
    assert_eq!(
        header(&anna, "Subject"),
        Some("[motesvakt] HÖG: videoinspelning i möte med patientuppgifter (och 1 till)")
    );
    assert!(
        anna.contains("mote-anna") && !anna.contains("mote-bo"),
        "{anna}"
    );
    assert!(anna.contains("recording-video") && anna.contains("chat-patient-data"));
    assert!(
        anna.lines()
            .any(|l| l.trim_end() == "Tid: 2020-05-04 10:00"),
        "Swedish local time: {anna}"
    );
    let bo = to("chef.bo@region.se");
    assert!(bo.contains("mote-bo") && !bo.contains("mote-anna"));
    // Carl has no manager: IT security gets it, and is told why.
    let sec = to("sec@region.se");
    assert!(
        sec.contains("mote-carl") && sec.contains("Ingen chef"),
        "{sec}"
    );
    for m in &mails {
        assert!(header(m, "Message-ID").is_some_and(|id| id.ends_with("@region.se>")));
        assert!(!m.contains("inför remissen"), "no chat text in a mail");
    }
    // A second run alerts nothing again.
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent"), "{}", stderr(&out));
    assert_eq!(sink.messages().len(), 3);
    // Nor in the database (the outbox and incidents), its -wal included.
    assert_no_leaks(Some(&sink.dir), &[]);
    for f in ["state.sqlite", "state.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            assert_no_leaks(None, &[&bytes]);
        }
    }
}

#[test]
fn a_server_down_then_up_gets_each_mail_once_with_the_same_message_id() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (input, cfg, db) = setup(dir.path(), port, "tls = \"none\"\n");
    let out = scan_alert(&cfg, &db, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 mail(s) sent, 3 to try again later"),
        "{}",
        stderr(&out)
    );
    let failed = motesvakt(&["alerts", "--failed", "--db", db.to_str().unwrap()]);
    let listed = stdout(&failed);
    assert_eq!(
        listed.lines().count(),
        6,
        "two alerts per meeting: {listed}"
    );
    let mut ids: Vec<String> = listed
        .lines()
        .map(|l| {
            let at = l.find(" mail <").unwrap() + 7;
            l[at..at + l[at..].find('>').unwrap()].to_string()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "one mail per recipient and meeting: {listed}");
    // Back up, answering the first attempt with 451: retried, not lost.
    let sink = Sink::start(
        &dir.path().join("mail"),
        &["--port", &port.to_string(), "--fail-first", "1"],
    );
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("2 mail(s) sent, 1 to try again"),
        "{}",
        stderr(&out)
    );
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("1 mail(s) sent"), "{}", stderr(&out));
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent"), "{}", stderr(&out));
    let mut got: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| {
            let id = header(m, "Message-ID").unwrap();
            id.trim_start_matches('<')
                .split('@')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    got.sort();
    assert_eq!(
        got, ids,
        "each mail once, with the Message-ID fixed before it was sent"
    );
    let pending = motesvakt(&["alerts", "--pending", "--db", db.to_str().unwrap()]);
    assert_eq!(stdout(&pending), "");
}

#[test]
fn a_permanent_refusal_is_not_retried_and_the_alert_is_dead() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &["--reject"]);
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let out = scan_alert(&cfg, &db, &input);
    // Three mails dead, each an incident of its own; the two to managers are told to IT
    // security (whose mails die too, and make no further incident); the one to IT security has
    // nobody else to tell.
    assert!(
        stderr(&out).contains("0 mail(s) sent, 0 to try again later, 5 given up"),
        "{}",
        stderr(&out)
    );
    let dead = motesvakt(&["alerts", "--dead", "--db", db.to_str().unwrap()]);
    assert_eq!(stdout(&dead).lines().count(), 8, "{}", stdout(&dead));
    assert!(stdout(&dead).contains("550"), "{}", stdout(&dead));
    let listed = incidents(&motesvakt(&[
        "incidents",
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]));
    let own: Vec<&serde_json::Value> = listed
        .iter()
        .filter(|i| i["rule"] == "alert-undeliverable")
        .collect();
    assert_eq!(own.len(), 3, "{listed:?}");
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent, 0 to try again later, 0 given up"));
}

#[test]
fn a_dead_alert_is_an_incident_of_its_own_told_to_it_security() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(
        &dir.path().join("mail"),
        &["--reject-to", "chef.anna@region.se"],
    );
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("3 mail(s) sent, 0 to try again later, 1 given up"),
        "{}",
        stderr(&out)
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 3);
    assert!(
        mails
            .iter()
            .all(|m| header(m, "X-Envelope-To") != Some("chef.anna@region.se"))
    );
    let told: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("alert-undeliverable"))
        .collect();
    assert_eq!(told.len(), 1, "{mails:?}");
    let told = told[0];
    assert_eq!(header(told, "X-Envelope-To"), Some("sec@region.se"));
    assert_eq!(
        header(told, "Subject"),
        Some("[motesvakt] HÖG: larm kunde inte levereras")
    );
    assert!(
        told.contains("chef.anna@region.se") && told.contains("mote-anna"),
        "{told}"
    );
    assert!(told.contains("inget avsteg från rutinen"), "{told}");
    // Stored and listed, with no patient data.
    let listed = motesvakt(&["incidents", "--json", "--db", db.to_str().unwrap()]);
    assert_no_leaks(None, &[&listed.stdout]);
    let own: Vec<serde_json::Value> = incidents(&listed)
        .into_iter()
        .filter(|i| i["rule"] == "alert-undeliverable")
        .collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["severity"], "high");
    assert_eq!(own[0]["actor"]["id"], "chef.anna@region.se");
    assert_eq!(own[0]["workflow"]["status"], "open");
    // A rescan judges mote-anna again: the incident of its alert stays, nothing is sent again.
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("0 mail(s) sent, 0 to try again later, 0 given up"),
        "{}",
        stderr(&out)
    );
    let again = incidents(&motesvakt(&[
        "incidents",
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]));
    assert_eq!(
        again
            .iter()
            .filter(|i| i["rule"] == "alert-undeliverable")
            .count(),
        1
    );
    // The catalog says what it is.
    let rules = stdout(&motesvakt(&["rules"]));
    assert!(
        rules.contains("alert-undeliverable  [motesvakt's own: not a breach of a routine]"),
        "{rules}"
    );
}

#[test]
fn a_dead_webhook_call_is_an_incident_told_to_it_security_by_mail() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let hook = common::webhook::Hook::start(&[400]);
    let extra = format!(
        "tls = \"none\"\n{}",
        common::webhook::webhook_config(dir.path(), hook.port)
    );
    let (input, cfg, db) = setup(dir.path(), sink.port, &extra);
    // Each meeting's chat-patient-data only: three webhook calls, each refused.
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "profiles = [\"halland\"]\n",
        "profiles = [\"halland\"]\n[rules.recording-video]\nenabled = false\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let out = scan_alert(&cfg, &db, &input);
    let err = stderr(&out);
    assert!(
        err.contains("alerts (webhook): 0 delivered, 0 to try again later, 3 given up"),
        "{err}"
    );
    // The alerts' own mails, and one to IT security of each dead call, all sent by the scan.
    let mails = sink.messages();
    let told: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("alert-undeliverable"))
        .collect();
    assert_eq!(told.len(), 3, "one per dead call: {mails:?}");
    for m in &told {
        assert_eq!(header(m, "X-Envelope-To"), Some("sec@region.se"));
        assert_eq!(
            header(m, "Subject"),
            Some("[motesvakt] HÖG: larm kunde inte levereras")
        );
        assert!(m.contains("Ansvarig: webhook"), "{m}");
        assert!(!m.contains("127.0.0.1"), "never the url: {m}");
    }
    let listed = motesvakt(&["incidents", "--json", "--db", db.to_str().unwrap()]);
    assert_no_leaks(None, &[&listed.stdout]);
    let own: Vec<serde_json::Value> = incidents(&listed)
        .into_iter()
        .filter(|i| i["rule"] == "alert-undeliverable")
        .collect();
    assert_eq!(own.len(), 3);
    for i in &own {
        assert_eq!(i["actor"]["id"], "webhook");
        let summary = i["summary"].as_str().unwrap();
        assert!(summary.contains("webhooken"), "{summary}");
    }
    // A rescan: nothing is called or told again.
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("0 delivered, 0 to try again later, 0 given up"),
        "{}",
        stderr(&out)
    );
    assert_eq!(hook.requests().len(), 3);
    assert_eq!(
        sink.messages()
            .iter()
            .filter(|m| m.contains("alert-undeliverable"))
            .count(),
        3
    );
}

#[test]
fn a_pending_alert_of_an_incident_withdrawn_since_is_not_sent() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (input, cfg, db) = setup(dir.path(), port, "tls = \"none\"\n");
    let d = db.to_str().unwrap();
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("3 to try again later"),
        "{}",
        stderr(&out)
    );
    // The recordings no longer count: their incidents are withdrawn, and their alerts with them.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}[rules.recording-video]\nenabled = false\n"),
    )
    .unwrap();
    scan_alert(&cfg, &db, &input);
    let listed = stdout(&motesvakt(&["alerts", "--db", d]));
    let withdrawn = listed.lines().filter(|l| l.contains(" withdrawn ")).count();
    assert_eq!(withdrawn, 3, "{listed}");
    assert_eq!(
        stdout(&motesvakt(&["alerts", "--pending", "--db", d]))
            .lines()
            .count(),
        3
    );
    let sink = Sink::start(&dir.path().join("mail"), &["--port", &port.to_string()]);
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("3 mail(s) sent"), "{}", stderr(&out));
    let mails = sink.messages();
    assert_eq!(mails.len(), 3);
    for m in &mails {
        assert!(m.contains("chat-patient-data"), "{m}");
        assert!(!m.contains("recording-video"), "{m}");
    }
}

/// A meeting with an external guest, a recording and a planted personnummer in the chat: the
/// chat is critical, a possible IMY case.
fn imy_case(meeting: &str, actor: &str) -> Vec<String> {
    let mut lines = vec![ev(
        meeting,
        0,
        "gast@extern.example",
        "participant_joined",
        json!({}),
    )];
    lines.extend(breach(meeting, actor));
    lines
}

#[test]
fn the_service_escalates_an_open_imy_case_once_and_not_an_acknowledged_one() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let mut lines = imy_case("mote-anna", "anna@region.se");
    lines.extend(imy_case("mote-bo", "bo@region.se"));
    let (mut service, cfg, _) = Service::start(
        dir.path(),
        sink.port,
        "escalate_after = \"15s\"\n",
        Some(&lines),
    );
    let c = cfg.to_str().unwrap();
    let started = service.started;
    let mut wait_for = |n: usize, within: Duration| service.wait_for(&sink, n, within);
    // Each manager, and IT security (the chats are critical) for each meeting.
    wait_for(4, Duration::from_secs(40));
    // Bo's manager acknowledges both of Bo's incidents (by a unique start of each id).
    let listed = incidents(&motesvakt(&["incidents", "--json", "--config", c]));
    let bo: Vec<String> = listed
        .iter()
        .filter(|i| i["meeting"] == "mote-bo")
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bo.len(), 2, "{listed:?}");
    for id in &bo {
        let out = motesvakt(&[
            "incidents",
            "ack",
            &id[..8],
            "--by",
            "chef.bo",
            "--config",
            c,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("öppen → kvitterad"),
            "{}",
            stdout(&out)
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "acknowledged within escalate_after"
    );
    // Anna's chat is escalated to IT security.
    wait_for(5, Duration::from_secs(60));
    let mails = sink.messages();
    let esc: Vec<&String> = mails.iter().filter(|m| m.contains("ESKALERING")).collect();
    assert_eq!(esc.len(), 1, "{mails:?}");
    let esc = esc[0];
    assert_eq!(header(esc, "X-Envelope-To"), Some("sec@region.se"));
    assert!(
        header(esc, "Subject").is_some_and(|s| s.starts_with("[motesvakt] Eskalering: KRITISK")),
        "{esc}"
    );
    assert!(
        esc.contains("mote-anna") && !esc.contains("mote-bo"),
        "{esc}"
    );
    assert!(esc.contains("Tid kvar till IMY-fristen: 71 h"), "{esc}");
    assert!(esc.contains("motesvakt incidents ack "), "{esc}");
    // Once only.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(sink.messages().len(), 5);
    // Two IMY cases in Anna's meeting, in one mail: the chat, and the recording made while the
    // guest was there.
    let alerts = stdout(&motesvakt(&["alerts", "--config", c]));
    assert_eq!(
        alerts
            .lines()
            .filter(|l| l.contains("(escalation)"))
            .count(),
        2,
        "{alerts}"
    );
    service.stop();
}

#[test]
fn starttls_with_a_throwaway_certificate() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(made.success());
    let sink = Sink::start(
        &dir.path().join("mail"),
        &["--tls", cert.to_str().unwrap(), key.to_str().unwrap()],
    );
    // Plain text is refused by a server that requires STARTTLS...
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent"), "{}", stderr(&out));
    std::fs::remove_file(&db).unwrap();
    // ...and STARTTLS against a certificate nobody trusts fails...
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"required\"\n");
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent"), "{}", stderr(&out));
    assert!(sink.messages().is_empty());
    // ...while with it as ca_file the mail goes through encrypted.
    let extra = format!("tls = \"required\"\nca_file = {cert:?}\n");
    let (input, cfg, db) = setup(dir.path(), sink.port, &extra);
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("3 mail(s) sent"), "{}", stderr(&out));
    assert_eq!(sink.messages().len(), 3);
}

#[test]
fn test_alert_sends_one_mail_and_a_bad_directory_names_its_line() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (input, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let out = motesvakt(&[
        "test-alert",
        "--config",
        cfg.to_str().unwrap(),
        "--to",
        "it@region.se",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "X-Envelope-To"), Some("it@region.se"));
    assert_eq!(header(&mails[0], "Subject"), Some("[motesvakt] Testlarm"));
    let check = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("directory: 2 user(s), 2 with a manager"),
        "{}",
        stdout(&check)
    );
    std::fs::write(
        dir.path().join("katalog.csv"),
        "user;manager\nanna@region.se;chef@region.se\n;x@region.se\n",
    )
    .unwrap();
    let out = scan_alert(&cfg, &db, &input);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("katalog.csv: line 3"),
        "{}",
        stderr(&out)
    );
    let check = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(2));
    assert!(
        stderr(&check).contains("katalog.csv: line 3"),
        "{}",
        stderr(&check)
    );
}

#[test]
fn the_service_sends_within_group_wait_and_reads_a_changed_directory() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (mut service, _, watched) = Service::start(dir.path(), sink.port, "", None);
    let mut wait_for = |n: usize| service.wait_for(&sink, n, Duration::from_secs(40));
    wait_for(3);
    let recipients = |mails: &[String]| {
        let mut r: Vec<String> = mails
            .iter()
            .map(|m| header(m, "X-Envelope-To").unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        recipients(&sink.messages()),
        ["chef.anna@region.se", "chef.bo@region.se", "sec@region.se"]
    );
    // Anna has a new manager: the next alert goes to her.
    std::fs::write(
        dir.path().join("katalog.csv"),
        "user,manager\nanna@region.se,ny.chef@region.se\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    write(
        &watched,
        "more.ndjson",
        &breach("mote-anna-2", "anna@region.se"),
    );
    wait_for(4);
    let mails = sink.messages();
    assert_eq!(mails.len(), 4);
    let last = mails.iter().find(|m| m.contains("mote-anna-2")).unwrap();
    assert_eq!(header(last, "X-Envelope-To"), Some("ny.chef@region.se"));
    service.stop();
}

#[test]
fn the_hourly_cap_holds_back_what_is_over_it_and_says_so() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (_, cfg, db) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("[alerts]\n", "[alerts]\nhourly_cap = 2\n");
    std::fs::write(&cfg, text).unwrap();
    let mut lines = Vec::new();
    for m in ["mote-1", "mote-2", "mote-3", "mote-4"] {
        lines.extend(breach(m, "anna@region.se"));
    }
    let input = write(dir.path(), "in2/log.ndjson", &lines);
    let out = scan_alert(&cfg, &db, &input);
    assert!(
        stderr(&out).contains("2 mail(s) sent, 0 to try again later, 0 given up, 4 alert(s) held back by the hourly cap"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sink.messages().len(), 2);
    let pending = stdout(&motesvakt(&[
        "alerts",
        "--pending",
        "--db",
        db.to_str().unwrap(),
    ]));
    assert_eq!(pending.lines().count(), 4, "{pending}");
    assert!(
        pending
            .lines()
            .all(|l| l.contains("held back by the hourly cap")),
        "{pending}"
    );
    // One mail for all of them, not sent within the hour.
    let mails: std::collections::BTreeSet<&str> = pending
        .lines()
        .map(|l| l.split(" mail <").nth(1).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "{pending}");
    let out = scan_alert(&cfg, &db, &input);
    assert!(stderr(&out).contains("0 mail(s) sent"), "{}", stderr(&out));
    assert_eq!(sink.messages().len(), 2);
}

/// Below `immediate_severity`, a scan leaves the alerts to the service's daily digest: one
/// mail per recipient with all of their incidents, of every meeting, sent once (not again
/// after a restart).
/// Makes `cfg` (of [`setup`]) a service's with a state folder, only critical incidents
/// immediate (the rest in the digest), a watched folder with nothing in it, and `extra`; then
/// scans `input` into the state folder's database with alerts (none sent: all wait for the
/// digest).
fn digest_service_config(dir: &Path, cfg: &Path, input: &Path, extra: &str) {
    let state = dir.join("state");
    let watched = dir.join("watched");
    std::fs::create_dir_all(&watched).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let text = std::fs::read_to_string(cfg).unwrap().replace(
        "[alerts]\n",
        "[alerts]\nimmediate_severity = \"critical\"\n",
    );
    std::fs::write(
        cfg,
        format!(
            "state_dir = {state:?}\n{text}\n[service]\nrescan = \"200ms\"\n\
             [[watch]]\npath = {watched:?}\n{extra}"
        ),
    )
    .unwrap();
    let out = scan_alert(cfg, &state.join("motesvakt.sqlite"), input);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn the_digest_groups_each_recipients_incidents_in_one_mail_once() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (input, cfg, _) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let mut lines = breach("mote-anna", "anna@region.se");
    lines.extend(breach("mote-anna-2", "anna@region.se"));
    lines.extend(breach("mote-bo", "bo@region.se"));
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    digest_service_config(dir.path(), &cfg, &input, "");
    assert!(sink.messages().is_empty(), "a scan sends no digest");
    let run = |expect: usize, within: Duration| {
        let log = dir.path().join("service.log");
        let child = service_command(&cfg)
            .stderr(std::fs::File::create(&log).unwrap())
            .env("MOTESVAKT_LOG", "info")
            .spawn()
            .unwrap();
        let service = Service {
            child,
            log,
            started: Instant::now(),
        };
        while sink.messages().len() < expect && service.started.elapsed() < within {
            std::thread::sleep(Duration::from_millis(100));
        }
        // Time for anything more it would wrongly send.
        std::thread::sleep(Duration::from_secs(2));
        service.stop();
    };
    run(2, Duration::from_secs(40));
    let mails = sink.messages();
    let to = |addr: &str| -> Vec<&String> {
        mails
            .iter()
            .filter(|m| header(m, "X-Envelope-To") == Some(addr))
            .collect()
    };
    assert_eq!(mails.len(), 2, "{mails:?}");
    let anna = to("chef.anna@region.se");
    assert_eq!(anna.len(), 1, "{mails:?}");
    let anna = anna[0];
    assert!(
        header(anna, "Subject").is_some_and(|s| s.contains("Dagens sammanfattning")),
        "{anna}"
    );
    // Both of Anna's meetings, two incidents each, and nothing of Bo's.
    let meetings: Vec<&str> = anna
        .lines()
        .filter_map(|l| l.trim_end().strip_prefix("Möte: "))
        .collect();
    assert_eq!(
        meetings,
        ["mote-anna", "mote-anna-2", "mote-anna-2", "mote-anna"],
        "{anna}"
    );
    assert!(header(anna, "Subject").is_some_and(|s| s.ends_with("och 3 till")));
    assert!(!anna.contains("mote-bo"), "{anna}");
    assert_eq!(to("chef.bo@region.se").len(), 1);
    // A restart the same day sends nothing again.
    run(3, Duration::from_secs(4));
    assert_eq!(sink.messages().len(), 2);
}

#[test]
fn the_digest_attaches_the_managers_own_report_and_names_the_linked_one() {
    if !have_aiosmtpd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start(&dir.path().join("mail"), &[]);
    let (input, cfg, _) = setup(dir.path(), sink.port, "tls = \"none\"\n");
    let folder = dir.path().join("rapporter");
    // Each manager's own weekly report attached; Bo's own daily one as a link; both with a
    // period long enough to hold the 2020 fixtures.
    digest_service_config(
        dir.path(),
        &cfg,
        &input,
        &format!(
            "[[reports]]\nname = \"chefer\"\nper_manager = true\nevery = \"weekly\"\n\
             period = \"5000d\"\nformat = \"md\"\nfolder = {folder:?}\nattach_to_digest = true\n\
             [[reports]]\nname = \"bo\"\nmanager = \"chef.bo@region.se\"\nevery = \"daily\"\n\
             period = \"5000d\"\nfolder = {folder:?}\n"
        ),
    );
    let out = motesvakt(&["reports", "run", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    let log = dir.path().join("service.log");
    let child = service_command(&cfg)
        .stderr(std::fs::File::create(&log).unwrap())
        .env("MOTESVAKT_LOG", "info")
        .spawn()
        .unwrap();
    let mut service = Service {
        child,
        log,
        started: Instant::now(),
    };
    service.wait_for(&sink, 2, Duration::from_secs(40));
    let logged = std::fs::read_to_string(&service.log).unwrap();
    assert!(!logged.contains("written"), "written twice: {logged}");
    service.stop();
    let mails = sink.messages();
    let to = |addr: &str| -> String {
        let found: Vec<&String> = mails
            .iter()
            .filter(|m| header(m, "X-Envelope-To") == Some(addr))
            .collect();
        assert_eq!(found.len(), 1, "{mails:?}");
        found[0].clone()
    };
    let anna = to("chef.anna@region.se");
    let bo = to("chef.bo@region.se");
    assert!(anna.contains("Schemalagda rapporter:"), "{anna}");
    let attached = |mail: &str| -> Vec<String> {
        mail.lines()
            .filter_map(|l| l.strip_prefix("Attachment: "))
            .map(str::to_string)
            .collect()
    };
    let anna_files = attached(&anna);
    assert_eq!(anna_files.len(), 1, "{anna}");
    assert!(
        anna_files[0].starts_with("chefer-chef-anna-region-se-"),
        "{anna}"
    );
    assert!(!anna.contains("chef-bo"), "{anna}");
    let bo_files = attached(&bo);
    assert_eq!(bo_files.len(), 1, "{bo}");
    assert!(bo_files[0].starts_with("chefer-chef-bo-region-se-"), "{bo}");
    // Bo's own daily report is named by its path, not attached.
    let link = bo
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/bo-chef-bo-region-se-") && l.ends_with(".html"))
        .unwrap_or_else(|| panic!("no link: {bo}"));
    assert!(Path::new(link).is_file(), "{link}");
    // The attachment is the report as written: Anna's incidents only, and no number.
    let eml = std::fs::read_dir(&sink.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "att"))
        .collect::<Vec<_>>();
    assert_eq!(eml.len(), 2, "{eml:?}");
    assert_no_leaks(Some(&sink.dir), &[]);
    pnr_leaks(&[&sink.dir, &folder]);
    for att in eml {
        for f in std::fs::read_dir(&att).unwrap() {
            let f = f.unwrap().path();
            let body = std::fs::read_to_string(&f).unwrap();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(
                body,
                std::fs::read_to_string(folder.join(&name)).unwrap(),
                "{name}"
            );
            if name.contains("chef-anna") {
                assert!(
                    body.contains("mote-anna") && !body.contains("mote-bo"),
                    "{body}"
                );
            }
        }
    }
}
