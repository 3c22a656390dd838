//! The batch scan: a driver of the [`pipeline`](crate::pipeline).
//!
//! Files are found in a stable order and read one record at a time; every record goes into a
//! store transaction; a batch of [`BATCH`] records is stored (and the meetings it left cold
//! judged) as one step, and every [`BATCHES_PER_COMMIT`] steps are committed together.
//! When everything is read, the meetings left pending are settled at the store's clock (the
//! latest event time it has seen, from this run and earlier ones). Memory does not grow with
//! the input: meeting state is in the store (on disk with `--db`, in memory without).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
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

/// Batches of [`BATCH`] records a scan commits together. Each commit writes every page the
/// batches changed to the write-ahead log, and the indexes keyed on meeting and incident ids
/// (random keys) are changed on nearly every page by every batch: committing 32 batches
/// at a time writes those pages once instead of 32 times, and a meeting stored and
/// judged between two commits needs no pending mark ([`Pipeline::set_marks_at_commit`]).
/// Measured with `--db` on 2 GB of native NDJSON (a 1.2 GB database): 8 batches 26.7 s, 16
/// 25.1 s, 32 22.6 s, 64 22.4 s, 128 21.9 s, peak memory the same (the page cache is bounded;
/// pages beyond it go to the log before the commit). What a killed scan leaves is what its last
/// commit held (at most 320,000 records ago), completed by the next run as before.
pub const BATCHES_PER_COMMIT: usize = 32;

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
        let blocks = ingest::LineBlocks::new(opened.reader, opened.cut);
        let Cutting {
            blocks,
            header,
            stop,
        } = read_parts(
            blocks,
            rows,
            options.threads,
            file,
            &*adapter,
            pipeline,
            writer,
            counts,
            diagnostic,
        )?;
        match stop {
            Stop::End | Stop::Stopped => Ok(()),
            Stop::Failed(e) => Err(io_err(e)),
            // A line too long to cut: the rest in one piece, on this thread.
            Stop::LongLine => {
                let (offset, line, rest) = blocks.rest();
                let mut rest: Box<dyn std::io::BufRead> = match &header {
                    // The header again before the rest, and positions moved back by it.
                    Some(h) => {
                        Box::new(std::io::Read::chain(std::io::Cursor::new(h.to_vec()), rest))
                    }
                    None => Box::new(rest),
                };
                let (offset, line) = match &header {
                    Some(h) => before_header(h, offset, line),
                    None => (offset, line),
                };
                // CSV: the rest is read after its header, as if the two made a file.
                let lines = header.is_none();
                let at = (offset, line);
                let r = read_here(
                    &*adapter, &mut rest, lines, at, file, pipeline, writer, counts, diagnostic,
                )?;
                r.map_err(io_err)
            }
        }
    } else if let Some(json) = adapter.json().filter(|_| options.threads > 1) {
        // JSON that cannot be cut at line ends (an array, a list response, pretty-printed
        // objects): split on one thread, its records mapped on the others.
        let r = read_json_runs(
            opened.reader,
            json,
            options.threads,
            file,
            pipeline,
            writer,
            counts,
            diagnostic,
        )?;
        r.map_err(io_err)
    } else if options.threads > 1 {
        // Not cut: read on one thread, stored and judged on this one meanwhile.
        let stop = read_streamed(
            opened.reader,
            file,
            &*adapter,
            pipeline,
            writer,
            counts,
            diagnostic,
        )?;
        stop.map_err(io_err)
    } else {
        let mut reader = opened.reader;
        let (adapter, at) = (&*adapter, (0, 1));
        read_here(
            adapter,
            &mut reader,
            false,
            at,
            file,
            pipeline,
            writer,
            counts,
            diagnostic,
        )?
        .map_err(io_err)
    };
    writer.commit(pipeline)?;
    Ok(read.map(|()| format))
}

/// The bytes of a block one reading thread takes at a time: small enough that the threads
/// share the work evenly and the one storing rarely waits, large enough that handing a part
/// on costs nothing beside reading it.
const PART_BYTES: usize = 256 * 1024;

