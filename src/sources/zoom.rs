//! Zoom webhooks: the POST bodies `{"event","event_ts","payload":{"object":...}}`, one per line
//! (NDJSON), as a JSON array, or wrapped the way Elastic's test files do
//! (`{"events":[{"zoom": BODY}]}`).
//!
//! The meeting id is the instance `uuid` (`meeting_uuid` in file events), falling back to the
//! meeting number `id`; ids are strings whether Zoom wrote a number or a string. Times come from
//! the record's own field (`join_time`, `leave_time`, `date_time`, `recording_start`...) and
//! fall back to `event_ts` (epoch milliseconds). The record key is the hash of the body, so
//! identical bodies (webhook retries) are read once.
//!
//! Entering the waiting room (`participant_joined_waiting_room`, `put_in_waiting_room`,
//! `jbh_waiting`) is a join through the lobby: the participant waits until admitted. Zoom has no
//! remote-control event, says nothing about who admitted a participant (the host is assumed)
//! and tells video from audio-only recording only on `recording.completed`, which gives a
//! `recording_completed` with what the files hold and when they start and end. The meeting state
//! pairs it with the recording seen starting (`recording-video` then cites audio-only files in
//! its evidence), or, when none was, takes it for the recording itself.

use std::io::{self, BufRead};

use super::value::{Map, Value};
use jiff::Timestamp;

use super::json::{JsonRecords, Layout, RawRecord, map_object, read_json};
use super::util::{
    Skip, actor, epoch_millis, event, id_field, obj_field, present, safe_word, str_field,
    time_value,
};
use super::{Adapter, Flow, Item, Record, SourceSettings};
use crate::event::{Actor, ActorKind, EventKind, Media, Platform, Role, ShareScope};

type Obj<'a> = Map<'a>;

/// The family name in record keys.
pub const KEY_FAMILY: &str = "zoom";

/// The Zoom webhook adapter.
pub struct Zoom;

impl Zoom {
    pub fn new(_settings: &SourceSettings) -> Zoom {
        Zoom
    }
}

/// True when `head` looks like Zoom webhook bodies.
pub fn looks_zoom(head: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    let plain =
        has(b"\"event\"") && has(b"\"payload\"") && (has(b"\"object\"") || has(b"\"account_id\""));
    // A body kept as a JSON string (`{"headers":{...},"body":"{\"event\":...}"}`).
    let escaped = has(b"\\\"event\\\"")
        && has(b"\\\"payload\\\"")
        && (has(b"\\\"object\\\"") || has(b"\\\"account_id\\\""));
    plain || escaped
}

impl Adapter for Zoom {
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

impl JsonRecords for Zoom {
    fn wrappers(&self) -> &'static [&'static str] {
        &["events"]
    }

    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
        map_object(raw, KEY_FAMILY, emit, |obj, out| {
            match self.map(obj) {
                Ok(items) => out.extend(items),
                Err(skip) => out.push(skip.item()),
            }
            Ok(None)
        })
    }
}

impl Zoom {
    fn objects(
        &self,
        input: &mut dyn BufRead,
        layout: Layout,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_json(self, input, layout, emit)
    }
}

