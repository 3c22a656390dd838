//! Meeting state: what motesvakt keeps of each event ([`Observation`]), and one meeting's
//! observations in time order with what the rules need to know of the whole ([`MeetingView`]).
//!
//! A view depends only on the set of the meeting's observations, never on the order, files or
//! batches they arrived in: they are sorted by time and source key, pairing across records is
//! derived from the sorted list ([`mod@derive`]), the meeting's subject raises the findings of its
//! chat and file names ([`crate::detect::Finding::lift`]), and sensitivity is decided over the
//! whole. That is what makes a batch scan and a service reading the same records in pieces
//! agree.

pub mod chat;
pub mod derive;
mod observation;
pub mod replay;

use crate::config::SensitivitySettings;
use crate::detect::{Confidence, TextContext, is_patient_data};
use crate::event::{Actor, EventKind, Platform, Role, TextField};
use crate::incident::Sensitivity;
use crate::phrases::SignalKind;
use crate::sources::RecordKey;
pub use observation::{FieldFinding, Observation};

/// A hash map for what one process holds (never stored, never shown): foldhash's fast hasher
/// instead of std's SipHash, which took 3.5 % of a native scan (the pipeline's maps are keyed
/// by meeting and source key and touched for every event). Keyed by input, so not with fixed
/// keys: each map is seeded at random (`foldhash::fast::RandomState`), which leaves an export
/// no practical way to aim its ids at one bucket. Iteration order is random, as with std's.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set, as [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Identifies a meeting: platform and the platform's meeting id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeetingKey {
    pub platform: Platform,
    pub id: String,
}

/// A [`MeetingKey`] whose id is borrowed, to look a meeting up in a map keyed by
/// [`MeetingKey`] without building an owned key (a `String`) for every event:
/// `map.get(&MeetingKeyRef { .. } as &dyn AsMeetingKey)`. It hashes and compares as the
/// owned key (the same fields, hashed in the same order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeetingKeyRef<'a> {
    pub platform: Platform,
    pub id: &'a str,
}

/// A meeting key, owned or borrowed: what a map keyed by [`MeetingKey`] can be looked up by.
pub trait AsMeetingKey {
    fn key_ref(&self) -> MeetingKeyRef<'_>;
}

impl AsMeetingKey for MeetingKey {
    fn key_ref(&self) -> MeetingKeyRef<'_> {
        MeetingKeyRef {
            platform: self.platform,
            id: &self.id,
        }
    }
}

impl AsMeetingKey for MeetingKeyRef<'_> {
    fn key_ref(&self) -> MeetingKeyRef<'_> {
        *self
    }
}

impl<'a> std::borrow::Borrow<dyn AsMeetingKey + 'a> for MeetingKey {
    fn borrow(&self) -> &(dyn AsMeetingKey + 'a) {
        self
    }
}

impl std::hash::Hash for dyn AsMeetingKey + '_ {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.key_ref().hash(h);
    }
}

impl PartialEq for dyn AsMeetingKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key_ref() == other.key_ref()
    }
}

impl Eq for dyn AsMeetingKey + '_ {}

impl MeetingKeyRef<'_> {
    /// The owned key.
    pub fn to_owned_key(self) -> MeetingKey {
        MeetingKey {
            platform: self.platform,
            id: self.id.to_string(),
        }
    }
}

/// The identity of one event: its source record's key and its place among the record's events.
/// Derived events (see [`mod@derive`]) have places from [`SourceKey::DERIVED`] up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    pub record: RecordKey,
    pub item: u16,
}

impl SourceKey {
    /// The first place of derived events.
    pub const DERIVED: u16 = 0x8000;

    pub fn new(record: RecordKey, item: u16) -> SourceKey {
        SourceKey { record, item }
    }

