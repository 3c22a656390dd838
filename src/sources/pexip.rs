//! Pexip Infinity: the event sink's POST bodies (`{"node","seq","version","time","event",
//! "data"}`, versions 1 and 2, one per line, possibly bulk-wrapped as `eventsink_bulk`) and the
//! Management API's history pages (`{"meta":...,"objects":[...]}`, participant and conference
//! objects).
//!
//! - The meeting id is the conference (VMR) name: `data.conference` for participants,
//!   `data.name` for conferences, `conference_name`/`name` in history objects. A VMR is reused,
//!   so consecutive meetings in one room share the id; `meeting_ended` separates them.
//! - Every Conferencing Node reports `conference_started`/`conference_ended` for the
//!   conferences it hosts a part of; each is mapped. The meeting's first start and last end are
//!   what the rules see (`meeting-not-ended` looks at the last end).
//! - The record key of an event-sink record is the hash of the whole record (node, seq, time,
//!   event and data), so a redelivered body is read once and two different events never
//!   collapse; history objects are keyed on their kind and `id`.
//! - A participant's flags are reported as they are in each record (`participant_state`:
//!   `is_presenting`, `is_streaming`, and whether `service_type` is the waiting room or lobby).
//!   The meeting state follows them from record to record, in time order, whatever file or
//!   batch each came in: `is_presenting` gives screen share start/stop, `is_streaming` (a
//!   streaming or recording participant) a video recording for as long as it is set, and
//!   leaving the waiting room or lobby for the conference `participant_admitted` (by `unknown`:
//!   Pexip does not say who admitted); see `meeting::derive`.
//! - `role` chair/guest gives the role; `remote_address` within `internal_networks` makes the
//!   participant internal; an alias that is a telephone number makes it a phone participant.
//! - Pexip carries no chat, no remote control and no transcription.

use std::io::{self, BufRead};

use super::value::{Map, Value};
use jiff::Timestamp;

use super::json::{JsonRecords, Layout, RawRecord, map_object, read_json};
use super::net::{Cidr, parse_address};
use super::util::{
    actor, epoch_seconds, event, id_field, looks_like_phone, obj_field, safe_word, str_field,
    time_value,
};
use super::{Adapter, Flow, Item, Record, RecordKey, SourceSettings};
use crate::event::{Actor, ActorKind, EventKind, Platform, Role};

type Obj<'a> = Map<'a>;

/// The family name in record keys.
pub const KEY_FAMILY: &str = "pexip";

/// The actor of conference-level events, which Pexip attributes to no one.
pub const SYSTEM_ACTOR: &str = "pexip";

/// The Pexip adapter.
pub struct Pexip {
    networks: Vec<Cidr>,
}

impl Pexip {
    pub fn new(settings: &SourceSettings) -> Pexip {
        Pexip {
            networks: settings.internal_networks.clone(),
        }
    }
}

/// True when `head` looks like Pexip event-sink bodies or history pages.
pub fn looks_pexip(head: &[u8]) -> bool {
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    (has(b"\"node\"") && has(b"\"seq\"") && has(b"\"event\""))
        || (has(b"\"objects\"")
            && has(b"\"meta\"")
            && (has(b"\"conference_name\"")
                || has(b"\"participant_count\"")
                || has(b"\"service_type\"")))
}

impl Adapter for Pexip {
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

impl JsonRecords for Pexip {
    fn wrappers(&self) -> &'static [&'static str] {
        &["objects"]
    }

    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
        map_object(raw, KEY_FAMILY, emit, |obj, out| Ok(self.record(obj, out)))
    }
}

impl Pexip {
    fn objects(
        &self,
        input: &mut dyn BufRead,
        layout: Layout,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
    ) -> io::Result<()> {
        read_json(self, input, layout, emit)
    }
}

