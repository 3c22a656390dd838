//! The service (`motesvakt run`): a second driver of the [`pipeline`](crate::pipeline), fed by
//! the files of watched folders instead of a list of paths.
//!
//! ```text
//! watched folders ──look (every `rescan`, sooner on inotify)──▶ Tailer: which file is which
//!      ──whole records──▶ Pipeline::observe ──▶ one transaction: meeting state, file offsets,
//!      judgements of the meetings due (at the later of the events' clock and the wall clock)
//! ```
//!
//! Every batch is one SQLite transaction holding what its records produced and how far each
//! file has been read, so a kill at any moment loses and repeats nothing: the next start
//! resumes each file at its committed offset and settles what was left pending. Because the
//! pipeline is the one `scan` uses, the store holds the incidents `scan` reports over the same
//! files (but for meetings still open at the end of the input: the service also judges them
//! against the wall clock, so a meeting left open gets `meeting-not-ended` once its timeout
//! has passed in real time).
//!
//! Signals: SIGTERM and SIGINT finish the current batch, commit and stop; SIGHUP reloads the
//! configuration (a bad one is logged and the old one kept). A store error stops the service
//! with an error, so that systemd restarts it.

pub mod alerts;
pub mod reports;
pub mod signals;
pub mod status;
pub mod systemd;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tracing::{debug, error, info, warn};

use crate::config::Config;
use crate::detect::Detector;
use crate::incident::Outcome;
use crate::ingest::tailer::{FileEvent, TailSettings, Tailer};
use crate::ingest::watch::{self, Followed, Heard};
use crate::pipeline::{Diagnostic, FormatCounts, Pipeline, Reported};
use crate::scan::{BATCH, SETTLE_BATCH};
use crate::sources::{Adapter, Format};
use crate::store::{FileKind, FileRow, Store, StoreError};

/// Keys in the store's `meta`.
pub const LAST_BATCH: &str = "service_last_batch_us";
pub const LAST_PRUNE: &str = "service_last_prune_us";
/// Meetings whose latest event was before this (Unix µs) may have been pruned.
pub const PRUNE_HORIZON: &str = "service_prune_horizon_us";
/// The last inbox id the service has read (live feeds).
pub const INBOX_READ: &str = "service_inbox_read";

/// Inbox bodies read before a commit.
const INBOX_BATCH: usize = 512;

/// How soon after inbox bodies are emptied the write-ahead log is truncated, so that the raw
/// pushes do not stay in it either.
const WAL_SCRUB_AFTER: Duration = Duration::from_secs(10);

/// How often the live feeds are looked at for silence.
const FEED_CHECK_EVERY: Duration = Duration::from_secs(60);

/// How often state is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Bytes read from one appended file before the others get their turn.
const FAIR_SHARE: u64 = 64 * 1024 * 1024;

/// What wakes the ingest loop.
#[derive(Debug)]
pub enum Wake {
    Heard(Heard),
    /// The live-feed receiver stored something in the inbox.
    Inbox,
    Stop,
    Reload,
}

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Setup(String),
}

/// How the configuration is (re)loaded: from a file, or the built-in default.
pub type Loader = Box<dyn Fn() -> Result<Config, String> + Send>;

