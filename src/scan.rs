//! The batch scan: files → adapters → events → observations (detector) → store → rules →
//! incidents.
//!
//! Events are read one at a time and kept only as observations in the store (SQLite, on disk
//! with `--db` or in memory), so memory grows with the number of meetings, not with the size of
//! the input. When all files are read, every meeting that got something new is judged as a
//! whole, in time order, with everything the store knows of it from this run and earlier ones.
//! An incident is reported when it is new or when late evidence raised its severity.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::config::Config;
use crate::detect::Detector;
use crate::event::{Event, EventKind};
use crate::incident::{Incident, Outcome, Severity};
use crate::ingest::{self, IngestError};
use crate::meeting::{MeetingKey, MeetingView, Observation};
use crate::rules::Judge;
use crate::sources::{Format, Item};
use crate::store::{Store, StoreError};

/// Observations are committed in batches of this many.
const BATCH: usize = 10_000;

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

    fn add(&mut self, other: FormatCounts) {
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

/// What a scan did, for the summary line.
#[derive(Debug, Default)]
pub struct Stats {
    pub files: u64,
    /// Files that could not be read or whose format is unknown.
    pub files_skipped: u64,
    pub events: u64,
    /// Events already known (the same record read again).
    pub duplicate_events: u64,
    pub meetings: u64,
    pub formats: BTreeMap<Format, FormatCounts>,
    /// Incidents reported in this run (new or raised), by severity.
    pub by_severity: BTreeMap<Severity, u64>,
    pub new: u64,
    pub raised: u64,
    /// Incidents found again that were already reported by an earlier scan.
    pub known: u64,
    /// Incidents not raised because a configured exception covers them.
    pub excepted: u64,
    pub elapsed: Duration,
}

impl Stats {
    /// Records rejected as unreadable, in all formats.
    pub fn lines_skipped(&self) -> u64 {
        self.formats.values().map(|c| c.rejected).sum()
    }

    /// Records that mapped to no event (unknown types, operations), in all formats.
    pub fn unmapped(&self) -> u64 {
        self.formats.values().map(|c| c.unmapped).sum()
    }
}

/// An incident and what recording it meant.
#[derive(Debug)]
pub struct Reported {
    pub incident: Incident,
    pub outcome: Outcome,
}

/// A problem with the input that did not stop the scan; shown to the operator.
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

/// The scan's settings.
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    /// Read every file as this format instead of detecting it.
    pub format: Option<Format>,
}

/// Runs a batch scan. Input problems go to `diagnostic` and the scan goes on; only a database
/// failure stops it.
pub fn run(
    config: &Config,
    detector: &Detector,
    store: &Store,
    options: &ScanOptions,
    diagnostic: &mut dyn FnMut(Diagnostic),
) -> Result<(Vec<Reported>, Stats), StoreError> {
    let started = Instant::now();
    let mut stats = Stats::default();
    let files = ingest::discover(&options.paths, &mut |e| {
        stats.files_skipped += 1;
        diagnostic(Diagnostic::Path(e));
    });

    let mut meetings: HashSet<MeetingKey> = HashSet::new();
    let mut dirty: HashSet<MeetingKey> = HashSet::new();
    // Subjects seen so far, as context for the detector on the meeting's chat.
    let mut subjects: HashMap<MeetingKey, String> = HashMap::new();
    let mut pending = 0usize;
    // The batch clock: the latest event time in the input.
    let mut clock: Option<Timestamp> = None;
    let mut failure: Option<StoreError> = None;

    for file in files {
        stats.files += 1;
        store.begin()?;
        let mut counts = FormatCounts::default();
        let result =
            ingest::read_file(&file, options.format, &config.sources, &mut |line, item| {
                if failure.is_some() {
                    return;
                }
                counts.read += 1;
                match item {
                    Item::Event(event) => {
                        counts.mapped += 1;
                        stats.events += 1;
                        let key = MeetingKey {
                            platform: event.platform,
                            id: event.meeting.clone(),
                        };
                        remember_subject(&mut subjects, &key, &event);
                        let subject = subjects.get(&key).map(String::as_str);
                        clock = clock.max(Some(event.time));
                        let obs =
                            Observation::from_event(*event, detector, &config.signals, subject);
                        if obs.worth_keeping() {
                            match store.add_observation(&obs) {
                                Ok(true) => {
                                    if let EventKind::MeetingStarted { aliases, .. } =
                                        &obs.event.kind
                                    {
                                        for alias in aliases {
                                            if let Err(e) = store.add_alias(&key, alias) {
                                                failure = Some(e);
                                            }
                                            dirty.insert(MeetingKey {
                                                platform: key.platform,
                                                id: alias.clone(),
                                            });
                                        }
                                    }
                                    dirty.insert(key.clone());
                                }
                                Ok(false) => stats.duplicate_events += 1,
                                Err(e) => failure = Some(e),
                            }
                        }
                        meetings.insert(key);
                        pending += 1;
                        if pending >= BATCH {
                            pending = 0;
                            if let Err(e) = store.commit().and_then(|()| store.begin()) {
                                failure = Some(e);
                            }
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
                            file: file.clone(),
                            line,
                            reason,
                        });
                    }
                }
            });
        store.commit()?;
        if let Some(e) = failure.take() {
            return Err(e);
        }
        match result {
            Ok(format) => stats.formats.entry(format).or_default().add(counts),
            Err(e) => {
                stats.files_skipped += 1;
                diagnostic(Diagnostic::Path(e));
            }
        }
    }
    stats.meetings = meetings.len() as u64;

    let judge = Judge::new(config, detector.min_confidence());
    // Judge each meeting once, under its own id, with the events filed under its aliases.
    let mut canonical = std::collections::BTreeSet::new();
    for key in dirty {
        canonical.insert(store.canonical(&key)?);
    }
    let now = Timestamp::now();
    let clock = clock.unwrap_or(now);
    let mut reported = Vec::new();
    store.begin()?;
    for key in canonical {
        let observations = store.meeting_with_aliases(&key)?;
        let view = MeetingView::new(key, observations, detector, &config.sensitivity);
        let judgement = judge.judge(&view, clock);
        stats.excepted += judgement.excepted;
        for incident in judgement.incidents {
            let outcome = store.record_incident(&incident, now)?;
            match outcome {
                Outcome::Known => {
                    stats.known += 1;
                    continue;
                }
                Outcome::New => stats.new += 1,
                Outcome::Raised { .. } => stats.raised += 1,
            }
            *stats.by_severity.entry(incident.severity).or_default() += 1;
            reported.push(Reported { incident, outcome });
        }
    }
    store.commit()?;
    reported.sort_by(|a, b| {
        (
            a.incident.time,
            a.incident.platform,
            &a.incident.meeting,
            &a.incident.rule,
        )
            .cmp(&(
                b.incident.time,
                b.incident.platform,
                &b.incident.meeting,
                &b.incident.rule,
            ))
    });
    stats.elapsed = started.elapsed();
    Ok((reported, stats))
}

fn remember_subject(subjects: &mut HashMap<MeetingKey, String>, key: &MeetingKey, event: &Event) {
    let subject = match &event.kind {
        EventKind::MeetingStarted {
            subject: Some(s), ..
        } => s,
        EventKind::Invitation { subject, .. } => subject,
        _ => return,
    };
    if !subjects.contains_key(key) {
        subjects.insert(key.clone(), subject.clone());
    }
}
