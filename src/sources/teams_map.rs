//! The Teams audit mapping table: which `AuditData.Operation` becomes which events, and which
//! fields of a record are understood.
//!
//! Microsoft adds operations and fields without a public list (in 2025, screen sharing and
//! give/take control details in `MeetingParticipantDetail`). So the mapping is data, not code:
//! the built-in table below ([`BUILTIN`]) is what motesvakt knows, and an administrator extends
//! it in the configuration without a new build:
//!
//! ```toml
//! # A new operation, mapped to an event type of docs/event-format.md.
//! [[teams.operations]]
//! operation = "ScreenShareStarted"
//! map = "event"
//! event = "screen_share_started"
//! time = ["StartTime", "CreationTime"]   # first field present wins
//! meeting = ["MeetingDetailId"]
//! actor = ["UserId"]
//!
//! # A new field of a known operation: a time, or a list of objects with start/end times.
//! [[teams.fields]]
//! operation = "MeetingParticipantDetail"
//! field = "ControlSharingDetails"
//! event = "control_granted"
//! start = "StartTime"
//! end_event = "control_revoked"
//! end = "EndTime"
//! target = "TargetUPN"
//! ```
//!
//! Every field of a mapped record that is neither mapped nor listed in `known_fields` (nor in
//! the common audit schema) is reported as [`super::Item::UnmappedField`], so new fields show up
//! in the scan summary.

use serde::Deserialize;

use crate::event::{Actor, EventKind, Media};

/// The built-in table, in the configuration's own syntax (without the `teams.` prefix).
pub const BUILTIN: &str = r#"
# Meetings: one record per meeting, written hours after it.
[[operations]]
operation = "MeetingDetail"
map = "meeting_detail"
known_fields = ["ChatThreadId", "CommunicationType", "CommunicationSubType", "StartTime",
  "EndTime", "MeetingURL", "ProviderTypes", "ItemName", "ChatName", "MeetingType"]

# One record per join: attendee, join and leave times, lobby, recording and transcription bots.
[[operations]]
operation = "MeetingParticipantDetail"
map = "meeting_participant_detail"
known_fields = ["JoinTime", "LeaveTime", "IsJoinedFromLobby", "MeetingDetailId", "Attendees",
  "ArtifactsShared", "ExtraProperties", "DeviceId", "DeviceInformation", "ItemName",
  "CommunicationType", "CommunicationSubType", "ParticipantInfo", "ChatThreadId"]

# Chat: the audit log says a message existed (in chats with guests, federated or anonymous
# users), never what it said; the text is only in Microsoft Graph.
[[operations]]
operation = "MessageSent"
map = "message_sent"
known_fields = ["MessageId", "MessageSizeInBytes", "MessageURLs", "Messages", "HostedContents",
  "TeamGuid", "TeamName", "ChannelGuid", "ChannelName", "ChannelType", "ChatThreadId",
  "ChatName", "Members", "ParticipantInfo", "ExtraProperties", "ItemName", "CommunicationType",
  "MessageVersion", "ParentMessageId", "ResourceTenantId", "MessageType"]

[[operations]]
operation = "MessageDeleted"
map = "message_deleted"
known_fields = ["MessageId", "MessageSizeInBytes", "MessageURLs", "Messages", "HostedContents",
  "TeamGuid", "TeamName", "ChannelGuid", "ChannelName", "ChannelType", "ChatThreadId",
  "ChatName", "Members", "ParticipantInfo", "ExtraProperties", "ItemName", "CommunicationType",
  "MessageVersion", "ParentMessageId", "ResourceTenantId", "MessageType"]

# Known, and deliberately not mapped: counted as unmapped operations.
[[operations]]
operation = "MessageUpdated"
map = "ignore"
[[operations]]
operation = "MessageEditedHasLink"
map = "ignore"
[[operations]]
operation = "MessageCreatedHasLink"
map = "ignore"
[[operations]]
operation = "ChatCreated"
map = "ignore"
[[operations]]
operation = "ChatUpdated"
map = "ignore"
[[operations]]
operation = "ChatRetrieved"
map = "ignore"
[[operations]]
operation = "MessageRead"
map = "ignore"
[[operations]]
operation = "MessagesListed"
map = "ignore"
[[operations]]
operation = "MessagesExported"
map = "ignore"
[[operations]]
operation = "MemberAdded"
map = "ignore"
[[operations]]
operation = "MemberRemoved"
map = "ignore"
[[operations]]
operation = "MemberRoleChanged"
map = "ignore"
[[operations]]
operation = "TeamCreated"
map = "ignore"
[[operations]]
operation = "TeamDeleted"
map = "ignore"
[[operations]]
operation = "TeamsSessionStarted"
map = "ignore"
"#;

/// Fields of the common audit schema, present in every record and never reported.
pub const COMMON_FIELDS: &[&str] = &[
    "Id",
    "RecordType",
    "CreationTime",
    "Operation",
    "OrganizationId",
    "UserType",
    "UserKey",
    "Workload",
    "ResultStatus",
    "ObjectId",
    "UserId",
    "ClientIP",
    "Scope",
    "AppAccessContext",
    "Version",
    "AppId",
    "ClientAppId",
    "ClientRegion",
    "ApplicationId",
    "AuthenticationType",
    "CorrelationId",
];