/// Runs the service until `wake` says stop. `config` is the configuration to start with;
/// `load` reads it again on reload. `stop` is set by whoever sends [`Wake::Stop`], so that a
/// long read stops at the next record.
pub fn serve(
    mut config: Config,
    load: Loader,
    wake_tx: Sender<Wake>,
    wake: Receiver<Wake>,
    stop: Arc<AtomicBool>,
) -> Result<(), ServiceError> {
    let (state_dir, store) = crate::setup::state_store(&config).map_err(|e| match e {
        // A database that cannot be opened now (a full disk, a lock) may open after a
        // restart: a store error, which systemd restarts; a state folder that cannot be
        // made is a setting to fix.
        crate::setup::StateError::Store(e) => ServiceError::Store(e),
        crate::setup::StateError::Folder(m) => ServiceError::Setup(m),
    })?;
    let mut detector =
        crate::setup::detector(&config, Some(&state_dir)).map_err(|e| ServiceError::Setup(e.0))?;
    info!(
        "motesvakt {} starting: state in {}, {} watched folder(s), configuration {}",
        env!("CARGO_PKG_VERSION"),
        state_dir.display(),
        config.watches.len(),
        config.origin
    );
    if config.watches.is_empty() {
        warn!(
            "{} has no [[watch]] block: nothing to read (only meetings already pending are judged)",
            config.origin
        );
    }
    if config.classifier.is_empty() {
        warn!(
            "internal_domains is empty in {}; participants without an explicit kind count as external",
            config.origin
        );
    }
    let mut systemd = systemd::Systemd::new();
    if let Some(w) = systemd.watchdog() {
        info!("systemd watchdog every {} s", w.as_secs_f64());
    }
    let rows = {
        let tx = store.transaction()?;
        let rows = tx.files()?;
        tx.commit()?;
        rows
    };
    let mut tailer = Tailer::new(rows, tail_settings(&config), redactor(&detector));
    let db = store.path().to_path_buf();
    let mut alerting = alerts::Alerting::start(&config, db.clone()).map_err(ServiceError::Setup)?;
    let inbox_pending = Arc::new(AtomicBool::new(false));
    if config.listen.is_some() {
        store.set_secure_delete()?;
    }
    let mut listener = start_listener(&config, &db, &wake_tx, &inbox_pending)?;
    let mut reporting = reports::ReportWriter::start(&config, db.clone());
    let mut first = true;
    loop {
        let notifications = start_notifications(&config, &wake_tx);
        let next = {
            let mut engine = Engine::new(&config, &detector, &store, &stop, &mut systemd)?;
            engine
                .pipeline
                .set_alerts(alerting.as_ref().map(|a| a.router.clone()));
            engine.inbox_pending = Some(inbox_pending.clone());
            engine.run(&mut tailer, &wake, &mut first)?
        };
        drop(notifications);
        match next {
            Next::Stop => {
                info!("stopped");
                return Ok(());
            }
            Next::Renotify => continue,
            Next::Reload => {
                systemd.reloading();
                match load() {
                    Ok(new) => {
                        if new.service_state_dir() != state_dir {
                            warn!(
                                "the new configuration names another state folder ({}); that takes effect at the next start",
                                new.service_state_dir().display()
                            );
                        }
                        if let Some(a) = &mut alerting {
                            a.stop();
                        }
                        let started = crate::setup::detector(&new, Some(&state_dir))
                            .map_err(|e| e.to_string())
                            .and_then(|d| Ok((d, alerts::Alerting::start(&new, db.clone())?)));
                        match started {
                            Ok((d, a)) => {
                                if new.listen.is_some() || listener.is_some() {
                                    // Started again, so that renewed secrets and certificates
                                    // are read; the old receiver stops first, as the new one
                                    // takes its address (a push in flight is not answered, and
                                    // sent again by the platform).
                                    drop(listener.take());
                                    match start_listener(&new, &db, &wake_tx, &inbox_pending) {
                                        Ok(l) => listener = l,
                                        Err(e) => error!(
                                            "live feeds stopped: {e}; fix [listen] and reload"
                                        ),
                                    }
                                }
                                alerting = a;
                                detector = d;
                                config = new;
                                tailer.set_settings(tail_settings(&config));
                                info!("configuration reloaded from {}", config.origin);
                            }
                            Err(e) => {
                                error!("configuration not reloaded, the old one is kept: {e}");
                                alerting = alerts::Alerting::start(&config, db.clone())
                                    .unwrap_or_else(|e| {
                                        error!("alerts stopped: {e}");
                                        None
                                    });
                            }
                        }
                    }
                    Err(e) => error!("configuration not reloaded, the old one is kept: {e}"),
                }
                drop(reporting.take());
                reporting = reports::ReportWriter::start(&config, db.clone());
                systemd.ready();
            }
        }
    }
}

/// Starts the live-feed receiver when `[listen]` is configured.
fn start_listener(
    config: &Config,
    db: &Path,
    wake: &Sender<Wake>,
    pending: &Arc<AtomicBool>,
) -> Result<Option<crate::live::Listener>, ServiceError> {
    let Some(settings) = &config.listen else {
        return Ok(None);
    };
    let tx = std::sync::Mutex::new(wake.clone());
    let pending = pending.clone();
    let wake = Box::new(move || {
        if !pending.swap(true, Ordering::SeqCst) {
            let _ = tx.lock().map(|t| t.send(Wake::Inbox));
        }
    });
    crate::live::Listener::start(settings, db, wake)
        .map(Some)
        .map_err(|e| ServiceError::Setup(e.to_string()))
}

fn tail_settings(config: &Config) -> TailSettings {
    TailSettings {
        quiescence: config.service.quiescence,
        max_line_bytes: config.service.max_line_bytes,
    }
}

