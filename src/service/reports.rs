//! The service's report writer: a thread of its own with its own connection to the database
//! (so a long report never holds up ingest or the alert sender) that, at the start and then
//! every [`TICK`] until it is stopped, writes the `[[reports]]` that are due
//! ([`crate::report::schedule::run_due`]). At a reload it is started again with the new
//! configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::error;

use crate::config::Config;
use crate::store::Store;

/// How often the schedules are looked at.
const TICK: Duration = Duration::from_secs(20);

/// The running report writer; stopped when dropped.
pub struct ReportWriter {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ReportWriter {
    /// The writer for `config`'s `[[reports]]`, when it has any; `db` is the database it opens.
    pub fn start(config: &Config, db: PathBuf) -> Option<ReportWriter> {
        if config.reports.is_empty() {
            return None;
        }
        let config = config.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new()
            .name("report-writer".into())
            .spawn(move || {
                let mut last_error = String::new();
                let mut store: Option<Store> = None;
                while !stopping.load(Ordering::SeqCst) {
                    if store.is_none() {
                        match Store::open(&db) {
                            Ok(s) => store = Some(s),
                            Err(e) => note(&mut last_error, e.to_string()),
                        }
                    }
                    if let Some(s) = &store {
                        let now = jiff::Timestamp::now();
                        match crate::report::schedule::run_due(s, &config, now, None, false) {
                            Ok(o) if o.failed.is_empty() => last_error.clear(),
                            Ok(o) => {
                                let e: Vec<String> =
                                    o.failed.iter().map(ToString::to_string).collect();
                                note(&mut last_error, e.join("; "));
                            }
                            Err(e) => note(&mut last_error, e.to_string()),
                        }
                    }
                    sleep(&stopping);
                }
            });
        match handle {
            Ok(handle) => Some(ReportWriter {
                stop,
                handle: Some(handle),
            }),
            Err(e) => {
                error!("scheduled reports are not written: cannot start the report writer: {e}");
                None
            }
        }
    }
}

/// Logs an error once, not again every tick while it stays the same.
fn note(last: &mut String, e: String) {
    if *last != e {
        error!("report writer: {e}; tried again");
        *last = e;
    }
}

/// Sleeps a tick, or until stopped.
fn sleep(stop: &AtomicBool) {
    let mut slept = Duration::ZERO;
    while slept < TICK && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        slept += Duration::from_millis(100);
    }
}

impl Drop for ReportWriter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
