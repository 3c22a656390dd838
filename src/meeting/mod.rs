//! Meeting state: what motesvakt keeps of each event, and a meeting's events in time order.
//!
//! An [`Observation`] is an event after the detector has read its texts. This is where patient
//! data is redacted: chat text is never kept, and any other text (subject, invitation, file
//! name, actor names and ids) in which the detector found something is dropped or has the match
//! replaced by its redacted form. Only observations are stored, judged and reported.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod replay;

use crate::config::SensitivitySettings;
use crate::detect::{Confidence, Context, Detector, Finding, hex};
use crate::event::{Actor, Event, EventKind, Platform, Role, TextField};
use crate::incident::{EvidenceFinding, Sensitivity};
use crate::phrases::{Signal, SignalKind, Signals};

/// A finding and the text it was made in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldFinding {
    pub field: TextField,
    #[serde(flatten)]
    pub finding: Finding,
}

/// An event as motesvakt keeps it: free text removed, findings and phrase signals attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    #[serde(flatten)]
    pub event: Event,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FieldFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<Signal>,
}

/// Identifies a meeting: platform and the platform's meeting id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeetingKey {
    pub platform: Platform,
    pub id: String,
}

impl Observation {
    /// Reads the texts of `event` with the detector and keeps only what is safe to keep.
    /// `subject` is the meeting's subject when known, used as context for chat messages.
    pub fn from_event(
        mut event: Event,
        detector: &Detector,
        phrases: &Signals,
        subject: Option<&str>,
    ) -> Observation {
        let mut findings = Vec::new();
        let mut signals = Vec::new();
        let related: Vec<&str> = subject.into_iter().collect();
        let ctx = Context { related: &related };
        let mut scan = |field: TextField, text: &str, ctx: &Context<'_>| -> bool {
            phrases.scan(field, text, &mut signals);
            let found = detector.scan(text, ctx);
            let any = !found.is_empty();
            findings.extend(
                found
                    .into_iter()
                    .map(|finding| FieldFinding { field, finding }),
            );
            any
        };
        match &mut event.kind {
            EventKind::ChatMessage { text, .. } => {
                scan(TextField::Chat, text, &ctx);
                // Chat text is never kept, with or without findings.
                text.clear();
            }
            EventKind::MeetingStarted {
                subject, organizer, ..
            } => {
                if let Some(s) = subject
                    && scan(TextField::Subject, s, &Context::default())
                {
                    *subject = None;
                }
                if let Some(o) = organizer {
                    redact_actor(o, detector);
                }
            }
            EventKind::Invitation { subject, body } => {
                if scan(TextField::Subject, subject, &Context::default()) {
                    subject.clear();
                }
                if let Some(b) = body.take() {
                    // The body is read, never kept: it is long and may hold anything.
                    scan(
                        TextField::Body,
                        &b,
                        &Context {
                            related: &[subject.as_str()],
                        },
                    );
                }
            }
            EventKind::FileShared { name } if scan(TextField::FileName, name, &ctx) => {
                name.clear();
            }
            EventKind::ParticipantAdmitted { target }
            | EventKind::ControlGranted { target }
            | EventKind::ControlRevoked { target } => redact_actor(target, detector),
            _ => {}
        }
        redact_actor(&mut event.actor, detector);
        Observation {
            event,
            findings,
            signals,
        }
    }

    /// Whether a phrase of this kind matched in the event's texts.
    pub fn signal(&self, kind: SignalKind) -> Option<&Signal> {
        self.signals.iter().find(|s| s.kind == kind)
    }

    /// Findings at or above `min`, in any text of the event. Weak signals (ICD codes, clinical
    /// terms) are left out: alone they are not patient data (see [`MeetingView::new`]).
    pub fn findings_at_least(&self, min: Confidence) -> impl Iterator<Item = &FieldFinding> {
        self.findings
            .iter()
            .filter(move |f| f.finding.confidence >= min && !f.finding.is_weak_signal())
    }

    /// Whether the rules can use this observation. A chat message in which nothing was found
    /// (no patient data, no phrase signal) carries nothing a rule judges, so it is not kept:
    /// meeting state then grows with what happens in meetings, not with chat volume.
    pub fn worth_keeping(&self) -> bool {
        !matches!(self.event.kind, EventKind::ChatMessage { .. })
            || !self.findings.is_empty()
            || !self.signals.is_empty()
    }

    /// A fingerprint of the observation's full content. Feeding the same event twice (the same
    /// file scanned again, or two exports of the same record) gives the same key.
    pub fn key(&self) -> String {
        Observation::key_of_json(&serde_json::to_vec(self).unwrap_or_default())
    }

    /// [`Observation::key`] from the observation's JSON, for callers that already have it.
    pub fn key_of_json(json: &[u8]) -> String {
        hex(&Sha256::digest(json)[..16])
    }

    pub fn meeting_key(&self) -> MeetingKey {
        MeetingKey {
            platform: self.event.platform,
            id: self.event.meeting.clone(),
        }
    }
}

