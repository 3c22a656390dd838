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
fn a_new_database_has_large_pages_and_an_older_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let page_size = |store: &Store| -> u32 {
        store
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    let autocheckpoint = |store: &Store| -> i64 {
        store
            .conn
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .unwrap()
    };
    let mut new = Store::open(&dir.path().join("new.sqlite")).unwrap();
    assert_eq!(page_size(&new), PAGE_SIZE);
    // A batch scan's log: 64 MiB before its own connection checkpoints, whatever the pages.
    new.set_bulk_writes().unwrap();
    assert_eq!(autocheckpoint(&new) * i64::from(PAGE_SIZE), 64 << 20);
    assert_eq!(page_size(&Store::temporary().unwrap()), PAGE_SIZE);
    // A database an earlier version made, with SQLite's default pages: opened, migrated and
    // written to as before, its pages unchanged.
    let old_path = dir.path().join("old.sqlite");
    drop(database_at(&old_path, 10));
    let mut old = Store::open(&old_path).unwrap();
    assert_eq!(page_size(&old), 4096);
    old.set_bulk_writes().unwrap();
    assert_eq!(autocheckpoint(&old), 16384);
    assert_eq!(old.schema_version().unwrap(), MIGRATIONS.len() as i64);
    let tx = old.transaction().unwrap();
    tx.append_chunk(&key("m"), &[(SourceKey::default(), Some(&obs(1, "m")))])
        .unwrap();
    tx.commit().unwrap();
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

/// A database file as version `version` of the schema left it (its first `version`
/// migrations), for the tests that bring an old database up to date.
fn database_at(path: &std::path::Path, version: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    for m in &MIGRATIONS[..version] {
        conn.execute_batch(m).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64)
        .unwrap();
    conn
}

#[test]
fn a_schema_2_database_keeps_its_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let conn = database_at(&path, 2);
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

mod workflow {
    use super::*;
    use crate::alert::{Alert, Role};
    use crate::incident::{FalsePositiveReason, Status};
    use crate::store::{IdMatch, Transition};

    fn file_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        (dir, store)
    }

    fn hex_incident(id: &str, severity: Severity) -> Incident {
        Incident {
            id: id.into(),
            ..incident(severity)
        }
    }

    fn alert(inc: &Incident, to: &str, role: Role) -> Alert {
        Alert {
            id: crate::alert::short_hash(&[&inc.id, inc.severity.as_str(), to, role.as_str()]),
            incident: inc.id.clone(),
            recipient: to.into(),
            role,
            severity: inc.severity,
            immediate: true,
            group: crate::alert::short_hash(&[to, &inc.meeting]),
            channel: crate::alert::Channel::Mail,
            change: "new",
            severity_from: None,
        }
    }

    fn states(tx: &Tx<'_>) -> Vec<(String, String, String)> {
        tx.outbox(crate::store::OutboxFilter::All)
            .unwrap()
            .into_iter()
            .map(|r| (r.incident, r.severity, r.state))
            .collect()
    }

    #[test]
    fn statuses_change_by_the_rules_and_keep_their_history() {
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        tx.record_incident(&hex_incident("abcdef0123456789", Severity::High), now, 1)
            .unwrap();
        tx.record_incident(&hex_incident("abcdef9999999999", Severity::Low), now, 1)
            .unwrap();
        tx.record_incident(&hex_incident("0123456789abcdef", Severity::Low), now, 1)
            .unwrap();
        // Ids by a unique start of at least 6 hex characters.
        assert_eq!(
            tx.find_incident("0123456789abcdef").unwrap(),
            IdMatch::One("0123456789abcdef".into())
        );
        assert_eq!(
            tx.find_incident("012345").unwrap(),
            IdMatch::One("0123456789abcdef".into())
        );
        assert_eq!(
            tx.find_incident("ABCDEF0").unwrap(),
            IdMatch::One("abcdef0123456789".into())
        );
        assert_eq!(tx.find_incident("abcdef").unwrap(), IdMatch::Many(2));
        assert_eq!(tx.find_incident("01234").unwrap(), IdMatch::None);
        assert_eq!(tx.find_incident("abc%").unwrap(), IdMatch::None);
        assert_eq!(tx.find_incident("ffffff").unwrap(), IdMatch::None);

        let id = "abcdef0123456789";
        let set = |to, reason, by: &str, note: Option<&str>| {
            tx.set_status(id, to, reason, by, note, now).unwrap()
        };
        assert_eq!(tx.status_of(id).unwrap(), None, "open: no row");
        // The note holds a (Skatteverket test) identity number: never stored.
        let t = set(
            Status::Acknowledged,
            None,
            "Åsa Ek",
            Some("ringde 19861208-2399 \u{1b}[2J"),
        );
        assert_eq!(t, Transition::Changed { from: Status::Open });
        let s = tx.status_of(id).unwrap().unwrap();
        assert_eq!(s.status, Status::Acknowledged);
        assert_eq!(s.by, "Åsa Ek");
        let note = s.note.unwrap();
        assert!(!note.contains("2399") && note.contains("ringde"), "{note}");
        assert!(note.contains('\u{1b}'), "kept as typed, escaped on output");
        assert!(matches!(
            set(Status::Acknowledged, None, "Bo", None),
            Transition::Already(r) if r.by == "Åsa Ek"
        ));
        assert_eq!(
            set(Status::Resolved, None, "Bo", None),
            Transition::Changed {
                from: Status::Acknowledged
            }
        );
        assert!(matches!(
            set(Status::Resolved, None, "Bo", None),
            Transition::Already(_)
        ));
        assert_eq!(
            set(Status::Acknowledged, None, "Bo", None),
            Transition::Refused {
                current: Status::Resolved
            }
        );
        assert_eq!(
            set(
                Status::FalsePositive,
                Some(FalsePositiveReason::TestMeeting),
                "Bo",
                None
            ),
            Transition::Changed {
                from: Status::Resolved
            }
        );
        assert_eq!(
            tx.status_of(id).unwrap().unwrap().reason,
            Some(FalsePositiveReason::TestMeeting)
        );
        assert_eq!(
            set(Status::Resolved, None, "Bo", None),
            Transition::Refused {
                current: Status::FalsePositive
            }
        );
        assert_eq!(
            set(Status::Open, None, "Bo", Some("fel")),
            Transition::Changed {
                from: Status::FalsePositive
            }
        );
        assert_eq!(tx.status_of(id).unwrap().unwrap().reason, None);
        let h: Vec<(Status, Status)> = tx
            .status_history(id)
            .unwrap()
            .into_iter()
            .map(|c| (c.from, c.to.status))
            .collect();
        use Status::*;
        assert_eq!(
            h,
            [
                (Open, Acknowledged),
                (Acknowledged, Resolved),
                (Resolved, FalsePositive),
                (FalsePositive, Open)
            ]
        );
        tx.commit().unwrap();
        // Nowhere in the file.
        drop(store);
        let bytes = std::fs::read(_d.path().join("db.sqlite")).unwrap();
        let wal = std::fs::read(_d.path().join("db.sqlite-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(4).any(|w| w == b"2399"));
        }
    }

    #[test]
    fn re_judging_keeps_the_status_and_a_raise_reopens_an_acknowledged_one() {
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        let (a, f) = ("aaaaaa0000000000", "ffffff0000000000");
        for id in [a, f] {
            tx.record_incident(&hex_incident(id, Severity::Medium), now, 1)
                .unwrap();
        }
        tx.set_status(a, Status::Acknowledged, None, "Bo", None, now)
            .unwrap();
        tx.set_status(
            f,
            Status::FalsePositive,
            Some(FalsePositiveReason::WrongDetection),
            "Bo",
            None,
            now,
        )
        .unwrap();
        // The same judgement again, then lowered: the status stays.
        for s in [Severity::Medium, Severity::Low] {
            for id in [a, f] {
                tx.record_incident(&hex_incident(id, s), now, 2).unwrap();
            }
        }
        assert_eq!(
            tx.status_of(a).unwrap().unwrap().status,
            Status::Acknowledged
        );
        // Withdrawn and seen again: the status stays.
        tx.withdraw_incident(&hex_incident(a, Severity::Low), now, 3)
            .unwrap();
        assert!(tx.is_withdrawn(a).unwrap());
        assert_eq!(
            tx.status_of(a).unwrap().unwrap().status,
            Status::Acknowledged
        );
        assert_eq!(
            tx.record_incident(&hex_incident(a, Severity::Low), now, 4)
                .unwrap(),
            Outcome::New
        );
        assert_eq!(
            tx.status_of(a).unwrap().unwrap().status,
            Status::Acknowledged
        );
        // Raised: the acknowledged one is open again (by motesvakt); the false positive stays.
        for id in [a, f] {
            assert!(matches!(
                tx.record_incident(&hex_incident(id, Severity::High), now, 5)
                    .unwrap(),
                Outcome::Raised { .. }
            ));
        }
        let s = tx.status_of(a).unwrap().unwrap();
        assert_eq!((s.status, s.by.as_str()), (Status::Open, ""));
        assert_eq!(tx.status_history(a).unwrap().len(), 2);
        assert_eq!(
            tx.status_of(f).unwrap().unwrap().status,
            Status::FalsePositive
        );
        tx.commit().unwrap();
        // The listing carries the status.
        let listed: Vec<(String, Option<Status>)> = store
            .incidents(&IncidentFilter::default())
            .unwrap()
            .into_iter()
            .map(|s| (s.incident.id, s.status.map(|s| s.status)))
            .collect();
        assert_eq!(
            listed,
            [
                (a.to_string(), Some(Status::Open)),
                (f.to_string(), Some(Status::FalsePositive))
            ]
        );
    }

    #[test]
    fn a_withdrawn_incident_s_alerts_do_not_go_and_a_raise_alerts_only_the_latest() {
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        let w = hex_incident("aaaaaa0000000000", Severity::High);
        let r = hex_incident("bbbbbb0000000000", Severity::Medium);
        let f = hex_incident("cccccc0000000000", Severity::High);
        for i in [&w, &r, &f] {
            tx.record_incident(i, now, 1).unwrap();
            tx.enqueue_alerts(&[alert(i, "chef@region.se", Role::Manager)], 0)
                .unwrap();
        }
        // Withdrawn before it went: its alert is withdrawn.
        tx.withdraw_incident(&w, now, 2).unwrap();
        // Raised in the same batch: the medium alert is superseded by the high one.
        let raised = Incident {
            severity: Severity::High,
            ..r.clone()
        };
        tx.record_incident(&raised, now, 2).unwrap();
        assert_eq!(
            tx.enqueue_alerts(&[alert(&raised, "chef@region.se", Role::Manager)], 0)
                .unwrap(),
            1
        );
        // A false positive's alert is cancelled.
        tx.set_status(
            &f.id,
            Status::FalsePositive,
            Some(FalsePositiveReason::Other),
            "Bo",
            None,
            now,
        )
        .unwrap();
        let s = |i: &str, sev: &str, st: &str| (i.to_string(), sev.to_string(), st.to_string());
        let mut got = states(&tx);
        got.sort();
        assert_eq!(
            got,
            [
                s(&w.id, "high", "withdrawn"),
                s(&r.id, "high", "pending"),
                s(&r.id, "medium", "superseded"),
                s(&f.id, "high", "cancelled"),
            ]
        );
        let due = tx.due_mails(1, 0, true).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].incidents, std::slice::from_ref(&r.id));
        // Seen again after its withdrawal: its alert is pending again, once.
        tx.mark_mail_sent(&due[0].mail, 2).unwrap();
        assert_eq!(tx.record_incident(&w, now, 3).unwrap(), Outcome::New);
        assert_eq!(
            tx.enqueue_alerts(&[alert(&w, "chef@region.se", Role::Manager)], 5)
                .unwrap(),
            1
        );
        assert_eq!(
            tx.enqueue_alerts(&[alert(&w, "chef@region.se", Role::Manager)], 6)
                .unwrap(),
            0
        );
        let due = tx.due_mails(7, 0, true).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].incidents, std::slice::from_ref(&w.id));
        tx.commit().unwrap();
    }

    /// A webhook or SIEM row of `inc`, as [`crate::alert::Router::route_change`] makes them.
    fn event(inc: &Incident, channel: crate::alert::Channel, change: &'static str) -> Alert {
        Alert {
            id: crate::alert::short_hash(&[
                channel.as_str(),
                &inc.id,
                inc.severity.as_str(),
                change,
            ]),
            incident: inc.id.clone(),
            recipient: channel.as_str().into(),
            role: Role::ItSecurity,
            severity: inc.severity,
            immediate: true,
            group: channel.as_str().into(),
            channel,
            change,
            severity_from: None,
        }
    }

    fn channel_states(tx: &Tx<'_>, id: &str) -> Vec<(String, String, String, String)> {
        let mut out: Vec<_> = tx
            .outbox(crate::store::OutboxFilter::All)
            .unwrap()
            .into_iter()
            .filter(|r| r.incident == id)
            .map(|r| (r.channel, r.change, r.severity, r.state))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_siem_gets_every_change_none_superseded_withdrawn_or_cancelled() {
        use crate::alert::Channel::{SiemFile, Syslog, Webhook};
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        let i = hex_incident("aaaaaa0000000000", Severity::High);
        tx.record_incident(&i, now, 1).unwrap();
        let news = |inc: &Incident, change| {
            vec![
                alert(inc, "chef@region.se", Role::Manager),
                event(inc, Webhook, change),
                event(inc, SiemFile, change),
                event(inc, Syslog, change),
            ]
        };
        tx.enqueue_alerts(&news(&i, "new"), 0).unwrap();
        // Raised before anything went: the mail and the webhook of the high are superseded,
        // the SIEM's "new" still goes, then its "raised".
        let raised = Incident {
            severity: Severity::Critical,
            ..i.clone()
        };
        tx.record_incident(&raised, now, 2).unwrap();
        tx.enqueue_alerts(&news(&raised, "raised"), 1).unwrap();
        // Withdrawn in the same transaction as its SIEM event: the mail and the webhook are
        // withdrawn, every SIEM event still goes.
        tx.withdraw_incident(&raised, now, 3).unwrap();
        tx.enqueue_alerts(
            &[
                event(&raised, SiemFile, "withdrawn"),
                event(&raised, Syslog, "withdrawn"),
            ],
            2,
        )
        .unwrap();
        let s = |c: &str, ch: &str, sev: &str, st: &str| {
            (
                c.to_string(),
                ch.to_string(),
                sev.to_string(),
                st.to_string(),
            )
        };
        let mut want = vec![
            s("mail", "new", "critical", "withdrawn"),
            s("mail", "new", "high", "superseded"),
            s("webhook", "new", "high", "superseded"),
            s("webhook", "raised", "critical", "withdrawn"),
        ];
        for c in ["siem-file", "syslog"] {
            want.extend([
                s(c, "new", "high", "pending"),
                s(c, "raised", "critical", "pending"),
                s(c, "withdrawn", "critical", "pending"),
            ]);
        }
        want.sort();
        assert_eq!(channel_states(&tx, &i.id), want);
        assert_eq!(tx.due_events(SiemFile, 3, false).unwrap().len(), 3);
        assert!(tx.due_events(Webhook, 3, true).unwrap().is_empty());
        // A false positive cancels the mail and the webhook, not what the SIEM is to be told.
        let f = hex_incident("bbbbbb0000000000", Severity::High);
        tx.record_incident(&f, now, 4).unwrap();
        tx.enqueue_alerts(&news(&f, "new"), 3).unwrap();
        tx.set_status(
            &f.id,
            Status::FalsePositive,
            Some(FalsePositiveReason::WrongDetection),
            "Bo",
            None,
            now,
        )
        .unwrap();
        assert_eq!(
            channel_states(&tx, &f.id),
            [
                s("mail", "new", "high", "cancelled"),
                s("siem-file", "new", "high", "pending"),
                s("syslog", "new", "high", "pending"),
                s("webhook", "new", "high", "cancelled"),
            ]
        );
        tx.commit().unwrap();
    }

    #[test]
    fn the_imy_clock_starts_at_the_first_mail_or_webhook_never_at_a_siem_event() {
        use crate::alert::Channel::{SiemFile, Webhook};
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        let chat = |id: &str| Incident {
            rule: "chat-patient-data".into(),
            ..hex_incident(id, Severity::Critical)
        };
        let (mailed, hooked, siem_only) = (
            chat("aaaaaa0000000000"),
            chat("bbbbbb0000000000"),
            chat("cccccc0000000000"),
        );
        for (i, rows) in [
            (&mailed, vec![(event(&mailed, SiemFile, "new"), 10)]),
            (&hooked, vec![(event(&hooked, Webhook, "new"), 20)]),
            (&siem_only, vec![(event(&siem_only, SiemFile, "new"), 10)]),
        ] {
            tx.record_incident(i, now, 1).unwrap();
            for (row, at) in rows {
                tx.enqueue_alerts(&[row], at).unwrap();
            }
        }
        for i in [&mailed, &hooked] {
            tx.enqueue_alerts(&[alert(i, "chef@region.se", Role::Manager)], 100)
                .unwrap();
        }
        assert_eq!(tx.first_alert_us(&mailed.id).unwrap(), Some(100));
        assert_eq!(tx.first_alert_us(&hooked.id).unwrap(), Some(20));
        assert_eq!(tx.first_alert_us(&siem_only.id).unwrap(), None);
        let due = |before| -> Vec<(String, i64)> {
            tx.due_escalations(before)
                .unwrap()
                .into_iter()
                .map(|(i, at)| (i.id, at))
                .collect()
        };
        assert_eq!(due(50), [(hooked.id.clone(), 20)]);
        assert_eq!(
            due(1000),
            [(hooked.id.clone(), 20), (mailed.id.clone(), 100)]
        );
        tx.commit().unwrap();
    }

    #[test]
    fn only_open_imy_cases_alerted_long_enough_ago_are_escalated_once() {
        let (_d, store) = file_store();
        let now: Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
        let tx = store.transaction().unwrap();
        let chat = |id: &str, sev| Incident {
            rule: "chat-patient-data".into(),
            ..hex_incident(id, sev)
        };
        let imy = chat("aaaaaa0000000000", Severity::Critical);
        let acked = chat("bbbbbb0000000000", Severity::Critical);
        let not_imy = chat("cccccc0000000000", Severity::High);
        let recent = chat("dddddd0000000000", Severity::Critical);
        let mut file = hex_incident("eeeeee0000000000", Severity::High);
        file.rule = "file-patient-data".into();
        file.evidence.external_present = true;
        for (i, at) in [
            (&imy, 100),
            (&acked, 100),
            (&not_imy, 100),
            (&recent, 900),
            (&file, 200),
        ] {
            tx.record_incident(i, now, 1).unwrap();
            tx.enqueue_alerts(&[alert(i, "chef@region.se", Role::Manager)], at)
                .unwrap();
        }
        tx.set_status(&acked.id, Status::Acknowledged, None, "Bo", None, now)
            .unwrap();
        let due: Vec<(String, i64)> = tx
            .due_escalations(500)
            .unwrap()
            .into_iter()
            .map(|(i, at)| (i.id, at))
            .collect();
        assert_eq!(due, [(imy.id.clone(), 100), (file.id.clone(), 200)]);
        // Once: an escalation in the outbox ends it.
        let settings = crate::alert::AlertSettings {
            it_security: vec!["sec@region.se".into()],
            ..Default::default()
        };
        let esc = crate::alert::to_it_security(&settings, &imy, Role::Escalation, None);
        assert_eq!(esc.len(), 1);
        tx.enqueue_alerts(&esc, 600).unwrap();
        assert_eq!(tx.first_alert_us(&imy.id).unwrap(), Some(100));
        // Acknowledged before the escalation went: it does not go.
        let other = crate::alert::to_it_security(&settings, &file, Role::Escalation, None);
        tx.enqueue_alerts(&other, 600).unwrap();
        tx.set_status(&file.id, Status::Acknowledged, None, "Bo", None, now)
            .unwrap();
        let esc_state = |id: &str| {
            tx.outbox(crate::store::OutboxFilter::All)
                .unwrap()
                .into_iter()
                .find(|r| r.incident == id && r.role == "escalation")
                .map(|r| r.state)
        };
        assert_eq!(esc_state(&file.id).as_deref(), Some("cancelled"));
        assert_eq!(esc_state(&imy.id).as_deref(), Some("pending"));
        let due: Vec<String> = tx
            .due_escalations(1000)
            .unwrap()
            .into_iter()
            .map(|(i, _)| i.id)
            .collect();
        assert_eq!(due, std::slice::from_ref(&recent.id));
        // An escalation does not supersede the alert it repeats.
        assert!(
            states(&tx)
                .iter()
                .filter(|(i, _, _)| *i == imy.id)
                .all(|(_, _, st)| st == "pending")
        );
        tx.commit().unwrap();
    }
}

