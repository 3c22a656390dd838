//! The incident workflow: each incident's status (open, acknowledged, resolved, false
//! positive), who changed it, when and why, with every change kept.
//!
//! An incident without a row in `incident_status` is open. The names and notes people type are
//! stored with identity numbers redacted (the store holds no personnummer), as typed otherwise:
//! outputs escape them for where they go.
//!
//! Re-judging keeps the status: a withdrawn incident keeps it, one seen again keeps it, a false
//! positive stays one. An acknowledged or resolved incident raised to a higher severity is
//! open again (motesvakt writes that change itself, `by` empty): its new alert asks for a new
//! look.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{StoreError, Tx};
use crate::incident::{FalsePositiveReason, Status};

/// An incident's current status and its last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    pub status: Status,
    /// Why it is a false positive.
    pub reason: Option<FalsePositiveReason>,
    /// Who changed it; empty when motesvakt did (reopened at a raise).
    pub by: String,
    pub at: Timestamp,
    pub note: Option<String>,
}

/// One change of status, for `motesvakt incidents show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub from: Status,
    pub to: StatusRecord,
}

/// What `given` (an id or the start of one) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMatch {
    One(String),
    None,
    /// More than one incident starts so.
    Many(u64),
}

/// What a status change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    Changed {
        from: Status,
    },
    /// The incident already has that status: nothing changed.
    Already(StatusRecord),
    /// That change is not made from the current status (a resolved incident is not
    /// acknowledged, a false positive not resolved: reopen it first).
    Refused {
        current: Status,
    },
}

/// Whether an incident may go from `from` to `to` by hand.
pub fn allowed(from: Status, to: Status) -> bool {
    use Status::*;
    match to {
        Open => from != Open,
        Acknowledged => from == Open,
        Resolved => matches!(from, Open | Acknowledged),
        FalsePositive => from != FalsePositive,
    }
}

/// What people typed, as the store keeps it: identity numbers redacted, nothing else changed.
fn kept(text: &str) -> String {
    crate::report::redact_ids(text).unwrap_or_else(|| text.to_string())
}

