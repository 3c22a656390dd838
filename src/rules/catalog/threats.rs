//! Signals in texts: threats, a deleted threat, security-classified information.

use crate::event::EventKind;
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::phrases::SignalKind;
use crate::rules::{Candidate, RuleContext};

/// `chat-threat`: a chat message holds a configured threat phrase.
pub(super) fn chat_threat(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        if !matches!(obs.event.kind, EventKind::ChatMessage { .. }) {
            continue;
        }
        let Some(signal) = obs.signal(SignalKind::Threat) else {
            continue;
        };
        out.push(Candidate::new(
            "chat-threat",
            index,
            Evidence {
                phrase: Some(signal.phrase.clone()),
                ..Evidence::default()
            },
        ));
    }
}

/// `threat-deleted`: a chat message that held a threat was deleted. The routine says not to
/// delete it: the sender may be traced.
pub(super) fn threat_deleted(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        let EventKind::ChatMessageDeleted {
            message_id: Some(id),
        } = &obs.event.kind
        else {
            continue;
        };
        let threat = m.observations.iter().find(|o| {
            matches!(&o.event.kind, EventKind::ChatMessage { message_id: Some(mid), .. } if mid == id)
                && o.signal(SignalKind::Threat).is_some()
        });
        let Some(threat) = threat else {
            continue;
        };
        out.push(Candidate::new(
            "threat-deleted",
            index,
            Evidence {
                phrase: threat.signal(SignalKind::Threat).map(|s| s.phrase.clone()),
                target: Some(threat.event.actor.clone()),
                ..Evidence::default()
            },
        ));
    }
}

/// `classified-information`: a text marks security-classified information, which may not be
/// exchanged in any form through these services.
pub(super) fn classified_information(
    m: &MeetingView,
    _: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    for (index, obs) in m.observations.iter().enumerate() {
        let Some(signal) = obs.signal(SignalKind::Classified) else {
            continue;
        };
        out.push(Candidate::new(
            "classified-information",
            index,
            Evidence {
                phrase: Some(signal.phrase.clone()),
                phrase_field: Some(signal.field),
                ..Evidence::default()
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::tests::*;

    #[test]
    fn threat_deleted_needs_the_threat_message_id() {
        let c = config("profiles = [\"halland\"]");
        let threat = ev(
            1,
            "eve@example.com",
            EventKind::ChatMessage {
                text: "Jag vet var du bor.".into(),
                message_id: Some("msg-7".into()),
            },
        );
        let delete = |id: &str| {
            ev(
                2,
                "eve@example.com",
                EventKind::ChatMessageDeleted {
                    message_id: Some(id.into()),
                },
            )
        };
        let got = judge(&c, vec![threat.clone(), delete("msg-7")]);
        assert_eq!(
            rules(&got),
            [
                ("chat-threat".into(), Severity::Medium),
                ("threat-deleted".into(), Severity::High)
            ]
        );
        let got = judge(&c, vec![threat, delete("msg-8")]);
        assert_eq!(rules(&got), [("chat-threat".into(), Severity::Medium)]);
    }
}