#[test]
fn outbox_rows_of_schema_6_become_mail_and_each_channel_is_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        // A database as schema 6 left it, with one mail alert not yet sent.
        let c = database_at(&path, 6);
        c.execute_batch(
            "INSERT INTO outbox (id, incident, recipient, role, severity, immediate, grp, state,
                 attempts, created_us, next_us)
             VALUES ('a1', 'abc', 'chef@region.se', 'manager', 'high', 1, 'g', 'pending', 0, 1, 1);",
        )
        .unwrap();
    }
    // Through 7 (the incident workflow), 8 (the channels), 9 (the inbox) and on to the latest.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
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

#[test]
fn own_tenants_and_the_meetings_that_name_them_are_kept_and_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let own = "7c9a0f31-5b1e-4d2a-9c3e-1f2a3b4c5d6e";
    let other = "11111111-2222-4333-8444-555555555555";
    {
        let store = Store::open(&path).unwrap();
        let tx = store.transaction().unwrap();
        assert!(tx.own_tenants().unwrap().is_empty());
        assert!(tx.add_own_tenant(own).unwrap(), "new");
        assert!(!tx.add_own_tenant(own).unwrap(), "known");
        tx.add_meeting_tenant(&key("chat-b"), own).unwrap();
        tx.add_meeting_tenant(&key("chat-a"), own).unwrap();
        tx.add_meeting_tenant(&key("chat-a"), own).unwrap();
        tx.add_meeting_tenant(&key("chat-c"), other).unwrap();
        tx.commit().unwrap();
    }
    // Durable, in the file.
    let store = Store::open(&path).unwrap();
    let tx = store.transaction().unwrap();
    assert_eq!(tx.own_tenants().unwrap(), [own]);
    assert_eq!(
        tx.meetings_of_tenant(own).unwrap(),
        [key("chat-a"), key("chat-b")]
    );
    assert_eq!(tx.meetings_of_tenant(other).unwrap(), [key("chat-c")]);
    // A pruned meeting is no longer one to judge again.
    tx.append_chunk(
        &key("chat-a"),
        &[(obs(1, "chat-a").key, Some(&obs(1, "chat-a")))],
    )
    .unwrap();
    tx.set_meeting_last(&key("chat-a"), 10).unwrap();
    assert_eq!(tx.prune_meetings(100, 10).unwrap(), 1);
    assert_eq!(tx.meetings_of_tenant(own).unwrap(), [key("chat-b")]);
}

