//! `motesvakt incidents`: what the store holds, in `scan --json` form; filters; the
//! configuration's `state_dir`; a rescan under another configuration judges again without
//! filing anything twice; a late end withdraws an incident.

mod common;

use common::*;
use serde_json::{Value, json};

fn recording(meeting: &str, minute: u32) -> String {
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

/// A folder with meeting m1 (a recording, then a planted personnummer in its chat), where
/// the database goes, and a configuration with the halland profile.
fn recorded_with_a_number_in_the_chat() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "m.ndjson",
        &[
            recording("m1", 0),
            chat("m1", 20, &format!("pnr {PNR} inför remissen")),
        ],
    );
    let db = dir.path().join("db.sqlite");
    let halland = config(dir.path(), &["halland"]);
    (dir, file, db, halland)
}

fn lines(o: &std::process::Output) -> Vec<String> {
    stdout(o).lines().map(str::to_string).collect()
}

fn ids(v: &[Value]) -> Vec<String> {
    let mut ids: Vec<String> = v
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn incidents_lists_the_store_in_the_form_of_scan_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "day.ndjson",
        &[
            recording("m1", 0),
            chat("m1", 20, &format!("pnr {PNR} inför remissen")),
            recording("m2", 30),
        ],
    );
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let db = dir.path().join("state/db.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let c = cfg.to_str().unwrap();
    let d = db.to_str().unwrap();
    let scan = motesvakt_paths(&["scan", "--json", "--config", c, "--db", d], &[&file]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let listed = motesvakt(&["incidents", "--db", d, "--json"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    // The same objects, line for line (both in time order), with their workflow status.
    let with_status: Vec<String> = lines(&scan)
        .iter()
        .map(|l| {
            format!(
                "{},\"workflow\":{{\"status\":\"open\"}}}}",
                &l[..l.len() - 1]
            )
        })
        .collect();
    assert_eq!(lines(&listed), with_status);
    assert_eq!(incidents(&listed).len(), 3);
    // Newest last.
    let times: Vec<String> = incidents(&listed)
        .iter()
        .map(|i| i["time"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);

    // Filters.
    let high = motesvakt(&["incidents", "--db", d, "--json", "--severity", "critical"]);
    assert_eq!(
        triples(&incidents(&high)),
        [] as [(String, String, String); 0],
        "nothing critical: no one outside the organisation"
    );
    let since = motesvakt(&[
        "incidents",
        "--db",
        d,
        "--json",
        "--since",
        "2020-05-04T08:25:00Z",
    ]);
    assert_eq!(
        triples(&incidents(&since)),
        [t("recording-video", "m2", "high")]
    );
    let swedish = motesvakt(&[
        "incidents",
        "--db",
        d,
        "--json",
        "--since",
        "2020-05-04 10:25",
    ]);
    assert_eq!(
        lines(&swedish),
        lines(&since),
        "Swedish local time (UTC+2 in May)"
    );
    let ago = motesvakt(&["incidents", "--db", d, "--json", "--since", "1d"]);
    assert!(incidents(&ago).is_empty(), "nothing from the last day");

    // The text form, and no leak anywhere.
    let text = motesvakt(&["incidents", "--db", d]);
    assert!(
        stdout(&text).contains("recording-video"),
        "{}",
        stdout(&text)
    );
    assert_no_leaks(
        Some(&dir.path().join("state")),
        &[&scan.stdout, &listed.stdout, &text.stdout],
    );

    // The configuration's state_dir in place of --db.
    let with_state = dir.path().join("with-state.toml");
    std::fs::write(
        &with_state,
        format!(
            "internal_domains = [\"region.se\"]\nstate_dir = {:?}\n",
            dir.path().join("state").to_str().unwrap()
        ),
    )
    .unwrap();
    std::fs::rename(&db, dir.path().join("state/motesvakt.sqlite")).unwrap();
    let by_config = motesvakt(&[
        "incidents",
        "--config",
        with_state.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(by_config.status.code(), Some(0), "{}", stderr(&by_config));
    assert_eq!(lines(&by_config), with_status);
}

#[test]
fn incidents_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.sqlite");
    let out = motesvakt(&["incidents", "--db", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no such database"),
        "{}",
        stderr(&out)
    );
    assert!(!missing.exists(), "listing does not create a database");
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let out = motesvakt(&["incidents", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("state_dir"), "{}", stderr(&out));
    let out = motesvakt(&["incidents"]);
    assert_eq!(out.status.code(), Some(2));
    let out = motesvakt(&["incidents", "--db", "x", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a time"), "{}", stderr(&out));
}

#[test]
fn a_rescan_under_other_profiles_judges_again_and_files_nothing_twice() {
    let (dir, file, db, halland) = recorded_with_a_number_in_the_chat();
    let d = db.to_str().unwrap();
    let first = motesvakt_paths(
        &[
            "scan",
            "--json",
            "--db",
            d,
            "--config",
            halland.to_str().unwrap(),
        ],
        &[&file],
    );
    assert_eq!(
        triples(&incidents(&first)),
        [
            t("chat-patient-data", "m1", "high"),
            t("recording-video", "m1", "high")
        ]
    );
    // The same file, with the rule switched off and then on again.
    let off = dir.path().join("off.toml");
    std::fs::write(
        &off,
        "internal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n[rules.recording-video]\nenabled = false\n",
    )
    .unwrap();
    let second = motesvakt_paths(
        &[
            "scan",
            "--json",
            "--db",
            d,
            "--config",
            off.to_str().unwrap(),
        ],
        &[&file],
    );
    let withdrawn = incidents(&second);
    assert_eq!(withdrawn.len(), 1);
    assert_eq!(withdrawn[0]["rule"], "recording-video");
    assert_eq!(withdrawn[0]["status"], "withdrawn");
    assert!(
        stderr(&second).contains("2 events already seen"),
        "{}",
        stderr(&second)
    );
    let third = motesvakt_paths(
        &[
            "scan",
            "--json",
            "--db",
            d,
            "--config",
            halland.to_str().unwrap(),
        ],
        &[&file],
    );
    assert_eq!(
        ids(&incidents(&third)),
        ids(&withdrawn),
        "the same id comes back"
    );
    let now = incidents(&motesvakt(&["incidents", "--db", d, "--json"]));
    assert_eq!(ids(&now), ids(&incidents(&first)));
    // Every event is kept once, whatever the rescans (judging compacts what was read again).
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut st = conn.prepare("SELECT body FROM chunks").unwrap();
    let bodies: Vec<Vec<u8>> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let n: usize = bodies
        .iter()
        .map(|b| motesvakt::store::chunk_entries(b).unwrap())
        .sum();
    assert_eq!(n, 2);
}

#[test]
fn a_late_end_withdraws_meeting_not_ended() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let c = cfg.to_str().unwrap();
    let db = dir.path().join("db.sqlite");
    let d = db.to_str().unwrap();
    let day1 = write(
        dir.path(),
        "a.ndjson",
        &[
            ev("m1", 0, "anna@region.se", "meeting_started", json!({})),
            ev("m1", 30, "anna@region.se", "participant_left", json!({})),
            // A meeting more than eight hours later moves the clock past m1's timeout.
            ev("m2", 600, "bo@region.se", "participant_left", json!({})),
        ],
    );
    let out = motesvakt_paths(&["scan", "--json", "--db", d, "--config", c], &[&day1]);
    assert_eq!(
        triples(&incidents(&out)),
        [t("meeting-not-ended", "m1", "low")]
    );
    let end = write(
        dir.path(),
        "b.ndjson",
        &[ev(
            "m1",
            31,
            "anna@region.se",
            "meeting_ended",
            json!({"reason": "ended_by_host"}),
        )],
    );
    let out = motesvakt_paths(&["scan", "--db", d, "--config", c], &[&end]);
    assert!(stdout(&out).contains("återkallad"), "{}", stdout(&out));
    assert!(stderr(&out).contains("1 withdrawn"), "{}", stderr(&out));
    assert!(incidents(&motesvakt(&["incidents", "--db", d, "--json"])).is_empty());
}

#[test]
fn the_workflow_commands_keep_who_when_and_why_on_a_real_database() {
    let (dir, file, db, halland) = recorded_with_a_number_in_the_chat();
    let d = db.to_str().unwrap();
    let h = halland.to_str().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--json", "--db", d, "--config", h];
        args.extend(extra);
        motesvakt_paths(&args, &[&file])
    };
    scan(&[]);
    let listed = incidents(&motesvakt(&["incidents", "--db", d, "--json"]));
    let id_of = |rule: &str| {
        listed
            .iter()
            .find(|i| i["rule"] == rule)
            .map(|i| i["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (rec, chat) = (id_of("recording-video"), id_of("chat-patient-data"));
    assert!(listed.iter().all(|i| i["workflow"]["status"] == "open"));
    // What people type: a planted number and terminal controls.
    let note = format!("ringde om {PNR}\u{1b}[2J klart");
    let out = motesvakt(&[
        "incidents",
        "ack",
        &rec[..7],
        "--by",
        "Åsa\u{1b}]0;x",
        "--note",
        &note,
        "--db",
        d,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("öppen → kvitterad"),
        "{}",
        stdout(&out)
    );
    assert!(!out.stdout.contains(&0x1b), "escaped for the terminal");
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    let again = motesvakt(&["incidents", "ack", &rec, "--by", "Bo", "--db", d]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("är redan kvitterad"),
        "{}",
        stdout(&again)
    );
    // The listing shows the status, escaped, in text and in JSON.
    let text = motesvakt(&["incidents", "--db", d]);
    assert!(
        stdout(&text).contains("Status: kvitterad. Av Åsa"),
        "{}",
        stdout(&text)
    );
    assert!(stdout(&text).contains("Status: öppen"), "{}", stdout(&text));
    assert!(!text.stdout.contains(&0x1b));
    let json = motesvakt(&["incidents", "--db", d, "--json"]);
    assert!(!json.stdout.contains(&0x1b));
    assert_no_leaks(None, &[&text.stdout, &json.stdout]);
    let acked = incidents(&json)
        .into_iter()
        .find(|i| i["id"] == rec.as_str())
        .unwrap();
    assert_eq!(acked["workflow"]["status"], "acknowledged");
    assert!(
        acked["workflow"]["note"]
            .as_str()
            .unwrap()
            .ends_with("[2J klart")
    );
    assert!(
        acked["workflow"]["at"].as_str().unwrap().ends_with('Z'),
        "UTC"
    );
    // A false positive takes a reason.
    let out = motesvakt(&[
        "incidents",
        "false-positive",
        &chat,
        "--by",
        "Bo",
        "--db",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--reason"), "{}", stderr(&out));
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
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (
            &v["status"],
            &v["reason"],
            &v["previous_status"],
            &v["changed"]
        ),
        (
            &json!("false-positive"),
            &json!("test-meeting"),
            &json!("open"),
            &json!(true)
        )
    );
    // Not every change is made: a false positive is reopened before it is resolved.
    let out = motesvakt(&["incidents", "resolve", &chat, "--by", "Bo", "--db", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("reopen"), "{}", stderr(&out));
    // A rescan judges again: the statuses stay.
    let std::process::Output { status, .. } = scan(&[]);
    assert_eq!(status.code(), Some(0));
    let show = motesvakt(&["incidents", "show", &chat, "--db", d, "--lang", "en"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    let shown = stdout(&show);
    assert!(shown.contains("Status: false positive. By Bo"), "{shown}");
    assert!(shown.contains("reason: test meeting"), "{shown}");
    assert!(shown.contains("open → false positive"), "{shown}");
    assert_no_leaks(None, &[&show.stdout]);
    // An id nobody has, and one that holds a number: said, redacted.
    let out = motesvakt(&[
        "incidents",
        "ack",
        &format!("x{PNR}"),
        "--by",
        "Bo",
        "--db",
        d,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no incident with the id"),
        "{}",
        stderr(&out)
    );
    assert_no_leaks(None, &[&out.stderr]);
    let out = motesvakt(&["incidents", "ack", "ffffffff", "--by", " ", "--db", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--by"), "{}", stderr(&out));
    // The note's number is nowhere in the database.
    for f in ["db.sqlite", "db.sqlite-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(f)) {
            assert_no_leaks(None, &[&bytes]);
        }
    }
}

#[test]
fn a_stored_incident_reads_in_the_language_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "day.ndjson",
        &[
            ev("m1", 0, "anna@region.se", "meeting_started", json!({})),
            recording("m1", 1),
            ev(
                "m1",
                2,
                "anna@region.se",
                "control_granted",
                json!({"target": {"id": "eve@example.com", "name": "Eve"}}),
            ),
            chat("m1", 20, &format!("pnr {PNR} inför remissen")),
            ev(
                "m1",
                40,
                "bo@region.se",
                "meeting_ended",
                json!({"reason": "last_left"}),
            ),
            // A meeting started and never ended, more than eight hours before the last event.
            ev("m2", 0, "anna@region.se", "meeting_started", json!({})),
            ev("m3", 600, "bo@region.se", "participant_left", json!({})),
        ],
    );
    let cfg = config(dir.path(), &["vgr-samsa", "halland", "kronoberg"]);
    let c = cfg.to_str().unwrap();
    // Two databases in one folder share the hash key, so redacted values agree.
    let (sv_db, en_db) = (dir.path().join("sv.sqlite"), dir.path().join("en.sqlite"));
    let (sv_d, en_d) = (sv_db.to_str().unwrap(), en_db.to_str().unwrap());
    let sv = motesvakt_paths(&["scan", "--config", c, "--db", sv_d], &[&file]);
    let en = motesvakt_paths(
        &["scan", "--lang", "en", "--config", c, "--db", en_d],
        &[&file],
    );
    assert!(
        stdout(&en).contains("handed control of their computer to Eve (external)"),
        "{}",
        stdout(&en)
    );
    assert!(
        stdout(&en).contains("more than 8 hours old"),
        "{}",
        stdout(&en)
    );
    assert!(
        stdout(&sv).contains("när den sista deltagaren lämnade"),
        "{}",
        stdout(&sv)
    );
    // Judged in Swedish, read in English, and the other way round: as a scan in that language
    // prints it.
    // (The listing adds each incident's workflow status, which a scan does not print.)
    let listed = |db: &str, lang: &str| {
        let out = stdout(&motesvakt(&["incidents", "--db", db, "--lang", lang]));
        let kept: Vec<&str> = out
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("    Status: "))
            .collect();
        kept.concat()
    };
    assert_eq!(listed(sv_d, "en"), stdout(&en));
    assert_eq!(listed(en_d, "sv"), stdout(&sv));
    assert_eq!(listed(sv_d, "sv"), stdout(&sv));
    // The JSON lines carry the summary in the language asked for, the rest as stored.
    let json = |db: &str, lang: &str| {
        incidents(&motesvakt(&[
            "incidents",
            "--db",
            db,
            "--json",
            "--lang",
            lang,
        ]))
    };
    let (from_sv, from_en) = (json(sv_d, "en"), json(en_d, "en"));
    let rules: Vec<&str> = from_sv
        .iter()
        .map(|i| i["rule"].as_str().unwrap())
        .collect();
    for rule in ["recording-video", "control-external", "chat-patient-data"] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
    assert_eq!(
        rules.iter().filter(|r| **r == "meeting-not-ended").count(),
        2,
        "{rules:?}"
    );
    assert_eq!(from_sv, from_en);
    assert_ne!(json(sv_d, "sv"), from_en);
}
