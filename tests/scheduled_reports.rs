//! Scheduled reports (`[[reports]]`) end to end: the real binary, a real SQLite file in a temp
//! state folder, real files in a temp report folder; `motesvakt reports run` by hand and the
//! service's own report writer.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// Breaches by anna and bo (each with a manager in the directory) and carl (not in it),
/// scanned into `dir/state`'s database; the config has `reports` appended.
fn setup(dir: &Path, reports: &str) -> PathBuf {
    let mut lines = breach("mote-anna", "anna@region.se");
    lines.extend(breach("mote-bo", "bo@region.se"));
    lines.extend(breach("mote-carl", "carl@region.se"));
    let input = write(dir, "in/log.ndjson", &lines);
    let directory = dir.join("katalog.csv");
    std::fs::write(
        &directory,
        "user;name;unit;manager\nanna@region.se;Anna A;Akuten;chef.anna@region.se\n\
         bo@region.se;Bo B;BUP;chef.bo@region.se\n",
    )
    .unwrap();
    let state = dir.join("state");
    let watched = dir.join("watched");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::create_dir_all(&watched).unwrap();
    let cfg = dir.join("motesvakt.toml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir = {state:?}\ninternal_domains = [\"region.se\"]\nprofiles = [\"halland\"]\n\
             [directory]\nfile = {directory:?}\n[service]\nrescan = \"200ms\"\n\
             [[watch]]\npath = {watched:?}\n{reports}"
        ),
    )
    .unwrap();
    let out = motesvakt_paths(
        &["scan", "--config", cfg.to_str().unwrap(), "--db"],
        &[&state.join("motesvakt.sqlite"), &input],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    cfg
}

