//! Every published sample in ../shared/formats/ is recognised by content and read without a
//! rejected record. Only counts are printed, never record content.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use motesvakt::sources::Format;

/// The format each sample folder holds.
fn expected(rel: &str) -> Format {
    if rel.starts_with("zoom/") {
        Format::Zoom
    } else if rel.starts_with("pexip/") {
        Format::Pexip
    } else if rel.starts_with("webex/") {
        Format::Webex
    } else if rel.starts_with("teams/graph/") {
        Format::TeamsGraph
    } else if rel.starts_with("teams/") {
        Format::TeamsAuditJson
    } else {
        panic!("a sample in an unknown folder: {rel}")
    }
}

fn samples(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            samples(&path, base, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "ndjson" | "csv")
        ) {
            out.push(
                path.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn every_shared_sample_is_sniffed_and_read_without_rejections() {
    let Some(dir) = shared_formats() else {
        return;
    };
    let mut files = Vec::new();
    samples(&dir, &dir, &mut files);
    files.sort();
    assert!(files.len() >= 20, "found only {} samples", files.len());
    let mut per_format: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for rel in &files {
        let data = std::fs::read(dir.join(rel)).unwrap();
        let want = expected(rel);
        assert_eq!(
            Format::sniff(&data[..data.len().min(64 * 1024)]),
            Some(want),
            "{rel}"
        );
        let out = read(want, &data);
        let rej = rejected(&out);
        assert!(rej.is_empty(), "{rel}: {rej:?}");
        let c = per_format.entry(want.name()).or_default();
        c[0] += 1;
        c[1] += events(&out).len();
        c[2] += unmapped(&out).len();
        c[3] += fields(&out).len();
        println!(
            "{rel}: {} events, {} unmapped, {} unmapped fields",
            events(&out).len(),
            unmapped(&out).len(),
            fields(&out).len()
        );
    }
    for (format, [n, ev, un, f]) in &per_format {
        println!("{format}: {n} files, {ev} events, {un} unmapped, {f} unmapped fields");
    }
    // The samples that hold meeting records give events.
    for format in ["zoom", "pexip", "teams-graph"] {
        assert!(per_format[format][1] > 0, "{format} gave no event");
    }
}

#[test]
fn zoom_meeting_sample_maps_its_meeting_events() {
    let Some(dir) = shared_formats() else {
        return;
    };
    let out = read(
        Format::Zoom,
        &std::fs::read(dir.join("zoom/elastic-test-meeting.json")).unwrap(),
    );
    let mut types: Vec<&str> = Vec::new();
    let ev = events(&out);
    for e in &ev {
        types.push(e.kind.type_name());
    }
    for t in [
        "meeting_started",
        "participant_joined",
        "participant_left",
        "screen_share_started",
        "screen_share_stopped",
    ] {
        assert!(types.contains(&t), "{t} missing: {types:?}");
    }
    // `id` is a number in one record and a string in another: the meeting is the uuid.
    assert!(ev.iter().all(|e| !e.meeting.is_empty()));
    // Elastic dropped event_ts, so meeting.ended (which has no end_time) has no time at all.
    assert!(
        unmapped(&out)
            .iter()
            .any(|(_, u)| u == "event meeting.ended (no time)")
    );
}

#[test]
fn graph_samples_keep_their_quirks_readable() {
    let Some(dir) = shared_formats() else {
        return;
    };
    let graph = |f: &str| {
        read(
            Format::TeamsGraph,
            &std::fs::read(dir.join("teams/graph").join(f)).unwrap(),
        )
    };
    // createdDateTime without the `T`.
    let ev = events(&graph("chatmessage-event-callstarted.json"));
    assert_eq!(ev[0].time.to_string(), "2021-03-17T06:47:05.123Z");
    // Channel message: chatId null, the channel names the meeting.
    let ev = events(&graph("chatmessage-event-callended.json"));
    assert_eq!(
        ev[0].meeting,
        "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2"
    );
    // An anonymous guest leaving.
    let ev = events(&graph("chatmessage-event-membersleft.json"));
    assert_eq!(
        ev[0].actor.kind,
        Some(motesvakt::event::ActorKind::Anonymous)
    );
    // A deleted message.
    let ev = events(&graph("chatmessage-deleted.excerpt.json"));
    assert_eq!(ev[0].kind.type_name(), "chat_message_deleted");
    // The file attachment.
    let ev = events(&graph("chatmessage-attachment-reference-file.json"));
    assert!(ev.iter().any(|e| e.kind.type_name() == "file_shared"));
    // unknownFutureValue system message: unmapped, not rejected.
    // (A text message, an image-only HTML message without text, and the system message.)
    let out = graph("chat-list-messages-response.json");
    assert_eq!(events(&out).len(), 1);
    assert_eq!(unmapped(&out).len(), 2);
}
