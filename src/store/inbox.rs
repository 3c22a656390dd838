//! The inbox of live feeds: verified push bodies (Zoom, Webex, Pexip), written before the push
//! is answered and read by the service like a file; and the state of each feed (when it was
//! last heard from, how many pushes came, Pexip's `seq` gaps) for `status` and `feed-silent`.

use rusqlite::{OptionalExtension, params};

use super::{StoreError, Tx};

/// One body of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    pub id: i64,
    /// `zoom`, `webex` or `pexip` (a [`crate::sources::Format`] name).
    pub source: String,
    pub received_us: i64,
    pub body: Vec<u8>,
}

/// A feed's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedRow {
    pub source: String,
    /// When a push was last accepted (Unix µs).
    pub last_received: Option<i64>,
    /// The latest event time a push held (Unix µs).
    pub last_event: Option<i64>,
    pub received: u64,
    /// Redeliveries absorbed by the inbox's key.
    pub duplicates: u64,
    /// Events missing now (Pexip `seq` numbers not seen between the first and the highest of
    /// each node and generation).
    pub gaps: u64,
    /// Set while a `feed-silent` incident stands for this feed: since when it was silent.
    pub silent_since: Option<i64>,
}

/// Pexip's `seq` on one node in one generation of its event sink.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeqRow {
    pub node: String,
    pub generation: i64,
    pub last_seq: i64,
    pub missing: u64,
    pub last_us: i64,
}

