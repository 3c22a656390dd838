//! The rule catalog: every obligation of the routines that the logs can show.
//!
//! Each rule is a function over one meeting in time order that proposes candidates; the
//! profiles decide whether and how seriously they count (see `config/profiles/`). A candidate
//! carries evidence only: what people read is rendered from it by [`crate::i18n::summary`].

use super::{Candidate, IdScope, RuleContext};
use crate::config::{DEFAULT_MAX_PARTICIPANTS, DEFAULT_MEETING_TIMEOUT};
use crate::event::{Actor, ActorKind, EndReason, EventKind, Media, ShareScope, TextField};
use crate::incident::{Evidence, EvidenceFinding};
use crate::meeting::replay::{Moment, each_moment};
use crate::meeting::{MeetingView, Observation};
use crate::phrases::SignalKind;

/// A rule: its id, what it checks (for `motesvakt rules`), and the function that checks.
pub struct RuleDef {
    pub id: &'static str,
    /// What makes it fire, in English.
    pub fires_when: &'static str,
    /// The event types it needs, all of them; a platform whose exports never carry one of
    /// them is blind to the rule (see [`crate::sources::coverage`]).
    pub needs: &'static [&'static str],
    pub check: fn(&MeetingView, &RuleContext<'_>, &mut Vec<Candidate>),
    /// For rules whose verdict changes with the clock alone: when to judge again.
    pub revisit: Option<fn(&MeetingView, &RuleContext<'_>) -> Option<jiff::Timestamp>>,
}

/// Every rule, in the order of [`crate::incident::RULE_IDS`].
pub const RULES: &[RuleDef] = &[
    RuleDef {
        id: "chat-patient-data",
        fires_when: "a chat message holds patient data; critical when an external participant is or was in the meeting",
        needs: &["chat_message"],
        check: chat_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "invitation-patient-data",
        fires_when: "the subject or the invitation text holds patient data",
        needs: &["meeting_started"],
        check: invitation_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "file-patient-data",
        fires_when: "a shared file's name holds patient data, or a file is shared in a sensitive meeting with an external participant",
        needs: &["file_shared"],
        check: file_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "identifier-patient-data",
        fires_when: "the meeting's id or room name, or a participant's display name, holds an identity number: everyone in the meeting sees it",
        needs: &[],
        check: identifier_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "recording-video",
        fires_when: "a video recording was started",
        needs: &["recording_started"],
        check: recording_video,
        revisit: None,
    },
    RuleDef {
        id: "recording-audio",
        fires_when: "an audio-only recording was started",
        needs: &["recording_started"],
        check: recording_audio,
        revisit: None,
    },
    RuleDef {
        id: "transcription-sensitive",
        fires_when: "transcription or captions were saved in a sensitive meeting",
        needs: &["transcription_started"],
        check: transcription_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "control-external",
        fires_when: "control of a computer was handed to someone not internal",
        needs: &["control_granted"],
        check: control_external,
        revisit: None,
    },
    RuleDef {
        id: "control-sensitive",
        fires_when: "control of a computer was handed over in a sensitive meeting",
        needs: &["control_granted"],
        check: control_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "share-desktop",
        fires_when: "the whole desktop was shared in a sensitive meeting",
        needs: &["screen_share_started"],
        check: share_desktop,
        revisit: None,
    },
    RuleDef {
        id: "share-sensitive",
        fires_when: "a screen was shared in a sensitive meeting with an external participant present",
        needs: &["screen_share_started", "participant_joined"],
        check: share_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "share-before-admitted",
        fires_when: "a screen was shared while someone waited in the lobby or an anonymous participant was present",
        needs: &["screen_share_started", "participant_joined"],
        check: share_before_admitted,
        revisit: None,
    },
    RuleDef {
        id: "document-share",
        fires_when: "a document was shared on screen",
        needs: &["screen_share_started"],
        check: document_share,
        revisit: None,
    },
    RuleDef {
        id: "lobby-bypass",
        fires_when: "an external, guest or anonymous participant joined without passing the lobby",
        needs: &["participant_joined"],
        check: lobby_bypass,
        revisit: None,
    },
    RuleDef {
        id: "unidentified-participant",
        fires_when: "an anonymous or phone participant was in a sensitive meeting",
        needs: &["participant_joined"],
        check: unidentified_participant,
        revisit: None,
    },
    RuleDef {
        id: "meeting-not-ended",
        fires_when: "the meeting was not ended by its organiser or chair (ended by the last one leaving, by timeout, or never)",
        needs: &["meeting_ended"],
        check: meeting_not_ended,
        revisit: Some(meeting_not_ended_due),
    },
    RuleDef {
        id: "platform-not-approved",
        fires_when: "a sensitive meeting was held on a platform not approved for sensitive content",
        needs: &[],
        check: platform_not_approved,
        revisit: None,
    },
    RuleDef {
        id: "large-sensitive-meeting",
        fires_when: "a sensitive meeting had more participants than configured (default 30)",
        needs: &["participant_joined"],
        check: large_sensitive_meeting,
        revisit: None,
    },
    RuleDef {
        id: "chat-threat",
        fires_when: "a chat message holds a threat",
        needs: &["chat_message"],
        check: chat_threat,
        revisit: None,
    },
    RuleDef {
        id: "threat-deleted",
        fires_when: "a chat message that held a threat was deleted",
        needs: &["chat_message", "chat_message_deleted"],
        check: threat_deleted,
        revisit: None,
    },
    RuleDef {
        id: "classified-information",
        fires_when: "a text marks security-classified information",
        needs: &[],
        check: classified_information,
        revisit: None,
    },
];

/// Evidence of why the meeting is sensitive.
fn sensitive_evidence(m: &MeetingView) -> Evidence {
    Evidence {
        sensitive: m.sensitive.clone(),
        ..Evidence::default()
    }
}

fn findings_of(
    obs: &Observation,
    ctx: &RuleContext<'_>,
    fields: &[TextField],
) -> Vec<EvidenceFinding> {
    obs.findings_at_least(ctx.min_confidence)
        .filter(|f| fields.contains(&f.field))
        .map(EvidenceFinding::from)
        .collect()
}

/// `chat-patient-data`: patient data in a chat message. Everyone who is or was in the meeting
/// can read the chat (in Teams also after leaving), so an external participant makes it
/// critical.
fn chat_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn invitation_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn file_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn identifier_patient_data(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

/// `recording-video`: a video recording was started. Some routines forbid it outright, others
/// when the meeting is sensitive, also when the patient data shows up only after the recording
/// started.
fn recording_video(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    for (index, obs) in m.observations.iter().enumerate() {
        if obs.event.kind
            != (EventKind::RecordingStarted {
                media: Media::Video,
            })
            || already_recording(m, index, Media::Video)
        {
            continue;
        }
        // What the platform later said the saved files hold, when that is audio only (Zoom),
        // before the next recording starts.
        let saved_media = m.observations[index + 1..]
            .iter()
            .take_while(|o| !matches!(o.event.kind, EventKind::RecordingStarted { .. }))
            .find_map(|o| match o.event.kind {
                EventKind::RecordingCompleted { media, .. } => Some(media),
                _ => None,
            })
            .filter(|m| *m == Media::Audio);
        let mut c = Candidate::new(
            "recording-video",
            index,
            Evidence {
                media: Some(Media::Video),
                saved_media,
                ..sensitive_evidence(m)
            },
        );
        c.qualifiers.sensitive = m.sensitive.is_some();
        c.id_scope = IdScope::Recording(Media::Video);
        out.push(c);
    }
}

/// Whether a recording of `media` was already running when observation `index` reported one
/// starting: then it is the same recording reported twice (the Teams audit log's recording bot
/// and Graph's system message both report it), not a second one.
fn already_recording(m: &MeetingView, index: usize, media: Media) -> bool {
    let mut running = false;
    for o in &m.observations[..index] {
        match o.event.kind {
            EventKind::RecordingStarted { media: earlier } if earlier == media => running = true,
            EventKind::RecordingStopped => running = false,
            _ => {}
        }
    }
    running
}

/// `recording-audio`: an audio-only recording was started. Under vgr-samsa it is allowed if
/// the one recording takes part and no third party is concerned.
fn recording_audio(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    each_moment(m, ctx.classifier, |index, obs, state| {
        if obs.event.kind
            != (EventKind::RecordingStarted {
                media: Media::Audio,
            })
            || already_recording(m, index, Media::Audio)
        {
            return;
        }
        let outsider = !state.actor_is_participant();
        let mut c = Candidate::new(
            "recording-audio",
            index,
            Evidence {
                media: Some(Media::Audio),
                actor_not_participant: outsider,
                ..sensitive_evidence(m)
            },
        );
        c.qualifiers.sensitive = m.sensitive.is_some();
        c.qualifiers.outsider = outsider;
        c.id_scope = IdScope::Recording(Media::Audio);
        out.push(c);
    });
}

/// `transcription-sensitive`: transcription started in a sensitive meeting (the transcript is
/// saved with the organiser).
fn transcription_sensitive(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
    if m.sensitive.is_none() {
        return;
    }
    for (index, obs) in m.observations.iter().enumerate() {
        if obs.event.kind != EventKind::TranscriptionStarted {
            continue;
        }
        out.push(Candidate::new(
            "transcription-sensitive",
            index,
            sensitive_evidence(m),
        ));
    }
}

/// `control-external`: control of a computer handed to someone not internal.
fn control_external(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn control_sensitive(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn share_desktop(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn share_sensitive(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn share_before_admitted(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn document_share(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

/// `lobby-bypass`: someone from outside joined without waiting in the lobby.
fn lobby_bypass(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn unidentified_participant(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

/// `meeting-not-ended`: the organiser or chair did not end the meeting. Ended by the last one
/// leaving or by timeout, or by someone else; or never ended although its last event is older
/// than the configured timeout (in a batch, measured from the latest event in the input).
fn meeting_not_ended(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn meeting_not_ended_due(m: &MeetingView, ctx: &RuleContext<'_>) -> Option<jiff::Timestamp> {
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
fn platform_not_approved(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

/// `large-sensitive-meeting`: more participants than configured in a sensitive meeting (SÄS:
/// around 30, consider a webinar without sensitive content).
fn large_sensitive_meeting(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

/// `chat-threat`: a chat message holds a configured threat phrase.
fn chat_threat(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn threat_deleted(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
fn classified_information(m: &MeetingView, _: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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

fn with_kind(actor: &Actor, kind: ActorKind) -> Actor {
    let mut a = actor.clone();
    a.kind = Some(kind);
    a
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Origin};
    use crate::detect::{DetectSettings, Detector, HashKey};
    use crate::event::{Actor, ActorKind, Event, EventKind, Media, Platform, ShareScope};
    use crate::incident::{Incident, Severity};
    use crate::meeting::replay::replay;
    use crate::meeting::{MeetingKey, MeetingView, Observation, SourceKey};
    use crate::rules::Judge;
    use crate::sources::RecordKey;

    const PNR: &str = "19861208-2399";

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!("internal_domains = [\"region.se\"]\n{extra}\n"),
            Origin::BuiltIn,
        )
        .unwrap()
    }

    fn ev(minute: u32, actor: &str, kind: EventKind) -> Event {
        Event {
            time: format!("2020-05-04T10:{minute:02}:00Z").parse().unwrap(),
            platform: Platform::Teams,
            meeting: "m1".into(),
            actor: Actor::new(actor),
            kind,
        }
    }

    fn view(config: &Config, events: Vec<Event>) -> MeetingView {
        let d = Detector::new(&DetectSettings::default(), HashKey::from_bytes([1; 32])).unwrap();
        let obs = events
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let key = SourceKey::new(RecordKey::new("test", &[&i.to_le_bytes()]), 0);
                Observation::from_event(key, e, &d, &config.signals)
            })
            .collect();
        let key = MeetingKey {
            platform: Platform::Teams,
            id: "m1".into(),
        };
        MeetingView::new(key, obs, d.min_confidence(), &config.sensitivity)
    }

    fn judge(config: &Config, events: Vec<Event>) -> Vec<Incident> {
        let v = view(config, events);
        let clock = v.observations.last().map(|o| o.event.time).unwrap();
        Judge::new(config, config.detect.min_confidence)
            .judge(&v, clock)
            .incidents
    }

    fn rules(incidents: &[Incident]) -> Vec<(String, Severity)> {
        incidents
            .iter()
            .map(|i| (i.rule.clone(), i.severity))
            .collect()
    }

    fn chat(minute: u32, actor: &str, text: &str) -> Event {
        ev(
            minute,
            actor,
            EventKind::ChatMessage {
                text: text.into(),
                message_id: None,
            },
        )
    }

    fn joined(minute: u32, actor: &str, via_lobby: Option<bool>) -> Event {
        ev(
            minute,
            actor,
            EventKind::ParticipantJoined {
                role: None,
                via_lobby,
            },
        )
    }

    #[test]
    fn replay_tracks_lobby_presence_and_outsiders() {
        let c = config("profiles = [\"halland\"]");
        let admitted = ev(
            5,
            "anna@region.se",
            EventKind::ParticipantAdmitted {
                target: Actor::new("eve@example.com"),
            },
        );
        let v = view(
            &c,
            vec![
                joined(0, "anna@region.se", None),
                joined(1, "eve@example.com", Some(true)),
                admitted,
                ev(9, "eve@example.com", EventKind::ParticipantLeft),
            ],
        );
        let mut seen = Vec::new();
        replay(&v, &c.classifier, |_, _, s| {
            seen.push((
                s.unadmitted_present(),
                s.not_internal_present(),
                s.ever_not_internal,
            ));
        });
        assert_eq!(
            seen,
            [
                (false, false, false),
                (true, false, true),
                (false, true, true),
                (false, false, true)
            ]
        );
    }

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

    #[test]
    fn audio_recording_by_someone_not_in_the_meeting_is_high_under_vgr() {
        let c = config("profiles = [\"vgr-samsa\"]");
        let audio = |actor: &str| {
            ev(
                3,
                actor,
                EventKind::RecordingStarted {
                    media: Media::Audio,
                },
            )
        };
        let got = judge(
            &c,
            vec![joined(0, "anna@region.se", None), audio("bo@region.se")],
        );
        assert_eq!(rules(&got), [("recording-audio".into(), Severity::High)]);
        let got = judge(
            &c,
            vec![joined(0, "anna@region.se", None), audio("anna@region.se")],
        );
        assert_eq!(rules(&got), [("recording-audio".into(), Severity::Info)]);
        let got = judge(
            &c,
            vec![
                joined(0, "anna@region.se", None),
                audio("anna@region.se"),
                chat(9, "anna@region.se", PNR),
            ],
        );
        assert!(rules(&got).contains(&("recording-audio".into(), Severity::Medium)));
    }

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
    fn clinical_signals_count_only_together_with_an_identity_number() {
        let c = config("profiles = [\"halland\"]");
        let video = || {
            ev(
                0,
                "anna@region.se",
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
            )
        };
        // An ICD code alone: not sensitive, no chat incident.
        let got = judge(
            &c,
            vec![video(), chat(3, "bo@region.se", "Utredning F32.1 klar")],
        );
        assert_eq!(rules(&got), [("recording-video".into(), Severity::Info)]);
        // A bare ten-digit number alone is low: not sensitive either.
        let got = judge(&c, vec![video(), chat(4, "bo@region.se", "8612082399")]);
        assert_eq!(rules(&got), [("recording-video".into(), Severity::Info)]);
        // Together they make the meeting sensitive, though neither message is an incident.
        let got = judge(
            &c,
            vec![
                video(),
                chat(3, "bo@region.se", "Utredning F32.1 klar"),
                chat(4, "bo@region.se", "8612082399"),
            ],
        );
        assert_eq!(rules(&got), [("recording-video".into(), Severity::High)]);
    }

    #[test]
    fn profile_validity_is_honoured_per_event() {
        let c = config("profiles = [\"orebro\"]");
        let video = |year: u32| Event {
            time: format!("{year}-05-04T10:00:00Z").parse().unwrap(),
            ..ev(
                0,
                "anna@region.se",
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
            )
        };
        assert_eq!(judge(&c, vec![video(2020)]).len(), 1);
        assert!(judge(&c, vec![video(2021)]).is_empty());
        let today = jiff::civil::date(2026, 11, 22);
        assert_eq!(c.expired_profiles(today).len(), 1);
    }

    #[test]
    fn exceptions_silence_a_rule_for_named_meetings_only() {
        let c = config(
            "profiles = [\"vgr-samsa\"]\n[[exceptions]]\nrule = \"recording-video\"\nmeetings = [\"m1\"]\nreason = \"Utbildningsrummet spelas in enligt beslut 2020-01-10\"",
        );
        let video = ev(
            0,
            "anna@region.se",
            EventKind::RecordingStarted {
                media: Media::Video,
            },
        );
        let v = view(&c, vec![video]);
        let j = Judge::new(&c, c.detect.min_confidence).judge(&v, v.observations[0].event.time);
        assert!(j.incidents.is_empty());
        assert_eq!(j.excepted, 1);
    }

    #[test]
    fn profiles_can_be_chosen_per_platform_and_domain() {
        let c = config(
            "profiles = [\"halland\"]\n[[profile_for]]\nprofiles = [\"vgr-samsa\"]\nplatforms = [\"pexip\"]\ndomains = [\"vgregion.se\"]",
        );
        let ids = |p, o| {
            c.profiles_for(p, o)
                .iter()
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(Platform::Pexip, Some("a@sas.vgregion.se")),
            ["vgr-samsa"]
        );
        assert_eq!(ids(Platform::Teams, Some("a@vgregion.se")), ["halland"]);
        assert_eq!(ids(Platform::Pexip, Some("a@region.se")), ["halland"]);
        assert_eq!(ids(Platform::Pexip, None), ["halland"]);
    }

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
