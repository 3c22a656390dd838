//! End-to-end tests of `motesvakt scan`: the real binary on files written here.

mod common;

use common::*;
use serde_json::json;

const M: &str = "meeting-1";

fn video(meeting: &str, minute: u32) -> String {
    ev(
        meeting,
        minute,
        "anna@region.se",
        "recording_started",
        json!({"media": "video"}),
    )
}

fn chat(meeting: &str, minute: u32, text: &str) -> String {
    ev(
        meeting,
        minute,
        "anna@region.se",
        "chat_message",
        json!({ "text": text }),
    )
}

fn control(meeting: &str, minute: u32, target: &str) -> String {
    ev(
        meeting,
        minute,
        "anna@region.se",
        "control_granted",
        json!({"target": {"id": target}}),
    )
}

#[test]
fn patient_data_after_the_recording_makes_it_a_breach() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "late.ndjson",
        &[
            video(M, 0),
            chat(M, 5, "hej, hör ni mig?"),
            chat(M, 20, &format!("pnr {PNR} inför remissen")),
        ],
    );
    let cfg = config(dir.path(), &["halland"]);
    let out = motesvakt_paths(
        &["scan", "--json", "--config", cfg.to_str().unwrap()],
        &[&file],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let inc = incidents(&out);
    assert_eq!(
        triples(&inc),
        [
            t("chat-patient-data", M, "high"),
            t("recording-video", M, "high")
        ]
    );
    let rec = inc.iter().find(|i| i["rule"] == "recording-video").unwrap();
    assert_eq!(rec["time"], "2020-05-04T08:00:00Z");
    assert_eq!(rec["evidence"]["sensitive"]["field"], "chat");
    assert_eq!(rec["routine"]["file"], "region-halland-distansmoten.txt");
    assert_eq!(
        rec["routine"]["profile_file"],
        "config/profiles/halland.toml"
    );
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);

    // Without the patient data, the same recording is only an observation under halland.
    let file = write(
        dir.path(),
        "plain.ndjson",
        &[video("m2", 0), chat("m2", 5, "hej")],
    );
    let out = motesvakt_paths(
        &["scan", "--json", "--config", cfg.to_str().unwrap()],
        &[&file],
    );
    assert_eq!(
        triples(&incidents(&out)),
        [t("recording-video", "m2", "info")]
    );
}

#[test]
fn the_three_profiles_judge_as_their_routines_say() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mix.ndjson",
        &[
            // m-video: a video recording, no patient data.
            video("m-video", 0),
            // m-audio: audio only, with patient data: never recording-video.
            ev(
                "m-audio",
                0,
                "anna@region.se",
                "recording_started",
                json!({"media": "audio"}),
            ),
            // m-control: control to a colleague, to a subdomain colleague, to an outsider, to a guest.
            control("m-control", 1, "bo@region.se"),
            control("m-control", 2, "cia@vard.region.se"),
            control("m-control", 3, "eve@example.com"),
            ev(
                "m-control",
                4,
                "anna@region.se",
                "control_granted",
                json!({"target": {"id": "gus", "kind": "guest"}}),
            ),
            // m-chat: a phone number and an order number are not patient data.
            chat("m-chat", 1, "ring mig på 070-123 45 67"),
            chat("m-chat", 2, "order 5566778899 levereras 13:15"),
            chat("m-chat", 3, &format!("född {PNR2}")),
        ],
    );
    let expect = |profile: &str, mut want: Vec<(String, String, String)>| {
        let cfg = config(dir.path(), &[profile]);
        let out = motesvakt_paths(
            &["scan", "--json", "--config", cfg.to_str().unwrap()],
            &[&file],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        want.sort();
        assert_eq!(triples(&incidents(&out)), want, "profile {profile}");
        for i in incidents(&out) {
            assert_eq!(i["profile"], profile);
        }
        assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    };
    // vgr-samsa forbids video recording outright and allows audio by a participant; it has
    // no clause on remote control.
    expect(
        "vgr-samsa",
        vec![
            t("chat-patient-data", "m-chat", "high"),
            t("recording-video", "m-video", "high"),
            t("recording-audio", "m-audio", "info"),
        ],
    );
    // orebro forbids all recording and control outside the municipality.
    expect(
        "orebro",
        vec![
            t("chat-patient-data", "m-chat", "high"),
            t("recording-video", "m-video", "high"),
            t("recording-audio", "m-audio", "high"),
            t("control-external", "m-control", "high"),
            t("control-external", "m-control", "high"),
        ],
    );
    // halland: recording is an observation unless the meeting is sensitive.
    expect(
        "halland",
        vec![
            t("chat-patient-data", "m-chat", "high"),
            t("recording-video", "m-video", "info"),
            t("recording-audio", "m-audio", "info"),
            t("control-external", "m-control", "high"),
            t("control-external", "m-control", "high"),
        ],
    );
}

