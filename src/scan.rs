//! The batch scan: a driver of the [`pipeline`](crate::pipeline).
//!
//! Files are found in a stable order and read one record at a time; every record goes into a
//! store transaction that is committed every [`BATCH`] records and at the end of each file.
//! When everything is read, the meetings left pending are settled at the store's clock (the
//! latest event time it has seen, from this run and earlier ones). Memory does not grow with
//! the input: meeting state is in the store (on disk with `--db`, in memory without).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::config::Config;
use crate::detect::Detector;
use crate::incident::{Outcome, Severity};
use crate::ingest::{self, IngestError};
use crate::pipeline::{Batch, Diagnostic, FormatCounts, Observer, Pipeline, Reported, Settled};
use crate::sources::Format;
use crate::store::{Store, StoreError};

/// Records per transaction.
pub const BATCH: usize = 10_000;

/// Meetings judged per transaction when settling.
pub const SETTLE_BATCH: usize = 1_000;

/// What a scan did, for the summary line.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: u64,
    /// Files that could not be read or whose format is unknown.
    pub files_skipped: u64,
    pub events: u64,
    /// Events already known (the same record read again).
    pub duplicate_events: u64,
    /// Meetings judged.
    pub meetings: u64,
    pub formats: BTreeMap<Format, FormatCounts>,
    /// Incidents reported in this run (new or raised), by severity.
    pub by_severity: BTreeMap<Severity, u64>,
    pub new: u64,
    pub raised: u64,
    /// Incidents that later evidence made less serious, or withdrew.
    pub lowered: u64,
    pub withdrawn: u64,
    /// Incidents found again that were already reported by an earlier scan.
    pub known: u64,
    /// Incidents not raised because a configured exception covers them.
    pub excepted: u64,
    /// The organisation's Teams tenants learned from the store's audit records (none when
    /// `tenant_ids` is set or `learn_tenant = false`).
    pub learned_tenants: Vec<String>,
    pub elapsed: Duration,
}

impl Stats {
    /// Records rejected as unreadable, in all formats.
    pub fn lines_skipped(&self) -> u64 {
        self.formats.values().map(|c| c.rejected).sum()
    }

    /// Records that mapped to no event (unknown types, operations), in all formats.
    pub fn unmapped(&self) -> u64 {
        self.formats.values().map(|c| c.unmapped).sum()
    }

    /// Input was given but nothing of it could be read: every file was skipped (not a format
    /// motesvakt reads, unreadable), or every record was rejected. A scheduled batch must
    /// notice an export it cannot read.
    pub fn read_nothing(&self) -> bool {
        let read: u64 = self.formats.values().map(|c| c.read).sum();
        (self.files > 0 && self.files_skipped == self.files)
            || (read > 0 && self.lines_skipped() == read)
    }
}

/// The scan's settings.
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Read every file as this format instead of detecting it.
    pub format: Option<Format>,
    /// Threads for reading and judging (1: all on the calling thread). The incidents are the
    /// same whatever the number.
    pub threads: usize,
    /// Told how far the scan has come, after every batch written (about every [`BATCH`]
    /// records) and every file.
    pub progress: Option<ProgressHook>,
}

/// What [`ScanOptions::progress`] calls.
pub type ProgressHook = Box<dyn Fn(&Progress)>;

/// How far a scan has come.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes of input read.
    pub bytes: u64,
    /// Bytes of input in all.
    pub total: u64,
    /// Events read.
    pub events: u64,
}

