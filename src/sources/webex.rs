//! Cisco Webex: webhook bodies (`{"id","resource","event","data",...}`, also the events API's
//! `type` for `event`) and REST list responses (`{"items":[...]}`) of meeting participants,
//! recordings, meeting transcripts, post-meeting chats and meeting instances.
//!
//! - The meeting id is the meeting instance id: `meetingId`, or `data.id` for `meetings`
//!   webhooks and meeting objects.
//! - Participants: `email` is the id; `host` makes the organiser and `coHost` a chair; `state`
//!   `lobby` is not yet a join; `orgId` in `webex_org_ids` is internal, another org external; a
//!   participant without e-mail on a PSTN device is a phone participant.
//! - Recordings (`timeRecorded`, `durationSeconds`) give a video recording: Webex does not tell
//!   audio-only recordings apart. Transcripts give transcription. Chats (`text`, `sender`) give
//!   chat messages, after the meeting.
//! - Times are ISO 8601; `1970-01-01T00:00:00Z` is Webex's placeholder for "not yet known" and
//!   is ignored.
//! - A webhook's record key is its event `id`; a REST object's, the hash of the object (a
//!   participant listed again after leaving is a new record, not a replacement).
//! - Webex carries no screen sharing and no remote control.

use std::io::{self, BufRead};

use super::value::{Map, Value};
use jiff::{SignedDuration, Timestamp};

use super::json::{JsonRecords, Layout, RawRecord, map_object, read_json};
use super::util::{actor, event, id_field, obj_field, safe_word, str_field, time_value};
use super::{Adapter, Flow, Item, Record, RecordKey, SourceSettings};
use crate::event::{Actor, ActorKind, EventKind, Media, Platform, Role};

type Obj<'a> = Map<'a>;

/// The family name in record keys.
pub const KEY_FAMILY: &str = "webex";

/// The Webex adapter.
pub struct Webex {
    orgs: Vec<String>,
}

impl Webex {
    pub fn new(settings: &SourceSettings) -> Webex {
        Webex {
            orgs: settings.webex_org_ids.clone(),
        }
    }
}

/// True when `head` looks like Webex webhook bodies or REST objects.
pub fn looks_webex(head: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    (has(b"\"resource\"") && (has(b"\"event\"") || has(b"\"type\"")) && has(b"\"data\""))
        || (has(b"\"meetingId\"")
            && (has(b"\"joinedTime\"")
                || has(b"\"timeRecorded\"")
                || has(b"\"chatTime\"")
                || has(b"\"vttDownloadLink\"")))
        || (has(b"\"meetingType\"") && has(b"\"hostEmail\""))
}

impl Adapter for Webex {
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

impl JsonRecords for Webex {
    fn wrappers(&self) -> &'static [&'static str] {
        &["items"]
    }

    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
        map_object(raw, KEY_FAMILY, emit, |obj, out| self.map(obj, out))
    }
}

impl Webex {
    fn objects(
        &self,
        input: &mut dyn BufRead,
        layout: Layout,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_json(self, input, layout, emit)
    }
}

/// What a Webex object is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Meeting,
    Participant,
    Recording,
    Transcript,
    Chat,
}

impl Kind {
    fn of_object(o: &Obj) -> Option<Kind> {
        if o.contains_key("chatTime") {
            Some(Kind::Chat)
        } else if o.contains_key("timeRecorded") {
            Some(Kind::Recording)
        } else if o.contains_key("vttDownloadLink") || o.contains_key("txtDownloadLink") {
            Some(Kind::Transcript)
        } else if o.contains_key("joinedTime")
            || (o.contains_key("state") && o.contains_key("meetingId"))
        {
            Some(Kind::Participant)
        } else if o.contains_key("meetingType") {
            Some(Kind::Meeting)
        } else {
            None
        }
    }
}

impl Webex {
    /// Maps one record; a webhook's key is its event id.
    fn map(&self, obj: &Obj, out: &mut Vec<Item>) -> Result<Option<RecordKey>, String> {
        if let Some(resource) = str_field(obj, "resource") {
            let name = str_field(obj, "event")
                .or_else(|| str_field(obj, "type"))
                .ok_or("webhook without `event`")?;
            let data = obj_field(obj, "data").ok_or("webhook without `data`")?;
            let key = id_field(obj, "id")
                .map(|id| RecordKey::new(KEY_FAMILY, &[b"webhook", id.as_bytes()]));
            let created = time_value(obj.get("created"));
            let kind = match (resource, name) {
                ("meetings", "started" | "ended") => Kind::Meeting,
                ("meetingParticipants", "joined" | "left") => Kind::Participant,
                ("recordings" | "convergedRecordings", "created") => Kind::Recording,
                ("meetingTranscripts", "created") => Kind::Transcript,
                // The Events API's in-meeting chat (`/events?resource=meetingMessages`).
                ("meetingMessages", "created" | "deleted") => {
                    self.meeting_message(obj, data, name == "deleted", created, out)?;
                    return Ok(key);
                }
                _ => {
                    out.push(Item::Unmapped(format!(
                        "webhook {}.{}",
                        safe_word(resource),
                        safe_word(name)
                    )));
                    return Ok(key);
                }
            };
            self.object(kind, data, Some(name), created, out)?;
            return Ok(key);
        }
        let Some(kind) = Kind::of_object(obj) else {
            out.push(Item::Unmapped("Webex object of unknown kind".into()));
            return Ok(None);
        };
        self.object(kind, obj, None, None, out)?;
        Ok(None)
    }

