//! The meeting as a whole: how it ended, and the platform it was held on.

use super::sensitive_evidence;
use crate::config::DEFAULT_MEETING_TIMEOUT;
use crate::event::{EndReason, EventKind};
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::rules::{Candidate, IdScope, RuleContext};

/// `meeting-not-ended`: the organiser or chair did not end the meeting. Ended by the last one
/// leaving or by timeout, or by someone else; or never ended although its last event is older
/// than the configured timeout (in a batch, measured from the latest event in the input).
pub(super) fn meeting_not_ended(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    let Some(last) = m.observations.last() else {
        return;
    };
    let ended = m.observations.iter().enumerate().rev().find_map(|(i, o)| {
        if let EventKind::MeetingEnded { reason } = o.event.kind {
            Some((i, o, reason))
        } else {
            None
        }
    });
    match ended {
        Some((index, obs, reason)) => {
            let by_host = match reason {
                Some(EndReason::EndedByHost) => true,
                Some(EndReason::LastLeft | EndReason::Timeout) => false,
                Some(EndReason::Unknown) | None => {
                    m.organizer.is_none() || m.is_organizer_or_chair(&obs.event.actor)
                }
            };
            if by_host {
                return;
            }
            let mut c = Candidate::new(
                "meeting-not-ended",
                index,
                Evidence {
                    end_reason: reason,
                    ended: Some(true),
                    ..Evidence::default()
                },
            );
            c.id_scope = IdScope::Meeting;
            c.actor = m.organizer.clone();
            out.push(c);
        }
        // Only a meeting known to have started can be known never to have ended.
        None if m
            .observations
            .iter()
            .any(|o| matches!(o.event.kind, EventKind::MeetingStarted { .. })) =>
        {
            let timeout = not_ended_timeout(ctx);
            let open_for = ctx.clock.duration_since(last.event.time);
            if open_for <= timeout {
                return;
            }
            let mut c = Candidate::new(
                "meeting-not-ended",
                0,
                Evidence {
                    ended: Some(false),
                    timeout_hours: Some(timeout.as_secs() / 3600),
                    ..Evidence::default()
                },
            );
            c.id_scope = IdScope::Meeting;
            c.actor = m.organizer.clone();
            out.push(c);
        }
        None => {}
    }
}

fn not_ended_timeout(ctx: &RuleContext<'_>) -> jiff::SignedDuration {
    ctx.config
        .rule_settings("meeting-not-ended")
        .timeout
        .unwrap_or(DEFAULT_MEETING_TIMEOUT)
}

/// When `meeting-not-ended` would fire for a meeting that started, has no end and is not yet
/// past its timeout: its last event plus the timeout.
pub(super) fn meeting_not_ended_due(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
) -> Option<jiff::Timestamp> {
    let last = m.observations.last()?;
    let open = m
        .observations
        .iter()
        .any(|o| matches!(o.event.kind, EventKind::MeetingStarted { .. }))
        && !m
            .observations
            .iter()
            .any(|o| matches!(o.event.kind, EventKind::MeetingEnded { .. }));
    if !open {
        return None;
    }
    let due = last.event.time.checked_add(not_ended_timeout(ctx)).ok()?;
    (due >= ctx.clock).then_some(due)
}

/// `platform-not-approved`: a sensitive meeting on a platform the routine does not approve for
/// sensitive content. The judge checks each profile's list of approved platforms.
pub(super) fn platform_not_approved(
    m: &MeetingView,
    _: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    let Some(s) = &m.sensitive else {
        return;
    };
    let index = m
        .observations
        .iter()
        .position(|o| o.event.time >= s.time)
        .unwrap_or(0);
    let mut c = Candidate::new("platform-not-approved", index, sensitive_evidence(m));
    c.id_scope = IdScope::Meeting;
    c.actor = m.organizer.clone();
    out.push(c);
}
