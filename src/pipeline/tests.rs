//! The pipeline's promises: a run stopped between its commits is completed by the next one,
//! the clock alone settles meetings left open, and the incidents are the latest judgement.

use std::ops::ControlFlow;
use std::path::Path;

use jiff::Timestamp;

use super::*;
use crate::config::{Config, Origin};
use crate::detect::{Detector, HashKey};
use crate::sources::{Adapter, native::Native};
use crate::store::Store;

fn config() -> Config {
    Config::parse(
        "internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\", \"halland\"]\n",
        Origin::BuiltIn,
    )
    .unwrap()
}

fn detector(config: &Config) -> Detector {
    Detector::new(&config.detect, HashKey::from_bytes([7; 32])).unwrap()
}

fn line(meeting: &str, time: &str, actor: &str, ty: &str, extra: &str) -> String {
    format!(
        r#"{{"time":"{time}","platform":"teams","meeting":"{meeting}","type":"{ty}","actor":{{"id":"{actor}"}}{extra}}}"#
    )
}

/// Takes `lines` into the pipeline's current batch, storing nothing.
fn take_lines(pipeline: &mut Pipeline<'_>, lines: &[String]) {
    let data = lines.join("\n");
    let mut counts = FormatCounts::default();
    Native
        .read(&mut data.as_bytes(), &mut |record| {
            pipeline.observe(Path::new("t"), record, &mut counts, &mut |d| {
                panic!("unexpected diagnostic {d}")
            });
            ControlFlow::Continue(())
        })
        .unwrap();
}

/// Observes `lines` in one transaction and commits.
fn observe(store: &Store, pipeline: &mut Pipeline<'_>, lines: &[String]) {
    take_lines(pipeline, lines);
    let tx = store.transaction().unwrap();
    pipeline.store_batch(&tx).unwrap();
    tx.commit().unwrap();
}

/// Settles everything due at the store's clock; returns `rule meeting severity status`.
fn settle(store: &Store, pipeline: &mut Pipeline<'_>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let tx = store.transaction().unwrap();
        let clock = tx.clock().unwrap().unwrap();
        let s = pipeline.settle(&tx, clock, Timestamp::now(), 2).unwrap();
        tx.commit().unwrap();
        out.extend(s.reported.iter().map(|r| {
            format!(
                "{} {} {} {}",
                r.incident.rule,
                r.incident.meeting,
                r.incident.severity,
                r.outcome.as_str()
            )
        }));
        if !s.more {
            break;
        }
    }
    out.sort();
    out
}

fn current(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .incidents(&crate::store::IncidentFilter::default())
        .unwrap()
        .into_iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s.incident.id, s.incident.rule, s.incident.meeting, s.incident.severity
            )
        })
        .collect();
    v.sort();
    v
}

fn meeting_lines() -> Vec<String> {
    vec![
        line(
            "m1",
            "2024-05-02T10:00:00Z",
            "anna@region.se",
            "meeting_started",
            "",
        ),
        line(
            "m1",
            "2024-05-02T10:01:00Z",
            "anna@region.se",
            "recording_started",
            r#","media":"video""#,
        ),
        line(
            "m1",
            "2024-05-02T10:20:00Z",
            "anna@region.se",
            "chat_message",
            r#","text":"pnr 19861208-2399 inför remissen""#,
        ),
        line(
            "m1",
            "2024-05-02T10:30:00Z",
            "anna@region.se",
            "meeting_ended",
            "",
        ),
    ]
}

/// The incidents of one uninterrupted run over [`meeting_lines`], in a database in `dir`.
fn reference(config: &Config, d: &Detector, dir: &Path) -> Vec<String> {
    let store = Store::open(&dir.join("ref.sqlite")).unwrap();
    let mut p = Pipeline::new(config, d, &store).unwrap();
    observe(&store, &mut p, &meeting_lines());
    settle(&store, &mut p);
    let reference = current(&store);
    assert!(reference.iter().any(|l| l.contains("chat-patient-data")));
    reference
}