    /// Maps one object; `webhook` is the webhook's event name, `created` its time.
    fn object(
        &self,
        kind: Kind,
        o: &Obj,
        webhook: Option<&str>,
        created: Option<Timestamp>,
        out: &mut Vec<Item>,
    ) -> Result<(), String> {
        let meeting = match kind {
            Kind::Meeting => id_field(o, "id").or_else(|| id_field(o, "meetingId")),
            _ => id_field(o, "meetingId"),
        }
        .ok_or("missing field `meetingId`")?;
        let ev = |time: Timestamp, who: Actor, kind| {
            Item::Event(Box::new(event(time, Platform::Webex, &meeting, who, kind)))
        };
        let host = || {
            let id = str_field(o, "hostEmail")
                .or_else(|| str_field(o, "hostUserId"))
                .unwrap_or("host");
            Actor::new(id)
        };
        match kind {
            Kind::Meeting => {
                let (start, end) = (time_value(o.get("start")), time_value(o.get("end")));
                let subject = str_field(o, "title").map(str::to_string);
                let organizer = str_field(o, "hostEmail").map(Actor::new);
                match webhook {
                    Some("started") => {
                        let t = created
                            .or(start)
                            .ok_or("no time (`created` and `data.start`)")?;
                        out.push(ev(
                            t,
                            host(),
                            EventKind::MeetingStarted {
                                subject,
                                organizer,
                                aliases: Vec::new(),
                            },
                        ));
                    }
                    Some(_) => {
                        let t = created
                            .or(end)
                            .ok_or("no time (`created` and `data.end`)")?;
                        out.push(ev(t, host(), EventKind::MeetingEnded { reason: None }));
                    }
                    None => {
                        if str_field(o, "meetingType") != Some("meeting") {
                            out.push(Item::Unmapped("meeting series or scheduled meeting".into()));
                            return Ok(());
                        }
                        let start = start.ok_or("meeting without `start`")?;
                        out.push(ev(
                            start,
                            host(),
                            EventKind::MeetingStarted {
                                subject,
                                organizer,
                                aliases: Vec::new(),
                            },
                        ));
                        if str_field(o, "state") == Some("ended")
                            && let Some(end) = end
                        {
                            out.push(ev(end, host(), EventKind::MeetingEnded { reason: None }));
                        }
                    }
                }
            }
            Kind::Participant => {
                let who = self.participant(o);
                let joined = time_value(o.get("joinedTime"));
                let left = time_value(o.get("leftTime"));
                let role = if o.get("host").and_then(Value::as_bool) == Some(true) {
                    Some(Role::Organizer)
                } else if o.get("coHost").and_then(Value::as_bool) == Some(true) {
                    Some(Role::Chair)
                } else {
                    None
                };
                let join = EventKind::ParticipantJoined {
                    role,
                    via_lobby: None,
                };
                if str_field(o, "state") == Some("lobby") {
                    // Waiting to be let in, not in the meeting: the join comes with the state
                    // `joined`.
                    out.push(Item::Unmapped("participant in the lobby".into()));
                    return Ok(());
                }
                match webhook {
                    Some("joined") => {
                        let t = joined
                            .or(created)
                            .ok_or("no time (`joinedTime` and `created`)")?;
                        out.push(ev(t, who, join));
                    }
                    Some(_) => {
                        let t = left
                            .or(created)
                            .ok_or("no time (`leftTime` and `created`)")?;
                        out.push(ev(t, who, EventKind::ParticipantLeft));
                    }
                    None => {
                        let Some(joined) = joined else {
                            out.push(Item::Unmapped("participant without a join time".into()));
                            return Ok(());
                        };
                        out.push(ev(joined, who.clone(), join));
                        if let Some(left) = left {
                            out.push(ev(left, who, EventKind::ParticipantLeft));
                        }
                    }
                }
            }
            Kind::Recording => {
                let start = time_value(o.get("timeRecorded"))
                    .or(created)
                    .ok_or("field `timeRecorded` is missing or not a time")?;
                out.push(ev(
                    start,
                    host(),
                    EventKind::RecordingStarted {
                        media: Media::Video,
                    },
                ));
                if let Some(secs) = o.get("durationSeconds").and_then(Value::as_f64)
                    && secs > 0.0
                    && let Ok(duration) = SignedDuration::try_from_secs_f64(secs)
                    && let Ok(end) = start.checked_add(duration)
                {
                    out.push(ev(end, host(), EventKind::RecordingStopped));
                }
            }
            Kind::Transcript => {
                let t = time_value(o.get("startTime"))
                    .or(created)
                    .ok_or("field `startTime` is missing or not a time")?;
                out.push(ev(t, host(), EventKind::TranscriptionStarted));
            }
            Kind::Chat => {
                let t = time_value(o.get("chatTime"))
                    .ok_or("field `chatTime` is missing or not a time")?;
                let text = match o.get("text") {
                    Some(Value::String(s)) => s.to_string(),
                    _ => return Err("missing field `text`".into()),
                };
                let who = obj_field(o, "sender")
                    .map(|s| self.person(s, None))
                    .unwrap_or_else(|| Actor::new("unknown"));
                let message_id = str_field(o, "id").map(str::to_string);
                out.push(ev(t, who, EventKind::ChatMessage { text, message_id }));
            }
        }
        Ok(())
    }

