//! The store's schema, as a list of migrations.

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
    // 3: event identity from the source record, and meeting-level state in the store.
    // - Observations are kept in chunks, one row per meeting per batch, each observation under
    //   its source key (record key + place, 18 bytes) instead of a hash of what the detector
    //   made of it; a later chunk's version of a key wins, and judging a meeting compacts its
    //   chunks. Observations of schema 2 cannot be given their source key (the records are not
    //   kept), so they are dropped: scan the exports again to rebuild meeting state.
    //   Incidents are kept.
    // - `pending`: meetings to judge, in the same transaction as what made them so; `due_at`
    //   (Unix microseconds) is when the clock alone may change the verdict (i64::MIN: now).
    // - `meta`: the store's clock (the latest event time it has seen), the chunk sequence, and
    //   the fingerprint of the settings the observations were made with.
    // - Incidents are the latest judgement of their meeting: `withdrawn` is set when later
    //   evidence no longer gives one; `time_us` orders and filters them; the history says what
    //   each change was and in which run (`meta` counts runs), so that a run can list what it
    //   changed without holding it in memory.
    "DROP TABLE observations;
     CREATE TABLE chunks (
         seq       INTEGER PRIMARY KEY,
         platform  TEXT NOT NULL,
         meeting   TEXT NOT NULL,
         body      BLOB NOT NULL
     );
     CREATE INDEX chunks_meeting ON chunks (platform, meeting, seq);
     CREATE INDEX meeting_aliases_meeting ON meeting_aliases (platform, meeting, alias);
     CREATE TABLE pending (
         platform TEXT NOT NULL,
         meeting  TEXT NOT NULL,
         due_at   INTEGER NOT NULL,
         PRIMARY KEY (platform, meeting)
     ) WITHOUT ROWID;
     CREATE INDEX pending_due ON pending (due_at);
     CREATE TABLE meta (
         key   TEXT PRIMARY KEY,
         value NOT NULL
     ) WITHOUT ROWID;
     ALTER TABLE incidents ADD COLUMN withdrawn TEXT;
     ALTER TABLE incidents ADD COLUMN time_us INTEGER;
     ALTER TABLE incidents ADD COLUMN changed_run INTEGER;
     CREATE INDEX incidents_changed_run ON incidents (changed_run, time_us, id);
     UPDATE incidents SET time_us = CAST(unixepoch(time, 'subsec') * 1000000 AS INTEGER);
     CREATE INDEX incidents_time ON incidents (time_us, id);
     ALTER TABLE incident_history ADD COLUMN change TEXT;
     ALTER TABLE incident_history ADD COLUMN run INTEGER;
     CREATE INDEX incident_history_incident ON incident_history (incident, run);",
    // 4: the service. `files`: each input file the service follows, known by its content (a
    // hash of its head; for whole documents, of all of it), with how far it has been read, in
    // the same transaction as what those bytes produced. `meeting_last`: each judged meeting's
    // latest event time (Unix µs), so that meeting state can be pruned some time after it.
    "CREATE TABLE files (
         id         INTEGER PRIMARY KEY,
         kind       TEXT NOT NULL,
         format     TEXT NOT NULL,
         head_len   INTEGER NOT NULL,
         head_hash  BLOB NOT NULL,
         content    BLOB,
         path       TEXT NOT NULL,
         dev        INTEGER NOT NULL,
         ino        INTEGER NOT NULL,
         offset     INTEGER NOT NULL,
         line       INTEGER NOT NULL,
         skipping   INTEGER NOT NULL,
         records    INTEGER NOT NULL,
         errors     INTEGER NOT NULL,
         done       INTEGER NOT NULL,
         size       INTEGER NOT NULL,
         first_seen INTEGER NOT NULL,
         last_read  INTEGER,
         gone_at    INTEGER
     );
     CREATE INDEX files_head ON files (head_len, head_hash);
     CREATE INDEX files_content ON files (content);
     CREATE TABLE meeting_last (
         platform TEXT NOT NULL,
         meeting  TEXT NOT NULL,
         last_us  INTEGER NOT NULL,
         PRIMARY KEY (platform, meeting)
     ) WITHOUT ROWID;
     CREATE INDEX meeting_last_time ON meeting_last (last_us);",
    // 5: chunk bodies are written in the binary form of `store/codec.rs` instead of JSON (the
    // JSON ones of earlier versions are still read, so nothing is rewritten). No table changes:
    // the version moves so that an earlier motesvakt refuses the file as newer than it knows,
    // instead of failing on the first binary chunk it reads.
    "-- chunk bodies in binary form (store/codec.rs)",
    // 6: the alert outbox, written in the same transaction as the incident it tells of. `id`
    // is stable (incident, severity, recipient); `grp` is the recipient and meeting; `mail` the
    // mail an alert went into (fixed at the first attempt, the Message-ID's left part);
    // `capped`: held back by the hourly cap, to go in one "N more" mail.
    "CREATE TABLE outbox (
         id         TEXT PRIMARY KEY,
         incident   TEXT NOT NULL,
         recipient  TEXT NOT NULL,
         role       TEXT NOT NULL,
         severity   TEXT NOT NULL,
         immediate  INTEGER NOT NULL,
         grp        TEXT NOT NULL,
         state      TEXT NOT NULL,
         attempts   INTEGER NOT NULL,
         created_us INTEGER NOT NULL,
         next_us    INTEGER NOT NULL,
         sent_us    INTEGER,
         mail       TEXT,
         last_error TEXT,
         capped     INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX outbox_state ON outbox (state, immediate, grp);
     CREATE INDEX outbox_mail ON outbox (mail);",
    // 7: the incident workflow. `incident_status`: the current status of an incident someone
    // (or motesvakt, reopening one raised to a higher severity) has changed; no row is `open`.
    // `incident_status_history`: every change, kept. `by_name` and `note` are what people
    // typed, with identity numbers redacted; times are UTC (RFC 3339). Outbox rows may now also
    // be `withdrawn` (the incident was), `superseded` (a higher severity's alert replaced it
    // before it went) or `cancelled` (the incident was marked a false positive); role
    // `escalation` is an IMY case sent to IT security again (once).
    "CREATE TABLE incident_status (
         incident TEXT PRIMARY KEY,
         status   TEXT NOT NULL,
         reason   TEXT,
         by_name  TEXT NOT NULL,
         at       TEXT NOT NULL,
         note     TEXT
     ) WITHOUT ROWID;
     CREATE TABLE incident_status_history (
         incident    TEXT NOT NULL,
         at          TEXT NOT NULL,
         status_from TEXT NOT NULL,
         status_to   TEXT NOT NULL,
         reason      TEXT,
         by_name     TEXT NOT NULL,
         note        TEXT
     );
     CREATE INDEX incident_status_history_incident ON incident_status_history (incident);
     CREATE INDEX outbox_incident ON outbox (incident, state);",
    // 8: alert channels. Each outbox row goes to one `channel` (`mail`, `webhook`,
    // `siem-file`, `syslog`), so that one incident has mail, webhook and SIEM rows, each
    // delivered and retried on its own; rows of schema 6 and 7 are mail. `change` is what happened to the incident (`new`, `raised`, `lowered`,
    // `withdrawn`), `severity_from` its severity before a raise or a lowering.
    "ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'mail';
     ALTER TABLE outbox ADD COLUMN change TEXT NOT NULL DEFAULT 'new';
     ALTER TABLE outbox ADD COLUMN severity_from TEXT;
     CREATE INDEX outbox_channel ON outbox (channel, state, next_us);",
    // 9: live feeds. `inbox`: each verified push body (Zoom, Webex, Pexip), written before the
    // push is answered, unique per source and the platform's key (a redelivery is absorbed);
    // the service reads it in `id` order like a file, its cursor in `meta` (AUTOINCREMENT: an id
    // is never given again after pruning, so none falls behind the cursor); a body is emptied
    // once read. `feeds`: per
    // source, when a push last came and the time of the latest event in one, with counts;
    // `feed_seq`: Pexip's `seq` per node and generation (the sink restarts `seq` at 1): the
    // first and highest seen and how many distinct ones, so the missing are the difference (an
    // event that comes late, out of order, fills its gap).
    "CREATE TABLE inbox (
         id          INTEGER PRIMARY KEY AUTOINCREMENT,
         source      TEXT NOT NULL,
         key         BLOB NOT NULL,
         received_us INTEGER NOT NULL,
         body        BLOB NOT NULL,
         UNIQUE (source, key)
     );
     CREATE INDEX inbox_received ON inbox (received_us);
     CREATE TABLE feeds (
         source        TEXT PRIMARY KEY,
         last_received INTEGER,
         last_event    INTEGER,
         received      INTEGER NOT NULL DEFAULT 0,
         duplicates    INTEGER NOT NULL DEFAULT 0,
         silent_since  INTEGER
     ) WITHOUT ROWID;
     CREATE TABLE feed_seq (
         node        TEXT NOT NULL,
         generation  INTEGER NOT NULL,
         first_seq   INTEGER NOT NULL,
         last_seq    INTEGER NOT NULL,
         seen        INTEGER NOT NULL,
         last_us     INTEGER NOT NULL,
         PRIMARY KEY (node, generation)
     ) WITHOUT ROWID;",
    // 10: the organisation's Teams tenant, learned. `own_tenants`: each tenant (a GUID, lower
    // case) a Teams audit record named as its own `OrganizationId`. `meeting_tenants`: the
    // tenants the store's meetings name users by (Graph authors known by object id and
    // tenant), so that learning a tenant re-judges the meetings it reclassifies.
    "CREATE TABLE own_tenants (
         tenant TEXT PRIMARY KEY
     ) WITHOUT ROWID;
     CREATE TABLE meeting_tenants (
         tenant   TEXT NOT NULL,
         platform TEXT NOT NULL,
         meeting  TEXT NOT NULL,
         PRIMARY KEY (tenant, platform, meeting)
     ) WITHOUT ROWID;
     CREATE INDEX meeting_tenants_meeting ON meeting_tenants (platform, meeting);",
    // 11: incidents numbered in the order they were first recorded (`num`, an explicit
    // INTEGER PRIMARY KEY, so that VACUUM keeps the numbers), and their history filed under
    // that number instead of the text id: a new incident's history rows go at the end of the
    // history's index, where the id, a hash, put them anywhere (with `--db` a long batch scan
    // paid a page-cache miss for most of them once the index outgrew the cache). The rows keep
    // their order (rowid), so an incident's first change in a run is still its lowest row.
    // Columns and indexes are otherwise those of version 10.
    "CREATE TABLE incidents_v11 (
         num             INTEGER PRIMARY KEY,
         id              TEXT NOT NULL UNIQUE,
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
         last_changed    TEXT NOT NULL,
         withdrawn       TEXT,
         time_us         INTEGER,
         changed_run     INTEGER
     );
     INSERT INTO incidents_v11 (num, id, rule, severity, platform, meeting, time, actor,
         profile, routine_file, routine_section, summary, body, first_seen, last_changed,
         withdrawn, time_us, changed_run)
     SELECT rowid, id, rule, severity, platform, meeting, time, actor, profile, routine_file,
         routine_section, summary, body, first_seen, last_changed, withdrawn, time_us,
         changed_run
     FROM incidents ORDER BY rowid;
     CREATE TABLE incident_history_v11 (
         incident_num  INTEGER NOT NULL,
         at            TEXT NOT NULL,
         severity_from TEXT,
         severity_to   TEXT NOT NULL,
         change        TEXT,
         run           INTEGER
     );
     INSERT INTO incident_history_v11 (rowid, incident_num, at, severity_from, severity_to,
         change, run)
     SELECT h.rowid, i.num, h.at, h.severity_from, h.severity_to, h.change, h.run
     FROM incident_history h JOIN incidents_v11 i ON i.id = h.incident ORDER BY h.rowid;
     DROP TABLE incident_history;
     DROP TABLE incidents;
     ALTER TABLE incidents_v11 RENAME TO incidents;
     ALTER TABLE incident_history_v11 RENAME TO incident_history;
     CREATE INDEX incidents_meeting ON incidents (platform, meeting);
     CREATE INDEX incidents_changed_run ON incidents (changed_run, time_us, id);
     CREATE INDEX incidents_time ON incidents (time_us, id);
     CREATE INDEX incident_history_incident ON incident_history (incident_num, run);",
];