/// The Teams operation and field mapping table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsMapping {
    /// One entry per operation; a later entry for the same operation replaces an earlier one.
    #[serde(default)]
    pub operations: Vec<OperationMap>,
    /// Fields of records that give events of their own.
    #[serde(default)]
    pub fields: Vec<FieldMap>,
}

/// How one operation is mapped.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationMap {
    /// `AuditData.Operation`, compared exactly.
    pub operation: String,
    /// A built-in mapper, `event` for a table-driven mapping, or `ignore`.
    pub map: Handler,
    /// For `map = "event"`: the event type (`docs/event-format.md`). Types that need free text
    /// (`chat_message`, `file_shared`, `invitation`) cannot be table-driven.
    #[serde(default)]
    pub event: Option<String>,
    /// For `map = "event"`: fields to take the time from, the first present wins.
    /// Default `["CreationTime"]`.
    #[serde(default)]
    pub time: Vec<String>,
    /// For `map = "event"`: fields naming the meeting. Default
    /// `["MeetingDetailId", "ChatThreadId", "Id"]`.
    #[serde(default)]
    pub meeting: Vec<String>,
    /// For `map = "event"`: fields naming the actor. Default `["UserId"]`.
    #[serde(default)]
    pub actor: Vec<String>,
    /// For `map = "event"` with `participant_admitted`, `control_granted` or
    /// `control_revoked`: fields naming the other party.
    #[serde(default)]
    pub target: Vec<String>,
    /// For `recording_started`: `video` (default) or `audio`.
    #[serde(default)]
    pub media: Option<Media>,
    /// Fields known to occur in this operation's records and deliberately not mapped.
    #[serde(default)]
    pub known_fields: Vec<String>,
}

/// The mapper of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    MeetingDetail,
    MeetingParticipantDetail,
    MessageSent,
    MessageDeleted,
    /// Table-driven: `event`, `time`, `meeting`, `actor`, `target`.
    Event,
    /// Known and not mapped: counted as an unmapped operation.
    Ignore,
}

/// A field of an operation's records that gives events.
///
/// The field's value may be a time (one event at that time), an object, or a list of objects;
/// for objects, `start` names the key of the start time (`event` is emitted then) and `end` the
/// key of the end time (`end_event` is emitted then); `target` names the key of the other party
/// (a UPN, or an object with `UPN`/`DisplayName`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    pub operation: String,
    pub field: String,
    pub event: String,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub end_event: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub media: Option<Media>,
}

impl Default for TeamsMapping {
    /// The built-in table ([`BUILTIN`]).
    fn default() -> Self {
        TeamsMapping::from_toml(BUILTIN).expect("the built-in Teams mapping is valid")
    }
}

/// Event types a table entry may name, and whether they need a target.
const TABLE_EVENTS: &[(&str, bool)] = &[
    ("meeting_started", false),
    ("meeting_ended", false),
    ("participant_joined", false),
    ("participant_left", false),
    ("participant_admitted", true),
    ("recording_started", false),
    ("recording_stopped", false),
    ("transcription_started", false),
    ("transcription_stopped", false),
    ("screen_share_started", false),
    ("screen_share_stopped", false),
    ("control_granted", true),
    ("control_revoked", true),
    ("chat_message_deleted", false),
];

impl TeamsMapping {
    /// Reads a table in TOML (`[[operations]]`, `[[fields]]`) and checks it.
    pub fn from_toml(text: &str) -> Result<TeamsMapping, String> {
        let m: TeamsMapping = toml::from_str(text).map_err(|e| e.message().to_string())?;
        m.validate()?;
        Ok(m)
    }

