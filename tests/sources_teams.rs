//! Teams audit (Purview CSV, Management Activity JSON) and Graph chat adapters.

mod common;

use common::*;
use motesvakt::event::{ActorKind, EventKind, Media};
use motesvakt::sources::{Format, SourceSettings, TeamsMapping};

#[test]
fn audit_ndjson_matches_native() {
    assert_same_events(
        &judged(Format::TeamsAuditJson, &fixture("teams/audit.ndjson")),
        &native("teams/audit.native.ndjson"),
        "teams audit ndjson",
    );
}

#[test]
fn audit_json_array_matches_native_and_rejects_bad_elements() {
    let out = read(Format::TeamsAuditJson, &fixture("teams/audit.json"));
    assert_same_events(
        &judged(Format::TeamsAuditJson, &fixture("teams/audit.json")),
        &native("teams/audit.native.ndjson"),
        "teams audit json",
    );
    let rej = rejected(&out);
    assert_eq!(rej.len(), 2, "{rej:?}");
    assert_eq!(rej[0].1, "not a JSON object");
    assert!(
        rej[1].1.contains("neither `StartTime` nor `EndTime`"),
        "{rej:?}"
    );
    // Each names the line its record starts on.
    let text = String::from_utf8(fixture("teams/audit.json")).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1;
    assert_eq!(rej[0].0, line_of("\"oops\""));
    assert_eq!(rej[1].0, line_of("\"x-1\"") - 2);
}

#[test]
fn audit_csv_matches_native() {
    let data = fixture("teams/audit.csv");
    assert!(
        data.starts_with(b"\xEF\xBB\xBF"),
        "the fixture keeps the BOM"
    );
    let out = read(Format::TeamsAuditCsv, &data);
    assert_same_events(
        &judged(Format::TeamsAuditCsv, &data),
        &native("teams/audit.native.ndjson"),
        "teams audit csv",
    );
    // Rows are reported by the line they start on; the last row's AuditData is broken.
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1, "{rej:?}");
    assert_eq!(rej[0].0, 10);
    assert!(rej[0].1.starts_with("AuditData: not valid JSON"), "{rej:?}");
}

#[test]
fn audit_counts_unmapped_operations_fields_and_duplicates() {
    for (format, file) in [
        (Format::TeamsAuditJson, "teams/audit.ndjson"),
        (Format::TeamsAuditCsv, "teams/audit.csv"),
    ] {
        let out = read(format, &fixture(file));
        let un: Vec<String> = unmapped(&out).into_iter().map(|(_, s)| s).collect();
        assert!(
            un.contains(&"operation TeamsSessionStarted".to_string()),
            "{file}: {un:?}"
        );
        // A record exported twice (same `Id`) is one record.
        assert!(
            judged_with(format, &settings(), &fixture(file)).1 > 0,
            "{file}: the repeated record is a duplicate"
        );
        assert!(
            un.contains(&"operation MeetingParticipantDetail (application attendee)".to_string())
                || un.iter().all(|u| !u.contains("application")),
        );
        assert_eq!(
            fields(&out),
            ["MeetingParticipantDetail.ScreenSharingDetails"],
            "{file}"
        );
    }
}

#[test]
fn old_csv_export_and_creation_date_fallback() {
    let out = read(Format::TeamsAuditCsv, &fixture("teams/audit-old.csv"));
    let ev = events(&out);
    assert_eq!(ev.len(), 2, "{:?}", rejected(&out));
    assert_eq!(ev[0].kind.type_name(), "meeting_started");
    assert_eq!(
        Format::sniff(&fixture("teams/audit-old.csv")),
        Some(Format::TeamsAuditCsv)
    );
}

#[test]
fn csv_without_audit_data_is_rejected_once() {
    let out = read(
        Format::TeamsAuditCsv,
        b"CreationDate,UserIds,Operations\n1/1/2024 1:00:00 AM,a,b\n",
    );
    assert_eq!(rejected(&out).len(), 1);
    assert_eq!(rejected(&out)[0].0, 1);
}

