//! Reading an event (and an observation, which is an event plus what the detector found) from
//! JSON in one pass.
//!
//! The JSON form puts the event type's own fields beside the common ones (`"type":
//! "chat_message", "text": ...`). serde's derive reads that form (`flatten` over an internally
//! tagged enum) by buffering every field of the object first, which made parsing the largest
//! part of a scan. This visitor reads each field once, straight into its place, and builds the
//! type's variant at the end. Unknown fields are skipped; a field the type needs and does not
//! have is reported as serde would (`missing field `text``).
//!
//! Error messages never hold a value: a field whose value does not fit is reported by its name
//! and what it must hold ([`EXPECTED`]), written here, instead of serde's message (which quotes
//! the value, and a value may hold an identity number). [`known_message`] tells the messages
//! this module makes from any other text, so that only those are shown.

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

/// The event types, read from `type` without allocating (a `String` for every event cost a
/// malloc and a free); any other text is [`Type::Unknown`].
#[derive(serde::Deserialize, Clone, Copy)]
#[serde(field_identifier, rename_all = "snake_case")]
pub(super) enum Type {
    MeetingStarted,
    MeetingEnded,
    ParticipantJoined,
    ParticipantAdmitted,
    ParticipantLeft,
    ParticipantState,
    RecordingStarted,
    RecordingStopped,
    RecordingCompleted,
    TranscriptionStarted,
    TranscriptionStopped,
    ScreenShareStarted,
    ScreenShareStopped,
    ControlGranted,
    ControlRevoked,
    ChatMessage,
    ChatMessageDeleted,
    FileShared,
    Invitation,
    #[serde(other)]
    Unknown,
}

/// The fields read so far.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) time: Option<Timestamp>,
    pub(super) platform: Option<Platform>,
    pub(super) meeting: Option<String>,
    pub(super) actor: Option<Actor>,
    pub(super) ty: Option<Type>,
    pub(super) subject: Option<String>,
    pub(super) organizer: Option<Actor>,
    pub(super) aliases: Option<Vec<String>>,
    pub(super) reason: Option<EndReason>,
    pub(super) role: Option<Role>,
    pub(super) via_lobby: Option<bool>,
    pub(super) target: Option<Actor>,
    pub(super) media: Option<Media>,
    pub(super) started: Option<Timestamp>,
    pub(super) ended: Option<Timestamp>,
    pub(super) presenting: Option<bool>,
    pub(super) streaming: Option<bool>,
    pub(super) waiting: Option<bool>,
    pub(super) scope: Option<ShareScope>,
    pub(super) text: Option<String>,
    pub(super) message_id: Option<String>,
    pub(super) name: Option<String>,
    pub(super) body: Option<String>,
    pub(super) findings: Option<Vec<FieldFinding>>,
    pub(super) signals: Option<Vec<Signal>>,
    pub(super) context: Option<TextContext>,
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
                Field::Time => f.time = checked_time::<A>(value(&mut map, "time")?, "time")?,
                Field::Platform => f.platform = value(&mut map, "platform")?,
                Field::Meeting => f.meeting = value(&mut map, "meeting")?,
                Field::Actor => f.actor = value(&mut map, "actor")?,
                Field::Type => f.ty = value(&mut map, "type")?,
                Field::Subject => f.subject = value(&mut map, "subject")?,
                Field::Organizer => f.organizer = value(&mut map, "organizer")?,
                Field::Aliases => f.aliases = value(&mut map, "aliases")?,
                Field::Reason => f.reason = value(&mut map, "reason")?,
                Field::Role => f.role = value(&mut map, "role")?,
                Field::ViaLobby => f.via_lobby = value(&mut map, "via_lobby")?,
                Field::Target => f.target = value(&mut map, "target")?,
                Field::Media => f.media = value(&mut map, "media")?,
                Field::Started => {
                    f.started = checked_time::<A>(value(&mut map, "started")?, "started")?
                }
                Field::Ended => f.ended = checked_time::<A>(value(&mut map, "ended")?, "ended")?,
                Field::Presenting => f.presenting = value(&mut map, "presenting")?,
                Field::Streaming => f.streaming = value(&mut map, "streaming")?,
                Field::Waiting => f.waiting = value(&mut map, "waiting")?,
                Field::Scope => f.scope = value(&mut map, "scope")?,
                Field::Text => f.text = value(&mut map, "text")?,
                Field::MessageId => f.message_id = value(&mut map, "message_id")?,
                Field::Name => f.name = value(&mut map, "name")?,
                Field::Body => f.body = value(&mut map, "body")?,
                Field::Findings => f.findings = value(&mut map, "findings")?,
                Field::Signals => f.signals = value(&mut map, "signals")?,
                Field::Context => f.context = value(&mut map, "context")?,
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

/// What each field must hold, in the words of the messages: `field `media` must be video or
/// audio`.
const EXPECTED: &[(&str, &str)] = &[
    ("time", "a string"),
    ("platform", "one of teams, pexip, zoom, webex, skype, other"),
    ("meeting", "a string"),
    ("actor", ACTOR),
    ("type", "a string"),
    ("subject", "a string"),
    ("organizer", ACTOR),
    ("aliases", "a list of strings"),
    (
        "reason",
        "one of ended_by_host, last_left, timeout, unknown",
    ),
    (
        "role",
        "one of organizer, chair, presenter, attendee, guest",
    ),
    ("via_lobby", "true or false"),
    ("target", ACTOR),
    ("media", "video or audio"),
    ("started", "a string"),
    ("ended", "a string"),
    ("presenting", "true or false"),
    ("streaming", "true or false"),
    ("waiting", "true or false"),
    ("scope", "one of desktop, application, document, whiteboard"),
    ("text", "a string"),
    ("message_id", "a string"),
    ("name", "a string"),
    ("body", "a string"),
    ("findings", "a list of findings as motesvakt writes them"),
    ("signals", "a list of signals as motesvakt writes them"),
    ("context", "a text context as motesvakt writes it"),
];

