//! A model-based test of the tailer: random sequences of appends (whole and partial lines),
//! renames (rotation), copy-and-truncate, copies, deletions of copies, commits and crashes
//! are played on real files in a temporary folder, against a model that knows every line
//! written. After every commit no line has been taken twice; at the end, once every line has
//! been ended and the folder looked at again, every line of every file still there has been
//! taken. A crash drops what was read since the last commit and starts a new tailer from the
//! rows committed, as the service does after a kill -9.

use std::collections::{BTreeMap, HashSet};
use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use motesvakt::config::Watch;
use motesvakt::config::service::RawWatch;
use motesvakt::ingest::tailer::{FileEvent, TailSettings, Tailer};
use motesvakt::ingest::watch::walk;
use motesvakt::sources::{Adapter, Flow, Identity, Item, Position, Record, RecordKey};
use motesvakt::store::FileRow;
use proptest::prelude::*;

/// Reads lines of the form `{..., "n": 17}` and emits one record per line, labelled with its
/// number: which lines were taken is then known exactly.
struct Numbered;

impl Adapter for Numbered {
    fn read(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> std::io::Result<()> {
        let mut offset = 0u64;
        let mut line_no = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = input.read_until(b'\n', &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            line_no += 1;
            let pos = Position {
                line: line_no,
                start: offset,
                end: offset + n as u64,
            };
            offset += n as u64;
            let text = String::from_utf8_lossy(&buf);
            let item = match text.find("\"n\":") {
                Some(i) => {
                    let digits: String = text[i + 4..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect();
                    Item::Unmapped(digits)
                }
                None => Item::Rejected("no number".into()),
            };
            let record = Record::one(pos, Identity::Key(RecordKey::new("t", &[&buf])), item);
            if emit(record).is_break() {
                return Ok(());
            }
        }
    }
}

fn line(n: u64) -> String {
    format!(
        "{{\"time\":\"2024-05-02T08:00:00Z\",\"platform\":\"teams\",\"meeting\":\"m\",\"type\":\"chat_message\",\"n\":{n}}}\n"
    )
}

#[derive(Debug, Clone)]
enum Op {
    /// Appends whole lines to live file `k`, first ending a line left partial.
    Append(usize, u8),
    /// Appends the first part of a line to live file `k`.
    Partial(usize),
    /// Renames live file `k` to a rotated name (still included); the next append makes it anew.
    Rotate(usize),
    /// Copies live file `k` to a rotated name, then truncates `k` (logrotate's copytruncate).
    CopyTruncate(usize),
    /// Copies live file `k` to another included name (the same content twice).
    Copy(usize),
    /// Deletes the oldest copy, if any.
    DeleteCopy,
    /// Looks, reads everything ready and commits.
    Commit,
    /// Looks and reads, then dies before committing.
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 1..6u8).prop_map(|(k, n)| Op::Append(k, n)),
        2 => (0..3usize).prop_map(Op::Partial),
        1 => (0..3usize).prop_map(Op::Rotate),
        1 => (0..3usize).prop_map(Op::CopyTruncate),
        1 => (0..3usize).prop_map(Op::Copy),
        1 => Just(Op::DeleteCopy),
        4 => Just(Op::Commit),
        2 => Just(Op::Crash),
    ]
}

/// The files as the model knows them: per path, the line numbers in it, and whether its last
/// line is partial (and which number it will have).
#[derive(Default)]
struct Model {
    files: BTreeMap<PathBuf, (Vec<u64>, Option<u64>)>,
    next: u64,
    generation: u64,
    copies: Vec<PathBuf>,
}

struct World {
    dir: tempfile::TempDir,
    watch: Watch,
    tailer: Tailer,
    /// Rows as last committed.
    committed_rows: Vec<FileRow>,
    /// Line numbers taken and committed.
    committed: Vec<u64>,
    /// Taken since the last commit.
    uncommitted: Vec<u64>,
    next_id: i64,
}

fn settings() -> TailSettings {
    TailSettings {
        quiescence: Duration::from_secs(3600),
        max_line_bytes: 4096,
    }
}

fn new_tailer(rows: Vec<FileRow>) -> Tailer {
    let mut t = Tailer::new(
        rows,
        settings(),
        Box::new(|p: &Path| p.display().to_string()),
    );
    // Small reads, so that files are read in several steps.
    t.set_budget(1);
    t
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let watch = Watch::from_raw(
            RawWatch {
                path: dir.path().to_path_buf(),
                include: Some(vec!["*.ndjson".into()]),
                exclude: vec![],
                format: None,
                mode: Default::default(),
            },
            "watch[0]",
            &|k, m| format!("{k}: {m}"),
        )
        .unwrap();
        World {
            dir,
            watch,
            tailer: new_tailer(Vec::new()),
            committed_rows: Vec::new(),
            committed: Vec::new(),
            uncommitted: Vec::new(),
            next_id: 1,
        }
    }

    fn live(&self, k: usize) -> PathBuf {
        self.dir.path().join(format!("live{k}.ndjson"))
    }

    /// Looks at the folder and reads everything ready.
    fn read_all(&mut self) {
        let found = walk(std::slice::from_ref(&self.watch), &mut |p, e| {
            panic!("{}: {e}", p.display())
        });
        let mut events: Vec<FileEvent> = Vec::new();
        self.tailer.look(found, &mut |e| events.push(e));
        let mut taken = Vec::new();
        loop {
            let mut any = false;
            for i in self.tailer.readable() {
                loop {
                    let r = self.tailer.read_lines(
                        i,
                        &Numbered,
                        &mut |rec| {
                            for item in &rec.items {
                                match item {
                                    Item::Unmapped(n) => taken.push(n.parse::<u64>().unwrap()),
                                    other => panic!("line {} not whole: {other:?}", rec.pos.line),
                                }
                            }
                            ControlFlow::Continue(())
                        },
                        &mut |e| events.push(e),
                    );
                    any |= r.records > 0;
                    if !r.more {
                        break;
                    }
                }
            }
            if !any {
                break;
            }
        }
        self.uncommitted.extend(taken);
    }

    fn commit(&mut self) {
        for i in 0..self.tailer.files.len() {
            if self.tailer.files[i].dirty {
                let id = match self.tailer.files[i].row.id {
                    0 => {
                        self.next_id += 1;
                        self.next_id
                    }
                    id => id,
                };
                self.tailer.saved(i, id);
            }
        }
        self.committed_rows = self.tailer.files.iter().map(|t| t.row.clone()).collect();
        self.committed.append(&mut self.uncommitted);
        let mut seen = HashSet::new();
        for n in &self.committed {
            assert!(
                seen.insert(*n),
                "line {n} taken twice: {:?}",
                self.committed
            );
        }
    }

    fn crash(&mut self) {
        self.uncommitted.clear();
        // A row first saved in the lost transaction is not in the store either.
        self.tailer = new_tailer(self.committed_rows.clone());
    }
}

