//! Bad input never panics: arbitrary bytes, and real records cut and corrupted at random, are
//! fed to every adapter and through the whole pipeline (detector, rules, store). Each case must
//! finish, and every record read must be mapped, counted as unmapped or rejected.

mod common;

use std::path::PathBuf;

use motesvakt::config::Config;
use motesvakt::detect::{Detector, HashKey};
use motesvakt::scan::{self, ScanOptions};
use motesvakt::sources::{Format, SourceSettings};
use motesvakt::store::Store;
use proptest::prelude::*;

/// Every fixture file, as the seeds for mutation.
fn seeds() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/fixtures/sources", "examples/exports"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out.sort();
    out
}

/// A seed with a few bytes overwritten, a span deleted and a span duplicated.
fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: (usize, usize), dup: (usize, usize)) -> Vec<u8> {
    let mut v = seed.to_vec();
    if v.is_empty() {
        return v;
    }
    for &(at, byte) in edits {
        let i = at % v.len();
        v[i] = byte;
    }
    let (a, n) = (cut.0 % v.len(), cut.1 % 64);
    let b = (a + n).min(v.len());
    v.drain(a..b);
    if !v.is_empty() {
        let (a, n) = (dup.0 % v.len(), dup.1 % 256);
        let b = (a + n).min(v.len());
        let copy = v[a..b].to_vec();
        v.splice(a..a, copy);
    }
    v
}

fn run_adapters(data: &[u8]) {
    let settings = SourceSettings {
        internal_networks: vec!["10.0.0.0/8".parse().unwrap()],
        ..SourceSettings::default()
    };
    for &format in Format::ALL {
        let adapter = format.adapter(&settings);
        let mut input = std::io::BufReader::with_capacity(13, data);
        let _ = adapter.read(&mut input, &mut |_| std::ops::ControlFlow::Continue(()));
    }
}

