//! The SQLite store: meeting state (observations) and incidents.
//!
//! One file, opened in WAL mode. The schema is versioned with `PRAGMA user_version`: each entry
//! of [`MIGRATIONS`] moves the schema one version up, inside a transaction, so adding a table
//! later is adding one string to that list. Without `--db` the same store runs in memory, so
//! there is one code path.
//!
//! Only redacted data is ever written here: observations (no chat text, findings as redacted
//! form and keyed hash) and incidents built from them.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::incident::{Incident, Outcome, Severity};
use crate::meeting::{MeetingKey, Observation};

/// Schema migrations, in order. Entry `i` takes the schema from version `i` to `i + 1`.
/// Never edit a migration that has shipped; add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: observations (meeting state) and incidents with their severity history.
    "CREATE TABLE observations (
         key       TEXT PRIMARY KEY,
         platform  TEXT NOT NULL,
         meeting   TEXT NOT NULL,
         time      TEXT NOT NULL,
         body      TEXT NOT NULL
     );
     CREATE INDEX observations_meeting ON observations (platform, meeting, time);
     CREATE TABLE incidents (
         id              TEXT PRIMARY KEY,
         rule            TEXT NOT NULL,
         severity        TEXT NOT NULL,
         platform        TEXT NOT NULL,
         meeting         TEXT NOT NULL,
         time            TEXT NOT NULL,
         actor           TEXT NOT NULL,
         profile         TEXT NOT NULL,
         routine_file    TEXT NOT NULL,
         routine_section TEXT NOT NULL,
         summary         TEXT NOT NULL,
         body            TEXT NOT NULL,
         first_seen      TEXT NOT NULL,
         last_changed    TEXT NOT NULL
     );
     CREATE INDEX incidents_meeting ON incidents (platform, meeting);
     CREATE TABLE incident_history (
         incident  TEXT NOT NULL REFERENCES incidents (id),
         at        TEXT NOT NULL,
         severity_from TEXT,
         severity_to   TEXT NOT NULL
     );",
    // 2: other ids of a meeting (a Teams meeting's chat thread id), so that events filed under
    // them are judged with the meeting.
    "CREATE TABLE meeting_aliases (
         platform TEXT NOT NULL,
         alias    TEXT NOT NULL,
         meeting  TEXT NOT NULL,
         PRIMARY KEY (platform, alias)
     );",
];

