//! Control handed over, and screens and documents shared.

use super::{sensitive_evidence, with_kind};
use crate::event::{ActorKind, EventKind, ShareScope};
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::meeting::replay::{Moment, each_moment};
use crate::rules::{Candidate, RuleContext};

/// `control-external`: control of a computer handed to someone not internal.
pub(super) fn control_external(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        let EventKind::ControlGranted { target } = &obs.event.kind else {
            continue;
        };
        let kind = ctx.classifier.kind(target);
        if kind == ActorKind::Internal {
            continue;
        }
        out.push(Candidate::new(
            "control-external",
            index,
            Evidence {
                target: Some(with_kind(target, kind)),
                ..Evidence::default()
            },
        ));
    }
}

/// `control-sensitive`: control handed over at all in a sensitive meeting: applications showing
/// patient data must not be open then.
pub(super) fn control_sensitive(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    if m.sensitive.is_none() {
        return;
    }
    for (index, obs) in m.observations.iter().enumerate() {
        let EventKind::ControlGranted { target } = &obs.event.kind else {
            continue;
        };
        out.push(Candidate::new(
            "control-sensitive",
            index,
            Evidence {
                target: Some(with_kind(target, ctx.classifier.kind(target))),
                ..sensitive_evidence(m)
            },
        ));
    }
}

/// Screen-share intervals: for each share start, the states from its start to its stop (or to
/// the end of the meeting).
fn for_each_share(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    mut f: impl FnMut(usize, Option<ShareScope>, &Moment),
) {
    let mut current: Option<usize> = None;
    each_moment(m, ctx.classifier, |index, obs, state| {
        match obs.event.kind {
            EventKind::ScreenShareStarted { .. } => current = Some(index),
            EventKind::ScreenShareStopped => current = None,
            _ => {}
        }
        if let Some(start) = current {
            let scope = match m.observations[start].event.kind {
                EventKind::ScreenShareStarted { scope } => scope,
                _ => None,
            };
            f(start, scope, state);
        }
    });
}

/// `share-desktop`: the whole desktop shared rather than one application, in a sensitive
/// meeting.
pub(super) fn share_desktop(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    if m.sensitive.is_none() {
        return;
    }
    for (index, obs) in m.observations.iter().enumerate() {
        if obs.event.kind
            != (EventKind::ScreenShareStarted {
                scope: Some(ShareScope::Desktop),
            })
        {
            continue;
        }
        out.push(Candidate::new(
            "share-desktop",
            index,
            Evidence {
                share_scope: Some(ShareScope::Desktop),
                ..sensitive_evidence(m)
            },
        ));
    }
}

/// `share-sensitive`: a screen shared in a sensitive meeting while someone external is there.
pub(super) fn share_sensitive(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    if m.sensitive.is_none() {
        return;
    }
    let mut fired: Vec<usize> = Vec::new();
    for_each_share(m, ctx, |start, scope, state| {
        if fired.contains(&start) || !state.not_internal_present() {
            return;
        }
        fired.push(start);
        out.push(Candidate::new(
            "share-sensitive",
            start,
            Evidence {
                share_scope: scope,
                external_present: true,
                ..sensitive_evidence(m)
            },
        ));
    });
}

/// `share-before-admitted`: a screen shared while someone waits in the lobby or an anonymous
/// participant is present: the right participants must be in before sharing.
pub(super) fn share_before_admitted(
    m: &MeetingView,
    ctx: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
    let mut fired: Vec<usize> = Vec::new();
    for_each_share(m, ctx, |start, scope, state| {
        if fired.contains(&start) || !state.unadmitted_present() {
            return;
        }
        fired.push(start);
        out.push(Candidate::new(
            "share-before-admitted",
            start,
            Evidence {
                share_scope: scope,
                ..Evidence::default()
            },
        ));
    });
}

/// `document-share`: a document shared on screen (to be avoided, vgr-samsa 6.4).
pub(super) fn document_share(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        if obs.event.kind
            != (EventKind::ScreenShareStarted {
                scope: Some(ShareScope::Document),
            })
        {
            continue;
        }
        out.push(Candidate::new(
            "document-share",
            index,
            Evidence {
                share_scope: Some(ShareScope::Document),
                ..Evidence::default()
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::tests::*;

    #[test]
    fn care_keyword_in_subject_makes_the_meeting_sensitive() {
        let c = config("profiles = [\"halland\"]");
        let start = ev(
            0,
            "anna@region.se",
            EventKind::MeetingStarted {
                subject: Some("Inför vårdplaneringen".into()),
                organizer: None,
                aliases: Vec::new(),
            },
        );
        let share = ev(
            2,
            "anna@region.se",
            EventKind::ScreenShareStarted {
                scope: Some(ShareScope::Desktop),
            },
        );
        let got = judge(&c, vec![start, share]);
        assert_eq!(rules(&got), [("share-desktop".into(), Severity::Medium)]);
        let s = got[0].evidence.sensitive.as_ref().unwrap();
        assert_eq!(
            (s.reason.as_str(), s.kind.as_deref()),
            ("care_keyword", Some("vårdplanering"))
        );
    }

    #[test]
    fn control_to_a_guest_or_phone_is_external() {
        let c = config("profiles = [\"kronoberg\"]");
        let mut phone = Actor::new("+46 31 123 45");
        phone.kind = Some(ActorKind::Phone);
        let got = judge(
            &c,
            vec![
                ev(
                    1,
                    "anna@region.se",
                    EventKind::ControlGranted {
                        target: Actor::new("bo@region.se"),
                    },
                ),
                ev(
                    2,
                    "anna@region.se",
                    EventKind::ControlGranted { target: phone },
                ),
            ],
        );
        assert_eq!(rules(&got), [("control-external".into(), Severity::High)]);
    }
}
