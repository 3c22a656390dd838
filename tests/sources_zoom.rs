//! Zoom webhook adapter: every mapped event, time forms, duplicates, the waiting room and
//! recordings paired by the meeting state, malformed records.

mod common;

use common::*;
use motesvakt::event::{ActorKind, EventKind, Media, Role, ShareScope};
use motesvakt::sources::Format;

#[test]
fn scenario_matches_native() {
    assert_same_events(
        &judged(Format::Zoom, &fixture("zoom/scenario.ndjson")),
        &native("zoom/scenario.native.ndjson"),
        "zoom scenario",
    );
}

#[test]
fn scenario_reports_duplicates_unmapped_and_malformed_by_line() {
    let data = fixture("zoom/scenario.ndjson");
    let out = read(Format::Zoom, &data);
    // Line 7 repeats line 6 (a webhook retry): one event, absorbed by the record key.
    assert_eq!(judged_with(Format::Zoom, &settings(), &data).1, 1);
    let un = unmapped(&out);
    assert!(
        un.contains(&(13, "event meeting.participant_role_changed".into())),
        "{un:?}"
    );
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert_eq!(rej[0].0, 17);
    assert!(rej[0].1.contains("malformed JSON"), "{rej:?}");
}

#[test]
fn the_waiting_room_is_a_join_through_the_lobby() {
    let data = fixture("zoom/scenario.ndjson");
    let text = String::from_utf8(data).unwrap();
    let line3 = text.lines().nth(2).unwrap();
    let ev = events(&one(line3));
    assert_eq!(ev[0].actor.id, "ext@example.com");
    assert_eq!(
        ev[0].kind,
        EventKind::ParticipantJoined {
            role: None,
            via_lobby: Some(true)
        }
    );
}

fn one(line: &str) -> Vec<(u64, Out)> {
    read(Format::Zoom, line.as_bytes())
}

#[test]
fn ids_are_strings_whether_number_or_string() {
    let a = one(
        r#"{"event":"meeting.ended","event_ts":1714642200000,"payload":{"object":{"id":912345678,"host_id":"h"}}}"#,
    );
    let b = one(
        r#"{"event":"meeting.ended","event_ts":1714642200000,"payload":{"object":{"id":"912345678","host_id":"h"}}}"#,
    );
    assert_eq!(events(&a)[0].meeting, "912345678");
    assert_eq!(events(&a), events(&b));
    // The instance uuid wins over the meeting number.
    let c = one(
        r#"{"event":"meeting.ended","event_ts":1714642200000,"payload":{"object":{"id":9,"uuid":"u/1+=","host_id":"h"}}}"#,
    );
    assert_eq!(events(&c)[0].meeting, "u/1+=");
}

