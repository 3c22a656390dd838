//! Microsoft Graph `chatMessage` objects: list responses (`{"@odata.context":...,"value":[...]}`,
//! any number of pages one after another), NDJSON, or single objects. Graph is the only source
//! of Teams chat text.
//!
//! - The meeting id is the chat id (`19:meeting_...@thread.v2`, which is
//!   `MeetingDetail.ChatThreadId` in the audit log); channel messages (`chatId` null) use the
//!   channel id.
//! - `body.content` is HTML when `body.contentType` is `html`: tags are stripped and entities
//!   decoded before the text reaches the detector. A message's `subject` is part of its text.
//! - `deletedDateTime` set: a deleted message (`chat_message_deleted`, the text is gone).
//! - `attachments[]` of content type `reference` are shared files (`file_shared`).
//! - System messages (`eventDetail.@odata.type`, whatever `messageType` says, since Graph
//!   writes `unknownFutureValue` for newer ones): call recording (`callRecordingStatus`
//!   `initial`... `success`), call transcript, call started/ended (with `initiator`), members
//!   added/joined/deleted/left. Other system messages are unmapped.
//! - `from.user`: `userIdentityType` `anonymousGuest` is anonymous, `phoneUser` phone,
//!   federated/personal/Skype/e-mail users external; `tenantId` in `tenant_ids` is internal.
//!   Graph gives no e-mail address, so the actor id is the user's object id.
//! - Attendance reports (`attendanceRecord`) carry no meeting id and are unmapped.
//! - A message's record key is (chat, message id, `lastModifiedDateTime`, deletion): a message
//!   exported twice is read once, an edited version is a record of its own.
//! - A call recording's `success`/`failure` gives the stop and a `recording_completed` whose
//!   start is the end minus `callRecordingDuration`; the meeting state takes it for the recording
//!   when no start (`initial`) was reported, in this file or another.

use std::io::{self, BufRead};

use super::value::{Map, Value};
use jiff::{SignedDuration, Timestamp};

use super::json::{JsonRecords, Layout, RawRecord, map_object, read_json};
use super::util::{
    actor, event, html_to_text, obj_field, safe_word, str_field, tenant_guid, time_value,
};
use super::{Adapter, Flow, Item, Record, RecordKey, SourceSettings};
use crate::event::{Actor, ActorKind, EventKind, Media, Platform};

type Obj<'a> = Map<'a>;

/// The family name in record keys.
pub const KEY_FAMILY: &str = "teams-graph";

/// The Graph chat adapter.
pub struct TeamsGraph {
    tenants: Vec<String>,
}

impl TeamsGraph {
    pub fn new(settings: &SourceSettings) -> TeamsGraph {
        TeamsGraph {
            tenants: settings.tenant_ids.clone(),
        }
    }
}

/// The system event names mapped, in Graph's spelling.
const SYSTEM_EVENTS: &[&str] = &[
    "callRecordingEventMessageDetail",
    "callTranscriptEventMessageDetail",
    "callStartedEventMessageDetail",
    "callEndedEventMessageDetail",
    "membersAddedEventMessageDetail",
    "membersJoinedEventMessageDetail",
    "membersDeletedEventMessageDetail",
    "membersLeftEventMessageDetail",
];

/// A mapped system event's name in Graph's spelling, whatever the case it was written in.
fn system_event_name(name: &str) -> Option<&'static str> {
    SYSTEM_EVENTS
        .iter()
        .copied()
        .find(|n| n.eq_ignore_ascii_case(name))
}

/// The chat id in a notification's `resource`: `chats('ID')/messages('...')`,
/// `chats/ID/messages/...`, `/chats('ID')/...`.
fn chat_of_resource(resource: &str) -> Option<&str> {
    let at = resource.find("chats")? + "chats".len();
    let rest = &resource[at..];
    let id = if let Some(r) = rest.strip_prefix("('") {
        &r[..r.find("')")?]
    } else {
        let r = rest.strip_prefix('/')?;
        r.split('/').next()?
    };
    (!id.is_empty()).then_some(id)
}