/// The meeting times a transaction notes are held and written in key order: what is read in
/// the same transaction (pruning, the platforms seen), and what a commit leaves, is as if
/// each had been written when noted, the later of two for one meeting winning; more than a
/// run's worth are written on the way; a transaction rolled back leaves none.
#[test]
fn meeting_times_noted_in_a_transaction_read_and_commit_as_if_written_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("last.sqlite")).unwrap();
    let rows = |store: &Store| -> Vec<(String, i64)> {
        let mut st = store
            .conn
            .prepare("SELECT meeting, last_us FROM meeting_last ORDER BY meeting")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let tx = store.transaction().unwrap();
    tx.set_meeting_last(&key("b"), 50).unwrap();
    tx.set_meeting_last(&key("a"), 500).unwrap();
    tx.set_meeting_last(&key("b"), 5).unwrap();
    tx.set_meeting_last(&key("a"), 40).unwrap();
    assert_eq!(
        tx.platforms_seen(None, None).unwrap(),
        [crate::event::Platform::Teams]
    );
    // Both before 100 by their later times: both pruned (nothing waits for judgement).
    assert_eq!(tx.prune_meetings(100, 10).unwrap(), 2);
    tx.set_meeting_last(&key("c"), 7).unwrap();
    tx.set_meeting_last(&key("c"), 700).unwrap();
    tx.commit().unwrap();
    assert_eq!(rows(&store), [("c".to_string(), 700)]);

    let n = super::meetings::MEETING_LAST_RUN + 10;
    let tx = store.transaction().unwrap();
    for i in 0..n {
        tx.set_meeting_last(&key(&format!("m{i:06}")), i as i64)
            .unwrap();
    }
    drop(tx);
    assert_eq!(rows(&store).len(), 1, "rolled back");
    let tx = store.transaction().unwrap();
    for i in (0..n).rev() {
        tx.set_meeting_last(&key(&format!("m{i:06}")), i as i64)
            .unwrap();
    }
    tx.set_meeting_last(&key("m000000"), 99).unwrap();
    tx.commit().unwrap();
    let all = rows(&store);
    assert_eq!(all.len(), n + 1);
    assert_eq!(all[0], ("c".to_string(), 700));
    assert_eq!(all[1], ("m000000".to_string(), 99));
    assert_eq!(all[n], (format!("m{:06}", n - 1), n as i64 - 1));
}