#[test]
fn malformed_line_and_unknown_type_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.ndjson",
        &[
            video(M, 0),
            "{\"time\": \"2024-05-02T10:01:00+02:00\", oops".to_string(),
            ev(M, 2, "anna@region.se", "hand_raised", json!({})),
            ev(M, 3, "anna@region.se", "chat_message", json!({})),
            control(M, 4, "eve@example.com"),
        ],
    );
    let cfg = config(dir.path(), &["halland"]);
    let out = motesvakt_paths(
        &["scan", "--json", "--config", cfg.to_str().unwrap()],
        &[&file],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        triples(&incidents(&out)),
        [
            t("control-external", M, "high"),
            t("recording-video", M, "info")
        ]
    );
    let err = stderr(&out);
    let path = file.display().to_string();
    assert!(err.contains(&format!("{path}:2: not valid JSON")), "{err}");
    assert!(
        err.contains(&format!("{path}:4: missing field `text`")),
        "{err}"
    );
    assert!(
        !err.contains(":3:"),
        "an unknown type is not an error: {err}"
    );
    let summary = err.lines().last().unwrap();
    assert!(summary.contains("2 events"), "{summary}");
    assert!(summary.contains("2 lines skipped"), "{summary}");
    assert!(summary.contains("1 unmapped"), "{summary}");
    assert!(
        summary.contains("1 high") && summary.contains("1 info"),
        "{summary}"
    );
    assert!(
        err.contains("format native: 5 records read, 2 mapped, 1 unmapped, 2 rejected"),
        "{err}"
    );
}

#[test]
fn second_scan_with_db_raises_nothing_new_and_late_evidence_raises_severity() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.sqlite");
    let cfg = config(dir.path(), &["halland"]);
    let first = write(
        dir.path(),
        "in/a.ndjson",
        &[video(M, 0), control(M, 1, "eve@example.com")],
    );
    let args = [
        "scan",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];

    let out = motesvakt_paths(&args, &[&first]);
    let inc = incidents(&out);
    assert_eq!(
        triples(&inc),
        [
            t("control-external", M, "high"),
            t("recording-video", M, "info")
        ]
    );
    let recording_id = inc.iter().find(|i| i["rule"] == "recording-video").unwrap()["id"].clone();

    // The same files again: nothing new.
    let out = motesvakt_paths(&args, &[&first]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let summary = stderr(&out);
    assert!(summary.contains("0 new, 0 raised"), "{summary}");
    assert!(summary.contains("2 events already seen"), "{summary}");

    // A later export of the same meeting with patient data in the chat: the recording is
    // raised to high under the same id; nothing else is repeated.
    let later = write(
        dir.path(),
        "in/b.ndjson",
        &[chat(M, 20, &format!("journal {PNR}"))],
    );
    let out = motesvakt_paths(&args, &[&first, &later]);
    let inc = incidents(&out);
    assert_eq!(
        triples(&inc),
        [
            t("chat-patient-data", M, "high"),
            t("recording-video", M, "high")
        ]
    );
    let rec = inc.iter().find(|i| i["rule"] == "recording-video").unwrap();
    assert_eq!(rec["id"], recording_id);
    assert_eq!(rec["status"], "raised");
    assert_eq!(rec["previous_severity"], "info");

    // Nothing in the outputs or the database (and its WAL, if any) holds the number.
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        if let Ok(data) = std::fs::read(&path) {
            assert_no_leaks(None, &[&data]);
        }
    }
    let key = dir.path().join("motesvakt.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn ids_do_not_depend_on_file_names_or_folders() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        video(M, 0),
        chat(M, 3, PNR),
        control(M, 4, "eve@example.com"),
    ];
    let a = write(dir.path(), "one/export.ndjson", &lines);
    // Same events, other order, other name and folder, split in two files.
    let b1 = write(
        dir.path(),
        "two/x/part2.ndjson",
        &[lines[2].clone(), lines[0].clone()],
    );
    let b2 = write(dir.path(), "two/y/part1.log", &[lines[1].clone()]);
    let cfg = config(dir.path(), &["halland"]);
    let ids = |paths: &[&std::path::Path]| {
        let out = motesvakt_paths(
            &["scan", "--json", "--config", cfg.to_str().unwrap()],
            paths,
        );
        let mut v: Vec<String> = incidents(&out)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let first = ids(&[&a]);
    assert_eq!(first.len(), 3);
    assert_eq!(first, ids(&[&dir.path().join("two")]));
    let _ = (b1, b2);
}

