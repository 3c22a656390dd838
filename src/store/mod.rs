//! The SQLite store: meeting state (observations, aliases, pending meetings, the clock) and
//! incidents.
//!
//! One file, opened in WAL mode. The schema is versioned with `PRAGMA user_version`: each entry
//! of [`schema::MIGRATIONS`] moves the schema one version up, inside a transaction, so adding a
//! table later is adding one string to that list. Without `--db` the same store runs in memory
//! or a temporary file, so there is one code path (the same queries; only the indexes that
//! serve a database outliving the run are left out, [`Store::temporary`]).
//!
//! Every write goes through a [`Tx`], a transaction that commits only when told to
//! ([`Tx::commit`]) and rolls back when dropped: no error path can leave a transaction open in
//! a process that holds the database for weeks.
//!
//! Only redacted data is ever written here: observations (no chat text, findings as redacted
//! form and keyed hash) and incidents built from them. Source keys are hashes.

mod checkpoint;
mod codec;
mod files;
mod inbox;
mod incidents;
mod meetings;
mod outbox;
pub mod schema;
mod workflow;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

pub use files::{FileKind, FileRow};
pub use inbox::{FeedRow, InboxRow, SeqRow};
pub use incidents::{EncodedIncident, IncidentFilter, StoredIncident};
pub use meetings::{Loaded, chunk_entries, decode_chunks, encode_chunk};
pub use outbox::{DueEvent, DueMail, OutboxFilter, OutboxRow};
pub use schema::MIGRATIONS;
pub use workflow::{IdMatch, StatusChange, StatusRecord, Transition, allowed};

/// Problems with the database. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // The SQLite error is shown in the message and not chained, so that it is said once.
    #[error("cannot open database {path}: {}", cause_text(cause))]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this motesvakt knows ({known}); use a newer motesvakt"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database {path}: {}", cause_text(cause))]
    Sql {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("database {path}: a stored record cannot be read back ({reason})")]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "database {path} has schema version {found}, older than this motesvakt's ({known}); start the service (or a scan with --db) once to bring it up to date"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        known: usize,
    },
}

/// The database.
pub struct Store {
    /// For a batch scan into a file ([`Store::set_bulk_writes`]). Declared before `conn`, so
    /// that its thread stops and its connection closes first: the last connection to close
    /// copies what is left of the log and removes it.
    checkpointer: Option<checkpoint::Checkpointer>,
    conn: Connection,
    path: PathBuf,
    /// In memory or in a temporary file: nothing of it outlives the process.
    ephemeral: bool,
}

/// How long a connection waits for another's lock before it gives up with "database is
/// locked".
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// The page size of a database this version creates (one made earlier keeps its own). A
/// meeting's chunk (its events of a batch, a few kilobytes) fits one page instead of
/// spilling onto overflow pages, the trees are shallower, and a page costs one write instead
/// of four. Measured on 200 MB of native NDJSON: without `--db` (the temporary store) 4 KiB
/// pages 1.22 s, 16 KiB 1.11 s, 32 KiB 1.11 s; with `--db` 1.54, 1.40, 1.42 s; on 2 GB with
/// `--db` 22.3, 21.4, 21.9 s, the database 1.25, 1.09, 1.07 GB.
const PAGE_SIZE: u32 = 16 * 1024;

/// The log a batch scan lets grow before its own connection copies it into the database
/// ([`Store::set_bulk_writes`]).
const BULK_LOG_BYTES: i64 = 64 * 1024 * 1024;

