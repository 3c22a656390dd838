//! Incidents in the store: each the latest judgement of its meeting, with the history of its
//! changes (new, raised, lowered, withdrawn).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::workflow::{StatusRecord, status_columns};
use super::{Store, StoreError, Tx, decode_error};
use crate::incident::{Incident, Outcome, Severity};
use crate::meeting::MeetingKey;

/// Which stored incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only incidents whose triggering event happened at or after this time.
    pub since: Option<Timestamp>,
    /// Only incidents of this severity or higher.
    pub min_severity: Option<Severity>,
}

/// An incident as the store holds it, with what the last change to it was.
#[derive(Debug, Clone)]
pub struct StoredIncident {
    pub incident: Incident,
    /// The last change: [`Outcome::New`], or raised or lowered from a severity.
    pub last_change: Outcome,
    /// Its workflow status; `None`: open, never changed.
    pub status: Option<StatusRecord>,
}

/// The columns of an incident the store writes that take encoding (its JSON body, its actor,
/// its time): made with [`EncodedIncident::new`] on any thread (the judging ones), so that
/// the thread that writes only binds them.
#[derive(Debug, Clone)]
pub struct EncodedIncident {
    body: String,
    actor: String,
    time: String,
}

impl EncodedIncident {
    /// Encodes `inc`; the error says what was wrong without quoting it.
    pub fn new(inc: &Incident) -> Result<EncodedIncident, String> {
        Ok(EncodedIncident {
            body: serde_json::to_string(inc).map_err(|e| decode_error(&e))?,
            actor: serde_json::to_string(&inc.actor).unwrap_or_default(),
            time: inc.time.to_string(),
        })
    }
}

/// How a history row names its incident: [`Tx::history`].
enum Filed<'a> {
    /// The incident's number (`incidents.num`).
    Num(i64),
    /// The incident's id, its number looked up.
    Id(&'a str),
}

