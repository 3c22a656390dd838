//! The report model: what `motesvakt report` tells, built once from the store, for one period
//! and one scope (a unit, a manager, a person or the whole organisation), before any wording or
//! format. [`super::render`] turns it into HTML, Markdown, JSON or CSV in Swedish or English.
//!
//! Everything in it comes from the store, which holds observations and incidents only (no chat
//! text, no identity number); every name, id and subject taken over is passed through
//! [`super::shown`] once more (identity numbers redacted, controls escaped), so a report is
//! safe to show whatever the store holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::shown;
use crate::alert::Directory;
use crate::config::Profile;
use crate::event::{ActorKind, EventKind, Platform, TextField};
use crate::incident::{Incident, Severity, Status};
use crate::meeting::MeetingKey;
use crate::store::{IncidentFilter, StatusChange, StatusRecord, Store, StoreError};

/// The most events of one meeting shown in an incident's timeline.
pub const TIMELINE_MAX: usize = 40;

/// Whose incidents a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Scope {
    /// The whole organisation.
    #[default]
    All,
    /// The people of one unit, as the directory names it (any case).
    Unit(String),
    /// The people whose manager, in the directory, has this address (any case).
    Manager(String),
    /// One person, by address or platform id (any case).
    Person(String),
}

/// Which incidents a report covers.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Incidents whose event happened at or after this time.
    pub since: Option<Timestamp>,
    /// Incidents whose event happened before this time.
    pub until: Option<Timestamp>,
    pub scope: Scope,
    /// Only this incident (its full id).
    pub incident: Option<String>,
}

/// What a report is built with besides the store.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The directory: names, units and managers.
    pub directory: Option<&'a Directory>,
    /// The profiles incidents may cite (for the routine's title and the quote).
    pub profiles: &'a [Profile],
    /// The time the report is made at (ages, deadlines).
    pub now: Timestamp,
    /// Who is internal (the configuration's `internal_domains`). Without it, a participant
    /// whose source did not say is external when the domain of its address is not that of
    /// the incident's actor.
    pub classifier: Option<&'a crate::org::Classifier>,
}

/// A report, before wording and format.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated: Timestamp,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub scope: Scope,
    pub incidents: Vec<Entry>,
    pub period: Period,
}

/// Who caused an incident, as the directory and the incident name them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub kind: Option<ActorKind>,
    pub unit: Option<String>,
    pub manager: Option<String>,
}

/// The routine an incident breaches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoutineRef {
    pub file: String,
    pub section: String,
    /// The routine's title, from its profile.
    pub title: Option<String>,
    /// The sentence breached, in the routine's own words.
    pub quote: Option<String>,
    pub profile: String,
}

/// One event of the incident's meeting.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineItem {
    pub time: Timestamp,
    /// The event's type (`recording_started`).
    pub event: &'static str,
    pub actor: String,
    pub actor_kind: Option<ActorKind>,
    /// The other party (who was admitted, handed control).
    pub target: Option<String>,
    /// What the detector found in the event, by kind (`personnummer`), never the number.
    pub findings: Vec<String>,
    /// The event that triggered the incident.
    pub trigger: bool,
}

/// One status change of the workflow.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub from: Status,
    pub to: Status,
    pub by: String,
    pub at: Timestamp,
    pub reason: Option<crate::incident::FalsePositiveReason>,
    pub note: Option<String>,
}

/// The facts of a possible personal-data breach (GDPR art. 33) for the IMY draft.
#[derive(Debug, Clone, Serialize)]
pub struct Imy {
    /// When motesvakt discovered it: its first alert, else when it was first recorded.
    pub discovered: Timestamp,
    /// 72 hours after discovery.
    pub deadline: Timestamp,
    /// The number of people concerned, at least: distinct keyed hashes of the numbers found.
    pub people: usize,
    /// The domains of the external participants (never their names).
    pub external_domains: Vec<String>,
}

