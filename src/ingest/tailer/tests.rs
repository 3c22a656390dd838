//! The tailer's decisions one by one, on real files. (tests/tailer_model.rs plays random
//! sequences of them against a model.)

use std::io::Write;
use std::ops::ControlFlow;

use super::*;
use crate::sources::native::Native;

fn settings(quiescence: Duration) -> TailSettings {
    TailSettings {
        quiescence,
        max_line_bytes: 1024,
    }
}

fn tailer(rows: Vec<FileRow>, q: Duration) -> Tailer {
    Tailer::new(
        rows,
        settings(q),
        Box::new(|p: &Path| p.display().to_string()),
    )
}

fn found(dir: &Path) -> Vec<Found> {
    let mut out: Vec<Found> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| Found {
            meta: std::fs::metadata(&p).unwrap(),
            path: p,
            format: None,
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn chat(n: u64) -> String {
    format!(
        "{{\"time\":\"2024-05-02T08:{:02}:00Z\",\"platform\":\"teams\",\"meeting\":\"m1\",\"actor\":{{\"id\":\"a@x.se\"}},\"type\":\"chat_message\",\"text\":\"hej {n}\"}}\n",
        n % 60
    )
}

/// Reads everything ready; returns the line numbers and byte ranges of the records taken.
fn drain(t: &mut Tailer, events: &mut Vec<FileEvent>) -> Vec<(u64, u64, u64)> {
    let mut out = Vec::new();
    for i in t.readable() {
        loop {
            let r = t.read_lines(
                i,
                &Native,
                &mut |rec| {
                    out.push((rec.pos.line, rec.pos.start, rec.pos.end));
                    ControlFlow::Continue(())
                },
                &mut |e| events.push(e),
            );
            if !r.more {
                break;
            }
        }
    }
    out
}

fn append(path: &Path, s: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

#[test]
fn whole_lines_only_then_the_rest_when_the_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    let first = chat(1);
    let second = chat(2);
    append(&p, &format!("{first}{}", &second[..20]));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(matches!(
        ev[0],
        FileEvent::New {
            kind: FileKind::Lines,
            format: Format::Native,
            ..
        }
    ));
    let got = drain(&mut t, &mut ev);
    assert_eq!(got, vec![(1, 0, first.len() as u64)]);
    assert_eq!(t.files[0].row.offset, first.len() as u64);
    append(&p, &second[20..]);
    let got = drain(&mut t, &mut ev);
    assert_eq!(
        got,
        vec![(2, first.len() as u64, (first.len() + second.len()) as u64)]
    );
    assert_eq!(t.files[0].row.line, 3);
}

#[test]
fn an_unended_last_line_is_taken_once_the_file_is_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    let line = chat(1);
    append(&p, line.trim_end());
    let mut t = tailer(vec![], Duration::from_millis(50));
    let mut ev = Vec::new();
    // The first line is not whole: nothing is decided yet.
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(t.files.is_empty());
    std::thread::sleep(Duration::from_millis(80));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert_eq!(t.files.len(), 1, "{ev:?}");
    assert!(drain(&mut t, &mut ev).is_empty(), "seen changing until now");
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(drain(&mut t, &mut ev).len(), 1);
    assert_eq!(t.files[0].row.offset, line.trim_end().len() as u64);
}

#[test]
fn a_line_too_long_is_reported_with_its_number_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    let long = format!("{{\"x\":\"{}\"}}\n", "y".repeat(5000));
    append(&p, &format!("{}{long}{}", chat(1), chat(3)));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    let lines: Vec<u64> = drain(&mut t, &mut ev).iter().map(|r| r.0).collect();
    assert_eq!(lines, vec![1, 3]);
    assert!(
        ev.iter()
            .any(|e| matches!(e, FileEvent::LineTooLong { line: 2, .. })),
        "{ev:?}"
    );
    assert_eq!(t.files[0].row.errors, 1);

    // Also when the long line is still being written: skipped to its end, later lines read.
    let q = dir.path().join("b.ndjson");
    append(&q, &format!("{}{}", chat(1), "z".repeat(3000)));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    t.set_budget(1);
    t.look(found(dir.path()), &mut |e| ev.push(e));
    let i = t.files.iter().position(|f| f.path == q).unwrap();
    let _ = drain(&mut t, &mut ev);
    assert!(t.files[i].row.skipping);
    append(&q, &format!("zzz\n{}", chat(5)));
    let got = drain(&mut t, &mut ev);
    assert_eq!(got.last().map(|r| r.0), Some(3), "{got:?}");
    assert!(!t.files[i].row.skipping);
}

#[test]
fn bom_and_crlf_are_not_part_of_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    append(&p, &format!("\u{feff}{}\r\n", chat(1).trim_end()));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    let mut kinds = Vec::new();
    for i in t.readable() {
        t.read_lines(
            i,
            &Native,
            &mut |rec| {
                kinds.extend(
                    rec.items
                        .iter()
                        .map(|i| matches!(i, crate::sources::Item::Event(_))),
                );
                ControlFlow::Continue(())
            },
            &mut |e| ev.push(e),
        );
    }
    assert_eq!(kinds, vec![true]);
}

#[test]
fn a_rename_is_followed_and_a_copy_is_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    append(&p, &chat(1));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert_eq!(drain(&mut t, &mut ev).len(), 1);
    std::fs::copy(&p, dir.path().join("0-copy.ndjson")).unwrap();
    std::fs::rename(&p, dir.path().join("b.ndjson")).unwrap();
    append(&dir.path().join("b.ndjson"), &chat(2));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(
        ev.iter().any(|e| matches!(e, FileEvent::Identical { .. })),
        "{ev:?}"
    );
    let got = drain(&mut t, &mut ev);
    assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), vec![2]);
    assert_eq!(t.files.len(), 1);
}