    /// Checks that every entry names a known event type with what it needs.
    pub fn validate(&self) -> Result<(), String> {
        let check = |what: &str, event: &str, has_target: bool| -> Result<(), String> {
            match TABLE_EVENTS.iter().find(|(e, _)| *e == event) {
                None => Err(format!(
                    "{what}: event `{event}` cannot be mapped from the table (use one of: {})",
                    TABLE_EVENTS
                        .iter()
                        .map(|(e, _)| *e)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some((_, true)) if !has_target => {
                    Err(format!("{what}: event `{event}` needs `target`"))
                }
                _ => Ok(()),
            }
        };
        for op in &self.operations {
            let what = format!("teams operation `{}`", op.operation);
            if op.map == Handler::Event {
                let event = op
                    .event
                    .as_deref()
                    .ok_or(format!("{what}: map = \"event\" needs `event`"))?;
                check(&what, event, !op.target.is_empty())?;
            } else if op.event.is_some() {
                return Err(format!("{what}: `event` is only for map = \"event\""));
            }
        }
        for f in &self.fields {
            let what = format!("teams field `{}.{}`", f.operation, f.field);
            check(&what, &f.event, f.target.is_some())?;
            if let Some(end) = &f.end_event {
                check(&what, end, f.target.is_some())?;
                if f.end.is_none() {
                    return Err(format!("{what}: `end_event` needs `end`"));
                }
            }
        }
        Ok(())
    }

    /// Adds `extra` over `self`: an operation in `extra` replaces the same operation here;
    /// field entries are added.
    pub fn merge(&mut self, extra: TeamsMapping) {
        for op in extra.operations {
            self.operations.retain(|o| o.operation != op.operation);
            self.operations.push(op);
        }
        self.fields.extend(extra.fields);
    }

    /// The entry for an operation.
    pub fn operation(&self, name: &str) -> Option<&OperationMap> {
        self.operations.iter().rev().find(|o| o.operation == name)
    }

    /// The field entries of an operation.
    pub fn fields_of<'a>(&'a self, operation: &'a str) -> impl Iterator<Item = &'a FieldMap> {
        self.fields.iter().filter(move |f| f.operation == operation)
    }

    /// True when `field` of `operation` is mapped or known.
    pub fn knows_field(&self, operation: &OperationMap, field: &str) -> bool {
        COMMON_FIELDS.contains(&field)
            || operation.known_fields.iter().any(|f| f == field)
            || operation.time.iter().any(|f| f == field)
            || operation.meeting.iter().any(|f| f == field)
            || operation.actor.iter().any(|f| f == field)
            || operation.target.iter().any(|f| f == field)
            || self
                .fields_of(&operation.operation)
                .any(|f| f.field == field)
    }
}

/// Builds the event of a table entry. `None` for a type the table cannot give (checked by
/// [`TeamsMapping::validate`]) or a missing target.
pub fn table_event(event: &str, target: Option<Actor>, media: Option<Media>) -> Option<EventKind> {
    Some(match event {
        "meeting_started" => EventKind::MeetingStarted {
            subject: None,
            organizer: None,
            aliases: Vec::new(),
        },
        "meeting_ended" => EventKind::MeetingEnded { reason: None },
        "participant_joined" => EventKind::ParticipantJoined {
            role: None,
            via_lobby: None,
        },
        "participant_left" => EventKind::ParticipantLeft,
        "participant_admitted" => EventKind::ParticipantAdmitted { target: target? },
        "recording_started" => EventKind::RecordingStarted {
            media: media.unwrap_or(Media::Video),
        },
        "recording_stopped" => EventKind::RecordingStopped,
        "transcription_started" => EventKind::TranscriptionStarted,
        "transcription_stopped" => EventKind::TranscriptionStopped,
        "screen_share_started" => EventKind::ScreenShareStarted { scope: None },
        "screen_share_stopped" => EventKind::ScreenShareStopped,
        "control_granted" => EventKind::ControlGranted { target: target? },
        "control_revoked" => EventKind::ControlRevoked { target: target? },
        "chat_message_deleted" => EventKind::ChatMessageDeleted { message_id: None },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_is_valid() {
        let m = TeamsMapping::default();
        assert_eq!(
            m.operation("MeetingParticipantDetail").unwrap().map,
            Handler::MeetingParticipantDetail
        );
        assert_eq!(
            m.operation("TeamsSessionStarted").unwrap().map,
            Handler::Ignore
        );
        assert!(m.operation("Nope").is_none());
    }

    #[test]
    fn admin_extends_and_overrides() {
        let mut m = TeamsMapping::default();
        let extra = TeamsMapping::from_toml(
            r#"
            [[operations]]
            operation = "TeamsSessionStarted"
            map = "event"
            event = "participant_joined"
            [[fields]]
            operation = "MeetingParticipantDetail"
            field = "ControlSharingDetails"
            event = "control_granted"
            start = "StartTime"
            end_event = "control_revoked"
            end = "EndTime"
            target = "TargetUPN"
            "#,
        )
        .unwrap();
        m.merge(extra);
        assert_eq!(
            m.operation("TeamsSessionStarted").unwrap().map,
            Handler::Event
        );
        let op = m.operation("MeetingParticipantDetail").unwrap().clone();
        assert!(m.knows_field(&op, "ControlSharingDetails"));
        assert!(m.knows_field(&op, "JoinTime"));
        assert!(!m.knows_field(&op, "ScreenSharingDetails"));
    }

    #[test]
    fn rejects_bad_entries() {
        let err = TeamsMapping::from_toml(
            "[[operations]]\noperation = \"X\"\nmap = \"event\"\nevent = \"chat_message\"\n",
        )
        .unwrap_err();
        assert!(err.contains("cannot be mapped"), "{err}");
        let err = TeamsMapping::from_toml(
            "[[fields]]\noperation = \"X\"\nfield = \"F\"\nevent = \"control_granted\"\n",
        )
        .unwrap_err();
        assert!(err.contains("needs `target`"), "{err}");
        assert!(
            TeamsMapping::from_toml("[[operations]]\noperation = \"X\"\nmap = \"bogus\"\n")
                .is_err()
        );
        assert!(
            TeamsMapping::from_toml(
                "[[operations]]\noperation = \"X\"\nmap = \"ignore\"\nextra = 1\n"
            )
            .is_err()
        );
    }
}
