//! The one pipeline behind every driver: records with their positions go into a store
//! transaction, and pending meetings are settled at a given clock.
//!
//! ```text
//! Record ──observe──▶ observations, aliases, pending meetings, the clock   (one Tx)
//!                     pending meetings due at the clock ──settle──▶ incidents (another Tx)
//! ```
//!
//! [`Pipeline::observe`] turns a record's events into observations (the detector reads their
//! texts here, and only here) and stores them under their source key, with the meetings they
//! touch marked pending in the same transaction. [`Pipeline::settle`] judges the pending
//! meetings whose time has come, each as a whole with its aliases, and makes the store's
//! incidents of that meeting its latest judgement: new, raised, lowered, or withdrawn. A
//! meeting that could still change with the clock alone (one not ended within its timeout)
//! stays pending with its due time.
//!
//! Because meeting state, pending meetings and the clock live in the store, and a meeting's
//! judgement depends only on the set of its observations and the clock, the incidents are the
//! same however the records are cut into batches, files, runs or restarts: `scan` and the
//! service are two drivers of this module and cannot disagree. A run killed between two
//! commits leaves its pending meetings in the store, and the next run settles them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sha2::Digest;

use crate::config::Config;
use crate::detect::Detector;
use crate::event::EventKind;
use crate::incident::{Incident, Outcome};
use crate::ingest::IngestError;
use crate::meeting::{
    AsMeetingKey, FastMap, FastSet, MeetingKey, MeetingView, Observation, SourceKey,
};
use crate::rules::Judge;
use crate::sources::{Item, Record};
use crate::store::{Store, StoreError, Tx};

use seen::HashSet64;

/// `due_at` for a meeting to judge at the next settling.
const DUE_NOW: i64 = i64::MIN;

/// Per-format counts of what adapters emitted: items (an event, an unmapped record, a
/// rejected record; one record may give several events), and what was not mapped, by label.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FormatCounts {
    /// Records read (not events: a record that gave two events is one record); always
    /// `mapped + unmapped + rejected`.
    pub read: u64,
    /// Records that gave at least one event.
    pub mapped: u64,
    /// Records read without an event and without an unreadable part.
    pub unmapped: u64,
    /// Records (without an event) of which something could not be read.
    pub rejected: u64,
    /// Fields of mapped records that no mapping reads (Teams audit details Microsoft added
    /// without a field list, for example).
    pub unmapped_fields: u64,
    /// How often each kind of unmapped record or field was seen (`operation X`, `event Y`,
    /// `MeetingParticipantDetail.Z`); labels never hold free text.
    pub labels: BTreeMap<String, u64>,
    /// Tenants Teams records named while `tenant_ids` is not set: for each, how many records
    /// named it as their own (`OrganizationId` of an audit record) and how many named it at
    /// all. At most [`MAX_LABELS`] tenants.
    pub tenants: BTreeMap<String, (u64, u64)>,
}

/// At most this many distinct labels are counted per format; the rest are counted as `other`.
const MAX_LABELS: usize = 200;

impl FormatCounts {
    fn label(&mut self, label: String, n: u64) {
        let key = if self.labels.len() < MAX_LABELS || self.labels.contains_key(&label) {
            label
        } else {
            "other".to_string()
        };
        *self.labels.entry(key).or_default() += n;
    }

    /// Adds another file's counts.
    pub fn add(&mut self, other: FormatCounts) {
        self.read += other.read;
        self.mapped += other.mapped;
        self.unmapped += other.unmapped;
        self.rejected += other.rejected;
        self.unmapped_fields += other.unmapped_fields;
        for (label, n) in other.labels {
            self.label(label, n);
        }
        for (id, (own, named)) in other.tenants {
            self.tenant(id, own, named);
        }
    }

    fn tenant(&mut self, id: String, own: u64, named: u64) {
        if self.tenants.len() < MAX_LABELS || self.tenants.contains_key(&id) {
            let t = self.tenants.entry(id).or_default();
            t.0 += own;
            t.1 += named;
        }
    }
}

/// A problem with the input that did not stop the run; shown to the operator.
#[derive(Debug)]
pub enum Diagnostic {
    /// `FILE:LINE: reason`.
    Record {
        file: PathBuf,
        line: u64,
        reason: String,
    },
    /// A file or folder that could not be read.
    Path(IngestError),
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diagnostic::Record { file, line, reason } => {
                write!(f, "{}:{line}: {reason}", file.display())
            }
            Diagnostic::Path(e) => write!(f, "{e}"),
        }
    }
}

/// What observing did, for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ObserveStats {
    /// Events read.
    pub events: u64,
    /// Events already known with the same content (the same record read again).
    pub duplicates: u64,
    /// Events known with another content: the detector or a mapping changed since.
    pub changed: u64,
    /// Events refused as too late: older than the horizon, for a meeting whose state the store
    /// no longer keeps (see [`Pipeline::set_horizon`]).
    pub too_late: u64,
}

/// An incident and what recording it did.
#[derive(Debug, Clone)]
pub struct Reported {
    pub incident: Incident,
    pub outcome: Outcome,
}

/// What settling did.
#[derive(Debug, Default)]
pub struct Settled {
    /// Every change to the store's incidents: new, raised, lowered, withdrawn.
    pub reported: Vec<Reported>,
    /// Meetings judged.
    pub meetings: u64,
    /// Incidents judged again with nothing new to say.
    pub known: u64,
    /// Events kept more than once (the same record read again), found while loading.
    pub duplicates: u64,
    /// Of those, events whose later version differs: the settings changed since.
    pub changed: u64,
    /// Candidates not raised because an `[[exceptions]]` entry covers them.
    pub excepted: u64,
    /// More meetings are due: settle again.
    pub more: bool,
}

/// A meeting's events in a batch, each under its source key: the observation to keep, or
/// `None` to forget one kept earlier under another configuration.
pub type Entries = Vec<(SourceKey, Option<Observation>)>;

/// What records became before they are stored: observations grouped by the meeting their
/// source filed them under, aliases learnt, and what there is to tell the operator. Built by
/// an [`Observer`] (on any thread), written by [`Pipeline::store`].
#[derive(Debug, Default)]
pub struct Batch {
    /// Per meeting, each event under its source key: the observation to keep, or `None` to
    /// forget one kept earlier under another configuration.
    pub meetings: FastMap<MeetingKey, Entries>,
    /// `(meeting, alias)` pairs from `meeting_started`.
    pub aliases: Vec<(MeetingKey, String)>,
    /// Problems with the input, in the order of the records.
    pub diagnostics: Vec<Diagnostic>,
    /// The latest event time.
    pub latest: Option<Timestamp>,
    /// Records taken.
    pub records: u64,
    pub stats: ObserveStats,
    /// Tenants Teams audit records named as their own (`OrganizationId`), to learn.
    pub own_tenants: BTreeSet<String>,
    /// Per meeting, the tenants its kept events name actors by
    /// ([`crate::event::Actor::tenant`]).
    pub meeting_tenants: FastMap<MeetingKey, BTreeSet<String>>,
}