fn run_pipeline(data: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input");
    std::fs::write(&path, data).unwrap();
    let config = Config::parse(
        "internal_domains = [\"region.se\"]\nprofiles = [\"halland\", \"vgr-samsa\", \"kronoberg\", \"sas\", \"orebro\"]\n",
        motesvakt::config::Origin::BuiltIn,
    )
    .unwrap();
    let detector = Detector::new(&config.detect, HashKey::from_bytes([3; 32])).unwrap();
    let store = Store::in_memory().unwrap();
    let options = ScanOptions {
        paths: vec![path],
        format: None,
        threads: motesvakt::work::default_threads(),
        progress: None,
    };
    let stats = scan::run(
        &config,
        &detector,
        &store,
        &options,
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap();
    // Nothing vanishes: every record read is mapped, counted as unmapped, or rejected.
    for (format, c) in &stats.formats {
        assert_eq!(
            c.read,
            c.mapped + c.unmapped + c.rejected,
            "{}: {c:?}",
            format.name()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run_adapters(&data);
        run_pipeline(&data);
    }

    #[test]
    fn corrupted_real_records_never_panic(
        seed in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in (any::<usize>(), any::<usize>()),
        dup in (any::<usize>(), any::<usize>()),
    ) {
        let seeds = seeds();
        let data = mutate(&seeds[seed.index(seeds.len())], &edits, cut, dup);
        run_adapters(&data);
        run_pipeline(&data);
    }
}

/// A Purview CSV whose second row has a cell of `cell` bytes (a quoted run of `x`), between
/// two good rows, generated as it is read: nothing of its size is ever in memory but what the
/// reader keeps.
struct BigCellCsv {
    parts: Vec<Vec<u8>>,
    cell: usize,
    /// Which part is being read, and how far; part 1 is the cell.
    part: usize,
    at: usize,
}

impl BigCellCsv {
    fn new(cell: usize) -> BigCellCsv {
        let row = |id: &str| {
            format!(
                "{id},2024-05-02T09:00:00,MeetingDetail,\"{{\"\"Id\"\":\"\"m-{id}\"\",\"\"Operation\"\":\"\"MeetingDetail\"\",\"\"StartTime\"\":\"\"2024-05-02T09:00:00\"\",\"\"UserId\"\":\"\"anna@region.se\"\"}}\"\r\n"
            )
        };
        let first = format!(
            "RecordId,CreationDate,Operation,AuditData\r\n{}big,2024-05-02T09:00:00,MeetingDetail,\"",
            row("r1")
        );
        BigCellCsv {
            parts: vec![
                first.into_bytes(),
                Vec::new(),
                format!("\"\r\n{}", row("r3")).into_bytes(),
            ],
            cell,
            part: 0,
            at: 0,
        }
    }
}

impl std::io::Read for BigCellCsv {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.part < 3 {
            let len = if self.part == 1 {
                self.cell
            } else {
                self.parts[self.part].len()
            };
            if self.at == len {
                self.part += 1;
                self.at = 0;
                continue;
            }
            let n = buf.len().min(len - self.at);
            if self.part == 1 {
                buf[..n].fill(b'x');
            } else {
                buf[..n].copy_from_slice(&self.parts[self.part][self.at..self.at + n]);
            }
            self.at += n;
            return Ok(n);
        }
        Ok(0)
    }
}

/// What the Teams audit CSV adapter reads from `input`: (line, events, rejection reasons).
fn read_csv(input: impl std::io::Read) -> Vec<(u64, usize, Vec<String>)> {
    use motesvakt::sources::Item;
    let adapter = Format::TeamsAuditCsv.adapter(&SourceSettings::default());
    let mut input = std::io::BufReader::new(input);
    let mut out = Vec::new();
    adapter
        .read(&mut input, &mut |r| {
            let events = r
                .items
                .iter()
                .filter(|i| matches!(i, Item::Event(_)))
                .count();
            let rejected = r
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Rejected(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            out.push((r.pos.line, events, rejected));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    out
}

/// The peak resident memory of this process, from `/proc/self/status` (`VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn an_oversized_csv_cell_is_rejected_with_its_line_and_the_rest_read() {
    let rows = read_csv(BigCellCsv::new(5 * 1024 * 1024));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!((rows[0].0, rows[0].1), (2, 1));
    assert_eq!(rows[1].0, 3);
    assert_eq!(rows[1].1, 0);
    assert_eq!(rows[1].2.len(), 1);
    assert!(rows[1].2[0].contains("longer than"), "{:?}", rows[1].2);
    assert_eq!((rows[2].0, rows[2].1), (4, 1), "the row after is read");

    // Through `scan`: the rejection names the file and line and is counted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.csv");
    let mut file = std::fs::File::create(&path).unwrap();
    std::io::copy(&mut BigCellCsv::new(5 * 1024 * 1024), &mut file).unwrap();
    drop(file);
    let config = Config::builtin();
    let detector = Detector::new(&config.detect, HashKey::from_bytes([3; 32])).unwrap();
    let store = Store::in_memory().unwrap();
    for threads in [1, 2] {
        let mut diagnostics = Vec::new();
        let stats = scan::run(
            &config,
            &detector,
            &store,
            &ScanOptions {
                paths: vec![path.clone()],
                format: None,
                threads,
                progress: None,
            },
            &mut |d| diagnostics.push(d.to_string()),
            &mut |_| {},
        )
        .unwrap();
        let c = &stats.formats[&Format::TeamsAuditCsv];
        assert_eq!((c.read, c.mapped, c.rejected), (3, 2, 1), "{c:?}");
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        let want = format!("{}:3: ", path.display());
        assert!(
            diagnostics[0].contains(&want) && diagnostics[0].contains("longer than"),
            "{diagnostics:?}"
        );
    }
}

/// Runs in a child process of its own (see the test below), so that the peak memory it
/// measures is its own.
#[test]
#[ignore = "run by a_100_mb_csv_cell_is_read_in_bounded_memory in a process of its own"]
fn child_reads_a_100_mb_csv_cell() {
    let rows = read_csv(BigCellCsv::new(100 * 1024 * 1024));
    assert_eq!(rows.len(), 3);
    assert!(!rows[1].2.is_empty());
    let peak = peak_rss_kib().expect("VmHWM in /proc/self/status");
    println!("peak-rss-kib {peak}");
}

#[test]
fn a_100_mb_csv_cell_is_read_in_bounded_memory() {
    if peak_rss_kib().is_none() {
        eprintln!("no /proc/self/status here: memory not measured");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_reads_a_100_mb_csv_cell",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.split_once("peak-rss-kib ").map(|(_, n)| n))
        .expect("the child reports its peak memory")
        .trim()
        .parse()
        .unwrap();
    // The process itself, the 4 MiB row buffer and the input buffer: far below the cell.
    assert!(
        peak < 48 * 1024,
        "peak RSS {peak} KiB reading a 100 MB cell"
    );
}
