//! Webex adapter: webhooks and REST list responses.

mod common;

use common::*;
use motesvakt::event::{ActorKind, EventKind, Role};
use motesvakt::sources::Format;

const FILES: &[&str] = &[
    "webex/webhooks.ndjson",
    "webex/participants.json",
    "webex/recordings.json",
    "webex/chats.json",
    "webex/transcripts.json",
];

#[test]
fn scenario_matches_native() {
    let mut all = Vec::new();
    for f in FILES {
        let data = fixture(f);
        assert_eq!(Format::sniff(&data), Some(Format::Webex), "{f}");
        all.extend(judged(Format::Webex, &data));
    }
    assert_same_events(
        &all,
        &native("webex/scenario.native.ndjson"),
        "webex scenario",
    );
}

#[test]
fn duplicates_unmapped_and_malformed() {
    let data = fixture("webex/webhooks.ndjson");
    let out = read(Format::Webex, &data);
    assert_eq!(
        unmapped(&out),
        [(4, "webhook messages.created".to_string())]
    );
    // Line 3 redelivers line 2 (same webhook id): one event.
    assert_eq!(judged_with(Format::Webex, &settings(), &data).1, 1);
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].0, 6);
    let out = read(Format::Webex, &fixture("webex/chats.json"));
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert!(rej[0].1.contains("chatTime"), "{rej:?}");
    let text = String::from_utf8(fixture("webex/chats.json")).unwrap();
    let line = text.lines().position(|l| l.contains("\"chat-2\"")).unwrap() as u64; // the `{` is one line up
    assert_eq!(rej[0].0, line);
}

#[test]
fn placeholder_times_are_ignored() {
    let out = read(Format::Webex, &fixture("webex/participants.json"));
    assert!(
        unmapped(&out)
            .iter()
            .any(|(_, s)| s == "participant in the lobby")
    );
    // The host's webhook has leftTime 1970-01-01: a join and no leave.
    let joins: Vec<_> = judged(Format::Webex, &fixture("webex/webhooks.ndjson"))
        .into_iter()
        .filter(|e| e.kind.type_name().starts_with("participant"))
        .collect();
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0].time.to_string(), "2024-05-02T09:00:30Z");
}

#[test]
fn roles_and_kinds() {
    let item = |extra: &str| {
        format!(
            r#"{{"items":[{{"id":"p{}","meetingId":"m","state":"end","joinedTime":"2024-05-02T09:00:00.000Z",{extra}}}]}}"#,
            extra.len()
        )
    };
    let first = |extra: &str| events(&read(Format::Webex, item(extra).as_bytes()))[0].clone();
    let e = first(&format!(
        r#""email":"a@region.se","host":false,"coHost":true,"orgId":"{WEBEX_ORG}""#
    ));
    assert_eq!(
        e.kind,
        EventKind::ParticipantJoined {
            role: Some(Role::Chair),
            via_lobby: None
        }
    );
    assert_eq!(e.actor.kind, Some(ActorKind::Internal));
    let e = first(r#""email":"b@x.se","orgId":"other""#);
    assert_eq!(e.actor.kind, Some(ActorKind::External));
    let e = first(r#""displayName":"Ring","devices":[{"audioType":"pstn","phoneNumber":"+4670"}]"#);
    assert_eq!(e.actor.kind, Some(ActorKind::Phone));
    assert_eq!(e.actor.id, "+4670");
}

#[test]
fn webhook_times_fall_back_to_created() {
    let line = r#"{"id":"h9","resource":"meetingParticipants","event":"left","created":"2024-05-02T09:29:00.000Z","data":{"meetingId":"m","email":"a@region.se","leftTime":"1970-01-01T00:00:00.000Z"}}"#;
    let e = &events(&read(Format::Webex, line.as_bytes()))[0];
    assert_eq!(e.kind, EventKind::ParticipantLeft);
    assert_eq!(e.time.to_string(), "2024-05-02T09:29:00Z");
    let line = r#"{"id":"h9","resource":"meetingParticipants","event":"left","data":{"email":"a@region.se"}}"#;
    assert!(
        rejected(&read(Format::Webex, line.as_bytes()))[0]
            .1
            .contains("meetingId")
    );
}

#[test]
fn a_recording_of_any_length_is_read_and_never_panics() {
    let text = String::from_utf8(fixture("webex/recordings.json")).unwrap();
    assert!(text.contains("\"durationSeconds\": 600"));
    for (value, stopped) in [
        ("600", true),
        ("1e300", false),
        ("18446744073709551616", false),
        ("-5", false),
        ("0", false),
        ("\"600\"", false),
    ] {
        let data = text.replace(
            "\"durationSeconds\": 600",
            &format!("\"durationSeconds\": {value}"),
        );
        let out = read(Format::Webex, data.as_bytes());
        let kinds: Vec<_> = events(&out).iter().map(|e| e.kind.clone()).collect();
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, EventKind::RecordingStarted { .. })),
            "{value}: {kinds:?}"
        );
        assert_eq!(
            kinds
                .iter()
                .any(|k| matches!(k, EventKind::RecordingStopped)),
            stopped,
            "{value}: {kinds:?}"
        );
        assert!(rejected(&out).is_empty(), "{value}");
    }
}