#[test]
fn fail_on_sets_exit_code_one_at_or_above_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.ndjson", &[video(M, 0)]);
    let cfg = config(dir.path(), &["halland"]);
    let run = |level: &str| {
        motesvakt_paths(
            &[
                "scan",
                "--config",
                cfg.to_str().unwrap(),
                "--fail-on",
                level,
            ],
            &[&file],
        )
        .status
        .code()
    };
    assert_eq!(run("info"), Some(1));
    assert_eq!(run("low"), Some(0));
    assert_eq!(run("critical"), Some(0));
}

#[test]
fn usage_and_configuration_errors_exit_two_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.ndjson", &[video(M, 0)]);
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "profiles = [\"halland\"]\n\n[rules.recording-video]\nenabeld = true\n",
    )
    .unwrap();
    let out = motesvakt_paths(&["scan", "--config", bad.to_str().unwrap()], &[&file]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("enabeld") && err.contains("line 4") && err.contains("bad.toml"),
        "{err}"
    );

    let out = motesvakt(&["scan", "--fail-on", "severe", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = motesvakt(&["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let out = motesvakt(&["scan", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file or folder"));
    let out = motesvakt(&[
        "scan",
        "--config",
        dir.path().join("nope.toml").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read config file"));
}

#[test]
fn json_mode_prints_only_json_on_stdout_and_a_summary_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "a.ndjson", &[video(M, 0), chat(M, 1, PNR)]);
    let out = motesvakt_paths(&["scan", "--json"], &[&file]);
    for line in stdout(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "id", "rule", "severity", "platform", "meeting", "time", "actor", "profile", "routine",
            "summary", "evidence",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
    }
    let err = stderr(&out);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("motesvakt: 1 files, 2 events, 1 meetings"),
        "{last}"
    );
    assert!(last.ends_with(" s"), "{last}");
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
}

#[test]
fn bundled_examples_show_each_rule() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/exports");
    let rules_under = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["scan", "--json"];
        all.extend_from_slice(args);
        let out = motesvakt_paths(&all, &[&examples]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_no_leaks(None, &[&out.stdout, &out.stderr]);
        triples(&incidents(&out))
            .into_iter()
            .map(|(r, _, _)| r)
            .collect()
    };
    // The built-in default (vgr-samsa), as the README's first command runs it.
    let default = rules_under(&[]);
    for rule in [
        "chat-patient-data",
        "recording-video",
        "recording-audio",
        "meeting-not-ended",
    ] {
        assert!(
            default.iter().any(|r| r == rule),
            "{rule} missing: {default:?}"
        );
    }
    // Under halland, the remote-control case shows.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["halland"]);
    let halland = rules_under(&["--config", cfg.to_str().unwrap()]);
    assert!(
        halland.iter().any(|r| r == "control-external"),
        "{halland:?}"
    );
    let text = motesvakt_paths(&["scan"], &[&examples]);
    assert!(stdout(&text).contains("Rutin: vgr-vastkom-samsa-distansmote.txt"));
    assert_no_leaks(None, &[&text.stdout, &text.stderr]);
}

#[test]
fn the_leak_checker_itself_finds_planted_numbers() {
    // A check that cannot fail proves nothing: make sure it fires on every written form.
    for form in [
        PNR,
        PNR2,
        "861208-2399",
        "8612082399",
        "19861208 2399",
        "x 861208+2399.",
    ] {
        assert_eq!(leaks(form.as_bytes()).len(), 1, "form #{}", form.len());
    }
    for clean in ["861208-2398", "x8612082399", "18612082399", "070-123 45 67"] {
        assert!(leaks(clean.as_bytes()).is_empty(), "form #{}", clean.len());
    }
}

