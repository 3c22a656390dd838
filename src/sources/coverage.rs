//! Which event types each platform's exports can carry: blind spots are data too.
//!
//! A rule that needs an event type a platform never carries cannot fire for that platform's
//! meetings; `motesvakt rules` and the reports say so instead of staying silent. The matrix
//! is documented, with sources, in `docs/platforms.md`.

use crate::event::{EVENT_TYPES, Platform};

/// Whether a platform's exports carry an event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Coverage {
    /// Never: the platform's export has no such signal.
    No,
    /// Sometimes, late, indirectly, or only with extra configuration; the note says how.
    Partial(&'static str),
    /// Carried.
    Yes,
}

impl Coverage {
    /// `yes`, `partial` or `no`.
    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::No => "no",
            Coverage::Partial(_) => "partial",
            Coverage::Yes => "yes",
        }
    }

    /// True unless [`Coverage::No`].
    pub fn possible(self) -> bool {
        self != Coverage::No
    }
}

/// The platforms motesvakt reads exports of, in the order of the matrix.
pub const PLATFORMS: &[Platform] = &[
    Platform::Teams,
    Platform::Zoom,
    Platform::Pexip,
    Platform::Webex,
];

/// Whether `platform`'s exports, as read by motesvakt's adapters, carry `event_type` (a `type`
/// of [`EVENT_TYPES`]). `None` for a platform read only through native NDJSON (Skype, other),
/// whose events carry whatever the producer wrote, and for an unknown type.
pub fn coverage(platform: Platform, event_type: &str) -> Option<Coverage> {
    use Coverage::{No, Partial, Yes};
    if !EVENT_TYPES.contains(&event_type) {
        return None;
    }
    let c = match (platform, event_type) {
        (Platform::Skype | Platform::Other, _) => return None,
        (_, "invitation") => No,
        (_, "meeting_started" | "meeting_ended" | "participant_joined" | "participant_left") => Yes,

        (Platform::Teams, "participant_admitted") => Partial(
            "only that a participant came from the lobby (IsJoinedFromLobby), not who admitted",
        ),
        (Platform::Teams, "recording_started" | "recording_stopped") => {
            Partial("from the recording bot's participant record and Graph system messages")
        }
        (Platform::Teams, "transcription_started" | "transcription_stopped") => {
            Partial("from the transcription bot's participant record and Graph system messages")
        }
        (Platform::Teams, "screen_share_started" | "screen_share_stopped") => Partial(
            "audited since 2025 without a public field list: only once mapped in [[teams.fields]]",
        ),
        (Platform::Teams, "control_granted" | "control_revoked") => Partial(
            "audited since 2025 without a public field list: only once mapped in [[teams.fields]]",
        ),
        (Platform::Teams, "chat_message") => {
            Partial("text only in Microsoft Graph exports; the audit log has none")
        }
        (Platform::Teams, "chat_message_deleted" | "file_shared") => Yes,

        (Platform::Zoom, "participant_admitted") => {
            Partial("who admitted is not recorded; the host is assumed")
        }
        (Platform::Zoom, "recording_started" | "recording_stopped" | "recording_completed") => Yes,
        (Platform::Zoom, "transcription_started" | "transcription_stopped") => {
            Partial("after the meeting, from recording.transcript_completed")
        }
        (Platform::Zoom, "screen_share_started" | "screen_share_stopped") => Yes,
        (Platform::Zoom, "control_granted" | "control_revoked") => No,
        (Platform::Zoom, "chat_message" | "file_shared") => Yes,
        (Platform::Zoom, "chat_message_deleted") => No,

        (Platform::Pexip, "participant_admitted") => Partial(
            "a move from waiting room or lobby into the conference; who admitted is not recorded",
        ),
        (Platform::Pexip, "recording_started" | "recording_stopped") => {
            Partial("a streaming or recording participant (is_streaming)")
        }
        (Platform::Pexip, "screen_share_started" | "screen_share_stopped") => Yes,
        (Platform::Pexip, _) => No,

        (Platform::Webex, "participant_admitted") => No,
        (Platform::Webex, "recording_started" | "recording_stopped") => {
            Partial("after the meeting; audio-only recordings are not told apart")
        }
        (Platform::Webex, "transcription_started") => Partial("after the meeting"),
        (Platform::Webex, "chat_message") => Partial(
            "in-meeting chat from the Events API (meetingMessages: public messages; direct ones are ephemeral unless archived) and the post-meeting chat export",
        ),
        (Platform::Webex, "chat_message_deleted") => {
            Partial("when the Events API reports a meetingMessages deletion")
        }
        (Platform::Webex, _) => No,

        _ => No,
    };
    Some(c)
}

/// The event types among `needed` that `platform` never carries. A rule needing any one of
/// them (for instance `control-external` needs `control_granted`) cannot fire on that
/// platform's exports.
pub fn missing<'a>(platform: Platform, needed: &[&'a str]) -> Vec<&'a str> {
    needed
        .iter()
        .copied()
        .filter(|t| coverage(platform, t) == Some(Coverage::No))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_and_type_has_an_answer() {
        for p in PLATFORMS {
            for t in EVENT_TYPES {
                assert!(coverage(*p, t).is_some(), "{p} {t}");
            }
        }
        assert_eq!(coverage(Platform::Other, "chat_message"), None);
        assert_eq!(coverage(Platform::Teams, "hand_raised"), None);
    }

    #[test]
    fn blind_spots_of_the_issue() {
        // Pexip has no chat or remote control; Zoom, Pexip and Webex have no remote control;
        // Webex has no screen sharing.
        assert_eq!(
            missing(Platform::Pexip, &["chat_message"]),
            ["chat_message"]
        );
        for p in [Platform::Zoom, Platform::Pexip, Platform::Webex] {
            assert_eq!(missing(p, &["control_granted"]), ["control_granted"], "{p}");
        }
        assert_eq!(
            missing(Platform::Webex, &["screen_share_started"]),
            ["screen_share_started"]
        );
        assert!(missing(Platform::Teams, &["control_granted", "chat_message"]).is_empty());
        // Webex meetingMessages (Events API) are in-meeting chat.
        assert!(missing(Platform::Webex, &["chat_message", "chat_message_deleted"]).is_empty());
        assert!(
            coverage(Platform::Zoom, "recording_started")
                .unwrap()
                .possible()
        );
    }
}