/// Who a participant object is: e-mail, else the account user id, else the session ids.
fn participant(p: &Obj) -> Actor {
    let email = str_field(p, "email");
    let id = email
        .map(str::to_string)
        .or_else(|| id_field(p, "id"))
        .or_else(|| id_field(p, "participant_uuid"))
        .or_else(|| id_field(p, "participant_user_id"))
        .or_else(|| id_field(p, "user_id"))
        .or_else(|| str_field(p, "user_name").map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    // A dial-in participant has a phone number and no account e-mail.
    let kind =
        (email.is_none() && str_field(p, "phone_number").is_some()).then_some(ActorKind::Phone);
    actor(&id, str_field(p, "user_name"), kind)
}

impl Zoom {
    fn map(&self, body: &Obj) -> Result<Vec<Item>, Skip> {
        // A body still in its transport, as a receiver stored it: `{"headers": {...},
        // "body": BODY}` with the body as an object or as a JSON string.
        if body.get("event").is_none() {
            match body.get("body") {
                Some(Value::Object(inner)) => return self.map(inner),
                Some(Value::String(text)) => {
                    let inner = super::util::parse_object(text.as_bytes())
                        .map_err(|e| Skip::Rejected(format!("body: {e}")))?;
                    return self.map(&inner);
                }
                _ => {}
            }
        }
        // Elastic's test files wrap each body as {"zoom": BODY}.
        let body = match (body.get("event"), obj_field(body, "zoom")) {
            (None, Some(inner)) => inner,
            _ => body,
        };
        let name = str_field(body, "event").ok_or("missing field `event`")?;
        // Webinars have the meetings' events under `webinar.*`, with the same objects.
        let original = name;
        let webinar = name
            .strip_prefix("webinar.")
            .map(|rest| format!("meeting.{rest}"));
        let name = webinar.as_deref().unwrap_or(name);
        let payload = obj_field(body, "payload").ok_or("missing field `payload`")?;
        let object = obj_field(payload, "object").ok_or("missing field `payload.object`")?;
        let event_ts = body
            .get("event_ts")
            .and_then(Value::as_i64)
            .and_then(epoch_millis);
        let meeting = id_field(object, "uuid")
            .or_else(|| id_field(object, "meeting_uuid"))
            .or_else(|| id_field(object, "id"))
            .or_else(|| id_field(object, "meeting_id"))
            .ok_or("missing field `payload.object.uuid`")?;
        // The actor of meeting-level events: the operator when Zoom names one, else the host.
        let host = || {
            let id = str_field(payload, "operator")
                .map(str::to_string)
                .or_else(|| str_field(object, "host_email").map(str::to_string))
                .or_else(|| id_field(object, "host_id"))
                .unwrap_or_else(|| "host".to_string());
            Actor::new(id)
        };
        // The record's own time, else event_ts. A time that is there but unreadable rejects
        // the record; no time at all leaves it unmapped.
        let no_time = || Skip::Unmapped(format!("event {} (no time)", safe_word(original)));
        let when = |v: Option<&Value>, what: &str| -> Result<Timestamp, Skip> {
            match time_value(v) {
                Some(t) => Ok(t),
                None if present(v) => Err(Skip::Rejected(format!("field `{what}` is not a time"))),
                None => event_ts.ok_or_else(no_time),
            }
        };
        let ev = |time, actor, kind| {
            Item::Event(Box::new(event(time, Platform::Zoom, &meeting, actor, kind)))
        };
        let person = obj_field(object, "participant");
        let mut out = Vec::new();
        match name {
            "meeting.started" => out.push(ev(
                when(object.get("start_time"), "start_time")?,
                host(),
                EventKind::MeetingStarted {
                    subject: str_field(object, "topic").map(str::to_string),
                    organizer: str_field(object, "host_email")
                        .map(str::to_string)
                        .or_else(|| id_field(object, "host_id"))
                        .map(Actor::new),
                    aliases: Vec::new(),
                },
            )),
            "meeting.ended" => out.push(ev(
                when(object.get("end_time"), "end_time")?,
                host(),
                EventKind::MeetingEnded { reason: None },
            )),
            "meeting.participant_joined" => {
                let p = person.ok_or("missing field `payload.object.participant`")?;
                let who = participant(p);
                let organizer =
                    id_field(p, "id").is_some() && id_field(p, "id") == id_field(object, "host_id");
                out.push(ev(
                    when(p.get("join_time"), "participant.join_time")?,
                    who,
                    EventKind::ParticipantJoined {
                        role: organizer.then_some(Role::Organizer),
                        via_lobby: None,
                    },
                ));
            }
            "meeting.participant_left" => {
                let p = person.ok_or("missing field `payload.object.participant`")?;
                out.push(ev(
                    when(p.get("leave_time"), "participant.leave_time")?,
                    participant(p),
                    EventKind::ParticipantLeft,
                ));
            }
            "meeting.participant_joined_waiting_room"
            | "meeting.participant_put_in_waiting_room"
            | "meeting.participant_jbh_waiting" => {
                // Into the waiting room: a join through the lobby, waiting until admitted.
                let p = person.ok_or("missing field `payload.object.participant`")?;
                out.push(ev(
                    when(p.get("date_time"), "participant.date_time")?,
                    participant(p),
                    EventKind::ParticipantJoined {
                        role: None,
                        via_lobby: Some(true),
                    },
                ));
            }
            "meeting.participant_admitted" => {
                let p = person.ok_or("missing field `payload.object.participant`")?;
                let target = participant(p);
                out.push(ev(
                    when(p.get("date_time"), "participant.date_time")?,
                    host(),
                    EventKind::ParticipantAdmitted { target },
                ));
            }
            "meeting.sharing_started" | "meeting.sharing_ended" => {
                let p = person.ok_or("missing field `payload.object.participant`")?;
                let details = obj_field(p, "sharing_details");
                let time = when(
                    details.and_then(|d| d.get("date_time")),
                    "sharing_details.date_time",
                )?;
                let kind = if name == "meeting.sharing_started" {
                    EventKind::ScreenShareStarted {
                        scope: details
                            .and_then(|d| str_field(d, "content"))
                            .and_then(share_scope),
                    }
                } else {
                    EventKind::ScreenShareStopped
                };
                out.push(ev(time, participant(p), kind));
            }
            "meeting.chat_message_sent" => {
                let m = obj_field(object, "chat_message")
                    .ok_or("missing field `payload.object.chat_message`")?;
                let text = match m.get("message_content") {
                    Some(Value::String(s)) => s.to_string(),
                    _ => return Err("missing field `chat_message.message_content`".into()),
                };
                out.push(ev(
                    when(m.get("date_time"), "chat_message.date_time")?,
                    sender(m),
                    EventKind::ChatMessage {
                        text,
                        message_id: str_field(m, "message_id").map(str::to_string),
                    },
                ));
            }
            "meeting.chat_message_file_sent" => {
                let f = obj_field(object, "chat_message_file")
                    .ok_or("missing field `payload.object.chat_message_file`")?;
                let file = str_field(f, "file_name")
                    .ok_or("missing field `chat_message_file.file_name`")?;
                out.push(ev(
                    when(f.get("date_time"), "chat_message_file.date_time")?,
                    sender(f),
                    EventKind::FileShared {
                        name: file.to_string(),
                    },
                ));
            }
            "recording.started" | "recording.resumed" => {
                let file = obj_field(object, "recording_file");
                let time = when(
                    file.and_then(|f| f.get("recording_start")),
                    "recording_file.recording_start",
                )?;
                out.push(ev(
                    time,
                    host(),
                    EventKind::RecordingStarted {
                        media: Media::Video,
                    },
                ));
            }
            "recording.paused" | "recording.stopped" => {
                // While paused or stopped, `recording_end` may be empty: use event_ts then.
                let file = obj_field(object, "recording_file");
                let time = when(
                    file.and_then(|f| f.get("recording_end")),
                    "recording_file.recording_end",
                )?;
                out.push(ev(time, host(), EventKind::RecordingStopped));
            }
            "recording.completed" => {
                let files = recording_files(object);
                let media = if files.iter().any(|f| f.video) {
                    Media::Video
                } else if files.iter().any(|f| f.audio) {
                    Media::Audio
                } else {
                    return Ok(vec![Item::Unmapped(
                        "event recording.completed (no audio or video file)".into(),
                    )]);
                };
                let started = files.iter().filter_map(|f| f.start).min().or(event_ts);
                let ended = files.iter().filter_map(|f| f.end).max();
                let time = event_ts.or(ended).or(started).ok_or_else(no_time)?;
                out.push(ev(
                    time,
                    host(),
                    EventKind::RecordingCompleted {
                        media,
                        started,
                        ended,
                    },
                ));
            }
            "recording.transcript_completed" => {
                let files = recording_files(object);
                let start = files.iter().filter_map(|f| f.start).min();
                let end = files.iter().filter_map(|f| f.end).max();
                let time = start.or(event_ts).ok_or_else(no_time)?;
                out.push(ev(time, host(), EventKind::TranscriptionStarted));
                if let Some(end) = end {
                    out.push(ev(end, host(), EventKind::TranscriptionStopped));
                }
            }
            // The event model has no deletion of a recording: labelled, so they are counted.
            "recording.deleted" | "recording.trashed" | "recording.recovered" => {
                let what = match name {
                    "recording.deleted" => "recording deleted for good",
                    "recording.trashed" => "recording moved to the trash",
                    _ => "recording restored from the trash",
                };
                out.push(Item::Unmapped(format!("event {name} ({what})")));
            }
            _ => out.push(Item::Unmapped(format!("event {}", safe_word(original)))),
        }
        Ok(out)
    }
}

/// The sender of a chat message or file.
fn sender(m: &Obj) -> Actor {
    let id = str_field(m, "sender_email")
        .map(str::to_string)
        .or_else(|| id_field(m, "sender_session_id"))
        .or_else(|| str_field(m, "sender_name").map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    actor(&id, str_field(m, "sender_name"), None)
}

fn share_scope(content: &str) -> Option<ShareScope> {
    match content.to_ascii_lowercase().as_str() {
        "desktop" | "screen" => Some(ShareScope::Desktop),
        "application" | "window" => Some(ShareScope::Application),
        "whiteboard" => Some(ShareScope::Whiteboard),
        "file" | "document" => Some(ShareScope::Document),
        _ => None,
    }
}

struct RecordingFile {
    video: bool,
    audio: bool,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

/// The media files of a `recording.completed` or `recording.transcript_completed` object.
fn recording_files(object: &Obj) -> Vec<RecordingFile> {
    let Some(Value::Array(files)) = object.get("recording_files") else {
        return Vec::new();
    };
    files
        .iter()
        .filter_map(Value::as_object)
        .map(|f| {
            let file_type = str_field(f, "file_type").unwrap_or("").to_ascii_uppercase();
            let rec_type = str_field(f, "recording_type")
                .unwrap_or("")
                .to_ascii_lowercase();
            let video = file_type == "MP4" && rec_type != "audio_only";
            let audio = rec_type == "audio_only" || file_type == "M4A";
            RecordingFile {
                video,
                audio,
                start: time_value(f.get("recording_start")),
                end: time_value(f.get("recording_end")),
            }
        })
        .collect()
}
