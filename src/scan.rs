//! The batch scan: a driver of the [`pipeline`](crate::pipeline).
//!
//! Files are found in a stable order and read one record at a time; every record goes into a
//! store transaction that is committed every [`BATCH`] records and at the end of each file.
//! When everything is read, the meetings left pending are settled at the store's clock (the
//! latest event time it has seen, from this run and earlier ones). Memory does not grow with
//! the input: meeting state is in the store (on disk with `--db`, in memory without).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::config::Config;
use crate::detect::Detector;
use crate::incident::{Outcome, Severity};
use crate::ingest;
use crate::pipeline::{Diagnostic, FormatCounts, Pipeline, Reported};
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
}

/// The scan's settings.
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Read every file as this format instead of detecting it.
    pub format: Option<Format>,
}

/// Runs a batch scan. Input problems go to `diagnostic` and the scan goes on; a database
/// failure stops it at once. Returns every change to the store's incidents (new, raised,
/// lowered, withdrawn), in time order.
pub fn run(
    config: &Config,
    detector: &Detector,
    store: &Store,
    options: &ScanOptions,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<(Vec<Reported>, Stats), StoreError> {
    let started = Instant::now();
    let mut stats = Stats::default();
    let files = ingest::discover(&options.paths, &mut |e| {
        stats.files_skipped += 1;
        diagnostic(Diagnostic::Path(e));
    });
    let mut pipeline = Pipeline::new(config, detector, store.has_observations()?);

    for file in files {
        stats.files += 1;
        let mut counts = FormatCounts::default();
        let mut tx = Some(store.transaction()?);
        let mut in_batch = 0usize;
        let mut failure: Option<StoreError> = None;
        let result = ingest::read_file(&file, options.format, &config.sources, &mut |record| {
            let step = || -> Result<(), StoreError> {
                let t = tx.as_ref().expect("a transaction is open while reading");
                pipeline.observe(t, &file, record, &mut counts, diagnostic)?;
                in_batch += 1;
                if in_batch >= BATCH {
                    in_batch = 0;
                    pipeline.commit(tx.take().expect("open"))?;
                    tx = Some(store.transaction()?);
                }
                Ok(())
            };
            match step() {
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
        if let Some(tx) = tx {
            pipeline.commit(tx)?;
        }
        match result {
            Ok(format) => stats.formats.entry(format).or_default().add(counts),
            Err(e) => {
                stats.files_skipped += 1;
                diagnostic(Diagnostic::Path(e));
            }
        }
    }
    stats.events = pipeline.stats.events;
    stats.duplicate_events = pipeline.stats.duplicates;

    let now = Timestamp::now();
    let mut reported = Vec::new();
    loop {
        let tx = store.transaction()?;
        let clock = tx.clock()?.unwrap_or(now);
        let settled = pipeline.settle(&tx, clock, now, SETTLE_BATCH)?;
        tx.commit()?;
        stats.meetings += settled.meetings;
        stats.known += settled.known;
        stats.excepted += settled.excepted;
        reported.extend(settled.reported);
        if !settled.more {
            break;
        }
    }
    for r in &reported {
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
    }
    reported.sort_by(|a, b| {
        (
            a.incident.time,
            a.incident.platform,
            &a.incident.meeting,
            &a.incident.rule,
        )
            .cmp(&(
                b.incident.time,
                b.incident.platform,
                &b.incident.meeting,
                &b.incident.rule,
            ))
    });
    stats.elapsed = started.elapsed();
    Ok((reported, stats))
}