#[test]
fn a_run_stopped_after_observing_is_completed_by_the_next_run() {
    let config = config();
    let d = detector(&config);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");

    let reference = reference(&config, &d, dir.path());

    // The observations are committed, then the process dies before settling.
    {
        let store = Store::open(&db).unwrap();
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        observe(&store, &mut p, &meeting_lines());
    }
    // A process that dies in the middle of settling: its transaction is never committed.
    {
        let store = Store::open(&db).unwrap();
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        let tx = store.transaction().unwrap();
        let clock = tx.clock().unwrap().unwrap();
        let s = p.settle(&tx, clock, Timestamp::now(), 100).unwrap();
        assert!(!s.reported.is_empty());
        drop(tx);
    }
    // The next run reads nothing new and still completes the incidents.
    let store = Store::open(&db).unwrap();
    assert!(current(&store).is_empty());
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    let reported = settle(&store, &mut p);
    assert!(reported.iter().all(|r| r.ends_with(" new")), "{reported:?}");
    assert_eq!(current(&store), reference);
}

#[test]
fn the_clock_alone_settles_a_meeting_left_open_and_a_late_end_withdraws_it() {
    let config = config();
    let d = detector(&config);
    let store = Store::in_memory().unwrap();
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    let day1 = vec![
        line(
            "m1",
            "2024-05-02T10:00:00Z",
            "anna@region.se",
            "meeting_started",
            "",
        ),
        line(
            "m1",
            "2024-05-02T10:30:00Z",
            "anna@region.se",
            "participant_left",
            "",
        ),
    ];
    observe(&store, &mut p, &day1);
    assert_eq!(settle(&store, &mut p), Vec::<String>::new());
    // Day 2 is about another meeting; m1 gets nothing new, but its timeout has passed.
    let day2 = vec![line(
        "m2",
        "2024-05-03T09:00:00Z",
        "bo@region.se",
        "participant_left",
        "",
    )];
    observe(&store, &mut p, &day2);
    assert_eq!(
        settle(&store, &mut p),
        ["meeting-not-ended m1 low new"],
        "fired once the clock passed the last event plus the timeout"
    );
    // The end, exported late, by the organiser: the incident no longer holds.
    let end = vec![line(
        "m1",
        "2024-05-02T10:31:00Z",
        "anna@region.se",
        "meeting_ended",
        r#","reason":"ended_by_host""#,
    )];
    observe(&store, &mut p, &end);
    assert_eq!(
        settle(&store, &mut p),
        ["meeting-not-ended m1 low withdrawn"]
    );
    assert!(current(&store).is_empty());
}

