//! Reading an event (and an observation, which is an event plus what the detector found) from
//! JSON in one pass.
//!
//! The JSON form puts the event type's own fields beside the common ones (`"type":
//! "chat_message", "text": ...`). serde's derive reads that form (`flatten` over an internally
//! tagged enum) by buffering every field of the object first, which made parsing the largest
//! part of a scan. This visitor reads each field once, straight into its place, and builds the
//! type's variant at the end. Unknown fields are skipped; a field the type needs and does not
//! have is reported as serde would (`missing field `text``).

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Actor, EndReason, Event, EventKind, Media, Platform, Role, ShareScope};
use crate::detect::TextContext;
use crate::meeting::FieldFinding;
use crate::phrases::Signal;

/// Every field name an event or observation can have.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Time,
    Platform,
    Meeting,
    Actor,
    Type,
    Subject,
    Organizer,
    Aliases,
    Reason,
    Role,
    ViaLobby,
    Target,
    Media,
    Started,
    Ended,
    Presenting,
    Streaming,
    Waiting,
    Scope,
    Text,
    MessageId,
    Name,
    Body,
    Findings,
    Signals,
    Context,
    #[serde(other)]
    Other,
}

/// The fields read so far.
#[derive(Default)]
struct Fields {
    time: Option<Timestamp>,
    platform: Option<Platform>,
    meeting: Option<String>,
    actor: Option<Actor>,
    ty: Option<String>,
    subject: Option<String>,
    organizer: Option<Actor>,
    aliases: Option<Vec<String>>,
    reason: Option<EndReason>,
    role: Option<Role>,
    via_lobby: Option<bool>,
    target: Option<Actor>,
    media: Option<Media>,
    started: Option<Timestamp>,
    ended: Option<Timestamp>,
    presenting: Option<bool>,
    streaming: Option<bool>,
    waiting: Option<bool>,
    scope: Option<ShareScope>,
    text: Option<String>,
    message_id: Option<String>,
    name: Option<String>,
    body: Option<String>,
    findings: Option<Vec<FieldFinding>>,
    signals: Option<Vec<Signal>>,
    context: Option<TextContext>,
}

/// An event read from JSON, with the observation's fields when the JSON had them.
pub(crate) struct Read {
    pub event: Event,
    pub findings: Vec<FieldFinding>,
    pub signals: Vec<Signal>,
    pub context: TextContext,
}

struct ReadVisitor;

/// A time field as read: parsed and checked by [`super::parse_event_time`] without allocating,
/// the error named with its field by [`checked_time`].
struct TimeField(Result<Timestamp, super::TimeError>);

impl<'de> Deserialize<'de> for TimeField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TimeField, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TimeField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 time")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TimeField, E> {
                Ok(TimeField(super::parse_event_time(s)))
            }
        }
        d.deserialize_str(V)
    }
}

fn checked_time<'de, A: MapAccess<'de>>(
    v: Option<TimeField>,
    field: &str,
) -> Result<Option<Timestamp>, A::Error> {
    v.map(|t| {
        t.0.map_err(|e| de::Error::custom(format_args!("field `{field}` {e}")))
    })
    .transpose()
}

