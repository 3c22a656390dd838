//! Meeting state in the store: observations keyed on their source, the aliases that join a
//! meeting's ids, the meetings pending judgement and the store's clock.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Tx, decode_error};
use crate::event::Platform;
use crate::meeting::{MeetingKey, Observation, SourceKey};

/// What storing an observation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    /// The event was not known.
    New,
    /// The event was known with another content (the detector or a mapping changed); the
    /// meeting it was filed under before is given, as it must be judged again too.
    Changed { was: MeetingKey },
    /// The event was known, with the same content.
    Same,
}

/// The clock's key in `meta`.
const CLOCK: &str = "clock_us";

fn platform(name: &str) -> Option<Platform> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

impl Tx<'_> {
    /// Keeps an observation under its source key, replacing what was kept under that key.
    pub fn put_observation(&self, obs: &Observation) -> Result<Put, super::StoreError> {
        let key = obs.key.to_bytes();
        let body = serde_json::to_string(obs).map_err(|e| self.corrupt(decode_error(&e)))?;
        let platform = obs.event.platform.as_str();
        let time = obs.event.time.as_microsecond();
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO observations (key, platform, meeting, time_us, body)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![key, platform, obs.event.meeting, time, body]))
            .map_err(self.sql())?;
        if inserted == 1 {
            return Ok(Put::New);
        }
        let old: (String, String, String) = self
            .tx
            .prepare_cached("SELECT platform, meeting, body FROM observations WHERE key = ?1")
            .and_then(|mut st| st.query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(self.sql())?;
        if old.2 == body {
            return Ok(Put::Same);
        }
        self.tx
            .prepare_cached(
                "UPDATE observations SET platform = ?2, meeting = ?3, time_us = ?4, body = ?5
                 WHERE key = ?1",
            )
            .and_then(|mut st| st.execute(params![key, platform, obs.event.meeting, time, body]))
            .map_err(self.sql())?;
        let was = MeetingKey {
            platform: platform_or(&old.0, obs.event.platform),
            id: old.1,
        };
        Ok(Put::Changed { was })
    }

    /// Forgets the observation kept under `key`, if any (an event that is no longer worth
    /// keeping under the current configuration). Returns the meeting it was filed under.
    pub fn remove_observation(
        &self,
        key: SourceKey,
    ) -> Result<Option<MeetingKey>, super::StoreError> {
        let old: Option<(String, String)> = self
            .tx
            .prepare_cached("DELETE FROM observations WHERE key = ?1 RETURNING platform, meeting")
            .and_then(|mut st| {
                st.query_row([key.to_bytes()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(self.sql())?;
        Ok(old.and_then(|(p, id)| {
            Some(MeetingKey {
                platform: platform(&p)?,
                id,
            })
        }))
    }

    /// Records that `alias` is another id of `meeting` on the same platform. When two meetings
    /// claim one alias, the smaller meeting id keeps it, whichever came first. Returns the
    /// meetings whose judgement this changes (empty when nothing changed).
    pub fn add_alias(
        &self,
        meeting: &MeetingKey,
        alias: &str,
    ) -> Result<Vec<MeetingKey>, super::StoreError> {
        if alias == meeting.id {
            return Ok(Vec::new());
        }
        let p = meeting.platform.as_str();
        let before: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT meeting FROM meeting_aliases WHERE platform = ?1 AND alias = ?2",
            )
            .and_then(|mut st| st.query_row(params![p, alias], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        let key = |id: &str| MeetingKey {
            platform: meeting.platform,
            id: id.to_string(),
        };
        match before {
            Some(b) if b.as_str() <= meeting.id.as_str() => Ok(Vec::new()),
            before => {
                self.tx
                    .prepare_cached(
                        "INSERT INTO meeting_aliases (platform, alias, meeting) VALUES (?1, ?2, ?3)
                         ON CONFLICT (platform, alias) DO UPDATE SET meeting = excluded.meeting",
                    )
                    .and_then(|mut st| st.execute(params![p, alias, meeting.id]))
                    .map_err(self.sql())?;
                let mut changed = vec![key(&meeting.id), key(alias)];
                changed.extend(before.as_deref().map(key));
                Ok(changed)
            }
        }
    }

    /// The meeting `key` is an alias of, or `key` itself.
    pub fn canonical(&self, key: &MeetingKey) -> Result<MeetingKey, super::StoreError> {
        let meeting: Option<String> = self
            .tx
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

    /// The other ids of a meeting, sorted.
    pub fn aliases(&self, key: &MeetingKey) -> Result<Vec<String>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT alias FROM meeting_aliases WHERE platform = ?1 AND meeting = ?2 ORDER BY alias",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![key.platform.as_str(), key.id], |r| r.get(0))
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Every observation filed under the meeting `key` itself.
    pub fn observations_of(&self, key: &MeetingKey) -> Result<Vec<Observation>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT key, body FROM observations WHERE platform = ?1 AND meeting = ?2",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![key.platform.as_str(), key.id], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (k, body) = row.map_err(self.sql())?;
            let mut obs: Observation =
                serde_json::from_str(&body).map_err(|e| self.corrupt(decode_error(&e)))?;
            obs.key = SourceKey::from_bytes(&k).ok_or_else(|| self.corrupt("a bad source key"))?;
            out.push(obs);
        }
        Ok(out)
    }

    /// Marks a meeting to be judged once the clock is past `due_at` (Unix µs;
    /// `i64::MIN`: at the next settling). An earlier due time wins over a later one.
    pub fn mark_pending(&self, key: &MeetingKey, due_at: i64) -> Result<(), super::StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO pending (platform, meeting, due_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (platform, meeting) DO UPDATE SET due_at = MIN(due_at, excluded.due_at)",
            )
            .and_then(|mut st| st.execute(params![key.platform.as_str(), key.id, due_at]))
            .map_err(self.sql())?;
        Ok(())
    }

    /// Sets when a meeting is next due (replacing what was set), or clears it with `None`.
    pub fn set_due(&self, key: &MeetingKey, due_at: Option<i64>) -> Result<(), super::StoreError> {
        match due_at {
            Some(due) => self
                .tx
                .prepare_cached(
                    "INSERT INTO pending (platform, meeting, due_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (platform, meeting) DO UPDATE SET due_at = excluded.due_at",
                )
                .and_then(|mut st| st.execute(params![key.platform.as_str(), key.id, due])),
            None => self
                .tx
                .prepare_cached("DELETE FROM pending WHERE platform = ?1 AND meeting = ?2")
                .and_then(|mut st| st.execute(params![key.platform.as_str(), key.id])),
        }
        .map_err(self.sql())?;
        Ok(())
    }

    /// Up to `limit` meetings due at `clock` (Unix µs): due before it. In a stable order.
    pub fn due(&self, clock: i64, limit: usize) -> Result<Vec<MeetingKey>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT platform, meeting FROM pending WHERE due_at < ?1
                 ORDER BY platform, meeting LIMIT ?2",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![clock, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            let (p, id) = row.map_err(self.sql())?;
            let platform = platform(&p).ok_or_else(|| self.corrupt("an unknown platform"))?;
            out.push(MeetingKey { platform, id });
        }
        Ok(out)
    }

    /// How many meetings wait for judgement: now, and later (on a timer).
    pub fn pending_counts(&self, clock: i64) -> Result<(u64, u64), super::StoreError> {
        self.tx
            .query_row(
                "SELECT COALESCE(SUM(due_at < ?1), 0), COALESCE(SUM(due_at >= ?1), 0) FROM pending",
                [clock],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(self.sql())
    }

    /// The store's clock: the latest event time it has seen.
    pub fn clock(&self) -> Result<Option<Timestamp>, super::StoreError> {
        let us: Option<i64> = self
            .tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut st| st.query_row([CLOCK], |r| r.get(0)).optional())
            .map_err(self.sql())?;
        Ok(us.and_then(|us| Timestamp::from_microsecond(us).ok()))
    }

    /// Moves the store's clock to `t` if that is later.
    pub fn advance_clock(&self, t: Timestamp) -> Result<(), super::StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)",
            )
            .and_then(|mut st| st.execute(params![CLOCK, t.as_microsecond()]))
            .map_err(self.sql())?;
        Ok(())
    }
}

fn platform_or(name: &str, or: Platform) -> Platform {
    platform(name).unwrap_or(or)
}
