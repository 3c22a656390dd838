//! The event model: one meeting event, whatever platform it came from.
//!
//! Every platform adapter in [`crate::sources`] maps its records onto [`Event`]. The JSON form
//! of `Event` is also motesvakt's own input format, "motesvakt NDJSON" (one event per line),
//! documented in `docs/event-format.md`:
//!
//! ```json
//! {"time":"2024-05-02T10:20:00+02:00","platform":"teams","meeting":"m-1",
//!  "type":"chat_message","actor":{"id":"anna@region.se"},"text":"hej"}
//! ```
//!
//! Parsing a line is done by [`parse_line`], which tells an unknown `type` (counted and skipped)
//! apart from a broken line (reported and skipped).

mod de;
mod fast;
mod ser;
mod time;

use std::fmt;

pub(crate) use de::Read;
use jiff::Timestamp;
pub(crate) use ser::write_event;
use serde::{Deserialize, Serialize};
pub use time::{TimeError, check_range, parse_event_time, parse_plain_or_bare_utc};

/// The meeting platform an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Teams,
    Pexip,
    Zoom,
    Webex,
    Skype,
    Other,
}

impl Platform {
    /// The platform's id as written in events, config and incidents.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Teams => "teams",
            Platform::Pexip => "pexip",
            Platform::Zoom => "zoom",
            Platform::Webex => "webex",
            Platform::Skype => "skype",
            Platform::Other => "other",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a participant belongs to the organisation, as stated by the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    Internal,
    External,
    Guest,
    Anonymous,
    Phone,
}

impl ActorKind {
    /// True only for [`ActorKind::Internal`]: guests, anonymous and phone participants are never
    /// inside the organisation.
    pub fn is_internal(self) -> bool {
        self == ActorKind::Internal
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Internal => "internal",
            ActorKind::External => "external",
            ActorKind::Guest => "guest",
            ActorKind::Anonymous => "anonymous",
            ActorKind::Phone => "phone",
        }
    }
}

/// A person (or bot, or phone line) acting in a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// E-mail address / UPN, or the platform's own participant id.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Set when the source says explicitly what the actor is; otherwise it is decided from the
    /// configured `internal_domains` (see [`crate::org::Classifier`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ActorKind>,
    /// The Microsoft 365 tenant (a GUID) a Teams source names the actor's account in, kept when
    /// nothing classified the actor while reading (`tenant_ids` not set), so that the tenant
    /// learned from the audit records' own `OrganizationId` classifies it when it is judged
    /// (see [`crate::org::Classifier`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl Actor {
    pub fn new(id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            name: None,
            kind: None,
            tenant: None,
        }
    }
}

/// Why a meeting ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    EndedByHost,
    LastLeft,
    Timeout,
    Unknown,
}

/// A participant's role in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Organizer,
    Chair,
    Presenter,
    Attendee,
    Guest,
}

/// What a recording captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Video,
    Audio,
}

/// What a screen share shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareScope {
    Desktop,
    Application,
    Document,
    Whiteboard,
}

/// Which text of an event a finding was made in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextField {
    /// A chat message.
    Chat,
    /// A meeting's or an invitation's subject.
    Subject,
    /// An invitation's body.
    Body,
    /// A shared file's name.
    FileName,
    /// The meeting's id or room name (a Pexip VMR's name, which people choose).
    MeetingId,
    /// A participant's display name (a dial-in participant's is often the number dialled).
    DisplayName,
}

impl TextField {
    pub fn as_str(self) -> &'static str {
        match self {
            TextField::Chat => "chat",
            TextField::Subject => "subject",
            TextField::Body => "body",
            TextField::FileName => "file_name",
            TextField::MeetingId => "meeting_id",
            TextField::DisplayName => "display_name",
        }
    }
}

/// One thing that happened in a meeting. Read from and written to JSON by hand (`de.rs`,
/// `ser.rs`) in the form serde's derive would use, without its buffering.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When it happened; kept as UTC.
    pub time: Timestamp,
    pub platform: Platform,
    /// The platform's meeting id. A meeting is identified by `platform` + `meeting`.
    pub meeting: String,
    /// Who did it.
    pub actor: Actor,
    /// What happened, with the fields of that type (beside the common ones in JSON).
    pub kind: EventKind,
}