/// True when `head` looks like Graph chat messages or attendance records.
pub fn looks_graph(head: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    has(b"\"messageType\"")
        || has(b"#microsoft.graph.chatMessage")
        || has(b"#Microsoft.Teams.GraphSvc.")
        || (has(b"\"subscriptionId\"") && has(b"\"changeType\"") && has(b"\"resource\""))
        || has(b"\"attendanceIntervals\"")
        || has(b"\"attendanceRecords\"")
}

impl Adapter for TeamsGraph {
    fn json(&self) -> Option<&dyn JsonRecords> {
        Some(self)
    }

    fn read(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        self.objects(input, Layout::Any, emit)
    }

    fn read_lines(
        &self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        self.objects(input, Layout::Lines, emit)
    }
}

impl JsonRecords for TeamsGraph {
    fn wrappers(&self) -> &'static [&'static str] {
        &["value"]
    }

    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
        map_object(raw, KEY_FAMILY, emit, |obj, out| self.map(obj, out))
    }
}

impl TeamsGraph {
    fn objects(
        &self,
        input: &mut dyn BufRead,
        layout: Layout,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_json(self, input, layout, emit)
    }
}

impl TeamsGraph {
    /// Maps one message; returns its key (chat, id, version) when it has an id.
    fn map(&self, m: &Obj, out: &mut Vec<Item>) -> Result<Option<RecordKey>, String> {
        if m.contains_key("attendanceIntervals") || m.contains_key("attendanceRecords") {
            out.push(Item::Unmapped("attendance record (no meeting id)".into()));
            return Ok(None);
        }
        if m.contains_key("subscriptionId") && m.contains_key("resource") {
            return self.notification(m, out);
        }
        self.chat_message(m, None, out)
    }

    /// A change notification (`value[]` of a notification POST): the message it carries,
    /// decrypted (`resourceData`, `content`, `decryptedContent`, or `encryptedContent.data`
    /// holding the message as an object or a JSON string), the chat taken from `resource`
    /// (`chats('19:...')/messages('...')`) when the message does not name it.
    fn notification(&self, n: &Obj, out: &mut Vec<Item>) -> Result<Option<RecordKey>, String> {
        let is_message = |o: &Obj| {
            o.contains_key("messageType") || o.contains_key("body") || o.contains_key("eventDetail")
        };
        let chat = str_field(n, "resource").and_then(chat_of_resource);
        let places = [
            n.get("resourceData"),
            n.get("content"),
            n.get("decryptedContent"),
            obj_field(n, "encryptedContent").and_then(|e| e.get("data")),
        ];
        for v in places.into_iter().flatten() {
            match v {
                Value::Object(o) if is_message(o) => return self.chat_message(o, chat, out),
                Value::String(text) if text.trim_start().starts_with('{') => {
                    let Ok(o) = super::util::parse_object(text.as_bytes()) else {
                        continue;
                    };
                    if is_message(&o) {
                        return self.chat_message(&o, chat, out);
                    }
                }
                _ => {}
            }
        }
        out.push(Item::Unmapped(
            "change notification without its content (encrypted, or a basic notification)".into(),
        ));
        Ok(None)
    }

    /// A `chatMessage`; `chat` is the chat id its wrapping names, if any.
    fn chat_message(
        &self,
        m: &Obj,
        chat: Option<&str>,
        out: &mut Vec<Item>,
    ) -> Result<Option<RecordKey>, String> {
        // A system event reported alone (a call-ended message with `chatId` and
        // `eventDetail`) is a message too.
        if !m.contains_key("messageType")
            && !m.contains_key("body")
            && !m.contains_key("eventDetail")
        {
            return Err("not a chatMessage (no `messageType`, `body` or `eventDetail`)".into());
        }
        let meeting = str_field(m, "chatId")
            .or_else(|| obj_field(m, "channelIdentity").and_then(|c| str_field(c, "channelId")))
            .or(chat)
            .ok_or("no `chatId` or `channelIdentity.channelId`")?
            .to_string();
        let id = str_field(m, "id").unwrap_or("").to_string();
        let deleted = time_value(m.get("deletedDateTime"));
        let key = (!id.is_empty()).then(|| {
            RecordKey::new(
                KEY_FAMILY,
                &[
                    meeting.as_bytes(),
                    id.as_bytes(),
                    str_field(m, "lastModifiedDateTime")
                        .unwrap_or("")
                        .as_bytes(),
                    &[u8::from(deleted.is_some())],
                ],
            )
        });
        self.message(m, &meeting, id, deleted, out)?;
        if self.tenants.is_empty()
            && let Some(t) = obj_field(m, "from")
                .and_then(|f| obj_field(f, "user"))
                .and_then(|u| str_field(u, "tenantId"))
                .and_then(tenant_guid)
        {
            // Nothing classifies tenants: noted for the summary's hint.
            out.push(Item::Tenant { id: t, own: false });
        }
        Ok(key)
    }

