use super::*;
use crate::event::{Actor, Platform};
use crate::incident::{Evidence, Routine};

fn incident(actor: &str, severity: Severity) -> Incident {
    Incident {
        id: format!("inc-{actor}-{severity}"),
        rule: "recording-video".into(),
        severity,
        platform: Platform::Teams,
        meeting: "m1".into(),
        time: "2024-05-02T08:00:00Z".parse().unwrap(),
        actor: Actor::new(actor),
        profile: "p".into(),
        routine: Routine {
            file: "r.md".into(),
            section: "4.2".into(),
            profile_file: String::new(),
        },
        summary: String::new(),
        evidence: Evidence::default(),
    }
}

fn router(dir: &str) -> (tempfile::TempDir, Router) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dir.csv");
    std::fs::write(&path, dir).unwrap();
    let settings = AlertSettings {
        it_security: vec!["sec@region.se".into()],
        directory: Some(path),
        ..AlertSettings::default()
    };
    (tmp, Router::new(settings).unwrap())
}

#[test]
fn manager_gets_it_and_it_security_from_its_threshold() {
    let (_t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    let to = |inc: &Incident| {
        r.route(inc)
            .into_iter()
            .map(|a| (a.recipient, a.role, a.immediate))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        to(&incident("Anna@region.se", Severity::Low)),
        [("chef@region.se".to_string(), Role::Manager, false)]
    );
    assert_eq!(
        to(&incident("anna@region.se", Severity::High)),
        [
            ("chef@region.se".to_string(), Role::Manager, true),
            ("sec@region.se".to_string(), Role::ItSecurity, true)
        ]
    );
    // No manager: IT security, said so, whatever the severity.
    assert_eq!(
        to(&incident("bo@region.se", Severity::Low)),
        [("sec@region.se".to_string(), Role::NoManager, false)]
    );
    assert!(to(&incident("anna@region.se", Severity::Info)).is_empty());
}

#[test]
fn alert_ids_are_stable_and_change_with_severity() {
    let (_t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    let a = r.route(&incident("anna@region.se", Severity::Medium));
    let b = r.route(&incident("anna@region.se", Severity::Medium));
    assert_eq!(a, b);
    let mut raised = incident("anna@region.se", Severity::Medium);
    raised.severity = Severity::High;
    let c = r.route(&raised);
    assert_ne!(a[0].id, c[0].id);
    assert_eq!(a[0].group, c[0].group);
}

#[test]
fn directory_is_read_again_when_it_changes() {
    let (t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    std::fs::write(
        t.path().join("dir.csv"),
        "user;manager\nanna@region.se;ny.chef@region.se\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let a = r.route(&incident("anna@region.se", Severity::Low));
    assert_eq!(a[0].recipient, "ny.chef@region.se");
    // A broken file keeps the directory read before.
    std::fs::write(t.path().join("dir.csv"), "user;name\n").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    assert!(r.refresh().is_err());
    let a = r.route(&incident("anna@region.se", Severity::Low));
    assert_eq!(a[0].recipient, "ny.chef@region.se");
}

#[test]
fn mail_text_in_both_languages_without_the_summary() {
    let mut inc = incident("anna@region.se", Severity::High);
    inc.summary = "secret text 19121212-1212".into();
    inc.actor.name = Some("Anna\r\nBcc: evil@x.se".into());
    // Identifiers are not yet redacted where they are made: the mail redacts them itself.
    inc.meeting = "vård 19121212-1212".into();
    let sv = render::alert_mail(
        std::slice::from_ref(&inc),
        Role::Manager,
        crate::i18n::Language::Sv,
        jiff::Timestamp::UNIX_EPOCH,
        false,
    );
    assert_eq!(
        sv.subject,
        "[motesvakt] HÖG: videoinspelning i möte med patientuppgifter"
    );
    assert!(sv.body.contains("Tid: 2024-05-02 10:00"), "{}", sv.body);
    assert!(
        !sv.body.contains("1212-1212") && sv.body.contains("vård"),
        "{}",
        sv.body
    );
    assert!(
        !sv.body.contains("secret") && !sv.body.contains("\r\nBcc"),
        "{}",
        sv.body
    );
    let en = render::alert_mail(
        &[inc.clone(), inc.clone()],
        Role::NoManager,
        crate::i18n::Language::En,
        jiff::Timestamp::UNIX_EPOCH,
        false,
    );
    assert_eq!(
        en.subject,
        "[motesvakt] HIGH: video recording of a meeting with patient data (and 1 more)"
    );
    assert!(en.body.contains("No manager"));
    assert!(
        !sv.body.contains("IMY"),
        "a recording with no external present"
    );
    // Patient data before an external participant: marked, with the deadline.
    inc.evidence.external_present = true;
    inc.evidence.sensitive = Some(crate::incident::Sensitivity {
        time: inc.time,
        reason: "patient_data".into(),
        field: None,
        kind: None,
    });
    let discovered: jiff::Timestamp = "2024-05-02T08:30:00Z".parse().unwrap();
    let sv = render::alert_mail(
        std::slice::from_ref(&inc),
        Role::Manager,
        crate::i18n::Language::Sv,
        discovered,
        false,
    );
    assert!(
        sv.body.contains("anmälas till IMY") && sv.body.contains("senast 2024-05-05 10:30"),
        "{}",
        sv.body
    );
    assert!(!render::header_value("a\r\nb").contains(['\r', '\n']));
}

#[test]
fn an_escalation_says_how_long_is_left_until_the_imy_deadline() {
    let mut inc = incident("anna@region.se", Severity::Critical);
    inc.rule = "chat-patient-data".into();
    inc.id = "0123456789abcdef".into();
    let first: jiff::Timestamp = "2024-05-02T08:00:00Z".parse().unwrap();
    let now: jiff::Timestamp = "2024-05-02T12:10:00Z".parse().unwrap();
    let four_h = std::time::Duration::from_secs(4 * 3600);
    let lang = crate::i18n::Language::Sv;
    let sv = render::escalation_mail(std::slice::from_ref(&inc), lang, first, four_h, now);
    assert_eq!(
        sv.subject,
        "[motesvakt] Eskalering: KRITISK: patientuppgifter i mötets chatt"
    );
    assert!(
        sv.body.contains("inom 4h efter det första larmet")
            && sv.body.contains("Tid kvar till IMY-fristen: 67 h 50 min.")
            && sv.body.contains("senast 2024-05-05 10:00")
            && sv
                .body
                .contains("motesvakt incidents ack 0123456789abcdef --by NAMN")
            && sv.body.contains("igen: ingen har kvitterat"),
        "{}",
        sv.body
    );
    let late: jiff::Timestamp = "2024-05-06T00:00:00Z".parse().unwrap();
    let lang = crate::i18n::Language::En;
    let en = render::escalation_mail(std::slice::from_ref(&inc), lang, first, four_h, late);
    assert!(en.subject.starts_with("[motesvakt] Escalation: CRITICAL"));
    assert!(
        en.body.contains("The IMY deadline has passed."),
        "{}",
        en.body
    );
    // The incident of a dead alert: not a breach of a routine, no summary in the mail.
    let dead = undeliverable_incident(
        "m1",
        Channel::Mail,
        "chef@region.se",
        std::slice::from_ref(&inc),
        true,
        now,
        crate::i18n::Language::Sv,
    );
    assert_eq!(
        (dead.rule.as_str(), dead.severity, dead.meeting.as_str()),
        ("alert-undeliverable", Severity::High, "m1")
    );
    // Its sentence is rendered from its evidence, like every rule's: in either language.
    assert!(
        dead.summary
            .starts_with("Ett larm om 1 incident(er) kunde inte levereras till chef@"),
        "{}",
        dead.summary
    );
    assert_eq!(
        crate::i18n::summary(&dead, crate::i18n::Language::En),
        "An alert of 1 incident(s) could not be delivered to chef@region.se: the mail server refused it. The recipient has not been told; see motesvakt alerts --dead."
    );
    let hook = undeliverable_incident(
        "w1",
        Channel::Webhook,
        "webhook",
        std::slice::from_ref(&inc),
        false,
        now,
        crate::i18n::Language::En,
    );
    assert!(
        hook.summary.contains("to the webhook within give_up_after"),
        "{}",
        hook.summary
    );
    let mail = render::alert_mail(
        std::slice::from_ref(&dead),
        Role::ItSecurity,
        crate::i18n::Language::Sv,
        now,
        false,
    );
    assert_eq!(mail.subject, "[motesvakt] HÖG: larm kunde inte levereras");
    assert!(
        mail.body.contains("Rutin: inget avsteg från rutinen"),
        "{}",
        mail.body
    );
    assert!(
        mail.body.contains("Ansvarig: chef@region.se"),
        "{}",
        mail.body
    );
    assert!(!mail.body.contains("IMY"));
    // Told to IT security, never to the address it could not reach.
    let settings = AlertSettings {
        it_security: vec!["Sec@region.se".into(), "chef@region.se".into()],
        ..AlertSettings::default()
    };
    let to: Vec<String> =
        to_it_security(&settings, &dead, Role::ItSecurity, Some("CHEF@region.se"))
            .into_iter()
            .map(|a| a.recipient)
            .collect();
    assert_eq!(to, ["sec@region.se"]);
}

#[test]
fn settings_defaults_and_errors() {
    let bad = |k: &str, m: String| format!("{k}: {m}");
    let s = AlertSettings::from_raw(None, None, None, &bad).unwrap();
    assert_eq!(s, AlertSettings::default());
    let raw = RawAlerts {
        immediate_severity: Some("hög".into()),
        ..RawAlerts::default()
    };
    let e = AlertSettings::from_raw(Some(raw), None, None, &bad).unwrap_err();
    assert!(e.starts_with("alerts.immediate_severity"), "{e}");
    assert_eq!(s.escalate_after, std::time::Duration::from_secs(4 * 3600));
    let raw = RawAlerts {
        escalate_after: Some("90m".into()),
        ..RawAlerts::default()
    };
    let s = AlertSettings::from_raw(Some(raw), None, None, &bad).unwrap();
    assert_eq!(s.escalate_after, std::time::Duration::from_secs(5400));
    assert_eq!(duration_text(s.escalate_after), "90m");
    let raw = RawAlerts {
        escalate_after: Some("soon".into()),
        ..RawAlerts::default()
    };
    let e = AlertSettings::from_raw(Some(raw), None, None, &bad).unwrap_err();
    assert!(e.starts_with("alerts.escalate_after"), "{e}");
    let smtp = RawSmtp {
        host: "localhost".into(),
        port: None,
        tls: Some(Tls::None),
        from: "motesvakt@region.se".into(),
        username: Some("u".into()),
        password_file: Some("/p".into()),
        timeout: None,
        ca_file: None,
    };
    let e = AlertSettings::from_raw(None, Some(smtp), None, &bad).unwrap_err();
    assert!(e.starts_with("smtp.tls"), "{e}");
}

#[test]
fn backoff_grows_with_jitter_and_a_cap() {
    let a = smtp::backoff(0, 1).as_secs_f64();
    assert!((22.5..=37.5).contains(&a), "{a}");
    let b = smtp::backoff(3, 1).as_secs_f64();
    assert!((180.0..=300.0).contains(&b), "{b}");
    assert!(smtp::backoff(20, 7).as_secs() <= 4500);
    assert_ne!(smtp::backoff(2, 1), smtp::backoff(2, 99));
}

#[test]
fn the_outbox_groups_after_group_wait_keeps_the_mail_id_and_ignores_repeats() {
    let (_t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    let store = crate::store::Store::in_memory().unwrap();
    let mut other = incident("anna@region.se", Severity::High);
    other.id = "inc-other".into();
    let mut alerts = r.route(&incident("anna@region.se", Severity::High));
    alerts.extend(r.route(&other));
    alerts.retain(|a| a.role == Role::Manager);
    assert_eq!(alerts.len(), 2);
    let s = 1_000_000;
    let tx = store.transaction().unwrap();
    assert_eq!(tx.enqueue_alerts(&alerts, 0).unwrap(), 2);
    assert_eq!(
        tx.enqueue_alerts(&alerts, 5 * s).unwrap(),
        0,
        "an alert is written once"
    );
    assert!(tx.due_mails(10 * s, 30 * s, false).unwrap().is_empty());
    let due = tx.due_mails(31 * s, 30 * s, false).unwrap();
    assert_eq!(due.len(), 1, "one mail per recipient and meeting");
    assert_eq!(due[0].incidents.len(), 2);
    let mail = due[0].mail.clone();
    tx.mark_mail_failed(&mail, "451", 100 * s, false).unwrap();
    assert!(
        tx.due_mails(50 * s, 30 * s, false).unwrap().is_empty(),
        "backing off"
    );
    let again = tx.due_mails(100 * s, 30 * s, false).unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    assert_eq!(again[0].mail, mail, "the same Message-ID on every attempt");
    tx.mark_mail_sent(&mail, 101 * s).unwrap();
    assert!(tx.due_mails(200 * s, 30 * s, true).unwrap().is_empty());
    let rows = tx.outbox(crate::store::OutboxFilter::All).unwrap();
    assert!(rows.iter().all(|r| r.state == "sent" && r.attempts == 2));
    // Pruned with the incidents (these were never stored as incidents).
    assert_eq!(tx.prune_outbox(0).unwrap(), 2);
}

#[test]
fn the_digest_goes_once_a_day_at_its_time_in_one_mail_per_recipient() {
    let (_t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    let store = crate::store::Store::in_memory().unwrap();
    let mut other = incident("anna@region.se", Severity::Low);
    other.id = "inc-other".into();
    other.meeting = "m2".into();
    let mut alerts = r.route(&incident("anna@region.se", Severity::Low));
    alerts.extend(r.route(&other));
    assert!(
        alerts
            .iter()
            .all(|a| !a.immediate && a.recipient == "chef@region.se")
    );
    let tx = store.transaction().unwrap();
    tx.enqueue_alerts(&alerts, 0).unwrap();
    // Not an immediate mail, however long it waits.
    assert!(tx.due_mails(i64::MAX / 2, 0, true).unwrap().is_empty());
    tx.commit().unwrap();
    let settings = AlertSettings::default();
    // 07:29 Swedish time: yesterday's slot is due (no digest was ever made).
    let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(
        last_digest_slot(t("2024-05-02T05:29:00Z"), settings.digest_at),
        t("2024-05-01T05:30:00Z")
    );
    assert_eq!(
        last_digest_slot(t("2024-05-02T05:31:00Z"), settings.digest_at),
        t("2024-05-02T05:30:00Z")
    );
    let now = t("2024-05-02T05:31:00Z");
    assert_eq!(
        smtp::make_digests_if_due(&store, &settings, now).unwrap(),
        1
    );
    assert_eq!(
        smtp::make_digests_if_due(&store, &settings, now).unwrap(),
        0,
        "once a day"
    );
    let tx = store.transaction().unwrap();
    let due = tx
        .due_mails(now.as_microsecond(), 30_000_000, false)
        .unwrap();
    assert_eq!(due.len(), 1, "one digest for both meetings");
    assert!(due[0].digest);
    assert_eq!(due[0].incidents.len(), 2);
    let mail = render::alert_mail(
        &[incident("anna@region.se", Severity::Low), other],
        due[0].role,
        crate::i18n::Language::Sv,
        now,
        true,
    );
    assert!(
        mail.subject
            .starts_with("[motesvakt] Dagens sammanfattning: LÅG"),
        "{}",
        mail.subject
    );
}

#[test]
fn what_the_cap_held_back_reads_as_n_more() {
    let inc = incident("anna@region.se", Severity::High);
    let m = render::alert_mail(
        std::slice::from_ref(&inc),
        Role::Manager,
        crate::i18n::Language::Sv,
        jiff::Timestamp::UNIX_EPOCH,
        false,
    );
    let c = render::capped(m, 3, crate::i18n::Language::Sv);
    assert_eq!(c.subject, "[motesvakt] 3 incidenter till");
    assert!(c.body.starts_with("Gränsen för larm per timme") && c.body.contains("inc-anna"));
}

#[test]
fn what_the_cap_holds_back_goes_in_one_mail_when_the_hour_is_over() {
    let (_t, r) = router("user;manager\nanna@region.se;chef@region.se\n");
    let store = crate::store::Store::in_memory().unwrap();
    let mut other = incident("anna@region.se", Severity::High);
    other.id = "inc-other".into();
    other.meeting = "m2".into();
    let mut alerts = r.route(&incident("anna@region.se", Severity::High));
    alerts.extend(r.route(&other));
    alerts.retain(|a| a.role == Role::Manager);
    let s = 1_000_000;
    let tx = store.transaction().unwrap();
    tx.enqueue_alerts(&alerts, 0).unwrap();
    let due = tx.due_mails(0, 0, true).unwrap();
    assert_eq!(due.len(), 2, "one per meeting");
    assert_eq!(
        tx.cap_mail("chef@region.se", &due[0].mail, 100 * s)
            .unwrap(),
        1
    );
    assert_eq!(
        tx.cap_mail("chef@region.se", &due[1].mail, 100 * s)
            .unwrap(),
        2
    );
    assert!(
        tx.due_mails(50 * s, 0, true).unwrap().is_empty(),
        "held for the hour"
    );
    let held = tx.due_mails(100 * s, 0, false).unwrap();
    assert_eq!(held.len(), 1);
    assert!(held[0].capped);
    assert_eq!(held[0].incidents.len(), 2);
    tx.mark_mail_sent(&held[0].mail, 101 * s).unwrap();
    assert_eq!(
        tx.mails_sent_since("chef@region.se", 0).unwrap(),
        (1, Some(101 * s))
    );
}

#[test]
fn each_change_goes_to_its_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("dir.csv");
    std::fs::write(&path, "user;manager\nanna@region.se;chef@region.se\n").unwrap();
    let bad = |k: &str, m: String| format!("{k}: {m}");
    let settings = AlertSettings {
        directory: Some(path),
        webhook: WebhookSettings::from_raw(
            Some(RawWebhook {
                url: "https://soar.region.se/x".into(),
                secret_file: "/s".into(),
                min_severity: Some("medium".into()),
                timeout: None,
                ca_file: None,
            }),
            Severity::Low,
            &bad,
        )
        .unwrap(),
        siem: SiemSettings::from_raw(
            Some(RawSiem {
                file: Some("/f".into()),
                syslog: Some("udp://127.0.0.1:514".into()),
                facility: None,
                min_severity: Some("low".into()),
                timeout: None,
            }),
            &bad,
        )
        .unwrap(),
        ..AlertSettings::default()
    };
    let r = Router::new(settings).unwrap();
    let channels = |inc: &Incident, o: Outcome, now: i64| {
        let mut c: Vec<(Channel, &str, Option<Severity>)> = r
            .route_change(inc, o, now)
            .into_iter()
            .map(|a| (a.channel, a.change, a.severity_from))
            .collect();
        c.sort_by_key(|x| x.0.as_str());
        c
    };
    let high = incident("anna@region.se", Severity::High);
    assert_eq!(
        channels(&high, Outcome::New, 1),
        [
            (Channel::Mail, "new", None),
            (Channel::SiemFile, "new", None),
            (Channel::Syslog, "new", None),
            (Channel::Webhook, "new", None),
        ]
    );
    let from = Some(Severity::Medium);
    let raised = Outcome::Raised {
        from: Severity::Medium,
    };
    assert_eq!(channels(&high, raised, 2).len(), 4);
    assert!(
        channels(&high, raised, 2)
            .iter()
            .all(|c| c.1 == "raised" && c.2 == from)
    );
    // Lowered and withdrawn: news for nobody but the SIEM.
    let lowered = Outcome::Lowered {
        from: Severity::Critical,
    };
    assert_eq!(
        channels(&high, lowered, 3),
        [
            (Channel::SiemFile, "lowered", Some(Severity::Critical)),
            (Channel::Syslog, "lowered", Some(Severity::Critical)),
        ]
    );
    assert_eq!(channels(&high, Outcome::Withdrawn, 4).len(), 2);
    assert!(channels(&high, Outcome::Known, 5).is_empty());
    // Below the webhook's threshold: mail and SIEM only; below the SIEM's, lowered from above
    // it still told.
    let low = incident("anna@region.se", Severity::Low);
    let c = channels(&low, Outcome::New, 6);
    assert!(c.iter().all(|x| x.0 != Channel::Webhook), "{c:?}");
    let info = incident("anna@region.se", Severity::Info);
    assert!(
        channels(&info, Outcome::New, 7)
            .iter()
            .all(|x| x.0 == Channel::Mail)
    );
    assert_eq!(
        channels(
            &info,
            Outcome::Lowered {
                from: Severity::High
            },
            8
        )
        .len(),
        2
    );
    // The webhook's id is stable (retries, restarts); each SIEM event has its own.
    let ids = |now| {
        r.route_change(&high, Outcome::New, now)
            .into_iter()
            .map(|a| (a.channel, a.id))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let (a, b) = (ids(1), ids(2));
    assert_eq!(a[&Channel::Webhook], b[&Channel::Webhook]);
    assert_eq!(a[&Channel::Mail], b[&Channel::Mail]);
    assert_ne!(a[&Channel::SiemFile], b[&Channel::SiemFile]);
    assert_ne!(a[&Channel::SiemFile], a[&Channel::Syslog]);
}