impl Event {
    /// Every actor the event names: who did it, and the organiser or target its type names.
    pub fn actors(&self) -> impl Iterator<Item = &Actor> {
        let other = match &self.kind {
            EventKind::MeetingStarted { organizer, .. } => organizer.as_ref(),
            EventKind::ParticipantAdmitted { target }
            | EventKind::ControlGranted { target }
            | EventKind::ControlRevoked { target } => Some(target),
            _ => None,
        };
        std::iter::once(&self.actor).chain(other)
    }
}

/// The event types and their own fields. The JSON `type` field selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    MeetingStarted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        organizer: Option<Actor>,
        /// Other ids the platform uses for this same meeting (the Teams meeting chat's thread
        /// id, `19:meeting_…@thread.v2`): events filed under an alias belong to this meeting.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<String>,
    },
    MeetingEnded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EndReason>,
    },
    ParticipantJoined {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via_lobby: Option<bool>,
    },
    ParticipantAdmitted {
        target: Actor,
    },
    ParticipantLeft,
    /// A participant's flags as one record reports them (Pexip's `participant_updated`): whether
    /// they present, stream (a streaming or recording participant) and wait in the lobby; `None`
    /// where the record does not say. The meeting state follows a participant's states in time
    /// order and turns the changes into `screen_share_started`/`stopped`,
    /// `recording_started`/`stopped` and `participant_admitted`; rules never see the states.
    ParticipantState {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        presenting: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        streaming: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waiting: Option<bool>,
    },
    RecordingStarted {
        media: Media,
    },
    RecordingStopped,
    /// A recording reported after the fact, when its files were saved (Zoom's
    /// `recording.completed`, Graph's call-recording success): what the files hold, and when
    /// they start and end. A "video" recording whose files are all audio says so here. When no
    /// recording was reported running then, the meeting state takes this for the recording
    /// itself, from `started` to `ended` (see [`crate::meeting`]).
    RecordingCompleted {
        media: Media,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended: Option<Timestamp>,
    },
    TranscriptionStarted,
    TranscriptionStopped,
    ScreenShareStarted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<ShareScope>,
    },
    ScreenShareStopped,
    ControlGranted {
        target: Actor,
    },
    ControlRevoked {
        target: Actor,
    },
    ChatMessage {
        text: String,
        /// The platform's id of the message, so that a later `chat_message_deleted` can refer
        /// to it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    ChatMessageDeleted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    FileShared {
        name: String,
    },
    Invitation {
        subject: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
}

/// Every `type` value motesvakt understands, in the order of [`EventKind`].
pub const EVENT_TYPES: &[&str] = &[
    "meeting_started",
    "meeting_ended",
    "participant_joined",
    "participant_admitted",
    "participant_left",
    "participant_state",
    "recording_started",
    "recording_stopped",
    "recording_completed",
    "transcription_started",
    "transcription_stopped",
    "screen_share_started",
    "screen_share_stopped",
    "control_granted",
    "control_revoked",
    "chat_message",
    "chat_message_deleted",
    "file_shared",
    "invitation",
];

impl EventKind {
    /// The JSON `type` of this event.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::MeetingStarted { .. } => "meeting_started",
            EventKind::MeetingEnded { .. } => "meeting_ended",
            EventKind::ParticipantJoined { .. } => "participant_joined",
            EventKind::ParticipantAdmitted { .. } => "participant_admitted",
            EventKind::ParticipantLeft => "participant_left",
            EventKind::ParticipantState { .. } => "participant_state",
            EventKind::RecordingStarted { .. } => "recording_started",
            EventKind::RecordingStopped => "recording_stopped",
            EventKind::RecordingCompleted { .. } => "recording_completed",
            EventKind::TranscriptionStarted => "transcription_started",
            EventKind::TranscriptionStopped => "transcription_stopped",
            EventKind::ScreenShareStarted { .. } => "screen_share_started",
            EventKind::ScreenShareStopped => "screen_share_stopped",
            EventKind::ControlGranted { .. } => "control_granted",
            EventKind::ControlRevoked { .. } => "control_revoked",
            EventKind::ChatMessage { .. } => "chat_message",
            EventKind::ChatMessageDeleted { .. } => "chat_message_deleted",
            EventKind::FileShared { .. } => "file_shared",
            EventKind::Invitation { .. } => "invitation",
        }
    }
}

/// What one line of motesvakt NDJSON turned out to be.
#[derive(Debug)]
pub enum Parsed {
    Event(Box<Event>),
    /// A well-formed line whose `type` motesvakt does not know: counted and skipped.
    UnknownType(String),
}