impl Batch {
    /// Adds another batch (of records that came after this one's).
    pub fn append(&mut self, other: Batch) {
        use std::collections::hash_map::Entry;
        for (k, v) in other.meetings {
            // A meeting new to this batch takes the other's entries as they are (no copy).
            match self.meetings.entry(k) {
                Entry::Occupied(mut e) => e.get_mut().extend(v),
                Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
        self.own_tenants.extend(other.own_tenants);
        for (k, v) in other.meeting_tenants {
            self.meeting_tenants.entry(k).or_default().extend(v);
        }
        self.aliases.extend(other.aliases);
        self.diagnostics.extend(other.diagnostics);
        self.latest = self.latest.max(other.latest);
        self.records += other.records;
        self.stats.events += other.stats.events;
        self.stats.duplicates += other.stats.duplicates;
        self.stats.changed += other.stats.changed;
    }
}

/// Turns records into observations: the adapters' events read by the detector. Holds no state
/// between records, so it runs on any number of threads.
pub struct Observer<'a> {
    config: &'a Config,
    detector: &'a Detector,
    /// Whether an event that is not worth keeping must still be written (as a tombstone):
    /// when the store's observations were made under other settings, so that one kept then
    /// may need forgetting now.
    tombstones: bool,
}

impl<'a> Observer<'a> {
    pub fn new(config: &'a Config, detector: &'a Detector, tombstones: bool) -> Observer<'a> {
        Observer {
            config,
            detector,
            tombstones,
        }
    }

    /// Takes one record into `batch`: its events become observations under their source keys,
    /// what was not mapped is counted in `counts`, and bad records are noted with file and
    /// line.
    pub fn observe(
        &self,
        file: &Path,
        record: Record<'_>,
        counts: &mut FormatCounts,
        batch: &mut Batch,
    ) {
        batch.records += 1;
        let mut event_index: u16 = 0;
        // Hashed only when an event of the record is kept (or may have been, earlier).
        let mut record_key = None;
        let Record {
            pos,
            identity,
            items,
            mut chat_text,
        } = record;
        // A record counts once, whatever number of events it gave: mapped when it gave an
        // event, else rejected when a part of it could not be read, else unmapped. So read =
        // mapped + unmapped + rejected, in records.
        let (mut mapped, mut rejected) = (false, false);
        for item in items {
            match item {
                Item::Event(event) => {
                    mapped = true;
                    batch.stats.events += 1;
                    let index = event_index;
                    event_index = event_index.saturating_add(1);
                    batch.latest = batch.latest.max(Some(event.time));
                    let obs = Observation::from_event_lent(
                        SourceKey::default(),
                        *event,
                        chat_text.take(),
                        self.detector,
                        &self.config.signals,
                    );
                    let keep = obs.worth_keeping();
                    if !keep && !self.tombstones {
                        continue;
                    }
                    let record = *record_key.get_or_insert_with(|| identity.key());
                    let key = SourceKey::new(record, index);
                    // Looked up by a borrowed key: an owned one is made only for a meeting
                    // new to the batch.
                    let meeting = obs.meeting_key_ref();
                    let lookup: &dyn AsMeetingKey = &meeting;
                    if keep {
                        for t in obs.event.actors().filter_map(|a| a.tenant.as_ref()) {
                            match batch.meeting_tenants.get_mut(lookup) {
                                Some(known) => {
                                    if !known.contains(t) {
                                        known.insert(t.clone());
                                    }
                                }
                                None => {
                                    batch.meeting_tenants.insert(
                                        meeting.to_owned_key(),
                                        BTreeSet::from([t.clone()]),
                                    );
                                }
                            }
                        }
                    }
                    if let EventKind::MeetingStarted { aliases, .. } = &obs.event.kind {
                        for alias in aliases {
                            batch.aliases.push((meeting.to_owned_key(), alias.clone()));
                        }
                    }
                    let entries = match batch.meetings.get_mut(lookup) {
                        Some(entries) => entries,
                        None => batch.meetings.entry(meeting.to_owned_key()).or_default(),
                    };
                    entries.push((key, keep.then_some(obs)));
                }
                Item::Unmapped(label) => counts.label(label, 1),
                Item::UnmappedField(field) => {
                    counts.unmapped_fields += 1;
                    counts.label(format!("field {field}"), 1);
                }
                Item::Tenant { id, own } => {
                    if own && !batch.own_tenants.contains(&id) {
                        batch.own_tenants.insert(id.clone());
                    }
                    counts.tenant(id, u64::from(own), 1);
                }
                Item::Rejected(reason) => {
                    rejected = true;
                    batch.diagnostics.push(Diagnostic::Record {
                        file: file.to_path_buf(),
                        line: pos.line,
                        reason,
                    });
                }
            }
        }
        counts.read += 1;
        if mapped {
            counts.mapped += 1;
        } else if rejected {
            counts.rejected += 1;
        } else {
            counts.unmapped += 1;
        }
    }
}

/// The pipeline: the configuration, the detector and the judge, and the batch being built.
pub struct Pipeline<'a> {
    config: &'a Config,
    detector: &'a Detector,
    judge: Judge<'a>,
    observer: Observer<'a>,
    fingerprint: String,
    /// The batch [`Pipeline::observe`] adds to.
    batch: Batch,
    /// Whether the store held incidents before this pipeline judged anything: when not, a
    /// meeting judged for the first time in this run has no incidents to look up.
    store_had_incidents: bool,
    /// Threads for judging.
    threads: usize,
    /// Whether [`Settled::reported`] lists the changes (the scan reads them from the store at
    /// the end instead, so that a meeting with thousands of incidents is not held twice).
    list_changes: bool,
    /// What this pipeline judged, so that a meeting or incident judged twice in a run (early,
    /// then again when more of it came) is counted once.
    run: RunTally,
    /// The number of this run in the store: its changes to incidents are kept under it.
    run_id: i64,
    /// Meetings whose events were all stored in this run, kept in memory until judged.
    cache: FastMap<MeetingKey, CacheEntry>,
    /// Hashes of the meetings stored in this run and no longer in the cache.
    released: HashSet64,
    /// Whether the store held meeting state when the pipeline started.
    store_had_chunks: bool,
    /// Whether meetings in the cache are written to the store only when they leave it: in a
    /// store for this run only ([`Store::is_ephemeral`]), where no crash can lose them. Not in
    /// a database file, even one a batch scan writes: a killed scan's meetings are there, so
    /// the next run of any input completes them.
    defer: bool,
    /// Whether a meeting held in memory and written is marked pending only when the
    /// transaction it was stored in is committed ([`Pipeline::mark_held`]) rather than with
    /// each batch: one judged before that commit then needs no mark at all (see
    /// [`Pipeline::set_marks_at_commit`]).
    marks_at_commit: bool,
    /// Whether the store held meetings pending judgement when the pipeline started (or the
    /// run, [`Pipeline::next_run`]): when not, a meeting this run never marked has no mark to
    /// clear.
    store_had_pending: bool,
    /// Every input has been read ([`Pipeline::finish`]): in a store for this run only, a
    /// meeting judged from memory then need not be written, as nothing more can come of it.
    input_done: bool,
    /// Whether the store holds aliases (`None`: not asked yet). See
    /// [`Pipeline::may_have_aliases`].
    aliases: std::cell::Cell<Option<bool>>,
    /// Batches stored.
    batches: u64,
    /// Hashes of the meetings this pipeline wrote incidents for (a false match only costs a
    /// lookup).
    wrote_for: HashSet64,
    /// Events older than this, of a meeting the store keeps nothing of, are refused.
    horizon: Option<Timestamp>,
    pub stats: ObserveStats,
    /// The organisation's tenants learned from Teams audit records (the store's, and those this
    /// pipeline added), when learning is on (`tenant_ids` not set, `learn_tenant` not false).
    learned: BTreeSet<String>,
    /// Who is alerted of news (new or raised incidents), written to the outbox in the same
    /// transaction as the incident; `None`: no alerts.
    alerts: Option<std::sync::Arc<crate::alert::Router>>,
}

