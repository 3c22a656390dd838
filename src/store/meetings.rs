//! Meeting state in the store: observations keyed on their source, the aliases that join a
//! meeting's ids, the meetings pending judgement and the store's clock.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Tx, decode_error};
use crate::event::Platform;
use crate::meeting::{MeetingKey, Observation, SourceKey};

/// A meeting's observations as loaded from the store.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Each event once, under its source key: the latest version written.
    pub observations: Vec<Observation>,
    /// How many chunks the meeting is kept in.
    pub chunks: usize,
    /// Events written more than once (the same record read again).
    pub duplicates: u64,
    /// Of those, events whose later version differs (a configuration changed since).
    pub changed: u64,
}

/// The clock's key in `meta`.
const CLOCK: &str = "clock_us";
/// The last chunk sequence number written.
const SEQ: &str = "chunk_seq";
/// What the kept observations were made with (see [`Tx::fingerprint`]).
const FINGERPRINT: &str = "observation_fingerprint";

/// Meeting times [`Tx::set_meeting_last`] holds before writing them, in key order: few enough
/// that they take a megabyte or two, enough that a run of them changes each page of the
/// table's tree once (measured: on 2 GB of native NDJSON with `--db`, writing each as it came
/// was 15 % of the storing thread's time).
pub(super) const MEETING_LAST_RUN: usize = 16_384;

fn platform(name: &str) -> Option<Platform> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// One entry of a chunk's body: the event's source key in hex, and its observation, or `None`
/// for an event that is no longer worth keeping (a tombstone).
type Entry = (String, Option<Observation>);

