//! The outbox: alerts written in the same transaction as their incident, delivered later by
//! the sender ([`crate::alert::smtp`] for mail, [`crate::alert::channels`] for the webhook and
//! the SIEM), at least once, each mail with a stable Message-ID and each webhook with a stable
//! `webhook-id`. Each row has one channel and is delivered and retried on its own.
//!
//! States: `pending` (to send; `attempts` > 0 after a failure that is retried), `sent`,
//! `dead` (a permanent failure, or not delivered within `give_up_after`), and three for alerts
//! that will not go: `withdrawn` (the incident was withdrawn before), `superseded` (the
//! incident was raised and its alert at the higher severity replaces this one), `cancelled`
//! (the incident was marked a false positive). Alerts below the immediate severity wait as
//! `pending` with `immediate = 0` for the digest.

use rusqlite::{OptionalExtension, params};

use super::{StoreError, Tx, decode_error};
use crate::alert::{Alert, Channel, Role};
use crate::incident::Incident;

/// One outbox row, for `motesvakt alerts`.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: String,
    pub incident: String,
    pub recipient: String,
    pub role: String,
    pub severity: String,
    pub immediate: bool,
    pub state: String,
    pub attempts: i64,
    pub created_us: i64,
    pub next_us: i64,
    pub sent_us: Option<i64>,
    pub mail: Option<String>,
    pub last_error: Option<String>,
    /// Held back by the hourly cap.
    pub capped: bool,
    /// `mail`, `webhook`, `siem-file`, `syslog`.
    pub channel: String,
    /// `new`, `raised`, `lowered`, `withdrawn`.
    pub change: String,
}

/// A webhook or SIEM row to deliver.
#[derive(Debug, Clone)]
pub struct DueEvent {
    /// The row's id: the `webhook-id`, fixed when the row was written.
    pub id: String,
    pub incident: String,
    /// At the change.
    pub severity: String,
    pub change: String,
    pub severity_from: Option<String>,
    pub created_us: i64,
    pub attempts: i64,
}

/// Which rows `motesvakt alerts` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxFilter {
    All,
    /// Not yet delivered (immediate or waiting for the digest).
    Pending,
    /// Pending after at least one failed attempt.
    Failed,
    Dead,
}

/// A mail to send: the alerts of one recipient and meeting.
#[derive(Debug, Clone)]
pub struct DueMail {
    /// The mail's id, the Message-ID's left part: fixed at the first attempt.
    pub mail: String,
    pub recipient: String,
    pub role: Role,
    /// The incidents, by id.
    pub incidents: Vec<String>,
    /// Unix µs of the oldest alert in it.
    pub created_us: i64,
    pub attempts: i64,
    /// The daily digest (below the immediate severity, all meetings) rather than an alert.
    pub digest: bool,
    /// Alerts the hourly cap held back, in one "N more" mail.
    pub capped: bool,
}