impl<'a> Pipeline<'a> {
    /// A pipeline over `store`: it looks once at what the store holds (whether its observations
    /// were made under the same settings).
    pub fn new(
        config: &'a Config,
        detector: &'a Detector,
        store: &Store,
    ) -> Result<Pipeline<'a>, StoreError> {
        let fingerprint = fingerprint(config, detector);
        let tx = store.transaction()?;
        let store_had_chunks = tx.has_chunks()?;
        let tombstones = store_had_chunks && tx.fingerprint()?.as_deref() != Some(&fingerprint);
        let store_had_incidents = tx.has_incidents()?;
        let store_had_pending = tx.has_pending()?;
        let run_id = tx.start_run()?;
        let learned: BTreeSet<String> = if Self::learns(config) {
            tx.own_tenants()?.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        tx.commit()?;
        let mut judge = Judge::new(config, detector.min_confidence());
        judge.learn_tenants(&learned.iter().collect::<Vec<_>>());
        Ok(Pipeline {
            config,
            detector,
            judge,
            learned,
            observer: Observer::new(config, detector, tombstones),
            fingerprint,
            batch: Batch::default(),
            store_had_incidents,
            wrote_for: HashSet64::default(),
            threads: 1,
            list_changes: true,
            run: RunTally::default(),
            run_id,
            cache: FastMap::default(),
            released: HashSet64::default(),
            store_had_chunks,
            defer: store.is_ephemeral(),
            marks_at_commit: false,
            store_had_pending,
            input_done: false,
            aliases: std::cell::Cell::new(None),
            batches: 0,
            horizon: None,
            stats: ObserveStats::default(),
            alerts: None,
        })
    }

    /// Whether the organisation's tenant is learned from the Teams audit records: `tenant_ids`
    /// is not set and `learn_tenant` is not false.
    fn learns(config: &Config) -> bool {
        config.sources.tenant_ids.is_empty() && config.learn_tenant
    }

    /// The organisation's tenants learned from the store's Teams audit records (none when
    /// `tenant_ids` is set or `learn_tenant = false`).
    pub fn learned_tenants(&self) -> impl Iterator<Item = &str> {
        self.learned.iter().map(String::as_str)
    }

    /// Alerts of news go to the outbox through `router` (`None`: no alerts).
    pub fn set_alerts(&mut self, router: Option<std::sync::Arc<crate::alert::Router>>) {
        self.alerts = router;
    }

    /// Refuses events older than `horizon` for meetings the store keeps no state of: the
    /// service prunes meeting state some time after a meeting's last event, and a late record
    /// of a pruned meeting must not have it judged on that record alone (which could withdraw
    /// its incidents). `None` (the default, and `scan`) refuses nothing.
    pub fn set_horizon(&mut self, horizon: Option<Timestamp>) {
        self.horizon = horizon;
    }

    /// Starts a new run in `tx` for what follows: the run's tallies (what was judged, counted
    /// once per run) start again, so that a pipeline that lives for days (the service) does not
    /// grow with what it has judged. Call between batches, with nothing left to settle.
    pub fn next_run(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        self.run = RunTally::default();
        self.released.clear();
        self.wrote_for.clear();
        self.store_had_chunks = self.store_had_chunks || tx.has_chunks()?;
        self.store_had_incidents = self.store_had_incidents || tx.has_incidents()?;
        self.store_had_pending = self.store_had_pending || tx.has_pending()?;
        self.run_id = tx.start_run()?;
        Ok(())
    }

