//! Recording and transcription.

use super::sensitive_evidence;
use crate::event::{EventKind, Media};
use crate::incident::Evidence;
use crate::meeting::MeetingView;
use crate::meeting::replay::each_moment;
use crate::rules::{Candidate, IdScope, RuleContext};

/// `recording-video`: a video recording was started. Some routines forbid it outright, others
/// when the meeting is sensitive, also when the patient data shows up only after the recording
/// started.
pub(super) fn recording_video(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
                external_present: outsider_while_recording(m, ctx, index),
                ..sensitive_evidence(m)
            },
        );
        c.qualifiers.sensitive = m.sensitive.is_some();
        c.id_scope = IdScope::Recording(Media::Video);
        out.push(c);
    }
}

/// Whether someone not internal was in the meeting at any moment while the recording started
/// at observation `index` ran (until it stopped, or the meeting's last event): they are in
/// the recording, and on most platforms can open it afterwards. With patient data in the
/// meeting, that may be a personal-data breach to report to IMY.
fn outsider_while_recording(m: &MeetingView, ctx: &RuleContext<'_>, index: usize) -> bool {
    let moments = m.moments(ctx.classifier);
    for (o, moment) in m.observations[index..].iter().zip(&moments[index..]) {
        if moment.not_internal_present() {
            return true;
        }
        if o.event.kind == EventKind::RecordingStopped {
            break;
        }
    }
    false
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
pub(super) fn recording_audio(m: &MeetingView, ctx: &RuleContext<'_>, out: &mut Vec<Candidate>) {
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
                external_present: outsider_while_recording(m, ctx, index),
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
pub(super) fn transcription_sensitive(
    m: &MeetingView,
    _: &RuleContext<'_>,
    out: &mut Vec<Candidate>,
) {
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

#[cfg(test)]
mod tests {
    use crate::rules::tests::*;

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

    /// An outsider in the meeting while it is recorded is in the recording: with patient data
    /// in the meeting, a possible personal-data breach (IMY). One who left before, or joined
    /// after the recording stopped, is not.
    #[test]
    fn an_outsider_present_while_recording_marks_a_possible_personal_data_breach() {
        let c = config("profiles = [\"halland\"]");
        let start = |minute| {
            ev(
                minute,
                "anna@region.se",
                EventKind::RecordingStarted {
                    media: Media::Video,
                },
            )
        };
        let stop = |minute| ev(minute, "anna@region.se", EventKind::RecordingStopped);
        let left = |minute, actor: &str| ev(minute, actor, EventKind::ParticipantLeft);
        let recording = |events: Vec<Event>| {
            let got = judge(&c, events);
            let r = got
                .iter()
                .find(|i| i.rule == "recording-video")
                .expect("a recording incident")
                .clone();
            (
                r.evidence.external_present,
                crate::alert::render::reportable(&r),
            )
        };
        let base = || {
            vec![
                joined(0, "anna@region.se", None),
                chat(1, "anna@region.se", PNR),
            ]
        };
        let mut during = base();
        during.extend([joined(2, "eve@kommun.se", None), start(3), stop(9)]);
        assert_eq!(recording(during), (true, true));
        let mut joined_during = base();
        joined_during.extend([start(3), joined(5, "eve@kommun.se", None), stop(9)]);
        assert_eq!(recording(joined_during), (true, true));
        let mut after = base();
        after.extend([start(3), stop(4), joined(5, "eve@kommun.se", None)]);
        assert_eq!(recording(after), (false, false));
        let mut before = base();
        before.extend([
            joined(2, "eve@kommun.se", None),
            left(3, "eve@kommun.se"),
            start(4),
            stop(9),
        ]);
        assert_eq!(recording(before), (false, false));
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
}