/// File names as shown in the log, the store and `status`: identity numbers hidden.
fn redactor(detector: &Detector) -> Box<crate::ingest::tailer::Redact> {
    // The detector is rebuilt on reload; names only need its identity-number scanner, which
    // does not depend on the settings that can change, so a copy of the first is enough.
    let detector = detector.clone();
    Box::new(move |p: &Path| {
        let shown = p.to_string_lossy();
        let shown = crate::report::shown(&shown);
        detector.redact(&shown).unwrap_or(shown)
    })
}

/// Starts inotify for the watches that use it; logs how each watch is followed.
fn start_notifications(config: &Config, wake: &Sender<Wake>) -> watch::Notifications {
    let tx = wake.clone();
    let (n, decided) = watch::notifications(&config.watches, move |h| {
        let _ = tx.send(Wake::Heard(h));
    });
    for (w, (followed, fs, problem)) in config.watches.iter().zip(decided) {
        let fs = fs.unwrap_or_else(|| "unknown".into());
        let path = crate::report::shown(&w.path.to_string_lossy());
        match (followed, problem) {
            (Followed::Inotify, _) => info!(
                "watching {path} ({fs}) with inotify and a full look every {} s",
                config.service.rescan.as_secs_f64()
            ),
            (Followed::Poll, None) => info!(
                "watching {path} ({fs}) by a full look every {} s",
                config.service.rescan.as_secs_f64()
            ),
            (Followed::Poll, Some(p)) => warn!(
                "watching {path} ({fs}) by a full look every {} s only: inotify failed: {p} (tried again once the folder can be read, and at a reload)",
                config.service.rescan.as_secs_f64()
            ),
        }
    }
    if let Some(limit) = watch::inotify_limit() {
        tracing::debug!("fs.inotify.max_user_watches = {limit}");
    }
    n
}

enum Next {
    Stop,
    Reload,
    /// A watched folder that could not be read can be now: set up inotify again.
    Renotify,
}

/// Totals since the service started, for STATUS= and the log.
#[derive(Debug, Default)]
struct Totals {
    records: u64,
    events: u64,
    batches: u64,
    new: u64,
    changed: u64,
    rejected: u64,
    too_late: u64,
}

/// One configuration's worth of service: the pipeline and what it needs.
struct Engine<'a> {
    config: &'a Config,
    systemd: &'a mut systemd::Systemd,
    store: &'a Store,
    pipeline: Pipeline<'a>,
    adapters: BTreeMap<Format, Box<dyn Adapter>>,
    stop: &'a AtomicBool,
    /// Whether every batch may say the store's observations are made with the current
    /// settings (not when the store's were made with others: then later runs still need
    /// tombstones).
    settings_current: bool,
    totals: Totals,
    /// The earliest due time of a meeting waiting on a timer (Unix µs).
    next_due: Option<i64>,
    last_prune: Option<i64>,
    /// Meetings whose latest event is before this may have been pruned: older records of
    /// meetings the store keeps nothing of are refused.
    prune_horizon: Option<Timestamp>,
    /// Paths the last look could not read, with why: each is logged when it starts failing
    /// (or fails differently) and when it can be read again, not at every look.
    problems: BTreeMap<PathBuf, String>,
    /// The last inbox id read (committed with the batch it went into).
    inbox_read: i64,
    /// The last inbox id whose body has been emptied (committed).
    inbox_cleared: i64,
    /// Set by the receiver when it stored something; cleared before the inbox is read.
    inbox_pending: Option<Arc<AtomicBool>>,
    /// When the feeds were last looked at for silence.
    feeds_checked: Option<Instant>,
    /// When this engine started (the start of silence for a feed never heard from).
    started: Timestamp,
    /// Since when emptied inbox bodies may still be in the write-ahead log.
    wal_dirty: Option<Instant>,
}