impl Tx<'_> {
    /// Records an incident as the current judgement: new (or seen again after a withdrawal),
    /// raised or lowered (the change is kept in `incident_history`), or known. A known
    /// incident's stored record is brought up to date (its meeting, when an alias moved it).
    pub fn record_incident(
        &self,
        inc: &Incident,
        now: Timestamp,
        run: i64,
    ) -> Result<Outcome, StoreError> {
        let enc = EncodedIncident::new(inc).map_err(|e| self.corrupt(e))?;
        self.record_encoded(inc, &enc, now, run)
    }

    /// [`Tx::record_incident`] with the incident encoded already (`enc`, of `inc`).
    pub fn record_encoded(
        &self,
        inc: &Incident,
        enc: &EncodedIncident,
        now: Timestamp,
        run: i64,
    ) -> Result<Outcome, StoreError> {
        let previous: Option<(String, String, Option<String>)> = self
            .tx
            .prepare_cached("SELECT severity, body, withdrawn FROM incidents WHERE id = ?1")
            .and_then(|mut st| {
                st.query_row([&inc.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map_err(self.sql())?;
        self.record(inc, enc, now, run, previous)
    }

    /// [`Tx::record_encoded`] for an incident the caller knows the store does not hold (a
    /// store that had no incidents when the run started, and a meeting this run wrote none
    /// for): no lookup first. Should the store hold it after all, it is recorded as new again,
    /// as after a withdrawal (the row is updated, not duplicated).
    pub fn record_new_incident(
        &self,
        inc: &Incident,
        enc: &EncodedIncident,
        now: Timestamp,
        run: i64,
    ) -> Result<Outcome, StoreError> {
        self.record(inc, enc, now, run, None)
    }

    fn record(
        &self,
        inc: &Incident,
        enc: &EncodedIncident,
        now: Timestamp,
        run: i64,
        previous: Option<(String, String, Option<String>)>,
    ) -> Result<Outcome, StoreError> {
        let body = &enc.body;
        let outcome = match &previous {
            None => Outcome::New,
            Some((_, _, Some(_))) => Outcome::New,
            Some((sev, _, None)) => {
                let from = Severity::from_name(sev).unwrap_or(Severity::Info);
                match from.cmp(&inc.severity) {
                    std::cmp::Ordering::Less => Outcome::Raised { from },
                    std::cmp::Ordering::Greater => Outcome::Lowered { from },
                    std::cmp::Ordering::Equal => Outcome::Known,
                }
            }
        };
        if outcome == Outcome::Known && previous.as_ref().is_some_and(|p| &p.1 == body) {
            return Ok(Outcome::Known);
        }
        let now_s = now.to_string();
        // An insert (not an update) sets the connection's last rowid: the incident's number,
        // under which its history is filed, then needs no lookup.
        let rowid_before = self.tx.last_insert_rowid();
        self.tx
            .prepare_cached(
                "INSERT INTO incidents (id, rule, severity, platform, meeting, time, actor, profile,
                     routine_file, routine_section, summary, body, first_seen, last_changed,
                     withdrawn, time_us, changed_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, NULL, ?14,
                     ?15)
                 ON CONFLICT (id) DO UPDATE SET severity = ?3, platform = ?4, meeting = ?5,
                     time = ?6, actor = ?7, profile = ?8, routine_file = ?9,
                     routine_section = ?10, summary = ?11, body = ?12, last_changed = ?13,
                     withdrawn = NULL, time_us = ?14,
                     changed_run = CASE WHEN ?16 THEN ?15 ELSE changed_run END",
            )
            .and_then(|mut st| {
                st.execute(params![
                    inc.id,
                    inc.rule,
                    inc.severity.as_str(),
                    inc.platform.as_str(),
                    inc.meeting,
                    enc.time,
                    enc.actor,
                    inc.profile,
                    inc.routine.file,
                    inc.routine.section,
                    inc.summary,
                    body,
                    now_s,
                    inc.time.as_microsecond(),
                    run,
                    outcome != Outcome::Known,
                ])
            })
            .map_err(self.sql())?;
        if outcome != Outcome::Known {
            let from = match (&previous, outcome) {
                (Some((sev, _, None)), _) => Some(sev.clone()),
                _ => None,
            };
            let rowid = self.tx.last_insert_rowid();
            let filed = if rowid != rowid_before {
                Filed::Num(rowid)
            } else {
                Filed::Id(&inc.id)
            };
            self.history(filed, &now_s, from.as_deref(), inc.severity, outcome, run)?;
        }
        if matches!(outcome, Outcome::Raised { .. }) {
            self.reopen_at_raise(&inc.id, now)?;
        }
        Ok(outcome)
    }

    /// A history row for an incident, by its number or, when the caller does not have it, its
    /// id (the row is then filed under the number looked up, and none is written for an id the
    /// store does not hold).
    fn history(
        &self,
        incident: Filed<'_>,
        at: &str,
        from: Option<&str>,
        to: Severity,
        change: Outcome,
        run: i64,
    ) -> Result<(), StoreError> {
        let (sql, key): (&str, &dyn rusqlite::ToSql) = match &incident {
            Filed::Num(num) => (
                "INSERT INTO incident_history (incident_num, at, severity_from, severity_to,
                     change, run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                num,
            ),
            Filed::Id(id) => (
                "INSERT INTO incident_history (incident_num, at, severity_from, severity_to,
                     change, run)
                 SELECT num, ?2, ?3, ?4, ?5, ?6 FROM incidents WHERE id = ?1",
                id,
            ),
        };
        self.tx
            .prepare_cached(sql)
            .and_then(|mut st| {
                st.execute(params![key, at, from, to.as_str(), change.as_str(), run])
            })
            .map_err(self.sql())?;
        Ok(())
    }

    /// The current (not withdrawn) incidents filed under any of `meetings` (one platform).
    pub fn current_incidents_of(
        &self,
        platform: crate::event::Platform,
        meetings: &[String],
    ) -> Result<Vec<Incident>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT body FROM incidents
                 WHERE platform = ?1 AND meeting = ?2 AND withdrawn IS NULL AND rule != ?3
                 ORDER BY id",
            )
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for m in meetings {
            let rows = st
                .query_map(
                    params![platform.as_str(), m, crate::incident::ALERT_UNDELIVERABLE],
                    |r| r.get::<_, String>(0),
                )
                .map_err(self.sql())?;
            for body in rows {
                let body = body.map_err(self.sql())?;
                out.push(serde_json::from_str(&body).map_err(|e| self.corrupt(decode_error(&e)))?);
            }
        }
        Ok(out)
    }

    /// Whether the store holds any incident.
    pub fn has_incidents(&self) -> Result<bool, StoreError> {
        self.tx
            .query_row("SELECT EXISTS (SELECT 1 FROM incidents)", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// Withdraws a current incident: later evidence no longer gives it. Its alerts not sent
    /// yet are withdrawn too; its workflow status is kept.
    pub fn withdraw_incident(
        &self,
        inc: &Incident,
        now: Timestamp,
        run: i64,
    ) -> Result<(), StoreError> {
        let now_s = now.to_string();
        self.tx
            .prepare_cached(
                "UPDATE incidents SET withdrawn = ?2, last_changed = ?2, changed_run = ?3
                 WHERE id = ?1 AND withdrawn IS NULL",
            )
            .and_then(|mut st| st.execute(params![inc.id, now_s, run]))
            .map_err(self.sql())?;
        self.cancel_alerts(&inc.id, "withdrawn")?;
        self.history(
            Filed::Id(&inc.id),
            &now_s,
            Some(inc.severity.as_str()),
            inc.severity,
            Outcome::Withdrawn,
            run,
        )
    }

    /// Deletes the incidents (and their history) last changed before `before`. Returns how
    /// many were deleted.
    pub fn prune_incidents(&self, before: Timestamp) -> Result<u64, StoreError> {
        let cutoff = before.as_second();
        // The history is filed under the incident's number, the workflow under its id.
        for (table, column, key) in [
            ("incident_history", "incident_num", "num"),
            ("incident_status", "incident", "id"),
            ("incident_status_history", "incident", "id"),
        ] {
            self.tx
                .execute(
                    &format!(
                        "DELETE FROM {table} WHERE {column} IN
                             (SELECT {key} FROM incidents WHERE unixepoch(last_changed) < ?1)"
                    ),
                    [cutoff],
                )
                .map_err(self.sql())?;
        }
        let n = self
            .tx
            .execute(
                "DELETE FROM incidents WHERE unixepoch(last_changed) < ?1",
                [cutoff],
            )
            .map_err(self.sql())?;
        Ok(n as u64)
    }

    /// How many current (not withdrawn) incidents there are of each severity.
    pub fn incident_counts(&self) -> Result<Vec<(Severity, u64)>, StoreError> {
        let mut st = self
            .tx
            .prepare(
                "SELECT severity, COUNT(*) FROM incidents WHERE withdrawn IS NULL GROUP BY severity",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (sev, n) = row.map_err(self.sql())?;
            let sev =
                Severity::from_name(&sev).ok_or_else(|| self.corrupt("an unknown severity"))?;
            out.push((sev, n as u64));
        }
        out.sort();
        Ok(out)
    }

    /// Starts a run: the number under which its changes to incidents are kept.
    pub fn start_run(&self) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('run', 1)
                 ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value",
            )
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// The meetings whose incidents must be looked at when `key` is judged: the meeting and
    /// its aliases.
    pub fn meeting_and_aliases(&self, key: &MeetingKey) -> Result<Vec<String>, StoreError> {
        let mut ids = vec![key.id.clone()];
        ids.extend(self.aliases(key)?);
        Ok(ids)
    }
}

