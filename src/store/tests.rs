use jiff::Timestamp;
use rusqlite::Connection;

use super::*;
use crate::event::{Actor, Event, EventKind, Platform};
use crate::incident::{Evidence, Incident, Outcome, Routine, Severity};
use crate::meeting::{MeetingKey, Observation, SourceKey};
use crate::sources::RecordKey;

fn incident(severity: Severity) -> Incident {
    Incident {
        id: "abc".into(),
        rule: "recording-video".into(),
        severity,
        platform: Platform::Teams,
        meeting: "m".into(),
        time: "2024-01-01T00:00:00Z".parse().unwrap(),
        actor: Actor::new("a@b.se"),
        profile: "halland".into(),
        routine: Routine {
            file: "f".into(),
            section: "s".into(),
            profile_file: "p".into(),
        },
        summary: "x".into(),
        evidence: Evidence::default(),
    }
}

fn obs(n: u8, meeting: &str) -> Observation {
    Observation {
        key: SourceKey::new(RecordKey::from_bytes([n; 16]), 0),
        event: Event {
            time: "2024-01-01T00:00:00Z".parse().unwrap(),
            platform: Platform::Teams,
            meeting: meeting.into(),
            actor: Actor::new("a"),
            kind: EventKind::ParticipantLeft,
        },
        findings: vec![],
        signals: vec![],
        context: Default::default(),
    }
}

fn key(id: &str) -> MeetingKey {
    MeetingKey {
        platform: Platform::Teams,
        id: id.into(),
    }
}

#[test]
fn migrates_a_new_file_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the database is readable by its owner only");
}

#[test]
fn a_schema_2_database_keeps_its_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.execute_batch(MIGRATIONS[1]).unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    let body = serde_json::to_string(&incident(Severity::High)).unwrap();
    conn.execute(
        "INSERT INTO incidents VALUES ('abc', 'recording-video', 'high', 'teams', 'm',
         '2024-01-01T00:00:00.5Z', '{}', 'halland', 'f', 's', 'x', ?1, 't', 't')",
        [body],
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let listed = store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    let since = IncidentFilter {
        since: Some("2024-01-01T00:00:01Z".parse().unwrap()),
        ..IncidentFilter::default()
    };
    assert!(
        store.incidents(&since).unwrap().is_empty(),
        "time_us backfilled"
    );
}

#[test]
fn refuses_a_newer_schema_and_a_non_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).err().unwrap().to_string();
    assert!(err.contains("schema version 99"), "{err}");
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
    let err = Store::open(&junk).err().unwrap().to_string();
    assert!(err.contains("junk.sqlite"), "{err}");
}

#[test]
fn incidents_are_the_latest_judgement_with_history() {
    let store = Store::in_memory().unwrap();
    let now = Timestamp::now();
    let tx = store.transaction().unwrap();
    let r = |s| tx.record_incident(&incident(s), now, 1).unwrap();
    assert_eq!(r(Severity::Info), Outcome::New);
    assert_eq!(r(Severity::Info), Outcome::Known);
    assert_eq!(
        r(Severity::High),
        Outcome::Raised {
            from: Severity::Info
        }
    );
    assert_eq!(
        r(Severity::Low),
        Outcome::Lowered {
            from: Severity::High
        }
    );
    tx.withdraw_incident(&incident(Severity::Low), now, 1)
        .unwrap();
    assert!(
        tx.current_incidents_of(Platform::Teams, &["m".into()])
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        r(Severity::Medium),
        Outcome::New,
        "seen again after a withdrawal"
    );
    tx.commit().unwrap();
    let listed = store.incidents(&IncidentFilter::default()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].incident.severity, Severity::Medium);
    let changes: Vec<String> = store
        .incident_history("abc")
        .unwrap()
        .into_iter()
        .map(|(c, _, to)| format!("{c} {to}"))
        .collect();
    assert_eq!(
        changes,
        [
            "new info",
            "raised high",
            "lowered low",
            "withdrawn low",
            "new medium"
        ]
    );
    let high = IncidentFilter {
        min_severity: Some(Severity::High),
        ..IncidentFilter::default()
    };
    assert!(store.incidents(&high).unwrap().is_empty());
}

