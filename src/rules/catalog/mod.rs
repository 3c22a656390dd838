//! The rule catalog: every obligation of the routines that the logs can show.
//!
//! Each rule is a function over one meeting in time order that proposes candidates; the
//! profiles decide whether and how seriously they count (see `config/profiles/`). A candidate
//! carries evidence only: what people read is rendered from it by [`crate::i18n::summary`].

mod meeting_level;
mod participants;
mod patient_data;
mod recording;
mod sharing;
mod threats;

use super::{Candidate, RuleContext};
use crate::event::{Actor, ActorKind, TextField};
use crate::incident::{Evidence, EvidenceFinding};
use crate::meeting::{MeetingView, Observation};

/// A rule: its id, the events it needs, and the function that checks (what makes it fire is
/// told by [`crate::i18n::fires_when`]).
pub struct RuleDef {
    pub id: &'static str,
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
        needs: &["chat_message"],
        check: patient_data::chat_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "invitation-patient-data",
        needs: &["meeting_started"],
        check: patient_data::invitation_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "file-patient-data",
        needs: &["file_shared"],
        check: patient_data::file_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "identifier-patient-data",
        needs: &[],
        check: patient_data::identifier_patient_data,
        revisit: None,
    },
    RuleDef {
        id: "recording-video",
        needs: &["recording_started"],
        check: recording::recording_video,
        revisit: None,
    },
    RuleDef {
        id: "recording-audio",
        needs: &["recording_started"],
        check: recording::recording_audio,
        revisit: None,
    },
    RuleDef {
        id: "transcription-sensitive",
        needs: &["transcription_started"],
        check: recording::transcription_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "control-external",
        needs: &["control_granted"],
        check: sharing::control_external,
        revisit: None,
    },
    RuleDef {
        id: "control-sensitive",
        needs: &["control_granted"],
        check: sharing::control_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "share-desktop",
        needs: &["screen_share_started"],
        check: sharing::share_desktop,
        revisit: None,
    },
    RuleDef {
        id: "share-sensitive",
        needs: &["screen_share_started", "participant_joined"],
        check: sharing::share_sensitive,
        revisit: None,
    },
    RuleDef {
        id: "share-before-admitted",
        needs: &["screen_share_started", "participant_joined"],
        check: sharing::share_before_admitted,
        revisit: None,
    },
    RuleDef {
        id: "document-share",
        needs: &["screen_share_started"],
        check: sharing::document_share,
        revisit: None,
    },
    RuleDef {
        id: "lobby-bypass",
        needs: &["participant_joined"],
        check: participants::lobby_bypass,
        revisit: None,
    },
    RuleDef {
        id: "unidentified-participant",
        needs: &["participant_joined"],
        check: participants::unidentified_participant,
        revisit: None,
    },
    RuleDef {
        id: "meeting-not-ended",
        needs: &["meeting_ended"],
        check: meeting_level::meeting_not_ended,
        revisit: Some(meeting_level::meeting_not_ended_due),
    },
    RuleDef {
        id: "platform-not-approved",
        needs: &[],
        check: meeting_level::platform_not_approved,
        revisit: None,
    },
    RuleDef {
        id: "large-sensitive-meeting",
        needs: &["participant_joined"],
        check: participants::large_sensitive_meeting,
        revisit: None,
    },
    RuleDef {
        id: "chat-threat",
        needs: &["chat_message"],
        check: threats::chat_threat,
        revisit: None,
    },
    RuleDef {
        id: "threat-deleted",
        needs: &["chat_message", "chat_message_deleted"],
        check: threats::threat_deleted,
        revisit: None,
    },
    RuleDef {
        id: "classified-information",
        needs: &[],
        check: threats::classified_information,
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

fn with_kind(actor: &Actor, kind: ActorKind) -> Actor {
    let mut a = actor.clone();
    a.kind = Some(kind);
    // Decided: the tenant it was decided by is not the incident's to keep.
    a.tenant = None;
    a
}
