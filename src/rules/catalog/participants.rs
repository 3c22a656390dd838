//! Who is in the meeting: the lobby, unidentified participants, how many.

use super::{sensitive_evidence, with_kind};
use crate::config::DEFAULT_MAX_PARTICIPANTS;
use crate::event::{ActorKind, EventKind};
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::meeting::replay::each_moment;
use crate::rules::{Candidate, IdScope, RuleContext};

/// `lobby-bypass`: someone from outside joined without waiting in the lobby.
pub(super) fn lobby_bypass(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        let EventKind::ParticipantJoined {
            via_lobby: Some(false),
            ..
        } = obs.event.kind
        else {
            continue;
        };
        let kind = ctx.classifier.kind(&obs.event.actor);
        if !matches!(
            kind,
            ActorKind::External | ActorKind::Guest | ActorKind::Anonymous
        ) {
            continue;
        }
        let mut c = Candidate::new(
            "lobby-bypass",
            index,
            Evidence {
                target: Some(with_kind(&obs.event.actor, kind)),
                ..Evidence::default()
            },
        );
        // The organiser answers for the lobby setting; the joiner is the target.
        c.actor = m.organizer.clone();
        if c.actor.is_none() {
            c.actor = Some(obs.event.actor.clone());
        }
        out.push(c);
    }
}

/// `unidentified-participant`: an anonymous or phone participant in a sensitive meeting, whose
/// identity the chair cannot see.
pub(super) fn unidentified_participant(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    if m.sensitive.is_none() {
        return;
    }
    for (index, obs) in m.observations.iter().enumerate() {
        if !matches!(obs.event.kind, EventKind::ParticipantJoined { .. }) {
            continue;
        }
        let kind = ctx.classifier.kind(&obs.event.actor);
        if !matches!(kind, ActorKind::Anonymous | ActorKind::Phone) {
            continue;
        }
        let mut c = Candidate::new(
            "unidentified-participant",
            index,
            Evidence {
                target: Some(with_kind(&obs.event.actor, kind)),
                ..sensitive_evidence(m)
            },
        );
        if let Some(org) = &m.organizer {
            c.actor = Some(org.clone());
        }
        out.push(c);
    }
}

/// `large-sensitive-meeting`: more participants than configured in a sensitive meeting (SÄS:
/// around 30, consider a webinar without sensitive content).
pub(super) fn large_sensitive_meeting(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    if m.sensitive.is_none() {
        return;
    }
    let max = ctx
        .config
        .rule_settings("large-sensitive-meeting")
        .max_participants
        .unwrap_or(DEFAULT_MAX_PARTICIPANTS);
    let mut trigger = None;
    let mut total = 0;
    each_moment(m, ctx.classifier, |index, _, state| {
        if trigger.is_none() && state.joined_count > max {
            trigger = Some(index);
        }
        total = state.joined_count;
    });
    let Some(index) = trigger else {
        return;
    };
    let mut c = Candidate::new(
        "large-sensitive-meeting",
        index,
        Evidence {
            participants: Some(total),
            max_participants: Some(max),
            ..sensitive_evidence(m)
        },
    );
    c.id_scope = IdScope::Meeting;
    c.actor = m.organizer.clone();
    out.push(c);
}