/// A batch scan's store ([`Store::set_bulk_writes`]) copies its log into the database on a
/// thread of its own, after each commit: the committing connection alone would not until the
/// log holds 64 MiB. Closing it leaves no log behind, and everything committed is there.
#[test]
fn bulk_writes_are_checkpointed_in_the_background_and_closing_leaves_no_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bulk.sqlite");
    let wal = dir.path().join("bulk.sqlite-wal");
    let body = vec![7u8; 64 * 1024];
    {
        let mut store = Store::open(&path).unwrap();
        store.set_bulk_writes().unwrap();
        let before = std::fs::metadata(&path).unwrap().len();
        // 4 MiB in four commits: well under the committing connection's own limit.
        for c in 0..4 {
            let tx = store.transaction().unwrap();
            for m in 0..16 {
                tx.append_encoded(&key(&format!("m{c}-{m}")), &body)
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::fs::metadata(&path).unwrap().len() < before + 4 * 1024 * 1024 {
            assert!(
                std::time::Instant::now() < deadline,
                "the log was not copied into the database: {} bytes, log {} bytes",
                std::fs::metadata(&path).unwrap().len(),
                std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    assert!(!wal.exists(), "the log outlived the store");
    let store = Store::open(&path).unwrap();
    let tx = store.transaction().unwrap();
    for c in 0..4 {
        for m in 0..16 {
            assert_eq!(
                tx.chunk_bodies(&key(&format!("m{c}-{m}"))).unwrap(),
                vec![body.clone()]
            );
        }
    }
}

/// What two runs changed, net, listed in time order across more rows than the list decodes
/// at a time (on its own thread), the same from a store for one run (without the indexes only
/// a lasting database needs) as from a database file.
#[test]
fn run_changes_are_net_and_in_time_order_whatever_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = Store::open(&dir.path().join("m.sqlite")).unwrap();
    let memory = Store::in_memory().unwrap();
    let n = 3 * super::incidents::DECODE_RUN + 17;
    let at = |i: usize, s: Severity| {
        let mut inc = incident(s);
        inc.id = format!("i{i:04}");
        // Not in id order: the list is by time.
        let t = "2024-01-01T00:00:00Z".parse::<Timestamp>().unwrap();
        inc.time = t + jiff::SignedDuration::from_secs(((i * 7919) % n) as i64);
        inc
    };
    let list = |store: &Store, run: i64| {
        let mut out = Vec::new();
        store
            .run_changes(run, &mut |s| {
                out.push((s.incident.id, s.incident.time, s.last_change))
            })
            .unwrap();
        out
    };
    let mut lists = Vec::new();
    for store in [&file, &memory] {
        let now = Timestamp::now();
        let tx = store.transaction().unwrap();
        let first = tx.start_run().unwrap();
        for i in 0..n {
            tx.record_incident(&at(i, Severity::Medium), now, first)
                .unwrap();
        }
        tx.commit().unwrap();
        let one = list(store, first);
        assert_eq!(one.len(), n);
        assert!(one.iter().all(|(_, _, c)| *c == Outcome::New));
        assert!(one.windows(2).all(|w| w[0].1 <= w[1].1));

        let tx = store.transaction().unwrap();
        let second = tx.start_run().unwrap();
        for i in 0..n {
            match i % 4 {
                // Raised.
                0 => drop(
                    tx.record_incident(&at(i, Severity::High), now, second)
                        .unwrap(),
                ),
                // Withdrawn.
                1 => tx
                    .withdraw_incident(&at(i, Severity::Medium), now, second)
                    .unwrap(),
                // Raised, then lowered back: no change, net.
                2 => {
                    tx.record_incident(&at(i, Severity::Critical), now, second)
                        .unwrap();
                    tx.record_incident(&at(i, Severity::Medium), now, second)
                        .unwrap();
                }
                // Untouched.
                _ => {}
            }
        }
        tx.commit().unwrap();
        let two = list(store, second);
        let want: usize = (0..n).filter(|i| i % 4 < 2).count();
        assert_eq!(two.len(), want);
        for (id, _, change) in &two {
            let i: usize = id[1..].parse().unwrap();
            let expected = match i % 4 {
                0 => Outcome::Raised {
                    from: Severity::Medium,
                },
                _ => Outcome::Withdrawn,
            };
            assert_eq!(*change, expected, "{id}");
        }
        assert!(two.windows(2).all(|w| w[0].1 <= w[1].1));
        lists.push((one, two));
    }
    assert_eq!(lists[0], lists[1]);
}

/// A version-10 database (incidents keyed by their text id, the history filed under it) is
/// brought to version 11 in place: each incident keeps its place in the order it was first
/// recorded as its number, the history its rows, their order and what they say, and the store
/// works on from there.
#[test]
fn a_version_10_database_keeps_its_incidents_and_their_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.sqlite");
    let conn = database_at(&path, 10);
    // First recorded in the order zz, aa, mm (not the ids' order).
    for (rowid, id, sev, t, changed_run) in [
        (1, "zz", Severity::Low, "2024-01-03T00:00:00Z", 1),
        (2, "aa", Severity::High, "2024-01-01T00:00:00Z", 2),
        (3, "mm", Severity::Medium, "2024-01-02T00:00:00Z", 2),
    ] {
        let mut inc = incident(sev);
        inc.id = id.into();
        inc.time = t.parse().unwrap();
        let body = serde_json::to_string(&inc).unwrap();
        let time_us = inc.time.as_microsecond();
        conn.execute(
            "INSERT INTO incidents (rowid, id, rule, severity, platform, meeting, time, actor,
                 profile, routine_file, routine_section, summary, body, first_seen,
                 last_changed, withdrawn, time_us, changed_run)
             VALUES (?1, ?2, 'recording-video', ?3, 'teams', 'm', ?4, '{}', 'halland', 'f',
                 's', 'x', ?5, '2024-02-01T00:00:00Z', '2024-02-02T00:00:00Z', NULL, ?6, ?7)",
            rusqlite::params![rowid, id, sev.as_str(), t, body, time_us, changed_run],
        )
        .unwrap();
    }
    for (id, at, from, to, change, run) in [
        ("zz", "2024-02-01T00:00:00Z", None, "low", "new", 1),
        ("aa", "2024-02-01T00:00:01Z", None, "medium", "new", 1),
        ("mm", "2024-02-01T00:00:02Z", None, "medium", "new", 2),
        (
            "aa",
            "2024-02-02T00:00:00Z",
            Some("medium"),
            "high",
            "raised",
            2,
        ),
    ] {
        conn.execute(
            "INSERT INTO incident_history (incident, at, severity_from, severity_to, change, run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id, at, from, to, change, run],
        )
        .unwrap();
    }
    conn.execute("INSERT INTO meta (key, value) VALUES ('run', 2)", [])
        .unwrap();
    drop(conn);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 11);
    let conn = Connection::open(&path).unwrap();
    let order: Vec<String> = conn
        .prepare("SELECT id FROM incidents ORDER BY num")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(order, ["zz", "aa", "mm"]);
    drop(conn);
    let history = |id: &str| -> Vec<String> {
        store
            .incident_history(id)
            .unwrap()
            .into_iter()
            .map(|(c, from, to)| format!("{c} {from:?} {to}"))
            .collect()
    };
    assert_eq!(
        history("aa"),
        ["new None medium", "raised Some(Medium) high"]
    );
    assert_eq!(history("zz"), ["new None low"]);
    // Run 2, net: aa raised from medium (its first change in the run), mm new; zz untouched.
    let mut changed = Vec::new();
    store
        .run_changes(2, &mut |s| changed.push((s.incident.id, s.last_change)))
        .unwrap();
    assert_eq!(
        changed,
        [
            (
                "aa".to_string(),
                Outcome::Raised {
                    from: Severity::Medium
                }
            ),
            ("mm".to_string(), Outcome::New),
        ]
    );
    let tx = store.read_transaction().unwrap();
    assert_eq!(
        tx.first_recorded("aa").unwrap(),
        Some("2024-02-01T00:00:01Z".parse().unwrap())
    );
    drop(tx);

    // It goes on: a change is filed under the incident's number, a new incident numbered next.
    let now: Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
    let tx = store.transaction().unwrap();
    let run = tx.start_run().unwrap();
    assert_eq!(run, 3);
    let mut mm = incident(Severity::Critical);
    mm.id = "mm".into();
    mm.time = "2024-01-02T00:00:00Z".parse().unwrap();
    tx.record_incident(&mm, now, run).unwrap();
    let mut bb = incident(Severity::Info);
    bb.id = "bb".into();
    tx.record_incident(&bb, now, run).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        history("mm"),
        ["new None medium", "raised Some(Medium) critical"]
    );
    assert_eq!(history("bb"), ["new None info"]);
    let conn = Connection::open(&path).unwrap();
    let bb_num: i64 = conn
        .query_row("SELECT num FROM incidents WHERE id = 'bb'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(bb_num, 4);
    drop(conn);

    // Pruning takes an incident's history with it, by number.
    let tx = store.transaction().unwrap();
    let pruned = tx
        .prune_incidents("2024-02-15T00:00:00Z".parse().unwrap())
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(pruned, 2, "zz and aa, last changed 2024-02-02");
    assert!(history("aa").is_empty());
    assert_eq!(history("mm").len(), 2);
    let conn = Connection::open(&path).unwrap();
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM incident_history h
             WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.num = h.incident_num)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}