    fn message(
        &self,
        m: &Obj,
        meeting: &str,
        id: String,
        deleted: Option<Timestamp>,
        out: &mut Vec<Item>,
    ) -> Result<(), String> {
        let created = time_value(m.get("createdDateTime"));
        let ev = |time: Timestamp, who: Actor, kind| {
            Item::Event(Box::new(event(time, Platform::Teams, meeting, who, kind)))
        };
        if let Some(deleted) = deleted {
            let who = self
                .identity_set(m.get("from"))
                .unwrap_or_else(|| Actor::new("unknown"));
            out.push(ev(
                deleted,
                who,
                EventKind::ChatMessageDeleted {
                    message_id: (!id.is_empty()).then_some(id),
                },
            ));
            return Ok(());
        }
        let created = created.ok_or("field `createdDateTime` is missing or not a time")?;
        if let Some(detail) = obj_field(m, "eventDetail") {
            return self.system_event(detail, created, meeting, out);
        }
        let kind = str_field(m, "messageType").unwrap_or("message");
        if kind != "message" {
            out.push(Item::Unmapped(format!("messageType {}", safe_word(kind))));
            return Ok(());
        }
        let who = self
            .identity_set(m.get("from"))
            .unwrap_or_else(|| Actor::new("unknown"));
        let body = obj_field(m, "body");
        let content = body.and_then(|b| str_field(b, "content")).unwrap_or("");
        let html = body
            .and_then(|b| str_field(b, "contentType"))
            .is_some_and(|t| t.eq_ignore_ascii_case("html"));
        let mut text = if html {
            html_to_text(content)
        } else {
            content.to_string()
        };
        if let Some(subject) = str_field(m, "subject") {
            text = format!("{subject}\n{text}");
        }
        if !text.trim().is_empty() {
            out.push(ev(
                created,
                who.clone(),
                EventKind::ChatMessage {
                    text,
                    message_id: (!id.is_empty()).then(|| id.clone()),
                },
            ));
        }
        if let Some(Value::Array(attachments)) = m.get("attachments") {
            for a in attachments.iter().filter_map(Value::as_object) {
                if str_field(a, "contentType") == Some("reference")
                    && let Some(name) = str_field(a, "name")
                {
                    out.push(ev(
                        created,
                        who.clone(),
                        EventKind::FileShared {
                            name: name.to_string(),
                        },
                    ));
                }
            }
        }
        if out.is_empty() {
            out.push(Item::Unmapped("message without text or file".into()));
        }
        Ok(())
    }