#[test]
fn a_database_error_stops_the_scan_at_once_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..2000).map(|i| video(&format!("m{i}"), i % 60)).collect();
    let file = write(dir.path(), "many.ndjson", &lines);
    let db = dir.path().join("broken.sqlite");
    let d = db.to_str().unwrap();
    let out = motesvakt_paths(&["scan", "--db", d], &[&file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A table gone: every write of meeting state fails.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TABLE pending;").unwrap();
    drop(conn);
    let out = motesvakt_paths(&["scan", "--db", d], &[&file]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the scan stopped") && err.contains("broken.sqlite"),
        "{err}"
    );
    assert_eq!(
        err.matches("pending").count(),
        1,
        "one error, not one per record: {err}"
    );
    assert!(stdout(&out).is_empty());
}

/// Many incidents: one video recording per meeting.
fn many_recordings(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let lines: Vec<String> = (0..n).map(|i| video(&format!("m{i}"), 1)).collect();
    write(dir, "many.ndjson", &lines)
}

#[test]
fn output_that_cannot_be_written_is_an_error_not_a_quiet_success() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_recordings(dir.path(), 3000);
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let db = dir.path().join("m.sqlite");
    let bin = env!("CARGO_BIN_EXE_motesvakt");
    let args = |db: Option<&std::path::Path>| {
        let mut a: Vec<std::ffi::OsString> =
            vec!["scan".into(), "--config".into(), cfg.clone().into()];
        if let Some(db) = db {
            a.extend(["--db".into(), db.into()]);
        }
        a.push(input.clone().into());
        a
    };

    // A full disk.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(bin)
        .args(args(None))
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write to stdout") && err.contains("not every incident was printed"),
        "{err}"
    );
    assert!(
        err.contains("3000 meetings judged"),
        "the summary still comes: {err}"
    );

    // A reader that goes away (`| head`): the scan goes on, stores everything, and says so.
    let mut child = std::process::Command::new(bin)
        .args(args(Some(&db)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("stdout was closed by the reader") && err.contains("motesvakt incidents"),
        "{err}"
    );
    let listed = motesvakt(&["incidents", "--db", db.to_str().unwrap(), "--json"]);
    assert_eq!(incidents(&listed).len(), 3000, "every incident was stored");
}

#[test]
fn control_characters_from_input_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "m\u{1b}[2J\u{9b}31m\r\u{8}\u{202e}x";
    let lines = vec![
        ev(
            evil,
            1,
            "anna@region.se",
            "recording_started",
            json!({"media": "video", "actor": {"id": "anna@region.se", "name": "Anna\u{1b}]0;owned\u{7}"}}),
        ),
        ev(
            evil,
            2,
            "anna@region.se",
            "type\u{1b}[31m_unknown",
            json!({}),
        ),
        format!("{{\"time\":\"x\u{1b}[1m\",\"platform\":\"teams\"}}"),
    ];
    let input = write(dir.path(), "evil.ndjson", &lines);
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let raw = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    for json in [false, true] {
        let mut args = vec!["scan", "--config", cfg.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        args.push(input.to_str().unwrap());
        let out = motesvakt(&args);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(o.contains("recording-video"), "{o}");
        assert!(
            o.contains("\\u{1b}") || o.contains("\\u001b"),
            "shown escaped: {o}"
        );
        assert!(!o.chars().any(raw), "stdout, json={json}: {o:?}");
        assert!(!e.chars().any(raw), "stderr, json={json}: {e:?}");
    }
}

#[test]
fn lines_ended_by_a_lone_cr_are_lines_and_numbered_alike_on_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    // About 10 MB, so that the file is cut into blocks read on several threads: line ends
    // `\n`, `\r\n` and `\r` alone in turn, a broken line near the end.
    let mut data = String::new();
    let n = 40_000;
    for i in 0..n {
        data.push_str(&video(&format!("m{}", i % 500), 1 + (i % 50) as u32));
        data.push_str(&" ".repeat(200));
        data.push_str(["\n", "\r\n", "\r"][i % 3]);
    }
    data.push_str("{broken\r");
    data.push_str(&video("last", 1));
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(&path, &data).unwrap();
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let mut seen = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = motesvakt(&[
            "scan",
            "--config",
            cfg.to_str().unwrap(),
            "--threads",
            threads,
            "--json",
            path.to_str().unwrap(),
        ]);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{} records read, {} mapped", n + 2, n + 1)),
            "{err}"
        );
        let want = format!("mixed.ndjson:{}: not valid JSON", n + 1);
        assert!(err.contains(&want), "{want} in {err}");
        seen.push(triples(&incidents(&out)));
    }
    assert_eq!(seen[0].len(), 501);
    assert!(seen.iter().all(|s| *s == seen[0]));
}