/// Sets [`PAGE_SIZE`] for a database not created yet; a no-op on one that has tables (and it
/// must come before WAL mode is entered).
fn set_page_size(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// A new file is created readable and writable by its owner only (SQLite gives its `-wal`
    /// and `-shm` files the same mode).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        create_private(path).map_err(|e| {
            open_err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot create the file: {e}")),
            ))
        })?;
        let conn = Connection::open(path).map_err(open_err)?;
        set_page_size(&conn).map_err(open_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_WAIT).map_err(open_err)?;
        let mut store = Store {
            checkpointer: None,
            conn,
            path: path.to_path_buf(),
            ephemeral: false,
        };
        store.tune()?;
        store.migrate()?;
        Ok(store)
    }

    /// Makes every commit of this connection survive a power loss too, not only a crash of
    /// the process (`synchronous = FULL`): for the live-feed inbox, whose pushes are answered
    /// as received once committed.
    fn set_durable(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA synchronous = FULL;")
            .map_err(sql_error(&self.path))
    }

    /// Opens the store for the live-feed inbox's writer: durable commits, since a push is
    /// answered as received once committed, and [`Store::set_secure_delete`], since its
    /// inserts move and free pages that hold raw pushes.
    pub fn open_inbox_writer(path: &Path) -> Result<Store, StoreError> {
        let store = Store::open(path)?;
        store.set_durable()?;
        store.set_secure_delete()?;
        Ok(store)
    }

    /// Overwrites deleted and emptied content with zeros (`secure_delete`), so that the raw
    /// pushes the live-feed inbox empties once read leave nothing in the file's free pages.
    /// A per-connection setting: every connection that writes the inbox needs it, the one that
    /// inserts as much as the one that empties (an insert's rebalancing frees pages that hold
    /// copies of bodies not yet read).
    pub fn set_secure_delete(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA secure_delete = ON;")
            .map_err(sql_error(&self.path))
    }

    /// Copies the write-ahead log into the database and truncates it to nothing
    /// (`wal_checkpoint(TRUNCATE)`), so that no old page version (a raw push the inbox has
    /// since emptied) stays in the `-wal` file. Returns whether it completed: while a reader
    /// holds an old snapshot (a long report, say) it cannot, and is tried again later. It
    /// waits at most a quarter of a second for readers and writers, not the usual five, so
    /// that the caller is not held up.
    pub fn checkpoint_truncate(&self) -> Result<bool, StoreError> {
        let set_wait = |wait| self.conn.busy_timeout(wait).map_err(sql_error(&self.path));
        set_wait(Duration::from_millis(250))?;
        let done = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|busy| busy == 0);
        set_wait(BUSY_WAIT)?;
        match done {
            Ok(done) => Ok(done),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                Ok(false)
            }
            Err(e) => Err(sql_error(&self.path)(e)),
        }
    }

    /// Opens an existing database for reading only (`motesvakt status`): no schema change, no
    /// write lock, so it never waits for nor holds up the service's batches. Its schema must
    /// be this motesvakt's.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_WAIT).map_err(open_err)?;
        let mut store = Store {
            checkpointer: None,
            conn,
            path: path.to_path_buf(),
            ephemeral: false,
        };
        store.tune()?;
        let found = store.known_schema_version()?;
        let known = MIGRATIONS.len();
        if found < known as i64 {
            return Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        Ok(store)
    }

    /// A transaction that only reads (deferred: it takes no write lock). Its changes, if any
    /// were attempted, fail on a read-only store.
    pub fn read_transaction(&self) -> Result<Tx<'_>, StoreError> {
        self.begin(rusqlite::TransactionBehavior::Deferred)
    }

    /// Settings for every connection: plans that do not depend on bound values (SQLite built
    /// with STAT4 otherwise prepares a statement again whenever a bound value changes), and a
    /// bounded page cache.
    fn tune(&mut self) -> Result<(), StoreError> {
        let sql = sql_error(&self.path);
        self.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .map_err(&sql)?;
        self.conn
            .execute_batch("PRAGMA cache_size = -16384;")
            .map_err(&sql)?;
        self.conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    /// A store that lives in memory for one run (for tests and small inputs).
    pub fn in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let open_err = |cause| StoreError::Open {
            path: path.clone(),
            cause,
        };
        let conn = Connection::open_in_memory().map_err(open_err)?;
        set_page_size(&conn).map_err(open_err)?;
        let mut store = Store {
            checkpointer: None,
            conn,
            path,
            ephemeral: true,
        };
        store.tune()?;
        store.migrate()?;
        store.drop_lasting_indexes()?;
        Ok(store)
    }

    /// A store for one run, in a private temporary file that SQLite deletes when the store is
    /// closed (and the system, if the process dies): its page cache is bounded, so memory
    /// does not grow with the input. The folder is `$SQLITE_TMPDIR` or `$TMPDIR`, else
    /// `/var/tmp` or `/tmp`. Nothing here needs to survive a crash, so nothing is synced.
    pub fn temporary() -> Result<Store, StoreError> {
        let path = PathBuf::from("(temporary database)");
        let open_err = |cause| StoreError::Open {
            path: path.clone(),
            cause,
        };
        let conn = Connection::open("").map_err(open_err)?;
        set_page_size(&conn).map_err(open_err)?;
        conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            .map_err(open_err)?;
        let mut store = Store {
            checkpointer: None,
            conn,
            path,
            ephemeral: true,
        };
        store.tune()?;
        store.migrate()?;
        store.drop_lasting_indexes()?;
        Ok(store)
    }

    /// Drops, from a store for one run, the indexes that serve only a database that outlives
    /// it: the incidents by time and by the run that changed them, and their history by
    /// incident (for reports, `motesvakt incidents` and the history of earlier runs). A run
    /// lists what it changed once, at its end, and nothing reads one incident's history here:
    /// every incident the run records then costs two index writes fewer, while the queries
    /// stay the same (read in full instead). One index takes the place of the one by run: the
    /// incidents in the order the run's list is printed in ([`Store::run_changes`]), so that
    /// the list is read in order instead of sorted at the end, after everything else (30 ms
    /// of 1.2 s on 200 MB of native NDJSON; the incidents are recorded in about that order, so
    /// the index is written near its end).
    fn drop_lasting_indexes(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "DROP INDEX incidents_changed_run;
                 CREATE INDEX incidents_listed
                     ON incidents (changed_run, time_us, platform, meeting, rule, id);
                 DROP INDEX incidents_time;
                 DROP INDEX incident_history_incident;",
            )
            .map_err(sql_error(&self.path))
    }

    /// For a batch scan into a database file: checkpoints run on a thread of their own after
    /// each commit ([`checkpoint`]), so that copying the log into the database and syncing it
    /// overlap the scan instead of holding up the commit that crosses the limit. The
    /// committing connection still checkpoints, as a safety net, once the log holds 64 MiB
    /// (`wal_autocheckpoint`, 1,000 pages by default, in pages of the database's own size: a
    /// page the scan changes in every batch, an index's, is copied once per 64 MiB of log
    /// rather than once per 4 or 16 MiB). Commits stay as safe as before; closing the store
    /// copies the rest and removes the log.
    pub fn set_bulk_writes(&mut self) -> Result<(), StoreError> {
        let sql = sql_error(&self.path);
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(&sql)?;
        self.conn
            .execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {};",
                BULK_LOG_BYTES / page.max(512)
            ))
            .map_err(&sql)?;
        if self.checkpointer.is_none() && !self.ephemeral {
            self.checkpointer =
                Some(checkpoint::Checkpointer::start(&self.path).map_err(sql_error(&self.path))?);
        }
        Ok(())
    }

    /// Whether the store lives for this process only ([`Store::in_memory`],
    /// [`Store::temporary`]).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral
    }

    /// The database file (`:memory:` for a store in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sql_error(&self.path)
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// The schema version, refused when it is newer than this motesvakt knows.
    fn known_schema_version(&self) -> Result<i64, StoreError> {
        let found = self.schema_version()?;
        if found > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known: MIGRATIONS.len(),
            });
        }
        Ok(found)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.known_schema_version()?;
        let sql = sql_error(&self.path);
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            // The version is read again inside the write transaction: another process (the
            // service and `motesvakt status`, say) may be migrating the same file.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&sql)?;
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(&sql)?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(migration).map_err(&sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(&sql)?;
            tx.commit().map_err(&sql)?;
        }
        Ok(())
    }

    /// Starts a transaction. Everything written through it is kept only if
    /// [`Tx::commit`] is called; dropping it rolls back. One transaction at a time: starting a
    /// second while one is open is an error from SQLite, not a nested transaction.
    pub fn transaction(&self) -> Result<Tx<'_>, StoreError> {
        self.begin(rusqlite::TransactionBehavior::Immediate)
    }

    fn begin(&self, behavior: rusqlite::TransactionBehavior) -> Result<Tx<'_>, StoreError> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, behavior)
            .map_err(sql_error(&self.path))?;
        Ok(Tx {
            tx,
            path: &self.path,
            checkpointer: self.checkpointer.as_ref(),
            seq: std::cell::Cell::new(None),
            meeting_last: std::cell::RefCell::new(Vec::new()),
        })
    }
}