    fn system_event(
        &self,
        d: &Obj,
        time: Timestamp,
        meeting: &str,
        out: &mut Vec<Item>,
    ) -> Result<(), String> {
        // `#microsoft.graph.NAME`, or `#Microsoft.Teams.GraphSvc.NAME` in change notifications.
        let full = str_field(d, "@odata.type").unwrap_or("");
        let name = full.rsplit('.').next().unwrap_or(full);
        let ty = system_event_name(name).unwrap_or(name);
        let ev = |time: Timestamp, who: Actor, kind| {
            Item::Event(Box::new(event(time, Platform::Teams, meeting, who, kind)))
        };
        let initiator = || {
            self.identity_set(d.get("initiator"))
                .or_else(|| self.identity_set(d.get("meetingOrganizer")))
                .unwrap_or_else(|| Actor::new("unknown"))
        };
        match ty {
            "callRecordingEventMessageDetail" => {
                let status = str_field(d, "callRecordingStatus").unwrap_or("");
                let who = initiator();
                match status {
                    "initial" => out.push(ev(
                        time,
                        who,
                        EventKind::RecordingStarted {
                            media: Media::Video,
                        },
                    )),
                    "success" | "failure" | "chunkFinished" => {
                        // The duration tells when it started; the meeting state decides
                        // whether that start was reported already.
                        let started = str_field(d, "callRecordingDuration")
                            .and_then(|s| s.parse::<SignedDuration>().ok())
                            .and_then(|dur| time.checked_sub(dur).ok());
                        let finished = status != "chunkFinished";
                        out.push(ev(
                            time,
                            who.clone(),
                            EventKind::RecordingCompleted {
                                media: Media::Video,
                                started,
                                ended: finished.then_some(time),
                            },
                        ));
                        if finished {
                            out.push(ev(time, who, EventKind::RecordingStopped));
                        }
                    }
                    other => out.push(Item::Unmapped(format!(
                        "call recording status {}",
                        safe_word(other)
                    ))),
                }
            }
            "callTranscriptEventMessageDetail" => {
                out.push(ev(time, initiator(), EventKind::TranscriptionStarted));
            }
            "callStartedEventMessageDetail" => {
                let who = initiator();
                out.push(ev(
                    time,
                    who.clone(),
                    EventKind::MeetingStarted {
                        subject: None,
                        organizer: Some(who),
                        aliases: Vec::new(),
                    },
                ));
            }
            "callEndedEventMessageDetail" => {
                out.push(ev(
                    time,
                    initiator(),
                    EventKind::MeetingEnded { reason: None },
                ));
            }
            "membersAddedEventMessageDetail"
            | "membersJoinedEventMessageDetail"
            | "membersDeletedEventMessageDetail"
            | "membersLeftEventMessageDetail" => {
                let joined = ty.starts_with("membersAdded") || ty.starts_with("membersJoined");
                let members: Vec<&Obj> = match d.get("members") {
                    Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
                    _ => Vec::new(),
                };
                if members.is_empty() {
                    return Err("members event without `members`".into());
                }
                for member in members {
                    let who = self.identity(member);
                    let kind = if joined {
                        EventKind::ParticipantJoined {
                            role: None,
                            via_lobby: None,
                        }
                    } else {
                        EventKind::ParticipantLeft
                    };
                    out.push(ev(time, who, kind));
                }
            }
            "" => return Err("eventDetail without `@odata.type`".into()),
            other => out.push(Item::Unmapped(format!("system event {}", safe_word(other)))),
        }
        Ok(())
    }

    /// An `identitySet` (`from`, `initiator`): its user, else its application or device.
    fn identity_set(&self, v: Option<&Value>) -> Option<Actor> {
        let set = v?.as_object()?;
        if let Some(user) = obj_field(set, "user") {
            return Some(self.identity(user));
        }
        ["application", "device"]
            .iter()
            .find_map(|k| obj_field(set, k))
            .map(|o| self.identity(o))
    }

    /// A user identity (`id`, `displayName`, `userIdentityType`, `tenantId`).
    fn identity(&self, user: &Obj) -> Actor {
        let id = str_field(user, "id").unwrap_or("unknown");
        let kind = match str_field(user, "userIdentityType") {
            Some("anonymousGuest") => Some(ActorKind::Anonymous),
            Some("phoneUser") => Some(ActorKind::Phone),
            Some("federatedUser" | "personalMicrosoftAccountUser" | "skypeUser" | "emailUser") => {
                Some(ActorKind::External)
            }
            _ => match str_field(user, "tenantId") {
                Some(t)
                    if self
                        .tenants
                        .iter()
                        .any(|o| o.trim().eq_ignore_ascii_case(t.trim())) =>
                {
                    Some(ActorKind::Internal)
                }
                Some(_) if !self.tenants.is_empty() => Some(ActorKind::External),
                _ => None,
            },
        };
        let mut who = actor(id, str_field(user, "displayName"), kind);
        if kind.is_none() {
            // Nothing classified it: its tenant may, when judged (the tenant learned from the
            // audit records' own `OrganizationId`). GUIDs only, never other text.
            who.tenant = str_field(user, "tenantId").and_then(tenant_guid);
        }
        who
    }
}
