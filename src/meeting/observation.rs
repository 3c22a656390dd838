//! What motesvakt keeps of each event: an [`Observation`], the event after the detector has
//! read its texts.
//!
//! This is where patient data is redacted: chat text is never kept, and any other text
//! (subject, invitation, file name) in which the detector found something is dropped. Every
//! identifier and name that is kept (meeting id, aliases, message ids, actor ids and display
//! names of actors, organisers and targets, kept subjects and file names) then passes one
//! redaction that ignores context and `[detect.formats]` ([`Detector::redact`],
//! [`Detector::redact_id`]). A number in the meeting's id or in the event's actor's display name (the
//! id, for an actor without one) is also a finding ([`TextField::MeetingId`],
//! [`TextField::DisplayName`]): everyone in the meeting saw it.
//! Only observations are stored, judged and reported.
//!
//! An observation depends on its own record only: the detector is not given the meeting's
//! subject (it may come in another file or batch), it records how the subject would raise each
//! finding ([`crate::detect::Finding::lift`]), and the subject's own observation keeps what it
//! says as a [`TextContext`]. The meeting view applies one to the other.

use serde::{Deserialize, Serialize};

use super::SourceKey;
use crate::detect::{Confidence, Context, Detector, Finding, TextContext};
use crate::event::{Actor, Event, EventKind, TextField};
use crate::incident::EvidenceFinding;
use crate::phrases::{Signal, SignalKind, Signals};

/// A finding and the text it was made in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldFinding {
    pub field: TextField,
    #[serde(flatten)]
    pub finding: Finding,
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

/// An event as motesvakt keeps it: free text removed, findings and phrase signals attached.
/// Its JSON is the event's, with `findings`, `signals` and `context` beside its fields (read and
/// written by hand, see `event/de.rs` and `event/ser.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The source record's key and the event's place in it; stored beside the body, not in it.
    pub key: SourceKey,
    pub event: Event,
    pub findings: Vec<FieldFinding>,
    pub signals: Vec<Signal>,
    /// What the event's subject says about the numbers in the meeting's chat and file names
    /// (identity and patient keywords), for meetings whose subject this event gives.
    pub context: TextContext,
}

impl Serialize for Observation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        crate::event::write_event(&mut m, &self.event)?;
        if !self.findings.is_empty() {
            m.serialize_entry("findings", &self.findings)?;
        }
        if !self.signals.is_empty() {
            m.serialize_entry("signals", &self.signals)?;
        }
        if !self.context.is_empty() {
            m.serialize_entry("context", &self.context)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Observation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Observation, D::Error> {
        let r = crate::event::Read::deserialize(d)?;
        Ok(Observation {
            key: SourceKey::default(),
            event: r.event,
            findings: r.findings,
            signals: r.signals,
            context: r.context,
        })
    }
}

impl Observation {
    /// Reads the texts of `event` with the detector and keeps only what is safe to keep.
    pub fn from_event(
        key: SourceKey,
        event: Event,
        detector: &Detector,
        phrases: &Signals,
    ) -> Observation {
        Observation::from_event_lent(key, event, None, detector, phrases)
    }

    /// [`Observation::from_event`] for an event whose chat text the reader lent instead of
    /// copying it (`chat_text`, see [`crate::sources::Record::chat_text`]): when `Some` and
    /// the event is a chat message, that is the text read (the event's own is empty).
    pub fn from_event_lent(
        key: SourceKey,
        mut event: Event,
        chat_text: Option<&str>,
        detector: &Detector,
        phrases: &Signals,
    ) -> Observation {
        let mut findings = Vec::new();
        let mut signals = Vec::new();
        let mut context = TextContext::default();
        // Identifiers and names: a number in what people in the meeting see (its id or room
        // name, the actor's display name) is a finding; every identifier and name is redacted.
        // Each is looked at once; only one that holds a number is scanned for findings.
        if let Some(redacted) = detector.redact_id(&event.meeting) {
            identifier_findings(
                TextField::MeetingId,
                &event.meeting,
                detector,
                &mut findings,
            );
            event.meeting = redacted;
        }
        // The event's own actor: organisers and targets are the actors of events of their own.
        redact_actor_noting(&mut event.actor, detector, &mut findings);
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
        let none = Context {
            related: &[],
            time: Some(event.time),
        };
        match &mut event.kind {
            EventKind::ChatMessage { text, message_id } => {
                scan(TextField::Chat, chat_text.unwrap_or(text), &none);
                // Chat text is never kept, with or without findings (nor its buffer).
                *text = String::new();
                if let Some(id) = message_id {
                    redact_id_in_place(id, detector);
                }
            }
            EventKind::ChatMessageDeleted {
                message_id: Some(id),
            } => redact_id_in_place(id, detector),
            EventKind::MeetingStarted {
                subject,
                organizer,
                aliases,
            } => {
                if let Some(s) = subject {
                    context = detector.context_of(s);
                    if scan(TextField::Subject, s, &none) {
                        *subject = None;
                    } else {
                        redact_in_place(s, detector);
                    }
                }
                if let Some(o) = organizer {
                    redact_actor(o, detector);
                }
                for alias in aliases {
                    redact_id_in_place(alias, detector);
                }
            }
            EventKind::Invitation { subject, body } => {
                context = detector.context_of(subject);
                if scan(TextField::Subject, subject, &none) {
                    subject.clear();
                }
                if let Some(b) = body.take() {
                    // The body is read, never kept: it is long and may hold anything.
                    scan(
                        TextField::Body,
                        &b,
                        &Context {
                            related: &[subject.as_str()],
                            time: Some(event.time),
                        },
                    );
                }
                redact_in_place(subject, detector);
            }
            EventKind::FileShared { name } => {
                if scan(TextField::FileName, name, &none) {
                    name.clear();
                } else {
                    redact_in_place(name, detector);
                }
            }
            EventKind::ParticipantAdmitted { target }
            | EventKind::ControlGranted { target }
            | EventKind::ControlRevoked { target } => redact_actor(target, detector),
            _ => {}
        }
        Observation {
            key,
            event,
            findings,
            signals,
            context,
        }
    }