/// A part of a block, for a reading thread.
struct Job {
    block: Arc<ingest::Block>,
    part: ingest::Part,
    /// A CSV file's header row, read before every part but the first.
    header: Option<Arc<[u8]>>,
}

/// A part read.
struct Done {
    seq: u64,
    /// The file offset just after the part.
    end: u64,
    batch: Batch,
    counts: FormatCounts,
}

/// What the cutting of a file into blocks leaves.
struct Cutting {
    /// For the rest of the file, after a line too long to cut.
    blocks: ingest::LineBlocks,
    /// A CSV file's header row.
    header: Option<Arc<[u8]>>,
    stop: Stop,
}

/// Why the cutting of a file into blocks stopped.
enum Stop {
    End,
    /// A line too long to cut comes next ([`ingest::Next::LongLine`]).
    LongLine,
    Failed(std::io::Error),
    /// The parts were no longer taken (the scan stopped on a store error).
    Stopped,
}

/// Reads a file that can be cut, in a pipeline that keeps every thread busy: one thread
/// reads the file and cuts it into blocks and the blocks into parts ([`cut_blocks`]),
/// `threads` threads read the parts into batches ([`observe_block`]), and this one takes
/// the batches into the pipeline in the file's order and stores and judges them
/// ([`in_parts`]).
#[allow(clippy::too_many_arguments)]
fn read_parts(
    blocks: ingest::LineBlocks,
    rows: bool,
    threads: usize,
    file: &Path,
    adapter: &dyn crate::sources::Adapter,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<Cutting, StoreError> {
    let observer = pipeline.observer_handle();
    let observer = &observer;
    let cut = move |hand: &mut dyn FnMut(Job) -> bool| cut_blocks(blocks, rows, threads, hand);
    let read = |job: Job| {
        let piece = job.part.piece(&job.block);
        let end = piece.offset + piece.bytes.len() as u64;
        let (batch, counts) = observe_block(adapter, observer, file, piece, job.header.as_deref());
        (end, batch, counts)
    };
    in_parts(threads, cut, read, pipeline, writer, counts, diagnostic)
}

/// Reads JSON records that cannot be cut at line ends (an array, a list response,
/// pretty-printed objects: [`crate::sources::JsonRecords`]) in the pipeline of [`in_parts`]:
/// one thread splits the file into records ([`json::read_records`], as the adapter alone
/// does) and hands them on in runs of about [`PART_BYTES`], `threads` threads map and observe
/// the runs, and this one stores and judges them in the file's order. The records, positions
/// and diagnostics are the adapter's own, whatever the number of threads. The inner `Err` is
/// the splitting thread's I/O error.
///
/// [`json::read_records`]: crate::sources::json::read_records
#[allow(clippy::too_many_arguments)]
fn read_json_runs(
    mut reader: Box<dyn std::io::BufRead + Send>,
    json: &dyn crate::sources::JsonRecords,
    threads: usize,
    file: &Path,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<std::io::Result<()>, StoreError> {
    use crate::sources::json;
    let observer = pipeline.observer_handle();
    let observer = &observer;
    let wrappers = json.wrappers();
    let cut = move |hand: &mut dyn FnMut(json::Run) -> bool| {
        let mut run = json::Run::default();
        let r = json::read_records(&mut reader, wrappers, json::Layout::Any, &mut |raw| {
            run.push(raw);
            if run.bytes() >= PART_BYTES || run.len() >= RUN_RECORDS {
                // No longer taken (a store error): stop splitting.
                if !hand(std::mem::take(&mut run)) {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        if !run.is_empty() {
            hand(run);
        }
        r
    };
    let read = |run: json::Run| {
        let mut batch = Batch::default();
        let mut counts = FormatCounts::default();
        let _ = json::map_run(json, &run, &mut |record| {
            observer.observe(file, record, &mut counts, &mut batch);
            ControlFlow::Continue(())
        });
        (run.end(), batch, counts)
    };
    in_parts(threads, cut, read, pipeline, writer, counts, diagnostic)
}

/// Parts read ahead of the one this thread takes next, beyond two per reading thread: about a
/// batch of records ([`BATCH`] records of native NDJSON, some 220 bytes each, make nine parts of
/// [`PART_BYTES`]). With fewer, the reading threads stop soon after this one starts to store
/// and judge a batch (every [`BATCH`] records), and a core stands idle until it is done
/// (measured: 200 MB of native NDJSON with 6 parts in flight 1.70 s, with 16 1.47 s, with 24
/// to 128 no faster and more memory). Each part's batch holds what a part's records keep, so
/// memory grows by at most this many parts' batches.
const AHEAD_PARTS: usize = 10;

/// Records in a run of JSON records at most, however small they are: a run's batch stays the
/// size of a part's.
const RUN_RECORDS: usize = 8_192;

/// The pipeline that keeps every thread busy: `cut`, on a thread of its own, hands parts of a
/// file on in the file's order (the hand says `false` once they are no longer taken), `threads`
/// threads `read` the parts into batches (the file offset just after the part, its batch and
/// counts), and this one takes the batches into the pipeline in the file's order and stores
/// and judges them ([`Writer::commit_if_full`]), while the others go on. The queues between
/// them are bounded (the window of parts in flight below), so memory does not grow with the
/// file, and nobody waits for a whole block to be read before storing it. The batches come in the file's order
/// whatever the number of threads or which one finished first: the incidents are those of one
/// thread. Returns what `cut` returned.
fn in_parts<P: Send, C: Send>(
    threads: usize,
    cut: impl FnOnce(&mut dyn FnMut(P) -> bool) -> C + Send,
    read: impl Fn(P) -> (u64, Batch, FormatCounts) + Sync,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<C, StoreError> {
    let read = &read;
    std::thread::scope(|s| {
        // Parts in flight (queued, being read, read and waiting for their turn) are at most
        // the window: the cutting thread takes a credit for each part it hands out and this
        // one gives it back when it has taken that part's batch in order. Without it, one slow
        // part (a block of messages dense with identity numbers) would let the other threads
        // read ahead without bound, and their batches wait here. The part next in order is
        // always in flight, so the window never stops the scan. It holds a batch's worth of
        // parts beyond those being read ([`AHEAD_PARTS`]), and the queue of parts read has
        // room for all of them, so that the reading threads go on while this one stores and
        // judges a batch.
        let window = 2 * threads + 2 + AHEAD_PARTS;
        let (job_tx, job_rx) = mpsc::sync_channel::<(u64, P)>(threads);
        let (done_tx, done_rx) = mpsc::sync_channel::<Done>(window);
        let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(window);
        for _ in 0..window {
            // Room for all of them: cannot block.
            let _ = credit_tx.send(());
        }
        let cutter = s.spawn(move || {
            let mut seq = 0;
            let mut hand = |part: P| {
                // A part goes out only when fewer than the window are in flight; no more
                // credits means the batches are no longer taken.
                let sent = credit_rx.recv().is_ok() && job_tx.send((seq, part)).is_ok();
                seq += 1;
                sent
            };
            cut(&mut hand)
        });
        // The readers share the queue of parts; the last one to stop drops it, which stops
        // the cutting thread when this one has stopped taking batches.
        let jobs = Arc::new(Mutex::new(job_rx));
        for _ in 0..threads {
            let jobs = Arc::clone(&jobs);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                loop {
                    let job = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((seq, part)) = job else { break };
                    // The part is let go (by `read`) before waiting for room in the queue.
                    let (end, batch, counts) = read(part);
                    let done = Done {
                        seq,
                        end,
                        batch,
                        counts,
                    };
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop((jobs, done_tx));
        // Batches that came before their turn (a reader finished a later part first).
        let mut ahead: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0;
        for done in done_rx.iter() {
            ahead.insert(done.seq, done);
            while let Some(d) = ahead.remove(&next) {
                next += 1;
                // The window had room for this one, so there is room for its credit.
                let _ = credit_tx.send(());
                // On an error the queues are dropped on return, which stops the threads.
                take(d, pipeline, writer, counts, diagnostic)?;
            }
        }
        // All readers stopped: every part was read (a reader that panicked is found when
        // the scope ends, and its panic goes on from there).
        let cut = cutter
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        Ok(cut)
    })
}

/// Records a reading thread hands on at a time when a file is read whole: few enough that
/// storing starts soon and the queue holds little, enough that handing them on costs nothing.
const STREAM_RECORDS: u64 = 1_000;

/// Reads a file that cannot be cut and is not JSON records (a CSV decoded from UTF-16) on a
/// thread of its own, which reads the records into batches of [`STREAM_RECORDS`], while this
/// one takes the batches into the pipeline, in order, and stores and judges them. The queue
/// between the two is bounded. The inner `Err` is the reading thread's I/O error.
fn read_streamed(
    mut reader: Box<dyn std::io::BufRead + Send>,
    file: &Path,
    adapter: &dyn crate::sources::Adapter,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<std::io::Result<()>, StoreError> {
    let observer = pipeline.observer_handle();
    let observer = &observer;
    std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::sync_channel::<Done>(2);
        let read = s.spawn(move || {
            let mut batch = Batch::default();
            let mut counts = FormatCounts::default();
            let mut seq = 0;
            let mut end = 0;
            let mut hand_on = |batch: &mut Batch, counts: &mut FormatCounts, end: u64| {
                let done = Done {
                    seq,
                    end,
                    batch: std::mem::take(batch),
                    counts: std::mem::take(counts),
                };
                seq += 1;
                done_tx.send(done).is_ok()
            };
            let r = adapter.read(&mut reader, &mut |record| {
                end = record.pos.end;
                observer.observe(file, record, &mut counts, &mut batch);
                if batch.records >= STREAM_RECORDS && !hand_on(&mut batch, &mut counts, end) {
                    // Nobody takes them any more (a store error): stop reading.
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
            if batch.records > 0 {
                hand_on(&mut batch, &mut counts, end);
            }
            r
        });
        for d in done_rx.iter() {
            // On an error the queue is dropped on return, which stops the reading thread.
            take(d, pipeline, writer, counts, diagnostic)?;
        }
        Ok(read.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

/// Cuts a file into blocks and the blocks into parts for the reading threads, in order; on
/// its own thread, so that reading the file (decompressing it, for a `.gz`) goes on while the
/// others work.
fn cut_blocks(
    mut blocks: ingest::LineBlocks,
    rows: bool,
    threads: usize,
    hand: &mut dyn FnMut(Job) -> bool,
) -> Cutting {
    let mut header: Option<Arc<[u8]>> = None;
    let stop = 'blocks: loop {
        let block = match blocks.next_block() {
            Ok(ingest::Next::Block(b)) => b,
            Ok(ingest::Next::End) => break Stop::End,
            Ok(ingest::Next::LongLine) => break Stop::LongLine,
            Err(e) => break Stop::Failed(e),
        };
        if rows && block.file_start {
            header = Some(Arc::from(ingest::csv_header(&block.bytes)));
        }
        let n = block.bytes.len().div_ceil(PART_BYTES).max(threads);
        let parts = ingest::split_parts(&block, n, rows);
        let block = Arc::new(block);
        for part in parts {
            let job = Job {
                block: Arc::clone(&block),
                part,
                header: header.clone(),
            };
            if !hand(job) {
                break 'blocks Stop::Stopped;
            }
        }
    };
    Cutting {
        blocks,
        header,
        stop,
    }
}

/// Reads `input` on this thread (as lines of NDJSON with `lines`), the records' positions
/// moved by `at` (the offset and line `input` starts at), committing every [`BATCH`] records.
/// The outer `Err` is a store error, the inner one an I/O error.
#[allow(clippy::too_many_arguments)]
fn read_here(
    adapter: &dyn crate::sources::Adapter,
    input: &mut dyn std::io::BufRead,
    lines: bool,
    at: (u64, u64),
    file: &Path,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<std::io::Result<()>, StoreError> {
    let mut failure = None;
    let mut emit = |mut record: crate::sources::Record<'_>| {
        shift(&mut record.pos, at.0, at.1);
        writer.at = record.pos.end;
        pipeline.observe(file, record, counts, diagnostic);
        match writer.commit_if_full(pipeline) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    let r = if lines {
        adapter.read_lines(input, &mut emit)
    } else {
        adapter.read(input, &mut emit)
    };
    match failure {
        Some(e) => Err(e),
        None => Ok(r),
    }
}

/// Writes the pipeline's batches to the store, keeps what judging while reading gave, and
/// says how far the scan has come.
struct Writer<'s> {
    store: &'s Store,
    /// The transaction the batches since the last commit went into.
    tx: Option<crate::store::Tx<'s>>,
    /// Batches in `tx`.
    uncommitted: usize,
    early: Settled,
    progress: Option<&'s dyn Fn(&Progress)>,
    /// Bytes of the files done, and the total.
    done: u64,
    total: u64,
    /// How far into the current file the last record taken ends.
    at: u64,
}

impl<'s> Writer<'s> {
    /// Stores the pipeline's batch, then judges the meetings the input has moved on from; the
    /// transaction is committed every [`BATCHES_PER_COMMIT`] batches ([`Writer::flush`] for
    /// the rest).
    fn commit(&mut self, pipeline: &mut Pipeline<'_>) -> Result<(), StoreError> {
        // One transaction: the pages both steps change are written once per commit.
        let tx = match self.tx.take() {
            Some(tx) => tx,
            None => self.store.transaction()?,
        };
        pipeline.store_batch(&tx)?;
        if let Some(clock) = tx.clock()? {
            let settled = pipeline.settle_cold(&tx, clock, Timestamp::now())?;
            // What changed is listed from the store at the end; only the counts are kept.
            self.early.meetings += settled.meetings;
            self.early.known += settled.known;
            self.early.duplicates += settled.duplicates;
        }
        self.uncommitted += 1;
        if self.uncommitted >= BATCHES_PER_COMMIT {
            self.uncommitted = 0;
            pipeline.mark_held(&tx)?;
            tx.commit()?;
        } else {
            self.tx = Some(tx);
        }
        if let Some(report) = self.progress {
            report(&Progress {
                bytes: (self.done + self.at).min(self.total),
                total: self.total,
                events: pipeline.stats.events,
            });
        }
        Ok(())
    }

    /// Commits the batches not committed yet.
    fn flush(&mut self, pipeline: &mut Pipeline<'_>) -> Result<(), StoreError> {
        self.uncommitted = 0;
        match self.tx.take() {
            Some(tx) => {
                pipeline.mark_held(&tx)?;
                tx.commit()
            }
            None => Ok(()),
        }
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
            let (offset, line) = before_header(h, block.offset, block.line);
            (&joined, offset, line)
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
        adapter.read_lines_lending(&mut input, &mut emit)
    };
    (batch, counts)
}

/// Where input that starts with a CSV file's `header` row begins, when what follows the
/// header is at `offset` and `line` of the file: positions read from it are moved back by the
/// header's bytes and lines, so that they fall where the record is in the file.
fn before_header(header: &[u8], offset: u64, line: u64) -> (u64, u64) {
    (
        offset - header.len() as u64,
        line - memchr::memchr_iter(b'\n', header).count() as u64,
    )
}

/// Moves a position read from a piece of a file to where the piece is in the file.
fn shift(pos: &mut crate::sources::Position, offset: u64, line: u64) {
    pos.start += offset;
    pos.end += offset;
    pos.line += line - 1;
}

/// Takes a batch read on another thread into the pipeline (the batches of a file in its
/// order), and commits once the pipeline holds [`BATCH`] records.
fn take(
    done: Done,
    pipeline: &mut Pipeline<'_>,
    writer: &mut Writer<'_>,
    counts: &mut FormatCounts,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<(), StoreError> {
    let Done {
        mut batch,
        counts: c,
        end,
        ..
    } = done;
    for d in batch.diagnostics.drain(..) {
        diagnostic(d);
    }
    counts.add(c);
    pipeline.add(batch);
    writer.at = end;
    writer.commit_if_full(pipeline)
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
    // Into a database file, a meeting stored and judged between two commits needs no pending
    // mark (written, then deleted): those still held are marked at each commit.
    pipeline.set_marks_at_commit(!store.is_ephemeral());
    // What changed is listed from the store at the end.
    pipeline.set_list_changes(false);
    let total = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut writer = Writer {
        store,
        tx: None,
        uncommitted: 0,
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
    writer.flush(&mut pipeline)?;
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
