//! Pairing across records: what the platforms report over several records, turned into the
//! events the rules judge, once a meeting's observations are in time order.
//!
//! Adapters map each record on its own, so a file read from the middle, split over batches or
//! read after another gives the same observations. What needs more than one record is derived
//! here, from the whole meeting, so it does not depend on the order or the batches the records
//! came in:
//!
//! - **Recordings reported after the fact** (`recording_completed` with `started`: Zoom's
//!   `recording.completed`, Graph's call-recording success). When a recording reported live
//!   overlaps it (within [`OVERLAP_SLACK`]), it only says what the saved files hold; otherwise it
//!   stands for the recording itself, from `started` to `ended`, and is replaced by a
//!   `recording_started` and a `recording_stopped`.
//! - **Participant states** (`participant_state`: Pexip's flags). A participant's states are
//!   followed in time order: `presenting` turning on or off gives `screen_share_started` or
//!   `screen_share_stopped`, `streaming` gives `recording_started` (video) or
//!   `recording_stopped`, `waiting` turning off gives `participant_admitted` (by
//!   [`UNKNOWN_ACTOR`]). Leaving ends a share or stream the states started. The states
//!   themselves are dropped.
//!
//! Derived observations take the source observation's time and actor, and a key derived from
//! its key, so incident ids built from them are as stable as any other.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::Observation;
#[cfg(test)]
use super::SourceKey;
use crate::event::{Actor, EventKind, Media, Platform, Role};

/// How far apart a recording reported live and one reported after the fact may start and still
/// be the same recording (the platforms' clocks and their file start times differ by seconds).
pub const OVERLAP_SLACK: SignedDuration = SignedDuration::from_secs(60);

/// The actor of an admission whose admitter the platform does not record.
pub const UNKNOWN_ACTOR: &str = "unknown";

/// Applies the pairing to observations sorted by time and key; the result is sorted the same
/// way.
pub fn derive(observations: Vec<Observation>) -> Vec<Observation> {
    let observations = zoom_host(observations);
    let needs_recordings = observations.iter().any(|o| {
        matches!(
            o.event.kind,
            EventKind::RecordingCompleted {
                started: Some(_),
                ..
            }
        )
    });
    let observations = if needs_recordings {
        completed_recordings(observations)
    } else {
        observations
    };
    if observations
        .iter()
        .any(|o| matches!(o.event.kind, EventKind::ParticipantState { .. }))
    {
        participant_states(observations)
    } else {
        observations
    }
}

/// Zoom names a meeting's host by `host_id`, an account id no domain classifies; the host's
/// own join (the participant whose id is `host_id`, given the role organizer by the adapter)
/// names the e-mail. Where the meeting's records give both, every actor and organizer named
/// by the `host_id` of its first `meeting_started` becomes that e-mail, so `internal_domains`
/// classifies the host. Computed from the whole meeting, so the order records came in does
/// not matter.
fn zoom_host(mut observations: Vec<Observation>) -> Vec<Observation> {
    let zoom = |o: &&Observation| o.event.platform == Platform::Zoom;
    let host_id = observations
        .iter()
        .filter(zoom)
        .find_map(|o| match &o.event.kind {
            EventKind::MeetingStarted {
                organizer: Some(a), ..
            } if !a.id.contains('@') => Some(a.id.clone()),
            _ => None,
        });
    let Some(host_id) = host_id else {
        return observations;
    };
    let email = observations
        .iter()
        .filter(zoom)
        .find_map(|o| match o.event.kind {
            EventKind::ParticipantJoined {
                role: Some(Role::Organizer),
                ..
            } if o.event.actor.id.contains('@') => Some(o.event.actor.id.clone()),
            _ => None,
        });
    let Some(email) = email else {
        return observations;
    };
    for o in observations
        .iter_mut()
        .filter(|o| o.event.platform == Platform::Zoom)
    {
        if o.event.actor.id == host_id {
            o.event.actor.id.clone_from(&email);
        }
        if let EventKind::MeetingStarted {
            organizer: Some(a), ..
        } = &mut o.event.kind
            && a.id == host_id
        {
            a.id.clone_from(&email);
        }
    }
    observations
}

/// A recording as an interval, for the overlap test.
struct Interval {
    start: Timestamp,
    stop: Option<Timestamp>,
}

impl Interval {
    fn overlaps(&self, start: Timestamp, end: Timestamp) -> bool {
        let slack_start = start.checked_sub(OVERLAP_SLACK).unwrap_or(start);
        self.start <= end && self.stop.is_none_or(|s| s >= slack_start)
    }
}