impl Pexip {
    /// Maps one record; returns its key when the record has an id of its own.
    fn record(&self, obj: &Obj, out: &mut Vec<Item>) -> Option<RecordKey> {
        let mut key = None;
        let result = if obj.contains_key("event") {
            if str_field(obj, "event") == Some("eventsink_bulk") {
                match obj.get("data") {
                    Some(Value::Array(list)) => {
                        for each in list {
                            match each.as_object() {
                                Some(o) => {
                                    self.record(o, out);
                                }
                                None => out.push(Item::Rejected(
                                    "eventsink_bulk element is not an object".into(),
                                )),
                            }
                        }
                        Ok(())
                    }
                    _ => Err("eventsink_bulk without a `data` list".to_string()),
                }
            } else {
                self.envelope(obj, out)
            }
        } else if obj.contains_key("conference_name") {
            key = history_key("participant", obj, &["id", "call_uuid"]);
            self.history_participant(obj, out)
        } else if obj.contains_key("name") && obj.contains_key("start_time") {
            key = history_key("conference", obj, &["id"]);
            self.history_conference(obj, out)
        } else {
            Err("neither an event-sink event nor a history object".to_string())
        };
        if let Err(reason) = result {
            out.push(Item::Rejected(reason));
        }
        key
    }

    fn envelope(&self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let name = str_field(obj, "event").ok_or("field `event` must be a string")?;
        let time = obj
            .get("time")
            .and_then(Value::as_f64)
            .and_then(epoch_seconds);
        let time = time.ok_or("field `time` is missing or not epoch seconds")?;
        let empty = Map::new();
        let data = obj_field(obj, "data").unwrap_or(&empty);
        let ev = |t: Timestamp, meeting: &str, a: Actor, kind| {
            Item::Event(Box::new(event(t, Platform::Pexip, meeting, a, kind)))
        };
        match name {
            "conference_started" => {
                let conf = str_field(data, "name").ok_or("missing field `data.name`")?;
                let t = time_value(data.get("start_time")).unwrap_or(time);
                out.push(ev(
                    t,
                    conf,
                    Actor::new(SYSTEM_ACTOR),
                    EventKind::MeetingStarted {
                        subject: None,
                        organizer: None,
                        aliases: Vec::new(),
                    },
                ));
            }
            "conference_ended" => {
                let conf = str_field(data, "name").ok_or("missing field `data.name`")?;
                let t = time_value(data.get("end_time")).unwrap_or(time);
                out.push(ev(
                    t,
                    conf,
                    Actor::new(SYSTEM_ACTOR),
                    EventKind::MeetingEnded { reason: None },
                ));
            }
            "participant_connected" | "participant_updated" | "participant_disconnected" => {
                // Without its conference or participant, the event cannot be placed: it is
                // read, and counted as unmapped.
                let (Some(conf), Some(_)) = (
                    str_field(data, "conference"),
                    id_field(data, "uuid").or_else(|| id_field(data, "call_id")),
                ) else {
                    out.push(Item::Unmapped(format!(
                        "event {name} (no conference or participant uuid)"
                    )));
                    return Ok(());
                };
                let who = self.participant(data, "source_alias", "destination_alias");
                // Still connecting (at the PIN entry or an IVR) is not in the meeting yet: like
                // the waiting room, until the participant reaches the conference.
                let waiting = match str_field(data, "service_type").unwrap_or("") {
                    "waiting_room" | "lobby" | "connecting" | "ivr" => Some(true),
                    "conference" | "lecture" => Some(false),
                    _ => None,
                };
                match name {
                    "participant_connected" => out.push(ev(
                        time,
                        conf,
                        who.clone(),
                        EventKind::ParticipantJoined {
                            role: role(data),
                            via_lobby: (waiting == Some(true)).then_some(true),
                        },
                    )),
                    "participant_disconnected" => {
                        // Leaving ends whatever the participant was doing: the meeting state
                        // stops their share or stream then.
                        let end = time_value(data.get("end_time")).unwrap_or(time);
                        out.push(ev(end, conf, who, EventKind::ParticipantLeft));
                        return Ok(());
                    }
                    _ => {}
                }
                let state = EventKind::ParticipantState {
                    presenting: data.get("is_presenting").and_then(Value::as_bool),
                    streaming: data.get("is_streaming").and_then(Value::as_bool),
                    waiting,
                };
                out.push(ev(time, conf, who, state));
            }
            other => out.push(Item::Unmapped(format!("event {}", safe_word(other)))),
        }
        Ok(())
    }