/// Reads one file into the pipeline, committing every [`BATCH`] records and at the end. An
/// outer `Err` is a store error (the scan stops); an inner one a file that could not be read
/// (the scan goes on).
fn read_file(
    file: &Path,
    options: &ScanOptions,
    config: &Config,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<Result<Format, IngestError>, StoreError> {
    let io_err = |source| IngestError::Io {
        path: file.to_path_buf(),
        source,
    };
    let opened = match ingest::open(file, options.format) {
        Ok(Some(o)) => o,
        Ok(None) => return Ok(Ok(Format::Native)),
        Err(e) => return Ok(Err(e)),
    };
    let format = opened.format;
    let adapter = format.adapter(&config.sources);
    let read = if opened.cut != ingest::Cut::No && options.threads > 1 {
        let rows = opened.cut == ingest::Cut::Rows;
        let mut blocks = ingest::LineBlocks::new(opened.reader, opened.cut);
        // CSV: each piece is read after the file's header row.
        let mut header: Option<Vec<u8>> = None;
        let mut waiting: Vec<(Batch, FormatCounts)> = Vec::new();
        let observer = pipeline.observer_handle();
        loop {
            let next = match blocks.next_block() {
                Ok(n) => n,
                Err(e) => break Err(io_err(e)),
            };
            let ingest::Next::Block(block) = next else {
                // The end, or a line too long to cut: then the rest in one piece.
                absorb(pipeline, std::mem::take(&mut waiting), counts, diagnostic);
                writer.commit_if_full(pipeline)?;
                if let ingest::Next::LongLine = next {
                    let (offset, line, rest) = blocks.rest();
                    let mut rest: Box<dyn std::io::BufRead> = match &header {
                        // The header again before the rest, and positions moved back by it.
                        Some(h) => {
                            Box::new(std::io::Read::chain(std::io::Cursor::new(h.clone()), rest))
                        }
                        None => Box::new(rest),
                    };
                    let (offset, line) = match &header {
                        Some(h) => (
                            offset - h.len() as u64,
                            line - memchr::memchr_iter(b'\n', h).count() as u64,
                        ),
                        None => (offset, line),
                    };
                    let read_rest = |a: &dyn crate::sources::Adapter,
                                     input: &mut dyn std::io::BufRead,
                                     emit: &mut dyn FnMut(
                        crate::sources::Record<'_>,
                    )
                        -> ControlFlow<()>| {
                        if header.is_some() {
                            a.read(input, emit)
                        } else {
                            a.read_lines(input, emit)
                        }
                    };
                    let mut failure = None;
                    let r = read_rest(&*adapter, &mut rest, &mut |mut record| {
                        shift(&mut record.pos, offset, line);
                        writer.at = record.pos.end;
                        pipeline.observe(file, record, counts, diagnostic);
                        match writer.commit_if_full(pipeline) {
                            Ok(()) => ControlFlow::Continue(()),
                            Err(e) => {
                                failure = Some(e);
                                ControlFlow::Break(())
                            }
                        }
                    });
                    if let Some(e) = failure {
                        return Err(e);
                    }
                    break r.map_err(io_err);
                }
                break Ok(());
            };
            let end = block.offset + block.bytes.len() as u64;
            if rows && block.file_start {
                header = Some(ingest::csv_header(&block.bytes).to_vec());
            }
            let parts = ingest::split_block(&block, options.threads, rows);
            let header = header.as_deref();
            let adapter = &*adapter;
            let observer = &observer;
            let done = std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|part| {
                        s.spawn(move || observe_block(adapter, observer, file, part, header))
                    })
                    .collect();
                // While the threads read this block, the last one is stored.
                absorb(pipeline, std::mem::take(&mut waiting), counts, diagnostic);
                let stored = writer.commit_if_full(pipeline);
                let done: Vec<(Batch, FormatCounts)> = handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect();
                stored.map(|()| done)
            })?;
            waiting = done;
            writer.at = end;
        }
    } else {
        let mut reader = opened.reader;
        let mut failure = None;
        let r = adapter.read(&mut reader, &mut |record| {
            writer.at = record.pos.end;
            pipeline.observe(file, record, counts, diagnostic);
            match writer.commit_if_full(pipeline) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failure = Some(e);
                    ControlFlow::Break(())
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        r.map_err(io_err)
    };
    writer.commit(pipeline)?;
    Ok(read.map(|()| format))
}

/// Writes the pipeline's batches to the store, keeps what judging while reading gave, and
/// says how far the scan has come.
struct Writer<'s> {
    store: &'s Store,
    early: Settled,
    progress: Option<&'s dyn Fn(&Progress)>,
    /// Bytes of the files done, and the total.
    done: u64,
    total: u64,
    /// How far into the current file the last record taken ends.
    at: u64,
}

impl Writer<'_> {
    /// Commits the pipeline's batch, then judges the meetings the input has moved on from.
    fn commit(&mut self, pipeline: &mut Pipeline<'_>) -> Result<(), StoreError> {
        // One transaction: the pages both steps change are written once per batch.
        let tx = self.store.transaction()?;
        pipeline.store_batch(&tx)?;
        if let Some(clock) = tx.clock()? {
            let settled = pipeline.settle_cold(&tx, clock, Timestamp::now())?;
            // What changed is listed from the store at the end; only the counts are kept.
            self.early.meetings += settled.meetings;
            self.early.known += settled.known;
            self.early.duplicates += settled.duplicates;
        }
        tx.commit()?;
        if let Some(report) = self.progress {
            report(&Progress {
                bytes: (self.done + self.at).min(self.total),
                total: self.total,
                events: pipeline.stats.events,
            });
        }
        Ok(())
    }

    /// [`Writer::commit`] once the batch holds [`BATCH`] records.
    fn commit_if_full(&mut self, pipeline: &mut Pipeline<'_>) -> Result<(), StoreError> {
        if pipeline.batch_records() >= BATCH as u64 {
            self.commit(pipeline)?;
        }
        Ok(())
    }
}