#[test]
fn mapping_table_extends_without_a_build() {
    let mut settings = settings();
    settings.teams_mapping.merge(
        TeamsMapping::from_toml(
            r#"
            [[fields]]
            operation = "MeetingParticipantDetail"
            field = "ScreenSharingDetails"
            event = "screen_share_started"
            start = "StartTime"

            [[operations]]
            operation = "ControlGiven"
            map = "event"
            event = "control_granted"
            time = ["Time"]
            meeting = ["MeetingDetailId"]
            target = ["Target"]
            "#,
        )
        .unwrap(),
    );
    let out = read_with(
        Format::TeamsAuditJson,
        &settings,
        &fixture("teams/audit.ndjson"),
    );
    assert!(fields(&out).is_empty(), "{:?}", fields(&out));
    let shares: Vec<_> = events(&out)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::ScreenShareStarted { .. }))
        .collect();
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].time.to_string(), "2024-05-02T09:03:00Z");
    assert_eq!(shares[0].actor.kind, Some(ActorKind::Phone));

    let line = r#"{"Id":"g1","Operation":"ControlGiven","CreationTime":"2024-05-02T10:00:00","UserId":"anna@region.se","MeetingDetailId":"m1","Time":"2024-05-02T09:13:00","Target":{"UPN":"ext_x.se#EXT#@region.onmicrosoft.com","DisplayName":"X"}}"#;
    let out = read_with(Format::TeamsAuditJson, &settings, line.as_bytes());
    let ev = &events(&out)[0];
    match &ev.kind {
        EventKind::ControlGranted { target } => assert_eq!(target.kind, Some(ActorKind::Guest)),
        other => panic!("{other:?}"),
    }
    assert_eq!(ev.time.to_string(), "2024-05-02T09:13:00Z");
    // Without the table entry, the operation is counted, not guessed.
    let out = read(Format::TeamsAuditJson, line.as_bytes());
    assert_eq!(unmapped(&out), [(1, "operation ControlGiven".to_string())]);
}

#[test]
fn attendees_are_classified() {
    let rec = |attendee: &str| {
        format!(
            r#"{{"Id":"{}","Operation":"MeetingParticipantDetail","CreationTime":"2024-05-02T13:00:00","UserId":"anna@region.se","OrganizationId":"{TENANT}","MeetingDetailId":"m1","JoinTime":"2024-05-02T09:00:00","Attendees":[{attendee}]}}"#,
            attendee.len()
        )
    };
    let kind = |settings: &SourceSettings, attendee: &str| {
        events(&read_with(
            Format::TeamsAuditJson,
            settings,
            rec(attendee).as_bytes(),
        ))[0]
            .actor
            .kind
    };
    let s = settings();
    let own = format!(
        r#"{{"RecipientType":"User","UPN":"b@region.se","OrganizationId":"{}"}}"#,
        TENANT.to_uppercase()
    );
    assert_eq!(kind(&s, &own), Some(ActorKind::Internal));
    let other = r#"{"RecipientType":"User","UPN":"c@other.se","OrganizationId":"11111111-2222-4333-8444-555555555555"}"#;
    assert_eq!(kind(&s, other), Some(ActorKind::External));
    assert_eq!(
        kind(&SourceSettings::default(), other),
        None,
        "no tenant_ids: by domain"
    );
    let anon = r#"{"RecipientType":"Anonymous","DisplayName":"teamsvisitor:abc"}"#;
    assert_eq!(kind(&s, anon), Some(ActorKind::Anonymous));
    let guest = format!(
        r#"{{"RecipientType":"User","UPN":"d_x.se#EXT#@region.onmicrosoft.com","OrganizationId":"{TENANT}"}}"#
    );
    assert_eq!(
        kind(&s, &guest),
        Some(ActorKind::Guest),
        "a guest is never internal"
    );
}

