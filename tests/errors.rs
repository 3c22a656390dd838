//! Error messages, diagnostics and logs never echo an identity number, whatever part of the
//! input or the command line holds it; the database and its -wal and -shm files are private
//! whatever the umask; a full disk gives a message naming the cause.
//!
//! Every test runs the real binary. The identity numbers are made here, with a valid check
//! digit, and looked for in every written form in everything the process writes.

mod common;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_motesvakt");

/// A valid personnummer `YYYYMMDDNNNC` for a date and a three-digit serial: the check digit is
/// computed (Luhn over the last ten digits).
fn personnummer(date: &str, serial: &str) -> String {
    let ten: Vec<u32> = date[2..]
        .chars()
        .chain(serial.chars())
        .map(|c| c.to_digit(10).unwrap())
        .collect();
    assert_eq!(ten.len(), 9);
    let sum: u32 = ten
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let v = d * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    format!("{date}{serial}{}", (10 - sum % 10) % 10)
}

/// The written forms of a twelve-digit number: 12 and 10 digits, with `-`, `+`, a space or
/// nothing before the last four.
fn forms(p: &str) -> Vec<String> {
    let (long, short, tail) = (&p[..8], &p[2..8], &p[8..]);
    vec![
        p.to_string(),
        format!("{long}-{tail}"),
        format!("{long} {tail}"),
        format!("{short}{tail}"),
        format!("{short}-{tail}"),
        format!("{short}+{tail}"),
        format!("{short} {tail}"),
    ]
}

/// Panics (without printing the number) when `out` holds `p` in any written form, also with
/// separators and blanks left out anywhere (`19790315-1234` split by an escape or a line break).
fn assert_hidden(what: &str, out: &[u8], p: &str) {
    let text = String::from_utf8_lossy(out);
    for (k, form) in forms(p).iter().enumerate() {
        assert!(
            !text.contains(form.as_str()),
            "{what}: written form #{k} of the planted number is in the output"
        );
    }
    let core = &p[2..];
    // Digits of the number kept in order with only separators, blanks or escapes between.
    let stripped: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | '+' | ' ' | '\n' | '\\' | '`' | '"' | '\''))
        .collect();
    assert!(
        !stripped.contains(core),
        "{what}: the planted number is in the output with separators or quotes between its digits"
    );
}

