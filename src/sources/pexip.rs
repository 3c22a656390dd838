//! Pexip Infinity: the event sink's POST bodies (`{"node","seq","version","time","event",
//! "data"}`, versions 1 and 2, one per line, possibly bulk-wrapped as `eventsink_bulk`) and the
//! Management API's history pages (`{"meta":...,"objects":[...]}`, participant and conference
//! objects).
//!
//! - The meeting id is the conference (VMR) name: `data.conference` for participants,
//!   `data.name` for conferences, `conference_name`/`name` in history objects. A VMR is reused,
//!   so consecutive meetings in one room share the id; `meeting_ended` separates them.
//! - Every Conferencing Node reports `conference_started`/`conference_ended` for the
//!   conferences it hosts a part of: the first start opens the meeting and the end from the last
//!   node still hosting it closes it; the others are [`Item::Unmapped`] as merged.
//! - Event-sink records are deduplicated on (node, seq); seq restarts at `eventsink_started`,
//!   so the key also holds the time of the node's latest `eventsink_started`.
//! - A participant's flags are followed from event to event: `is_presenting` gives screen share
//!   start/stop, `is_streaming` (a streaming or recording participant) gives a video recording
//!   for as long as it is set, and leaving the waiting room or lobby (`service_type`) for the
//!   conference gives `participant_admitted` (by `unknown`: Pexip does not say who admitted).
//! - `role` chair/guest gives the role; `remote_address` within `internal_networks` makes the
//!   participant internal; an alias that is a telephone number makes it a phone participant.
//! - Pexip carries no chat, no remote control and no transcription.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead};

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::json::read_objects;
use super::net::{Cidr, parse_address};
use super::util::{
    actor, epoch_seconds, event, id_field, looks_like_phone, obj_field, safe_word, str_field,
    time_value,
};
use super::{Adapter, Item, SourceSettings};
use crate::event::{Actor, ActorKind, EventKind, Media, Platform, Role};

type Obj = Map<String, Value>;

/// The actor of conference-level events, which Pexip attributes to no one.
pub const SYSTEM_ACTOR: &str = "pexip";

/// The actor of an admission whose admitter the platform does not record.
pub const UNKNOWN_ACTOR: &str = "unknown";

/// The Pexip adapter.
pub struct Pexip {
    networks: Vec<Cidr>,
    /// (node, time of its latest eventsink_started in µs, seq).
    seen: HashSet<(String, i64, u64)>,
    /// History objects already read, by kind and id.
    seen_history: HashSet<(bool, String)>,
    /// node → time of its latest eventsink_started (µs).
    generation: HashMap<String, i64>,
    /// conference → nodes hosting it.
    conferences: HashMap<String, HashSet<String>>,
    /// participant uuid → what was last seen of it.
    participants: HashMap<String, Flags>,
}

#[derive(Default, Clone, Copy)]
struct Flags {
    waiting: bool,
    presenting: bool,
    streaming: bool,
}