    /// An in-meeting chat message of the Events API (`resource` `meetingMessages`): `data`
    /// has the message's `id`, `meetingId`, `text`, the sender's `personEmail`/`personId` and
    /// `orgId` (else the event's `orgId`), and `created`.
    fn meeting_message(
        &self,
        envelope: &Obj,
        data: &Obj,
        deleted: bool,
        created: Option<Timestamp>,
        out: &mut Vec<Item>,
    ) -> Result<(), String> {
        let meeting = id_field(data, "meetingId").ok_or("missing field `data.meetingId`")?;
        let time = time_value(data.get("created"))
            .or(created)
            .ok_or("no time (`data.created` and `created`)")?;
        let org = str_field(data, "orgId").or_else(|| str_field(envelope, "orgId"));
        let kind = match org {
            Some(o) if self.is_own(o) => Some(ActorKind::Internal),
            Some(_) if !self.orgs.is_empty() => Some(ActorKind::External),
            _ => None,
        };
        let id = str_field(data, "personEmail")
            .or_else(|| str_field(data, "personId"))
            .or_else(|| str_field(envelope, "actorId"))
            .unwrap_or("unknown");
        let who = actor(id, str_field(data, "personDisplayName"), kind);
        let message_id = str_field(data, "id").map(str::to_string);
        let kind = if deleted {
            EventKind::ChatMessageDeleted { message_id }
        } else {
            let text = match data.get("text") {
                Some(Value::String(s)) => s.to_string(),
                _ => return Err("missing field `data.text`".into()),
            };
            EventKind::ChatMessage { text, message_id }
        };
        out.push(Item::Event(Box::new(event(
            time,
            Platform::Webex,
            &meeting,
            who,
            kind,
        ))));
        Ok(())
    }

    fn is_own(&self, org: &str) -> bool {
        self.orgs.iter().any(|x| x.trim() == org.trim())
    }

    /// A meeting participant.
    fn participant(&self, o: &Obj) -> Actor {
        let devices: Vec<&Obj> = match o.get("devices") {
            Some(Value::Array(d)) => d.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        let pstn = devices
            .iter()
            .find(|d| str_field(d, "audioType") == Some("pstn"));
        let phone = pstn.and_then(|d| str_field(d, "phoneNumber"));
        self.person(
            o,
            if str_field(o, "email").is_none() && pstn.is_some() {
                Some(phone.unwrap_or("phone"))
            } else {
                None
            },
        )
    }

    /// A person object (`email`, `displayName`, `orgId`, `personId`); `phone` is the number of
    /// a participant who dialled in without an account.
    fn person(&self, o: &Obj, phone: Option<&str>) -> Actor {
        let kind = if phone.is_some() {
            Some(ActorKind::Phone)
        } else {
            match str_field(o, "orgId") {
                Some(org) if self.orgs.iter().any(|x| x.trim() == org.trim()) => {
                    Some(ActorKind::Internal)
                }
                Some(_) if !self.orgs.is_empty() => Some(ActorKind::External),
                _ => None,
            }
        };
        let id = str_field(o, "email")
            .or(phone)
            .or_else(|| str_field(o, "personId"))
            .or_else(|| str_field(o, "displayName"))
            .or_else(|| str_field(o, "id"))
            .unwrap_or("unknown");
        actor(id, str_field(o, "displayName"), kind)
    }
}