    /// The participant an event-sink `data` or history object is about.
    fn participant(&self, data: &Obj, remote_in: &str, remote_out: &str) -> Actor {
        let outgoing = str_field(data, "call_direction") == Some("out");
        let alias = str_field(data, if outgoing { remote_out } else { remote_in });
        let id = alias
            .map(strip_scheme)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .or_else(|| str_field(data, "display_name").map(str::to_string))
            .or_else(|| id_field(data, "uuid"))
            .unwrap_or_else(|| "unknown".to_string());
        let internal = str_field(data, "remote_address")
            .and_then(parse_address)
            .is_some_and(|ip| self.networks.iter().any(|n| n.contains(ip)));
        let kind = if internal {
            Some(ActorKind::Internal)
        } else if alias.is_some_and(|a| a.starts_with("tel:")) || looks_like_phone(&id) {
            Some(ActorKind::Phone)
        } else {
            None
        };
        actor(&id, str_field(data, "display_name"), kind)
    }

    fn history_participant(&self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let conf = str_field(obj, "conference_name").ok_or("missing field `conference_name`")?;
        let start = time_value(obj.get("start_time"))
            .ok_or("field `start_time` is missing or not a time")?;
        let who = self.participant(obj, "remote_alias", "remote_alias");
        out.push(Item::Event(Box::new(event(
            start,
            Platform::Pexip,
            conf,
            who.clone(),
            EventKind::ParticipantJoined {
                role: role(obj),
                via_lobby: None,
            },
        ))));
        if let Some(end) = time_value(obj.get("end_time")) {
            out.push(Item::Event(Box::new(event(
                end,
                Platform::Pexip,
                conf,
                who,
                EventKind::ParticipantLeft,
            ))));
        }
        Ok(())
    }

    fn history_conference(&self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let conf = str_field(obj, "name").ok_or("missing field `name`")?;
        let start = time_value(obj.get("start_time"))
            .ok_or("field `start_time` is missing or not a time")?;
        let system = Actor::new(SYSTEM_ACTOR);
        out.push(Item::Event(Box::new(event(
            start,
            Platform::Pexip,
            conf,
            system.clone(),
            EventKind::MeetingStarted {
                subject: None,
                organizer: None,
                aliases: Vec::new(),
            },
        ))));
        if let Some(end) = time_value(obj.get("end_time")) {
            out.push(Item::Event(Box::new(event(
                end,
                Platform::Pexip,
                conf,
                system,
                EventKind::MeetingEnded { reason: None },
            ))));
        }
        Ok(())
    }
}

/// A history object's key: its kind and its first id field, when it has one.
fn history_key(kind: &str, obj: &Obj, fields: &[&str]) -> Option<RecordKey> {
    let id = fields.iter().find_map(|f| id_field(obj, f))?;
    Some(RecordKey::new(
        "pexip-history",
        &[kind.as_bytes(), id.as_bytes()],
    ))
}

fn role(data: &Obj) -> Option<Role> {
    match str_field(data, "role")? {
        "chair" => Some(Role::Chair),
        "guest" => Some(Role::Guest),
        _ => None,
    }
}

/// `sip:anna@region.se` → `anna@region.se`; `tel:` is kept off too.
fn strip_scheme(alias: &str) -> &str {
    let a = alias.trim();
    for scheme in ["sip:", "sips:", "h323:", "tel:", "SIP:", "H323:"] {
        if let Some(rest) = a.strip_prefix(scheme) {
            return rest;
        }
    }
    a
}
