//! Checkpoints on a thread of their own, for a batch scan into a database file.
//!
//! In WAL mode each commit appends pages to the `-wal` file, and a checkpoint copies them into
//! the database and syncs it. SQLite runs that checkpoint inside the commit that crosses
//! `wal_autocheckpoint`, on the thread that commits: in a batch scan, the thread that stores
//! and judges, which everything else waits for. Here a second connection runs a passive
//! checkpoint (it never takes the write lock and never waits for one) after each commit, on
//! a thread of its own, so the copying and the syncs overlap the scan. The committing
//! connection keeps a larger `wal_autocheckpoint` as a safety net, should this thread fall
//! behind or fail. Nothing about durability changes: a commit is in the log either way.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;

/// The checkpointing thread and how to wake it. Dropping it stops the thread (after the
/// checkpoint it may be running) and closes its connection.
pub(super) struct Checkpointer {
    wake: Option<mpsc::SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Opens a second connection to the database at `path` and starts the thread.
    pub(super) fn start(path: &Path) -> Result<Checkpointer, rusqlite::Error> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Its page cache is only what a checkpoint reads through it: the WAL index and a
        // few pages.
        conn.execute_batch("PRAGMA cache_size = -256; PRAGMA synchronous = NORMAL;")?;
        // One wake-up waiting is enough: a checkpoint copies everything committed before it.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || run(conn, woken))
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot start the checkpoint thread: {e}")),
                )
            })?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction was committed. Never waits.
    pub(super) fn committed(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // The thread stops once the channel is closed and it has nothing left to do.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checkpoints once per wake-up until the channel closes. A checkpoint that fails is said once
/// in the log and the thread stops: the committing connection's own checkpoints take over.
fn run(conn: Connection, woken: mpsc::Receiver<()>) {
    while woken.recv().is_ok() {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(
                error = %super::cause_text(&e),
                "background checkpoint failed; the scan goes on, checkpointing as it commits"
            );
            return;
        }
    }
}
