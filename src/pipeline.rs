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

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::config::Config;
use crate::detect::Detector;
use crate::event::EventKind;
use crate::incident::{Incident, Outcome};
use crate::ingest::IngestError;
use crate::meeting::{MeetingKey, MeetingView, Observation, SourceKey};
use crate::rules::Judge;
use crate::sources::{Identity, Item, Record, RecordKey};
use crate::store::{Put, StoreError, Tx};

/// `due_at` for a meeting to judge at the next settling.
const DUE_NOW: i64 = i64::MIN;

/// How many meetings marked pending are remembered, so that the records of one meeting in a
/// row mark it once.
const MARKED_CACHE: usize = 4096;

/// Per-format counts of what adapters emitted: items (an event, an unmapped record, a
/// rejected record; one record may give several events), and what was not mapped, by label.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FormatCounts {
    pub read: u64,
    pub mapped: u64,
    pub unmapped: u64,
    pub rejected: u64,
    /// Fields of mapped records that no mapping reads (Teams audit details Microsoft added
    /// without a field list, for example).
    pub unmapped_fields: u64,
    /// How often each kind of unmapped record or field was seen (`operation X`, `event Y`,
    /// `MeetingParticipantDetail.Z`); labels never hold free text.
    pub labels: BTreeMap<String, u64>,
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
    /// Candidates not raised because an `[[exceptions]]` entry covers them.
    pub excepted: u64,
    /// More meetings are due: settle again.
    pub more: bool,
}

/// The pipeline: the configuration, the detector and the judge, and what it has seen of the
/// current batch.
pub struct Pipeline<'a> {
    config: &'a Config,
    detector: &'a Detector,
    judge: Judge<'a>,
    /// Whether the store may hold observations from earlier runs (then an event that is no
    /// longer worth keeping must be removed from it).
    store_had_state: bool,
    /// The latest event time observed since the last commit.
    latest: Option<Timestamp>,
    /// Meetings marked pending in this batch.
    marked: HashSet<MeetingKey>,
    pub stats: ObserveStats,
}