    /// The `n`-th event derived from this one (`n` < 64): distinct for each source event of a
    /// record (up to 512) and each `n`.
    pub fn derived(&self, n: u16) -> SourceKey {
        SourceKey {
            record: self.record,
            item: Self::DERIVED | ((self.item & 0x1ff) << 6) | (n & 0x3f),
        }
    }

    /// The key as stored: the record key then the place, big-endian, so that byte order is key
    /// order.
    pub fn to_bytes(self) -> [u8; 18] {
        let mut b = [0u8; 18];
        b[..16].copy_from_slice(self.record.as_bytes());
        b[16..].copy_from_slice(&self.item.to_be_bytes());
        b
    }

    /// A key written by [`SourceKey::to_bytes`]; `None` for bytes of another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<SourceKey> {
        if bytes.len() != 18 {
            return None;
        }
        let mut r = [0u8; 16];
        r.copy_from_slice(&bytes[..16]);
        Some(SourceKey {
            record: RecordKey::from_bytes(r),
            item: u16::from_be_bytes([bytes[16], bytes[17]]),
        })
    }
}

/// One meeting's observations in time order, with what the rules need to know of the whole.
#[derive(Debug)]
pub struct MeetingView {
    pub key: MeetingKey,
    /// Observations sorted by time, ties broken by source key, after [`mod@derive`]. Each keeps the
    /// meeting id its source filed it under (an alias, for a Teams meeting's Graph chat).
    pub observations: Vec<Observation>,
    /// For each observation, how many earlier ones were filed under the same meeting id with
    /// the same time, actor and type. Part of the incident id, so that two look-alike events
    /// give two incidents.
    pub ordinals: Vec<u32>,
    /// Set when the meeting is sensitive: patient data (at the configured confidence) seen
    /// anywhere in it, before or after any other event; a care keyword in its subject or
    /// invitation; or a meeting or organiser configured as care work.
    pub sensitive: Option<Sensitivity>,
    /// The organiser, when the events say who it is.
    pub organizer: Option<Actor>,
    /// The last chat message of each group of alike messages with patient data of which no
    /// more were kept ([`chat::CHAT_KEPT`]): there may have been more than the view holds.
    pub chat_full: FastSet<SourceKey>,
    /// The replay's [`replay::Moment`]s, made the first time a rule asks.
    moments: std::sync::OnceLock<Vec<replay::Moment>>,
}

impl MeetingView {
    /// Builds the view from the meeting's observations (its own and its aliases') in any order.
    /// `min` is the lowest confidence that counts as patient data.
    pub fn new(
        key: MeetingKey,
        mut observations: Vec<Observation>,
        min: Confidence,
        care: &SensitivitySettings,
    ) -> MeetingView {
        observations.sort_by(|a, b| a.event.time.cmp(&b.event.time).then(a.key.cmp(&b.key)));
        let surplus = chat::bound(&mut observations);
        let mut observations = derive::derive(observations);
        apply_subject_context(&mut observations);
        let mut ordinals = Vec::with_capacity(observations.len());
        for (i, o) in observations.iter().enumerate() {
            let same = observations[..i]
                .iter()
                .rev()
                .take_while(|p| p.event.time == o.event.time)
                .filter(|p| {
                    p.event.meeting == o.event.meeting
                        && p.event.actor.id == o.event.actor.id
                        && p.event.kind.type_name() == o.event.kind.type_name()
                })
                .count();
            ordinals.push(same as u32);
        }
        let organizer = find_organizer(&observations);
        let sensitive = sensitivity(&key, &observations, organizer.as_ref(), min, care);
        MeetingView {
            key,
            observations,
            ordinals,
            sensitive,
            organizer,
            chat_full: surplus.full,
            moments: std::sync::OnceLock::new(),
        }
    }

    /// The replay's moment after each observation (one replay, shared by every rule).
    pub fn moments(&self, classifier: &crate::org::Classifier) -> &[replay::Moment] {
        self.moments
            .get_or_init(|| replay::moments(self, classifier))
    }

