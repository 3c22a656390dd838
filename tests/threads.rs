//! The scan reads blocks of lines and judges meetings on several threads; the incidents, the
//! counts and the messages about bad records must be the same on one thread and on many.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

/// Native NDJSON with many meetings, a share of them with patient data, bad lines here and
/// there, spread over several blocks of lines.
fn many_meetings(dir: &Path, meetings: u32) -> PathBuf {
    let mut lines = Vec::new();
    for m in 0..meetings {
        let id = format!("m{m}");
        let minute = m % 50;
        lines.push(ev(
            &id,
            minute,
            "anna@region.se",
            "meeting_started",
            json!({}),
        ));
        let guest = if m % 3 == 0 {
            "ext@example.com"
        } else {
            "bo@region.se"
        };
        lines.push(ev(
            &id,
            minute + 1,
            guest,
            "participant_joined",
            json!({"via_lobby": m % 5 == 0}),
        ));
        if m % 7 == 0 {
            lines.push(ev(
                &id,
                minute + 2,
                "anna@region.se",
                "recording_started",
                json!({"media": "video"}),
            ));
        }
        let text = if m % 11 == 0 {
            format!("pnr {PNR} inför remissen")
        } else {
            "hej, hör ni mig?".to_string()
        };
        lines.push(ev(
            &id,
            minute + 3,
            "anna@region.se",
            "chat_message",
            json!({ "text": text }),
        ));
        if m % 13 == 0 {
            lines.push("{\"time\": oops".to_string());
        }
        if m % 4 != 0 {
            lines.push(ev(
                &id,
                minute + 9,
                "anna@region.se",
                "meeting_ended",
                json!({"reason": "ended_by_host"}),
            ));
        }
    }
    write(dir, "many.ndjson", &lines)
}