/// Why a line could not be read. The text is meant for `FILE:LINE: reason` on stderr, so it
/// never quotes field values (they may hold patient data).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    #[error("not valid JSON ({0})")]
    Json(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` must be a string")]
    NotString(&'static str),
    #[error("field `time` {0}")]
    BadTime(TimeError),
    #[error("{0}")]
    Invalid(String),
}

/// Parses one line of motesvakt NDJSON.
///
/// The common fields are checked one by one so that the error names the field; the rest is left
/// to serde, whose messages name the field too (`missing field `text``).
pub fn parse_line(line: &str) -> Result<Parsed, LineError> {
    parse_line_compact(line).0
}

/// [`parse_line`], and whether the line is known to have no blanks outside strings (so that
/// its record key is [`crate::sources::RecordKey::of_compact_json`] of the line as it is):
/// known for a line the hand-written reader (`fast.rs`) takes, nearly every well-formed line;
/// `false` otherwise, which only means that the key looks for blanks.
pub fn parse_line_compact(line: &str) -> (Result<Parsed, LineError>, bool) {
    let (parsed, compact, _) = parse_line_with(line, false);
    (parsed, compact)
}

/// [`parse_line_compact`], lending a chat message's text instead of copying it: when the
/// third value is `Some`, it is the text of the chat message the line is, borrowed from the
/// line, and the event's own `text` is empty. For a reader that only looks at the text
/// (the scan's observer, see [`crate::sources::Record::chat_text`]); `None` for a text with
/// an escape and for every line the hand-written reader leaves to serde.
pub fn parse_line_lending(line: &str) -> (Result<Parsed, LineError>, bool, Option<&str>) {
    parse_line_with(line, true)
}

/// [`parse_line_lending`] when `lend`, else [`parse_line_compact`] (and no text lent).
fn parse_line_with(line: &str, lend: bool) -> (Result<Parsed, LineError>, bool, Option<&str>) {
    match fast::read(line, lend) {
        Some(f) => (Ok(Parsed::Event(Box::new(f.event))), f.compact, f.chat_text),
        None => (parse_line_serde(line), false, None),
    }
}

/// [`parse_line`] by serde: the path of every line the hand-written reader gives up on, and
/// what it is compared with in tests.
fn parse_line_serde(line: &str) -> Result<Parsed, LineError> {
    // A well-formed line of a known type deserialises straight into an event. Only when that
    // fails is the line looked at field by field, to tell an unknown type from an error and to
    // name the field at fault.
    if let Ok(event) = serde_json::from_str::<Event>(line) {
        return Ok(Parsed::Event(Box::new(event)));
    }
    parse_line_carefully(line)
}

/// The careful path of [`parse_line`]: checks the common fields one by one.
fn parse_line_carefully(line: &str) -> Result<Parsed, LineError> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
        // The reason and column only (the caller adds the file and line), never serde's message.
        LineError::Json(format!(
            "{} at column {}",
            crate::sources::util::json_reason(&e),
            e.column()
        ))
    })?;
    let obj = value.as_object().ok_or(LineError::NotObject)?;
    for field in ["time", "platform", "meeting", "type"] {
        match obj.get(field) {
            None | Some(serde_json::Value::Null) => return Err(LineError::Missing(field)),
            Some(v) if !v.is_string() => return Err(LineError::NotString(field)),
            Some(_) => {}
        }
    }
    if !obj.contains_key("actor") {
        return Err(LineError::Missing("actor"));
    }
    let ty = obj["type"].as_str().unwrap_or_default();
    if !EVENT_TYPES.contains(&ty) {
        return Ok(Parsed::UnknownType(ty.to_string()));
    }
    if let Err(e) = parse_event_time(obj["time"].as_str().unwrap_or_default()) {
        return Err(LineError::BadTime(e));
    }
    serde_json::from_value::<Event>(value)
        .map(|e| Parsed::Event(Box::new(e)))
        .map_err(|e| {
            // Only a message the event reader makes (a field named, what it must hold) is
            // shown; serde's own messages quote the value.
            LineError::Invalid(
                de::known_message(&e.to_string()).unwrap_or_else(|| {
                    "a field holds a value of the wrong type or form".to_string()
                }),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Event {
        match parse_line(line) {
            Ok(Parsed::Event(e)) => *e,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn parses_every_type_and_keeps_time_as_utc() {
        let e = ok(
            r#"{"time":"2024-05-02T10:20:00+02:00","platform":"teams","meeting":"m1","type":"recording_started","actor":{"id":"a@x.se"},"media":"video"}"#,
        );
        assert_eq!(e.time.to_string(), "2024-05-02T08:20:00Z");
        assert_eq!(
            e.kind,
            EventKind::RecordingStarted {
                media: Media::Video
            }
        );
        let e = ok(
            r#"{"time":"2024-05-02T08:20:00Z","platform":"pexip","meeting":"m1","type":"control_granted","actor":{"id":"a@x.se","kind":"internal"},"target":{"id":"b@y.se","name":"B"}}"#,
        );
        assert!(
            matches!(e.kind, EventKind::ControlGranted { ref target } if target.id == "b@y.se")
        );
        assert_eq!(e.actor.kind, Some(ActorKind::Internal));
    }

    #[test]
    fn round_trips_through_json() {
        let line = r#"{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","actor":{"id":"a"},"type":"participant_joined","role":"chair","via_lobby":true}"#;
        let e = ok(line);
        let again = ok(&serde_json::to_string(&e).unwrap());
        assert_eq!(e, again);
    }

    #[test]
    fn every_type_round_trips_through_json_with_and_without_its_optional_fields() {
        let t: Timestamp = "2024-05-02T08:20:00.123456Z".parse().unwrap();
        let who = Actor {
            id: "a@x.se".into(),
            name: Some("A".into()),
            kind: Some(ActorKind::Guest),
            tenant: Some("7c9a0f31-0000-4000-8000-00000000000a".into()),
        };
        let kinds = vec![
            EventKind::MeetingStarted {
                subject: Some("s".into()),
                organizer: Some(who.clone()),
                aliases: vec!["19:x".into()],
            },
            EventKind::MeetingStarted {
                subject: None,
                organizer: None,
                aliases: vec![],
            },
            EventKind::MeetingEnded {
                reason: Some(EndReason::LastLeft),
            },
            EventKind::ParticipantJoined {
                role: Some(Role::Chair),
                via_lobby: Some(false),
            },
            EventKind::ParticipantAdmitted {
                target: who.clone(),
            },
            EventKind::ParticipantLeft,
            EventKind::ParticipantState {
                presenting: Some(true),
                streaming: None,
                waiting: Some(false),
            },
            EventKind::RecordingStarted {
                media: Media::Audio,
            },
            EventKind::RecordingStopped,
            EventKind::RecordingCompleted {
                media: Media::Video,
                started: Some(t),
                ended: None,
            },
            EventKind::TranscriptionStarted,
            EventKind::TranscriptionStopped,
            EventKind::ScreenShareStarted {
                scope: Some(ShareScope::Desktop),
            },
            EventKind::ScreenShareStopped,
            EventKind::ControlGranted {
                target: who.clone(),
            },
            EventKind::ControlRevoked {
                target: who.clone(),
            },
            EventKind::ChatMessage {
                text: "hej \"där\"\n".into(),
                message_id: Some("1".into()),
            },
            EventKind::ChatMessageDeleted { message_id: None },
            EventKind::FileShared {
                name: "f.pdf".into(),
            },
            EventKind::Invitation {
                subject: "s".into(),
                body: Some("b".into()),
            },
        ];
        let mut types = std::collections::BTreeSet::new();
        for kind in kinds {
            types.insert(kind.type_name());
            let e = Event {
                time: t,
                platform: Platform::Webex,
                meeting: "m".into(),
                actor: who.clone(),
                kind,
            };
            let json = serde_json::to_string(&e).unwrap();
            assert!(
                json.contains(&format!("\"type\":\"{}\"", e.kind.type_name())),
                "{json}"
            );
            assert_eq!(ok(&json), e, "{json}");
            // The derive's form of the kind (the same field names) reads the same.
            let mut derived = serde_json::to_value(&e.kind).unwrap();
            let common =
                serde_json::json!({"time": t, "platform": "webex", "meeting": "m", "actor": who});
            derived
                .as_object_mut()
                .unwrap()
                .extend(common.as_object().unwrap().clone());
            assert_eq!(ok(&derived.to_string()), e);
        }
        assert_eq!(types.len(), EVENT_TYPES.len(), "every type");
    }

    #[test]
    fn fast_and_careful_paths_agree_on_every_sample_line() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut stack = vec![root.join("examples"), root.join("tests/fixtures/sources")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().ends_with("ndjson") {
                    files.push(p);
                }
            }
        }
        let mut compared = 0;
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                let (Ok(Parsed::Event(fast)), Ok(Parsed::Event(careful))) =
                    (parse_line(line), parse_line_carefully(line))
                else {
                    continue;
                };
                assert_eq!(fast, careful, "{}", f.display());
                compared += 1;
            }
        }
        assert!(compared > 50, "only {compared} lines compared");
    }

    #[test]
    fn unknown_type_is_not_an_error() {
        let r = parse_line(
            r#"{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","type":"hand_raised","actor":{"id":"a"}}"#,
        );
        assert!(matches!(r, Ok(Parsed::UnknownType(t)) if t == "hand_raised"));
    }

    #[test]
    fn errors_name_the_field() {
        let base = r#"{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","type":"chat_message","actor":{"id":"a"}}"#;
        assert_eq!(
            parse_line(base).unwrap_err().to_string(),
            "missing field `text`"
        );
        let no_meeting = base.replace(r#""meeting":"m1","#, "");
        assert_eq!(
            parse_line(&no_meeting).unwrap_err(),
            LineError::Missing("meeting")
        );
        let bad_time = base.replace("2024-05-02T08:20:00Z", "2024-05-02 08:20");
        assert_eq!(
            parse_line(&bad_time).unwrap_err(),
            LineError::BadTime(TimeError::Form)
        );
        let naive = base.replace("2024-05-02T08:20:00Z", "2024-05-02T08:20:00");
        assert_eq!(
            parse_line(&naive).unwrap_err(),
            LineError::BadTime(TimeError::Form)
        );
        let early = base.replace("2024-05-02T08:20:00Z", "1969-07-20T20:17:00Z");
        assert_eq!(
            parse_line(&early).unwrap_err().to_string(),
            "field `time` is before 1970 or after 9999"
        );
        let offset = base.replace("2024-05-02T08:20:00Z", "2024-05-02T08:20:00+25:00");
        assert_eq!(
            parse_line(&offset).unwrap_err().to_string(),
            "field `time` has an offset beyond ±23:59"
        );
        assert!(matches!(
            parse_line("{not json").unwrap_err(),
            LineError::Json(_)
        ));
        assert_eq!(parse_line("[1]").unwrap_err(), LineError::NotObject);
        let bad_platform = base.replace("zoom", "facetime");
        assert_eq!(
            parse_line(&bad_platform).unwrap_err().to_string(),
            "field `platform` must be one of teams, pexip, zoom, webex, skype, other"
        );
        let bad_actor = base.replace(r#"{"id":"a"}"#, r#"{"id":"a","kind":"boss"}"#);
        assert!(
            parse_line(&bad_actor)
                .unwrap_err()
                .to_string()
                .starts_with("field `actor` must be an object with a string `id`"),
        );
        assert_eq!(
            parse_line(r#"{"time":"2024-05-02T08:20:00Z","#)
                .unwrap_err()
                .to_string(),
            "not valid JSON (EOF while parsing a value at column 31)"
        );
    }

    #[test]
    fn error_text_never_echoes_free_text() {
        // A chat text with the wrong JSON type must not be quoted back.
        let line = r#"{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","type":"chat_message","actor":{"id":"a"},"text":["secret 19900101-1234"]}"#;
        let msg = parse_line(line).unwrap_err().to_string();
        assert!(!msg.contains("secret"), "{msg}");
        let line = r#"{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","type":"recording_started","actor":{"id":"a"},"media":"video 19900101-1234"}"#;
        let msg = parse_line(line).unwrap_err().to_string();
        assert_eq!(msg, "field `media` must be video or audio");
        // A backtick or an escaped quote inside the value cannot end a quotation early: no
        // part of any value is ever shown, whatever it holds.
        for media in [
            r#"vid`eo 19900101-1234`x"#,
            r#"x\"19900101-1234\"y"#,
            r#"`\"` 19900101-1234"#,
            "a\\u0060b 19900101-1234",
        ] {
            let line = format!(
                r#"{{"time":"2024-05-02T08:20:00Z","platform":"zoom","meeting":"m1","type":"recording_started","actor":{{"id":"a","kind":"{media}"}},"media":"{media}"}}"#
            );
            let msg = parse_line(&line).unwrap_err().to_string();
            assert!(!msg.contains("1234") && !msg.contains("19900101"), "{msg}");
            assert!(msg.starts_with("field `"), "{msg}");
        }
        // Every message the event reader makes is one the careful path lets through.
        assert!(de::known_message("missing field `text` at line 1 column 9").is_some());
        assert!(de::known_message("unknown variant `19900101-1234`").is_none());
    }
}