impl<'de> Visitor<'de> for ReadVisitor {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut f = Fields::default();
        while let Some(key) = map.next_key::<Field>()? {
            // `null` reads as absent for every optional field, as with serde's derive.
            match key {
                Field::Time => f.time = checked_time::<A>(map.next_value()?, "time")?,
                Field::Platform => f.platform = map.next_value()?,
                Field::Meeting => f.meeting = map.next_value()?,
                Field::Actor => f.actor = map.next_value()?,
                Field::Type => f.ty = map.next_value()?,
                Field::Subject => f.subject = map.next_value()?,
                Field::Organizer => f.organizer = map.next_value()?,
                Field::Aliases => f.aliases = map.next_value()?,
                Field::Reason => f.reason = map.next_value()?,
                Field::Role => f.role = map.next_value()?,
                Field::ViaLobby => f.via_lobby = map.next_value()?,
                Field::Target => f.target = map.next_value()?,
                Field::Media => f.media = map.next_value()?,
                Field::Started => f.started = checked_time::<A>(map.next_value()?, "started")?,
                Field::Ended => f.ended = checked_time::<A>(map.next_value()?, "ended")?,
                Field::Presenting => f.presenting = map.next_value()?,
                Field::Streaming => f.streaming = map.next_value()?,
                Field::Waiting => f.waiting = map.next_value()?,
                Field::Scope => f.scope = map.next_value()?,
                Field::Text => f.text = map.next_value()?,
                Field::MessageId => f.message_id = map.next_value()?,
                Field::Name => f.name = map.next_value()?,
                Field::Body => f.body = map.next_value()?,
                Field::Findings => f.findings = map.next_value()?,
                Field::Signals => f.signals = map.next_value()?,
                Field::Context => f.context = map.next_value()?,
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        build(f)
    }
}

fn missing<E: de::Error>(field: &'static str) -> E {
    E::missing_field(field)
}

fn build<E: de::Error>(f: Fields) -> Result<Read, E> {
    let ty = f.ty.ok_or_else(|| missing("type"))?;
    let kind = match ty.as_str() {
        "meeting_started" => EventKind::MeetingStarted {
            subject: f.subject,
            organizer: f.organizer,
            aliases: f.aliases.unwrap_or_default(),
        },
        "meeting_ended" => EventKind::MeetingEnded { reason: f.reason },
        "participant_joined" => EventKind::ParticipantJoined {
            role: f.role,
            via_lobby: f.via_lobby,
        },
        "participant_admitted" => EventKind::ParticipantAdmitted {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        "participant_left" => EventKind::ParticipantLeft,
        "participant_state" => EventKind::ParticipantState {
            presenting: f.presenting,
            streaming: f.streaming,
            waiting: f.waiting,
        },
        "recording_started" => EventKind::RecordingStarted {
            media: f.media.ok_or_else(|| missing("media"))?,
        },
        "recording_stopped" => EventKind::RecordingStopped,
        "recording_completed" => EventKind::RecordingCompleted {
            media: f.media.ok_or_else(|| missing("media"))?,
            started: f.started,
            ended: f.ended,
        },
        "transcription_started" => EventKind::TranscriptionStarted,
        "transcription_stopped" => EventKind::TranscriptionStopped,
        "screen_share_started" => EventKind::ScreenShareStarted { scope: f.scope },
        "screen_share_stopped" => EventKind::ScreenShareStopped,
        "control_granted" => EventKind::ControlGranted {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        "control_revoked" => EventKind::ControlRevoked {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        "chat_message" => EventKind::ChatMessage {
            text: f.text.ok_or_else(|| missing("text"))?,
            message_id: f.message_id,
        },
        "chat_message_deleted" => EventKind::ChatMessageDeleted {
            message_id: f.message_id,
        },
        "file_shared" => EventKind::FileShared {
            name: f.name.ok_or_else(|| missing("name"))?,
        },
        "invitation" => EventKind::Invitation {
            subject: f.subject.ok_or_else(|| missing("subject"))?,
            body: f.body,
        },
        other => return Err(E::unknown_variant(other, super::EVENT_TYPES)),
    };
    Ok(Read {
        event: Event {
            time: f.time.ok_or_else(|| missing("time"))?,
            platform: f.platform.ok_or_else(|| missing("platform"))?,
            meeting: f.meeting.ok_or_else(|| missing("meeting"))?,
            actor: f.actor.ok_or_else(|| missing("actor"))?,
            kind,
        },
        findings: f.findings.unwrap_or_default(),
        signals: f.signals.unwrap_or_default(),
        context: f.context.unwrap_or_default(),
    })
}

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Read, D::Error> {
        d.deserialize_map(ReadVisitor)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        Read::deserialize(d).map(|r| r.event)
    }
}