fn append(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(bytes).unwrap();
}

fn play(ops: Vec<Op>) {
    let mut w = World::new();
    let mut m = Model::default();
    for op in ops {
        match op {
            Op::Append(k, n) => {
                let p = w.live(k);
                let entry = m.files.entry(p.clone()).or_default();
                if let Some(num) = entry.1.take() {
                    let full = line(num);
                    let half = full.len() / 2;
                    append(&p, &full.as_bytes()[half..]);
                    entry.0.push(num);
                }
                for _ in 0..n {
                    m.next += 1;
                    append(&p, line(m.next).as_bytes());
                    entry.0.push(m.next);
                }
            }
            Op::Partial(k) => {
                let p = w.live(k);
                let entry = m.files.entry(p.clone()).or_default();
                if entry.1.is_none() {
                    m.next += 1;
                    let full = line(m.next);
                    append(&p, &full.as_bytes()[..full.len() / 2]);
                    entry.1 = Some(m.next);
                }
            }
            Op::Rotate(k) => {
                let p = w.live(k);
                if let Some(entry) = m.files.remove(&p) {
                    m.generation += 1;
                    let to = w
                        .dir
                        .path()
                        .join(format!("live{k}.{}.ndjson", m.generation));
                    std::fs::rename(&p, &to).unwrap();
                    // A line left partial in a rotated file is ended there.
                    let mut entry = entry;
                    if let Some(num) = entry.1.take() {
                        let full = line(num);
                        append(&to, &full.as_bytes()[full.len() / 2..]);
                        entry.0.push(num);
                    }
                    m.files.insert(to, entry);
                }
            }
            Op::CopyTruncate(k) => {
                let p = w.live(k);
                if let Some(entry) = m.files.get_mut(&p)
                    && entry.1.is_none()
                    && !entry.0.is_empty()
                {
                    m.generation += 1;
                    let to = w
                        .dir
                        .path()
                        .join(format!("live{k}.{}.ndjson", m.generation));
                    std::fs::copy(&p, &to).unwrap();
                    OpenOptions::new()
                        .write(true)
                        .truncate(true)
                        .open(&p)
                        .unwrap();
                    let lines = std::mem::take(&mut entry.0);
                    m.files.insert(to, (lines, None));
                }
            }
            Op::Copy(k) => {
                let p = w.live(k);
                if let Some(entry) = m.files.get(&p)
                    && entry.1.is_none()
                    && !entry.0.is_empty()
                {
                    m.generation += 1;
                    let to = w
                        .dir
                        .path()
                        .join(format!("copy{k}.{}.ndjson", m.generation));
                    std::fs::copy(&p, &to).unwrap();
                    let lines = entry.0.clone();
                    m.files.insert(to.clone(), (lines, None));
                    m.copies.push(to);
                }
            }
            Op::DeleteCopy => {
                if !m.copies.is_empty() {
                    let p = m.copies.remove(0);
                    std::fs::remove_file(&p).unwrap();
                    m.files.remove(&p);
                }
            }
            Op::Commit => {
                w.read_all();
                w.commit();
            }
            Op::Crash => {
                w.read_all();
                w.crash();
            }
        }
    }
    // End every partial line, then look until nothing more comes.
    for (p, entry) in m.files.iter_mut() {
        if let Some(num) = entry.1.take() {
            let full = line(num);
            append(p, &full.as_bytes()[full.len() / 2..]);
            entry.0.push(num);
        }
    }
    for _ in 0..4 {
        w.read_all();
        w.commit();
    }
    let taken: HashSet<u64> = w.committed.iter().copied().collect();
    for (p, (lines, _)) in &m.files {
        for n in lines {
            assert!(
                taken.contains(n),
                "line {n} of {} was never taken; taken: {:?}",
                p.display(),
                w.committed
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn nothing_taken_twice_nothing_committed_lost(ops in prop::collection::vec(op(), 1..40)) {
        play(ops);
    }
}

#[test]
fn rotation_copytruncate_and_copies_in_one_sequence() {
    play(vec![
        Op::Append(0, 3),
        Op::Commit,
        Op::Append(0, 2),
        Op::Copy(0),
        Op::Rotate(0),
        Op::Append(0, 1),
        Op::Crash,
        Op::Append(0, 2),
        Op::CopyTruncate(0),
        Op::Append(0, 3),
        Op::Commit,
        Op::Partial(1),
        Op::Crash,
        Op::Append(1, 1),
        Op::DeleteCopy,
        Op::Commit,
    ]);
}