/// A write transaction on the [`Store`]. All writes are methods of `Tx`; reads on it see its
/// own writes.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    path: &'a Path,
    /// Told of each commit ([`Store::set_bulk_writes`]).
    checkpointer: Option<&'a checkpoint::Checkpointer>,
    /// The chunk sequence: read at the first chunk written, written back at commit.
    seq: std::cell::Cell<Option<(i64, bool)>>,
    /// Judged meetings' latest event times not written yet ([`Tx::set_meeting_last`]).
    meeting_last: std::cell::RefCell<Vec<(crate::meeting::MeetingKey, i64)>>,
}

impl Tx<'_> {
    /// Makes everything written in this transaction durable.
    pub fn commit(self) -> Result<(), StoreError> {
        self.write_seq()?;
        self.write_meeting_last()?;
        let sql = sql_error(self.path);
        self.tx.commit().map_err(sql)?;
        if let Some(c) = self.checkpointer {
            c.committed();
        }
        Ok(())
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sql_error(self.path)
    }

    /// The first column of every row `sql` gives (a cached statement), in its order.
    fn column<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.tx.prepare_cached(sql).map_err(self.sql())?;
        st.query_map(params, |r| r.get(0))
            .and_then(|rows| rows.collect::<Result<_, _>>())
            .map_err(self.sql())
    }

    /// A stored record that cannot be read back, as an error naming the database.
    pub fn corrupt_error(&self, reason: impl std::fmt::Display) -> StoreError {
        self.corrupt(reason)
    }

    fn corrupt(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            path: self.path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

/// Creates `path` with mode 0600 if it does not exist yet.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// What an SQLite error means for the operator. A full disk is said as such (SQLite says only
/// "database or disk is full", with no path and no cause), with what to do; other errors as
/// SQLite words them.
fn cause_text(cause: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match cause.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "the disk is full (No space left on device): free space on \
             the file system that holds the database and its -wal file, then run again (what \
             is stored already is not stored twice)"
            .to_string(),
        Some(ErrorCode::SystemIoFailure) => {
            use rusqlite::ffi;
            let writing = matches!(
                cause,
                rusqlite::Error::SqliteFailure(e, _) if [
                    ffi::SQLITE_IOERR_WRITE,
                    ffi::SQLITE_IOERR_FSYNC,
                    ffi::SQLITE_IOERR_TRUNCATE,
                    ffi::SQLITE_IOERR_SHMSIZE,
                    ffi::SQLITE_IOERR_SHMMAP,
                ]
                .contains(&e.extended_code)
            );
            let what = if writing {
                "a write to"
            } else {
                "a read or write of"
            };
            format!(
                "{what} the file failed ({cause}): check the disk and the file system (a full \
                 disk, a file size limit, a failing device), then run again"
            )
        }
        Some(ErrorCode::ReadOnly) => {
            format!("{cause}: the file, its folder or the file system is read-only for this user")
        }
        _ => cause.to_string(),
    }
}

fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |cause| StoreError::Sql {
        path: path.to_path_buf(),
        cause,
    }
}

/// A serde error while reading a stored row, without the row's content.
fn decode_error(e: &serde_json::Error) -> String {
    format!("{:?} error at column {}", e.classify(), e.column())
}

#[cfg(test)]
mod tests;