/// Problems with the database. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "database {path} has schema version {found}, newer than this motesvakt knows ({known}); use a newer motesvakt"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path}: a stored record cannot be read back ({source})")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store
            .conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(|source| StoreError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        store.migrate()?;
        Ok(store)
    }

    /// A store that lives in memory for one run.
    pub fn in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let mut store = Store { conn, path };
        store.migrate()?;
        Ok(store)
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(self.sql())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        if found > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known: MIGRATIONS.len(),
            });
        }
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction().map_err(sql)?;
            tx.execute_batch(migration).map_err(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)
                .map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        Ok(())
    }

    /// Starts a batch of writes; end it with [`Store::commit`].
    pub fn begin(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN").map_err(self.sql())
    }

    pub fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(self.sql())
    }

    /// Keeps an observation. Returns false when the same observation was already kept (the
    /// same event read again), which changes nothing.
    pub fn add_observation(&self, obs: &Observation) -> Result<bool, StoreError> {
        let body = serde_json::to_string(obs).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO observations (key, platform, meeting, time, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    Observation::key_of_json(body.as_bytes()),
                    obs.event.platform.as_str(),
                    obs.event.meeting,
                    obs.event.time.to_string(),
                    body
                ])
            })
            .map_err(self.sql())?;
        Ok(n == 1)
    }

    /// Records that `alias` is another id of `meeting` on the same platform. The first meeting
    /// an alias is given to keeps it.
    pub fn add_alias(&self, meeting: &MeetingKey, alias: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO meeting_aliases (platform, alias, meeting) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| st.execute(params![meeting.platform.as_str(), alias, meeting.id]))
            .map_err(self.sql())?;
        Ok(())
    }

    /// The meeting `key` is an alias of, or `key` itself.
    pub fn canonical(&self, key: &MeetingKey) -> Result<MeetingKey, StoreError> {
        let meeting: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT meeting FROM meeting_aliases WHERE platform = ?1 AND alias = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![key.platform.as_str(), key.id], |r| r.get(0))
                    .optional()
            })
            .map_err(self.sql())?;
        Ok(MeetingKey {
            platform: key.platform,
            id: meeting.unwrap_or_else(|| key.id.clone()),
        })
    }

    /// Every observation of a meeting and of its aliases (refiled under the meeting's id), from
    /// this run and earlier ones.
    pub fn meeting_with_aliases(&self, key: &MeetingKey) -> Result<Vec<Observation>, StoreError> {
        let mut all = self.meeting_observations(key)?;
        let aliases: Vec<String> = {
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT alias FROM meeting_aliases WHERE platform = ?1 AND meeting = ?2 ORDER BY alias",
                )
                .map_err(self.sql())?;
            let rows = st
                .query_map(params![key.platform.as_str(), key.id], |r| r.get(0))
                .map_err(self.sql())?;
            rows.collect::<Result<_, _>>().map_err(self.sql())?
        };
        for alias in aliases {
            let alias_key = MeetingKey {
                platform: key.platform,
                id: alias,
            };
            for mut obs in self.meeting_observations(&alias_key)? {
                obs.event.meeting = key.id.clone();
                all.push(obs);
            }
        }
        Ok(all)
    }

    /// Every observation of a meeting, from this run and earlier ones.
    pub fn meeting_observations(&self, key: &MeetingKey) -> Result<Vec<Observation>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT body FROM observations WHERE platform = ?1 AND meeting = ?2 ORDER BY time, key",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![key.platform.as_str(), key.id], |r| {
                r.get::<_, String>(0)
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for body in rows {
            let body = body.map_err(self.sql())?;
            let obs = serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
            out.push(obs);
        }
        Ok(out)
    }

    /// Records an incident: new, raised to a higher severity (the change is kept in
    /// `incident_history`), or already known.
    pub fn record_incident(&self, inc: &Incident, now: Timestamp) -> Result<Outcome, StoreError> {
        let previous: Option<String> = self
            .conn
            .query_row(
                "SELECT severity FROM incidents WHERE id = ?1",
                [&inc.id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?;
        let previous = previous.map(|s| Severity::from_name(&s).unwrap_or(Severity::Info));
        if matches!(previous, Some(p) if p >= inc.severity) {
            return Ok(Outcome::Known);
        }
        let body = serde_json::to_string(inc).map_err(|source| StoreError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        let now = now.to_string();
        let actor = serde_json::to_string(&inc.actor).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO incidents (id, rule, severity, platform, meeting, time, actor, profile,
                     routine_file, routine_section, summary, body, first_seen, last_changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)
                 ON CONFLICT (id) DO UPDATE SET severity = ?3, profile = ?8, routine_file = ?9,
                     routine_section = ?10, summary = ?11, body = ?12, last_changed = ?13",
                params![
                    inc.id,
                    inc.rule,
                    inc.severity.as_str(),
                    inc.platform.as_str(),
                    inc.meeting,
                    inc.time.to_string(),
                    actor,
                    inc.profile,
                    inc.routine.file,
                    inc.routine.section,
                    inc.summary,
                    body,
                    now
                ],
            )
            .map_err(self.sql())?;
        self.conn
            .execute(
                "INSERT INTO incident_history (incident, at, severity_from, severity_to)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    inc.id,
                    now,
                    previous.map(Severity::as_str),
                    inc.severity.as_str()
                ],
            )
            .map_err(self.sql())?;
        Ok(match previous {
            None => Outcome::New,
            Some(from) => Outcome::Raised { from },
        })
    }

    /// Every stored incident, oldest first.
    pub fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT body FROM incidents ORDER BY time, id")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for body in rows {
            let body = body.map_err(self.sql())?;
            out.push(
                serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
                    path: self.path.clone(),
                    source,
                })?,
            );
        }
        Ok(out)
    }

    /// The severity changes of one incident, oldest first: `(from, to)`.
    pub fn incident_history(
        &self,
        id: &str,
    ) -> Result<Vec<(Option<Severity>, Severity)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT severity_from, severity_to FROM incident_history WHERE incident = ?1 ORDER BY rowid")
            .map_err(self.sql())?;
        let rows = st
            .query_map([id], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (from, to) = row.map_err(self.sql())?;
            out.push((
                from.and_then(|s| Severity::from_name(&s)),
                Severity::from_name(&to).unwrap_or(Severity::Info),
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, Event, EventKind, Platform};
    use crate::incident::{Evidence, Routine};

    fn incident(severity: Severity) -> Incident {
        Incident {
            id: "abc".into(),
            rule: "recording-video".into(),
            severity,
            platform: Platform::Teams,
            meeting: "m".into(),
            time: "2024-01-01T00:00:00Z".parse().unwrap(),
            actor: Actor::new("a@b.se"),
            profile: "halland".into(),
            routine: Routine {
                file: "f".into(),
                section: "s".into(),
                profile_file: "p".into(),
            },
            summary: "x".into(),
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn migrates_a_new_file_and_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn refuses_a_newer_schema_and_a_non_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("schema version 99"), "{err}");
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
        let err = Store::open(&junk).err().unwrap().to_string();
        assert!(err.contains("junk.sqlite"), "{err}");
    }

    #[test]
    fn incidents_are_new_then_known_then_raised_with_history() {
        let store = Store::in_memory().unwrap();
        let now = Timestamp::now();
        assert_eq!(
            store
                .record_incident(&incident(Severity::Info), now)
                .unwrap(),
            Outcome::New
        );
        assert_eq!(
            store
                .record_incident(&incident(Severity::Info), now)
                .unwrap(),
            Outcome::Known
        );
        assert_eq!(
            store
                .record_incident(&incident(Severity::High), now)
                .unwrap(),
            Outcome::Raised {
                from: Severity::Info
            }
        );
        assert_eq!(
            store
                .record_incident(&incident(Severity::Low), now)
                .unwrap(),
            Outcome::Known
        );
        assert_eq!(store.incidents().unwrap()[0].severity, Severity::High);
        assert_eq!(
            store.incident_history("abc").unwrap(),
            [
                (None, Severity::Info),
                (Some(Severity::Info), Severity::High)
            ]
        );
    }

    #[test]
    fn aliases_refile_observations_under_the_meeting() {
        let store = Store::in_memory().unwrap();
        let obs = |meeting: &str| Observation {
            event: Event {
                time: "2024-01-01T00:00:00Z".parse().unwrap(),
                platform: Platform::Teams,
                meeting: meeting.into(),
                actor: Actor::new("a"),
                kind: EventKind::ParticipantLeft,
            },
            findings: vec![],
            signals: vec![],
        };
        store
            .add_observation(&obs("19:meeting_x@thread.v2"))
            .unwrap();
        store.add_observation(&obs("m1")).unwrap();
        let m1 = obs("m1").meeting_key();
        let chat = obs("19:meeting_x@thread.v2").meeting_key();
        assert_eq!(store.canonical(&chat).unwrap(), chat);
        store.add_alias(&m1, "19:meeting_x@thread.v2").unwrap();
        // The first meeting to claim an alias keeps it.
        store
            .add_alias(&obs("m2").meeting_key(), "19:meeting_x@thread.v2")
            .unwrap();
        assert_eq!(store.canonical(&chat).unwrap(), m1);
        let all = store.meeting_with_aliases(&m1).unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|o| o.event.meeting == "m1"));
    }

    #[test]
    fn observations_are_deduplicated() {
        let store = Store::in_memory().unwrap();
        let obs = Observation {
            event: Event {
                time: "2024-01-01T00:00:00Z".parse().unwrap(),
                platform: Platform::Zoom,
                meeting: "m".into(),
                actor: Actor::new("a"),
                kind: EventKind::ParticipantLeft,
            },
            findings: vec![],
            signals: vec![],
        };
        assert!(store.add_observation(&obs).unwrap());
        assert!(!store.add_observation(&obs).unwrap());
        let back = store.meeting_observations(&obs.meeting_key()).unwrap();
        assert_eq!(back, vec![obs]);
    }
}