fn files(folder: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn run(cfg: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["reports", "run", "--config", cfg.to_str().unwrap()];
    args.extend(extra);
    let out = motesvakt(&args);
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    out
}

#[test]
fn reports_run_writes_a_due_weekly_report_once_one_per_manager_with_only_their_people() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("rapporter");
    let cfg = setup(
        dir.path(),
        &format!(
            "[[reports]]\nname = \"chefer\"\nper_manager = true\nevery = \"weekly\"\n\
             at = \"mon 07:00\"\nfolder = {folder:?}\n"
        ),
    );
    // Monday 2020-05-11 08:00 Swedish time: the week from Monday 2020-05-04 07:00 is due.
    let out = run(&cfg, &["--now", "2020-05-11 08:00"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = files(&folder);
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "chefer-chef-anna-region-se-2020-05-04--2020-05-11.html",
            "chefer-chef-bo-region-se-2020-05-04--2020-05-11.html"
        ],
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    let anna = std::fs::read_to_string(&written[0]).unwrap();
    let bo = std::fs::read_to_string(&written[1]).unwrap();
    assert!(
        anna.contains("mote-anna") && !anna.contains("mote-bo"),
        "{anna}"
    );
    assert!(bo.contains("mote-bo") && !bo.contains("mote-anna"), "{bo}");
    assert!(!anna.contains("mote-carl") && !bo.contains("mote-carl"));
    for p in &written {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{}", p.display());
    }
    assert_no_leaks(Some(&folder), &[]);
    pnr_leaks(&[&folder]);

    // Later the same week: nothing is due again, and the files are not touched.
    let before = std::fs::metadata(&written[0]).unwrap().modified().unwrap();
    let again = run(&cfg, &["--now", "2020-05-13 12:00"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("no report due"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::metadata(&written[0]).unwrap().modified().unwrap(),
        before
    );
    // --force writes that week again; the next Monday a new week (empty) is written.
    let forced = run(&cfg, &["--now", "2020-05-13 12:00", "--force"]);
    assert_eq!(stdout(&forced).lines().count(), 2, "{}", stderr(&forced));
    assert_eq!(files(&folder).len(), 2);
    let next = run(&cfg, &["--now", "2020-05-18 07:00"]);
    assert_eq!(stdout(&next).lines().count(), 2, "{}", stderr(&next));
    let files = files(&folder);
    assert_eq!(files.len(), 4);
    assert!(
        files
            .iter()
            .any(|p| p.ends_with("chefer-chef-anna-region-se-2020-05-11--2020-05-18.html"))
    );
    // No temporary file is left behind.
    assert!(
        files
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "html"))
    );
    // An unknown name is an error that does not echo it.
    let bad = run(&cfg, &["--name", "finns-inte"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("no report named"), "{}", stderr(&bad));
}

#[test]
fn the_service_writes_a_due_report_once_and_not_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("rapporter");
    let cfg = setup(
        dir.path(),
        &format!(
            "[[reports]]\nname = \"alla\"\nevery = \"daily\"\nat = \"07:00\"\nperiod = \"5000d\"\n\
             format = \"json\"\nlang = \"en\"\nfolder = {folder:?}\n"
        ),
    );
    let serve = |wait_for_file: bool| -> String {
        let log = dir.path().join("service.log");
        let mut child = service_command(&cfg)
            .stderr(std::fs::File::create(&log).unwrap())
            .stdin(Stdio::null())
            .env("MOTESVAKT_LOG", "info")
            .spawn()
            .unwrap();
        let started = Instant::now();
        while wait_for_file && files(&folder).is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no report after 30 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Time for a second file it would wrongly write.
        std::thread::sleep(Duration::from_secs(3));
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        let logged = std::fs::read_to_string(&log).unwrap();
        assert_eq!(status.code(), Some(0), "{logged}");
        assert_no_leaks(None, &[logged.as_bytes()]);
        logged
    };
    let logged = serve(true);
    let written = files(&folder);
    assert_eq!(written.len(), 1, "{written:?}\n{logged}");
    assert_eq!(logged.matches("report alla written").count(), 1, "{logged}");
    assert!(logged.contains(&*written[0].to_string_lossy()), "{logged}");
    // The period: from 5000 days before the latest 07:00 Swedish time, to it.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&written[0]).unwrap()).unwrap();
    let since: jiff::Timestamp = report["since"].as_str().unwrap().parse().unwrap();
    let until: jiff::Timestamp = report["until"].as_str().unwrap().parse().unwrap();
    let now = jiff::Timestamp::now();
    assert!(until <= now && now.duration_since(until) < jiff::SignedDuration::from_hours(24));
    let local = until.to_zoned(jiff::tz::TimeZone::get("Europe/Stockholm").unwrap());
    assert_eq!((local.hour(), local.minute()), (7, 0), "{local}");
    assert_eq!(until.duration_since(since).as_hours(), 5000 * 24);
    let n = report["incidents"].as_array().map_or(0, Vec::len);
    assert_eq!(n, 6, "anna's, bo's and carl's incidents");
    assert_no_leaks(Some(&folder), &[]);
    pnr_leaks(&[&folder]);

    let before = std::fs::metadata(&written[0]).unwrap().modified().unwrap();
    let logged = serve(false);
    assert!(!logged.contains("report alla written"), "{logged}");
    assert_eq!(files(&folder), written);
    assert_eq!(
        std::fs::metadata(&written[0]).unwrap().modified().unwrap(),
        before
    );
}

#[test]
fn bad_report_entries_are_refused_with_the_entry_named_and_no_value_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        (
            "name = \"v\"\nevery = \"hourly\"\nfolder = \"r\"",
            "reports[0].every",
            "hourly",
        ),
        (
            "name = \"v\"\nevery = \"weekly\"\nat = \"mon 25:99\"\nfolder = \"r\"",
            "reports[0].at",
            "25:99",
        ),
        (
            "name = \"v\"\nevery = \"weekly\"\nat = \"caturday 07:00\"\nfolder = \"r\"",
            "reports[0].at",
            "caturday",
        ),
        (
            "name = \"v\"\nevery = \"monthly\"\nat = \"31 07:00\"\nfolder = \"r\"",
            "reports[0].at",
            "31",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\nformat = \"pdfx\"\nfolder = \"r\"",
            "reports[0].format",
            "pdfx",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\nperiod = \"a week\"\nfolder = \"r\"",
            "reports[0].period",
            "a week",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\nfolder = \"r\"\nunit = \"BUP\"\nper_manager = true",
            "reports[0].per_manager",
            "BUP",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\nfolder = \"r\"\nmanager = \"not-an-address\"",
            "reports[0].manager",
            "not-an-address",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\ncsv_sep = \"|\"\nfolder = \"r\"",
            "reports[0].csv_sep",
            "|",
        ),
        (
            "name = \"../etc\"\nevery = \"daily\"\nfolder = \"r\"",
            "reports[0].name",
            "../etc",
        ),
        (
            "name = \"v\"\nevery = \"daily\"\nfolder = \"r\"\n[[reports]]\nname = \"v\"\n\
             every = \"weekly\"\nfolder = \"s\"",
            "reports[1].name",
            "weekly",
        ),
    ];
    for (entry, key, value) in cases {
        let cfg = dir.path().join("bad.toml");
        std::fs::write(
            &cfg,
            format!("[directory]\nfile = \"katalog.csv\"\n[[reports]]\n{entry}\n"),
        )
        .unwrap();
        let out = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{entry}: accepted");
        assert!(err.contains(key), "{entry}: {err}");
        assert!(!err.contains(value), "{entry}: the value is echoed: {err}");
    }
    // A unit or manager scope without a [directory] cannot work.
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[reports]]\nname = \"bup\"\nunit = \"BUP\"\nevery = \"weekly\"\nfolder = \"r\"\n",
    )
    .unwrap();
    let out = motesvakt(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("[directory]"), "{}", stderr(&out));
    assert!(stderr(&out).contains("`bup`"), "{}", stderr(&out));
}

#[test]
fn a_report_that_cannot_be_written_is_told_and_tried_again_and_the_others_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("rapporter");
    // A folder that is a file: nothing can be written in it.
    let blocked = dir.path().join("blockerad");
    std::fs::write(&blocked, "").unwrap();
    let cfg = setup(
        dir.path(),
        &format!(
            "[[reports]]\nname = \"trasig\"\nevery = \"daily\"\nfolder = {blocked:?}\n\
             [[reports]]\nname = \"hel\"\nunit = \"BUP\"\nevery = \"daily\"\nformat = \"csv\"\n\
             csv_sep = \";\"\nfolder = {folder:?}\n"
        ),
    );
    let out = run(&cfg, &["--now", "2020-05-05 08:00"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("report `trasig`: cannot write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    let written = files(&folder);
    assert_eq!(written.len(), 1);
    assert!(written[0].ends_with("hel-unit-bup-2020-05-04--2020-05-05.csv"));
    let csv = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        csv.contains("mote-bo") && !csv.contains("mote-anna"),
        "{csv}"
    );
    assert!(csv.lines().next().unwrap().contains(';'), "{csv}");
    // Again: the broken one is still due, the other is done.
    let again = run(&cfg, &["--now", "2020-05-05 09:00"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("`trasig`"));
    assert!(stdout(&again).is_empty(), "{}", stdout(&again));
}
