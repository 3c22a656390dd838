//! `motesvakt status`: what the service's store says about the files it follows, the meetings
//! waiting for judgement, the last batch and the store's size. Read from the database, so it
//! works whether the service runs or not.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::config::STATE_DB;
use crate::incident::Severity;
use crate::store::{FileKind, FileRow, Store, StoreError};

/// The service's state as the store holds it.
#[derive(Debug, Serialize)]
pub struct Status {
    pub state_dir: PathBuf,
    pub database_bytes: u64,
    /// The write-ahead log beside the database.
    pub wal_bytes: u64,
    pub last_batch: Option<Timestamp>,
    pub last_prune: Option<Timestamp>,
    /// The latest event time seen.
    pub clock: Option<Timestamp>,
    /// Meetings to judge at the next batch, and meetings waiting on a timer.
    pub pending_now: u64,
    pub pending_later: u64,
    /// When the next meeting on a timer is due (in event time).
    pub next_due: Option<Timestamp>,
    /// Current incidents by severity, most serious first.
    pub incidents: Vec<(Severity, u64)>,
    pub files: Vec<FileStatus>,
    /// Live feeds (`[listen]`): each source heard from, and Pexip's `seq` per node and
    /// generation.
    pub feeds: Vec<FeedStatus>,
    pub pexip_seq: Vec<SeqStatus>,
    /// Inbox bodies not read by the service yet.
    pub inbox_unread: u64,
}

/// One live feed.
#[derive(Debug, Serialize)]
pub struct FeedStatus {
    pub source: String,
    pub last_received: Option<Timestamp>,
    pub last_event: Option<Timestamp>,
    pub received: u64,
    pub duplicates: u64,
    /// Events found missing (Pexip `seq` jumps).
    pub gaps: u64,
    /// Set while the feed is silent (a `feed-silent` incident stands): since when.
    pub silent_since: Option<Timestamp>,
}

/// Pexip's `seq` on one node in one generation of its event sink.
#[derive(Debug, Serialize)]
pub struct SeqStatus {
    pub node: String,
    pub generation: i64,
    pub last_seq: i64,
    pub missing: u64,
    pub last_received: Option<Timestamp>,
}

/// One file the service follows or followed.
#[derive(Debug, Serialize)]
pub struct FileStatus {
    pub path: String,
    pub kind: &'static str,
    pub format: &'static str,
    /// `reading`, `done` (a document read to its end), `waiting` (a document not read yet) or
    /// `gone`.
    pub state: &'static str,
    pub offset: u64,
    pub size: u64,
    pub records: u64,
    pub errors: u64,
    pub last_read: Option<Timestamp>,
}

impl FileStatus {
    fn of(f: &FileRow) -> FileStatus {
        let state = match (f.gone_at, f.kind, f.done) {
            (Some(_), _, _) => "gone",
            (None, FileKind::Document, true) => "done",
            (None, FileKind::Document, false) if f.offset == 0 => "waiting",
            (None, _, _) => "reading",
        };
        FileStatus {
            path: f.path.clone(),
            kind: f.kind.as_str(),
            format: f.format.name(),
            state,
            offset: f.offset,
            size: f.size,
            records: f.records,
            errors: f.errors,
            last_read: f
                .last_read
                .and_then(|us| Timestamp::from_microsecond(us).ok()),
        }
    }
}