impl<'a> Pipeline<'a> {
    /// A pipeline over a store that holds (`store_had_state`) or does not hold meeting state
    /// from earlier runs.
    pub fn new(config: &'a Config, detector: &'a Detector, store_had_state: bool) -> Pipeline<'a> {
        Pipeline {
            config,
            detector,
            judge: Judge::new(config, detector.min_confidence()),
            store_had_state,
            latest: None,
            marked: HashSet::new(),
            stats: ObserveStats::default(),
        }
    }

    /// Takes one record into `tx`: its events become observations stored under their source
    /// keys, the meetings they touch are marked pending, and what was not mapped or could not
    /// be read is counted in `counts` and, for bad records, passed to `diagnostic` with the
    /// file and line. A store error is returned at once; the caller stops reading.
    pub fn observe(
        &mut self,
        tx: &Tx<'_>,
        file: &Path,
        record: Record<'_>,
        counts: &mut FormatCounts,
        diagnostic: &mut dyn FnMut(Diagnostic),
    ) -> Result<(), StoreError> {
        let mut event_index: u16 = 0;
        // Hashed only when an event of the record is kept (or may have been, earlier).
        let mut record_key = None;
        let Record {
            pos,
            identity,
            items,
        } = record;
        for item in items {
            counts.read += 1;
            match item {
                Item::Event(event) => {
                    counts.mapped += 1;
                    self.stats.events += 1;
                    let index = event_index;
                    event_index = event_index.saturating_add(1);
                    self.latest = self.latest.max(Some(event.time));
                    let mut obs = Observation::from_event(
                        SourceKey::default(),
                        *event,
                        self.detector,
                        &self.config.signals,
                    );
                    if obs.worth_keeping() || self.store_had_state {
                        let record = *record_key.get_or_insert_with(|| match identity {
                            Identity::Key(k) => k,
                            Identity::Json { family, json } => RecordKey::of_json(family, json),
                        });
                        obs.key = SourceKey::new(record, index);
                        self.keep(tx, obs)?;
                    }
                }
                Item::Unmapped(label) => {
                    counts.unmapped += 1;
                    counts.label(label, 1);
                }
                Item::UnmappedField(field) => {
                    counts.unmapped_fields += 1;
                    counts.label(format!("field {field}"), 1);
                }
                Item::Rejected(reason) => {
                    counts.rejected += 1;
                    diagnostic(Diagnostic::Record {
                        file: file.to_path_buf(),
                        line: pos.line,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    fn keep(&mut self, tx: &Tx<'_>, obs: Observation) -> Result<(), StoreError> {
        let meeting = obs.meeting_key();
        if !obs.worth_keeping() {
            if self.store_had_state
                && let Some(was) = tx.remove_observation(obs.key)?
            {
                self.pending(tx, &was)?;
            }
            return Ok(());
        }
        match tx.put_observation(&obs)? {
            Put::New => {}
            Put::Same => self.stats.duplicates += 1,
            Put::Changed { was } => {
                self.stats.changed += 1;
                self.pending(tx, &was)?;
            }
        }
        // A meeting is judged again whenever its events are read, so that a changed
        // configuration (profiles, rules, exceptions) is applied to it.
        self.pending(tx, &meeting)?;
        if let EventKind::MeetingStarted { aliases, .. } = &obs.event.kind {
            for alias in aliases {
                for changed in tx.add_alias(&meeting, alias)? {
                    self.pending(tx, &changed)?;
                }
            }
        }
        Ok(())
    }

    fn pending(&mut self, tx: &Tx<'_>, key: &MeetingKey) -> Result<(), StoreError> {
        if self.marked.contains(key) {
            return Ok(());
        }
        tx.mark_pending(key, DUE_NOW)?;
        if self.marked.len() >= MARKED_CACHE {
            self.marked.clear();
        }
        self.marked.insert(key.clone());
        Ok(())
    }

    /// Ends a batch: moves the store's clock to the latest event observed and commits, so that
    /// the observations, the pending meetings and the clock become durable together.
    pub fn commit(&mut self, tx: Tx<'_>) -> Result<(), StoreError> {
        if let Some(t) = self.latest.take() {
            tx.advance_clock(t)?;
        }
        self.marked.clear();
        tx.commit()
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
        let due = tx.due(clock_us, limit)?;
        let mut out = Settled {
            more: due.len() >= limit,
            ..Settled::default()
        };
        // Each meeting once, under its own id, with the events filed under its aliases.
        let mut canonical = BTreeSet::new();
        for key in &due {
            tx.set_due(key, None)?;
            canonical.insert(tx.canonical(key)?);
        }
        for key in canonical {
            let ids = tx.meeting_and_aliases(&key)?;
            let mut observations = Vec::new();
            for id in &ids {
                let k = MeetingKey {
                    platform: key.platform,
                    id: id.clone(),
                };
                tx.set_due(&k, None)?;
                observations.extend(tx.observations_of(&k)?);
            }
            let before = tx.current_incidents_of(key.platform, &ids)?;
            let view = MeetingView::new(
                key.clone(),
                observations,
                self.detector.min_confidence(),
                &self.config.sensitivity,
            );
            let judgement = self.judge.judge(&view, clock);
            out.meetings += 1;
            out.excepted += judgement.excepted;
            let produced: HashSet<&str> =
                judgement.incidents.iter().map(|i| i.id.as_str()).collect();
            for old in before {
                if !produced.contains(old.id.as_str()) {
                    tx.withdraw_incident(&old, now)?;
                    out.reported.push(Reported {
                        incident: old,
                        outcome: Outcome::Withdrawn,
                    });
                }
            }
            for incident in judgement.incidents {
                let outcome = tx.record_incident(&incident, now)?;
                if outcome == Outcome::Known {
                    out.known += 1;
                } else {
                    out.reported.push(Reported { incident, outcome });
                }
            }
            if let Some(at) = judgement.revisit_at {
                tx.set_due(&key, Some(ceil_micros(at)))?;
            }
        }
        Ok(out)
    }
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

#[cfg(test)]
mod tests;