#[test]
fn the_subject_raises_a_chat_number_whichever_came_first() {
    let config = config();
    let d = detector(&config);
    let subject = line(
        "m1",
        "2024-05-02T10:00:00Z",
        "anna@region.se",
        "meeting_started",
        r#","subject":"Genomgång patient journal""#,
    );
    let chat = line(
        "m1",
        "2024-05-02T10:05:00Z",
        "anna@region.se",
        "chat_message",
        r#","text":"ok 8612082399""#,
    );
    let mut results = Vec::new();
    for batches in [
        vec![vec![subject.clone(), chat.clone()]],
        vec![vec![subject.clone()], vec![chat.clone()]],
        vec![vec![chat.clone()], vec![subject.clone()]],
    ] {
        let store = Store::in_memory().unwrap();
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        for b in batches {
            observe(&store, &mut p, &b);
            settle(&store, &mut p);
        }
        results.push(current(&store));
    }
    assert!(
        results[0].iter().any(|l| l.contains("chat-patient-data")),
        "{:?}",
        results[0]
    );
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn a_late_record_of_a_pruned_meeting_is_refused_and_withdraws_nothing() {
    let config = config();
    let d = detector(&config);
    // A store on disk, as the service's: meetings are written with every batch.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    // m1 is judged (a number in the chat, a recording), then m2 goes on the next day.
    observe(&store, &mut p, &meeting_lines());
    settle(&store, &mut p);
    let m2 = |time: &str, ty: &str| line("m2", time, "bo@region.se", ty, "");
    observe(
        &store,
        &mut p,
        &[
            m2("2024-05-03T09:00:00Z", "meeting_started"),
            m2("2024-05-03T09:30:00Z", "participant_left"),
        ],
    );
    settle(&store, &mut p);
    let judged = current(&store);
    assert!(judged.iter().any(|l| l.contains("chat-patient-data m1")));

    // The service prunes the state of meetings with no event since the horizon (m1, not m2)
    // and from then on refuses older records of meetings it no longer follows.
    let horizon: Timestamp = "2024-05-03T00:00:00Z".parse().unwrap();
    {
        let tx = store.transaction().unwrap();
        assert_eq!(
            tx.prune_meetings(horizon.as_microsecond(), 1000).unwrap(),
            1
        );
        p.next_run(&tx).unwrap();
        tx.commit().unwrap();
    }
    p.set_horizon(Some(horizon));

    // A late audit record of m1 (its end, which alone would make the meeting look harmless),
    // a late record of m2 from before the horizon (m2 is still followed), and a new meeting.
    observe(
        &store,
        &mut p,
        &[
            line(
                "m1",
                "2024-05-02T10:31:00Z",
                "anna@region.se",
                "meeting_ended",
                r#","reason":"ended_by_host""#,
            ),
            m2("2024-05-02T23:59:00Z", "participant_joined"),
            line(
                "m3",
                "2024-05-03T10:00:00Z",
                "cecilia@region.se",
                "recording_started",
                r#","media":"video""#,
            ),
        ],
    );
    assert_eq!(p.stats.too_late, 1, "only m1's record is refused");
    let reported = settle(&store, &mut p);
    assert!(
        reported.iter().all(|r| !r.contains(" m1 ")),
        "m1 is not judged again on its late record alone: {reported:?}"
    );
    let now = current(&store);
    for l in &judged {
        assert!(now.contains(l), "{l} is still held: {now:?}");
    }
    assert!(
        now.iter().any(|l| l.contains(" m3 ")),
        "a new meeting after the horizon is judged: {now:?}"
    );
}

/// A long chat: `n` messages with a personnummer from each of two people, Bo's last ones after
/// an external participant joined, in `batches` batches in an order that is neither time order
/// nor its reverse, each batch settled as the service does.
fn long_chat(store: &Store, batches: usize, n: usize) -> Vec<crate::incident::Incident> {
    let config = config();
    let d = detector(&config);
    let mut p = Pipeline::new(&config, &d, store).unwrap();
    let at = |i: usize| {
        let t = Timestamp::from_second(1_714_644_000 + i as i64).unwrap();
        t.to_string()
    };
    let mut lines = vec![line("m1", &at(0), "anna@region.se", "meeting_started", "")];
    for i in 0..n {
        for who in ["anna@region.se", "bo@region.se"] {
            lines.push(line(
                "m1",
                &at(10 + 2 * i),
                who,
                "chat_message",
                r#","text":"pnr 19861208-2399 inför remissen""#,
            ));
        }
    }
    lines.push(line(
        "m1",
        &at(2 * n),
        "eve@kommun.se",
        "participant_joined",
        "",
    ));
    lines.push(line(
        "m1",
        &at(3 * n),
        "anna@region.se",
        "meeting_ended",
        "",
    ));
    // Every 7th line, round robin into the batches.
    let mut parts = vec![Vec::new(); batches];
    for (i, l) in lines.into_iter().enumerate() {
        parts[(i * 7) % batches].push(l);
    }
    for part in parts.iter().rev() {
        observe(store, &mut p, part);
        settle(store, &mut p);
    }
    let mut got: Vec<_> = store
        .incidents(&crate::store::IncidentFilter::default())
        .unwrap()
        .into_iter()
        .map(|s| s.incident)
        .collect();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    got
}

#[test]
fn a_long_chat_is_one_incident_per_person_and_the_store_keeps_a_bounded_part_of_it() {
    use crate::incident::{Count, Severity};
    use crate::meeting::chat::CHAT_KEPT;
    let dir = tempfile::tempdir().unwrap();
    let n = 3 * CHAT_KEPT;
    let one = long_chat(&Store::open(&dir.path().join("one.sqlite")).unwrap(), 1, n);
    assert_eq!(one.len(), 2, "{one:?}");
    for i in &one {
        assert_eq!(i.rule, "chat-patient-data");
        assert_eq!(
            i.evidence.count,
            Some(Count {
                n: CHAT_KEPT as u32 + 1,
                at_least: true
            })
        );
        // Both wrote after the external participant joined: critical, dated by the first.
        assert_eq!(i.severity, Severity::Critical);
        assert!(i.evidence.external_present);
        assert!(i.time < i.evidence.last_time.unwrap());
    }
    // However the records are split, into a store on disk or one for this run only.
    let db = dir.path().join("split.sqlite");
    let split = long_chat(&Store::open(&db).unwrap(), 9, n);
    assert_eq!(split, one);
    assert_eq!(long_chat(&Store::temporary().unwrap(), 5, n), one);
    // The store keeps the first and last messages of each person, not all of them.
    let store = Store::open(&db).unwrap();
    let tx = store.transaction().unwrap();
    let key = crate::meeting::MeetingKey {
        platform: crate::event::Platform::Teams,
        id: "m1".into(),
    };
    let kept = tx.load_meeting(&key).unwrap().observations;
    let chats = kept
        .iter()
        .filter(|o| matches!(o.event.kind, EventKind::ChatMessage { .. }))
        .count();
    assert_eq!(chats, 2 * (CHAT_KEPT + 1), "of {} messages", 2 * n);
}

#[test]
fn a_short_chat_is_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let got = long_chat(&Store::open(&dir.path().join("db.sqlite")).unwrap(), 3, 5);
    assert_eq!(got.len(), 2);
    for i in &got {
        assert_eq!(
            i.evidence.count,
            Some(crate::incident::Count {
                n: 5,
                at_least: false
            })
        );
    }
}