impl<'a> Engine<'a> {
    fn new(
        config: &'a Config,
        detector: &'a Detector,
        store: &'a Store,
        stop: &'a AtomicBool,
        systemd: &'a mut systemd::Systemd,
    ) -> Result<Engine<'a>, StoreError> {
        let pipeline = Pipeline::new(config, detector, store)?;
        let settings_current = !pipeline.writes_tombstones();
        let (next_due, last_prune, prune_horizon, inbox_read) = {
            let tx = store.transaction()?;
            let v = (
                tx.next_due()?,
                tx.meta_value(LAST_PRUNE)?,
                tx.meta_value(PRUNE_HORIZON)?,
                tx.meta_value(INBOX_READ)?.unwrap_or(0),
            );
            tx.commit()?;
            v
        };
        let adapters = Format::ALL
            .iter()
            .map(|f| (*f, f.adapter(&config.sources)))
            .collect();
        Ok(Engine {
            config,
            systemd,
            store,
            pipeline,
            adapters,
            stop,
            settings_current,
            totals: Totals::default(),
            next_due,
            last_prune,
            prune_horizon: prune_horizon.and_then(|us| Timestamp::from_microsecond(us).ok()),
            problems: BTreeMap::new(),
            inbox_read,
            // Bodies before the cursor of an earlier run were emptied when it was committed;
            // emptied again (a no-op) in case that run was older than this code.
            inbox_cleared: 0,
            inbox_pending: None,
            feeds_checked: None,
            started: Timestamp::now(),
            wal_dirty: None,
        })
    }

    /// Logs what a look could not read: a warning when a path starts failing or fails for
    /// another reason, a line when it can be read again; nothing when nothing changed.
    /// Returns whether a watched folder itself can be read again (its inotify watch, which
    /// failed, is then set up again).
    fn report_problems(&mut self, now: BTreeMap<PathBuf, String>) -> bool {
        let mut root_back = false;
        for (path, why) in &now {
            if self.problems.get(path) != Some(why) {
                warn!(
                    "{}: cannot read: {why} (looked at again every {} s; logged again only when that changes)",
                    crate::report::shown(&path.to_string_lossy()),
                    self.config.service.rescan.as_secs_f64()
                );
            }
        }
        for path in self.problems.keys() {
            if !now.contains_key(path) {
                info!(
                    "{}: readable again",
                    crate::report::shown(&path.to_string_lossy())
                );
                root_back |= self.config.watches.iter().any(|w| &w.path == path);
            }
        }
        self.problems = now;
        root_back
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The ingest loop.
    fn run(
        &mut self,
        tailer: &mut Tailer,
        wake: &Receiver<Wake>,
        first: &mut bool,
    ) -> Result<Next, ServiceError> {
        let rescan = self.config.service.rescan;
        let mut next_look = Instant::now();
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut full = true;
        loop {
            if self.stopping() {
                self.systemd.stopping();
                self.commit(tailer)?;
                return Ok(Next::Stop);
            }
            let now = Instant::now();
            if full || now >= next_look {
                let mut problems = BTreeMap::new();
                let found = watch::walk(&self.config.watches, &mut |p, e| {
                    problems.insert(p.to_path_buf(), e.to_string());
                });
                if self.report_problems(problems) {
                    self.commit(tailer)?;
                    return Ok(Next::Renotify);
                }
                tailer.look(found, &mut log_event);
                next_look = Instant::now() + rescan;
                full = false;
                paths.clear();
                if *first {
                    // Every watched folder has been looked at: ready.
                    self.prune_if_due(tailer, true)?;
                    self.systemd.ready();
                    info!(
                        "ready: {} file(s) known, {} open",
                        tailer.files.len(),
                        tailer.files.iter().filter(|t| t.is_open()).count()
                    );
                    *first = false;
                }
            } else if !paths.is_empty() {
                paths.sort();
                paths.dedup();
                let found = watch::stat_paths(&self.config.watches, &paths);
                tailer.look_at(found, &mut log_event);
                paths.clear();
            }
            let mut more = self.read_ready(tailer)?;
            more |= self.read_inbox()?;
            self.check_feeds()?;
            self.scrub_wal()?;
            let due = self
                .next_due
                .is_some_and(|d| d <= Timestamp::now().as_microsecond());
            if self.pipeline.batch_records() > 0 || tailer.files.iter().any(|t| t.dirty) || due {
                self.commit(tailer)?;
            }
            self.prune_if_due(tailer, false)?;
            self.systemd.ping();
            let status = self.status_line(tailer);
            self.systemd.status(&status);

            // Sleep until something may be ready.
            let mut wait = next_look.saturating_duration_since(Instant::now());
            if let Some(t) = tailer.next_ready() {
                wait = wait.min(t.saturating_duration_since(Instant::now()));
            }
            if let Some(d) = self.next_due {
                let until = d.saturating_sub(Timestamp::now().as_microsecond()).max(0);
                wait = wait.min(Duration::from_micros(until as u64));
            }
            if let Some(p) = self.systemd.max_wait() {
                wait = wait.min(p / 2);
            }
            if let Some(t) = self.wal_dirty {
                wait = wait.min((t + WAL_SCRUB_AFTER).saturating_duration_since(Instant::now()));
            }
            if let Some(t) = self.feeds_checked.filter(|_| self.config.listen.is_some()) {
                // The feeds are looked at for silence even when nothing else happens.
                let next = t + FEED_CHECK_EVERY;
                wait = wait.min(next.saturating_duration_since(Instant::now()));
            }
            if more {
                wait = Duration::ZERO;
            }
            let first_wake = match wake.recv_timeout(wait) {
                Ok(w) => Some(w),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Wake::Stop),
            };
            // Take every wake-up queued, so that a burst of notifications is one look.
            for w in first_wake
                .into_iter()
                .chain(std::iter::from_fn(|| wake.try_recv().ok()))
            {
                match w {
                    Wake::Heard(Heard::Paths(p)) => paths.extend(p),
                    Wake::Heard(Heard::Rescan) => full = true,
                    Wake::Inbox => {}
                    Wake::Stop => self.stop.store(true, Ordering::Relaxed),
                    Wake::Reload => {
                        self.commit(tailer)?;
                        return Ok(Next::Reload);
                    }
                }
            }
        }
    }

    /// Reads the live-feed inbox after the last body read, like a file: each body through its
    /// platform's adapter into the pipeline; the cursor is committed with the batch. Returns
    /// whether more is waiting.
    fn read_inbox(&mut self) -> Result<bool, ServiceError> {
        if self.config.listen.is_none() && self.inbox_pending.is_none() {
            return Ok(false);
        }
        if let Some(p) = &self.inbox_pending {
            p.store(false, Ordering::SeqCst);
        }
        let rows = {
            let tx = self.store.read_transaction()?;
            let rows = tx.inbox_after(self.inbox_read, INBOX_BATCH)?;
            tx.commit()?;
            rows
        };
        if rows.is_empty() {
            return Ok(false);
        }
        let more = rows.len() == INBOX_BATCH;
        let mut counts = FormatCounts::default();
        let mut records = 0u64;
        for row in &rows {
            let Some(format) = Format::from_name(&row.source) else {
                warn!("inbox body {} of an unknown source: skipped", row.id);
                self.inbox_read = row.id;
                continue;
            };
            let shown = PathBuf::from(format!("inbox/{}/{}", row.source, row.id));
            let adapter = &*self.adapters[&format];
            let pipeline = &mut self.pipeline;
            let mut input = std::io::Cursor::new(&row.body[..]);
            let read = adapter.read(&mut input, &mut |record| {
                records += 1;
                pipeline.observe(&shown, record, &mut counts, &mut log_diagnostic);
                std::ops::ControlFlow::Continue(())
            });
            if let Err(e) = read {
                warn!(
                    "inbox body {} ({}): cannot be read: {e}",
                    row.id, row.source
                );
            }
            self.inbox_read = row.id;
        }
        self.count(counts, records);
        self.commit_with(None, None)?;
        Ok(more)
    }

    /// Truncates the write-ahead log [`WAL_SCRUB_AFTER`] after inbox bodies were emptied: the
    /// raw pushes' old page versions go with it. While a reader keeps it from completing, it
    /// is tried again [`WAL_SCRUB_AFTER`] later.
    fn scrub_wal(&mut self) -> Result<(), ServiceError> {
        if self
            .wal_dirty
            .is_some_and(|t| t.elapsed() >= WAL_SCRUB_AFTER)
        {
            self.wal_dirty = if self.store.checkpoint_truncate()? {
                None
            } else {
                debug!("write-ahead log not truncated yet: a reader holds an old snapshot");
                Some(Instant::now())
            };
        }
        Ok(())
    }

    /// Raises `feed-silent` for each feed with `expect_every` not heard from for longer than
    /// that, during working hours; notes a feed heard again. Looked at once a minute.
    fn check_feeds(&mut self) -> Result<(), ServiceError> {
        let Some(listen) = &self.config.listen else {
            return Ok(());
        };
        // Once a minute, or more often for a feed expected more often than that.
        let every = listen
            .feeds()
            .filter_map(|(_, f)| f.expect_every)
            .map(|d| d / 2)
            .fold(FEED_CHECK_EVERY, Duration::min);
        if self.feeds_checked.is_some_and(|t| t.elapsed() < every) {
            return Ok(());
        }
        self.feeds_checked = Some(Instant::now());
        let now = Timestamp::now();
        let feeds = {
            let tx = self.store.read_transaction()?;
            let f = tx.feeds()?;
            tx.commit()?;
            f
        };
        let tx = self.store.transaction()?;
        let mut changed = false;
        for (source, feed) in listen.feeds() {
            let row = feeds.iter().find(|f| f.source == source);
            // A feed never heard from is silent since the service started.
            let last = row
                .and_then(|r| r.last_received)
                .unwrap_or(self.started.as_microsecond());
            let silent_since = row.and_then(|r| r.silent_since);
            if let Some(since) = silent_since
                && last > since
            {
                info!("live feed {source}: heard from again");
                tx.set_feed_silent(source, None)?;
                changed = true;
                continue;
            }
            let Some(every) = feed.expect_every else {
                continue;
            };
            let quiet = now.as_microsecond().saturating_sub(last);
            if silent_since.is_some() || quiet <= every.as_micros() as i64 || !listen.working(now) {
                continue;
            }
            let inc = crate::live::silent_incident(
                source,
                Timestamp::from_microsecond(last).unwrap_or(now),
                every,
                now,
                self.config.language,
            );
            let run = tx.start_run()?;
            if tx.record_incident(&inc, now, run)?.is_news() {
                let alerts = crate::alert::to_it_security(
                    &self.config.alerts,
                    &inc,
                    crate::alert::Role::ItSecurity,
                    None,
                );
                tx.enqueue_alerts(&alerts, now.as_microsecond())?;
                warn!(
                    "incident new: {} {} ({}): live feed {source} silent for more than {} s during working hours",
                    inc.id,
                    inc.rule,
                    inc.severity.as_str(),
                    every.as_secs()
                );
                self.totals.new += 1;
            }
            tx.set_feed_silent(source, Some(last))?;
            changed = true;
        }
        if changed {
            tx.commit()?;
        }
        Ok(())
    }

    /// Reads what is ready in every file, committing every [`BATCH`] records. Returns whether
    /// more is ready (a file had more than its share).
    fn read_ready(&mut self, tailer: &mut Tailer) -> Result<bool, ServiceError> {
        let mut more = false;
        for i in tailer.readable() {
            if self.stopping() {
                break;
            }
            match tailer.files[i].row.kind {
                FileKind::Lines => more |= self.read_lines(tailer, i)?,
                FileKind::Document => self.read_document(tailer, i)?,
            }
        }
        Ok(more)
    }

    fn read_lines(&mut self, tailer: &mut Tailer, i: usize) -> Result<bool, ServiceError> {
        let mut taken = 0u64;
        loop {
            let format = tailer.files[i].row.format;
            let shown = PathBuf::from(&tailer.files[i].row.path);
            let mut counts = FormatCounts::default();
            let adapter = &*self.adapters[&format];
            let pipeline = &mut self.pipeline;
            let r = tailer.read_lines(
                i,
                adapter,
                &mut |record| {
                    pipeline.observe(&shown, record, &mut counts, &mut log_diagnostic);
                    std::ops::ControlFlow::Continue(())
                },
                &mut log_event,
            );
            if let Some(t) = tailer.files.get_mut(i) {
                t.row.errors += counts.rejected;
            }
            self.count(counts, r.records);
            taken += r.bytes;
            if self.pipeline.batch_records() >= BATCH as u64 {
                self.commit(tailer)?;
            }
            if !r.more || self.stopping() {
                return Ok(false);
            }
            if taken >= FAIR_SHARE {
                return Ok(true);
            }
        }
    }

    fn count(&mut self, counts: FormatCounts, records: u64) {
        self.totals.records += records;
        self.totals.rejected += counts.rejected;
    }

    /// Reads a whole document, committing every [`BATCH`] records with how far it has been
    /// read; a document read in part before (a stop, a crash) goes on after its last committed
    /// record.
    fn read_document(&mut self, tailer: &mut Tailer, i: usize) -> Result<(), ServiceError> {
        let Some(mut reader) = tailer.open_document(i, &mut log_event) else {
            return Ok(());
        };
        let mut row = tailer.files[i].row.clone();
        let resume = row.offset;
        if resume > 0 {
            info!("{}: resumed after offset {resume}", row.path);
        }
        let shown = PathBuf::from(&row.path);
        let adapter = row.format.adapter(&self.config.sources);
        let mut counts = FormatCounts::default();
        let mut failure: Option<StoreError> = None;
        let mut stopped = false;
        let mut records = 0u64;
        let read = adapter.read(&mut reader, &mut |record| {
            if record.pos.end <= resume {
                return std::ops::ControlFlow::Continue(());
            }
            row.offset = record.pos.end;
            row.line = record.pos.line;
            row.records += 1;
            records += 1;
            let before = counts.rejected;
            self.pipeline
                .observe(&shown, record, &mut counts, &mut log_diagnostic);
            row.errors += counts.rejected - before;
            if self.pipeline.batch_records() >= BATCH as u64
                && let Err(e) = self.commit_with(None, Some(&mut row))
            {
                failure = Some(e);
                return std::ops::ControlFlow::Break(());
            }
            if self.stopping() {
                stopped = true;
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        self.totals.records += records;
        self.totals.rejected += counts.rejected;
        match read {
            Ok(()) if !stopped => {
                row.done = true;
                row.last_read = Some(Timestamp::now().as_microsecond());
            }
            Ok(()) => {}
            Err(e) => {
                // A document that cannot be read to its end (a broken gzip stream): what could
                // be read is kept, and it is not tried again unless it changes.
                warn!("{}: cannot read past offset {}: {e}", row.path, row.offset);
                row.errors += 1;
                row.done = true;
            }
        }
        tailer.end_document(i, row, &mut log_event);
        Ok(())
    }

    /// Commits the current batch with the tailer's changed rows.
    fn commit(&mut self, tailer: &mut Tailer) -> Result<(), StoreError> {
        let dirty: Vec<usize> = (0..tailer.files.len())
            .filter(|&i| tailer.files[i].dirty)
            .collect();
        let mut rows: Vec<FileRow> = dirty.iter().map(|&i| tailer.files[i].row.clone()).collect();
        self.commit_with(Some(&mut rows), None)?;
        for (i, row) in dirty.into_iter().zip(rows) {
            tailer.saved(i, row.id);
        }
        Ok(())
    }

    /// One transaction: the batch, file rows, the judgements of every meeting due.
    fn commit_with(
        &mut self,
        rows: Option<&mut Vec<FileRow>>,
        extra: Option<&mut FileRow>,
    ) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let tx = self.store.transaction()?;
        self.pipeline.set_horizon(self.prune_horizon);
        self.pipeline.store_batch(&tx)?;
        for row in rows.into_iter().flatten().chain(extra) {
            row.id = tx.save_file(row)?;
        }
        let mut reported: Vec<Reported> = Vec::new();
        loop {
            // The later of the events' clock and the wall clock: a meeting left open is judged
            // so once its timeout has passed, even if nothing else arrives.
            let clock = tx.clock()?.map_or(now, |c| c.max(now));
            let settled = self.pipeline.settle(&tx, clock, now, SETTLE_BATCH)?;
            reported.extend(settled.reported);
            if !settled.more {
                break;
            }
        }
        tx.set_meta_value(LAST_BATCH, now.as_microsecond())?;
        if self.inbox_read > self.inbox_cleared {
            tx.set_meta_value(INBOX_READ, self.inbox_read)?;
            tx.inbox_clear(self.inbox_cleared, self.inbox_read)?;
        }
        if self.settings_current {
            self.pipeline.finish(&tx)?;
        }
        self.next_due = tx.next_due()?;
        self.pipeline.next_run(&tx)?;
        tx.commit()?;
        if self.inbox_cleared < self.inbox_read {
            self.wal_dirty.get_or_insert_with(Instant::now);
        }
        self.inbox_cleared = self.inbox_read;
        // A long read commits often: the watchdog hears from it.
        self.systemd.ping();
        self.totals.batches += 1;
        self.totals.events = self.pipeline.stats.events;
        if self.pipeline.stats.too_late > self.totals.too_late {
            warn!(
                "{} event(s) refused as too late: older than keep_meetings ({} days) for meetings whose state was pruned or never seen",
                self.pipeline.stats.too_late - self.totals.too_late,
                self.config.service.keep_meetings.as_secs() / 86_400
            );
            self.totals.too_late = self.pipeline.stats.too_late;
        }
        for r in net(reported) {
            log_incident(&r);
            match r.outcome {
                Outcome::New => self.totals.new += 1,
                Outcome::Known => {}
                _ => self.totals.changed += 1,
            }
        }
        Ok(())
    }

    /// Meeting state whose latest event is before this is pruned: `keep_meetings` before the
    /// events' clock, or before the wall clock if that is earlier (a record from the future
    /// must not make everything old).
    fn horizon(&self, clock: Option<Timestamp>, now: Timestamp) -> Option<Timestamp> {
        let keep = jiff::SignedDuration::try_from(self.config.service.keep_meetings).ok()?;
        let base = clock.map_or(now, |c| c.min(now));
        base.checked_sub(keep).ok()
    }

    /// Prunes meeting state, old incidents and files long gone, once a day (and at start when
    /// a day has passed since the last time).
    fn prune_if_due(&mut self, tailer: &mut Tailer, at_start: bool) -> Result<(), StoreError> {
        let now = Timestamp::now();
        let due = self
            .last_prune
            .is_none_or(|t| now.as_microsecond() - t >= PRUNE_EVERY.as_micros() as i64);
        if !due || (!at_start && self.pipeline.batch_records() > 0) {
            return Ok(());
        }
        let started = Instant::now();
        let keep_incidents =
            jiff::SignedDuration::try_from(self.config.service.keep_incidents).unwrap_or_default();
        let keep_meetings =
            jiff::SignedDuration::try_from(self.config.service.keep_meetings).unwrap_or_default();
        let mut meetings = 0;
        loop {
            let tx = self.store.transaction()?;
            let horizon = match tx.clock()? {
                Some(clock) => self.horizon(Some(clock), now),
                None => None,
            };
            let n = match horizon {
                Some(h) => {
                    // Recorded first: from now on, older records of meetings without state
                    // may be of a pruned one.
                    if self.prune_horizon.is_none_or(|p| p < h) {
                        tx.set_meta_value(PRUNE_HORIZON, h.as_microsecond())?;
                        self.prune_horizon = Some(h);
                    }
                    tx.prune_meetings(h.as_microsecond(), 1000)?
                }
                None => 0,
            };
            tx.commit()?;
            meetings += n;
            if n < 1000 || self.stopping() {
                break;
            }
        }
        let tx = self.store.transaction()?;
        let incidents = match now.checked_sub(keep_incidents) {
            Ok(t) => {
                let n = tx.prune_incidents(t)?;
                tx.prune_outbox(t.as_microsecond())?;
                n
            }
            Err(_) => 0,
        };
        let gone_before = now
            .checked_sub(keep_meetings)
            .map_or(i64::MIN, |t| t.as_microsecond());
        let files = tx.prune_files(gone_before)?;
        tx.prune_inbox(gone_before, self.inbox_read)?;
        tx.set_meta_value(LAST_PRUNE, now.as_microsecond())?;
        tx.commit()?;
        tailer.forget_gone_before(gone_before);
        self.last_prune = Some(now.as_microsecond());
        info!(
            "pruned: state of {meetings} meeting(s) with no event in {} days, {incidents} incident(s) unchanged for {} days, {files} file(s) gone for {} days ({:.1} s)",
            self.config.service.keep_meetings.as_secs() / 86_400,
            self.config.service.keep_incidents.as_secs() / 86_400,
            self.config.service.keep_meetings.as_secs() / 86_400,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn status_line(&self, tailer: &Tailer) -> String {
        let open = tailer.files.iter().filter(|t| t.is_open()).count();
        format!(
            "{} files ({open} open); {} records, {} events; incidents: {} new, {} changed; {} batches",
            tailer
                .files
                .iter()
                .filter(|t| t.row.gone_at.is_none())
                .count(),
            self.totals.records,
            self.totals.events,
            self.totals.new,
            self.totals.changed,
            self.totals.batches
        )
    }
}

/// What a batch changed, net: an incident raised then withdrawn within one batch is no news.
fn net(reported: Vec<Reported>) -> Vec<Reported> {
    crate::pipeline::net_changes(reported)
}

fn log_event(e: FileEvent) {
    match &e {
        FileEvent::Unreadable { .. } | FileEvent::LineTooLong { .. } => warn!("{e}"),
        FileEvent::UnknownFormat { .. } => warn!("{e}"),
        _ => info!("{e}"),
    }
}

fn log_diagnostic(d: Diagnostic) {
    warn!("{}", crate::report::shown(&d.to_string()));
}

/// An incident in the log: its id, rule, severity and change; never its summary (names) or
/// evidence.
fn log_incident(r: &Reported) {
    let i = &r.incident;
    info!(
        "incident {}: {} {} ({})",
        r.outcome.as_str(),
        i.id,
        i.rule,
        i.severity.as_str()
    );
}