/// Replaces anything the detector finds in an actor's id or name by its redacted form. Phone
/// participants' ids and dial-in display names are where identity numbers hide.
fn redact_actor(actor: &mut Actor, detector: &Detector) {
    redact_in_place(&mut actor.id, detector);
    if let Some(name) = &mut actor.name {
        redact_in_place(name, detector);
    }
}

fn redact_in_place(text: &mut String, detector: &Detector) {
    let found = detector.scan(text, &Context::default());
    if found.is_empty() {
        return;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in &found {
        if f.span.start < last || f.span.end > text.len() {
            continue;
        }
        out.push_str(&text[last..f.span.start]);
        out.push_str(&f.redacted);
        last = f.span.end;
    }
    out.push_str(&text[last..]);
    *text = out;
}

/// One meeting's observations in time order, with what the rules need to know of the whole.
#[derive(Debug)]
pub struct MeetingView {
    pub key: MeetingKey,
    /// Observations sorted by time (ties broken by content key, so the order is stable).
    pub observations: Vec<Observation>,
    /// For each observation, how many earlier ones have the same time, actor and type. Part of
    /// the incident id, so that two look-alike events give two incidents.
    pub ordinals: Vec<u32>,
    /// Set when the meeting is sensitive: patient data (at the configured confidence) seen
    /// anywhere in it, before or after any other event; a care keyword in its subject or
    /// invitation; or a meeting or organiser configured as care work.
    pub sensitive: Option<Sensitivity>,
    /// The organiser, when the events say who it is.
    pub organizer: Option<Actor>,
}

impl MeetingView {
    /// Builds the view from the meeting's observations in any order.
    pub fn new(
        key: MeetingKey,
        observations: Vec<Observation>,
        detector: &Detector,
        care: &SensitivitySettings,
    ) -> MeetingView {
        let min = detector.min_confidence();
        let mut keyed: Vec<(String, Observation)> =
            observations.into_iter().map(|o| (o.key(), o)).collect();
        keyed.sort_by(|a, b| a.1.event.time.cmp(&b.1.event.time).then(a.0.cmp(&b.0)));
        let observations: Vec<Observation> = keyed.into_iter().map(|(_, o)| o).collect();
        let mut ordinals = Vec::with_capacity(observations.len());
        for (i, o) in observations.iter().enumerate() {
            let same = observations[..i]
                .iter()
                .rev()
                .take_while(|p| p.event.time == o.event.time)
                .filter(|p| {
                    p.event.actor.id == o.event.actor.id
                        && p.event.kind.type_name() == o.event.kind.type_name()
                })
                .count();
            ordinals.push(same as u32);
        }
        let organizer = find_organizer(&observations);
        let first_time = observations.first().map(|o| o.event.time);
        let as_sensitivity = |o: &Observation, f: &FieldFinding| Sensitivity {
            time: o.event.time,
            reason: "patient_data".into(),
            field: Some(f.field),
            kind: Some(f.finding.kind.as_str().to_string()),
        };
        // Patient data at the configured confidence; or, across the whole meeting, an identity
        // number one step below it together with a clinical signal (an ICD code, a clinical
        // term), as the detector judges.
        let patient_data = observations
            .iter()
            .find_map(|o| {
                o.findings_at_least(min)
                    .next()
                    .map(|f| as_sensitivity(o, f))
            })
            .or_else(|| {
                let all: Vec<Finding> = observations
                    .iter()
                    .flat_map(|o| o.findings.iter().map(|f| f.finding.clone()))
                    .collect();
                if !detector.is_patient_data(&all) {
                    return None;
                }
                observations.iter().find_map(|o| {
                    o.findings
                        .iter()
                        .find(|f| f.finding.kind.is_identity())
                        .map(|f| as_sensitivity(o, f))
                })
            });
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
            let time = first_time?;
            let reason = if care.care_meetings.contains(&key.id) {
                "care_meeting"
            } else if organizer
                .as_ref()
                .is_some_and(|o| care.is_care_organizer(&o.id))
            {
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
        let sensitive = patient_data.or_else(keyword).or_else(configured);
        MeetingView {
            key,
            observations,
            ordinals,
            sensitive,
            organizer,
        }
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

impl From<&FieldFinding> for EvidenceFinding {
    fn from(f: &FieldFinding) -> Self {
        EvidenceFinding {
            field: f.field,
            kind: f.finding.kind.as_str().to_string(),
            confidence: f.finding.confidence,
            redacted: f.finding.redacted.clone(),
            hash: f.finding.hash.clone(),
        }
    }
}