#[test]
fn transcription_bot() {
    let line = r#"{"Id":"t1","Operation":"MeetingParticipantDetail","CreationTime":"2024-05-02T13:00:00","UserId":"anna@region.se","MeetingDetailId":"m1","JoinTime":"2024-05-02T09:00:00","LeaveTime":"2024-05-02T09:10:00.0000000Z","Attendees":[{"RecipientType":"Applications"}],"ExtraProperties":[{"Key":"UserAgent","Value":"SkypeBot Transcription Bot Teams"}]}"#;
    let ev = events(&read(Format::TeamsAuditJson, line.as_bytes()));
    assert_eq!(ev[0].kind, EventKind::TranscriptionStarted);
    assert_eq!(ev[1].kind, EventKind::TranscriptionStopped);
    assert_eq!(ev[1].time.to_string(), "2024-05-02T09:10:00Z");
}

#[test]
fn graph_pages_match_native() {
    let data = fixture("teams/graph-messages.json");
    assert_eq!(Format::sniff(&data), Some(Format::TeamsGraph));
    let out = read(Format::TeamsGraph, &data);
    let (judged, duplicates) = judged_with(Format::TeamsGraph, &settings(), &data);
    assert_same_events(&judged, &native("teams/graph.native.ndjson"), "teams graph");
    assert!(
        duplicates > 0,
        "the message listed on two pages is one record"
    );
    let un: Vec<String> = unmapped(&out).into_iter().map(|(_, s)| s).collect();
    assert!(
        un.contains(&"system event chatRenamedEventMessageDetail".to_string()),
        "{un:?}"
    );
    assert!(rejected(&out).is_empty(), "{:?}", rejected(&out));
}

#[test]
fn graph_recording_without_its_start_message_uses_the_duration() {
    let line = r##"{"id":"1","messageType":"systemEventMessage","createdDateTime":"2021-03-28T03:50:10.266Z","chatId":null,"channelIdentity":{"teamId":"t","channelId":"19:c@thread.tacv2"},"body":{"contentType":"html","content":"<systemEventMessage/>"},"eventDetail":{"@odata.type":"#microsoft.graph.callRecordingEventMessageDetail","callId":"c","callRecordingDuration":"PT40M19.26S","callRecordingStatus":"success","initiator":{"user":{"id":"u1","userIdentityType":"aadUser"}}}}"##;
    let ev = judged(Format::TeamsGraph, line.as_bytes());
    assert_eq!(
        ev[0].kind,
        EventKind::RecordingStarted {
            media: Media::Video
        }
    );
    assert_eq!(ev[0].time.to_string(), "2021-03-28T03:09:51.006Z");
    assert_eq!(ev[0].meeting, "19:c@thread.tacv2");
    assert_eq!(ev[1].kind, EventKind::RecordingStopped);
}