#[test]
fn a_transaction_not_committed_leaves_nothing() {
    let store = Store::in_memory().unwrap();
    {
        let tx = store.transaction().unwrap();
        tx.append_chunk(&key("m"), &[(obs(1, "m").key, Some(&obs(1, "m")))])
            .unwrap();
        tx.mark_pending(&key("m"), i64::MIN).unwrap();
        // Dropped: an error path, a panic, a kill.
    }
    let tx = store.transaction().unwrap();
    assert!(!tx.has_chunks().unwrap());
    assert!(tx.due(0, 10).unwrap().is_empty());
    // A second transaction while one is open is an error, not a silent nesting.
    assert!(store.transaction().is_err());
}

#[test]
fn observations_are_kept_by_source_key_the_latest_version_winning() {
    let store = Store::in_memory().unwrap();
    let tx = store.transaction().unwrap();
    let a = obs(1, "m");
    let b = obs(2, "m");
    tx.append_chunk(&key("m"), &[(a.key, Some(&a)), (b.key, Some(&b))])
        .unwrap();
    // The same record read again, and once more under other settings.
    tx.append_chunk(&key("m"), &[(a.key, Some(&a))]).unwrap();
    let mut changed = obs(1, "m");
    changed.event.actor = Actor::new("b");
    tx.append_chunk(&key("m"), &[(changed.key, Some(&changed))])
        .unwrap();
    let loaded = tx.load_meeting(&key("m")).unwrap();
    assert_eq!(loaded.chunks, 3);
    assert_eq!(loaded.duplicates, 2);
    assert_eq!(loaded.changed, 1);
    assert_eq!(loaded.observations.len(), 2);
    let back = loaded.observations.iter().find(|o| o.key == a.key).unwrap();
    assert_eq!(back.event.actor.id, "b", "the latest version wins");
    // A tombstone forgets one; compaction keeps what is left in one chunk.
    tx.append_chunk(&key("m"), &[(b.key, None)]).unwrap();
    let loaded = tx.load_meeting(&key("m")).unwrap();
    assert_eq!(loaded.observations, vec![changed.clone()]);
    tx.rewrite_meeting(&key("m"), &loaded.observations).unwrap();
    let again = tx.load_meeting(&key("m")).unwrap();
    assert_eq!((again.chunks, again.duplicates), (1, 0));
    assert_eq!(again.observations, vec![changed]);
    assert!(
        tx.load_meeting(&key("other"))
            .unwrap()
            .observations
            .is_empty()
    );
}

#[test]
fn an_alias_goes_to_the_smallest_meeting_id_whatever_the_order() {
    for order in [["m1", "m2"], ["m2", "m1"]] {
        let store = Store::in_memory().unwrap();
        let tx = store.transaction().unwrap();
        let chat = "19:meeting_x@thread.v2";
        for m in order {
            tx.add_alias(&key(m), chat).unwrap();
        }
        assert_eq!(tx.canonical(&key(chat)).unwrap(), key("m1"));
        assert_eq!(tx.aliases(&key("m1")).unwrap(), [chat]);
        assert!(tx.aliases(&key("m2")).unwrap().is_empty());
        assert!(
            tx.add_alias(&key("m1"), chat).unwrap().is_empty(),
            "no change"
        );
        assert!(
            tx.add_alias(&key("m1"), "m1").unwrap().is_empty(),
            "not its own alias"
        );
    }
}