impl Tx<'_> {
    /// Appends a chunk of a meeting's events: observations to keep (`Some`) and events to
    /// forget (`None`), each under its source key. Later chunks win over earlier ones.
    pub fn append_chunk(
        &self,
        meeting: &MeetingKey,
        entries: &[(SourceKey, Option<&Observation>)],
    ) -> Result<(), super::StoreError> {
        self.append_encoded(meeting, &encode_chunk(entries))
    }

    /// Appends a chunk already encoded with [`encode_chunk`] (on another thread).
    pub fn append_encoded(
        &self,
        meeting: &MeetingKey,
        body: &[u8],
    ) -> Result<(), super::StoreError> {
        let seq = self.next_seq()?;
        self.tx
            .prepare_cached(
                "INSERT INTO chunks (platform, meeting, seq, body) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut st| {
                st.execute(params![meeting.platform.as_str(), meeting.id, seq, body])
            })
            .map_err(self.sql())?;
        Ok(())
    }

    fn next_seq(&self) -> Result<i64, super::StoreError> {
        let last = match self.seq.get() {
            Some((last, _)) => last,
            None => self
                .tx
                .prepare_cached("SELECT value FROM meta WHERE key = ?1")
                .and_then(|mut st| st.query_row([SEQ], |r| r.get(0)).optional())
                .map_err(self.sql())?
                .unwrap_or(0),
        };
        self.seq.set(Some((last + 1, true)));
        Ok(last + 1)
    }

    /// Writes the chunk sequence back, if chunks were written.
    pub(super) fn write_seq(&self) -> Result<(), super::StoreError> {
        if let Some((last, true)) = self.seq.get() {
            self.tx
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .and_then(|mut st| st.execute(params![SEQ, last]))
                .map_err(self.sql())?;
            self.seq.set(Some((last, false)));
        }
        Ok(())
    }

    /// The chunks of the meeting `key` itself, oldest first, as stored (decode them with
    /// [`decode_chunks`], on any thread).
    pub fn chunk_bodies(&self, key: &MeetingKey) -> Result<Vec<Vec<u8>>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT body FROM chunks WHERE platform = ?1 AND meeting = ?2 ORDER BY seq",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![key.platform.as_str(), key.id], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    /// Every event filed under the meeting `key` itself, each once (the latest version), with
    /// what was repeated.
    pub fn load_meeting(&self, key: &MeetingKey) -> Result<Loaded, super::StoreError> {
        decode_chunks(&self.chunk_bodies(key)?).map_err(|reason| self.corrupt(reason))
    }

    /// Replaces a meeting's chunks by one holding `observations` (after [`Tx::load_meeting`]
    /// found duplicates or many chunks).
    pub fn rewrite_meeting(
        &self,
        key: &MeetingKey,
        observations: &[Observation],
    ) -> Result<(), super::StoreError> {
        let entries: Vec<(SourceKey, Option<&Observation>)> =
            observations.iter().map(|o| (o.key, Some(o))).collect();
        let body = (!entries.is_empty()).then(|| encode_chunk(&entries));
        self.replace_chunks(key, body.as_deref())
    }

    /// Replaces a meeting's chunks by one already encoded, or by none.
    pub fn replace_chunks(
        &self,
        key: &MeetingKey,
        body: Option<&[u8]>,
    ) -> Result<(), super::StoreError> {
        self.replace_chunks_with(key, body.as_slice())
    }

    /// Replaces a meeting's chunks by those already encoded (none: the meeting keeps none).
    pub fn replace_chunks_with(
        &self,
        key: &MeetingKey,
        bodies: &[impl AsRef<[u8]>],
    ) -> Result<(), super::StoreError> {
        self.tx
            .prepare_cached("DELETE FROM chunks WHERE platform = ?1 AND meeting = ?2")
            .and_then(|mut st| st.execute(params![key.platform.as_str(), key.id]))
            .map_err(self.sql())?;
        for b in bodies {
            self.append_encoded(key, b.as_ref())?;
        }
        Ok(())
    }

    /// Whether the store keeps events filed under the meeting `key`.
    pub fn has_meeting_chunks(&self, key: &MeetingKey) -> Result<bool, super::StoreError> {
        self.tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM chunks WHERE platform = ?1 AND meeting = ?2)",
            )
            .and_then(|mut st| st.query_row(params![key.platform.as_str(), key.id], |r| r.get(0)))
            .map_err(self.sql())
    }

    /// Whether the store keeps any meeting state.
    pub fn has_chunks(&self) -> Result<bool, super::StoreError> {
        self.tx
            .query_row("SELECT EXISTS (SELECT 1 FROM chunks)", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// The fingerprint of what the kept observations were made with (adapters' settings, the
    /// detector and its key, the phrase lists, the version), if one was written.
    pub fn fingerprint(&self) -> Result<Option<String>, super::StoreError> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut st| st.query_row([FINGERPRINT], |r| r.get(0)).optional())
            .map_err(self.sql())
    }

    pub fn set_fingerprint(&self, fingerprint: &str) -> Result<(), super::StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut st| st.execute(params![FINGERPRINT, fingerprint]))
            .map_err(self.sql())?;
        Ok(())
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

    /// Whether any meeting has an alias.
    pub fn has_aliases(&self) -> Result<bool, super::StoreError> {
        self.tx
            .query_row("SELECT EXISTS (SELECT 1 FROM meeting_aliases)", [], |r| {
                r.get(0)
            })
            .map_err(self.sql())
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
        self.column(
            "SELECT alias FROM meeting_aliases WHERE platform = ?1 AND meeting = ?2 ORDER BY alias",
            params![key.platform.as_str(), key.id],
        )
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

    /// Whether any meeting waits for judgement (now or on a timer).
    pub fn has_pending(&self) -> Result<bool, super::StoreError> {
        self.tx
            .query_row("SELECT EXISTS (SELECT 1 FROM pending)", [], |r| r.get(0))
            .map_err(self.sql())
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

    /// The earliest time a meeting waits for (Unix µs), if any waits on a timer.
    pub fn next_due(&self) -> Result<Option<i64>, super::StoreError> {
        self.tx
            .query_row(
                "SELECT MIN(due_at) FROM pending WHERE due_at > ?1",
                [i64::MIN],
                |r| r.get(0),
            )
            .map_err(self.sql())
    }

    /// Notes the latest event time of a judged meeting (its own and its aliases' events). The
    /// rows are written in the order of their keys, [`MEETING_LAST_RUN`] at a time, at the
    /// latest at commit, and before anything reads them: keyed by meeting id (a random key),
    /// each row written as it came would change a page of its own, far from the last.
    pub fn set_meeting_last(
        &self,
        key: &MeetingKey,
        last_us: i64,
    ) -> Result<(), super::StoreError> {
        let full = {
            let mut staged = self.meeting_last.borrow_mut();
            staged.push((key.clone(), last_us));
            staged.len() >= MEETING_LAST_RUN
        };
        if full {
            self.write_meeting_last()?;
        }
        Ok(())
    }

    /// Writes the meeting times [`Tx::set_meeting_last`] noted, in key order; of one noted
    /// twice, the later.
    pub(super) fn write_meeting_last(&self) -> Result<(), super::StoreError> {
        let mut staged = std::mem::take(&mut *self.meeting_last.borrow_mut());
        if staged.is_empty() {
            return Ok(());
        }
        // Stable: of equal keys, the one noted last comes last, and is the one written.
        staged.sort_by(|a, b| a.0.cmp(&b.0));
        let mut st = self
            .tx
            .prepare_cached(
                "INSERT INTO meeting_last (platform, meeting, last_us) VALUES (?1, ?2, ?3)
                 ON CONFLICT (platform, meeting) DO UPDATE SET last_us = excluded.last_us",
            )
            .map_err(self.sql())?;
        for (i, (key, last_us)) in staged.iter().enumerate() {
            if staged.get(i + 1).is_some_and(|(next, _)| next == key) {
                continue;
            }
            st.execute(params![key.platform.as_str(), key.id, last_us])
                .map_err(self.sql())?;
        }
        Ok(())
    }

    /// Forgets the state of up to `limit` meetings whose latest event is before `horizon`
    /// (Unix µs) and that wait for no judgement: their events, aliases and the events filed
    /// under those. Their incidents stay. Returns how many were pruned.
    pub fn prune_meetings(&self, horizon: i64, limit: usize) -> Result<u64, super::StoreError> {
        self.write_meeting_last()?;
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT l.platform, l.meeting FROM meeting_last l
                 WHERE l.last_us < ?1 AND NOT EXISTS
                     (SELECT 1 FROM pending p WHERE p.platform = l.platform AND p.meeting = l.meeting)
                 ORDER BY l.last_us LIMIT ?2",
            )
            .map_err(self.sql())?;
        let old: Vec<(String, String)> = st
            .query_map(params![horizon, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        drop(st);
        for (p, meeting) in &old {
            let platform = platform(p).ok_or_else(|| self.corrupt("an unknown platform"))?;
            let key = MeetingKey {
                platform,
                id: meeting.clone(),
            };
            for id in std::iter::once(meeting.clone()).chain(self.aliases(&key)?) {
                self.tx
                    .prepare_cached("DELETE FROM chunks WHERE platform = ?1 AND meeting = ?2")
                    .and_then(|mut st| st.execute(params![p, id]))
                    .map_err(self.sql())?;
            }
            self.tx
                .prepare_cached("DELETE FROM meeting_aliases WHERE platform = ?1 AND meeting = ?2")
                .and_then(|mut st| st.execute(params![p, meeting]))
                .map_err(self.sql())?;
            self.tx
                .prepare_cached("DELETE FROM meeting_last WHERE platform = ?1 AND meeting = ?2")
                .and_then(|mut st| st.execute(params![p, meeting]))
                .map_err(self.sql())?;
            self.tx
                .prepare_cached("DELETE FROM meeting_tenants WHERE platform = ?1 AND meeting = ?2")
                .and_then(|mut st| st.execute(params![p, meeting]))
                .map_err(self.sql())?;
        }
        Ok(old.len() as u64)
    }

    /// The tenants Teams audit records named as their own (the organisation's), sorted.
    pub fn own_tenants(&self) -> Result<Vec<String>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached("SELECT tenant FROM own_tenants ORDER BY tenant")
            .map_err(self.sql())?;
        st.query_map([], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())
    }

    /// Notes `tenant` as one of the organisation's; true when it was not known.
    pub fn add_own_tenant(&self, tenant: &str) -> Result<bool, super::StoreError> {
        let n = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO own_tenants (tenant) VALUES (?1)")
            .and_then(|mut st| st.execute([tenant]))
            .map_err(self.sql())?;
        Ok(n > 0)
    }

    /// Notes that `meeting` names users by `tenant`.
    pub fn add_meeting_tenant(
        &self,
        meeting: &MeetingKey,
        tenant: &str,
    ) -> Result<(), super::StoreError> {
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO meeting_tenants (tenant, platform, meeting)
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut st| st.execute(params![tenant, meeting.platform.as_str(), meeting.id]))
            .map_err(self.sql())?;
        Ok(())
    }

    /// The meetings that name users by `tenant`, in a stable order.
    pub fn meetings_of_tenant(&self, tenant: &str) -> Result<Vec<MeetingKey>, super::StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT platform, meeting FROM meeting_tenants WHERE tenant = ?1
                 ORDER BY platform, meeting",
            )
            .map_err(self.sql())?;
        let rows: Vec<(String, String)> = st
            .query_map([tenant], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        rows.into_iter()
            .map(|(p, id)| {
                let platform = platform(&p).ok_or_else(|| self.corrupt("an unknown platform"))?;
                Ok(MeetingKey { platform, id })
            })
            .collect()
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

/// A chunk's body, in the binary form of [`super::codec`] (the JSON form of earlier versions,
/// an array of `[key in hex, observation or null]`, is still read).
pub fn encode_chunk(entries: &[(SourceKey, Option<&Observation>)]) -> Vec<u8> {
    super::codec::encode(entries)
}

/// The number of entries (observations and tombstones) in a chunk's body, in either form.
pub fn chunk_entries(body: &[u8]) -> Result<usize, String> {
    if super::codec::is_binary(body) {
        return super::codec::decode(body).map(|e| e.len());
    }
    let entries: Vec<Entry> = serde_json::from_slice(body).map_err(|e| decode_error(&e))?;
    Ok(entries.len())
}

/// The entries of one chunk's body, in either form.
fn decode_entries(body: &[u8]) -> Result<Vec<(SourceKey, Option<Observation>)>, String> {
    if super::codec::is_binary(body) {
        return super::codec::decode(body);
    }
    let entries: Vec<Entry> = serde_json::from_slice(body).map_err(|e| decode_error(&e))?;
    entries
        .into_iter()
        .map(|(hex_key, obs)| Ok((parse_key(&hex_key).ok_or("a bad source key")?, obs)))
        .collect()
}

/// A meeting's chunks, oldest first, decoded: each event once, the latest version winning,
/// tombstones removing. Pure, so it runs on any thread. The error says what was wrong without
/// quoting the row.
pub fn decode_chunks(bodies: &[Vec<u8>]) -> Result<Loaded, String> {
    let mut out = Loaded::default();
    let mut latest: HashMap<SourceKey, (usize, Option<Observation>)> = HashMap::new();
    let mut order = 0usize;
    for body in bodies {
        out.chunks += 1;
        for (source, obs) in decode_entries(body)? {
            order += 1;
            if let Some((_, before)) = latest.insert(source, (order, obs)) {
                out.duplicates += 1;
                if before != latest[&source].1 {
                    out.changed += 1;
                }
            }
        }
    }
    let mut kept: Vec<(usize, SourceKey, Observation)> = latest
        .into_iter()
        .filter_map(|(k, (order, obs))| obs.map(|o| (order, k, o)))
        .collect();
    kept.sort_by_key(|(order, _, _)| *order);
    out.observations = kept
        .into_iter()
        .map(|(_, k, mut o)| {
            o.key = k;
            o
        })
        .collect();
    Ok(out)
}

fn parse_key(hex_key: &str) -> Option<SourceKey> {
    if hex_key.len() != 36 || !hex_key.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 18];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex_key[2 * i..2 * i + 2], 16).ok()?;
    }
    SourceKey::from_bytes(&bytes)
}
