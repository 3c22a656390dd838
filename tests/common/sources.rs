//! Helpers for the `sources_*` integration tests: run an adapter over a fixture and compare.

use std::path::{Path, PathBuf};

use std::collections::{BTreeMap, HashSet};

use motesvakt::config::SensitivitySettings;
use motesvakt::detect::Confidence;
use motesvakt::event::Event;
use motesvakt::meeting::{MeetingKey, MeetingView, Observation, SourceKey};
use motesvakt::sources::{Format, Item, Position, RecordKey, SourceSettings};

/// What an adapter emitted for one record, in a comparable form. Chat text is kept in the
/// events for comparison but never printed by the helpers.
#[derive(Debug)]
pub enum Out {
    Event(Box<Event>),
    Unmapped(String),
    Field(String),
    Rejected(String),
    Tenant(String, bool),
}

/// The organisation of the fixtures.
pub const TENANT: &str = "7c9a0f31-5b1e-4d2a-9c3e-1f2a3b4c5d6e";
pub const WEBEX_ORG: &str = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9yZWdpb24tb3du";

pub fn settings() -> SourceSettings {
    SourceSettings {
        internal_domains: vec!["region.se".into()],
        tenant_ids: vec![TENANT.into()],
        webex_org_ids: vec![WEBEX_ORG.into()],
        internal_networks: vec!["10.0.0.0/8".parse().unwrap(), "fd00::/8".parse().unwrap()],
        ..SourceSettings::default()
    }
}

pub fn fixture_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sources")
        .join(rel)
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs `format`'s adapter over `data`: each item with its record's line and key.
pub fn read_keyed(
    format: Format,
    settings: &SourceSettings,
    data: &[u8],
) -> Vec<(Position, RecordKey, Out)> {
    let adapter = format.adapter(settings);
    let mut out = Vec::new();
    // A small buffer exercises reads that end mid-record.
    let mut input = std::io::BufReader::with_capacity(7, data);
    adapter
        .read(&mut input, &mut |record| {
            let key = record.key();
            for item in record.items {
                out.push((
                    record.pos,
                    key,
                    match item {
                        Item::Event(e) => Out::Event(e),
                        Item::Unmapped(s) => Out::Unmapped(s),
                        Item::UnmappedField(s) => Out::Field(s),
                        Item::Rejected(s) => Out::Rejected(s),
                        Item::Tenant { id, own } => Out::Tenant(id, own),
                    },
                ))
            }
            std::ops::ControlFlow::Continue(())
        })
        .expect("no I/O error");
    out
}

/// Runs `format`'s adapter over `data`.
pub fn read_with(format: Format, settings: &SourceSettings, data: &[u8]) -> Vec<(u64, Out)> {
    read_keyed(format, settings, data)
        .into_iter()
        .map(|(pos, _, o)| (pos.line, o))
        .collect()
}

/// What the rules see of `data`: the adapter's events deduplicated on their source keys (as the
/// store does), grouped per meeting and put through the meeting view's pairing, in time order.
/// The second value is how many events were duplicates.
pub fn judged_with(format: Format, settings: &SourceSettings, data: &[u8]) -> (Vec<Event>, usize) {
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let mut meetings: BTreeMap<MeetingKey, Vec<Observation>> = BTreeMap::new();
    let mut last: Option<u64> = None;
    let mut index = 0u16;
    for (pos, key, out) in read_keyed(format, settings, data) {
        if last != Some(pos.start) {
            last = Some(pos.start);
            index = 0;
        }
        let Out::Event(e) = out else { continue };
        let source = SourceKey::new(key, index);
        index += 1;
        if !seen.insert(source) {
            duplicates += 1;
            continue;
        }
        let obs = Observation {
            key: source,
            event: *e,
            findings: vec![],
            signals: vec![],
            context: Default::default(),
        };
        meetings.entry(obs.meeting_key()).or_default().push(obs);
    }
    let mut events = Vec::new();
    for (key, obs) in meetings {
        let view = MeetingView::new(
            key,
            obs,
            Confidence::Medium,
            &SensitivitySettings::default(),
        );
        events.extend(view.observations.into_iter().map(|o| o.event));
    }
    (events, duplicates)
}

/// [`judged_with`] with the fixtures' settings.
pub fn judged(format: Format, data: &[u8]) -> Vec<Event> {
    judged_with(format, &settings(), data).0
}

pub fn read(format: Format, data: &[u8]) -> Vec<(u64, Out)> {
    read_with(format, &settings(), data)
}

pub fn events(out: &[(u64, Out)]) -> Vec<Event> {
    out.iter()
        .filter_map(|(_, o)| match o {
            Out::Event(e) => Some((**e).clone()),
            _ => None,
        })
        .collect()
}

pub fn unmapped(out: &[(u64, Out)]) -> Vec<(u64, String)> {
    out.iter()
        .filter_map(|(l, o)| match o {
            Out::Unmapped(s) => Some((*l, s.clone())),
            _ => None,
        })
        .collect()
}

pub fn fields(out: &[(u64, Out)]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, o)| match o {
            Out::Field(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub fn rejected(out: &[(u64, Out)]) -> Vec<(u64, String)> {
    out.iter()
        .filter_map(|(l, o)| match o {
            Out::Rejected(s) => Some((*l, s.clone())),
            _ => None,
        })
        .collect()
}

/// The events of a native NDJSON fixture.
pub fn native(rel: &str) -> Vec<Event> {
    let out = read(Format::Native, &fixture(rel));
    assert!(rejected(&out).is_empty(), "{rel}: {:?}", rejected(&out));
    events(&out)
}

/// A line per event without chat text, for comparisons whose failure output is printed.
pub fn describe(e: &Event) -> String {
    let mut v = serde_json::to_value(e).unwrap();
    if let Some(t) = v.get_mut("text") {
        *t = serde_json::Value::String(format!(
            "<{} chars>",
            t.as_str().unwrap_or("").chars().count()
        ));
    }
    v.to_string()
}

/// Asserts that two event lists hold the same events in any order, without printing chat text.
pub fn assert_same_events(got: &[Event], want: &[Event], what: &str) {
    let mut g: Vec<String> = got.iter().map(describe).collect();
    let mut w: Vec<String> = want.iter().map(describe).collect();
    g.sort();
    w.sort();
    assert_eq!(g, w, "{what}: events differ (chat text hidden)");
    // The texts themselves, compared without printing them.
    let texts = |l: &[Event]| {
        let mut t: Vec<(String, String)> = l
            .iter()
            .filter_map(|e| match &e.kind {
                motesvakt::event::EventKind::ChatMessage { text, .. } => {
                    Some((e.time.to_string(), text.clone()))
                }
                _ => None,
            })
            .collect();
        t.sort();
        t
    };
    assert!(texts(got) == texts(want), "{what}: chat texts differ");
}

/// The shared samples folder, or `None` (after saying so) when it is not there.
pub fn shared_formats() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/formats");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: ../shared/formats not found");
        None
    }
}