    /// Whether a phrase of this kind matched in the event's texts.
    pub fn signal(&self, kind: SignalKind) -> Option<&Signal> {
        self.signals.iter().find(|s| s.kind == kind)
    }

    /// Findings at or above `min`, in any text of the event. Weak signals (ICD codes, clinical
    /// terms) are left out: alone they are not patient data (see [`super::MeetingView::new`]).
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

    /// A chat message whose only findings are weak signals (ICD codes, clinical terms) and that
    /// has no phrase signal. The rules need no more of such messages than that the meeting has
    /// one, and when each actor first wrote one ([`super::MeetingView::new`] keeps the first
    /// per meeting id and actor, [`crate::pipeline`] stores no more than that of a batch), so
    /// that meeting state does not grow with a long chat full of clinical words.
    pub fn is_weak_only_chat(&self) -> bool {
        matches!(self.event.kind, EventKind::ChatMessage { .. })
            && self.signals.is_empty()
            && !self.findings.is_empty()
            && self.findings.iter().all(|f| f.finding.is_weak_signal())
    }

    /// The meeting's key, borrowed from the event.
    pub fn meeting_key_ref(&self) -> super::MeetingKeyRef<'_> {
        super::MeetingKeyRef {
            platform: self.event.platform,
            id: &self.event.meeting,
        }
    }

    pub fn meeting_key(&self) -> super::MeetingKey {
        self.meeting_key_ref().to_owned_key()
    }
}

/// The findings of an identifier or name people in the meeting see.
fn identifier_findings(
    field: TextField,
    text: &str,
    detector: &Detector,
    findings: &mut Vec<FieldFinding>,
) {
    findings.extend(
        detector
            .scan_identifier(text)
            .into_iter()
            .map(|finding| FieldFinding { field, finding }),
    );
}

/// [`redact_actor`] for the event's actor, noting the findings in what people see of it: its
/// display name, or its id when it has none.
fn redact_actor_noting(actor: &mut Actor, detector: &Detector, findings: &mut Vec<FieldFinding>) {
    let id = detector.redact_id(&actor.id);
    let name = actor.name.as_deref().and_then(|n| detector.redact(n));
    let shown_has_number = match actor.name {
        Some(_) => name.is_some(),
        None => id.is_some(),
    };
    if shown_has_number {
        let shown = actor.name.as_deref().unwrap_or(&actor.id);
        identifier_findings(TextField::DisplayName, shown, detector, findings);
    }
    if let Some(id) = id {
        actor.id = id;
    }
    if let Some(name) = name {
        actor.name = Some(name);
    }
}

/// Replaces every identity, interim or reserve number in an actor's id (keyed, so that two
/// phone participants stay two) and name by its redacted form, whatever `[detect.formats]`
/// says. Phone participants' ids and dial-in display names are where identity numbers hide.
fn redact_actor(actor: &mut Actor, detector: &Detector) {
    redact_id_in_place(&mut actor.id, detector);
    if let Some(name) = &mut actor.name {
        redact_in_place(name, detector);
    }
}

/// A name or kept text: numbers replaced by `*`s.
fn redact_in_place(text: &mut String, detector: &Detector) {
    if let Some(redacted) = detector.redact(text) {
        *text = redacted;
    }
}

/// An identifier that groups events: numbers replaced by `*`s and a keyed hash, so that ids
/// that differ only in the number stay apart (see [`Detector::redact_id`]).
fn redact_id_in_place(text: &mut String, detector: &Detector) {
    if let Some(redacted) = detector.redact_id(text) {
        *text = redacted;
    }
}
