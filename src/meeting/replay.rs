//! Who is in a meeting, moment by moment: a replay of its observations in time order.
//!
//! Rules that depend on the situation at the time of an event (an external participant
//! present while a screen is shared, someone waiting in the lobby, a recorder who is not a
//! participant) walk the meeting with [`replay`], which hands them the state after each event.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

use super::{MeetingView, Observation};
use crate::event::{ActorKind, EventKind, Role, ShareScope};
use crate::org::Classifier;

/// One participant as the replay knows them.
#[derive(Debug, Clone)]
pub struct Participant {
    pub kind: ActorKind,
    pub role: Option<Role>,
    /// In the meeting now: joined and not left (or, in meetings whose source reports no joins,
    /// acted in it).
    pub present: bool,
    /// Waiting in the lobby now: joined through the lobby and not yet admitted.
    pub in_lobby: bool,
    /// Ever joined with a `participant_joined` event.
    pub joined: bool,
    /// What the classifier made of them as the actor of an event, and from what (the kind
    /// and tenant the event gave; the id is the key): the same actor again is not classified
    /// again.
    classified: Option<(Option<ActorKind>, Option<String>, ActorKind)>,
}

/// The state of a meeting after some of its events.
#[derive(Debug, Default, Clone)]
pub struct State {
    /// By actor id.
    pub participants: BTreeMap<String, Participant>,
    /// Whoever shares a screen now, and what.
    pub sharing: Option<(String, Option<ShareScope>)>,
    /// The meeting has `participant_joined` events at all (so absence from them means
    /// something).
    pub has_joins: bool,
    /// Someone not internal is or was in the meeting.
    pub ever_not_internal: bool,
    /// Distinct participants who have joined so far.
    pub joined_count: u32,
    /// How many participants count for [`State::not_internal_present`] and
    /// [`State::unadmitted_present`] now, kept by [`replay`] as it changes them (so that asking
    /// costs nothing, not a walk over everyone at every event).
    now: Counts,
}

/// What one participant adds to [`State`]'s counts.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    not_internal_present: u32,
    unadmitted_present: u32,
}

impl Counts {
    fn of(p: &Participant) -> Counts {
        Counts {
            not_internal_present: u32::from(p.present && p.kind != ActorKind::Internal),
            unadmitted_present: u32::from(
                p.in_lobby || (p.present && p.kind == ActorKind::Anonymous),
            ),
        }
    }

    /// `self` with one participant's part changed from `before` to `after`.
    fn moved(self, before: Counts, after: Counts) -> Counts {
        Counts {
            not_internal_present: self.not_internal_present - before.not_internal_present
                + after.not_internal_present,
            unadmitted_present: self.unadmitted_present - before.unadmitted_present
                + after.unadmitted_present,
        }
    }
}

impl State {
    /// A participant not internal is in the meeting now.
    pub fn not_internal_present(&self) -> bool {
        self.now.not_internal_present > 0
    }

    /// Someone waits in the lobby now, or an anonymous participant is in the meeting.
    pub fn unadmitted_present(&self) -> bool {
        self.now.unadmitted_present > 0
    }

    /// Whether the actor is in the meeting now. Without any join events in the meeting this is
    /// unknown, and counts as yes.
    pub fn is_participant(&self, id: &str) -> bool {
        !self.has_joins || self.participants.get(id).is_some_and(|p| p.present)
    }
}

/// What the rules ask of the replay after one observation: computed once per meeting
/// ([`MeetingView::moments`]) and shared by every rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moment {
    /// Someone not internal is or was in the meeting.
    pub ever_not_internal: bool,
    /// Distinct participants who have joined so far.
    pub joined_count: u32,
    not_internal_present: bool,
    unadmitted_present: bool,
    actor_is_participant: bool,
}

impl Moment {
    /// See [`State::not_internal_present`].
    pub fn not_internal_present(&self) -> bool {
        self.not_internal_present
    }

    /// See [`State::unadmitted_present`].
    pub fn unadmitted_present(&self) -> bool {
        self.unadmitted_present
    }

    /// Whether the observation's own actor is in the meeting then ([`State::is_participant`]).
    pub fn actor_is_participant(&self) -> bool {
        self.actor_is_participant
    }
}