/// A status row's columns (status, reason, by, at, note) from `r` at `first`.
pub(super) fn status_columns(
    r: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Option<StatusRecord>> {
    let Some(status) = r.get::<_, Option<String>>(first)? else {
        return Ok(None);
    };
    let reason: Option<String> = r.get(first + 1)?;
    let at: String = r.get(first + 3)?;
    Ok(Some(StatusRecord {
        status: Status::from_name(&status).unwrap_or(Status::Open),
        reason: reason.and_then(|r| FalsePositiveReason::from_name(&r)),
        by: r.get(first + 2)?,
        at: at.parse().unwrap_or_default(),
        note: r.get(first + 4)?,
    }))
}

impl Tx<'_> {
    /// The incident `given` names: its whole id, or the start of exactly one id (at least 6
    /// characters; ids are hex).
    pub fn find_incident(&self, given: &str) -> Result<IdMatch, StoreError> {
        let exact: Option<String> = self
            .tx
            .prepare_cached("SELECT id FROM incidents WHERE id = ?1")
            .and_then(|mut st| st.query_row([given], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        if let Some(id) = exact {
            return Ok(IdMatch::One(id));
        }
        if given.len() < 6 || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(IdMatch::None);
        }
        let given = given.to_ascii_lowercase();
        // Ids are lowercase hex: `given` has no LIKE wildcard.
        let ids: Vec<String> = self.column(
            "SELECT id FROM incidents WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 2",
            [&given],
        )?;
        Ok(match ids.len() {
            0 => IdMatch::None,
            1 => IdMatch::One(ids.into_iter().next().unwrap_or_default()),
            _ => IdMatch::Many(
                self.tx
                    .query_row(
                        "SELECT COUNT(*) FROM incidents WHERE id >= ?1 AND id < ?1 || 'g'",
                        [&given],
                        |r| r.get::<_, i64>(0),
                    )
                    .map_err(self.sql())? as u64,
            ),
        })
    }

    /// Whether incident `id` is withdrawn (later evidence no longer gives it).
    pub fn is_withdrawn(&self, id: &str) -> Result<bool, StoreError> {
        self.tx
            .query_row(
                "SELECT withdrawn IS NOT NULL FROM incidents WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map(|w| w.unwrap_or(false))
            .map_err(self.sql())
    }

    /// The status of incident `id`; `None`: open, never changed.
    pub fn status_of(&self, id: &str) -> Result<Option<StatusRecord>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT status, reason, by_name, at, note FROM incident_status WHERE incident = ?1",
            )
            .and_then(|mut st| st.query_row([id], |r| status_columns(r, 0)).optional())
            .map(Option::flatten)
            .map_err(self.sql())
    }

    /// Changes incident `id`'s status by hand, if [`allowed`]. `reason` goes with a false
    /// positive. Marking a false positive cancels its alerts not sent yet; acknowledging or
    /// resolving one cancels its escalation not sent yet.
    pub fn set_status(
        &self,
        id: &str,
        to: Status,
        reason: Option<FalsePositiveReason>,
        by: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Transition, StoreError> {
        let current = self.status_of(id)?;
        let from = current.as_ref().map_or(Status::Open, |c| c.status);
        if from == to {
            return Ok(Transition::Already(current.unwrap_or(StatusRecord {
                status: Status::Open,
                reason: None,
                by: String::new(),
                at: now,
                note: None,
            })));
        }
        if !allowed(from, to) {
            return Ok(Transition::Refused { current: from });
        }
        let record = StatusRecord {
            status: to,
            reason: if to == Status::FalsePositive {
                reason
            } else {
                None
            },
            by: kept(by),
            at: now,
            note: note.map(kept),
        };
        self.write_status(id, from, &record)?;
        match to {
            Status::FalsePositive => {
                self.cancel_alerts(id, "cancelled")?;
            }
            // Someone is on it: an escalation that has not gone yet is not needed.
            Status::Acknowledged | Status::Resolved => {
                self.tx
                    .prepare_cached(
                        "UPDATE outbox SET state = 'cancelled'
                         WHERE incident = ?1 AND channel = 'mail' AND role = 'escalation'
                             AND state = 'pending'",
                    )
                    .and_then(|mut st| st.execute([id]))
                    .map_err(self.sql())?;
            }
            Status::Open => {}
        }
        Ok(Transition::Changed { from })
    }

    /// At a raise to a higher severity: an acknowledged or resolved incident is open again.
    pub(super) fn reopen_at_raise(&self, id: &str, now: Timestamp) -> Result<(), StoreError> {
        let Some(current) = self.status_of(id)? else {
            return Ok(());
        };
        if matches!(current.status, Status::Acknowledged | Status::Resolved) {
            let record = StatusRecord {
                status: Status::Open,
                reason: None,
                by: String::new(),
                at: now,
                note: None,
            };
            self.write_status(id, current.status, &record)?;
        }
        Ok(())
    }

    fn write_status(&self, id: &str, from: Status, r: &StatusRecord) -> Result<(), StoreError> {
        let at = r.at.to_string();
        let reason = r.reason.map(|x| x.as_str());
        self.tx
            .prepare_cached(
                "INSERT INTO incident_status (incident, status, reason, by_name, at, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (incident) DO UPDATE SET status = ?2, reason = ?3, by_name = ?4,
                     at = ?5, note = ?6",
            )
            .and_then(|mut st| st.execute(params![id, r.status.as_str(), reason, r.by, at, r.note]))
            .map_err(self.sql())?;
        self.tx
            .prepare_cached(
                "INSERT INTO incident_status_history
                     (incident, at, status_from, status_to, reason, by_name, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id,
                    at,
                    from.as_str(),
                    r.status.as_str(),
                    reason,
                    r.by,
                    r.note
                ])
            })
            .map_err(self.sql())?;
        Ok(())
    }

    /// Every status change of incident `id`, oldest first.
    pub fn status_history(&self, id: &str) -> Result<Vec<StatusChange>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT status_from, status_to, reason, by_name, at, note
                 FROM incident_status_history WHERE incident = ?1 ORDER BY rowid",
            )
            .map_err(self.sql())?;
        st.query_map([id], |r| {
            let from: String = r.get(0)?;
            Ok(StatusChange {
                from: Status::from_name(&from).unwrap_or(Status::Open),
                to: status_columns(r, 1)?.unwrap_or(StatusRecord {
                    status: Status::Open,
                    reason: None,
                    by: String::new(),
                    at: Timestamp::default(),
                    note: None,
                }),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(self.sql())
    }
}