#[test]
fn after_a_restart_a_file_is_known_by_content_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    append(&p, &format!("{}{}", chat(1), chat(2)));
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    drain(&mut t, &mut ev);
    t.saved(0, 7);
    let rows: Vec<FileRow> = t.files.iter().map(|f| f.row.clone()).collect();
    drop(t);
    // Rotated while down: the content is found under its new name, and a new file is made.
    std::fs::rename(&p, dir.path().join("a.1.ndjson")).unwrap();
    append(&dir.path().join("a.1.ndjson"), &chat(3));
    append(&p, &chat(9));
    let mut t = tailer(rows, Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(
        ev.iter()
            .any(|e| matches!(e, FileEvent::Resumed { offset, .. } if *offset > 0)),
        "{ev:?}"
    );
    let got = drain(&mut t, &mut ev);
    assert_eq!(
        got.len(),
        2,
        "line 3 of the old file and line 1 of the new: {got:?}"
    );
    let resumed = t.files.iter().find(|f| f.row.id == 7).unwrap();
    assert_eq!(resumed.row.line, 4);
}

#[test]
fn truncation_and_rewrite_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    let lines: String = (1..=100).map(chat).collect();
    assert!(lines.len() > 2 * fingerprint::HEAD_BYTES);
    append(&p, &lines);
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert_eq!(drain(&mut t, &mut ev).len(), 100);
    // Shorter, same first bytes: truncated, read again from the start.
    let half: usize = (1..=50).map(|n| chat(n).len()).sum();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(half as u64).unwrap();
    assert_eq!(drain(&mut t, &mut ev).len(), 50);
    assert!(ev.iter().any(|e| matches!(e, FileEvent::Truncated { .. })));
    // Other first bytes: a new file.
    std::fs::write(&p, chat(40)).unwrap();
    assert!(drain(&mut t, &mut ev).is_empty());
    assert!(
        ev.iter().any(|e| matches!(e, FileEvent::Replaced { .. })),
        "{ev:?}"
    );
    assert_eq!(drain(&mut t, &mut ev).len(), 1);
}

#[test]
fn documents_wait_until_quiet_and_the_same_content_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let doc = r#"[{"CreationTime":"2024-05-02T08:00:00","Operation":"MeetingDetail","Id":"x"}]"#;
    std::fs::write(dir.path().join("a.json"), doc).unwrap();
    let mut t = tailer(vec![], Duration::from_millis(50));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(matches!(ev[0], FileEvent::Waiting { .. }), "{ev:?}");
    assert!(t.readable().is_empty());
    std::thread::sleep(Duration::from_millis(80));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    let ready = t.readable();
    assert_eq!(ready.len(), 1, "{ev:?}");
    let i = ready[0];
    assert_eq!(t.files[i].row.kind, FileKind::Document);
    assert_eq!(t.files[i].row.format, Format::TeamsAuditJson);
    assert!(t.open_document(i, &mut |e| ev.push(e)).is_some());
    let mut row = t.files[i].row.clone();
    row.done = true;
    t.end_document(i, row, &mut |e| ev.push(e));
    // The same export under another name, and gzipped: not read again.
    std::fs::write(dir.path().join("b.json"), doc).unwrap();
    std::thread::sleep(Duration::from_millis(80));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    std::thread::sleep(Duration::from_millis(80));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert!(t.readable().is_empty());
    assert!(
        ev.iter().any(|e| matches!(e, FileEvent::Identical { .. })),
        "{ev:?}"
    );
}

#[test]
fn a_gzip_document_is_read_decompressed() {
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(chat(1).as_bytes()).unwrap();
    gz.write_all(chat(2).as_bytes()).unwrap();
    std::fs::write(dir.path().join("a.ndjson.gz"), gz.finish().unwrap()).unwrap();
    let mut t = tailer(vec![], Duration::from_millis(10));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    std::thread::sleep(Duration::from_millis(30));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    let i = t.readable()[0];
    assert_eq!(t.files[i].row.kind, FileKind::Document);
    let mut reader = t.open_document(i, &mut |e| ev.push(e)).unwrap();
    let mut n = 0;
    Native
        .read(&mut reader, &mut |_| {
            n += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn an_empty_file_is_looked_at_again_once_it_has_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.ndjson");
    std::fs::write(&p, "").unwrap();
    let mut t = tailer(vec![], Duration::from_secs(3600));
    let mut ev = Vec::new();
    t.look(found(dir.path()), &mut |e| ev.push(e));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, FileEvent::Empty { .. }))
            .count(),
        1
    );
    append(&p, &chat(1));
    t.look(found(dir.path()), &mut |e| ev.push(e));
    assert_eq!(drain(&mut t, &mut ev).len(), 1);
}

#[test]
fn utf16_and_http_dumps_are_documents_and_unread_kinds_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for u in "RecordId\tCreationDate\tAuditData\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let dump = b"POST /hook HTTP/1.1\r\nHost: h\r\n\r\n{\"event\":\"meeting.started\",\"payload\":{\"object\":{}}}\n";
    type Case<'a> = (&'a str, &'a [u8], Option<Format>, Option<&'a str>);
    let cases: [Case; 3] = [
        ("unicode.txt", &utf16, Some(Format::TeamsAuditCsv), None),
        ("hooks.log", dump, Some(Format::Zoom), None),
        ("audit.pdf", b"%PDF-1.7\n", None, Some("a PDF")),
    ];
    for (name, data, format, what) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        let (f, cut, whole, w) = sniff(&File::open(&path).unwrap(), false).unwrap();
        assert_eq!((f, w), (format, what), "{name}");
        assert_eq!(cut, Cut::No, "{name}: read whole, through its decoding");
        assert!(whole, "{name}");
    }
}