/// The [`Moment`] after each observation of `m`, from one replay.
pub fn moments(m: &MeetingView, classifier: &Classifier) -> Vec<Moment> {
    let mut out = Vec::with_capacity(m.observations.len());
    replay(m, classifier, |_, o, s| {
        out.push(Moment {
            ever_not_internal: s.ever_not_internal,
            joined_count: s.joined_count,
            not_internal_present: s.not_internal_present(),
            unadmitted_present: s.unadmitted_present(),
            actor_is_participant: s.is_participant(&o.event.actor.id),
        });
    });
    out
}

/// Calls `f(index, observation, moment after it)` for every observation, in time order.
pub fn each_moment(
    m: &MeetingView,
    classifier: &Classifier,
    mut f: impl FnMut(usize, &Observation, &Moment),
) {
    for (i, (o, moment)) in m.observations.iter().zip(m.moments(classifier)).enumerate() {
        f(i, o, moment);
    }
}

/// Walks the meeting in time order and calls `f(index, observation, state after it)`.
pub fn replay(
    m: &MeetingView,
    classifier: &Classifier,
    mut f: impl FnMut(usize, &Observation, &State),
) {
    // When each lobby arrival was admitted: a participant is waiting only between joining
    // through the lobby and the admission the source reports. Sources that never report
    // admissions therefore never show anyone waiting.
    let mut admitted_at: HashMap<&str, Vec<Timestamp>> = HashMap::new();
    for o in &m.observations {
        if let EventKind::ParticipantAdmitted { target } = &o.event.kind {
            admitted_at
                .entry(target.id.as_str())
                .or_default()
                .push(o.event.time);
        }
    }
    let mut state = State::default();
    for (i, o) in m.observations.iter().enumerate() {
        let e = &o.event;
        let classify = || {
            let kind = classifier.kind(&e.actor);
            (kind, Some((e.actor.kind, e.actor.tenant.clone(), kind)))
        };
        let (entry, kind) = match state.participants.get_mut(&e.actor.id) {
            Some(entry) => {
                let kind = match &entry.classified {
                    Some((k, t, kind)) if *k == e.actor.kind && *t == e.actor.tenant => *kind,
                    _ => {
                        let (kind, classified) = classify();
                        entry.classified = classified;
                        kind
                    }
                };
                (entry, kind)
            }
            None => {
                let (kind, classified) = classify();
                let entry = state
                    .participants
                    .entry(e.actor.id.clone())
                    .or_insert(Participant {
                        kind,
                        role: None,
                        present: false,
                        in_lobby: false,
                        joined: false,
                        classified,
                    });
                (entry, kind)
            }
        };
        let before = Counts::of(entry);
        match &e.kind {
            EventKind::ParticipantJoined { role, via_lobby } => {
                state.has_joins = true;
                if !entry.joined {
                    state.joined_count += 1;
                }
                entry.joined = true;
                if role.is_some() {
                    entry.role = *role;
                }
                let waiting = *via_lobby == Some(true)
                    && admitted_at
                        .get(e.actor.id.as_str())
                        .is_some_and(|ts| ts.iter().any(|t| *t > e.time));
                entry.in_lobby = waiting;
                entry.present = !waiting;
            }
            EventKind::ParticipantLeft => {
                entry.present = false;
                entry.in_lobby = false;
            }
            EventKind::MeetingEnded { .. } => {}
            _ => {
                // Where the source reports joins, presence comes from them; where it does not,
                // acting in the meeting is the only sign of being in it.
                if !state.has_joins && !entry.in_lobby {
                    entry.present = true;
                }
            }
        }
        state.now = state.now.moved(before, Counts::of(entry));
        if kind != ActorKind::Internal {
            state.ever_not_internal = true;
        }
        match &e.kind {
            EventKind::ParticipantAdmitted { target } => {
                let tkind = classifier.kind(target);
                let t = state
                    .participants
                    .entry(target.id.clone())
                    .or_insert(Participant {
                        kind: tkind,
                        role: None,
                        present: false,
                        in_lobby: false,
                        joined: true,
                        classified: None,
                    });
                let before = Counts::of(t);
                t.in_lobby = false;
                t.present = true;
                state.now = state.now.moved(before, Counts::of(t));
                if tkind != ActorKind::Internal {
                    state.ever_not_internal = true;
                }
            }
            EventKind::ScreenShareStarted { scope } => {
                state.sharing = Some((e.actor.id.clone(), *scope));
            }
            EventKind::ScreenShareStopped => state.sharing = None,
            _ => {}
        }
        f(i, o, &state);
    }
}