impl Tx<'_> {
    /// When incident `id` was first recorded (its first change in `incident_history`).
    pub fn first_recorded(&self, id: &str) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT MIN(h.at) FROM incident_history h JOIN incidents i ON h.incident_num = i.num
                 WHERE i.id = ?1",
            )
            .and_then(|mut st| st.query_row([id], |r| r.get(0)))
            .map_err(self.sql())?;
        Ok(at.and_then(|a| a.parse().ok()))
    }

    /// The platforms of the meetings whose last event falls in `[since, until)` (all, without
    /// bounds), for the blind spots of a period.
    pub fn platforms_seen(
        &self,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
    ) -> Result<Vec<crate::event::Platform>, StoreError> {
        self.write_meeting_last()?;
        let names: Vec<String> = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT platform FROM meeting_last
                 WHERE (?1 IS NULL OR last_us >= ?1) AND (?2 IS NULL OR last_us < ?2)
                 ORDER BY platform",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![
                        since.map(|t| t.as_microsecond()),
                        until.map(|t| t.as_microsecond())
                    ],
                    |r| r.get(0),
                )
                .and_then(|rows| rows.collect())
            })
            .map_err(self.sql())?;
        Ok(names
            .iter()
            .filter_map(|n| serde_json::from_value(serde_json::Value::String(n.clone())).ok())
            .collect())
    }

    /// The severity changes of one incident, oldest first: `(change, from, to)` (as
    /// [`Store::incident_history`], inside this transaction).
    pub fn severity_history(
        &self,
        id: &str,
    ) -> Result<Vec<(String, Option<Severity>, Severity)>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT COALESCE(change, ''), severity_from, severity_to FROM incident_history
                 WHERE incident_num = (SELECT num FROM incidents WHERE id = ?1) ORDER BY rowid",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (change, from, to) = row.map_err(self.sql())?;
            out.push((
                change,
                from.and_then(|s| Severity::from_name(&s)),
                Severity::from_name(&to).unwrap_or(Severity::Info),
            ));
        }
        Ok(out)
    }
}

