//! Pexip event sink and history adapter: every mapped event, several nodes, record keys that
//! absorb redeliveries and never collapse two events, participant flags paired by the meeting
//! state, time forms, malformed records.

mod common;

use common::*;
use motesvakt::event::{ActorKind, EventKind, Media, Role};
use motesvakt::sources::{Format, SourceSettings};

#[test]
fn scenario_matches_native() {
    assert_same_events(
        &judged(Format::Pexip, &fixture("pexip/scenario.ndjson")),
        &native("pexip/scenario.native.ndjson"),
        "pexip scenario",
    );
}

#[test]
fn scenario_reports_duplicates_and_bad_lines() {
    let data = fixture("pexip/scenario.ndjson");
    let out = read(Format::Pexip, &data);
    let un = unmapped(&out);
    assert!(
        un.contains(&(1, "event eventsink_started".into())),
        "{un:?}"
    );
    // Line 9 repeats line 8 (a redelivery): one event, absorbed by its record key.
    assert_eq!(judged_with(Format::Pexip, &settings(), &data).1, 1);
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert_eq!(rej[0].0, 12);
    assert!(rej[0].1.contains("time"), "{rej:?}");
}

#[test]
fn a_file_read_from_the_middle_gives_the_same_pairing() {
    let data = fixture("pexip/scenario.ndjson");
    let whole = judged(Format::Pexip, &data);
    let text = String::from_utf8(data).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for cut in 1..lines.len() {
        // Each half read by the adapter on its own, in either order, judged together.
        let (a, b) = lines.split_at(cut);
        let both = format!("{}\n{}\n", b.join("\n"), a.join("\n"));
        assert_same_events(
            &judged(Format::Pexip, both.as_bytes()),
            &whole,
            &format!("cut at line {cut}"),
        );
    }
}

fn sink(lines: &[&str]) -> Vec<(u64, Out)> {
    read(Format::Pexip, lines.join("\n").as_bytes())
}

const CONNECT: &str = r#"{"node":"10.1.0.11","seq":SEQ,"version":1,"time":1714640430.5,"event":"participant_connected","data":{"uuid":"p1","conference":"vmr","source_alias":"sip:anna@region.se","display_name":"Anna","role":"chair","service_type":"conference","remote_address":"10.2.3.4","call_direction":"in","is_presenting":false,"is_streaming":false}}"#;

#[test]
fn a_redelivery_is_one_event_and_two_events_never_collapse() {
    let started = |t: &str| {
        format!(
            r#"{{"node":"10.1.0.11","seq":1,"version":2,"time":{t},"event":"eventsink_started","data":{{}}}}"#
        )
    };
    let c2 = CONNECT.replace("SEQ", "2");
    // After the sink restarted, seq 2 is another event (another time) on the same node.
    let after_restart = c2.replace("1714640430.5", "1714641430.5");
    let lines = [
        started("1714640000.1"),
        c2.clone(),
        c2.clone(), // a retry: the same body
        started("1714640900.7"),
        after_restart,
    ];
    let data = lines.join("\n");
    let (events, duplicates) = judged_with(Format::Pexip, &settings(), data.as_bytes());
    // The retried record's two events (the join and the participant's state) are known.
    assert_eq!(duplicates, 2);
    let joins = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ParticipantJoined { .. }))
        .count();
    assert_eq!(joins, 2);
}

#[test]
fn epoch_float_times_and_internal_networks() {
    let out = sink(&[&CONNECT.replace("SEQ", "1")]);
    let e = &events(&out)[0];
    assert_eq!(e.time.to_string(), "2024-05-02T09:00:30.5Z");
    assert_eq!(e.actor.id, "anna@region.se");
    assert_eq!(e.actor.kind, Some(ActorKind::Internal));
    assert_eq!(
        e.kind,
        EventKind::ParticipantJoined {
            role: Some(Role::Chair),
            via_lobby: None
        }
    );
    // Without internal_networks the engine decides by domain.
    let out = read_with(
        Format::Pexip,
        &SourceSettings::default(),
        CONNECT.replace("SEQ", "1").as_bytes(),
    );
    assert_eq!(events(&out)[0].actor.kind, None);
    // IPv6 and phone aliases.
    let v6 = CONNECT.replace("SEQ", "1").replace("10.2.3.4", "fd00::17");
    assert_eq!(
        events(&sink(&[&v6]))[0].actor.kind,
        Some(ActorKind::Internal)
    );
    let phone = CONNECT
        .replace("SEQ", "1")
        .replace("sip:anna@region.se", "tel:+46700000000")
        .replace("10.2.3.4", "198.51.100.7");
    assert_eq!(
        events(&sink(&[&phone]))[0].actor.kind,
        Some(ActorKind::Phone)
    );
}