#[test]
fn graph_identity_types() {
    let msg = |user: &str| {
        format!(
            r#"{{"id":"{}","messageType":"message","createdDateTime":"2024-05-02T09:05:00Z","chatId":"19:meeting_x@thread.v2","from":{{"user":{user}}},"body":{{"contentType":"text","content":"hej"}}}}"#,
            user.len()
        )
    };
    let kind = |user: &str| {
        events(&read(Format::TeamsGraph, msg(user).as_bytes()))[0]
            .actor
            .kind
    };
    assert_eq!(
        kind(r#"{"id":"a","userIdentityType":"anonymousGuest"}"#),
        Some(ActorKind::Anonymous)
    );
    assert_eq!(
        kind(r#"{"id":"a","userIdentityType":"federatedUser"}"#),
        Some(ActorKind::External)
    );
    assert_eq!(
        kind(r#"{"id":"a","userIdentityType":"phoneUser"}"#),
        Some(ActorKind::Phone)
    );
    assert_eq!(
        kind(&format!(
            r#"{{"id":"a","userIdentityType":"aadUser","tenantId":"{TENANT}"}}"#
        )),
        Some(ActorKind::Internal)
    );
    assert_eq!(kind(r#"{"id":"a","userIdentityType":"aadUser"}"#), None);
    // No tenant_ids: the tenant (a GUID, lower case) stays on the actor, for the judge to
    // classify by the tenant learned from the audit records; configured, it is not kept.
    let user = format!(
        r#"{{"id":"a","userIdentityType":"aadUser","tenantId":"{}"}}"#,
        TENANT.to_uppercase()
    );
    let unset = &events(&read_with(
        Format::TeamsGraph,
        &SourceSettings::default(),
        msg(&user).as_bytes(),
    ))[0]
        .actor;
    assert_eq!((unset.kind, unset.tenant.as_deref()), (None, Some(TENANT)));
    let set = &events(&read(Format::TeamsGraph, msg(&user).as_bytes()))[0].actor;
    assert_eq!(set.tenant, None);
    let not_guid = &events(&read_with(
        Format::TeamsGraph,
        &SourceSettings::default(),
        msg(r#"{"id":"a","userIdentityType":"aadUser","tenantId":"not a tenant"}"#).as_bytes(),
    ))[0]
        .actor;
    assert_eq!(not_guid.tenant, None, "only GUIDs are kept");
    let guest = &events(&read_with(
        Format::TeamsGraph,
        &SourceSettings::default(),
        msg(&format!(
            r#"{{"id":"a","userIdentityType":"federatedUser","tenantId":"{TENANT}"}}"#
        ))
        .as_bytes(),
    ))[0]
        .actor;
    assert_eq!(
        (guest.kind, guest.tenant.as_deref()),
        (Some(ActorKind::External), None)
    );
}

#[test]
fn graph_malformed_messages() {
    let data = concat!(
        r#"{"id":"1","messageType":"message","createdDateTime":"not a time","chatId":"c","body":{"content":"x"}}"#,
        "\n",
        r#"{"id":"2","messageType":"message","createdDateTime":"2024-05-02T09:05:00Z","body":{"content":"x"}}"#,
        "\n",
        r#"{"hello":"world"}"#,
        "\n",
    );
    let out = read(Format::TeamsGraph, data.as_bytes());
    let rej = rejected(&out);
    assert_eq!(rej.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(rej[1].1.contains("chatId"));
}

#[test]
fn sniffing_tells_the_teams_formats_apart() {
    assert_eq!(
        Format::sniff(&fixture("teams/audit.csv")),
        Some(Format::TeamsAuditCsv)
    );
    assert_eq!(
        Format::sniff(&fixture("teams/audit.ndjson")),
        Some(Format::TeamsAuditJson)
    );
    assert_eq!(
        Format::sniff(&fixture("teams/audit.json")),
        Some(Format::TeamsAuditJson)
    );
    assert_eq!(
        Format::sniff(&fixture("teams/audit.native.ndjson")),
        Some(Format::Native)
    );
}

#[test]
fn csv_rows_are_numbered_by_their_first_line() {
    for eol in ["\n", "\r\n"] {
        let good = r#""{""Id"":""a1"",""Operation"":""TeamsSessionStarted"",""CreationTime"":""2024-05-02T09:00:00""}""#;
        let multi =
            "\"{\"\"Id\"\":\"\"a2\"\",EOL \"\"Operation\"\":\"\"Nope\"\"}\"".replace("EOL", eol);
        let data = [
            "CreationDate,UserIds,Operations,AuditData".to_string(),
            format!("5/2/2024 9:00:00 AM,u,x,{good}"),
            String::new(),
            format!("5/2/2024 9:00:00 AM,u,x,{multi}"),
            "5/2/2024 9:00:00 AM,u,x,{broken".to_string(),
        ]
        .join(eol);
        let out = read(Format::TeamsAuditCsv, data.as_bytes());
        let lines: Vec<u64> = out.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4, 6], "{eol:?}: {out:?}");
    }
}

#[test]
fn a_quote_left_open_in_a_csv_row_names_the_rows_it_swallowed() {
    let data = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\n\
        r1,2024-05-02T10:00:00,25,MeetingDetail,a@x.se,\"{\"\"Id\"\":\"\"1\"\"\n\
        r2,2024-05-02T10:01:00,25,MeetingDetail,a@x.se,\"{}\"\n\
        r3,2024-05-02T10:02:00,25,MeetingDetail,a@x.se,\"{}\"\n";
    let out = read(Format::TeamsAuditCsv, data.as_bytes());
    let rej = rejected(&out);
    assert_eq!(rej[0].0, 2, "{rej:?}");
    assert!(
        rej[0]
            .1
            .contains("a quote left open may have swallowed the row of line 3"),
        "{rej:?}"
    );
}