impl Tx<'_> {
    /// Puts a verified body in the inbox under `(source, key)`. Returns whether it is new (a
    /// redelivery is counted as a duplicate and not stored again). `event_us` is the time of
    /// the event the body holds, when it says.
    pub fn inbox_put(
        &self,
        source: &str,
        key: &[u8],
        body: &[u8],
        now_us: i64,
        event_us: Option<i64>,
    ) -> Result<bool, StoreError> {
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO inbox (source, key, received_us, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source, key) DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![source, key, now_us, body]))
            .map_err(self.sql())?;
        let new = n == 1;
        self.tx
            .prepare_cached(
                "INSERT INTO feeds (source, last_received, last_event, received, duplicates)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source) DO UPDATE SET
                     last_received = excluded.last_received,
                     last_event = max(coalesce(last_event, excluded.last_event),
                                      coalesce(excluded.last_event, last_event)),
                     received = received + excluded.received,
                     duplicates = duplicates + excluded.duplicates",
            )
            .and_then(|mut st| {
                st.execute(params![
                    source,
                    now_us,
                    event_us,
                    i64::from(new),
                    i64::from(!new)
                ])
            })
            .map_err(self.sql())?;
        Ok(new)
    }

    /// Up to `limit` inbox bodies after `after` (an inbox id), in order.
    pub fn inbox_after(&self, after: i64, limit: usize) -> Result<Vec<InboxRow>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT id, source, received_us, body FROM inbox WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(self.sql())?;
        st.query_map(params![after, limit as i64], |r| {
            Ok(InboxRow {
                id: r.get(0)?,
                source: r.get(1)?,
                received_us: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(self.sql())
    }

    /// The highest inbox id (0 when empty).
    pub fn inbox_last(&self) -> Result<i64, StoreError> {
        self.tx
            .query_row("SELECT coalesce(max(id), 0) FROM inbox", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// How many bodies the inbox holds.
    pub fn inbox_len(&self) -> Result<u64, StoreError> {
        self.tx
            .query_row("SELECT count(*) FROM inbox", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// Empties the bodies of inbox rows `(after, upto]` once the service has read them (in the
    /// transaction that holds what they gave): raw pushes may hold identity numbers, which the
    /// store keeps only until they are read; the rows stay, so that their keys go on absorbing
    /// redeliveries.
    pub fn inbox_clear(&self, after: i64, upto: i64) -> Result<u64, StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE inbox SET body = x'' WHERE id > ?1 AND id <= ?2 AND length(body) > 0",
            )
            .and_then(|mut st| st.execute(params![after, upto]))
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// Deletes bodies received before `before_us` that the service has read (`id <= read`):
    /// their keys no longer absorb redeliveries, which no platform makes that late.
    pub fn prune_inbox(&self, before_us: i64, read: i64) -> Result<u64, StoreError> {
        self.tx
            .execute(
                "DELETE FROM inbox WHERE received_us < ?1 AND id <= ?2",
                params![before_us, read],
            )
            .map(|n| n as u64)
            .map_err(self.sql())
    }

    /// Accounts for Pexip event `seq` from `node` (a new one: redeliveries are absorbed
    /// before): a new generation when the sink (re)started (`started`: an `eventsink_started`
    /// event, or `seq` back at 1). Returns how many more are missing than before (a jump).
    pub fn pexip_seq(
        &self,
        node: &str,
        seq: i64,
        started: bool,
        now_us: i64,
    ) -> Result<u64, StoreError> {
        let current: Option<(i64, i64, i64, i64)> = self
            .tx
            .prepare_cached(
                "SELECT generation, first_seq, last_seq, seen FROM feed_seq WHERE node = ?1
                 ORDER BY generation DESC LIMIT 1",
            )
            .and_then(|mut st| {
                st.query_row([node], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()
            })
            .map_err(self.sql())?;
        let missing = |first: i64, last: i64, seen: i64| (last - first + 1 - seen).max(0);
        let (generation, first, last, seen, before) = match current {
            Some((g, first, last, seen)) if !(started || (seq <= 1 && last > 1)) => {
                let (lo, hi) = (first.min(seq), last.max(seq));
                // A seq seen twice (a replay with another time) is not counted twice.
                (
                    g,
                    lo,
                    hi,
                    (seen + 1).min(hi - lo + 1),
                    missing(first, last, seen),
                )
            }
            Some((g, ..)) => (g + 1, seq, seq, 1, 0),
            None => (1, seq, seq, 1, 0),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO feed_seq (node, generation, first_seq, last_seq, seen, last_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (node, generation) DO UPDATE SET
                     first_seq = excluded.first_seq,
                     last_seq = excluded.last_seq,
                     seen = excluded.seen,
                     last_us = excluded.last_us",
            )
            .and_then(|mut st| st.execute(params![node, generation, first, last, seen, now_us]))
            .map_err(self.sql())?;
        Ok((missing(first, last, seen) - before).max(0) as u64)
    }

    /// Every feed heard from (or marked silent), by source.
    pub fn feeds(&self) -> Result<Vec<FeedRow>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT source, last_received, last_event, received, duplicates,
                     CASE source WHEN 'pexip' THEN (
                         SELECT coalesce(sum(max(last_seq - first_seq + 1 - seen, 0)), 0)
                         FROM feed_seq)
                     ELSE 0 END,
                     silent_since
                 FROM feeds ORDER BY source",
            )
            .map_err(self.sql())?;
        st.query_map([], |r| {
            Ok(FeedRow {
                source: r.get(0)?,
                last_received: r.get(1)?,
                last_event: r.get(2)?,
                received: r.get::<_, i64>(3)? as u64,
                duplicates: r.get::<_, i64>(4)? as u64,
                gaps: r.get::<_, i64>(5)? as u64,
                silent_since: r.get(6)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(self.sql())
    }

    /// Pexip's `seq` per node and generation, latest first.
    pub fn feed_seqs(&self) -> Result<Vec<SeqRow>, StoreError> {
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT node, generation, last_seq, max(last_seq - first_seq + 1 - seen, 0),
                     last_us
                 FROM feed_seq ORDER BY node, generation DESC",
            )
            .map_err(self.sql())?;
        st.query_map([], |r| {
            Ok(SeqRow {
                node: r.get(0)?,
                generation: r.get(1)?,
                last_seq: r.get(2)?,
                missing: r.get::<_, i64>(3)? as u64,
                last_us: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .map_err(self.sql())
    }

    /// Records that `source` has been silent since `since` (a `feed-silent` incident stands),
    /// or that it is heard again (`None`).
    pub fn set_feed_silent(&self, source: &str, since: Option<i64>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO feeds (source, silent_since) VALUES (?1, ?2)
                 ON CONFLICT (source) DO UPDATE SET silent_since = excluded.silent_since",
            )
            .and_then(|mut st| st.execute(params![source, since]))
            .map_err(self.sql())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn redeliveries_are_absorbed_and_counted() {
        let store = Store::in_memory().unwrap();
        let tx = store.transaction().unwrap();
        assert!(tx.inbox_put("zoom", b"k1", b"{}", 10, Some(5)).unwrap());
        assert!(!tx.inbox_put("zoom", b"k1", b"{}", 20, None).unwrap());
        assert!(tx.inbox_put("webex", b"k1", b"{}", 30, None).unwrap());
        assert_eq!(tx.inbox_len().unwrap(), 2);
        let feeds = tx.feeds().unwrap();
        assert_eq!(feeds[1].source, "zoom");
        assert_eq!(
            (
                feeds[1].received,
                feeds[1].duplicates,
                feeds[1].last_received,
                feeds[1].last_event
            ),
            (1, 1, Some(20), Some(5))
        );
        let rows = tx.inbox_after(0, 10).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(tx.inbox_after(rows[0].id, 10).unwrap().len(), 1);
        assert_eq!(tx.inbox_clear(0, rows[0].id).unwrap(), 1);
        let rows = tx.inbox_after(0, 10).unwrap();
        assert!(rows[0].body.is_empty() && !rows[1].body.is_empty());
        assert!(
            !tx.inbox_put("zoom", b"k1", b"{}", 21, None).unwrap(),
            "still absorbed"
        );
        assert_eq!(tx.prune_inbox(25, rows[0].id).unwrap(), 1);
        assert_eq!(tx.inbox_len().unwrap(), 1);
    }

    /// The inbox's writer inserts while the engine empties what it has read, each on its own
    /// connection, as in the service: once all is read and the log truncated, no copy of a
    /// raw push is left anywhere in the file (an insert's page split, without secure_delete on
    /// the writer, leaves one in a freed page).
    #[test]
    fn emptied_bodies_leave_no_copy_in_the_file_while_another_connection_inserts() {
        const MARK: &[u8] = b"RAW-PUSH-MARK-";
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inbox.sqlite");
        let writer = Store::open_inbox_writer(&db).unwrap();
        let engine = Store::open(&db).unwrap();
        engine.set_secure_delete().unwrap();
        let mut read = 0;
        for i in 0..600_usize {
            // Bodies from a few bytes to past a page, as pushes are.
            let body = MARK.repeat(1 + (i * 7919) % 400);
            let tx = writer.transaction().unwrap();
            tx.inbox_put("zoom", &i.to_le_bytes(), &body, i as i64, None)
                .unwrap();
            tx.commit().unwrap();
            if i % 17 == 16 {
                let tx = engine.transaction().unwrap();
                let last = tx.inbox_last().unwrap();
                tx.inbox_clear(read, last - 3).unwrap();
                tx.commit().unwrap();
                read = last - 3;
            }
        }
        let tx = engine.transaction().unwrap();
        let last = tx.inbox_last().unwrap();
        tx.inbox_clear(read, last).unwrap();
        tx.commit().unwrap();
        assert!(engine.checkpoint_truncate().unwrap());
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let path = f.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let at = data.windows(MARK.len()).position(|w| w == MARK);
            assert_eq!(at, None, "{}", path.display());
        }
    }

    /// A reader in the middle of a long read keeps the log from being truncated: the
    /// checkpoint says so instead of failing or waiting for it, and completes once it is done.
    #[test]
    fn a_reader_holding_a_snapshot_postpones_the_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("inbox.sqlite");
        let engine = Store::open(&db).unwrap();
        let put = |key: &[u8]| {
            let tx = engine.transaction().unwrap();
            tx.inbox_put("webex", key, b"{}", 1, None).unwrap();
            tx.commit().unwrap();
        };
        put(b"a");
        let reader = Store::open_read_only(&db).unwrap();
        let snapshot = reader.transaction().unwrap();
        assert_eq!(snapshot.inbox_len().unwrap(), 1);
        put(b"b");
        assert!(!engine.checkpoint_truncate().unwrap());
        assert_eq!(snapshot.inbox_len().unwrap(), 1, "the reader's snapshot");
        drop(snapshot);
        assert!(engine.checkpoint_truncate().unwrap());
        assert_eq!(
            std::fs::metadata(dir.path().join("inbox.sqlite-wal"))
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn pexip_seq_gaps_per_node_and_generation() {
        let store = Store::in_memory().unwrap();
        let tx = store.transaction().unwrap();
        tx.inbox_put("pexip", b"a", b"{}", 1, None).unwrap();
        assert_eq!(tx.pexip_seq("n1", 1, true, 1).unwrap(), 0);
        assert_eq!(tx.pexip_seq("n1", 2, false, 2).unwrap(), 0);
        assert_eq!(
            tx.pexip_seq("n1", 5, false, 3).unwrap(),
            2,
            "3 and 4 missing"
        );
        assert_eq!(
            tx.pexip_seq("n1", 3, false, 3).unwrap(),
            0,
            "late: fills one"
        );
        assert_eq!(tx.pexip_seq("n2", 7, false, 3).unwrap(), 0, "first seen");
        let gaps = |tx: &crate::store::Tx<'_>| {
            tx.feeds()
                .unwrap()
                .into_iter()
                .find(|f| f.source == "pexip")
                .unwrap()
                .gaps
        };
        assert_eq!(gaps(&tx), 1);
        // The sink restarted: seq begins again at 1, a new generation.
        assert_eq!(tx.pexip_seq("n1", 1, true, 4).unwrap(), 0);
        assert_eq!(tx.pexip_seq("n1", 3, false, 5).unwrap(), 1);
        let seqs = tx.feed_seqs().unwrap();
        let n1: Vec<_> = seqs
            .iter()
            .filter(|s| s.node == "n1")
            .map(|s| (s.generation, s.last_seq, s.missing))
            .collect();
        assert_eq!(n1, [(2, 3, 1), (1, 5, 1)]);
        assert_eq!(gaps(&tx), 2);
    }
}