/// `(id, rule, meeting, severity)` of every incident, sorted.
fn keys(out: &std::process::Output) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = incidents(out)
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["rule"].as_str().unwrap().to_string(),
                i["meeting"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// stderr without the summary's elapsed time.
fn messages(out: &std::process::Output) -> String {
    stderr(out)
        .lines()
        .map(|l| match l.rfind(", ") {
            Some(i) if l.ends_with(" s") => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn scan(dir: &Path, name: &str, threads: u32, inputs: &[&Path]) -> std::process::Output {
    let cfg = config(dir, &["vgr-samsa", "halland", "kronoberg", "sas"]);
    let db = dir.join(format!("{name}-{threads}.sqlite"));
    let t = threads.to_string();
    let out = motesvakt_paths(
        &[
            "scan",
            "--json",
            "--threads",
            &t,
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
        inputs,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

#[test]
fn the_incidents_are_the_same_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let big = many_meetings(dir.path(), 20_000);
    assert!(
        std::fs::metadata(&big).unwrap().len() > 9 << 20,
        "several blocks"
    );
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources");
    let inputs: Vec<&Path> = vec![&big, &fixtures];
    let one = scan(dir.path(), "all", 1, &inputs);
    assert!(keys(&one).len() > 5_000, "{}", keys(&one).len());
    for threads in [2, 3] {
        let many = scan(dir.path(), "all", threads, &inputs);
        assert!(
            keys(&many) == keys(&one),
            "{threads} threads: other incidents"
        );
        assert_eq!(
            messages(&many),
            messages(&one),
            "{threads} threads: other messages"
        );
    }
    assert_no_leaks(None, &[&one.stdout, &one.stderr]);
}

#[test]
fn a_line_too_long_to_cut_is_read_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = (0..2000)
        .map(|i| {
            ev(
                &format!("a{i}"),
                i % 60,
                "anna@region.se",
                "recording_started",
                json!({"media": "video"}),
            )
        })
        .collect();
    lines.push(format!("{{\"junk\":\"{}\"}}", "x".repeat(9 << 20)));
    lines.extend((0..2000).map(|i| {
        ev(
            &format!("b{i}"),
            i % 60,
            "anna@region.se",
            "recording_started",
            json!({"media": "audio"}),
        )
    }));
    let file = write(dir.path(), "long.ndjson", &lines);
    let one = scan(dir.path(), "long", 1, &[&file]);
    let two = scan(dir.path(), "long", 2, &[&file]);
    assert_eq!(keys(&two), keys(&one));
    assert_eq!(messages(&two), messages(&one));
    assert!(
        stderr(&one).contains(":2001: line longer than"),
        "{}",
        stderr(&one)
    );
    assert_eq!(keys(&one).len(), 4000);
}

/// A Teams audit CSV of many copies of the fixture's rows (ids renumbered), some with a line
/// break inside a quoted cell, over more than one block.
fn big_csv(dir: &Path) -> PathBuf {
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources/teams/audit.csv"),
    )
    .unwrap();
    let mut lines = fixture.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut out = String::from(header);
    out.push('\n');
    let mut copy = 0u32;
    while out.len() < 6 << 20 {
        for row in &rows {
            // Each copy its own meetings and records: the ids end in the copy's number.
            let row = row.replace("-000000000", &format!("-{copy:09}"));
            // A line break inside the quoted AuditData, where JSON allows blanks.
            let row = if copy.is_multiple_of(3) {
                row.replacen(", ", ",\n ", 1)
            } else {
                row
            };
            out.push_str(&row);
            out.push('\n');
        }
        copy += 1;
    }
    let path = dir.join("big.csv");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn a_csv_cut_into_rows_gives_what_one_reader_gives() {
    let dir = tempfile::tempdir().unwrap();
    let csv = big_csv(dir.path());
    let one = scan(dir.path(), "csv", 1, &[&csv]);
    let two = scan(dir.path(), "csv", 2, &[&csv]);
    assert!(keys(&one).len() > 500, "{}", keys(&one).len());
    assert!(keys(&two) == keys(&one), "other incidents");
    let (a, b) = (messages(&one), messages(&two));
    assert!(a == b, "other messages:\n{a}\n---\n{b}");
}

/// The scan of `file` on 1, 2 and 3 threads: the same incidents and messages, and more than
/// `least` incidents.
fn same_on_any_threads(dir: &Path, name: &str, file: &Path, least: usize) {
    let one = scan(dir, name, 1, &[file]);
    assert!(keys(&one).len() > least, "{}", keys(&one).len());
    for threads in [2, 3] {
        let many = scan(dir, name, threads, &[file]);
        assert!(
            keys(&many) == keys(&one),
            "{threads} threads: other incidents"
        );
        let (a, b) = (messages(&one), messages(&many));
        assert!(a == b, "{threads} threads: other messages:\n{a}\n---\n{b}");
    }
}

/// Text that a JSON splitter must not take for structure: brackets, braces, commas and escaped
/// quotes inside a string, and characters of two and three bytes. Of a length that grows with
/// `n`, so that over many records they fall on every place of the reading buffers and of the
/// runs the records are handed on in.
fn tricky(n: u32) -> String {
    format!(
        "{}]}},{{[\\\" å ö \\\"]{{ ∑ ]",
        "é".repeat((n % 13) as usize)
    )
}

/// A Teams audit JSON array (not cut at line ends: split on one thread, its records mapped on
/// the others) of many copies of the fixture's records, ids renumbered, every record with a
/// string of [`tricky`] text, with a record that is not JSON and one whose string runs over
/// its line in the middle: more records than a transaction holds, over several runs.
#[test]
fn a_json_array_split_on_one_thread_gives_what_one_reader_gives() {
    let dir = tempfile::tempdir().unwrap();
    let fixture: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources/teams/audit.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut records = Vec::new();
    for copy in 0..2_500u32 {
        for (i, r) in fixture.iter().enumerate() {
            let mut r = r.clone();
            if let Some(r) = r.as_object_mut() {
                r.insert("Comment".into(), json!(tricky(copy + i as u32)));
            }
            records.push(r.to_string().replace("-000000000", &format!("-{copy:09}")));
        }
        if copy == 1_234 {
            records.push("{\"Id\": oops}".to_string());
        }
        if copy == 2_480 {
            records.push("{\"Id\": \"cut short".to_string());
        }
    }
    let body = records.join(",\n");
    assert!(body.len() > 3 << 20, "several runs: {}", body.len());
    let file = dir.path().join("audit-big.json");
    std::fs::write(&file, format!("[\n{body}\n]\n")).unwrap();
    same_on_any_threads(dir.path(), "json", &file, 2_000);
    let out = stderr(&scan(dir.path(), "json", 2, &[&file]));
    assert!(out.contains("audit-big.json:"), "{out}");
    assert!(out.contains("line break inside a string"), "{out}");
    assert!(out.contains("not valid JSON"), "{out}");
}

/// Graph list responses, pretty-printed (so not cut at line ends), one page after another:
/// the fixture's page many times over, every copy its own chats, a message's text with
/// [`tricky`] text, and a page with a message whose brackets do not match in the middle.
#[test]
fn graph_pages_split_on_one_thread_give_what_one_reader_gives() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sources/teams/graph-messages.json"),
    )
    .unwrap();
    let pages: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&fixture)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = String::new();
    for copy in 0..1_500u32 {
        let mut page = pages[copy as usize % pages.len()].clone();
        for m in page["value"].as_array_mut().unwrap() {
            if let Some(text) = m["body"]["content"].as_str()
                && text.contains("patient")
            {
                m["body"]["content"] = json!(format!("{text} {}", tricky(copy)));
            }
        }
        let mut text = serde_json::to_string_pretty(&page).unwrap();
        if copy == 700 {
            // The rest of the page is skipped, up to the next line that starts a record.
            text = text.replacen("\"replyToId\": null", "\"replyToId\": [}", 1);
        }
        out.push_str(&text.replace("@thread.v2", &format!("-{copy}@thread.v2")));
        out.push('\n');
    }
    assert!(out.len() > 3 << 20, "several runs: {}", out.len());
    let file = dir.path().join("graph-big.json");
    std::fs::write(&file, out).unwrap();
    same_on_any_threads(dir.path(), "graph", &file, 1_000);
    let err = stderr(&scan(dir.path(), "graph", 2, &[&file]));
    assert!(err.contains("brackets do not match"), "{err}");
}

/// A gzip-compressed NDJSON file is cut into parts as the plain one is (it is decompressed on
/// the thread that cuts it): the same incidents and messages, with the same lines named.
#[test]
fn a_gzip_file_cut_into_parts_gives_what_one_reader_gives() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let plain = many_meetings(dir.path(), 12_000);
    let gz = dir.path().join("many.ndjson.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    same_on_any_threads(dir.path(), "gz", &gz, 3_000);
    // And what the plain file gives.
    let (a, b) = (
        scan(dir.path(), "plain", 2, &[&plain]),
        scan(dir.path(), "gz2", 2, &[&gz]),
    );
    assert!(keys(&a) == keys(&b), "gzip: other incidents");
    assert_eq!(
        messages(&a).replace("many.ndjson:", "F:"),
        messages(&b).replace("many.ndjson.gz:", "F:")
    );
}