#[test]
fn a_run_remembers_incident_hashes_only_for_a_store_that_had_incidents() {
    let config = config();
    let d = detector(&config);
    let store = Store::in_memory().unwrap();

    // A store with no incidents: none can be known already, so none is remembered to tell;
    // the meetings written for are (they may have incidents to withdraw).
    let mut first = Pipeline::new(&config, &d, &store).unwrap();
    observe(&store, &mut first, &meeting_lines());
    let reported = settle(&store, &mut first);
    assert!(!reported.is_empty() && reported.iter().all(|r| r.ends_with(" new")));
    assert!(first.run.incidents.is_empty());
    assert!(!first.wrote_for.is_empty());
    drop(first);

    // The same meeting judged again by a run over a store that has its incidents: they are
    // remembered (counted once as known), the meetings are not needed.
    let mut again = Pipeline::new(&config, &d, &store).unwrap();
    observe(&store, &mut again, &meeting_lines());
    let tx = store.transaction().unwrap();
    let clock = tx.clock().unwrap().unwrap();
    let s = again.settle(&tx, clock, Timestamp::now(), 2).unwrap();
    tx.commit().unwrap();
    assert!(s.reported.is_empty(), "nothing new: {}", s.reported.len());
    assert_eq!(s.known as usize, reported.len());
    assert_eq!(again.run.incidents.len(), reported.len());
    assert!(again.wrote_for.is_empty());
}

/// A database file opened as a batch scan opens it ([`Store::set_bulk_writes`]).
fn bulk_store(dir: &Path, name: &str) -> Store {
    let mut store = Store::open(&dir.join(name)).unwrap();
    store.set_bulk_writes().unwrap();
    store
}

/// Notes that every input was read, then settles everything (see [`settle`]).
fn finish(store: &Store, p: &mut Pipeline<'_>) -> Vec<String> {
    let tx = store.transaction().unwrap();
    p.finish(&tx).unwrap();
    tx.commit().unwrap();
    settle(store, p)
}