/// Problems reading the status.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error(
        "no service state in {0}: the service has not run with this configuration (or state_dir points elsewhere)"
    )]
    NoState(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Reads the status of the store in `state_dir`.
pub fn read(state_dir: &Path) -> Result<Status, StatusError> {
    let db = state_dir.join(STATE_DB);
    if !db.is_file() {
        return Err(StatusError::NoState(state_dir.to_path_buf()));
    }
    let store = Store::open_read_only(&db)?;
    let tx = store.read_transaction()?;
    let ts = |us: Option<i64>| us.and_then(|us| Timestamp::from_microsecond(us).ok());
    let clock = tx.clock()?;
    let (pending_now, pending_later) =
        tx.pending_counts(clock.map_or(i64::MIN + 1, |c| c.as_microsecond()))?;
    let mut incidents = tx.incident_counts()?;
    incidents.reverse();
    let status = Status {
        state_dir: state_dir.to_path_buf(),
        database_bytes: size(&db),
        wal_bytes: size(&state_dir.join(format!("{STATE_DB}-wal"))),
        last_batch: ts(tx.meta_value(super::LAST_BATCH)?),
        last_prune: ts(tx.meta_value(super::LAST_PRUNE)?),
        clock,
        pending_now,
        pending_later,
        next_due: ts(tx.next_due()?),
        incidents,
        files: tx.files()?.iter().map(FileStatus::of).collect(),
        feeds: tx
            .feeds()?
            .into_iter()
            .map(|f| FeedStatus {
                source: f.source,
                last_received: ts(f.last_received),
                last_event: ts(f.last_event),
                received: f.received,
                duplicates: f.duplicates,
                gaps: f.gaps,
                silent_since: ts(f.silent_since),
            })
            .collect(),
        pexip_seq: tx
            .feed_seqs()?
            .into_iter()
            .map(|q| SeqStatus {
                node: q.node,
                generation: q.generation,
                last_seq: q.last_seq,
                missing: q.missing,
                last_received: ts(Some(q.last_us)),
            })
            .collect(),
        inbox_unread: {
            let read = tx.meta_value(super::INBOX_READ)?.unwrap_or(0);
            tx.inbox_last()?.saturating_sub(read).max(0) as u64
        },
    };
    tx.commit()?;
    Ok(status)
}

/// The status as text for a terminal (times in Swedish time).
pub fn text(s: &Status) -> String {
    use std::fmt::Write;
    let when = |t: Option<Timestamp>| {
        t.map_or_else(|| "never".to_string(), crate::i18n::time::date_time_seconds)
    };
    let mb = |b: u64| b as f64 / 1_000_000.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "state: {} (database {:.1} MB, write-ahead log {:.1} MB)",
        crate::report::shown(&s.state_dir.to_string_lossy()),
        mb(s.database_bytes),
        mb(s.wal_bytes)
    );
    let _ = writeln!(out, "last batch: {}", when(s.last_batch));
    let _ = writeln!(out, "last pruning: {}", when(s.last_prune));
    let _ = writeln!(out, "latest event: {}", when(s.clock));
    let _ = writeln!(
        out,
        "pending meetings: {} to judge now, {} waiting on a timer{}",
        s.pending_now,
        s.pending_later,
        s.next_due
            .map(|t| format!(" (next due {})", when(Some(t))))
            .unwrap_or_default()
    );
    let total: u64 = s.incidents.iter().map(|(_, n)| n).sum();
    let by: Vec<String> = s
        .incidents
        .iter()
        .map(|(sev, n)| format!("{n} {}", sev.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "incidents: {total} current{}",
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        }
    );
    if !s.feeds.is_empty() {
        let _ = writeln!(out, "live feeds: {} unread in the inbox", s.inbox_unread);
        let _ = writeln!(
            out,
            "  {:<6} {:<19}  {:<19}  {:>9} {:>10} {:>6}  silent since",
            "source", "last push", "latest event", "received", "duplicates", "gaps"
        );
        for f in &s.feeds {
            let _ = writeln!(
                out,
                "  {:<6} {:<19}  {:<19}  {:>9} {:>10} {:>6}  {}",
                crate::report::shown(&f.source),
                when(f.last_received),
                when(f.last_event),
                f.received,
                f.duplicates,
                f.gaps,
                f.silent_since
                    .map_or_else(|| "-".to_string(), |t| when(Some(t)))
            );
        }
        for q in &s.pexip_seq {
            let _ = writeln!(
                out,
                "  pexip node {} generation {}: seq {} ({} missing), last {}",
                crate::report::shown(&q.node),
                q.generation,
                q.last_seq,
                q.missing,
                when(q.last_received)
            );
        }
    }
    let gone = s.files.iter().filter(|f| f.state == "gone").count();
    let _ = writeln!(out, "files: {} ({gone} gone)", s.files.len());
    if !s.files.is_empty() {
        let _ = writeln!(
            out,
            "  {:<8} {:<9} {:<17} {:>12} {:>12} {:>9} {:>7}  {:<19}  path",
            "state", "kind", "format", "offset", "size", "records", "errors", "last read"
        );
        for f in &s.files {
            let _ = writeln!(
                out,
                "  {:<8} {:<9} {:<17} {:>12} {:>12} {:>9} {:>7}  {:<19}  {}",
                f.state,
                f.kind,
                f.format,
                f.offset,
                f.size,
                f.records,
                f.errors,
                when(f.last_read),
                crate::report::shown(&f.path)
            );
        }
    }
    out
}