/// The form of an actor (`actor`, `organizer`, `target`).
const ACTOR: &str = "an object with a string `id`, optionally a string `name` and a `kind` (internal, external, guest, anonymous or phone)";

/// The message for a `type` that is not an event type (only an observation read back can get
/// here: an event line of an unknown type is counted as unmapped before).
const UNKNOWN_TYPE: &str = "field `type` is not an event type motesvakt knows";

/// The time fields, whose errors say what is wrong with the time ([`super::TimeError`]).
const TIME_FIELDS: &[&str] = &["time", "started", "ended"];

fn expected(field: &str) -> &'static str {
    EXPECTED
        .iter()
        .find(|(f, _)| *f == field)
        .map_or("another value", |(_, e)| *e)
}

/// The next value of `map`, or an error that names `field` and what it must hold: serde's own
/// error (which quotes the value) is dropped.
fn value<'de, A, T>(map: &mut A, field: &'static str) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: Deserialize<'de>,
{
    map.next_value()
        .map_err(|_| de::Error::custom(format_args!("field `{field}` must be {}", expected(field))))
}

/// `msg` when it is a message this module makes (after serde_json's ` at line N column M`
/// suffix is cut off), else `None`: a message from anywhere else is not shown.
pub(crate) fn known_message(msg: &str) -> Option<String> {
    let msg = msg.split(" at line ").next().unwrap_or_default();
    let time_errors = [
        super::TimeError::Form,
        super::TimeError::Year,
        super::TimeError::Offset,
    ];
    let known = EXPECTED
        .iter()
        .flat_map(|(f, e)| {
            [
                format!("field `{f}` must be {e}"),
                format!("missing field `{f}`"),
            ]
        })
        .chain(
            TIME_FIELDS
                .iter()
                .flat_map(|f| time_errors.iter().map(move |t| format!("field `{f}` {t}"))),
        )
        .chain([UNKNOWN_TYPE.to_string()]);
    known.into_iter().find(|k| k == msg)
}

pub(super) fn build<E: de::Error>(f: Fields) -> Result<Read, E> {
    let ty = f.ty.ok_or_else(|| missing("type"))?;
    let kind = match ty {
        Type::MeetingStarted => EventKind::MeetingStarted {
            subject: f.subject,
            organizer: f.organizer,
            aliases: f.aliases.unwrap_or_default(),
        },
        Type::MeetingEnded => EventKind::MeetingEnded { reason: f.reason },
        Type::ParticipantJoined => EventKind::ParticipantJoined {
            role: f.role,
            via_lobby: f.via_lobby,
        },
        Type::ParticipantAdmitted => EventKind::ParticipantAdmitted {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        Type::ParticipantLeft => EventKind::ParticipantLeft,
        Type::ParticipantState => EventKind::ParticipantState {
            presenting: f.presenting,
            streaming: f.streaming,
            waiting: f.waiting,
        },
        Type::RecordingStarted => EventKind::RecordingStarted {
            media: f.media.ok_or_else(|| missing("media"))?,
        },
        Type::RecordingStopped => EventKind::RecordingStopped,
        Type::RecordingCompleted => EventKind::RecordingCompleted {
            media: f.media.ok_or_else(|| missing("media"))?,
            started: f.started,
            ended: f.ended,
        },
        Type::TranscriptionStarted => EventKind::TranscriptionStarted,
        Type::TranscriptionStopped => EventKind::TranscriptionStopped,
        Type::ScreenShareStarted => EventKind::ScreenShareStarted { scope: f.scope },
        Type::ScreenShareStopped => EventKind::ScreenShareStopped,
        Type::ControlGranted => EventKind::ControlGranted {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        Type::ControlRevoked => EventKind::ControlRevoked {
            target: f.target.ok_or_else(|| missing("target"))?,
        },
        Type::ChatMessage => EventKind::ChatMessage {
            text: f.text.ok_or_else(|| missing("text"))?,
            message_id: f.message_id,
        },
        Type::ChatMessageDeleted => EventKind::ChatMessageDeleted {
            message_id: f.message_id,
        },
        Type::FileShared => EventKind::FileShared {
            name: f.name.ok_or_else(|| missing("name"))?,
        },
        Type::Invitation => EventKind::Invitation {
            subject: f.subject.ok_or_else(|| missing("subject"))?,
            body: f.body,
        },
        Type::Unknown => return Err(E::custom(UNKNOWN_TYPE)),
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

#[cfg(test)]
mod tests {
    use super::Type;

    #[test]
    fn every_event_type_reads_as_one_and_others_as_unknown() {
        for name in super::super::EVENT_TYPES {
            let t: Type = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert!(!matches!(t, Type::Unknown), "{name}");
        }
        for other in ["wave", "Chat_message", "", "chat_message "] {
            let t: Type = serde_json::from_str(&format!("{other:?}")).unwrap();
            assert!(matches!(t, Type::Unknown), "{other}");
        }
        // Not a string: an error (`field `type` must be a string`), as before.
        assert!(serde_json::from_str::<Type>("5").is_err());
    }
}