    /// Stores the current batch in `tx` without committing: the caller commits it together
    /// with what goes with it (the service: the file offsets and the judgements; the scan:
    /// the judgements of the meetings gone cold), so that they become durable together.
    pub fn store_batch(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut self.batch);
        self.store(tx, batch)
    }

    /// Candidates excepted by configuration, at each meeting's latest judgement in this run.
    pub fn excepted(&self) -> u64 {
        self.run.excepted.values().sum()
    }

    /// Whether events not worth keeping are written as tombstones (the store's observations
    /// were made under other settings).
    pub fn writes_tombstones(&self) -> bool {
        self.observer.tombstones
    }

    /// The number of this run in the store ([`crate::store::Store::run_changes`]).
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Whether settling lists every change in [`Settled::reported`] (the default), or only
    /// counts them.
    pub fn set_list_changes(&mut self, list: bool) {
        self.list_changes = list;
    }

    /// Marks the meetings held in memory pending only at commit, and writes the events of one
    /// first stored since the last commit only then: the caller calls [`Pipeline::mark_held`]
    /// in every transaction before committing it (the batch scan). A meeting stored and judged
    /// in the same transaction is never marked, its mark never deleted, and its events are
    /// written once, as judging leaves them (not a chunk a batch, deleted and written again);
    /// what a commit makes durable still holds the events of every meeting stored and names
    /// every meeting left to judge.
    pub fn set_marks_at_commit(&mut self, at_commit: bool) {
        self.marks_at_commit = at_commit;
    }

    /// With [`Pipeline::set_marks_at_commit`], writes the events of every meeting held in
    /// memory only and marks pending every meeting held in memory that is not marked yet: call
    /// in each transaction just before committing it.
    pub fn mark_held(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        if self.marks_at_commit {
            self.mark_unwritten(tx)?;
        }
        Ok(())
    }

    /// Judges on up to `threads` threads (1 by default).
    pub fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    /// An observer like the pipeline's, for building batches on other threads while the
    /// pipeline stores.
    pub fn observer_handle(&self) -> Observer<'a> {
        Observer::new(self.config, self.detector, self.observer.tombstones)
    }

    /// Adds a batch built by another observer to the current one.
    pub fn add(&mut self, batch: Batch) {
        self.batch.append(batch);
    }

    /// Takes one record into the current batch (see [`Observer::observe`]); diagnostics go to
    /// `diagnostic` at once. [`Pipeline::commit`] stores the batch.
    pub fn observe(
        &mut self,
        file: &Path,
        record: Record<'_>,
        counts: &mut FormatCounts,
        diagnostic: &mut dyn FnMut(Diagnostic),
    ) {
        self.observer.observe(file, record, counts, &mut self.batch);
        for d in self.batch.diagnostics.drain(..) {
            diagnostic(d);
        }
    }

    /// Records taken into the current batch.
    pub fn batch_records(&self) -> u64 {
        self.batch.records
    }

    /// Writes a batch into `tx`: one chunk per meeting, the aliases, the meetings pending, the
    /// clock. Diagnostics are the caller's (they are not stored).
    pub fn store(&mut self, tx: &Tx<'_>, batch: Batch) -> Result<(), StoreError> {
        let mut marked: FastSet<MeetingKey> = FastSet::default();
        let mut meetings: Vec<(MeetingKey, Entries)> = batch.meetings.into_iter().collect();
        // A stable order, so that a batch writes the same rows whatever the hash order.
        meetings.sort_by(|a, b| a.0.cmp(&b.0));
        self.batches += 1;
        for (meeting, entries) in &mut meetings {
            bound_chat_entries(entries, self.observer.tombstones);
            if let Some(horizon) = self.horizon
                && entries
                    .iter()
                    .any(|(_, o)| o.as_ref().is_some_and(|o| o.event.time < horizon))
                && !self.cache.contains_key(meeting)
                && !tx.has_meeting_chunks(meeting)?
                && !tx.has_meeting_chunks(&tx.canonical(meeting)?)?
            {
                let before = entries.len();
                entries.retain(|(_, o)| o.as_ref().is_none_or(|o| o.event.time >= horizon));
                self.stats.too_late += (before - entries.len()) as u64;
                if entries.is_empty() {
                    continue;
                }
            }
            // Kept in memory too, for judging without reading back, if the store has nothing
            // else of the meeting.
            let cacheable =
                self.cache.contains_key(meeting) || !self.may_have_chunks(tx, meeting)?;
            // In a store for this run only, a meeting in memory is written when it leaves
            // memory ([`Pipeline::evict`]), not with every batch; with
            // [`Pipeline::set_marks_at_commit`], one first stored since the last commit is
            // written when it leaves memory or at the next commit, whichever comes first
            // ([`Pipeline::mark_held`]).
            let defer = cacheable
                && (self.defer || self.marks_at_commit)
                && self.cache.get(meeting).is_none_or(|c| c.unwritten);
            if !defer {
                let refs: Vec<(SourceKey, Option<&Observation>)> =
                    entries.iter().map(|(k, o)| (*k, o.as_ref())).collect();
                tx.append_chunk(meeting, &refs)?;
            }
            if cacheable {
                let c = self.cache.entry(meeting.clone()).or_default();
                c.batch = self.batches;
                if defer {
                    c.unwritten = true;
                } else {
                    c.chunks += 1;
                }
                // Moved out of the batch whole (nothing reads its entries after this), into
                // room made once.
                let entries = std::mem::take(entries);
                c.observations.reserve(entries.len());
                c.observations
                    .extend(entries.into_iter().filter_map(|(k, o)| {
                        o.map(|mut o| {
                            o.key = k;
                            o
                        })
                    }));
                // Each batch kept no more of a long chat than the meeting needs; of many
                // batches, keep no more than that of them all either.
                if c.observations.len() >= 2 * c.bounded_at + BOUND_CACHE_AT {
                    c.bound_chat();
                }
            }
            // Judged again whenever its events are read, so that a changed configuration
            // (profiles, rules, exceptions) is applied to it. A meeting held in memory only is
            // pending by being there: it is marked in the store when it is written
            // ([`Pipeline::evict`]) or when settling starts, so that a batch costs no write for
            // it (most are judged from memory, and the mark would only be deleted again).
            // One in memory marked already keeps its mark until it is judged (which takes it
            // out of memory): marking it again would only write the same row. With
            // [`Pipeline::set_marks_at_commit`], one in memory is marked at commit.
            if marked.insert(meeting.clone())
                && !self
                    .cache
                    .get(meeting)
                    .is_some_and(|c| c.marked || c.held_unmarked(self.marks_at_commit))
            {
                self.mark(tx, meeting)?;
            }
        }
        if !batch.aliases.is_empty() {
            self.aliases.set(Some(true));
        }
        for (meeting, alias) in &batch.aliases {
            for changed in tx.add_alias(meeting, alias)? {
                if marked.insert(changed.clone()) {
                    self.mark(tx, &changed)?;
                }
            }
        }
        // Which meetings name users by which tenant, for judging them again when the tenant is
        // learned; not needed for a tenant learned already.
        let learned = &self.learned;
        let mut tenant_rows: Vec<(&MeetingKey, &String)> = batch
            .meeting_tenants
            .iter()
            .flat_map(|(m, ts)| ts.iter().map(move |t| (m, t)))
            .filter(|(_, t)| !learned.contains(*t))
            .collect();
        tenant_rows.sort();
        for (meeting, tenant) in tenant_rows {
            tx.add_meeting_tenant(meeting, tenant)?;
        }
        if Self::learns(self.config) {
            self.learn(tx, &batch.own_tenants, &mut marked)?;
        }
        if let Some(t) = batch.latest {
            tx.advance_clock(t)?;
        }
        self.stats.events += batch.stats.events;
        Ok(())
    }

    /// Learns the tenants audit records named as their own: each new one is stored, classifies
    /// from now on, and has the meetings that name users by it judged again (those judged
    /// before it was known), so that the incidents do not depend on which came first.
    fn learn(
        &mut self,
        tx: &Tx<'_>,
        own: &BTreeSet<String>,
        marked: &mut FastSet<MeetingKey>,
    ) -> Result<(), StoreError> {
        let mut new = Vec::new();
        for t in own {
            if !self.learned.contains(t) {
                tx.add_own_tenant(t)?;
                self.learned.insert(t.clone());
                new.push(t);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        self.judge
            .learn_tenants(&self.learned.iter().collect::<Vec<_>>());
        for t in new {
            for meeting in tx.meetings_of_tenant(t)? {
                if marked.insert(meeting.clone()) {
                    self.mark(tx, &meeting)?;
                }
            }
        }
        Ok(())
    }

    /// Whether the store may keep events of `meeting` (then they are not all in the cache). In
    /// a store that had none when the pipeline started, only meetings this run stored and let
    /// go of from the cache can.
    fn may_have_chunks(&self, tx: &Tx<'_>, meeting: &MeetingKey) -> Result<bool, StoreError> {
        if !self.store_had_chunks
            && !self
                .released
                .contains(&meeting_hash(meeting.platform, &meeting.id))
        {
            return Ok(false);
        }
        tx.has_meeting_chunks(meeting)
    }

    /// Whether any meeting may have aliases: the store's aliases are looked up only then (most
    /// exports have none). Asked of the store once, then known from the batches stored.
    fn may_have_aliases(&self, tx: &Tx<'_>) -> Result<bool, StoreError> {
        if let Some(known) = self.aliases.get() {
            return Ok(known);
        }
        let any = tx.has_aliases()?;
        self.aliases.set(Some(any));
        Ok(any)
    }

    /// Marks a meeting pending in the store (due now).
    fn mark(&mut self, tx: &Tx<'_>, key: &MeetingKey) -> Result<(), StoreError> {
        tx.mark_pending(key, DUE_NOW)?;
        if let Some(c) = self.cache.get_mut(key) {
            c.marked = true;
        }
        Ok(())
    }

    /// Marks pending in the store every meeting held in memory that is pending by being there
    /// (see [`Pipeline::store`]), so that settling (or the next run) finds it.
    fn mark_unwritten(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        let at_commit = self.marks_at_commit;
        if at_commit && !self.defer {
            self.write_unwritten(tx)?;
        }
        for (key, c) in &mut self.cache {
            if c.held_unmarked(at_commit) {
                tx.mark_pending(key, DUE_NOW)?;
                c.marked = true;
            }
        }
        Ok(())
    }

    /// Writes the observations of every meeting held in memory only (encoded on all threads,
    /// in key order), so that a commit holds them: a database file's meetings must outlive a
    /// killed scan. They stay in memory, for judging.
    fn write_unwritten(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        let mut keys: Vec<MeetingKey> = self
            .cache
            .iter()
            .filter(|(_, c)| c.unwritten)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        // In groups, so that the encoded chunks are not all held at once.
        for group in keys.chunks(JUDGE_GROUP) {
            let cache = &self.cache;
            let encoded = crate::work::map_ordered(group.iter().collect(), self.threads, |k| {
                encode_pieces(&cache[k].observations)
            });
            for (key, bodies) in group.iter().zip(encoded) {
                if let Some(c) = self.cache.get_mut(key) {
                    c.write(tx, key, &bodies)?;
                }
            }
        }
        Ok(())
    }

    /// Takes a meeting out of the cache, first writing its observations to the store if they
    /// were kept in memory only; then, with `pending`, also the pending mark they did not get
    /// (not for a meeting being judged now).
    fn evict(
        &mut self,
        tx: &Tx<'_>,
        key: &MeetingKey,
        pending: bool,
    ) -> Result<Option<CacheEntry>, StoreError> {
        let Some(mut c) = self.cache.remove(key) else {
            return Ok(None);
        };
        let unmarked = c.held_unmarked(self.marks_at_commit);
        if c.unwritten {
            let bodies = encode_pieces(&c.observations);
            c.write(tx, key, &bodies)?;
        }
        if pending && unmarked {
            tx.mark_pending(key, DUE_NOW)?;
            c.marked = true;
        }
        Ok(Some(c))
    }

    /// Judges, from memory, the meetings whose events were all read in this run and that have
    /// not been touched for two batches (the input has most likely moved on from them), so that
    /// they need not be read back from the store at the end. A meeting that gets more events
    /// later is judged again then. `clock` is the store's clock.
    pub fn settle_cold(
        &mut self,
        tx: &Tx<'_>,
        clock: Timestamp,
        now: Timestamp,
    ) -> Result<Settled, StoreError> {
        let mut out = Settled::default();
        let cold: Vec<MeetingKey> = self
            .cache
            .iter()
            .filter(|(_, c)| c.is_cold(self.batches))
            .map(|(k, _)| k.clone())
            .collect();
        let mut canonical = BTreeSet::new();
        let aliases = self.may_have_aliases(tx)?;
        for key in cold {
            // A meeting joined to others by aliases is judged under its own id with the events
            // of all of them, once none held in memory has been touched for two batches (a
            // Teams meeting and its chat's thread); one that gets more events later, or an
            // alias learnt later, has it judged again then, as any meeting.
            let key = if aliases { tx.canonical(&key)? } else { key };
            if aliases && !canonical.contains(&key) {
                let ids = tx.meeting_and_aliases(&key)?;
                let batches = self.batches;
                let warm = ids.iter().any(|id| {
                    let k = MeetingKey {
                        platform: key.platform,
                        id: id.clone(),
                    };
                    self.cache.get(&k).is_some_and(|c| !c.is_cold(batches))
                });
                if warm {
                    continue;
                }
            }
            // Its pending mark is cleared when it is judged.
            canonical.insert(key);
        }
        // In groups, so that what judging gives (incidents, chunks to write) is not held for
        // every cold meeting at once.
        let mut canonical = canonical.into_iter().peekable();
        while canonical.peek().is_some() {
            let group: BTreeSet<MeetingKey> = canonical.by_ref().take(JUDGE_GROUP).collect();
            self.judge_meetings(tx, group, clock, now, &mut out)?;
        }
        Ok(out)
    }

    /// Judges `canonical` meetings (with their aliases) and records the result.
    fn judge_meetings(
        &mut self,
        tx: &Tx<'_>,
        canonical: BTreeSet<MeetingKey>,
        clock: Timestamp,
        now: Timestamp,
        out: &mut Settled,
    ) -> Result<(), StoreError> {
        // Read on this thread (the store's connection), judge on all of them.
        let mut work = Vec::with_capacity(canonical.len());
        for key in canonical {
            let ids = if self.may_have_aliases(tx)? {
                tx.meeting_and_aliases(&key)?
            } else {
                vec![key.id.clone()]
            };
            let keys: Vec<MeetingKey> = ids
                .iter()
                .map(|id| MeetingKey {
                    platform: key.platform,
                    id: id.clone(),
                })
                .collect();
            for k in &keys {
                // One pending by being held in memory has no mark to clear, unless the store
                // had marks of its own from before (a mark of this run for an id not yet in
                // memory then may be left: it only has the meeting judged again).
                if !self.cache.get(k).is_some_and(|c| {
                    c.held_unmarked(self.marks_at_commit)
                        && (c.unwritten || !self.store_had_pending)
                }) {
                    tx.set_due(k, None)?;
                }
            }
            // From memory when every id's events are there (an id the store cannot hold events
            // of has none elsewhere), else from the store.
            let mut all_cached = true;
            for k in &keys {
                if !self.cache.contains_key(k) && self.may_have_chunks(tx, k)? {
                    all_cached = false;
                    break;
                }
            }
            let mut first = false;
            for (i, k) in keys.iter().enumerate() {
                let new = self.released.insert(meeting_hash(k.platform, &k.id));
                first |= i == 0 && new;
            }
            let source = if all_cached {
                let mut observations = Vec::new();
                let mut chunks = 0;
                let mut unwritten = false;
                let mut bounded_duplicates = 0;
                for k in &keys {
                    // The meeting's own observations are written by the judging thread; those
                    // of its aliases here, under their own ids.
                    let c = if keys.len() == 1 {
                        self.cache.remove(k)
                    } else {
                        self.evict(tx, k, false)?
                    };
                    if let Some(c) = c {
                        unwritten |= c.unwritten;
                        bounded_duplicates += c.duplicates;
                        if observations.is_empty() {
                            observations = c.observations;
                        } else {
                            observations.extend(c.observations);
                        }
                        chunks = chunks.max(c.chunks);
                    }
                }
                Source::Cached {
                    observations,
                    chunks,
                    unwritten: unwritten && !(self.defer && self.input_done),
                    duplicates: bounded_duplicates,
                    merged: keys.len() > 1,
                }
            } else {
                let mut chunks = Vec::with_capacity(keys.len());
                for k in &keys {
                    self.evict(tx, k, false)?;
                    chunks.push((k.clone(), tx.chunk_bodies(k)?));
                }
                Source::Chunks(chunks)
            };
            // A meeting can hold incidents only if the store had some, or this run wrote some
            // for it or one of its aliases.
            let may_have = self.store_had_incidents
                || ids
                    .iter()
                    .any(|id| self.wrote_for.contains(&meeting_hash(key.platform, id)));
            let before = if may_have {
                tx.current_incidents_of(key.platform, &ids)?
            } else {
                Vec::new()
            };
            let aliases = ids.into_iter().skip(1).collect();
            work.push(Work {
                key,
                aliases,
                source,
                before,
                may_have,
                first,
            });
        }
        let min = self.detector.min_confidence();
        let (judge, care) = (&self.judge, &self.config.sensitivity);
        let judged = crate::work::map_ordered(work, self.threads, |w| {
            judge_meeting(w, judge, min, care, clock)
        });
        for j in judged {
            let j = j.map_err(|reason| tx.corrupt_error(reason))?;
            let meeting = meeting_hash(j.key.platform, &j.key.id);
            // Counted once per meeting and incident however often a run judges them.
            if j.first {
                out.meetings += 1;
            }
            out.duplicates += j.duplicates;
            out.changed += j.changed;
            out.excepted += j.judgement.excepted;
            if j.judgement.excepted > 0 {
                self.run.excepted.insert(meeting, j.judgement.excepted);
            } else {
                self.run.excepted.remove(&meeting);
            }
            for (k, bodies) in &j.rewrites {
                if j.unwritten {
                    // Nothing of it is in the store yet: nothing to replace.
                    for body in bodies {
                        tx.append_encoded(k, body)?;
                    }
                } else {
                    tx.replace_chunks_with(k, bodies)?;
                }
            }
            // For pruning, which a store for this run only never needs.
            if let Some(last) = j.last
                && !self.defer
            {
                tx.set_meeting_last(&j.key, last.as_microsecond())?;
            }
            let produced: FastSet<&str> = j
                .judgement
                .incidents
                .iter()
                .map(|i| i.id.as_str())
                .collect();
            for old in j.before {
                if !produced.contains(old.id.as_str()) {
                    tx.withdraw_incident(&old, now, self.run_id)?;
                    if let Some(router) = &self.alerts {
                        let now_us = now.as_microsecond();
                        tx.enqueue_alerts(
                            &router.route_change(&old, Outcome::Withdrawn, now_us),
                            now_us,
                        )?;
                    }
                    if self.list_changes {
                        out.reported.push(Reported {
                            incident: old,
                            outcome: Outcome::Withdrawn,
                        });
                    }
                }
            }
            // Looked at only when the store had no incidents before (`may_have` above). Every
            // id of the meeting: an incident's id names the one its event was filed under,
            // and an alias may move to another meeting later in the run.
            if !j.judgement.incidents.is_empty() && !self.store_had_incidents {
                for id in std::iter::once(&j.key.id).chain(&j.aliases) {
                    self.wrote_for.insert(meeting_hash(j.key.platform, id));
                }
            }
            for (incident, enc) in j.judgement.incidents.into_iter().zip(&j.encoded) {
                // One the store cannot hold yet needs no lookup first.
                let outcome = if j.may_have {
                    tx.record_encoded(&incident, enc, now, self.run_id)?
                } else {
                    tx.record_new_incident(&incident, enc, now, self.run_id)?
                };
                if let Some(router) = &self.alerts {
                    let now_us = now.as_microsecond();
                    let mut alerts = router.route_change(&incident, outcome, now_us);
                    // A false positive stays one when judged again, and alerts nobody; the
                    // SIEM still gets every change.
                    if alerts.iter().any(|a| !a.channel.is_siem())
                        && tx
                            .status_of(&incident.id)?
                            .is_some_and(|s| s.status == crate::incident::Status::FalsePositive)
                    {
                        alerts.retain(|a| a.channel.is_siem());
                    }
                    tx.enqueue_alerts(&alerts, now_us)?;
                }
                // Known to a store that had no incidents when the pipeline started means
                // recorded earlier in this run, so counted then: the set of what this run
                // judged (8 bytes and more per incident, tens of megabytes for a million
                // meetings) is needed only for a store that had incidents before.
                let first =
                    self.store_had_incidents && self.run.incidents.insert(id_hash(&incident.id));
                if outcome == Outcome::Known {
                    if first {
                        out.known += 1;
                    }
                } else if self.list_changes {
                    out.reported.push(Reported { incident, outcome });
                }
            }
            if let Some(at) = j.judgement.revisit_at {
                tx.set_due(&j.key, Some(ceil_micros(at)))?;
            }
        }
        Ok(())
    }

    /// Notes in `tx` that every input has been read under the current settings: later runs
    /// need write no tombstones. Call after the last batch of a complete read.
    pub fn finish(&mut self, tx: &Tx<'_>) -> Result<(), StoreError> {
        self.input_done = true;
        tx.set_fingerprint(&self.fingerprint)
    }

    /// Judges up to `limit` meetings that are due at `clock` ("now" for rules about time
    /// passing), and makes the store's incidents of each its latest judgement. `now` is the
    /// wall-clock time written in the incidents' history. Call again while
    /// [`Settled::more`].
    pub fn settle(
        &mut self,
        tx: &Tx<'_>,
        clock: Timestamp,
        now: Timestamp,
        limit: usize,
    ) -> Result<Settled, StoreError> {
        let clock_us = clock.as_microsecond();
        self.mark_unwritten(tx)?;
        let due = tx.due(clock_us, limit)?;
        let mut out = Settled {
            more: due.len() >= limit,
            ..Settled::default()
        };
        // Each meeting once, under its own id, with the events filed under its aliases (each
        // id's mark is cleared when its meeting is judged; an alias's here, as its meeting may
        // have been judged already).
        let mut canonical = BTreeSet::new();
        let aliases = self.may_have_aliases(tx)?;
        for key in due {
            if aliases {
                tx.set_due(&key, None)?;
                canonical.insert(tx.canonical(&key)?);
            } else {
                canonical.insert(key);
            }
        }
        self.judge_meetings(tx, canonical, clock, now, &mut out)?;
        Ok(out)
    }
}

/// The net change of each incident over a run that judged some meetings more than once (early,
/// then again when more of them came): what the store held before the run against what it
/// holds after, in the order of each incident's first change. An incident raised then
/// withdrawn in the same run, for example, was never news.
pub fn net_changes(changes: Vec<Reported>) -> Vec<Reported> {
    use crate::incident::Severity;
    // Per incident: its severity before the run (`None`: it did not hold), and its last change.
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashMap<String, (Option<Severity>, Reported)> = HashMap::new();
    for r in changes {
        match seen.get_mut(&r.incident.id) {
            Some(entry) => entry.1 = r,
            None => {
                let before = match r.outcome {
                    Outcome::New => None,
                    Outcome::Raised { from } | Outcome::Lowered { from } => Some(from),
                    Outcome::Withdrawn | Outcome::Known => Some(r.incident.severity),
                };
                order.push(r.incident.id.clone());
                seen.insert(r.incident.id.clone(), (before, r));
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let Some((before, mut r)) = seen.remove(&id) else {
            continue;
        };
        let after = (r.outcome != Outcome::Withdrawn).then_some(r.incident.severity);
        r.outcome = match (before, after) {
            (None, None) => continue,
            (None, Some(_)) => Outcome::New,
            (Some(_), None) => Outcome::Withdrawn,
            (Some(from), Some(to)) if from < to => Outcome::Raised { from },
            (Some(from), Some(to)) if from > to => Outcome::Lowered { from },
            (Some(_), Some(_)) => continue,
        };
        out.push(r);
    }
    out
}

/// A meeting to judge, as read from the store.
struct Work {
    key: MeetingKey,
    /// Its other ids.
    aliases: Vec<String>,
    source: Source,
    /// Its current incidents (those of its aliases too).
    before: Vec<Incident>,
    /// Whether the store may hold incidents of it (else `before` is empty and none it gives
    /// is in the store yet).
    may_have: bool,
    /// The first time this run judges it.
    first: bool,
}

/// Where a meeting's events come from.
enum Source {
    /// The chunks of the meeting and of each alias, by the id they are filed under.
    Chunks(Vec<(MeetingKey, Vec<Vec<u8>>)>),
    /// All read in this run and kept in memory, in the order they were stored, with the number
    /// of chunks they were stored in.
    Cached {
        observations: Vec<Observation>,
        chunks: usize,
        /// Not in the store yet: the judging thread encodes them for it.
        unwritten: bool,
        /// Events read more than once whose other versions were left out of `observations`.
        duplicates: u64,
        /// Of several ids (a meeting and its aliases), each written under its own id when
        /// taken from memory: nothing to rewrite under the meeting's (that would file the
        /// aliases' events under it too).
        merged: bool,
    },
}

/// A meeting's events kept in memory since they were stored in this run.
#[derive(Default)]
struct CacheEntry {
    observations: Vec<Observation>,
    /// The batch that last touched the meeting.
    batch: u64,
    /// Chunks written for it.
    chunks: usize,
    /// Its observations are in memory only (a store for this run only: see
    /// [`Pipeline::evict`]).
    unwritten: bool,
    /// The store holds a pending mark for it (one in memory only gets it only when written or
    /// when settling starts: see [`Pipeline::store`]).
    marked: bool,
    /// Observations held after the chat was last bounded ([`CacheEntry::bound_chat`]).
    bounded_at: usize,
    /// Events read more than once whose versions bounding left out (counted as duplicates
    /// when the meeting is judged).
    duplicates: u64,
}

/// A meeting's cache is bounded again once it holds this many more observations than twice
/// what it held after the last time (so that bounding costs linear time).
const BOUND_CACHE_AT: usize = 4096;

impl CacheEntry {
    /// Whether no batch touched the meeting in the last two, `batches` having been stored:
    /// the input has most likely moved on from it ([`Pipeline::settle_cold`]).
    fn is_cold(&self, batches: u64) -> bool {
        self.batch + 2 <= batches
    }

    /// Whether the meeting is pending by being in memory (no mark in the store): one held in
    /// memory only, or, when marks are written at commit ([`Pipeline::set_marks_at_commit`]),
    /// one not marked yet.
    fn held_unmarked(&self, marks_at_commit: bool) -> bool {
        !self.marked && (self.unwritten || marks_at_commit)
    }

    /// Writes the meeting's observations, held in memory only until now, as `bodies` (what
    /// [`encode_pieces`] made of them, on whichever thread): it is then kept in that many
    /// chunks.
    fn write(
        &mut self,
        tx: &Tx<'_>,
        key: &MeetingKey,
        bodies: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        for body in bodies {
            tx.append_encoded(key, body)?;
        }
        self.chunks = bodies.len();
        self.unwritten = false;
        Ok(())
    }

    /// Leaves out the chat messages the meeting does not need ([`crate::meeting::chat`]).
    fn bound_chat(&mut self) {
        let before = self.observations.len();
        let dropped = crate::meeting::chat::bound(&mut self.observations)
            .drop
            .len();
        // Each key dropped was held at least once; the rest of what went were its repeats.
        self.duplicates += (before - self.observations.len() - dropped) as u64;
        self.bounded_at = self.observations.len();
    }
}

/// A meeting judged.
struct Judged {
    key: MeetingKey,
    aliases: Vec<String>,
    first: bool,
    before: Vec<Incident>,
    may_have: bool,
    judgement: crate::rules::Judgement,
    /// The judgement's incidents encoded for the store, in their order (on the judging
    /// thread, so that the one writing only binds them).
    encoded: Vec<crate::store::EncodedIncident>,
    /// Chunks to replace (compaction): the id's new chunks (none: it keeps none).
    rewrites: Vec<(MeetingKey, Vec<Vec<u8>>)>,
    /// The store holds no chunk of it yet (it was held in memory only): `rewrites` are its
    /// first.
    unwritten: bool,
    duplicates: u64,
    changed: u64,
    /// The time of its latest event.
    last: Option<Timestamp>,
}

/// Decodes a meeting's chunks and judges it: pure, for any thread.
fn judge_meeting(
    w: Work,
    judge: &Judge<'_>,
    min: crate::detect::Confidence,
    care: &crate::config::SensitivitySettings,
    clock: Timestamp,
) -> Result<Judged, String> {
    let mut observations = Vec::new();
    let mut rewrites = Vec::new();
    let (mut duplicates, mut changed) = (0, 0);
    let unwritten = matches!(
        w.source,
        Source::Cached {
            unwritten: true,
            ..
        }
    );
    let chunked = match w.source {
        Source::Chunks(c) => c,
        Source::Cached {
            observations: cached,
            chunks,
            unwritten,
            duplicates: bounded_duplicates,
            merged,
        } => {
            // Each event once, the latest version winning, at the place of its latest version,
            // as when read from the store. Indices only: the observations are not moved unless
            // some were read twice.
            let mut last: FastMap<SourceKey, usize> =
                FastMap::with_capacity_and_hasher(cached.len(), Default::default());
            for (i, o) in cached.iter().enumerate() {
                if let Some(before) = last.insert(o.key, i) {
                    duplicates += 1;
                    if cached[before] != *o {
                        changed += 1;
                    }
                }
            }
            observations = if duplicates == 0 {
                cached
            } else {
                cached
                    .into_iter()
                    .enumerate()
                    .filter(|(i, o)| last.get(&o.key) == Some(i))
                    .map(|(_, o)| o)
                    .collect()
            };
            drop(last);
            crate::meeting::chat::bound(&mut observations);
            if !merged
                && (unwritten
                    || duplicates > 0
                    || chunks >= COMPACT_AT + pieces(observations.len()))
            {
                rewrites.push((w.key.clone(), encode_pieces(&observations)));
            }
            duplicates += bounded_duplicates;
            Vec::new()
        }
    };
    for (k, bodies) in chunked {
        let mut loaded = crate::store::decode_chunks(&bodies)?;
        drop(bodies);
        duplicates += loaded.duplicates;
        changed += loaded.changed;
        let bounded = !crate::meeting::chat::bound(&mut loaded.observations)
            .drop
            .is_empty();
        if bounded
            || loaded.duplicates > 0
            || loaded.chunks >= COMPACT_AT + pieces(loaded.observations.len())
        {
            rewrites.push((k, encode_pieces(&loaded.observations)));
        }
        observations.extend(loaded.observations);
    }
    let last = observations.iter().map(|o| o.event.time).max();
    let view = MeetingView::new(w.key.clone(), observations, min, care);
    let judgement = judge.judge(&view, clock);
    let encoded = judgement
        .incidents
        .iter()
        .map(crate::store::EncodedIncident::new)
        .collect::<Result<_, _>>()?;
    Ok(Judged {
        encoded,
        last,
        key: w.key,
        aliases: w.aliases,
        first: w.first,
        before: w.before,
        may_have: w.may_have,
        judgement,
        rewrites,
        unwritten,
        duplicates,
        changed,
    })
}

/// Of a meeting's entries in a batch, leaves out the chat messages the meeting state need not
/// keep ([`crate::meeting::chat`]): what is kept of the whole meeting is what is kept of what
/// each batch kept. With `tombstones` they are written as tombstones instead (an earlier run
/// may have kept them).
fn bound_chat_entries(entries: &mut Entries, tombstones: bool) {
    if entries.len() <= 1 {
        return;
    }
    let surplus = crate::meeting::chat::surplus(
        entries
            .iter()
            .filter_map(|(k, o)| o.as_ref().map(|o| (*k, o))),
    );
    if surplus.drop.is_empty() {
        return;
    }
    entries.retain_mut(|(key, o)| {
        if !surplus.drop.contains(key) {
            return true;
        }
        if tombstones {
            *o = None;
        }
        tombstones
    });
}

/// Hashes of what a pipeline judged (8 bytes each, not the keys).
#[derive(Default)]
struct RunTally {
    incidents: HashSet64,
    /// Candidates excepted at each meeting's latest judgement, for meetings that had some.
    excepted: FastMap<u64, u64>,
}

fn id_hash(id: &str) -> u64 {
    PROCESS_HASH.hash_one(id)
}

/// Cold meetings judged together (see [`Pipeline::settle_cold`]).
const JUDGE_GROUP: usize = 500;

/// A meeting's chunks are merged when it has more than this many, plus one for each further
/// [`PIECE`] of observations.
const COMPACT_AT: usize = 4;

/// Observations per chunk when a meeting's chunks are merged: one huge meeting is written in
/// pieces, so that neither its encoding nor SQLite's copy of it is large.
const PIECE: usize = 2_000;

/// The chunks `n` observations are merged into.
fn pieces(n: usize) -> usize {
    n.div_ceil(PIECE).max(1)
}

/// A meeting's observations encoded as merged chunks of up to [`PIECE`] each (none when there
/// are none).
fn encode_pieces(observations: &[Observation]) -> Vec<Vec<u8>> {
    observations
        .chunks(PIECE)
        .map(|piece| {
            let entries: Vec<(SourceKey, Option<&Observation>)> =
                piece.iter().map(|o| (o.key, Some(o))).collect();
            crate::store::encode_chunk(&entries)
        })
        .collect()
}

/// A 64-bit hash of a meeting key, for this process's sets only (never stored): foldhash,
/// seeded once per process, cheaper than the SipHash and the SHA-256 before it (called for
/// every meeting of every batch and judgement). A false match costs only a lookup.
fn meeting_hash(platform: crate::event::Platform, id: &str) -> u64 {
    PROCESS_HASH.hash_one((platform, id))
}

/// The seed of [`meeting_hash`] and [`id_hash`]: the same for the whole run, so that a hash
/// kept in a set matches the one computed later.
static PROCESS_HASH: std::sync::LazyLock<foldhash::fast::RandomState> =
    std::sync::LazyLock::new(foldhash::fast::RandomState::default);

/// What the kept observations depend on besides the records: the adapters' settings, the
/// detector's settings and key, the phrase lists, and this version. A store whose observations
/// were made under another fingerprint may keep events that are no longer worth keeping.
fn fingerprint(config: &Config, detector: &Detector) -> String {
    let parts = format!(
        "{}\n{:?}\n{:?}\n{:?}\n{:?}\n{}",
        env!("CARGO_PKG_VERSION"),
        config.sources,
        config.detect,
        config.rules,
        config.sensitivity,
        detector.key_fingerprint()
    );
    crate::detect::hex(&sha2::Sha256::digest(parts.as_bytes())[..16])
}

/// `t` in Unix microseconds, rounded up: a meeting due at `t` is looked at only once the clock
/// is past it.
fn ceil_micros(t: Timestamp) -> i64 {
    let us = t.as_microsecond();
    if t.subsec_nanosecond() % 1000 != 0 {
        us.saturating_add(1)
    } else {
        us
    }
}

mod seen;
#[cfg(test)]
mod tests;