#[test]
fn pending_meetings_come_due_with_the_clock() {
    let store = Store::in_memory().unwrap();
    let tx = store.transaction().unwrap();
    tx.mark_pending(&key("later"), 2_000).unwrap();
    tx.mark_pending(&key("now"), i64::MIN).unwrap();
    tx.mark_pending(&key("later"), 5_000).unwrap();
    assert_eq!(tx.due(1_000, 10).unwrap(), [key("now")]);
    assert_eq!(
        tx.due(2_000, 10).unwrap(),
        [key("now")],
        "due strictly before the clock"
    );
    assert_eq!(tx.due(2_001, 10).unwrap(), [key("later"), key("now")]);
    assert_eq!(tx.pending_counts(1_000).unwrap(), (1, 1));
    tx.set_due(&key("now"), None).unwrap();
    assert_eq!(tx.due(i64::MAX, 10).unwrap(), [key("later")]);
    assert_eq!(tx.clock().unwrap(), None);
    let t: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
    tx.advance_clock(t).unwrap();
    tx.advance_clock("2023-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(tx.clock().unwrap(), Some(t), "the clock never goes back");
}

#[test]
fn outbox_rows_of_schema_6_become_mail_and_each_channel_is_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        // A database as schema 6 left it, with one mail alert not yet sent.
        let c = Connection::open(&path).unwrap();
        for m in &MIGRATIONS[..6] {
            c.execute_batch(m).unwrap();
        }
        c.execute_batch(
            "PRAGMA user_version = 6;
             INSERT INTO outbox (id, incident, recipient, role, severity, immediate, grp, state,
                 attempts, created_us, next_us)
             VALUES ('a1', 'abc', 'chef@region.se', 'manager', 'high', 1, 'g', 'pending', 0, 1, 1);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let tx = store.transaction().unwrap();
    let rows = tx.outbox(OutboxFilter::All).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].channel.as_str(), rows[0].change.as_str()),
        ("mail", "new")
    );
    // A webhook and a SIEM row for the same incident: neither is a mail, and each is due,
    // delivered and failed on its own.
    let row = |id: &str, channel: crate::alert::Channel| crate::alert::Alert {
        id: id.into(),
        incident: "abc".into(),
        recipient: channel.as_str().into(),
        role: crate::alert::Role::ItSecurity,
        severity: Severity::High,
        immediate: true,
        group: channel.as_str().into(),
        channel,
        change: "raised",
        severity_from: Some(Severity::Medium),
    };
    use crate::alert::Channel;
    tx.enqueue_alerts(
        &[row("w1", Channel::Webhook), row("s1", Channel::SiemFile)],
        2,
    )
    .unwrap();
    let mails = tx.due_mails(10, 0, true).unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].incidents, ["abc"]);
    let hooks = tx.due_events(Channel::Webhook, 10, false).unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        (hooks[0].id.as_str(), hooks[0].change.as_str()),
        ("w1", "raised")
    );
    assert_eq!(hooks[0].severity_from.as_deref(), Some("medium"));
    tx.mark_event("w1", 11, Some(("HTTP 503", 100, false)))
        .unwrap();
    assert!(
        tx.due_events(Channel::Webhook, 50, false)
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.due_events(Channel::Webhook, 50, true).unwrap().len(), 1);
    tx.mark_event("s1", 11, None).unwrap();
    assert!(
        tx.due_events(Channel::SiemFile, 50, true)
            .unwrap()
            .is_empty()
    );
    // Marking a mail touches no other channel's row.
    tx.mark_mail_sent(&mails[0].mail, 12).unwrap();
    let states: Vec<(String, String, i64)> = tx
        .outbox(OutboxFilter::All)
        .unwrap()
        .into_iter()
        .map(|r| (r.channel, r.state, r.attempts))
        .collect();
    assert_eq!(
        states,
        [
            ("mail".to_string(), "sent".to_string(), 1),
            ("siem-file".to_string(), "sent".to_string(), 1),
            ("webhook".to_string(), "pending".to_string(), 1),
        ]
    );
}
