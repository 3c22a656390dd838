//! The benchmark generator (`examples/gen.rs`): what it writes is read by motesvakt without a
//! rejected record, maps to the events it says, and holds the identity numbers it says; the
//! same seed gives the same bytes; `--size` is honoured within one record.
//!
//! The generator's core is included from `examples/gen/mod.rs` and called directly, so these
//! tests need nothing but `cargo test`.

#[path = "../examples/gen/mod.rs"]
mod generator;

use std::path::Path;
use std::process::Command;

use generator::formats::Format;
use generator::{FileStats, Options, model, run};

fn options(format: &str, size: u64, dir: &Path) -> Options {
    Options {
        format: format.into(),
        size: Some(size),
        out: dir.to_path_buf(),
        seed: 7,
        ..Options::default()
    }
}

/// What `motesvakt scan --json` said about a file: (rejected, lines skipped, events, meetings
/// judged, chat-patient-data incidents).
struct Scan {
    rejected: u64,
    skipped: u64,
    events: u64,
    meetings: u64,
    chat_patient_data: u64,
}

/// The number just before `word` in `text` (`"12 rejected"` → 12).
fn number_before(text: &str, word: &str) -> Option<u64> {
    let at = text.find(word)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

fn scan(paths: &[&Path], config: &Path) -> Scan {
    let out = Command::new(env!("CARGO_BIN_EXE_motesvakt"))
        .arg("scan")
        .arg("--config")
        .arg(config)
        .arg("--json")
        .args(paths)
        .output()
        .expect("motesvakt runs");
    assert!(out.status.success(), "scan failed: {:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut rejected = 0;
    for line in stderr.lines().filter(|l| l.contains(" records read")) {
        rejected += number_before(line, " rejected").expect("a rejected count");
    }
    let summary = stderr
        .lines()
        .find(|l| l.contains(" meetings judged"))
        .expect("a summary line");
    Scan {
        rejected,
        skipped: number_before(summary, " lines skipped").expect("lines skipped"),
        events: number_before(summary, " events,").expect("events"),
        meetings: number_before(summary, " meetings judged").expect("meetings"),
        // One incident per person and chat stands for all their messages with patient data.
        chat_patient_data: stdout
            .lines()
            .filter(|l| l.contains("\"rule\":\"chat-patient-data\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("a JSON incident");
                v["evidence"]["count"]["n"].as_u64().unwrap_or(1)
            })
            .sum(),
    }
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("motesvakt.toml");
    std::fs::write(&path, model::config_toml()).unwrap();
    path
}

/// Every identity number the generator planted is found, within a tolerance: the detector may
/// miss a few written forms (the bare and spaced ones depend on a keyword nearby), so up to 5 %
/// (at least one) may be missed. It must not find more: no other text holds one.
fn assert_findings(f: &FileStats, found: u64) {
    let planted = f.pnr_chats;
    let slack = (planted / 20).max(1);
    assert!(
        found <= planted && found + slack >= planted,
        "{}: {planted} chat messages with an identity number planted, {found} \
         found in chat-patient-data incidents",
        f.format.name()
    );
}

#[test]
fn every_format_scans_without_rejections_and_with_the_findings_planted() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let files = run(&options("all", 1_000_000, &dir.path().join("all"))).unwrap();
    assert_eq!(files.len(), 7);
    for f in &files {
        let s = scan(&[&f.path], &config);
        let name = f.format.name();
        assert_eq!(s.rejected, 0, "{name}: rejected records");
        assert_eq!(s.skipped, 0, "{name}: lines skipped");
        assert_eq!(s.events, f.events, "{name}: events");
        assert!(f.meetings >= 10, "{name}: {} meetings", f.meetings);
        if f.format.has_chat_text() {
            assert!(f.chats >= 50, "{name}: {} chat messages", f.chats);
            let share = f.pnr_chats as f64 / f.chats as f64;
            assert!(
                (0.005..0.05).contains(&share),
                "{name}: {:.3} of chat holds an identity number, 0.02 asked",
                share
            );
        } else {
            assert_eq!(f.pnr_chats, 0, "{name}");
        }
        assert_findings(f, s.chat_patient_data);
    }
}

#[test]
fn teams_mode_writes_audit_and_graph_of_the_same_meetings() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let files = run(&options("teams", 400_000, &dir.path().join("t"))).unwrap();
    assert_eq!(
        files.iter().map(|f| f.format).collect::<Vec<_>>(),
        [Format::AuditCsv, Format::Graph]
    );
    let (audit, graph) = (&files[0], &files[1]);
    let together = scan(&[&audit.path, &graph.path], &config);
    assert_eq!(together.rejected, 0);
    assert_eq!(together.events, audit.events + graph.events);
    assert_findings(graph, together.chat_patient_data);
    // The Graph chat is judged with its audit meeting (alias): fewer meetings than the two
    // files counted apart.
    let apart = scan(&[&audit.path], &config).meetings + scan(&[&graph.path], &config).meetings;
    assert!(
        together.meetings < apart,
        "aliases not exercised: {} meetings together, {apart} apart",
        together.meetings
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let read = |sub: &str, seed: u64| {
        let mut o = options("all", 60_000, &dir.path().join(sub));
        o.seed = seed;
        run(&o)
            .unwrap()
            .iter()
            .map(|f| std::fs::read(&f.path).unwrap())
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (read("a", 7), read("b", 7), read("c", 8));
    assert!(a == b, "same seed, different bytes");
    for (x, z) in a.iter().zip(&c) {
        assert!(x != z, "another seed gave the same bytes");
    }
}

#[test]
fn size_is_honoured_within_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let size = 123_457;
    for f in run(&options("all", size, dir.path())).unwrap() {
        let len = std::fs::metadata(&f.path).unwrap().len();
        assert_eq!(len, f.bytes, "{}", f.format.name());
        // At or past the size, by less than the last record (and the bytes that close an open
        // array or page).
        assert!(
            len >= size && len < size + f.max_unit + 3,
            "{}: {len} bytes for --size {size} (largest record {})",
            f.format.name(),
            f.max_unit
        );
    }
}

#[test]
fn meetings_and_one_long_meeting() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let mut o = options("native", 0, &dir.path().join("m"));
    o.size = None;
    o.meetings = Some(40);
    let f = &run(&o).unwrap()[0];
    assert_eq!(f.meetings, 40);
    let s = scan(&[&f.path], &config);
    assert_eq!((s.meetings, s.events, s.rejected), (40, f.events, 0));

    for format in [
        "native",
        "zoom",
        "teams-graph",
        "webex",
        "teams-audit-json",
        "pexip",
    ] {
        let mut o = options(format, 0, &dir.path().join(format!("one-{format}")));
        o.size = None;
        o.one_meeting_chat = Some(1500);
        let f = &run(&o).unwrap()[0];
        assert_eq!(f.meetings, 1, "{format}");
        if f.format.has_chat_text() {
            assert_eq!(f.chats, 1500, "{format}");
        }
        let s = scan(&[&f.path], &config);
        assert_eq!((s.events, s.rejected), (f.events, 0), "{format}");
        assert!(s.meetings <= 2, "{format}: {} meetings", s.meetings);
        assert_findings(f, s.chat_patient_data);
    }
}

#[test]
fn sizes_parse() {
    use generator::parse_size;
    assert_eq!(parse_size("200MB"), Some(200_000_000));
    assert_eq!(parse_size("1GB"), Some(1_000_000_000));
    assert_eq!(parse_size("5GB"), Some(5_000_000_000));
    assert_eq!(parse_size("1MiB"), Some(1 << 20));
    assert_eq!(parse_size("1500"), Some(1500));
    assert_eq!(parse_size("2.5MB"), Some(2_500_000));
    assert_eq!(parse_size("lots"), None);
}

#[test]
fn civil_dates_round_trip() {
    use generator::util::{civil, days_from_civil};
    for days in [-1000i64, 0, 19_849, 20_000, 30_000] {
        let (y, m, d) = civil(days);
        assert_eq!(days_from_civil(y, m, d), days);
    }
    assert_eq!(civil(19_845), (2024, 5, 2));
    assert_eq!(civil(model::BASE_DAY), (2024, 5, 6));
}