impl Tx<'_> {
    /// Writes alerts to the outbox; one already there (same id) is left as it is, unless it
    /// was withdrawn, superseded or cancelled before it went (then it is pending again). An
    /// incident's mails to the same recipient, or its webhook, at another severity that have
    /// not gone yet are superseded: only the latest severity is alerted. SIEM events are never
    /// superseded: the SIEM gets every change. Returns how many were new.
    pub fn enqueue_alerts(&self, alerts: &[Alert], now_us: i64) -> Result<u64, StoreError> {
        let mut supersede = self
            .tx
            .prepare_cached(
                "UPDATE outbox SET state = 'superseded'
                 WHERE incident = ?1 AND recipient = ?2 AND severity != ?3 AND channel = ?4
                     AND state = 'pending' AND role != 'escalation'",
            )
            .map_err(self.sql())?;
        let mut st = self
            .tx
            .prepare_cached(
                "INSERT INTO outbox (id, incident, recipient, role, severity,
                     immediate, grp, state, attempts, created_us, next_us, channel, change,
                     severity_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8, ?9, ?10, ?11)
                 ON CONFLICT (id) DO UPDATE SET state = 'pending', attempts = 0,
                     created_us = ?8, next_us = ?8, sent_us = NULL, mail = NULL,
                     last_error = NULL, capped = 0, change = ?10, severity_from = ?11
                 WHERE state IN ('withdrawn', 'superseded', 'cancelled')",
            )
            .map_err(self.sql())?;
        let mut n = 0;
        for a in alerts {
            if a.role != Role::Escalation && !a.channel.is_siem() {
                supersede
                    .execute(params![
                        a.incident,
                        a.recipient,
                        a.severity.as_str(),
                        a.channel.as_str()
                    ])
                    .map_err(self.sql())?;
            }
            n += st
                .execute(params![
                    a.id,
                    a.incident,
                    a.recipient,
                    a.role.as_str(),
                    a.severity.as_str(),
                    a.immediate,
                    a.group,
                    now_us,
                    a.channel.as_str(),
                    a.change,
                    a.severity_from.map(|s| s.as_str()),
                ])
                .map_err(self.sql())? as u64;
        }
        Ok(n)
    }

    /// Marks the mails and webhook calls of incident `id` that have not gone yet `state`
    /// (`withdrawn`: the incident was; `cancelled`: it is a false positive). A mail that held
    /// them goes without them, or not at all. SIEM events still go: the SIEM gets every
    /// change, the withdrawal too. Returns how many.
    pub fn cancel_alerts(&self, id: &str, state: &str) -> Result<u64, StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE outbox SET state = ?2
                 WHERE incident = ?1 AND state = 'pending' AND channel IN ('mail', 'webhook')",
            )
            .and_then(|mut st| st.execute(params![id, state]))
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// When incident `id` was first alerted to people (Unix µs; by mail or webhook, its
    /// escalation and SIEM events left aside): the start of the IMY deadline.
    pub fn first_alert_us(&self, id: &str) -> Result<Option<i64>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT MIN(created_us) FROM outbox
                 WHERE incident = ?1 AND role != 'escalation' AND channel IN ('mail', 'webhook')",
            )
            .and_then(|mut st| st.query_row([id], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// The incidents to escalate: possibly reportable to IMY ([`crate::alert::render::reportable`]),
    /// current, still open, first alerted at or before `before_us` (as [`Tx::first_alert_us`]),
    /// not escalated yet. With when each was first alerted.
    pub fn due_escalations(&self, before_us: i64) -> Result<Vec<(Incident, i64)>, StoreError> {
        // The SQL narrows to the rules and evidence `reportable` looks at; it has the last word.
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT i.body, MIN(o.created_us) FROM incidents i
                 JOIN outbox o ON o.incident = i.id AND o.role != 'escalation'
                     AND o.channel IN ('mail', 'webhook')
                 LEFT JOIN incident_status s ON s.incident = i.id
                 WHERE i.withdrawn IS NULL AND (s.status IS NULL OR s.status = 'open')
                     AND ((i.rule = 'chat-patient-data' AND i.severity = 'critical')
                         OR (i.rule IN ('file-patient-data', 'recording-video',
                                 'recording-audio')
                             AND json_extract(i.body, '$.evidence.external_present')))
                     AND NOT EXISTS (SELECT 1 FROM outbox e
                                     WHERE e.incident = i.id AND e.channel = 'mail'
                                         AND e.role = 'escalation')
                 GROUP BY i.id HAVING MIN(o.created_us) <= ?1
                 ORDER BY MIN(o.created_us), i.id",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([before_us], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (body, first) = row.map_err(self.sql())?;
            let inc: Incident =
                serde_json::from_str(&body).map_err(|e| self.corrupt(decode_error(&e)))?;
            if crate::alert::render::reportable(&inc) {
                out.push((inc, first));
            }
        }
        Ok(out)
    }

    /// The immediate mails due at `now_us`: alerts not yet in a mail are put in one per
    /// recipient and meeting once the oldest of them has waited `group_wait_us`; then every
    /// pending mail whose next attempt is due. `all`: no waiting (a scan that exits), except
    /// for what the hourly cap holds back.
    pub fn due_mails(
        &self,
        now_us: i64,
        group_wait_us: i64,
        all: bool,
    ) -> Result<Vec<DueMail>, StoreError> {
        let groups: Vec<String> = self.column(
            "SELECT grp FROM outbox
                     WHERE channel = 'mail' AND state = 'pending' AND immediate = 1
                         AND mail IS NULL
                     GROUP BY grp HAVING ?2 OR MIN(created_us) + ?1 <= ?3",
            params![group_wait_us, all, now_us],
        )?;
        for g in groups {
            let ids: Vec<String> = self.column(
                "SELECT id FROM outbox WHERE channel = 'mail' AND grp = ?1
                             AND state = 'pending' AND immediate = 1 AND mail IS NULL
                             ORDER BY id",
                [&g],
            )?;
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mail = crate::alert::short_hash(&refs);
            self.tx
                .execute(
                    "UPDATE outbox SET mail = ?1 WHERE channel = 'mail' AND grp = ?2
                         AND state = 'pending' AND immediate = 1 AND mail IS NULL",
                    params![mail, g],
                )
                .map_err(self.sql())?;
        }
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT mail, recipient, role, incident, created_us, attempts, immediate, capped
                 FROM outbox
                 WHERE channel = 'mail' AND state = 'pending' AND mail IS NOT NULL
                     AND ((?2 AND capped = 0) OR next_us <= ?1)
                 ORDER BY mail, incident",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![now_us, all], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, bool>(7)?,
                ))
            })
            .map_err(self.sql())?;
        let mut out: Vec<DueMail> = Vec::new();
        for row in rows {
            let (mail, recipient, role, incident, created, attempts, immediate, capped) =
                row.map_err(self.sql())?;
            match out.last_mut() {
                Some(m) if m.mail == mail => {
                    if !m.incidents.contains(&incident) {
                        m.incidents.push(incident);
                    }
                    m.created_us = m.created_us.min(created);
                    m.capped |= capped;
                }
                _ => out.push(DueMail {
                    mail,
                    recipient,
                    role: Role::from_name(&role).unwrap_or(Role::ItSecurity),
                    incidents: vec![incident],
                    created_us: created,
                    attempts,
                    digest: !immediate,
                    capped,
                }),
            }
        }
        Ok(out)
    }

    /// Puts every alert waiting for the digest in one mail per recipient (the mails are then
    /// sent, and tried again, like the others). Returns how many digests were made.
    pub fn make_digests(&self) -> Result<u64, StoreError> {
        let recipients: Vec<String> = self.column(
            "SELECT DISTINCT recipient FROM outbox
                     WHERE channel = 'mail' AND state = 'pending' AND immediate = 0
                         AND mail IS NULL",
            [],
        )?;
        for r in &recipients {
            let ids: Vec<String> = self.column(
                "SELECT id FROM outbox WHERE channel = 'mail' AND recipient = ?1
                             AND state = 'pending' AND immediate = 0 AND mail IS NULL
                             ORDER BY id",
                [r],
            )?;
            let mut parts: Vec<&str> = vec!["digest"];
            parts.extend(ids.iter().map(String::as_str));
            let mail = crate::alert::short_hash(&parts);
            self.tx
                .execute(
                    "UPDATE outbox SET mail = ?1 WHERE channel = 'mail' AND recipient = ?2
                         AND state = 'pending' AND immediate = 0 AND mail IS NULL",
                    params![mail, r],
                )
                .map_err(self.sql())?;
        }
        Ok(recipients.len() as u64)
    }

    /// How many immediate mails went to `recipient` at or after `since_us`, and when the first
    /// of them went.
    pub fn mails_sent_since(
        &self,
        recipient: &str,
        since_us: i64,
    ) -> Result<(u64, Option<i64>), StoreError> {
        self.tx
            .prepare_cached(
                "SELECT COUNT(DISTINCT mail), MIN(sent_us) FROM outbox
                 WHERE channel = 'mail' AND recipient = ?1 AND state = 'sent' AND immediate = 1
                     AND sent_us >= ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![recipient, since_us], |r| {
                    Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
                })
            })
            .map_err(self.sql())
    }

    /// Holds `mail` back for the hourly cap: its alerts, and those the cap held back before
    /// for the same recipient, go in one mail at `until_us`. Returns how many alerts it holds.
    pub fn cap_mail(&self, recipient: &str, mail: &str, until_us: i64) -> Result<u64, StoreError> {
        let cond = "channel = 'mail' AND recipient = ?1 AND state = 'pending' AND immediate = 1
                    AND (mail = ?2 OR capped = 1)";
        let ids: Vec<String> = self.column(
            &format!("SELECT id FROM outbox WHERE {cond} ORDER BY id"),
            params![recipient, mail],
        )?;
        let mut parts: Vec<&str> = vec!["capped"];
        parts.extend(ids.iter().map(String::as_str));
        let held = crate::alert::short_hash(&parts);
        self.tx
            .execute(
                &format!("UPDATE outbox SET capped = 1, mail = ?3, next_us = ?4 WHERE {cond}"),
                params![recipient, mail, held, until_us],
            )
            .map_err(self.sql())?;
        Ok(ids.len() as u64)
    }

    /// Marks a mail's alerts delivered.
    pub fn mark_mail_sent(&self, mail: &str, now_us: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE outbox SET state = 'sent', sent_us = ?2, attempts = attempts + 1,
                     last_error = NULL
                 WHERE channel = 'mail' AND mail = ?1 AND state = 'pending'",
                params![mail, now_us],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// Notes a failed attempt: tried again at `next_us`, or dead when `dead`.
    pub fn mark_mail_failed(
        &self,
        mail: &str,
        error: &str,
        next_us: i64,
        dead: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_us = ?3,
                     state = CASE WHEN ?4 THEN 'dead' ELSE state END
                 WHERE channel = 'mail' AND mail = ?1 AND state = 'pending'",
                params![mail, error, next_us, dead],
            )
            .map_err(self.sql())?;
        Ok(())
    }

    /// The webhook or SIEM rows of `channel` due at `now_us` (all pending ones when `all`, for
    /// a scan that exits), oldest first.
    pub fn due_events(
        &self,
        channel: Channel,
        now_us: i64,
        all: bool,
    ) -> Result<Vec<DueEvent>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT id, incident, severity, change, severity_from, created_us, attempts
                 FROM outbox
                 WHERE channel = ?1 AND state = 'pending' AND (?3 OR next_us <= ?2)
                 ORDER BY created_us, id",
            )
            .and_then(|mut st| {
                st.query_map(params![channel.as_str(), now_us, all], |r| {
                    Ok(DueEvent {
                        id: r.get(0)?,
                        incident: r.get(1)?,
                        severity: r.get(2)?,
                        change: r.get(3)?,
                        severity_from: r.get(4)?,
                        created_us: r.get(5)?,
                        attempts: r.get(6)?,
                    })
                })?
                .collect()
            })
            .map_err(self.sql())
    }

    /// Notes one webhook or SIEM row's attempt: delivered (`Ok`), or failed with the error and
    /// tried again at `next_us`, or dead.
    pub fn mark_event(
        &self,
        id: &str,
        now_us: i64,
        failed: Option<(&str, i64, bool)>,
    ) -> Result<(), StoreError> {
        let r = match failed {
            None => self.tx.execute(
                "UPDATE outbox SET state = 'sent', sent_us = ?2, attempts = attempts + 1,
                     last_error = NULL
                 WHERE id = ?1 AND channel != 'mail' AND state = 'pending'",
                params![id, now_us],
            ),
            Some((error, next_us, dead)) => self.tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_us = ?3,
                     state = CASE WHEN ?4 THEN 'dead' ELSE state END
                 WHERE id = ?1 AND channel != 'mail' AND state = 'pending'",
                params![id, error, next_us, dead],
            ),
        };
        r.map_err(self.sql())?;
        Ok(())
    }

    /// The outbox, oldest first.
    pub fn outbox(&self, filter: OutboxFilter) -> Result<Vec<OutboxRow>, StoreError> {
        let cond = match filter {
            OutboxFilter::All => "1",
            OutboxFilter::Pending => "state = 'pending'",
            OutboxFilter::Failed => "state = 'pending' AND attempts > 0",
            OutboxFilter::Dead => "state = 'dead'",
        };
        let mut st = self
            .tx
            .prepare(&format!(
                "SELECT id, incident, recipient, role, severity, immediate, state, attempts,
                     created_us, next_us, sent_us, mail, last_error, capped, channel, change
                 FROM outbox WHERE {cond} ORDER BY created_us, id"
            ))
            .map_err(self.sql())?;
        st.query_map([], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                incident: r.get(1)?,
                recipient: r.get(2)?,
                role: r.get(3)?,
                severity: r.get(4)?,
                immediate: r.get(5)?,
                state: r.get(6)?,
                attempts: r.get(7)?,
                created_us: r.get(8)?,
                next_us: r.get(9)?,
                sent_us: r.get(10)?,
                mail: r.get(11)?,
                last_error: r.get(12)?,
                capped: r.get(13)?,
                channel: r.get(14)?,
                change: r.get(15)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(self.sql())
    }

    /// Deletes alerts delivered or given up before `before_us`, and those whose incident is
    /// gone (pruned). Returns how many were deleted.
    pub fn prune_outbox(&self, before_us: i64) -> Result<u64, StoreError> {
        let n = self
            .tx
            .execute(
                "DELETE FROM outbox WHERE (state != 'pending' AND created_us < ?1)
                     OR incident NOT IN (SELECT id FROM incidents)",
                [before_us],
            )
            .map_err(self.sql())?;
        Ok(n as u64)
    }

    /// A stored incident by id.
    pub fn incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let body: Option<String> = self
            .tx
            .prepare_cached("SELECT body FROM incidents WHERE id = ?1")
            .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| self.corrupt(decode_error(&e))))
            .transpose()
    }
}