/// A batch scan into a database file ([`Store::set_bulk_writes`]) writes every batch's events
/// and the meetings still to judge, as the service does: one killed before judging leaves them
/// in the database, and the next run, whatever its input (none here), judges them and gives
/// what an uninterrupted run gives. A meeting whose end comes in a later scan is judged whole.
#[test]
fn a_bulk_scan_killed_before_judging_is_completed_by_the_next_run_of_any_input() {
    let config = config();
    let d = detector(&config);
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(&config, &d, dir.path());
    let bulk = |name: &str| bulk_store(dir.path(), name);

    // Stopped after its batches were committed, before judging: the meeting's events and its
    // pending mark are in the database.
    {
        let store = bulk("stopped.sqlite");
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        observe(&store, &mut p, &meeting_lines());
        let tx = store.transaction().unwrap();
        assert!(tx.has_chunks().unwrap());
        assert_ne!(tx.pending_counts(i64::MAX).unwrap(), (0, 0));
    }
    let store = bulk("stopped.sqlite");
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    let reported = finish(&store, &mut p);
    assert!(reported.iter().all(|r| r.ends_with(" new")), "{reported:?}");
    assert_eq!(current(&store), reference);
    drop(p);
    drop(store);

    // Two scans, the meeting's end in the second: the second judges the whole meeting.
    let lines = meeting_lines();
    let store = bulk("two.sqlite");
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    observe(&store, &mut p, &lines[..3]);
    finish(&store, &mut p);
    drop(p);
    assert!(store.transaction().unwrap().has_chunks().unwrap());
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    observe(&store, &mut p, &lines[3..]);
    finish(&store, &mut p);
    assert_eq!(current(&store), reference);
}

/// With marks at commit (the batch scan into a database file), a meeting still held in memory
/// is written and marked pending only in the transaction's last step ([`Pipeline::mark_held`]):
/// a scan killed after that commit is completed by the next run of any input, as one that
/// wrote and marked every batch. One stored and judged between two commits is never marked,
/// is written once, and gives the same incidents.
#[test]
fn with_marks_at_commit_every_commit_names_the_meetings_left_to_judge() {
    let config = config();
    let d = detector(&config);
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(&config, &d, dir.path());
    let bulk = |name: &str| bulk_store(dir.path(), name);
    let marks = |tx: &Tx<'_>| tx.due(DUE_NOW + 1, 100).unwrap();

    // Killed after a commit that held the meeting in memory, before judging it.
    {
        let store = bulk("held.sqlite");
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        p.set_marks_at_commit(true);
        take_lines(&mut p, &meeting_lines());
        let tx = store.transaction().unwrap();
        p.store_batch(&tx).unwrap();
        assert!(!tx.has_chunks().unwrap(), "written before the commit");
        assert!(marks(&tx).is_empty(), "marked before the commit");
        p.mark_held(&tx).unwrap();
        assert!(tx.has_chunks().unwrap(), "not written at the commit");
        assert_eq!(marks(&tx).len(), 1);
        tx.commit().unwrap();
    }
    let store = bulk("held.sqlite");
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    let reported = finish(&store, &mut p);
    assert!(!reported.is_empty());
    assert!(reported.iter().all(|r| r.ends_with(" new")), "{reported:?}");
    assert_eq!(current(&store), reference);
    drop(p);
    drop(store);

    // Stored, gone cold and judged from memory in one transaction: no mark written, none
    // left, the same incidents.
    let store = bulk("one.sqlite");
    let mut p = Pipeline::new(&config, &d, &store).unwrap();
    p.set_marks_at_commit(true);
    take_lines(&mut p, &meeting_lines());
    let tx = store.transaction().unwrap();
    p.store_batch(&tx).unwrap();
    // Two more batches (empty) and the meeting is cold.
    p.store_batch(&tx).unwrap();
    p.store_batch(&tx).unwrap();
    let clock = tx.clock().unwrap().unwrap();
    let s = p.settle_cold(&tx, clock, Timestamp::now()).unwrap();
    assert_eq!(s.meetings, 1);
    // Written once, as judging left it.
    assert!(tx.has_chunks().unwrap());
    p.mark_held(&tx).unwrap();
    assert!(marks(&tx).is_empty(), "a mark was left");
    tx.commit().unwrap();
    assert_eq!(current(&store), reference);
    // Nothing is left to judge: the next run finds nothing new.
    let mut again = Pipeline::new(&config, &d, &store).unwrap();
    assert!(settle(&store, &mut again).is_empty());
    assert_eq!(current(&store), reference);
}