impl Pexip {
    pub fn new(settings: &SourceSettings) -> Pexip {
        Pexip {
            networks: settings.internal_networks.clone(),
            seen: HashSet::new(),
            seen_history: HashSet::new(),
            generation: HashMap::new(),
            conferences: HashMap::new(),
            participants: HashMap::new(),
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
    fn read(
        &mut self,
        input: &mut dyn BufRead,
        emit: &mut dyn FnMut(super::Line, Item),
    ) -> io::Result<()> {
        read_objects(input, &["objects"], emit, |obj, out| {
            self.record(obj, out);
            Ok(())
        })
    }
}

impl Pexip {
    fn record(&mut self, obj: &Obj, out: &mut Vec<Item>) {
        let result = if obj.contains_key("event") {
            if str_field(obj, "event") == Some("eventsink_bulk") {
                match obj.get("data") {
                    Some(Value::Array(list)) => {
                        for each in list {
                            match each.as_object() {
                                Some(o) => self.record(o, out),
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
            self.history_participant(obj, out)
        } else if obj.contains_key("name") && obj.contains_key("start_time") {
            self.history_conference(obj, out)
        } else {
            Err("neither an event-sink event nor a history object".to_string())
        };
        if let Err(reason) = result {
            out.push(Item::Rejected(reason));
        }
    }

    fn envelope(&mut self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let name = str_field(obj, "event").ok_or("field `event` must be a string")?;
        let node = str_field(obj, "node").unwrap_or("").to_string();
        let time = obj
            .get("time")
            .and_then(Value::as_f64)
            .and_then(epoch_seconds);
        if name == "eventsink_started" {
            let t = time.map_or(0, |t| t.as_microsecond());
            self.generation.insert(node.clone(), t);
        }
        if let Some(seq) = obj.get("seq").and_then(Value::as_u64) {
            let generation = self.generation.get(&node).copied().unwrap_or(0);
            if !self.seen.insert((node.clone(), generation, seq)) {
                out.push(Item::Unmapped("duplicate record".into()));
                return Ok(());
            }
        }
        let time = time.ok_or("field `time` is missing or not epoch seconds")?;
        let empty = Map::new();
        let data = obj_field(obj, "data").unwrap_or(&empty);
        let ev = |t: Timestamp, meeting: &str, a: Actor, kind| {
            Item::Event(Box::new(event(t, Platform::Pexip, meeting, a, kind)))
        };
        match name {
            "conference_started" | "conference_ended" => {
                let conf = str_field(data, "name").ok_or("missing field `data.name`")?;
                let nodes = self.conferences.entry(conf.to_string()).or_default();
                if name == "conference_started" {
                    let first = nodes.is_empty();
                    nodes.insert(node);
                    if first {
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
                    } else {
                        out.push(Item::Unmapped(
                            "event conference_started (merged: started on another node)".into(),
                        ));
                    }
                } else {
                    nodes.remove(&node);
                    if nodes.is_empty() {
                        self.conferences.remove(conf);
                        let t = time_value(data.get("end_time")).unwrap_or(time);
                        out.push(ev(
                            t,
                            conf,
                            Actor::new(SYSTEM_ACTOR),
                            EventKind::MeetingEnded { reason: None },
                        ));
                    } else {
                        out.push(Item::Unmapped(
                            "event conference_ended (merged: still on another node)".into(),
                        ));
                    }
                }
            }
            "participant_connected" | "participant_updated" | "participant_disconnected" => {
                // Without its conference or participant, the event cannot be placed: it is
                // read, and counted as unmapped.
                let (Some(conf), Some(uuid)) = (
                    str_field(data, "conference"),
                    id_field(data, "uuid").or_else(|| id_field(data, "call_id")),
                ) else {
                    out.push(Item::Unmapped(format!(
                        "event {name} (no conference or participant uuid)"
                    )));
                    return Ok(());
                };
                let who = self.participant(data, "source_alias", "destination_alias");
                let service = str_field(data, "service_type").unwrap_or("");
                let lobby = matches!(service, "waiting_room" | "lobby");
                let in_conference = matches!(service, "conference" | "lecture");
                let presenting = data.get("is_presenting").and_then(Value::as_bool);
                let streaming = data.get("is_streaming").and_then(Value::as_bool);
                let before = out.len();
                if name == "participant_connected" {
                    self.participants.insert(uuid.clone(), Flags::default());
                    out.push(ev(
                        time,
                        conf,
                        who.clone(),
                        EventKind::ParticipantJoined {
                            role: role(data),
                            via_lobby: lobby.then_some(true),
                        },
                    ));
                }
                let flags = self.participants.entry(uuid.clone()).or_default();
                let leaving = name == "participant_disconnected";
                // Admission: out of the waiting room or lobby into the conference.
                if flags.waiting && in_conference {
                    out.push(ev(
                        time,
                        conf,
                        Actor::new(UNKNOWN_ACTOR),
                        EventKind::ParticipantAdmitted {
                            target: who.clone(),
                        },
                    ));
                }
                if lobby {
                    flags.waiting = true;
                } else if in_conference {
                    flags.waiting = false;
                }
                let now_presenting = !leaving && presenting.unwrap_or(flags.presenting);
                let now_streaming = !leaving && streaming.unwrap_or(flags.streaming);
                let end = if leaving {
                    time_value(data.get("end_time")).unwrap_or(time)
                } else {
                    time
                };
                if now_presenting != flags.presenting {
                    let kind = if now_presenting {
                        EventKind::ScreenShareStarted { scope: None }
                    } else {
                        EventKind::ScreenShareStopped
                    };
                    out.push(ev(end, conf, who.clone(), kind));
                }
                if now_streaming != flags.streaming {
                    let kind = if now_streaming {
                        EventKind::RecordingStarted {
                            media: Media::Video,
                        }
                    } else {
                        EventKind::RecordingStopped
                    };
                    out.push(ev(end, conf, who.clone(), kind));
                }
                flags.presenting = now_presenting;
                flags.streaming = now_streaming;
                if leaving {
                    self.participants.remove(&uuid);
                    out.push(ev(end, conf, who, EventKind::ParticipantLeft));
                } else if out.len() == before {
                    out.push(Item::Unmapped(format!("event {name} (no mapped change)")));
                }
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

    fn history_participant(&mut self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let conf = str_field(obj, "conference_name").ok_or("missing field `conference_name`")?;
        let start = time_value(obj.get("start_time"))
            .ok_or("field `start_time` is missing or not a time")?;
        if let Some(id) = id_field(obj, "id").or_else(|| id_field(obj, "call_uuid"))
            && !self.seen_history.insert((true, id))
        {
            out.push(Item::Unmapped("duplicate record".into()));
            return Ok(());
        }
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

    fn history_conference(&mut self, obj: &Obj, out: &mut Vec<Item>) -> Result<(), String> {
        let conf = str_field(obj, "name").ok_or("missing field `name`")?;
        let start = time_value(obj.get("start_time"))
            .ok_or("field `start_time` is missing or not a time")?;
        if let Some(id) = id_field(obj, "id")
            && !self.seen_history.insert((false, id))
        {
            out.push(Item::Unmapped("duplicate record".into()));
            return Ok(());
        }
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