/// One incident as a report tells it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub incident: Incident,
    pub status: Status,
    pub status_record: Option<StatusInfo>,
    pub history: Vec<Change>,
    /// Severity changes: (change, from, to).
    pub severity_history: Vec<(String, Option<Severity>, Severity)>,
    pub person: Person,
    pub routine: RoutineRef,
    /// The meeting's subject, when it holds no patient data.
    pub subject: Option<String>,
    pub timeline: Vec<TimelineItem>,
    /// Events of the meeting left out of the timeline.
    pub timeline_omitted: usize,
    /// Set when the incident may have to be reported to IMY.
    pub imy: Option<Imy>,
}

/// An incident's current status, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct StatusInfo {
    pub by: String,
    pub at: Timestamp,
    pub reason: Option<crate::incident::FalsePositiveReason>,
    pub note: Option<String>,
}

/// Counts of one rule, by severity.
#[derive(Debug, Clone, Serialize)]
pub struct RuleCount {
    pub rule: String,
    /// Critical, high, medium, low, info.
    pub by_severity: [u64; 5],
    pub total: u64,
}

/// Incidents in one ISO week.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    /// `2024-W18`.
    pub week: String,
    pub count: u64,
}

/// A person with more than one incident in the period.
#[derive(Debug, Clone, Serialize)]
pub struct Repeat {
    pub person: Person,
    pub count: u64,
    /// Their rules, most frequent first: (rule, count).
    pub rules: Vec<(String, u64)>,
}

/// An incident still open or acknowledged.
#[derive(Debug, Clone, Serialize)]
pub struct OpenItem {
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    pub status: Status,
    /// Days since the incident's event.
    pub age_days: i64,
}

/// The IMY deadline of a possible personal-data breach not yet closed.
#[derive(Debug, Clone, Serialize)]
pub struct Deadline {
    pub id: String,
    pub rule: String,
    pub deadline: Timestamp,
    /// Hours left at the report's time; negative once it has passed.
    pub hours_left: i64,
}

/// A rule that cannot fire on a platform seen in the period, for lack of data in its exports.
#[derive(Debug, Clone, Serialize)]
pub struct BlindSpot {
    pub platform: Platform,
    pub rule: String,
    /// The event types it needs that the platform's exports never carry.
    pub missing: Vec<&'static str>,
}

/// The figures of the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Period {
    pub total: u64,
    /// Critical, high, medium, low, info.
    pub by_severity: [u64; 5],
    /// Every rule with an incident, most incidents first.
    pub by_rule: Vec<RuleCount>,
    /// Every ISO week from the first incident's (or `since`) to the last's (or `until`).
    pub weeks: Vec<Week>,
    /// People with more than one incident, most first.
    pub repeats: Vec<Repeat>,
    /// Open and acknowledged incidents, oldest first.
    pub open: Vec<OpenItem>,
    /// Possible IMY cases not resolved nor false positives, soonest deadline first.
    pub deadlines: Vec<Deadline>,
    /// The platforms seen in the period.
    pub platforms: Vec<Platform>,
    pub blind_spots: Vec<BlindSpot>,
}

/// Why a report cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report template cannot be rendered: {0}")]
    Template(String),
    #[error("no incident with that id in the report's period and scope")]
    NoSuchIncident,
    #[error("incident {0} is not a possible personal-data incident: there is no IMY draft for it")]
    NotReportable(String),
    #[error("cannot write the CSV: {0}")]
    Csv(String),
}