/// Rows of [`Store::run_changes`] decoded at a time on the decoding thread.
pub(super) const DECODE_RUN: usize = 256;

/// A row of [`Store::run_changes`] as read: the incident's body still to decode.
struct ChangedRow {
    body: String,
    withdrawn: bool,
    /// The incident's first change in the run, `change:severity_from` (`None`: `new`).
    first: Option<String>,
    status: Option<StatusRecord>,
}

/// A row of [`Store::run_changes`] with its incident decoded (or why it could not be).
type Decoded = Result<(Incident, ChangedRow), StoreError>;

impl ChangedRow {
    fn decode(mut self, path: &std::path::Path) -> Decoded {
        let incident: Incident =
            serde_json::from_str(&self.body).map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: decode_error(&e),
            })?;
        self.body = String::new();
        Ok((incident, self))
    }
}

/// What a run changed of one incident, net: the incident before the run (absent for a first
/// `new`, else at the first change's `from`) against after it; `None` when that is no change.
fn net_change((incident, row): (Incident, ChangedRow)) -> Option<StoredIncident> {
    let (change, from) = row
        .first
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .unwrap_or(("new", ""));
    let before = match change {
        "new" => None,
        _ => Severity::from_name(from),
    };
    let after = (!row.withdrawn).then_some(incident.severity);
    let last_change = match (before, after) {
        (None, None) => return None,
        (None, Some(_)) => Outcome::New,
        (Some(_), None) => Outcome::Withdrawn,
        (Some(f), Some(t)) if f < t => Outcome::Raised { from: f },
        (Some(f), Some(t)) if f > t => Outcome::Lowered { from: f },
        (Some(_), Some(_)) => return None,
    };
    Some(StoredIncident {
        incident,
        last_change,
        status: row.status,
    })
}