/// Recordings reported live, as intervals: each start to the next stop.
fn live_recordings(observations: &[Observation]) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    let mut open: Option<usize> = None;
    for o in observations {
        match o.event.kind {
            EventKind::RecordingStarted { .. } if open.is_none() => {
                out.push(Interval {
                    start: o.event.time,
                    stop: None,
                });
                open = Some(out.len() - 1);
            }
            EventKind::RecordingStopped => {
                if let Some(i) = open.take() {
                    out[i].stop = Some(o.event.time);
                }
            }
            _ => {}
        }
    }
    out
}

fn completed_recordings(observations: Vec<Observation>) -> Vec<Observation> {
    let mut intervals = live_recordings(&observations);
    // Reports after the fact, in the order of the recordings they describe.
    let mut reports: Vec<(Timestamp, usize)> = observations
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o.event.kind {
            EventKind::RecordingCompleted {
                started: Some(s), ..
            } => Some((s, i)),
            _ => None,
        })
        .collect();
    reports.sort();
    let mut replace: HashMap<usize, Vec<Observation>> = HashMap::new();
    for (started, i) in reports {
        let o = &observations[i];
        let EventKind::RecordingCompleted { media, ended, .. } = o.event.kind else {
            continue;
        };
        let end = ended.unwrap_or(o.event.time).max(started);
        if intervals.iter().any(|r| r.overlaps(started, end)) {
            continue;
        }
        intervals.push(Interval {
            start: started,
            stop: ended,
        });
        let mut derived = vec![derived_at(
            o,
            0,
            started,
            EventKind::RecordingStarted { media },
        )];
        if let Some(e) = ended {
            derived.push(derived_at(o, 1, e, EventKind::RecordingStopped));
        }
        replace.insert(i, derived);
    }
    if replace.is_empty() {
        return observations;
    }
    let mut out = Vec::with_capacity(observations.len() + replace.len());
    for (i, o) in observations.into_iter().enumerate() {
        match replace.remove(&i) {
            Some(derived) => out.extend(derived),
            None => out.push(o),
        }
    }
    out.sort_by(|a, b| a.event.time.cmp(&b.event.time).then(a.key.cmp(&b.key)));
    out
}

/// A participant's flags as the states so far say.
#[derive(Default, Clone, Copy)]
struct Flags {
    presenting: bool,
    streaming: bool,
    waiting: bool,
}

fn participant_states(observations: Vec<Observation>) -> Vec<Observation> {
    let mut flags: HashMap<String, Flags> = HashMap::new();
    let mut out = Vec::with_capacity(observations.len());
    for o in observations {
        match o.event.kind {
            EventKind::ParticipantState {
                presenting,
                streaming,
                waiting,
            } => {
                let f = flags.entry(o.event.actor.id.clone()).or_default();
                let mut n = 0;
                let mut push = |kind: EventKind, actor: Option<Actor>| {
                    let mut d = derived_at(&o, n, o.event.time, kind);
                    if let Some(a) = actor {
                        d.event.actor = a;
                    }
                    n += 1;
                    out.push(d);
                };
                if let Some(w) = waiting {
                    if f.waiting && !w {
                        push(
                            EventKind::ParticipantAdmitted {
                                target: o.event.actor.clone(),
                            },
                            Some(Actor::new(UNKNOWN_ACTOR)),
                        );
                    }
                    f.waiting = w;
                }
                if let Some(p) = presenting
                    && p != f.presenting
                {
                    f.presenting = p;
                    push(
                        if p {
                            EventKind::ScreenShareStarted { scope: None }
                        } else {
                            EventKind::ScreenShareStopped
                        },
                        None,
                    );
                }
                if let Some(s) = streaming
                    && s != f.streaming
                {
                    f.streaming = s;
                    push(
                        if s {
                            EventKind::RecordingStarted {
                                media: Media::Video,
                            }
                        } else {
                            EventKind::RecordingStopped
                        },
                        None,
                    );
                }
            }
            EventKind::ParticipantLeft | EventKind::ParticipantJoined { .. } => {
                // A session ends (or a new one begins): what its states started stops here.
                if let Some(f) = flags.remove(&o.event.actor.id) {
                    let mut n = 0;
                    for (on, kind) in [
                        (f.presenting, EventKind::ScreenShareStopped),
                        (f.streaming, EventKind::RecordingStopped),
                    ] {
                        if on {
                            out.push(derived_at(&o, n, o.event.time, kind));
                            n += 1;
                        }
                    }
                }
                out.push(o);
            }
            _ => out.push(o),
        }
    }
    out
}