/// Reads one block of lines on a worker thread. A CSV block after the first is read after
/// the file's `header` row, as if the two made a file.
fn observe_block(
    adapter: &dyn crate::sources::Adapter,
    observer: &Observer<'_>,
    file: &Path,
    block: ingest::Piece<'_>,
    header: Option<&[u8]>,
) -> (Batch, FormatCounts) {
    let mut batch = Batch::default();
    let mut counts = FormatCounts::default();
    let header = header.filter(|_| !block.file_start);
    let joined;
    let (bytes, offset, line): (&[u8], u64, u64) = match header {
        Some(h) => {
            joined = [h, block.bytes].concat();
            let lines = memchr::memchr_iter(b'\n', h).count() as u64;
            (&joined, block.offset - h.len() as u64, block.line - lines)
        }
        None => (block.bytes, block.offset, block.line),
    };
    let mut input: &[u8] = bytes;
    let mut emit = |mut record: crate::sources::Record<'_>| {
        shift(&mut record.pos, offset, line);
        observer.observe(file, record, &mut counts, &mut batch);
        ControlFlow::Continue(())
    };
    // Reading from memory cannot fail.
    let _ = if block.file_start || header.is_some() {
        adapter.read(&mut input, &mut emit)
    } else {
        adapter.read_lines(&mut input, &mut emit)
    };
    (batch, counts)
}

/// Moves a position read from a piece of a file to where the piece is in the file.
fn shift(pos: &mut crate::sources::Position, offset: u64, line: u64) {
    pos.start += offset;
    pos.end += offset;
    pos.line += line - 1;
}

/// Takes blocks read by the threads into the pipeline, in order.
fn absorb(
    pipeline: &mut Pipeline<'_>,
    done: Vec<(Batch, FormatCounts)>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) {
    for (mut batch, c) in done {
        for d in batch.diagnostics.drain(..) {
            diagnostic(d);
        }
        counts.add(c);
        pipeline.add(batch);
    }
}

/// Runs a batch scan. Input problems go to `diagnostic` and the scan goes on; a database
/// failure stops it at once. Every change the run made to the store's incidents (new, raised,
/// lowered, withdrawn; net, when a meeting was judged more than once) goes to `report`, in time
/// order, at the end.
pub fn run(
    config: &Config,
    detector: &Detector,
    store: &Store,
    options: &ScanOptions,
    diagnostic: &mut dyn FnMut(Diagnostic),
    report: &mut dyn FnMut(&Reported),
) -> Result<Stats, StoreError> {
    run_with_alerts(config, detector, store, options, None, diagnostic, report)
}

/// [`run`], with alerts of news written to the outbox through `alerts`.
pub fn run_with_alerts(
    config: &Config,
    detector: &Detector,
    store: &Store,
    options: &ScanOptions,
    alerts: Option<std::sync::Arc<crate::alert::Router>>,
    diagnostic: &mut dyn FnMut(Diagnostic),
    report: &mut dyn FnMut(&Reported),
) -> Result<Stats, StoreError> {
    let started = Instant::now();
    let mut stats = Stats::default();
    let files = ingest::discover(&options.paths, &mut |e| {
        stats.files_skipped += 1;
        diagnostic(Diagnostic::Path(e));
    });
    let mut pipeline = Pipeline::new(config, detector, store)?;
    pipeline.set_alerts(alerts);

    pipeline.set_threads(options.threads);
    // What changed is listed from the store at the end.
    pipeline.set_list_changes(false);
    let total = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut writer = Writer {
        store,
        early: Settled::default(),
        progress: options.progress.as_deref(),
        done: 0,
        total,
        at: 0,
    };

    for file in files {
        stats.files += 1;
        let mut counts = FormatCounts::default();
        let read = read_file(
            &file,
            options,
            config,
            &mut pipeline,
            &mut writer,
            &mut counts,
            diagnostic,
        )?;
        writer.done += std::fs::metadata(&file).map_or(0, |m| m.len());
        writer.at = 0;
        match read {
            Ok(format) => stats.formats.entry(format).or_default().add(counts),
            Err(e) => {
                stats.files_skipped += 1;
                diagnostic(Diagnostic::Path(e));
            }
        }
    }
    stats.events = pipeline.stats.events;
    // Every file was read under the current settings.
    let tx = store.transaction()?;
    pipeline.finish(&tx)?;
    tx.commit()?;

    let now = Timestamp::now();
    stats.meetings += writer.early.meetings;
    stats.known += writer.early.known;
    stats.duplicate_events += writer.early.duplicates;
    loop {
        let tx = store.transaction()?;
        let clock = tx.clock()?.unwrap_or(now);
        let settled = pipeline.settle(&tx, clock, now, SETTLE_BATCH)?;
        tx.commit()?;
        stats.meetings += settled.meetings;
        stats.known += settled.known;
        stats.duplicate_events += settled.duplicates;
        if !settled.more {
            break;
        }
    }
    stats.excepted = pipeline.excepted();
    stats.learned_tenants = pipeline.learned_tenants().map(str::to_string).collect();
    // What this run changed, net, from the store, in time order: nothing is held in memory.
    store.run_changes(pipeline.run_id(), &mut |s| {
        let r = Reported {
            incident: s.incident,
            outcome: s.last_change,
        };
        match r.outcome {
            Outcome::New => stats.new += 1,
            Outcome::Raised { .. } => stats.raised += 1,
            Outcome::Lowered { .. } => stats.lowered += 1,
            Outcome::Withdrawn => stats.withdrawn += 1,
            Outcome::Known => {}
        }
        if r.outcome.is_news() {
            *stats.by_severity.entry(r.incident.severity).or_default() += 1;
        }
        report(&r);
    })?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}
