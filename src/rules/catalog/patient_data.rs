//! Patient data where people read it: the chat, the invitation, a file name, the meeting's id
//! or a display name.

use super::findings_of;
use crate::event::{EventKind, TextField};
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::meeting::replay::each_moment;
use crate::rules::{Candidate, IdScope, RuleContext};

/// `chat-patient-data`: patient data in a chat message. Everyone who is or was in the meeting
/// can read the chat (in Teams also after leaving), so an external participant makes it
/// critical.
pub(super) fn chat_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    each_moment(m, ctx.classifier, |index, obs, state| {
        if !matches!(obs.event.kind, EventKind::ChatMessage { .. }) {
            return;
        }
        let findings = findings_of(obs, ctx, &[TextField::Chat]);
        if findings.is_empty() {
            return;
        }
        let external = state.ever_not_internal;
        let mut c = Candidate::new(
            "chat-patient-data",
            index,
            Evidence {
                findings,
                external_present: external,
                ..Evidence::default()
            },
        );
        c.qualifiers.external = external;
        out.push(c);
    });
}

/// `invitation-patient-data`: patient data in the meeting's subject or invitation.
pub(super) fn invitation_patient_data(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    for (index, obs) in m.observations.iter().enumerate() {
        if !matches!(
            obs.event.kind,
            EventKind::MeetingStarted { .. } | EventKind::Invitation { .. }
        ) {
            continue;
        }
        let findings = findings_of(obs, ctx, &[TextField::Subject, TextField::Body]);
        if findings.is_empty() {
            continue;
        }
        out.push(Candidate::new(
            "invitation-patient-data",
            index,
            Evidence {
                findings,
                ..Evidence::default()
            },
        ));
    }
}

/// `file-patient-data`: a file whose name holds patient data, or any file shared in a
/// sensitive meeting where someone external is or was present.
pub(super) fn file_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    each_moment(m, ctx.classifier, |index, obs, state| {
        if !matches!(obs.event.kind, EventKind::FileShared { .. }) {
            return;
        }
        let findings = findings_of(obs, ctx, &[TextField::FileName]);
        if findings.is_empty() && !(m.sensitive.is_some() && state.ever_not_internal) {
            return;
        }
        out.push(Candidate::new(
            "file-patient-data",
            index,
            Evidence {
                findings,
                sensitive: m.sensitive.clone(),
                external_present: state.ever_not_internal,
                ..Evidence::default()
            },
        ));
    });
}

/// `identifier-patient-data`: an identity number in what everyone in the meeting sees besides
/// its texts: the meeting's id or room name (people choose VMR names, `vmr.<number>`), or a
/// participant's display name (a dial-in participant's is often the number dialled). One
/// incident for the meeting's id, held by its organiser, and one per participant whose name
/// holds one, at their first event that shows it.
pub(super) fn identifier_patient_data(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    let room = m.observations.iter().enumerate().find_map(|(i, o)| {
        let f = findings_of(o, ctx, &[TextField::MeetingId]);
        (!f.is_empty()).then_some((i, f))
    });
    if let Some((index, findings)) = room {
        let mut c = Candidate::new(
            "identifier-patient-data",
            index,
            Evidence {
                findings,
                ..Evidence::default()
            },
        );
        c.id_scope = IdScope::Meeting;
        c.actor = m.organizer.clone();
        out.push(c);
    }
    let mut seen = std::collections::HashSet::new();
    for (index, obs) in m.observations.iter().enumerate() {
        let findings = findings_of(obs, ctx, &[TextField::DisplayName]);
        if findings.is_empty() || !seen.insert(obs.event.actor.id.as_str()) {
            continue;
        }
        let mut c = Candidate::new(
            "identifier-patient-data",
            index,
            Evidence {
                findings,
                ..Evidence::default()
            },
        );
        c.id_scope = IdScope::Actor;
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::tests::*;

    #[test]
    fn chat_patient_data_is_critical_once_an_outsider_was_in_the_meeting() {
        let c = config("profiles = [\"halland\"]");
        let got = judge(
            &c,
            vec![
                joined(0, "eve@example.com", None),
                ev(1, "eve@example.com", EventKind::ParticipantLeft),
                chat(5, "anna@region.se", &format!("pnr {PNR}")),
            ],
        );
        assert_eq!(
            rules(&got),
            [("chat-patient-data".into(), Severity::Critical)]
        );
        assert!(got[0].evidence.external_present);
        let got = judge(&c, vec![chat(5, "anna@region.se", &format!("pnr {PNR}"))]);
        assert_eq!(rules(&got), [("chat-patient-data".into(), Severity::High)]);
    }
}