/// Runs the binary and checks that neither stdout nor stderr holds any of `planted`; returns
/// the output.
fn run_hidden(what: &str, args: &[&std::ffi::OsStr], planted: &[&str]) -> Output {
    // In a folder of its own: a service that starts makes its state folder in the working
    // directory.
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(args)
        .current_dir(cwd.path())
        .env("MOTESVAKT_LOG", "debug")
        .output()
        .expect("motesvakt runs");
    for p in planted {
        assert_hidden(&format!("{what} (stdout)"), &out.stdout, p);
        assert_hidden(&format!("{what} (stderr)"), &out.stderr, p);
    }
    assert!(
        !out.stderr.contains(&0x1b) && !out.stdout.contains(&0x1b),
        "{what}: a raw ESC reached the terminal"
    );
    out
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn the_personnummer_made_here_are_valid_and_seen_by_the_check() {
    let p = personnummer("19790315", "123");
    assert_eq!(p.len(), 12);
    // The independent checker of the other leak tests finds it in every form...
    for form in forms(&p) {
        if form.contains(' ') {
            continue; // that checker does not read the space form
        }
        assert_eq!(common::leaks(form.as_bytes()).len(), 1, "a valid number");
    }
    // ...and this one does too.
    let caught = std::panic::catch_unwind(|| assert_hidden("self-test", p.as_bytes(), &p));
    assert!(caught.is_err(), "assert_hidden sees the number");
    let caught = std::panic::catch_unwind(|| {
        assert_hidden(
            "self-test",
            format!("x{}`-`{}", &p[..8], &p[8..]).as_bytes(),
            &p,
        )
    });
    assert!(caught.is_err(), "assert_hidden sees it split by quotes");
}

#[test]
fn event_lines_with_numbers_in_bad_values_are_rejected_without_echoing_them() {
    let p = personnummer("19790315", "123");
    let (long, tail) = (&p[..8], &p[8..]);
    let dir = tempfile::tempdir().unwrap();
    // Each line is rejected by a value that holds the number, written so as to end a
    // quotation early: backticks, escaped quotes, a \u escape of a backtick.
    let values = [
        format!("vid`{p}`eo"),
        format!("x\\\"{long}-{tail}\\\" y"),
        format!("`\\\"` {p} `"),
        format!("a\\u0060{p}\\u0060b"),
        format!("{long}-{tail}"),
    ];
    let mut lines = Vec::new();
    for v in &values {
        let base = |extra: &str| {
            format!(
                r#"{{"time":"2024-05-02T10:00:00Z","platform":"teams","meeting":"m1","type":"recording_started","actor":{{"id":"a@region.se"}},"media":"video"{extra}}}"#
            )
        };
        lines.push(base("").replace(r#""media":"video""#, &format!(r#""media":"{v}""#)));
        lines.push(base("").replace(r#""platform":"teams""#, &format!(r#""platform":"{v}""#)));
        lines.push(base("").replace(
            r#""actor":{"id":"a@region.se"}"#,
            &format!(r#""actor":{{"id":"a@region.se","kind":"{v}"}}"#),
        ));
        lines.push(
            base(&format!(r#","role":"{v}""#)).replace("recording_started", "participant_joined"),
        );
        lines.push(
            base(&format!(r#","via_lobby":"{v}""#))
                .replace("recording_started", "participant_joined"),
        );
        lines.push(
            base(&format!(r#","scope":"{v}""#))
                .replace("recording_started", "screen_share_started"),
        );
        lines.push(
            base(&format!(r#","reason":"{v}""#)).replace("recording_started", "meeting_ended"),
        );
        lines.push(
            base(&format!(r#","text":["{v}"]"#)).replace("recording_started", "chat_message"),
        );
        lines.push(
            base(&format!(r#","started":"{v}""#))
                .replace("recording_started", "recording_completed"),
        );
        lines.push(base("").replace("2024-05-02T10:00:00Z", v));
        // A broken line: the JSON ends inside the value.
        lines.push(format!(r#"{{"time":"2024-05-02T10:00:00Z","meeting":"{v}"#));
    }
    let path = common::write(dir.path(), "bad.ndjson", &lines);
    let out = run_hidden("bad event lines", &[os("scan"), path.as_os_str()], &[&p]);
    let e = err(&out);
    // Every line is rejected with its line and the field at fault.
    assert!(
        e.contains(&format!(
            "{} records read, 0 mapped, 0 unmapped, {} rejected",
            lines.len(),
            lines.len()
        )),
        "{e}"
    );
    for want in [
        "bad.ndjson:1: field `media` must be video or audio",
        "bad.ndjson:2: field `platform` must be one of teams",
        "bad.ndjson:3: field `actor` must be an object with a string `id`",
        "bad.ndjson:4: field `role` must be one of",
        "bad.ndjson:5: field `via_lobby` must be true or false",
        "bad.ndjson:6: field `scope` must be one of",
        "bad.ndjson:7: field `reason` must be one of",
        "bad.ndjson:8: field `text` must be a string",
        "bad.ndjson:9: field `started` is not an RFC 3339 time",
        "bad.ndjson:10: field `time` is not an RFC 3339 time",
        "bad.ndjson:11: not valid JSON (EOF while parsing a string at column",
    ] {
        assert!(e.contains(want), "{want}\n{e}");
    }
}

#[test]
fn broken_records_of_every_platform_format_are_rejected_without_echoing_them() {
    let p = personnummer("19790315", "123");
    let dir = tempfile::tempdir().unwrap();
    let json = format!("{{\"id\": \"`{p}`\\\"\", \"x\": [\"{p}\" 1]}}\n");
    let csv = format!(
        "CreationDate,UserIds,Operations,AuditData\n2024-05-02T10:00:00,a,MeetingDetail,\"{{\"\"Id\"\": \"\"`{p}`\\\"\"\", x}}\"\n"
    );
    let json_path = dir.path().join("broken.json");
    std::fs::write(&json_path, &json).unwrap();
    let csv_path = dir.path().join("broken.csv");
    std::fs::write(&csv_path, &csv).unwrap();
    for format in [
        "native",
        "teams-audit-json",
        "teams-graph",
        "zoom",
        "pexip",
        "webex",
        "teams-audit-csv",
    ] {
        let path = if format == "teams-audit-csv" {
            &csv_path
        } else {
            &json_path
        };
        let out = run_hidden(
            format,
            &[os("scan"), os("--format"), os(format), path.as_os_str()],
            &[&p],
        );
        let e = err(&out);
        assert!(e.contains("1 rejected"), "{format}: {e}");
        assert!(e.contains("not valid JSON"), "{format}: {e}");
    }
}

#[test]
fn file_and_folder_names_are_shown_redacted_and_escaped() {
    let p = personnummer("19790315", "123");
    let (long, short, tail) = (&p[..8], &p[2..8], &p[8..]);
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(format!("vmr.{p}"));
    std::fs::create_dir_all(&folder).unwrap();
    // A bad line, in a file named with the number (and a terminal escape).
    let good = common::ev(
        "m1",
        0,
        "a@region.se",
        "participant_joined",
        serde_json::json!({}),
    );
    common::write(
        &folder,
        &format!("{long}-{tail}\u{1b}[2J.ndjson"),
        &[good, "{not json".to_string()],
    );
    // A file that is no format motesvakt knows.
    std::fs::write(folder.join(format!("x{short}+{tail}.txt")), "hello\n").unwrap();
    let out = run_hidden(
        "names in a folder",
        &[os("scan"), folder.as_os_str()],
        &[&p],
    );
    let e = err(&out);
    assert!(e.contains("not valid JSON"), "{e}");
    assert!(
        e.contains("skipped: not a format motesvakt recognises"),
        "{e}"
    );
    assert!(
        e.contains("\\u{1b}[2J.ndjson:2:"),
        "the escape is shown escaped: {e}"
    );
    // A path that does not exist; a database that does not exist.
    let missing = dir.path().join(format!("{p}.json"));
    let out = run_hidden("a missing path", &[os("scan"), missing.as_os_str()], &[&p]);
    assert!(
        err(&out).contains("no such file or folder"),
        "{}",
        err(&out)
    );
    let out = run_hidden(
        "a missing database",
        &[os("incidents"), os("--db"), missing.as_os_str()],
        &[&p],
    );
    assert!(err(&out).contains("no such database"), "{}", err(&out));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn command_line_values_profile_and_rule_names_are_shown_redacted() {
    let p = personnummer("19790315", "123");
    let (long, tail) = (&p[..8], &p[8..]);
    let dashed = format!("{long}-{tail}");
    let glued = format!("x{p}");
    let dir = tempfile::tempdir().unwrap();
    let input = common::write(dir.path(), "a.ndjson", &[]);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("--format", vec!["scan", "--format", &p, "-"]),
        ("--lang", vec!["scan", "--lang", &dashed, "-"]),
        ("--threads", vec!["scan", "--threads", &p, "-"]),
        ("--fail-on", vec!["scan", "--fail-on", &glued, "-"]),
        (
            "--since",
            vec!["incidents", "--db", "x", "--since", &dashed],
        ),
        (
            "--severity",
            vec!["incidents", "--db", "x", "--severity", &p],
        ),
        ("--log-format", vec!["run", "--log-format", &dashed]),
        ("an unknown subcommand", vec![&p]),
        ("rules --profile", vec!["rules", "--profile", &dashed]),
        ("rules --profile glued", vec!["rules", "--profile", &glued]),
    ];
    for (what, args) in cases {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| os(a)).collect();
        let out = run_hidden(what, &args, &[&p]);
        assert_eq!(out.status.code(), Some(2), "{what}: {}", err(&out));
        assert!(!err(&out).is_empty(), "{what}: says why");
    }
    let _ = input;
}

#[test]
fn config_errors_name_line_column_and_key_and_never_show_the_value() {
    let p = personnummer("19790315", "123");
    let (long, short, tail) = (&p[..8], &p[2..8], &p[8..]);
    let dir = tempfile::tempdir().unwrap();
    let input = common::write(dir.path(), "a.ndjson", &[]);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("profiles = [\"{long}-{tail}\"]\n"),
            "unknown profile",
        ),
        (format!("profiles = [\"x{p}\"]\n"), "unknown profile"),
        (format!("[rules.{p}]\nenabled = false\n"), "unknown rule"),
        (
            format!("[rules.r{long}-{tail}]\nenabled = false\n"),
            "unknown rule",
        ),
        (
            format!("[rules.chat-patient-data]\nseverity = \"h`{p}`\\\"\"\n"),
            "line 2, column 12, key `rules.chat-patient-data.severity`: unknown value, expected one of",
        ),
        (
            format!("[detect]\ncustom = \"{long}-{tail}\"\n"),
            "line 2, column 10, key `detect.custom`: wrong type, expected a sequence",
        ),
        (
            format!("[sensitivity]\ncare_keywords = [\"a\", {p}]\n"),
            "key `sensitivity.care_keywords`: wrong type",
        ),
        (
            format!("[[detect.custom]]\nname = \"x\"\nregex = \"{p}(\"\n"),
            "invalid `regex`: unclosed group",
        ),
        (
            format!("[[detect.custom]]\nname = \"{short}-{tail}\"\nregex = \"(\"\n"),
            "invalid `regex`",
        ),
        (
            format!("[[exceptions]]\nrule = \"{p}\"\nmeetings = [\"m\"]\nreason = \"r\"\n"),
            "exceptions[0].rule: unknown rule",
        ),
        (
            format!("internal_domains = [\"{short}-{tail}\"]\n"),
            "is not an e-mail domain",
        ),
        (
            format!("[[watch]]\npath = \"/tmp\"\nformat = \"{p}\"\n"),
            "watch[0].format: unknown format",
        ),
        (
            format!("[[watch]]\npath = \"/tmp\"\ninclude = [\"{p}[\"]\n"),
            "watch[0].include[0]",
        ),
        (format!("[service]\nrescan = \"{p}x\"\n"), "service.rescan"),
        (
            format!("[rules.meeting-not-ended]\ntimeout = \"{p}\"\n"),
            "key `rules.meeting-not-ended.timeout`",
        ),
        (
            format!("profile_files = [\"/nonexistent/{p}.toml\"]\n"),
            "profile_files[0]",
        ),
        (format!("{p} = 1\n"), "line 1, column 1"),
        (format!("profiles = [\"{p}"), "line 1, column"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let cfg = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&cfg, text).unwrap();
        for cmd in ["check-config", "scan"] {
            let mut args = vec![os(cmd), os("--config"), cfg.as_os_str()];
            if cmd == "scan" {
                args.push(input.as_os_str());
            }
            let out = run_hidden(&format!("config #{i} ({cmd})"), &args, &[&p]);
            assert_eq!(out.status.code(), Some(2), "#{i}: {}", err(&out));
            let e = err(&out);
            assert!(e.contains(want), "#{i} ({cmd}): want {want:?}\n{e}");
            assert!(
                e.lines().count() <= 2 && !e.contains(" | "),
                "#{i} ({cmd}): one message, no snippet of the file\n{e}"
            );
        }
        // The service logs the same refusal and exits with EX_CONFIG.
        let out = run_hidden(
            &format!("config #{i} (run)"),
            &[
                os("run"),
                os("--config"),
                cfg.as_os_str(),
                os("--log-format"),
                os("json"),
            ],
            &[&p],
        );
        assert_eq!(out.status.code(), Some(78), "#{i}: {}", err(&out));
    }
    // A config file named with the number, missing.
    let missing = dir.path().join(format!("{long}-{tail}.toml"));
    let out = run_hidden(
        "a missing config",
        &[os("check-config"), os("--config"), missing.as_os_str()],
        &[&p],
    );
    assert!(
        err(&out).contains("cannot read config file"),
        "{}",
        err(&out)
    );
}

/// The mode of a file, without the type bits.
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_database_its_wal_and_shm_and_the_key_are_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    // umask 000: a file made with the default mode would be readable by everyone. The scan
    // reads standard input, so it holds the database open (with its -wal and -shm files)
    // until the input ends.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" scan --db \"$1\" -")
        .arg(BIN)
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let shm = PathBuf::from(format!("{}-shm", db.display()));
    let started = Instant::now();
    while !(wal.exists() && shm.exists()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no -wal and -shm files after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A file made under umask 000 by this test is world-readable: the umask did apply.
    let probe = dir.path().join("probe");
    Command::new("sh")
        .arg("-c")
        .arg("umask 000; : > \"$0\"")
        .arg(&probe)
        .status()
        .unwrap();
    assert_eq!(mode(&probe), 0o666, "the umask of the shell applies");
    for f in [&db, &wal, &shm, &dir.path().join("motesvakt.key")] {
        assert_eq!(
            mode(f),
            0o600,
            "{} is readable by its owner only",
            f.display()
        );
    }
    let mut stdin = child.stdin.take().unwrap();
    let line = common::ev(
        "m1",
        0,
        "a@region.se",
        "participant_joined",
        serde_json::json!({}),
    );
    writeln!(stdin, "{line}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&db), 0o600);
}

/// A tmpfs of `kib` KiB at `dir`, unmounted when dropped; `None` (with a note on stderr) where
/// this process may not mount (not root, or in a container without the capability).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, kib: u32) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("note: cannot mount a tmpfs here (needs root): full-disk test skipped");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Many meetings, one event each: enough to fill a small database.
fn many_meetings(dir: &Path, n: usize) -> PathBuf {
    let lines: Vec<String> = (0..n)
        .map(|i| {
            common::ev(
                &format!("meeting-{i}"),
                (i % 600) as u32,
                &format!("user{i}@region.se"),
                "recording_started",
                serde_json::json!({"media": "video"}),
            )
        })
        .collect();
    common::write(dir, "many.ndjson", &lines)
}

#[test]
fn a_full_disk_under_the_database_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_meetings(dir.path(), 6000);
    let Some(fs) = Tmpfs::mount(&dir.path().join("small"), 256) else {
        return;
    };
    let db = fs.0.join("m.sqlite");
    let out = Command::new(BIN)
        .args([os("scan"), os("--db"), db.as_os_str(), input.as_os_str()])
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let e = err(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!(
            "database {}: the disk is full (No space left on device)",
            db.display()
        )),
        "{e}"
    );
    assert!(e.contains("free space"), "says what to do: {e}");
    assert!(
        !e.contains("database or disk is full"),
        "not SQLite's words: {e}"
    );

    // The service: the same message in its log, and EX_TEMPFAIL so that systemd restarts it.
    let state = fs.0.join("state");
    let watched = dir.path().join("in");
    std::fs::create_dir_all(&watched).unwrap();
    std::fs::copy(&input, watched.join("many.ndjson")).unwrap();
    // Empty the file system again: the service starts, then fills it while it stores batches.
    for entry in std::fs::read_dir(&fs.0).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let cfg = dir.path().join("service.toml");
    std::fs::write(
        &cfg,
        format!(
            "internal_domains = [\"region.se\"]\nstate_dir = \"{}\"\n[service]\nrescan = \"200ms\"\nquiescence = \"100ms\"\n\n[[watch]]\npath = \"{}\"\n",
            state.display(),
            watched.display()
        ),
    )
    .unwrap();
    let (code, log) = run_service_until_it_stops(&cfg);
    assert_eq!(code, Some(75), "{log}");
    assert!(
        log.contains("the disk is full (No space left on device)"),
        "{log}"
    );

    // Started on a disk already full (its key made, its database gone): the database cannot
    // be opened, and that too is a store error that systemd restarts (not EX_CONFIG, after
    // which it would stay down once the disk has room again).
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("motesvakt.key") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let mut fill = std::fs::File::create(fs.0.join("fill")).unwrap();
    while fill.write_all(&[0u8; 4096]).is_ok() {}
    drop(fill);
    let (code, log) = run_service_until_it_stops(&cfg);
    assert_eq!(code, Some(75), "{log}");
    let db = state.join("motesvakt.sqlite");
    assert!(
        log.contains(&format!("database {}", db.display()))
            && (log.contains("the disk is full") || log.contains("a write to the file failed")),
        "{log}"
    );
}

/// Runs `motesvakt run --config CFG` until it exits (at most 60 s); its exit code and log.
fn run_service_until_it_stops(cfg: &Path) -> (Option<i32>, String) {
    let mut child = common::service_command(cfg)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the service did not stop within 60 s on a full disk");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    (status.code(), log)
}

#[test]
fn a_full_disk_under_the_key_file_is_named_and_leaves_no_key_behind() {
    let dir = tempfile::tempdir().unwrap();
    let input = common::write(dir.path(), "a.ndjson", &[]);
    let Some(fs) = Tmpfs::mount(&dir.path().join("small"), 64) else {
        return;
    };
    // Fill it.
    let mut fill = std::fs::File::create(fs.0.join("fill")).unwrap();
    let block = vec![0u8; 4096];
    while fill.write_all(&block).is_ok() {}
    drop(fill);
    let db = fs.0.join("m.sqlite");
    let out = Command::new(BIN)
        .args([os("scan"), os("--db"), db.as_os_str(), input.as_os_str()])
        .output()
        .unwrap();
    let e = err(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    let key = fs.0.join("motesvakt.key");
    assert!(
        e.contains(&format!(
            "cannot create the secret key file {}: the disk is full",
            key.display()
        )) && e.contains("No space left on device"),
        "{e}"
    );
    let left: Vec<String> = std::fs::read_dir(&fs.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "fill")
        .collect();
    assert!(
        left.iter().all(|n| !n.contains("motesvakt.key")),
        "no key, whole or partial, is left: {left:?}"
    );
}

/// Without root: a file size limit (`ulimit -f`, with SIGXFSZ ignored so that the write fails
/// with EFBIG instead of killing the process) stands in for a full disk. SQLite reports it as
/// an I/O error, not as a full disk: the message says a write failed and what to check.
#[test]
fn a_write_refused_by_a_file_size_limit_is_named_and_fails_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_meetings(dir.path(), 6000);
    let db = dir.path().join("m.sqlite");
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 200; exec \"$0\" scan --db \"$1\" \"$2\"")
        .arg(BIN)
        .arg(&db)
        .arg(&input)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let e = err(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!("database {}:", db.display()))
            && (e.contains("a write to the file failed (disk I/O error)")
                || e.contains("the disk is full")),
        "{e}"
    );
    assert!(e.contains("file size limit"), "{e}");
}