fn severity_index(s: Severity) -> usize {
    Severity::DESCENDING
        .iter()
        .position(|&x| x == s)
        .unwrap_or(4)
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The person behind an actor, from the directory, redacted for display.
fn person_of(actor: &crate::event::Actor, directory: Option<&Directory>) -> Person {
    let found = directory.and_then(|d| d.person(&actor.id));
    Person {
        id: shown(&actor.id),
        name: found
            .and_then(|p| p.name.clone())
            .or_else(|| actor.name.clone())
            .map(|n| shown(&n)),
        kind: actor.kind,
        unit: found.and_then(|p| p.unit.as_deref()).map(shown),
        manager: found.and_then(|p| p.manager.as_deref()).map(shown),
    }
}

fn in_scope(scope: &Scope, actor_id: &str, directory: Option<&Directory>) -> bool {
    let found = directory.and_then(|d| d.person(actor_id));
    match scope {
        Scope::All => true,
        Scope::Person(p) => same(p, actor_id),
        Scope::Unit(u) => found
            .and_then(|p| p.unit.as_deref())
            .is_some_and(|x| same(x, u)),
        Scope::Manager(m) => found
            .and_then(|p| p.manager.as_deref())
            .is_some_and(|x| same(x, m)),
    }
}

/// The domain of an address, lower case.
fn domain(id: &str) -> Option<String> {
    let (_, d) = id.rsplit_once('@')?;
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// Builds the report of `filter` from `store`.
pub fn build(store: &Store, filter: &Filter, src: Sources<'_>) -> Result<Report, ReportError> {
    let mut stored = Vec::new();
    store.each_incident(
        &IncidentFilter {
            since: filter.since,
            min_severity: None,
        },
        &mut |i| {
            let inc = &i.incident;
            if filter.until.is_some_and(|u| inc.time >= u) {
                return;
            }
            if filter.incident.as_deref().is_some_and(|id| id != inc.id) {
                return;
            }
            if !in_scope(&filter.scope, &inc.actor.id, src.directory) {
                return;
            }
            stored.push(i);
        },
    )?;
    let tx = store.read_transaction()?;
    let mut entries = Vec::with_capacity(stored.len());
    let mut meetings: HashMap<(Platform, String), Vec<crate::meeting::Observation>> =
        HashMap::new();
    for s in stored {
        let inc = s.incident;
        let history = tx.status_history(&inc.id)?;
        let key = (inc.platform, inc.meeting.clone());
        if !meetings.contains_key(&key) {
            let mk = MeetingKey {
                platform: inc.platform,
                id: inc.meeting.clone(),
            };
            let mut obs = Vec::new();
            for id in tx.meeting_and_aliases(&mk)? {
                let loaded = tx.load_meeting(&MeetingKey {
                    platform: inc.platform,
                    id,
                })?;
                obs.extend(loaded.observations);
            }
            obs.sort_by_key(|o| o.event.time);
            meetings.insert(key.clone(), obs);
        }
        let observations = meetings.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let imy = if crate::alert::render::reportable(&inc) {
            let discovered = match tx.first_alert_us(&inc.id)? {
                Some(us) => Timestamp::from_microsecond(us).unwrap_or(src.now),
                None => tx.first_recorded(&inc.id)?.unwrap_or(inc.time),
            };
            let hashes: BTreeSet<&str> = inc
                .evidence
                .findings
                .iter()
                .map(|f| f.hash.as_str())
                .collect();
            let own = domain(&inc.actor.id);
            let external = |a: &crate::event::Actor| match (a.kind, src.classifier) {
                (Some(k), _) => k != ActorKind::Internal,
                (None, Some(c)) if !c.is_empty() => c.kind(a) != ActorKind::Internal,
                _ => domain(&a.id) != own,
            };
            let domains: BTreeSet<String> = observations
                .iter()
                .filter(|o| {
                    matches!(o.event.kind, EventKind::ParticipantJoined { .. })
                        && external(&o.event.actor)
                })
                .filter_map(|o| domain(&o.event.actor.id))
                .map(|d| shown(&d))
                .collect();
            Some(Imy {
                discovered,
                deadline: discovered + SignedDuration::from_hours(72),
                people: hashes.len().max(1),
                external_domains: domains.into_iter().collect(),
            })
        } else {
            None
        };
        let (timeline, omitted) = timeline(&inc, observations);
        let profile = src.profiles.iter().find(|p| p.id == inc.profile);
        let routine = RoutineRef {
            file: shown(&inc.routine.file),
            section: shown(&inc.routine.section),
            title: profile.map(|p| shown(&p.name)),
            quote: profile
                .and_then(|p| p.rule(&inc.rule))
                .and_then(|r| r.quote.as_deref())
                .map(shown),
            profile: shown(&inc.profile),
        };
        let subject = subject(observations);
        let severity_history = tx.severity_history(&inc.id)?;
        entries.push(Entry {
            status: s.status.as_ref().map_or(Status::Open, |r| r.status),
            status_record: s.status.as_ref().map(status_info),
            history: history.iter().map(change).collect(),
            severity_history,
            person: person_of(&inc.actor, src.directory),
            routine,
            subject,
            timeline,
            timeline_omitted: omitted,
            imy,
            incident: inc,
        });
    }
    let platforms_seen = tx.platforms_seen(filter.since, filter.until)?;
    drop(tx);
    if filter.incident.is_some() && entries.is_empty() {
        return Err(ReportError::NoSuchIncident);
    }
    let period = period(&entries, filter, &platforms_seen, src.now);
    Ok(Report {
        generated: src.now,
        since: filter.since,
        until: filter.until,
        scope: match &filter.scope {
            Scope::All => Scope::All,
            Scope::Unit(u) => Scope::Unit(shown(u)),
            Scope::Manager(m) => Scope::Manager(shown(m)),
            Scope::Person(p) => Scope::Person(shown(p)),
        },
        incidents: entries,
        period,
    })
}

fn status_info(r: &StatusRecord) -> StatusInfo {
    StatusInfo {
        by: if r.by.is_empty() {
            "motesvakt".into()
        } else {
            shown(&r.by)
        },
        at: r.at,
        reason: r.reason,
        note: r.note.as_deref().map(shown),
    }
}

fn change(c: &StatusChange) -> Change {
    let info = status_info(&c.to);
    Change {
        from: c.from,
        to: c.to.status,
        by: info.by,
        at: info.at,
        reason: info.reason,
        note: info.note,
    }
}

/// The meeting's subject, when an observation kept one and nothing in it looks like patient
/// data: the observation drops a subject the detector found something in; what is left is
/// checked once more for identity numbers and for care keywords.
fn subject(observations: &[crate::meeting::Observation]) -> Option<String> {
    observations.iter().find_map(|o| {
        let EventKind::MeetingStarted {
            subject: Some(s), ..
        } = &o.event.kind
        else {
            return None;
        };
        let flagged = o.findings.iter().any(|f| f.field == TextField::Subject)
            || !o.context.is_empty()
            || super::redact_ids(s).is_some();
        (!flagged && !s.trim().is_empty()).then(|| shown(s))
    })
}

/// The meeting's relevant events: joins with their kind, admissions, recordings, shares,
/// control, chat and files with what was found in them (never their text), the end. At most
/// [`TIMELINE_MAX`], centred on the incident's event.
fn timeline(
    inc: &Incident,
    observations: &[crate::meeting::Observation],
) -> (Vec<TimelineItem>, usize) {
    let relevant: Vec<&crate::meeting::Observation> = observations
        .iter()
        .filter(|o| !matches!(o.event.kind, EventKind::ParticipantState { .. }))
        .collect();
    let trigger = relevant
        .iter()
        .position(|o| o.event.time >= inc.time)
        .unwrap_or(relevant.len().saturating_sub(1));
    let start = trigger
        .saturating_sub(TIMELINE_MAX / 2)
        .min(relevant.len().saturating_sub(TIMELINE_MAX));
    let shown_items: Vec<TimelineItem> = relevant
        .iter()
        .skip(start)
        .take(TIMELINE_MAX)
        .map(|o| {
            let target = match &o.event.kind {
                EventKind::ParticipantAdmitted { target }
                | EventKind::ControlGranted { target }
                | EventKind::ControlRevoked { target } => Some(shown(crate::i18n::who(target))),
                _ => None,
            };
            TimelineItem {
                time: o.event.time,
                event: o.event.kind.type_name(),
                actor: shown(crate::i18n::who(&o.event.actor)),
                actor_kind: o.event.actor.kind,
                target,
                findings: o
                    .findings
                    .iter()
                    .map(|f| f.finding.kind.as_str().to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                trigger: o.event.time == inc.time && same(&o.event.actor.id, &inc.actor.id),
            }
        })
        .collect();
    let omitted = relevant.len() - shown_items.len();
    (shown_items, omitted)
}

/// The ISO week of `t` in Swedish time: `2024-W18`.
pub fn iso_week(t: Timestamp) -> String {
    let d = crate::config::profile::swedish_date(t);
    let w = d.iso_week_date();
    format!("{}-W{:02}", w.year(), w.week())
}

fn period(
    entries: &[Entry],
    filter: &Filter,
    platforms_seen: &[Platform],
    now: Timestamp,
) -> Period {
    let mut p = Period {
        total: entries.len() as u64,
        ..Period::default()
    };
    let mut rules: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
    let mut weeks: BTreeMap<String, u64> = BTreeMap::new();
    let mut people: BTreeMap<String, (Person, BTreeMap<&str, u64>)> = BTreeMap::new();
    for e in entries {
        let i = &e.incident;
        let s = severity_index(i.severity);
        p.by_severity[s] += 1;
        rules.entry(i.rule.as_str()).or_default()[s] += 1;
        *weeks.entry(iso_week(i.time)).or_default() += 1;
        let person = people
            .entry(e.person.id.to_lowercase())
            .or_insert_with(|| (e.person.clone(), BTreeMap::new()));
        *person.1.entry(i.rule.as_str()).or_default() += 1;
        if matches!(e.status, Status::Open | Status::Acknowledged) {
            p.open.push(OpenItem {
                id: i.id.clone(),
                rule: i.rule.clone(),
                severity: i.severity,
                status: e.status,
                age_days: (now.as_second() - i.time.as_second()).max(0) / 86_400,
            });
        }
        if let Some(imy) = &e.imy
            && matches!(e.status, Status::Open | Status::Acknowledged)
        {
            p.deadlines.push(Deadline {
                id: i.id.clone(),
                rule: i.rule.clone(),
                deadline: imy.deadline,
                hours_left: (imy.deadline.as_second() - now.as_second()).div_euclid(3600),
            });
        }
    }
    p.by_rule = rules
        .into_iter()
        .map(|(rule, by_severity)| RuleCount {
            rule: rule.to_string(),
            total: by_severity.iter().sum(),
            by_severity,
        })
        .collect();
    p.by_rule
        .sort_by(|a, b| b.total.cmp(&a.total).then(a.rule.cmp(&b.rule)));
    // Every week of the period, the empty ones too, so that the chart shows quiet weeks.
    let first = filter
        .since
        .or_else(|| entries.first().map(|e| e.incident.time));
    let last = filter
        .until
        .map(|u| u - SignedDuration::from_secs(1))
        .or_else(|| entries.last().map(|e| e.incident.time))
        .map(|l| l.min(now.max(first.unwrap_or(now))));
    if let (Some(first), Some(last)) = (first, last) {
        let mut t = first;
        // At most two years of weeks.
        for _ in 0..110 {
            if t > last {
                break;
            }
            weeks.entry(iso_week(t)).or_default();
            t += SignedDuration::from_hours(24 * 7);
        }
        weeks.entry(iso_week(last)).or_default();
    }
    p.weeks = weeks
        .into_iter()
        .map(|(week, count)| Week { week, count })
        .collect();
    p.repeats = people
        .into_values()
        .filter_map(|(person, rules)| {
            let count: u64 = rules.values().sum();
            let mut rules: Vec<(String, u64)> =
                rules.into_iter().map(|(r, n)| (r.to_string(), n)).collect();
            rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            (count > 1).then_some(Repeat {
                person,
                count,
                rules,
            })
        })
        .collect();
    p.repeats
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.person.id.cmp(&b.person.id)));
    p.open
        .sort_by(|a, b| b.age_days.cmp(&a.age_days).then(a.id.cmp(&b.id)));
    p.deadlines
        .sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
    let mut platforms: BTreeSet<Platform> = platforms_seen.iter().copied().collect();
    platforms.extend(entries.iter().map(|e| e.incident.platform));
    p.platforms = platforms.into_iter().collect();
    for &platform in &p.platforms {
        for rule in crate::rules::RULES {
            let missing = crate::sources::coverage::missing(platform, rule.needs);
            if !missing.is_empty() {
                p.blind_spots.push(BlindSpot {
                    platform,
                    rule: rule.id.to_string(),
                    missing,
                });
            }
        }
    }
    p
}
