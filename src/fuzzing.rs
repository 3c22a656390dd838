//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, see the README's "Fuzzing"
//! section) and for the test that replays their corpus on stable (`tests/fuzz_regressions.rs`):
//! both call these functions, so what the fuzzer found stays tested.
//!
//! Each function takes arbitrary bytes. It must return: a panic, an endless loop or an
//! allocation out of proportion to the input is a bug. Besides not failing, each checks what
//! must hold whatever the input (positions inside the input and in order, the same records
//! whatever the input's buffer size, redaction leaving nothing to redact) and panics when it
//! does not, so that the fuzzer reports it.
//!
//! Not a stable API: hidden from the documentation, for the fuzz crate and the tests only.

use std::io;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use crate::config::{Config, Origin};
use crate::detect::{Context, Detector, HashKey};
use crate::sources::csv_rows::{MAX_FIELDS, MAX_ROW, Row, RowReader};
use crate::sources::lines::{Line, LineReader};
use crate::sources::{Format, Item, SourceSettings};

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// The fuzz targets, by name (the file names in `fuzz/fuzz_targets/` and the folders of
/// `fuzz/corpus/`), each with its entry point.
pub const TARGETS: &[(&str, Target)] = &[
    ("native", native),
    ("teams_audit_csv", teams_audit_csv),
    ("teams_audit_json", teams_audit_json),
    ("teams_graph", teams_graph),
    ("zoom", zoom),
    ("pexip", pexip),
    ("webex", webex),
    ("line_reader", line_reader),
    ("csv_reader", csv_reader),
    ("config", config),
    ("detect", detect),
];

/// The entry point of the target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

pub fn native(data: &[u8]) {
    adapter(Format::Native, data);
}

pub fn teams_audit_csv(data: &[u8]) {
    adapter(Format::TeamsAuditCsv, data);
}

pub fn teams_audit_json(data: &[u8]) {
    adapter(Format::TeamsAuditJson, data);
}

pub fn teams_graph(data: &[u8]) {
    adapter(Format::TeamsGraph, data);
}

pub fn zoom(data: &[u8]) {
    adapter(Format::Zoom, data);
}

pub fn pexip(data: &[u8]) {
    adapter(Format::Pexip, data);
}

pub fn webex(data: &[u8]) {
    adapter(Format::Webex, data);
}

/// What one record gave, for comparing two reads.
#[derive(Debug, PartialEq)]
struct Seen {
    line: u64,
    start: u64,
    end: u64,
    items: Vec<String>,
}

fn settings() -> &'static SourceSettings {
    static SETTINGS: OnceLock<SourceSettings> = OnceLock::new();
    SETTINGS.get_or_init(|| SourceSettings {
        internal_domains: vec!["region.se".into()],
        tenant_ids: vec!["00000000-0000-0000-0000-000000000001".into()],
        webex_org_ids: vec!["org-1".into()],
        internal_networks: vec!["10.0.0.0/8".parse().expect("a valid CIDR")],
        ..SourceSettings::default()
    })
}

/// Every record `format`'s adapter reads from `data` through a buffer of `capacity` bytes.
fn read_all(format: Format, data: &[u8], capacity: usize, lines: bool) -> Vec<Seen> {
    let adapter = format.adapter(settings());
    let mut input = io::BufReader::with_capacity(capacity, data);
    let mut out = Vec::new();
    let mut emit = |r: crate::sources::Record<'_>| {
        let _ = r.key();
        out.push(Seen {
            line: r.pos.line,
            start: r.pos.start,
            end: r.pos.end,
            items: r
                .items
                .iter()
                .map(|i| match i {
                    Item::Event(e) => format!("event {:?}", e.kind),
                    Item::Unmapped(s) => format!("unmapped {s}"),
                    Item::UnmappedField(s) => format!("field {s}"),
                    Item::Rejected(s) => format!("rejected {s}"),
                    Item::Tenant { id, own } => format!("tenant {id} {own}"),
                })
                .collect(),
        });
        ControlFlow::Continue(())
    };
    let r = if lines {
        adapter.read_lines(&mut input, &mut emit)
    } else {
        adapter.read(&mut input, &mut emit)
    };
    r.expect("reading from memory cannot fail");
    out
}