impl Store {
    /// What run `run` changed, net (the incident before the run against after it), oldest
    /// first, one at a time: an incident raised then withdrawn in the same run is not listed.
    pub fn run_changes(
        &self,
        run: i64,
        each: &mut dyn FnMut(StoredIncident),
    ) -> Result<(), StoreError> {
        // The first change of each incident in the run says what it was before. When the
        // history holds no earlier run, no incident was there before it (each has a history
        // row from when it was first recorded): every first change is `new`, so none need be
        // looked up.
        let earlier: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM incident_history WHERE run IS NOT ?1)",
                [run],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        let first = if earlier {
            "(SELECT h.change || ':' || COALESCE(h.severity_from, '') FROM incident_history h
              WHERE h.incident_num = i.num AND h.run = ?1 ORDER BY h.rowid LIMIT 1)"
        } else {
            "NULL"
        };
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT i.body, i.withdrawn IS NOT NULL, {first},
                     s.status, s.reason, s.by_name, s.at, s.note
                 FROM incidents i LEFT JOIN incident_status s ON s.incident = i.id
                 WHERE i.changed_run = ?1
                 ORDER BY i.time_us, i.platform, i.meeting, i.rule, i.id"
            ))
            .map_err(self.sql())?;
        let rows = st
            .query_map([run], |r| {
                Ok(ChangedRow {
                    body: r.get(0)?,
                    withdrawn: r.get(1)?,
                    first: r.get(2)?,
                    status: status_columns(r, 3)?,
                })
            })
            .map_err(self.sql())?;
        // The rows are read here (the connection's thread) and their bodies decoded on another
        // thread, a run of them at a time, so that decoding overlaps reading the next run and
        // `each` (which prints): a long scan's list is written in a fraction of the time. At
        // most two runs are on their way at once, so memory does not grow with the list.
        let path = &self.path;
        std::thread::scope(|s| {
            let (rows_tx, rows_rx) = std::sync::mpsc::sync_channel::<Vec<ChangedRow>>(2);
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Vec<Decoded>>(2);
            s.spawn(move || {
                for run in rows_rx {
                    let decoded = run.into_iter().map(|r| r.decode(path)).collect();
                    if done_tx.send(decoded).is_err() {
                        break;
                    }
                }
            });
            let mut on_the_way = 0usize;
            let mut take = |on_the_way: &mut usize| -> Result<(), StoreError> {
                *on_the_way -= 1;
                // The decoding thread stops only when the rows stop (or it panicked: the
                // scope passes that on).
                for decoded in done_rx.recv().unwrap_or_default() {
                    if let Some(s) = net_change(decoded?) {
                        each(s);
                    }
                }
                Ok(())
            };
            let mut run = Vec::with_capacity(DECODE_RUN);
            for row in rows {
                run.push(row.map_err(self.sql())?);
                if run.len() == DECODE_RUN {
                    let _ =
                        rows_tx.send(std::mem::replace(&mut run, Vec::with_capacity(DECODE_RUN)));
                    on_the_way += 1;
                    if on_the_way == 2 {
                        take(&mut on_the_way)?;
                    }
                }
            }
            if !run.is_empty() {
                let _ = rows_tx.send(run);
                on_the_way += 1;
            }
            drop(rows_tx);
            while on_the_way > 0 {
                take(&mut on_the_way)?;
            }
            Ok(())
        })
    }

    /// The current incidents, oldest first (by the time of their triggering event).
    pub fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<StoredIncident>, StoreError> {
        let mut out = Vec::new();
        self.each_incident(filter, &mut |i| out.push(i))?;
        Ok(out)
    }

    /// [`Store::incidents`], one at a time, holding none in memory.
    pub fn each_incident(
        &self,
        filter: &IncidentFilter,
        each: &mut dyn FnMut(StoredIncident),
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT i.body,
                     (SELECT h.change || ':' || COALESCE(h.severity_from, '') FROM incident_history h
                      WHERE h.incident_num = i.num ORDER BY h.rowid DESC LIMIT 1),
                     s.status, s.reason, s.by_name, s.at, s.note
                 FROM incidents i LEFT JOIN incident_status s ON s.incident = i.id
                 WHERE i.withdrawn IS NULL AND (?1 IS NULL OR i.time_us >= ?1)
                 ORDER BY i.time_us, i.id",
            )
            .map_err(self.sql())?;
        let since = filter.since.map(|t| t.as_microsecond());
        let rows = st
            .query_map([since], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    status_columns(r, 2)?,
                ))
            })
            .map_err(self.sql())?;
        for row in rows {
            let (body, change, status) = row.map_err(self.sql())?;
            let incident: Incident =
                serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    reason: decode_error(&e),
                })?;
            if filter.min_severity.is_some_and(|m| incident.severity < m) {
                continue;
            }
            let (kind, from) = change
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .unwrap_or(("new", ""));
            let from = Severity::from_name(from);
            let last_change = match (kind, from) {
                ("raised", Some(from)) => Outcome::Raised { from },
                ("lowered", Some(from)) => Outcome::Lowered { from },
                // Schema 2 wrote no change; a row with a previous severity was a raise.
                ("", Some(from)) if from < incident.severity => Outcome::Raised { from },
                _ => Outcome::New,
            };
            each(StoredIncident {
                incident,
                last_change,
                status,
            });
        }
        Ok(())
    }

    /// The changes of one incident, oldest first: `(change, from, to)`.
    pub fn incident_history(
        &self,
        id: &str,
    ) -> Result<Vec<(String, Option<Severity>, Severity)>, StoreError> {
        self.read_transaction()?.severity_history(id)
    }
}