/// An observation derived from `source`: its actor and meeting, `kind` at `time`, and the
/// `n`-th derived key of the source.
fn derived_at(source: &Observation, n: u16, time: Timestamp, kind: EventKind) -> Observation {
    let mut event = source.event.clone();
    event.time = time;
    event.kind = kind;
    Observation {
        key: source.key.derived(n),
        event,
        findings: Vec::new(),
        signals: Vec::new(),
        context: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Platform};
    use crate::sources::RecordKey;

    fn obs(n: u8, minute: i64, actor: &str, kind: EventKind) -> Observation {
        Observation {
            key: SourceKey::new(RecordKey::from_bytes([n; 16]), 0),
            event: Event {
                time: Timestamp::from_second(1_714_640_400 + minute * 60).unwrap(),
                platform: Platform::Pexip,
                meeting: "vmr".into(),
                actor: Actor::new(actor),
                kind,
            },
            findings: vec![],
            signals: vec![],
            context: Default::default(),
        }
    }

    fn types(v: &[Observation]) -> Vec<(i64, String, &'static str)> {
        v.iter()
            .map(|o| {
                (
                    (o.event.time.as_second() - 1_714_640_400) / 60,
                    o.event.actor.id.clone(),
                    o.event.kind.type_name(),
                )
            })
            .collect()
    }

    fn state(p: Option<bool>, s: Option<bool>, w: Option<bool>) -> EventKind {
        EventKind::ParticipantState {
            presenting: p,
            streaming: s,
            waiting: w,
        }
    }

    #[test]
    fn states_become_edges_and_leaving_ends_them() {
        let got = derive(vec![
            obs(1, 0, "ext", state(Some(false), Some(false), Some(true))),
            obs(2, 1, "ext", state(Some(false), Some(false), Some(false))),
            obs(3, 2, "ext", state(Some(true), None, Some(false))),
            obs(4, 3, "ext", state(Some(true), None, None)),
            obs(5, 4, "rec", state(None, Some(true), None)),
            obs(6, 5, "ext", EventKind::ParticipantLeft),
            obs(7, 6, "rec", EventKind::ParticipantLeft),
        ]);
        assert_eq!(
            types(&got),
            [
                (1, "unknown".into(), "participant_admitted"),
                (2, "ext".into(), "screen_share_started"),
                (4, "rec".into(), "recording_started"),
                (5, "ext".into(), "screen_share_stopped"),
                (5, "ext".into(), "participant_left"),
                (6, "rec".into(), "recording_stopped"),
                (6, "rec".into(), "participant_left"),
            ]
        );
    }

    fn completed(started: i64, ended: Option<i64>, media: Media) -> EventKind {
        let t = |m: i64| Timestamp::from_second(1_714_640_400 + m * 60).unwrap();
        EventKind::RecordingCompleted {
            media,
            started: Some(t(started)),
            ended: ended.map(t),
        }
    }

    #[test]
    fn a_report_after_the_fact_is_the_recording_only_when_none_was_seen() {
        // Seen live: the report stays, as what the files hold.
        let got = derive(vec![
            obs(
                1,
                0,
                "host",
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
            ),
            obs(2, 30, "host", EventKind::RecordingStopped),
            obs(3, 31, "host", completed(0, Some(30), Media::Audio)),
        ]);
        assert_eq!(
            types(&got),
            [
                (0, "host".into(), "recording_started"),
                (30, "host".into(), "recording_stopped"),
                (31, "host".into(), "recording_completed"),
            ]
        );
        // Not seen: the report stands for the recording, at the files' times.
        let got = derive(vec![
            obs(3, 31, "host", completed(0, Some(30), Media::Audio)),
            obs(
                4,
                40,
                "host",
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
            ),
        ]);
        assert_eq!(
            types(&got),
            [
                (0, "host".into(), "recording_started"),
                (30, "host".into(), "recording_stopped"),
                (40, "host".into(), "recording_started"),
            ]
        );
        assert_eq!(
            got[0].event.kind,
            EventKind::RecordingStarted {
                media: Media::Audio
            }
        );
        // Chunks of one recording reported one by one give one recording; the later chunk
        // stays as a report about its files.
        let got = derive(vec![
            obs(5, 10, "host", completed(0, None, Media::Video)),
            obs(6, 20, "host", completed(0, None, Media::Video)),
        ]);
        assert_eq!(
            types(&got),
            [
                (0, "host".into(), "recording_started"),
                (20, "host".into(), "recording_completed")
            ]
        );
    }

    #[test]
    fn order_of_the_input_does_not_matter() {
        let a = obs(1, 0, "x", state(Some(true), None, None));
        let b = obs(2, 1, "x", state(Some(false), None, None));
        let share = |v: Vec<Observation>| {
            let mut v = v;
            v.sort_by(|a, b| a.event.time.cmp(&b.event.time).then(a.key.cmp(&b.key)));
            types(&derive(v))
        };
        assert_eq!(share(vec![a.clone(), b.clone()]), share(vec![b, a]));
    }
}
