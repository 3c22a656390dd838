//! Patient data where people read it: the chat, the invitation, a file name, the meeting's id
//! or a display name.

use std::collections::HashMap;

use super::findings_of;
use crate::event::{EventKind, TextField};
use crate::incident::{Count, Evidence, EvidenceFinding};
use crate::meeting::MeetingView;
use crate::meeting::replay::each_moment;
use crate::rules::{Candidate, IdScope, RuleContext};

/// `chat-patient-data`: patient data in a chat message. Everyone who is or was in the meeting
/// can read the chat (in Teams also after leaving), so an external participant makes it
/// critical. One incident per person and chat, at their first such message, standing for all
/// of them (how many, and when the last was): critical when any was written while someone from
/// outside was or had been there. Of a long chat the view holds only part
/// ([`crate::meeting::chat`]): the count is then "at least".
pub(super) fn chat_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    struct Writer {
        index: usize,
        findings: Vec<EvidenceFinding>,
        count: u32,
        at_least: bool,
        external: bool,
        last: jiff::Timestamp,
    }
    // Per chat (the meeting id it was filed under) and actor, in the order of first messages.
    let mut writers: Vec<Writer> = Vec::new();
    let mut at: HashMap<(&str, &str), usize> = HashMap::new();
    each_moment(m, ctx.classifier, |index, obs, state| {
        if !matches!(obs.event.kind, EventKind::ChatMessage { .. }) {
            return;
        }
        let findings = findings_of(obs, ctx, &[TextField::Chat]);
        if findings.is_empty() {
            return;
        }
        let full = m.chat_full.contains(&obs.key);
        let own = &m.observations[index];
        let who = (own.event.meeting.as_str(), own.event.actor.id.as_str());
        match at.get(&who) {
            Some(&w) => {
                let w = &mut writers[w];
                w.count = w.count.saturating_add(1);
                w.at_least |= full;
                w.external |= state.ever_not_internal;
                w.last = obs.event.time;
            }
            None => {
                at.insert(who, writers.len());
                writers.push(Writer {
                    index,
                    findings,
                    count: 1,
                    at_least: full,
                    external: state.ever_not_internal,
                    last: obs.event.time,
                });
            }
        }
    });
    for w in writers {
        let many = w.count > 1 || w.at_least;
        let mut c = Candidate::new(
            "chat-patient-data",
            w.index,
            Evidence {
                findings: w.findings,
                external_present: w.external,
                count: many.then_some(Count {
                    n: w.count,
                    at_least: w.at_least,
                }),
                last_time: many.then_some(w.last),
                ..Evidence::default()
            },
        );
        c.qualifiers.external = w.external;
        c.id_scope = IdScope::FiledActor;
        out.push(c);
    }
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
    let candidate = |index, findings, id_scope| {
        let mut c = Candidate::new(
            "identifier-patient-data",
            index,
            Evidence {
                findings,
                ..Evidence::default()
            },
        );
        c.id_scope = id_scope;
        c
    };
    let room = m.observations.iter().enumerate().find_map(|(i, o)| {
        let f = findings_of(o, ctx, &[TextField::MeetingId]);
        (!f.is_empty()).then_some((i, f))
    });
    if let Some((index, findings)) = room {
        let mut c = candidate(index, findings, IdScope::Meeting);
        c.actor = m.organizer.clone();
        out.push(c);
    }
    let mut seen = std::collections::HashSet::new();
    for (index, obs) in m.observations.iter().enumerate() {
        let findings = findings_of(obs, ctx, &[TextField::DisplayName]);
        if findings.is_empty() || !seen.insert(obs.event.actor.id.as_str()) {
            continue;
        }
        out.push(candidate(index, findings, IdScope::Actor));
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
