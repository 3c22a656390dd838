//! Writing an event (and an observation) as JSON: the common fields, `type`, then the type's
//! own fields, skipping what is absent. The form serde's derive would write, without its
//! buffering of flattened fields.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Event, EventKind};

/// Writes `value` under `key` when there is one.
fn opt<M: SerializeMap, T: Serialize>(
    m: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => m.serialize_entry(key, v),
        None => Ok(()),
    }
}

/// Writes the event's fields into a map being written.
pub(crate) fn write_event<M: SerializeMap>(m: &mut M, e: &Event) -> Result<(), M::Error> {
    m.serialize_entry("time", &e.time)?;
    m.serialize_entry("platform", &e.platform)?;
    m.serialize_entry("meeting", &e.meeting)?;
    m.serialize_entry("actor", &e.actor)?;
    m.serialize_entry("type", e.kind.type_name())?;
    match &e.kind {
        EventKind::MeetingStarted {
            subject,
            organizer,
            aliases,
        } => {
            opt(m, "subject", subject)?;
            opt(m, "organizer", organizer)?;
            if !aliases.is_empty() {
                m.serialize_entry("aliases", aliases)?;
            }
        }
        EventKind::MeetingEnded { reason } => opt(m, "reason", reason)?,
        EventKind::ParticipantJoined { role, via_lobby } => {
            opt(m, "role", role)?;
            opt(m, "via_lobby", via_lobby)?;
        }
        EventKind::ParticipantAdmitted { target }
        | EventKind::ControlGranted { target }
        | EventKind::ControlRevoked { target } => m.serialize_entry("target", target)?,
        EventKind::ParticipantState {
            presenting,
            streaming,
            waiting,
        } => {
            opt(m, "presenting", presenting)?;
            opt(m, "streaming", streaming)?;
            opt(m, "waiting", waiting)?;
        }
        EventKind::RecordingStarted { media } => m.serialize_entry("media", media)?,
        EventKind::RecordingCompleted {
            media,
            started,
            ended,
        } => {
            m.serialize_entry("media", media)?;
            opt(m, "started", started)?;
            opt(m, "ended", ended)?;
        }
        EventKind::ScreenShareStarted { scope } => opt(m, "scope", scope)?,
        EventKind::ChatMessage { text, message_id } => {
            m.serialize_entry("text", text)?;
            opt(m, "message_id", message_id)?;
        }
        EventKind::ChatMessageDeleted { message_id } => opt(m, "message_id", message_id)?,
        EventKind::FileShared { name } => m.serialize_entry("name", name)?,
        EventKind::Invitation { subject, body } => {
            m.serialize_entry("subject", subject)?;
            opt(m, "body", body)?;
        }
        EventKind::ParticipantLeft
        | EventKind::RecordingStopped
        | EventKind::TranscriptionStarted
        | EventKind::TranscriptionStopped
        | EventKind::ScreenShareStopped => {}
    }
    Ok(())
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        write_event(&mut m, self)?;
        m.end()
    }
}