/// Reads `data` with `format`'s adapter, whole and line by line, through a large and a tiny
/// buffer. Positions must lie inside the input, end in order, on a line that exists; the
/// buffer size must not change what is read.
pub fn adapter(format: Format, data: &[u8]) {
    for lines in [false, true] {
        let big = read_all(format, data, 64 * 1024, lines);
        let total_lines = crate::sources::lines::count_line_ends(data) + 1;
        // Ends never go back (a reader resumes at the last record's end); starts may: a
        // wrapper left open (`{"value":[...` to the end) is rejected where it began, after
        // the records read inside it.
        let mut last_end = 0;
        for s in &big {
            assert!(s.start <= s.end, "{s:?}");
            assert!(
                s.end <= data.len() as u64,
                "{s:?} past the end {}",
                data.len()
            );
            assert!(s.end >= last_end, "{s:?} ends before {last_end}");
            assert!(s.line >= 1 && s.line <= total_lines, "{s:?}: no such line");
            assert!(!s.items.is_empty(), "a record gave nothing: {s:?}");
            last_end = s.end;
        }
        let small = read_all(format, data, 7, lines);
        assert_eq!(big, small, "the buffer size changed what was read");
    }
    let _ = Format::sniff(data);
}

/// [`LineReader`] must give the lines a plain split gives (`\n`, `\r\n` or a lone `\r` end a
/// line; a first-line BOM is dropped), with contiguous positions, at any buffer size.
pub fn line_reader(data: &[u8]) {
    let want = split_lines(data);
    for capacity in [1, 2, 3, 7, 64 * 1024] {
        let mut r = LineReader::new();
        let mut input = io::BufReader::with_capacity(capacity, data);
        let mut got: Vec<Vec<u8>> = Vec::new();
        let mut end = 0;
        while let Some((pos, line)) = r.next(&mut input).expect("memory") {
            assert_eq!(pos.start, end, "capacity {capacity}");
            assert_eq!(pos.line, got.len() as u64 + 1);
            end = pos.end;
            match line {
                Line::Text(t) => got.push(t.to_vec()),
                Line::TooLong => panic!("a line of a small input was too long"),
            }
        }
        assert_eq!(end, data.len() as u64, "capacity {capacity}");
        assert_eq!(got, want, "capacity {capacity}");
    }
}

/// The lines of `data` as [`LineReader`] should give them, split the simple way.
fn split_lines(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\n' => out.push(std::mem::take(&mut cur)),
            b'\r' => {
                out.push(std::mem::take(&mut cur));
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b => cur.push(b),
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if let Some(first) = out.first_mut()
        && first.starts_with(b"\xEF\xBB\xBF")
    {
        first.drain(..3);
    }
    out
}

/// The CSV row reader must give the same rows at any buffer size, with contiguous positions
/// ending at the input's end, and never a row above its bounds.
pub fn csv_reader(data: &[u8]) {
    let read = |capacity: usize| {
        let mut r = RowReader::new();
        let mut input = io::BufReader::with_capacity(capacity, data);
        let mut out = Vec::new();
        // The first row starts after a BOM.
        let mut end = if data.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        while let Some((pos, row)) = r.next(&mut input).expect("memory") {
            assert_eq!(pos.start, end, "capacity {capacity}");
            assert!(pos.start <= pos.end);
            end = pos.end;
            match row {
                Row::Fields(f) => {
                    assert!(!f.is_empty(), "a row has at least one field");
                    assert!(f.len() <= MAX_FIELDS);
                    assert!(f.iter().map(<[u8]>::len).sum::<usize>() <= MAX_ROW);
                    out.push((
                        pos.line,
                        Some(f.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()),
                    ));
                }
                Row::TooLong => out.push((pos.line, None)),
            }
        }
        assert!(end <= data.len() as u64);
        out
    };
    let big = read(64 * 1024);
    for capacity in [1, 2, 5] {
        assert_eq!(read(capacity), big, "capacity {capacity}");
    }
}

/// Parses `data` as a configuration file and, when it is one, builds its detector (as
/// `check-config` and `scan` do).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text, Origin::BuiltIn) {
        let _ = Detector::new(&config.detect, HashKey::from_bytes([7; 32]));
    }
}

fn detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let config = Config::builtin();
        Detector::new(&config.detect, HashKey::from_bytes([7; 32])).expect("built-in detector")
    })
}

/// Scans `data` (as text) with the built-in detector, with and without a related text, and
/// redacts it: what [`Detector::redact`] returns has nothing left to redact.
pub fn detect(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let d = detector();
    // The first line, when there are several, as the related text (a meeting's subject).
    let (related, body) = match text.split_once('\n') {
        Some((a, b)) => (a, b),
        None => ("", &*text),
    };
    let _ = d.context_of(related);
    let findings = d.scan(
        body,
        &Context {
            related: &[related],
            time: None,
        },
    );
    for f in &findings {
        assert!(
            body.len() >= f.span.end && f.span.start <= f.span.end,
            "{f:?}"
        );
    }
    let _ = d.is_patient_data(&findings);
    let _ = d.scan(&text, &Context::default());
    if let Some(redacted) = d.redact(&text) {
        assert_eq!(
            d.redact(&redacted),
            None,
            "redaction left something to redact"
        );
    }
}