    /// Whether `actor` is the meeting's organiser or a chair.
    pub fn is_organizer_or_chair(&self, actor: &Actor) -> bool {
        self.organizer.as_ref().is_some_and(|o| o.id == actor.id)
            || self.observations.iter().any(|o| {
                o.event.actor.id == actor.id
                    && matches!(
                        o.event.kind,
                        EventKind::ParticipantJoined {
                            role: Some(Role::Organizer | Role::Chair),
                            ..
                        }
                    )
            })
    }
}

/// The meeting's subjects (every one seen, in any event) raise the findings of its chat and
/// file names as the detector said they would.
fn apply_subject_context(observations: &mut [Observation]) {
    let context = observations
        .iter()
        .fold(TextContext::default(), |c, o| c.union(o.context));
    for o in observations.iter_mut() {
        for f in &mut o.findings {
            if matches!(f.field, TextField::Chat | TextField::FileName) {
                f.finding.confidence = f.finding.in_context(&context);
            }
            f.finding.lift = None;
        }
    }
}

/// Why the meeting counts as sensitive, if it does.
fn sensitivity(
    key: &MeetingKey,
    observations: &[Observation],
    organizer: Option<&Actor>,
    min: Confidence,
    care: &SensitivitySettings,
) -> Option<Sensitivity> {
    let as_sensitivity = |o: &Observation, f: &FieldFinding| Sensitivity {
        time: o.event.time,
        reason: "patient_data".into(),
        field: Some(f.field),
        kind: Some(f.finding.kind.as_str().to_string()),
    };
    // Patient data at the configured confidence; or, across the whole meeting, an identity
    // number one step below it together with a clinical signal (an ICD code, a clinical term),
    // as the detector judges.
    let patient_data = || {
        observations
            .iter()
            .find_map(|o| {
                o.findings_at_least(min)
                    .next()
                    .map(|f| as_sensitivity(o, f))
            })
            .or_else(|| {
                let all = observations
                    .iter()
                    .flat_map(|o| o.findings.iter().map(|f| &f.finding));
                if !is_patient_data(all, min) {
                    return None;
                }
                observations.iter().find_map(|o| {
                    o.findings
                        .iter()
                        .find(|f| f.finding.kind.is_identity())
                        .map(|f| as_sensitivity(o, f))
                })
            })
    };
    let keyword = || {
        observations.iter().find_map(|o| {
            o.signal(SignalKind::CareKeyword).map(|s| Sensitivity {
                time: o.event.time,
                reason: "care_keyword".into(),
                field: Some(s.field),
                kind: Some(s.phrase.clone()),
            })
        })
    };
    let configured = || {
        let time = observations.first()?.event.time;
        let reason = if care.care_meetings.contains(&key.id) {
            "care_meeting"
        } else if organizer.is_some_and(|o| care.is_care_organizer(&o.id)) {
            "care_organizer"
        } else {
            return None;
        };
        Some(Sensitivity {
            time,
            reason: reason.into(),
            field: None,
            kind: None,
        })
    };
    patient_data().or_else(keyword).or_else(configured)
}

/// The organiser: named in `meeting_started`, else the first participant who joined as
/// organiser, else whoever started the meeting.
fn find_organizer(observations: &[Observation]) -> Option<Actor> {
    let named = observations.iter().find_map(|o| match &o.event.kind {
        EventKind::MeetingStarted {
            organizer: Some(org),
            ..
        } => Some(org.clone()),
        _ => None,
    });
    named
        .or_else(|| {
            observations.iter().find_map(|o| match o.event.kind {
                EventKind::ParticipantJoined {
                    role: Some(Role::Organizer),
                    ..
                } => Some(o.event.actor.clone()),
                _ => None,
            })
        })
        .or_else(|| {
            observations.iter().find_map(|o| match o.event.kind {
                EventKind::MeetingStarted { .. } => Some(o.event.actor.clone()),
                _ => None,
            })
        })
}