#[test]
fn times_come_from_the_record_then_event_ts() {
    let e = one(
        r#"{"event":"meeting.participant_joined","event_ts":1714640000000,"payload":{"object":{"uuid":"u","participant":{"user_name":"N","join_time":"2024-05-02T09:00:30Z"}}}}"#,
    );
    assert_eq!(events(&e)[0].time.to_string(), "2024-05-02T09:00:30Z");
    let e = one(
        r#"{"event":"recording.paused","event_ts":1714640460123,"payload":{"object":{"uuid":"u","recording_file":{"recording_start":"2024-05-02T09:00:00Z","recording_end":""}}}}"#,
    );
    assert_eq!(events(&e)[0].time.to_string(), "2024-05-02T09:01:00.123Z");
    assert_eq!(events(&e)[0].kind, EventKind::RecordingStopped);
    // No time at all (Elastic's samples drop event_ts): read, but unmapped.
    let e = one(r#"{"event":"meeting.ended","payload":{"object":{"uuid":"u"}}}"#);
    assert_eq!(
        unmapped(&e),
        [(1, "event meeting.ended (no time)".to_string())]
    );
    // A time that is there but unreadable rejects the record.
    let e = one(
        r#"{"event":"meeting.ended","event_ts":1714642200000,"payload":{"object":{"uuid":"u","end_time":"soon"}}}"#,
    );
    assert_eq!(
        rejected(&e),
        [(1, "field `end_time` is not a time".to_string())]
    );
}

#[test]
fn participants_roles_and_kinds() {
    let e = one(
        r#"{"event":"meeting.participant_joined","event_ts":1714640000000,"payload":{"object":{"uuid":"u","host_id":"H1","participant":{"id":"H1","user_name":"Host","email":"h@region.se"}}}}"#,
    );
    let ev = &events(&e)[0];
    assert_eq!(ev.actor.id, "h@region.se");
    assert_eq!(
        ev.kind,
        EventKind::ParticipantJoined {
            role: Some(Role::Organizer),
            via_lobby: None
        }
    );
    let e = one(
        r#"{"event":"meeting.participant_joined","event_ts":1714640000000,"payload":{"object":{"uuid":"u","host_id":"H1","participant":{"user_id":"1677","user_name":"Ringer","phone_number":"+46700000000"}}}}"#,
    );
    let ev = &events(&e)[0];
    assert_eq!(ev.actor.kind, Some(ActorKind::Phone));
    assert_eq!(
        ev.kind,
        EventKind::ParticipantJoined {
            role: None,
            via_lobby: None
        }
    );
}

#[test]
fn sharing_scopes() {
    for (content, scope) in [
        ("application", Some(ShareScope::Application)),
        ("desktop", Some(ShareScope::Desktop)),
        ("whiteboard", Some(ShareScope::Whiteboard)),
        ("airplay", None),
    ] {
        let line = format!(
            r#"{{"event":"meeting.sharing_started","event_ts":1714640000000,"payload":{{"object":{{"uuid":"u","participant":{{"user_name":"A","sharing_details":{{"content":"{content}","date_time":"2024-05-02T09:12:00Z"}}}}}}}}}}"#
        );
        let ev = &events(&one(&line))[0];
        assert_eq!(
            ev.kind,
            EventKind::ScreenShareStarted { scope },
            "{content}"
        );
        assert_eq!(ev.time.to_string(), "2024-05-02T09:12:00Z");
    }
}

#[test]
fn recording_completed_alone_gives_the_recording_with_its_media() {
    let video = r#"{"event":"recording.completed","event_ts":1714642800000,"payload":{"object":{"uuid":"u","host_id":"H","recording_files":[{"file_type":"MP4","recording_type":"shared_screen_with_speaker_view","recording_start":"2024-05-02T09:10:00Z","recording_end":"2024-05-02T09:20:00Z"},{"file_type":"M4A","recording_type":"audio_only","recording_start":"2024-05-02T09:10:00Z","recording_end":"2024-05-02T09:20:00Z"}]}}}"#;
    // The adapter says what the files hold and when; the meeting state makes it the recording.
    let ev = events(&one(video));
    assert_eq!(ev.len(), 1);
    assert!(matches!(
        ev[0].kind,
        EventKind::RecordingCompleted {
            media: Media::Video,
            started: Some(_),
            ended: Some(_)
        }
    ));
    let ev = judged(Format::Zoom, video.as_bytes());
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev[0].kind,
        EventKind::RecordingStarted {
            media: Media::Video
        }
    );
    assert_eq!(ev[0].time.to_string(), "2024-05-02T09:10:00Z");
    assert_eq!(ev[1].kind, EventKind::RecordingStopped);
    let audio = video.replace(r#"{"file_type":"MP4","recording_type":"shared_screen_with_speaker_view","recording_start":"2024-05-02T09:10:00Z","recording_end":"2024-05-02T09:20:00Z"},"#, "");
    let ev = judged(Format::Zoom, audio.as_bytes());
    assert_eq!(
        ev[0].kind,
        EventKind::RecordingStarted {
            media: Media::Audio
        }
    );
    // With recording.started, in the same file or another, before or after, the completed
    // video recording is already known: one recording.
    let started = r#"{"event":"recording.started","event_ts":1714641000000,"payload":{"object":{"uuid":"u","host_id":"H","recording_file":{"recording_start":"2024-05-02T09:10:00Z","recording_end":""}}}}"#;
    for both in [
        format!("{started}\n{video}\n"),
        format!("{video}\n{started}\n"),
    ] {
        let starts = judged(Format::Zoom, both.as_bytes())
            .into_iter()
            .filter(|e| matches!(e.kind, EventKind::RecordingStarted { .. }))
            .count();
        assert_eq!(starts, 1);
    }
}

#[test]
fn transcript_completed_is_transcription() {
    let line = r#"{"event":"recording.transcript_completed","event_ts":1714642800000,"payload":{"object":{"uuid":"u","host_id":"H","recording_files":[{"file_type":"TRANSCRIPT","recording_type":"audio_transcript","recording_start":"2024-05-02T09:10:00Z","recording_end":"2024-05-02T09:20:00Z"}]}}}"#;
    let ev = events(&one(line));
    assert_eq!(ev[0].kind, EventKind::TranscriptionStarted);
    assert_eq!(ev[1].kind, EventKind::TranscriptionStopped);
}

#[test]
fn malformed_records_are_rejected_without_quoting_text() {
    let data = concat!(
        r#"{"event":"meeting.chat_message_sent","event_ts":1714640700000,"payload":{"object":{"uuid":"u","chat_message":{"message_content":["hemligt 19861208-2399"]}}}}"#,
        "\n",
        r#"{"payload":{"object":{"uuid":"u"}}}"#,
        "\n",
        r#"{"event":"meeting.started","payload":{}}"#,
        "\n[1,2]\n",
        r#"{"event":"meeting.ended","event_ts":1714642200000,"payload":{"object":{"uuid":"u","host_id":"h"}}}"#,
        "\n",
    );
    let out = read(Format::Zoom, data.as_bytes());
    let rej = rejected(&out);
    assert_eq!(rej.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3, 4, 4]);
    for (_, reason) in &rej {
        assert!(
            !reason.contains("hemligt") && !reason.contains("2399"),
            "reason quotes text"
        );
    }
    assert_eq!(events(&out).len(), 1);
}

#[test]
fn sniffed_by_content() {
    assert_eq!(
        Format::sniff(&fixture("zoom/scenario.ndjson")),
        Some(Format::Zoom)
    );
}