#[test]
fn streaming_participant_is_a_video_recording() {
    let up = |seq: u32, streaming: bool| {
        format!(
            r#"{{"node":"n","seq":{seq},"version":2,"time":171464100{seq}.0,"event":"participant_updated","data":{{"uuid":"r","conference":"vmr","destination_alias":"rtmp://rec","source_alias":"vmr@region.se","call_direction":"out","role":"guest","service_type":"conference","is_streaming":{streaming}}}}}"#
        )
    };
    // Each update is the participant's state; the meeting state turns the changes into a
    // recording, whichever order the records were read in.
    let out = sink(&[&up(1, true), &up(2, true), &up(3, false)]);
    assert!(events(&out).iter().all(|e| matches!(
        e.kind,
        EventKind::ParticipantState {
            streaming: Some(_),
            ..
        }
    )));
    for order in [[1, 2, 3], [3, 2, 1], [2, 3, 1]] {
        let lines: Vec<String> = order.iter().map(|&s| up(s, s != 3)).collect();
        let ev = judged(Format::Pexip, lines.join("\n").as_bytes());
        assert_eq!(ev.len(), 2, "{order:?}");
        assert_eq!(
            ev[0].kind,
            EventKind::RecordingStarted {
                media: Media::Video
            }
        );
        assert_eq!(ev[0].actor.id, "rtmp://rec");
        assert_eq!(ev[1].kind, EventKind::RecordingStopped);
    }
}

#[test]
fn bulk_wrapped_events() {
    let bulk = format!(
        r#"{{"event":"eventsink_bulk","data":[{},{}]}}"#,
        CONNECT.replace("SEQ", "1"),
        r#"{"node":"10.1.0.11","seq":2,"version":1,"time":1714642170.0,"event":"participant_disconnected","data":{"uuid":"p1","conference":"vmr","source_alias":"sip:anna@region.se","role":"chair"}}"#
    );
    let out = sink(&[&bulk]);
    assert!(out.iter().all(|(l, _)| *l == 1));
    let ev = judged(Format::Pexip, bulk.as_bytes());
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1].kind, EventKind::ParticipantLeft);
}

#[test]
fn history_pages() {
    let out = read(Format::Pexip, &fixture("pexip/history-participants.json"));
    let ev = events(&out);
    assert_eq!(
        ev.len(),
        3,
        "two joins, one leave (the second has no end_time)"
    );
    assert_eq!(ev[0].time.to_string(), "2024-05-02T09:00:30Z");
    assert_eq!(ev[1].time.to_string(), "2024-05-02T09:29:30Z");
    assert_eq!(ev[0].actor.kind, Some(ActorKind::Internal));
    assert_eq!(
        ev[2].kind,
        EventKind::ParticipantJoined {
            role: Some(Role::Guest),
            via_lobby: None
        }
    );
    assert!(rejected(&out).is_empty());
    assert_eq!(
        Format::sniff(&fixture("pexip/history-participants.json")),
        Some(Format::Pexip)
    );
}

#[test]
fn malformed_records() {
    let out = sink(&[
        r#"{"node":"n","seq":1,"time":1714641000.0,"event":"participant_connected","data":{"uuid":"x"}}"#,
        r#"{"node":"n","seq":2,"time":1714641000.0,"event":"conference_started","data":{}}"#,
        r#"{"something":"else"}"#,
        r#"{"node":"n","seq":3,"time":1714641000.0,"event":"participant_media_stream_window","data":{}}"#,
    ]);
    let rej = rejected(&out);
    assert_eq!(rej.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3]);
    assert!(rej[0].1.contains("data.name"), "{rej:?}");
    assert_eq!(
        unmapped(&out),
        [
            (
                1,
                "event participant_connected (no conference or participant uuid)".to_string()
            ),
            (4, "event participant_media_stream_window".to_string())
        ]
    );
}

#[test]
fn sniffed_by_content() {
    assert_eq!(
        Format::sniff(&fixture("pexip/scenario.ndjson")),
        Some(Format::Pexip)
    );
}