#[test]
fn check_config_refuses_what_scan_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.ndjson", &[video(M, 1)]);
    for (name, body, says) in [
        (
            "regex.toml",
            "[[detect.custom]]\nname = \"x\"\nregex = \"(unclosed\"\nkind = \"reservnummer\"\n",
            "detect.custom[0]",
        ),
        (
            "keywords.toml",
            "[detect.keywords]\nnegative = [\"ok\", \"\"]\n",
            "detect.keywords.negative",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let p = path.to_str().unwrap();
        let check = motesvakt(&["check-config", "--config", p]);
        let scan = motesvakt(&["scan", "--config", p, input.to_str().unwrap()]);
        for (what, out) in [("check-config", &check), ("scan", &scan)] {
            assert_eq!(out.status.code(), Some(2), "{what} {name}: {}", stderr(out));
            assert!(stderr(out).contains(says), "{what} {name}: {}", stderr(out));
        }
        assert!(!stdout(&check).contains("OK"), "{}", stdout(&check));
    }
}

#[test]
fn standard_input_and_pipes_are_read_and_a_pipe_in_a_folder_is_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let lines = [video(M, 1), chat(M, 2, "hej")];
    let data = lines.join("\n") + "\n";
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let bin = env!("CARGO_BIN_EXE_motesvakt");
    for name in ["-", "/dev/stdin"] {
        let mut child = std::process::Command::new(bin)
            .args(["scan", "--json", "--config", cfg.to_str().unwrap(), name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(data.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(
            triples(&incidents(&out)),
            [t("recording-video", M, "high")],
            "{name}"
        );
        assert!(
            stderr(&out).contains("2 records read"),
            "{name}: {}",
            stderr(&out)
        );
    }
    // A FIFO in a folder is not read (it could block for ever) but named, and counted.
    let folder = dir.path().join("exports");
    write(&folder, "a.ndjson", &lines);
    let fifo = folder.join("pipe.ndjson");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = motesvakt(&[
        "scan",
        "--config",
        cfg.to_str().unwrap(),
        folder.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(
        err.contains("pipe.ndjson: skipped: not a file or folder"),
        "{err}"
    );
    assert!(err.contains("1 files skipped"), "{err}");
}

#[test]
fn a_file_is_recognised_after_more_blank_space_than_its_head() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["vgr-samsa"]);
    // 100,000 blank lines (about 200 KB: more than the 64 KiB looked at first), then records.
    let mut data = "\u{feff}".to_string() + &" \n".repeat(100_000);
    data.push_str(&video(M, 1));
    data.push_str("\n{broken\n");
    let path = dir.path().join("padded.ndjson");
    std::fs::write(&path, &data).unwrap();
    let out = motesvakt(&[
        "scan",
        "--json",
        "--config",
        cfg.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(
        triples(&incidents(&out)),
        [t("recording-video", M, "high")],
        "{err}"
    );
    assert!(
        err.contains("padded.ndjson:100002: not valid JSON"),
        "{err}"
    );
    // Blank to its end: nothing to read, not an unknown format.
    let blank = dir.path().join("blank.ndjson");
    std::fs::write(&blank, " \n".repeat(100_000)).unwrap();
    let out = motesvakt(&[
        "scan",
        "--config",
        cfg.to_str().unwrap(),
        blank.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not a format"), "{}", stderr(&out));
}

/// Times people read are Swedish local time written the Swedish way; `--tz` or `timezone =`
/// shows another zone, named; JSON keeps UTC whatever the zone.
#[test]
fn times_people_read_are_swedish_time_unless_another_zone_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    // 10:05 +02:00 (summer): 10:05 Swedish time, 08:05 UTC.
    let file = write(dir.path(), "rec.ndjson", &[video(M, 5)]);
    let cfg = config(dir.path(), &["halland"]);
    let c = cfg.to_str().unwrap();
    let first_line = |args: &[&str]| {
        let out = motesvakt_paths(args, &[&file]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out).lines().next().unwrap_or_default().to_string()
    };
    let sv = first_line(&["scan", "--config", c]);
    assert!(sv.contains("  2020-05-04 10:05  "), "{sv}");
    let utc = first_line(&["scan", "--config", c, "--tz", "UTC"]);
    assert!(utc.contains("  2020-05-04 08:05 UTC  "), "{utc}");
    let utc_cfg = dir.path().join("utc.toml");
    std::fs::write(
        &utc_cfg,
        std::fs::read_to_string(&cfg).unwrap() + "timezone = \"America/New_York\"\n",
    )
    .unwrap();
    let ny = first_line(&["scan", "--config", utc_cfg.to_str().unwrap()]);
    assert!(ny.contains("  2020-05-04 04:05 EDT  "), "{ny}");
    // --tz wins over the config.
    let both = first_line(&[
        "scan",
        "--config",
        utc_cfg.to_str().unwrap(),
        "--tz",
        "Europe/Stockholm",
    ]);
    assert!(both.contains("  2020-05-04 10:05  "), "{both}");
    let json = motesvakt_paths(&["scan", "--json", "--config", c, "--tz", "UTC"], &[&file]);
    assert_eq!(incidents(&json)[0]["time"], "2020-05-04T08:05:00Z");
    // An unknown zone is refused, on the command line and in the config.
    let out = motesvakt_paths(&["scan", "--config", c, "--tz", "Mars/Olympus"], &[&file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a time zone"), "{}", stderr(&out));
    std::fs::write(&utc_cfg, "timezone = \"Mars/Olympus\"\n").unwrap();
    let out = motesvakt_paths(&["scan", "--config", utc_cfg.to_str().unwrap()], &[&file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("timezone: not a time zone"),
        "{}",
        stderr(&out)
    );
}

/// A scan given input of which it can read nothing (every record rejected, every file
/// skipped) exits 3, so that a scheduled batch notices an export it cannot read; one good
/// record among bad ones, or an empty export, is a scan that ran.
#[test]
fn input_of_which_nothing_can_be_read_exits_three() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["halland"]);
    let c = cfg.to_str().unwrap();
    let code = |files: &[&std::path::Path]| {
        let out = motesvakt_paths(&["scan", "--config", c], files);
        (out.status.code(), stderr(&out))
    };
    // Records of motesvakt's own format, each with a field it refuses.
    let broken = video(M, 0).replace("\"video\"", "\"hologram\"");
    let bad = write(dir.path(), "bad.ndjson", &[broken.clone(), broken]);
    let (status, err) = code(&[&bad]);
    assert_eq!(status, Some(3), "{err}");
    assert!(err.contains("nothing of the input could be read"), "{err}");
    let binary = dir.path().join("export.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    let (status, err) = code(&[&binary]);
    assert_eq!(status, Some(3), "{err}");
    let good = write(dir.path(), "good.ndjson", &[video(M, 0)]);
    assert_eq!(code(&[&bad, &good]).0, Some(0));
    assert_eq!(code(&[&binary, &good]).0, Some(0));
    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(code(&[&empty]).0, Some(0));
}

/// Issue 14: the detector reads a number's date against the chat message's own time. A
/// recording's file name from the meeting's own day (`YYYYMMDD-HHMM`, Luhn-valid by
/// construction) is no identity number; the same digits named as a personnummer are.
#[test]
fn a_timestamp_from_the_messages_own_day_is_not_patient_data() {
    // 2020-05-04 10:3x, the check digit as the minute: valid as a personnummer.
    let nine = "200504103";
    let check = (0..10u8)
        .find(|c| {
            let v: Vec<u8> = format!("{nine}{c}").bytes().map(|b| b - b'0').collect();
            motesvakt::detect::personnummer::luhn_ok(&v)
        })
        .unwrap();
    let stamp = format!("20{}-{}{check}", &nine[..6], &nine[6..]);
    let run = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "chat.ndjson", &[video(M, 0), chat(M, 40, text)]);
        let cfg = config(dir.path(), &["halland"]);
        let out = motesvakt_paths(
            &["scan", "--json", "--config", cfg.to_str().unwrap()],
            &[&file],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_no_leaks(None, &[&out.stdout, &out.stderr]);
        incidents(&out)
            .iter()
            .any(|i| i["rule"] == "chat-patient-data")
    };
    assert!(!run(&format!(
        "Inspelningen från patientmötet ligger som Inspelning_{stamp}.mp4"
    )));
    assert!(run(&format!("pnr {stamp}, patientmötet")));
}