/// A meeting with an alias (a Teams meeting and its chat's thread) whose ids have all gone
/// cold is judged from memory with the events of both, like any meeting, not left for the
/// end; a patient number that comes later under the alias has it judged again from the store,
/// and the incidents are those of one batch of everything, filed under the meeting's own id.
/// Whatever the store: one for this run only, and a database file as a batch scan writes it.
#[test]
fn a_meeting_and_its_alias_gone_cold_are_judged_together_and_again_when_more_comes() {
    let config = config();
    let d = detector(&config);
    let dir = tempfile::tempdir().unwrap();
    let thread = "19:meeting_m1@thread.v2";
    let start = vec![
        line(
            "m1",
            "2024-05-02T10:00:00Z",
            "anna@region.se",
            "meeting_started",
            &format!(r#","aliases":["{thread}"]"#),
        ),
        line(
            "m1",
            "2024-05-02T10:01:00Z",
            "anna@region.se",
            "recording_started",
            r#","media":"video""#,
        ),
        line(
            thread,
            "2024-05-02T10:05:00Z",
            "anna@region.se",
            "chat_message",
            r#","text":"Vi börjar om fem minuter""#,
        ),
    ];
    let late = vec![
        line(
            thread,
            "2024-05-02T10:20:00Z",
            "anna@region.se",
            "chat_message",
            r#","text":"pnr 19861208-2399 inför remissen""#,
        ),
        line(
            "m1",
            "2024-05-02T10:30:00Z",
            "anna@region.se",
            "meeting_ended",
            "",
        ),
    ];
    let reference = {
        let store = Store::open(&dir.path().join("ref.sqlite")).unwrap();
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        observe(&store, &mut p, &[start.clone(), late.clone()].concat());
        settle(&store, &mut p);
        current(&store)
    };
    assert!(
        reference
            .iter()
            .any(|l| l.contains("chat-patient-data m1 "))
            && reference.iter().any(|l| l.contains("recording"))
            && !reference.iter().any(|l| l.contains(thread)),
        "{reference:?}"
    );
    // The two batches after `lines` leave every id of the meeting cold.
    let cold = |p: &mut Pipeline<'_>, tx: &Tx<'_>, lines: &[String]| -> Settled {
        take_lines(p, lines);
        for _ in 0..3 {
            p.store_batch(tx).unwrap();
        }
        let clock = tx.clock().unwrap().unwrap();
        p.settle_cold(tx, clock, Timestamp::now()).unwrap()
    };
    for (name, store) in [
        ("one run", Store::temporary().unwrap()),
        ("file", bulk_store(dir.path(), "bulk.sqlite")),
    ] {
        let mut p = Pipeline::new(&config, &d, &store).unwrap();
        p.set_marks_at_commit(!store.is_ephemeral());
        let tx = store.transaction().unwrap();
        let first = cold(&mut p, &tx, &start);
        assert_eq!(first.meetings, 1, "{name}: not judged when cold");
        assert!(tx.has_chunks().unwrap(), "{name}: its events were not kept");
        let judged: Vec<String> = tx
            .current_incidents_of(crate::event::Platform::Teams, &["m1".to_string()])
            .unwrap()
            .iter()
            .map(|i| i.rule.clone())
            .collect();
        assert!(
            judged.iter().any(|r| r.contains("recording")) && judged.len() < reference.len(),
            "{name}: judged when cold: {judged:?}"
        );
        let again = cold(&mut p, &tx, &late);
        assert_eq!(again.meetings, 0, "{name}: counted twice");
        p.mark_held(&tx).unwrap();
        tx.commit().unwrap();
        finish(&store, &mut p);
        assert_eq!(current(&store), reference, "{name}");
    }
}
