//! Exports as IT staff really produce them (issue 14): Teams audit records re-saved by Excel
//! with a Swedish locale, Windows PowerShell 5.1's `Export-Csv` and `ConvertTo-Json`, Excel's
//! "Unicode text" (UTF-16), Graph's audit log query pages; compressed files; files that are
//! recognised but not read; Graph change notifications and GraphSvc system events.
//!
//! Every variant is written here from the same audit records (the `teams/audit.ndjson`
//! fixture, Microsoft's `AuditData` layout) the way the tool in question writes them, as the
//! vendors document: it must give the same events as the records themselves.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use common::*;
use motesvakt::event::{ActorKind, EventKind};
use motesvakt::ingest::{self, IngestError};
use motesvakt::sources::Format;
use serde_json::{Value, json};

/// The audit records of the fixture, as JSON values (the repeated record included).
fn records() -> Vec<Value> {
    String::from_utf8(fixture("teams/audit.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn want() -> Vec<motesvakt::event::Event> {
    native("teams/audit.native.ndjson")
}

/// A CSV cell quoted as Excel and PowerShell write it: in quotes, quotes doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn field<'a>(r: &'a Value, k: &str) -> &'a str {
    r[k].as_str().unwrap_or_default()
}

/// A Purview CSV as Excel saves it with a Swedish locale: `;` between fields, a BOM, CRLF,
/// `CreationDate` in Swedish form, cells quoted only where needed.
fn excel_swedish_csv() -> Vec<u8> {
    let mut out = "\u{feff}RecordId;CreationDate;RecordType;Operation;UserId;AuditData;AssociatedAdminUnits;AssociatedAdminUnitsNames\r\n".to_string();
    for r in records() {
        let created = field(&r, "CreationTime").replace('T', " ");
        out.push_str(&format!(
            "{};{};25;{};{};{};;\r\n",
            field(&r, "Id"),
            &created[..16],
            field(&r, "Operation"),
            field(&r, "UserId"),
            quoted(&r.to_string())
        ));
    }
    out.into_bytes()
}

/// `Search-UnifiedAuditLog ... | Export-Csv out.csv` in Windows PowerShell 5.1: a `#TYPE`
/// line, every field quoted, the cmdlet's columns (`Identity` is the record id).
fn powershell_csv() -> Vec<u8> {
    let mut out = "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.UnifiedAuditLogEvent\r\n\"RunspaceId\",\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\",\"IsValid\",\"ObjectState\"\r\n".to_string();
    for (i, r) in records().iter().enumerate() {
        out.push_str(&format!(
            "\"5d1b0c2e-0000-4000-8000-000000000000\",\"MicrosoftTeams\",\"5/2/2024 1:05:1{} PM\",{},{},{},\"{}\",\"8\",{},\"True\",\"Unchanged\"\r\n",
            i % 10,
            quoted(field(r, "UserId")),
            quoted(field(r, "Operation")),
            quoted(&r.to_string()),
            i + 1,
            quoted(field(r, "Id")),
        ));
    }
    out.into_bytes()
}

/// `Search-UnifiedAuditLog ... | ConvertTo-Json` in Windows PowerShell 5.1: an indented array
/// of the cmdlet's objects, `AuditData` a JSON string, dates as `/Date(ms)/`.
fn powershell_json() -> Vec<u8> {
    let objects: Vec<Value> = records()
        .iter()
        .map(|r| {
            json!({
                "RunspaceId": "5d1b0c2e-0000-4000-8000-000000000000",
                "RecordType": 25,
                "CreationDate": "/Date(1714655111000)/",
                "UserIds": field(r, "UserId"),
                "Operations": field(r, "Operation"),
                "AuditData": r.to_string(),
                "ResultIndex": 1,
                "ResultCount": 8,
                "Identity": field(r, "Id"),
                "IsValid": true,
                "ObjectState": 2
            })
        })
        .collect();
    // PowerShell writes `\/` for `/` in dates; serde_json reads either.
    serde_json::to_string_pretty(&objects)
        .unwrap()
        .replace("/Date(", "\\/Date(")
        .replace(")/\"", ")\\/\"")
        .into_bytes()
}

/// Excel's "Unicode text": UTF-16 LE with a BOM, tab separated, CRLF.
fn excel_unicode_text() -> Vec<u8> {
    let mut text =
        "RecordId\tCreationDate\tRecordType\tOperation\tUserId\tAuditData\r\n".to_string();
    for r in records() {
        text.push_str(&format!(
            "{}\t{}\t25\t{}\t{}\t{}\r\n",
            field(&r, "Id"),
            field(&r, "CreationTime"),
            field(&r, "Operation"),
            field(&r, "UserId"),
            quoted(&r.to_string())
        ));
    }
    utf16le(&text)
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// Pages of `GET /security/auditLog/queries/{id}/records`: records under `value`, each with
/// the record in `auditData`, two pages one after another.
fn graph_audit_pages() -> Vec<u8> {
    let recs: Vec<Value> = records()
        .iter()
        .map(|r| {
            let mut data = r.clone();
            data["@odata.type"] = json!("#microsoft.graph.security.defaultAuditData");
            json!({
                "id": field(r, "Id"),
                "createdDateTime": format!("{}Z", field(r, "CreationTime")),
                "auditLogRecordType": "microsoftTeams",
                "operation": field(r, "Operation"),
                "organizationId": TENANT,
                "userType": "regular",
                "userId": field(r, "UserId"),
                "service": "MicrosoftTeams",
                "objectId": "",
                "userPrincipalName": field(r, "UserId"),
                "clientIp": "10.20.30.40",
                "administrativeUnits": [],
                "auditData": data
            })
        })
        .collect();
    let context = "https://graph.microsoft.com/beta/$metadata#security/auditLog/queries('a3bc0ff6-0000-4000-8000-000000000001')/records";
    let (a, b) = recs.split_at(4);
    let page1 = json!({"@odata.context": context, "@odata.nextLink": "https://graph.microsoft.com/beta/security/auditLog/queries/a3bc0ff6-0000-4000-8000-000000000001/records?$skiptoken=x", "value": a});
    let page2 = json!({"@odata.context": context, "value": b});
    format!(
        "{}\n{}\n",
        serde_json::to_string_pretty(&page1).unwrap(),
        serde_json::to_string_pretty(&page2).unwrap()
    )
    .into_bytes()
}

/// Writes `data` to a file and opens it as a scan does: format by content, decoded.
fn opened(dir: &Path, name: &str, data: &[u8]) -> Result<(Format, Vec<u8>), IngestError> {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    let mut o = ingest::open(&path, None)?.expect("not empty");
    let mut content = Vec::new();
    o.reader.read_to_end(&mut content).unwrap();
    Ok((o.format, content))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

#[test]
fn every_teams_audit_variant_is_recognised_and_gives_the_records_events() {
    let dir = tempfile::tempdir().unwrap();
    let variants: [(&str, Vec<u8>, Format); 5] = [
        ("excel-sv.csv", excel_swedish_csv(), Format::TeamsAuditCsv),
        ("powershell.csv", powershell_csv(), Format::TeamsAuditCsv),
        ("powershell.json", powershell_json(), Format::TeamsAuditJson),
        ("unicode.txt", excel_unicode_text(), Format::TeamsAuditCsv),
        (
            "graph-audit.json",
            graph_audit_pages(),
            Format::TeamsAuditJson,
        ),
    ];
    for (name, data, format) in variants {
        for (file, bytes) in [
            (name.to_string(), data.clone()),
            (format!("{name}.gz"), gzip(&data)),
        ] {
            let (found, content) = opened(dir.path(), &file, &bytes).unwrap();
            assert_eq!(found, format, "{file}: detected by content");
            let out = read(format, &content);
            assert!(rejected(&out).is_empty(), "{file}: {:?}", rejected(&out));
            assert_eq!(
                fields(&out),
                ["MeetingParticipantDetail.ScreenSharingDetails"],
                "{file}"
            );
            let (events, duplicates) = judged_with(format, &settings(), &content);
            assert_same_events(&events, &want(), &file);
            assert!(
                duplicates > 0,
                "{file}: the record exported twice is one record"
            );
        }
    }
}

#[test]
fn a_record_has_the_same_key_in_every_export() {
    let keys = |format: Format, data: &[u8]| {
        let mut k: Vec<_> = read_keyed(format, &settings(), data)
            .into_iter()
            .map(|(_, key, _)| key)
            .collect();
        k.dedup();
        k
    };
    let base = keys(Format::TeamsAuditJson, &fixture("teams/audit.ndjson"));
    assert_eq!(base.len(), 8);
    assert_eq!(keys(Format::TeamsAuditCsv, &excel_swedish_csv()), base);
    assert_eq!(keys(Format::TeamsAuditCsv, &powershell_csv()), base);
    assert_eq!(keys(Format::TeamsAuditJson, &powershell_json()), base);
    assert_eq!(keys(Format::TeamsAuditJson, &graph_audit_pages()), base);
}

#[test]
fn the_wrapping_fills_in_what_the_record_lacks() {
    // Graph's documented example: `auditData` holds little more than its type; the record's
    // operation, id and time are the wrapping's.
    let page = json!({"value": [{
        "id": "f00f0000-0000-4000-8000-000000000009",
        "createdDateTime": "2024-05-02T09:05:00Z",
        "auditLogRecordType": "microsoftTeams",
        "operation": "MessageSent",
        "userId": "anna@region.se",
        "auditData": {"@odata.type": "#microsoft.graph.security.defaultAuditData",
                      "UserId": "anna@region.se", "ChatThreadId": "19:meeting_x@thread.v2"}
    }]});
    let out = read(Format::TeamsAuditJson, page.to_string().as_bytes());
    let ev = events(&out);
    assert_eq!(ev.len(), 1, "{:?}", rejected(&out));
    assert!(matches!(ev[0].kind, EventKind::ChatMessage { .. }));
    assert_eq!(ev[0].time.to_string(), "2024-05-02T09:05:00Z");
    assert!(fields(&out).is_empty(), "@odata.type is not a field");
    // An `AuditData` string that is not JSON is rejected, without quoting it.
    let bad = json!([{"Operations": "MeetingDetail", "AuditData": format!("{{not json {PNR}")}]);
    let out = read(Format::TeamsAuditJson, bad.to_string().as_bytes());
    let rej = rejected(&out);
    assert_eq!(rej.len(), 1);
    assert!(
        rej[0].1.starts_with("AuditData:") && leaks(rej[0].1.as_bytes()).is_empty(),
        "{rej:?}"
    );
}

#[test]
fn csv_variants_read_alike_on_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["vgr-samsa"]);
    for (name, data) in [
        ("excel-sv.csv", excel_swedish_csv()),
        ("powershell.csv", powershell_csv()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &data).unwrap();
        let mut seen = Vec::new();
        for threads in ["1", "3"] {
            let out = motesvakt(&[
                "scan",
                "--config",
                cfg.to_str().unwrap(),
                "--threads",
                threads,
                "--json",
                path.to_str().unwrap(),
            ]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(0), "{name}: {err}");
            assert!(err.contains("8 records read"), "{name} on {threads}: {err}");
            assert!(
                !err.contains("rejected") || err.contains("0 rejected"),
                "{err}"
            );
            seen.push((
                triples(&incidents(&out)),
                err.lines()
                    .filter(|l| l.contains("records read"))
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            ));
        }
        assert_eq!(seen[0], seen[1], "{name}");
    }
}

#[test]
fn recognised_files_that_are_not_read_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
    xlsx.extend_from_slice(b"\x00\x00[Content_Types].xml....xl/workbook.xml");
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("audit.xlsx", xlsx, "an Excel workbook (.xlsx)"),
        (
            "audit.zip",
            b"PK\x03\x04\x14\x00\x00\x00audit.csv".to_vec(),
            "a zip archive",
        ),
        (
            "audit.xls",
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
            "legacy Excel (.xls)",
        ),
        (
            "audit.pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            "a PDF",
        ),
        (
            "audit.csv.xz",
            vec![0xFD, b'7', b'z', b'X', b'Z', 0, 0],
            "xz-compressed",
        ),
    ];
    let cfg = config(dir.path(), &["halland"]);
    for (name, data, what) in cases {
        let err = opened(dir.path(), name, &data).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, IngestError::Unsupported { .. }),
            "{name}: {text}"
        );
        assert!(text.contains(what) && text.contains(name), "{name}: {text}");
        // The scan says it too, and exits 3: nothing of its input could be read.
        let out = motesvakt_paths(
            &["scan", "--config", cfg.to_str().unwrap()],
            &[&dir.path().join(name)],
        );
        assert_eq!(out.status.code(), Some(3), "{name}");
        assert!(stderr(&out).contains(what), "{name}: {}", stderr(&out));
    }
    // A zip of the same bytes in gzip is still unrecognised content, said as such.
    let err = opened(dir.path(), "notes.txt.gz", &gzip(b"just notes\n")).unwrap_err();
    assert!(matches!(err, IngestError::UnknownFormat { .. }), "{err}");
}

#[test]
fn utf16_json_from_powershell_redirection_is_read() {
    // `ConvertTo-Json > out.json` in Windows PowerShell 5.1 writes UTF-16 LE with a BOM.
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(powershell_json()).unwrap();
    let (format, content) = opened(dir.path(), "out.json", &utf16le(&text)).unwrap();
    assert_eq!(format, Format::TeamsAuditJson);
    assert_eq!(content, text.as_bytes());
    assert_same_events(&judged(format, &content), &want(), "utf-16 json");
}

const CHAT: &str = "19:meeting_NzVhYmNkZWYtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAx@thread.v2";

#[test]
fn graph_svc_system_events_map_like_their_graph_twins() {
    let twin = |ty: &str, with_type: bool| {
        let mut m = json!({
            "id": "1714640400000",
            "chatId": CHAT,
            "createdDateTime": "2024-05-02T09:30:00Z",
            "eventDetail": {
                "@odata.type": ty,
                "callId": "c1",
                "callDuration": "PT30M",
                "initiator": {"user": {"id": "0000aaaa-0000-4000-8000-0000000000a1",
                                       "displayName": "Anna Andersson",
                                       "userIdentityType": "aadUser",
                                       "tenantId": TENANT}}
            }
        });
        if with_type {
            m["messageType"] = json!("systemEventMessage");
            m["body"] = json!({"contentType": "html", "content": "<systemEventMessage/>"});
        }
        let out = read(Format::TeamsGraph, m.to_string().as_bytes());
        assert!(rejected(&out).is_empty(), "{ty}: {:?}", rejected(&out));
        events(&out)
    };
    let graph = twin("#microsoft.graph.callEndedEventMessageDetail", true);
    assert!(matches!(graph[0].kind, EventKind::MeetingEnded { .. }));
    // As Microsoft's change notifications write it, and without `messageType` or `body`.
    for with_type in [true, false] {
        let svc = twin(
            "#Microsoft.Teams.GraphSvc.callEndedEventMessageDetail",
            with_type,
        );
        assert_same_events(&svc, &graph, "GraphSvc call ended");
    }
    let started = twin(
        "#Microsoft.Teams.GraphSvc.callStartedEventMessageDetail",
        false,
    );
    assert!(matches!(started[0].kind, EventKind::MeetingStarted { .. }));
    assert_eq!(
        Format::sniff(br##"{"eventDetail":{"@odata.type":"#Microsoft.Teams.GraphSvc.callEndedEventMessageDetail"}}"##),
        Some(Format::TeamsGraph)
    );
}

#[test]
fn change_notifications_are_unwrapped() {
    let message = json!({
        "@odata.type": "#Microsoft.Graph.chatMessage",
        "id": "1714640700000",
        "messageType": "message",
        "createdDateTime": "2024-05-02T09:05:00Z",
        "lastModifiedDateTime": "2024-05-02T09:05:00Z",
        "from": {"user": {"id": "0000aaaa-0000-4000-8000-0000000000a1", "displayName": "Anna Andersson",
                          "userIdentityType": "aadUser", "tenantId": TENANT}},
        "body": {"contentType": "text", "content": "Mötet börjar strax"}
    });
    let resource = format!("chats('{CHAT}')/messages('1714640700000')");
    let envelope = |inner: Value| {
        json!({"value": [{
            "subscriptionId": "8b5a4a4e-0000-4000-8000-000000000001",
            "changeType": "created",
            "clientState": "secret",
            "subscriptionExpirationDateTime": "2024-05-02T10:00:00Z",
            "resource": resource,
            "resourceData": inner,
            "tenantId": TENANT
        }]})
        .to_string()
    };
    assert_eq!(
        Format::sniff(envelope(json!({})).as_bytes()),
        Some(Format::TeamsGraph)
    );
    // The decrypted message in `resourceData`; the chat named only by `resource`.
    let out = read(Format::TeamsGraph, envelope(message.clone()).as_bytes());
    let ev = events(&out);
    assert_eq!(ev.len(), 1, "{:?}", rejected(&out));
    assert_eq!(ev[0].meeting, CHAT);
    assert!(
        matches!(&ev[0].kind, EventKind::ChatMessage { text, .. } if text == "Mötet börjar strax")
    );
    // The same message as a list page gives the same record key: read once.
    let mut listed = message.clone();
    listed["chatId"] = json!(CHAT);
    let page = json!({"value": [listed]}).to_string();
    let key_of = |d: &str| read_keyed(Format::TeamsGraph, &settings(), d.as_bytes())[0].1;
    assert_eq!(key_of(&envelope(message.clone())), key_of(&page));
    // Decrypted content kept as a JSON string beside the envelope.
    let mut as_string =
        serde_json::from_str::<Value>(&envelope(json!({"id": "1714640700000"}))).unwrap();
    as_string["value"][0]["decryptedContent"] = json!(message.to_string());
    let ev = events(&read(Format::TeamsGraph, as_string.to_string().as_bytes()));
    assert_eq!(ev.len(), 1);
    // Still encrypted, or a basic notification: counted as unmapped, not rejected.
    let mut encrypted =
        serde_json::from_str::<Value>(&envelope(json!({"id": "1714640700000"}))).unwrap();
    encrypted["value"][0]["encryptedContent"] =
        json!({"data": "bXVjaCBzZWNyZXQ=", "dataKey": "a2V5"});
    let out = read(Format::TeamsGraph, encrypted.to_string().as_bytes());
    assert!(events(&out).is_empty() && rejected(&out).is_empty());
    assert!(
        unmapped(&out)[0]
            .1
            .starts_with("change notification without its content")
    );
}

#[test]
fn teams_tenants_nothing_classifies_are_named_once_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &["vgr-samsa"]);
    let audit = dir.path().join("audit.csv");
    std::fs::write(&audit, excel_swedish_csv()).unwrap();
    let graph = dir.path().join("graph.json");
    let message = json!({"value": [{"id": "1", "chatId": CHAT, "messageType": "message",
        "createdDateTime": "2024-05-02T09:05:00Z",
        "from": {"user": {"id": "0000aaaa-0000-4000-8000-0000000000a1",
                          "tenantId": "0b1c2d3e-0000-4000-8000-00000000f00d"}},
        "body": {"contentType": "text", "content": "hej"}}]});
    std::fs::write(&graph, message.to_string()).unwrap();
    // The audit records' own tenant is learned: nothing to fix, no hint.
    let out = motesvakt_paths(
        &["scan", "--config", cfg.to_str().unwrap()],
        &[&audit, &graph],
    );
    assert!(!stderr(&out).contains("tenant_ids"), "{}", stderr(&out));
    // Not learned (`learn_tenant = false`): one hint, with the fix.
    let off = dir.path().join("off.toml");
    std::fs::write(
        &off,
        "internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\"]\nlearn_tenant = false\n",
    )
    .unwrap();
    let out = motesvakt_paths(
        &["scan", "--config", off.to_str().unwrap()],
        &[&audit, &graph],
    );
    let err = stderr(&out);
    let hints: Vec<&str> = err.lines().filter(|l| l.contains("tenant_ids")).collect();
    assert_eq!(hints.len(), 1, "{err}");
    assert!(hints[0].contains("2 tenants"), "{}", hints[0]);
    assert!(
        hints[0].contains(&format!("tenant_ids = [\"{TENANT}\"]")),
        "the audit records' own tenant is the fix: {}",
        hints[0]
    );
    // With `tenant_ids` set, nothing is left unclassified: no hint.
    let set = dir.path().join("set.toml");
    std::fs::write(
        &set,
        format!("internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\"]\ntenant_ids = [\"{TENANT}\"]\n"),
    )
    .unwrap();
    let out = motesvakt_paths(
        &["scan", "--config", set.to_str().unwrap()],
        &[&audit, &graph],
    );
    assert!(!stderr(&out).contains("tenant_ids"), "{}", stderr(&out));
    // Graph alone: the tenant is named, the fix says where to find one's own.
    let out = motesvakt_paths(&["scan", "--config", cfg.to_str().unwrap()], &[&graph]);
    let err = stderr(&out);
    assert!(
        err.contains("1 tenant and") && err.contains("YOUR-TENANT-GUID"),
        "{err}"
    );
}

#[test]
fn only_guids_are_noted_as_tenants() {
    let mut r = records()[0].clone();
    for (org, noted) in [
        (
            "7C9A0F31-5B1E-4D2A-9C3E-1F2A3B4C5D6E",
            Some("7c9a0f31-5b1e-4d2a-9c3e-1f2a3b4c5d6e"),
        ),
        ("not a guid \u{1b}[31m", None),
        // A GUID-shaped value holding ten digits in a row is not shown.
        ("7c9a0f31-5b1e-4d2a-9c3e-a8612082399b", None),
    ] {
        r["OrganizationId"] = json!(org);
        let out = read_with(
            Format::TeamsAuditJson,
            &motesvakt::sources::SourceSettings::default(),
            r.to_string().as_bytes(),
        );
        let tenants: Vec<&str> = out
            .iter()
            .filter_map(|(_, o)| match o {
                Out::Tenant(id, true) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(tenants, noted.into_iter().collect::<Vec<_>>(), "{org:?}");
    }
}

/// A Zoom webhook body (the documented `event`/`event_ts`/`payload.object` layout).
fn zoom_body(event: &str, object: Value) -> Value {
    json!({"event": event, "event_ts": 1714640400000i64,
           "payload": {"account_id": "AAAA", "object": object}})
}

#[test]
fn zoom_webinars_map_like_meetings() {
    let object = |extra: Value| {
        let mut o = json!({"uuid": "wbn==", "id": 81234567890i64, "host_id": "H1", "topic": "Webbinarium",
                           "start_time": "2024-05-02T09:00:00Z", "end_time": "2024-05-02T10:00:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let person = json!({"participant": {"id": "P2", "user_name": "Extern", "email": "ext@example.com",
                        "join_time": "2024-05-02T09:01:00Z", "leave_time": "2024-05-02T09:50:00Z"}});
    let chat = json!({"chat_message": {"date_time": "2024-05-02T09:05:00Z", "message_content": "Hej allihop",
                      "message_id": "m1", "sender_email": "ext@example.com", "sender_name": "Extern"}});
    for (suffix, extra) in [
        ("started", json!({})),
        ("ended", json!({})),
        ("participant_joined", person.clone()),
        ("participant_left", person),
        ("chat_message_sent", chat),
    ] {
        let meeting = zoom_body(&format!("meeting.{suffix}"), object(extra.clone()));
        let webinar = zoom_body(&format!("webinar.{suffix}"), object(extra));
        let m = events(&read(Format::Zoom, meeting.to_string().as_bytes()));
        let w = events(&read(Format::Zoom, webinar.to_string().as_bytes()));
        assert_eq!(w.len(), 1, "webinar.{suffix}");
        assert_same_events(&w, &m, &format!("webinar.{suffix}"));
    }
    assert_eq!(
        Format::sniff(
            zoom_body("webinar.started", object(json!({})))
                .to_string()
                .as_bytes()
        ),
        Some(Format::Zoom)
    );
    // A webinar event without a meeting twin keeps its own name in the count.
    let other = zoom_body("webinar.registration_created", object(json!({})));
    let out = read(Format::Zoom, other.to_string().as_bytes());
    assert_eq!(unmapped(&out)[0].1, "event webinar.registration_created");
}

#[test]
fn zoom_recording_deletions_are_labelled() {
    for (event, label) in [
        (
            "recording.deleted",
            "event recording.deleted (recording deleted for good)",
        ),
        (
            "recording.trashed",
            "event recording.trashed (recording moved to the trash)",
        ),
        (
            "recording.recovered",
            "event recording.recovered (recording restored from the trash)",
        ),
    ] {
        let body = zoom_body(event, json!({"uuid": "u==", "id": 1, "host_id": "H1"}));
        let out = read(Format::Zoom, body.to_string().as_bytes());
        assert_eq!(unmapped(&out), [(1, label.to_string())], "{event}");
    }
}

#[test]
fn zoom_bodies_still_in_their_transport_are_read() {
    let body = zoom_body(
        "meeting.participant_joined",
        json!({"uuid": "u==", "id": 1, "host_id": "H1",
               "participant": {"id": "P2", "email": "ext@example.com", "join_time": "2024-05-02T09:01:00Z"}}),
    );
    let want = events(&read(Format::Zoom, body.to_string().as_bytes()));
    assert_eq!(want.len(), 1);
    let headers = json!({"content-type": "application/json", "x-zm-request-timestamp": "1714640400",
                         "x-zm-signature": "v0=abc"});
    for (what, stored) in [
        (
            "body as an object",
            json!({"headers": headers, "body": body}),
        ),
        (
            "body as a JSON string",
            json!({"headers": headers, "body": body.to_string()}),
        ),
    ] {
        let text = stored.to_string();
        assert_eq!(Format::sniff(text.as_bytes()), Some(Format::Zoom), "{what}");
        let out = read(Format::Zoom, text.as_bytes());
        assert!(rejected(&out).is_empty(), "{what}: {:?}", rejected(&out));
        assert_same_events(&events(&out), &want, what);
    }
    // A body string that is not JSON is rejected without being quoted.
    let bad = json!({"headers": headers, "body": format!("{{\"event\": {PNR}")}).to_string();
    let rej = rejected(&read(Format::Zoom, bad.as_bytes()));
    assert_eq!(rej.len(), 1);
    assert!(
        rej[0].1.starts_with("body:") && leaks(rej[0].1.as_bytes()).is_empty(),
        "{rej:?}"
    );
}

#[test]
fn webex_events_api_items_are_mapped() {
    // `GET /v1/events`: the envelope of the documented example, for each resource.
    let item = |id: &str, resource: &str, ty: &str, data: Value| {
        json!({"id": id, "resource": resource, "type": ty, "appId": "null",
               "actorId": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hY3Rvcg", "orgId": WEBEX_ORG,
               "created": "2024-05-02T09:05:00.000Z", "data": data})
    };
    let page = json!({"items": [
        item("e1", "meetingMessages", "created", json!({
            "id": "msg-1", "meetingId": "mtg-1_I_1", "text": "Välkomna", "personId": "p1",
            "personEmail": "anna@region.se", "orgId": WEBEX_ORG, "created": "2024-05-02T09:04:59.000Z"})),
        item("e2", "meetingMessages", "created", json!({
            "id": "msg-2", "meetingId": "mtg-1_I_1", "text": "Tack", "personEmail": "ext@example.com",
            "orgId": "T1RIRVItT1JH"})),
        item("e3", "meetingMessages", "deleted", json!({"id": "msg-2", "meetingId": "mtg-1_I_1"})),
        item("e4", "meetings", "started", json!({"id": "mtg-1_I_1", "meetingType": "meeting",
            "title": "Vårdplanering", "hostEmail": "anna@region.se", "start": "2024-05-02T09:00:00Z"})),
        item("e5", "meetingTranscripts", "created", json!({"id": "t1", "meetingId": "mtg-1_I_1",
            "hostUserId": "anna@region.se", "startTime": "2024-05-02T09:00:10Z"})),
        item("e6", "convergedRecordings", "created", json!({"id": "r1", "meetingId": "mtg-1_I_1",
            "hostEmail": "anna@region.se", "timeRecorded": "2024-05-02T09:02:00Z", "durationSeconds": 600})),
    ]});
    let text = page.to_string();
    assert_eq!(Format::sniff(text.as_bytes()), Some(Format::Webex));
    let out = read(Format::Webex, text.as_bytes());
    assert!(
        rejected(&out).is_empty() && unmapped(&out).is_empty(),
        "{:?} {:?}",
        rejected(&out),
        unmapped(&out)
    );
    let ev = events(&out);
    let types: Vec<&str> = ev.iter().map(|e| e.kind.type_name()).collect();
    assert_eq!(
        types,
        [
            "chat_message",
            "chat_message",
            "chat_message_deleted",
            "meeting_started",
            "transcription_started",
            "recording_started",
            "recording_stopped"
        ]
    );
    assert!(ev.iter().all(|e| e.meeting == "mtg-1_I_1"));
    assert_eq!(
        ev[0].time.to_string(),
        "2024-05-02T09:04:59Z",
        "the message's own time"
    );
    assert_eq!(ev[0].actor.kind, Some(ActorKind::Internal));
    assert_eq!(ev[1].actor.kind, Some(ActorKind::External));
    assert!(
        matches!(&ev[1].kind, EventKind::ChatMessage { text, message_id }
        if text == "Tack" && message_id.as_deref() == Some("msg-2"))
    );
    assert_eq!(
        ev[1].time.to_string(),
        "2024-05-02T09:05:00Z",
        "the event's time"
    );
}

#[test]
fn a_webex_participant_in_the_lobby_is_waiting_not_joined() {
    let hook = |state: &str| {
        json!({"id": format!("h-{state}"), "resource": "meetingParticipants", "event": "joined",
               "created": "2024-05-02T09:00:00.000Z",
               "data": {"meetingId": "m", "email": "ext@example.com", "state": state,
                        "joinedTime": "2024-05-02T09:00:00.000Z"}})
        .to_string()
    };
    let out = read(Format::Webex, hook("lobby").as_bytes());
    assert!(events(&out).is_empty());
    assert_eq!(unmapped(&out)[0].1, "participant in the lobby");
    assert_eq!(
        events(&read(Format::Webex, hook("joined").as_bytes())).len(),
        1
    );
    // A listed participant still in the lobby, even with a time, is not in the meeting.
    let listed = json!({"items": [{"id": "p", "meetingId": "m", "email": "ext@example.com",
        "state": "lobby", "joinedTime": "2024-05-02T09:00:00.000Z"}]});
    assert!(events(&read(Format::Webex, listed.to_string().as_bytes())).is_empty());
}

#[test]
fn a_pexip_participant_still_connecting_is_not_in_the_meeting_yet() {
    let rec = |seq: u32, t: &str, event: &str, service: &str| {
        format!(
            r#"{{"node":"10.1.0.11","seq":{seq},"version":1,"time":{t},"event":"{event}","data":{{"uuid":"p1","conference":"vmr","source_alias":"sip:ext@example.com","display_name":"Extern","role":"guest","service_type":"{service}","call_direction":"in","is_presenting":false,"is_streaming":false}}}}"#
        )
    };
    // At the PIN entry, then in the conference.
    let data = [
        rec(1, "1714640400.0", "participant_connected", "connecting"),
        rec(2, "1714640460.0", "participant_updated", "conference"),
    ]
    .join("\n");
    let ev = judged(Format::Pexip, data.as_bytes());
    assert_eq!(
        ev[0].kind,
        EventKind::ParticipantJoined {
            role: Some(motesvakt::event::Role::Guest),
            via_lobby: Some(true)
        }
    );
    let admitted: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ParticipantAdmitted { .. }))
        .collect();
    assert_eq!(admitted.len(), 1, "in the meeting once past the PIN");
    assert_eq!(admitted[0].time.to_string(), "2024-05-02T09:01:00Z");
    // Hung up at the IVR: never admitted.
    let gave_up = [
        rec(1, "1714640400.0", "participant_connected", "ivr"),
        rec(2, "1714640430.0", "participant_disconnected", "ivr"),
    ]
    .join("\n");
    let ev = judged(Format::Pexip, gave_up.as_bytes());
    assert!(
        !ev.iter()
            .any(|e| matches!(e.kind, EventKind::ParticipantAdmitted { .. }))
    );
}

#[test]
fn zoom_bodies_saved_with_their_http_requests_are_read_where_they_are() {
    let body = |user: &str| {
        zoom_body(
            "meeting.participant_joined",
            json!({"uuid": "u==", "id": 1, "host_id": "H1",
                   "participant": {"id": user, "email": format!("{user}@example.com"),
                                   "join_time": "2024-05-02T09:01:00Z"}}),
        )
    };
    let head = "POST /webhooks/zoom HTTP/1.1\r\nHost: hooks.region.se\r\nUser-Agent: Zoom Marketplace/1.0a\r\nContent-Type: application/json; charset=utf-8\r\nx-zm-request-timestamp: 1714640400\r\nx-zm-signature: v0=0123abcd\r\n\r\n";
    let dump = format!(
        "{head}{}\r\n{head}{}\r\n{head}{{\"event\": broken\r\n",
        serde_json::to_string_pretty(&body("p1")).unwrap(),
        body("p2")
    );
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("hooks.http", dump.clone().into_bytes()),
        ("hooks.http.gz", gzip(dump.as_bytes())),
    ] {
        let (format, content) = opened(dir.path(), name, &bytes).unwrap();
        assert_eq!(format, Format::Zoom, "{name}");
        assert_eq!(
            content.len(),
            dump.len(),
            "{name}: every byte keeps its place"
        );
        let out = read(format, &content);
        let ev = events(&out);
        assert_eq!(ev.len(), 2, "{name}: {:?}", rejected(&out));
        assert_eq!(ev[1].actor.id, "p2@example.com");
        // The broken body is named by its own line in the file.
        let rej = rejected(&out);
        assert_eq!(rej.len(), 1, "{rej:?}");
        let line = dump
            .lines()
            .position(|l| l.starts_with("{\"event\": broken"))
            .unwrap() as u64
            + 1;
        assert_eq!(rej[0].0, line, "{rej:?}");
    }
    let cfg = config(dir.path(), &["halland"]);
    let out = motesvakt_paths(
        &["scan", "--config", cfg.to_str().unwrap()],
        &[&dir.path().join("hooks.http")],
    );
    let err = stderr(&out);
    assert!(
        err.contains("format zoom: 3 records read, 2 mapped"),
        "{err}"
    );
    assert!(!err.contains("0123abcd"), "header values are never shown");
}

#[test]
fn zoom_host_id_becomes_the_hosts_email_where_the_meeting_gives_it() {
    let object = |extra: Value| {
        let mut o = json!({"uuid": "h==", "id": 1, "host_id": "KdYKjnimT4KPd8FFgQt9FQ",
                           "start_time": "2024-05-02T09:00:00Z"});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let lines = [
        zoom_body("meeting.started", object(json!({}))),
        zoom_body(
            "recording.started",
            object(json!({"recording_file": {"recording_start": "2024-05-02T09:10:00Z"}})),
        ),
        zoom_body(
            "meeting.participant_joined",
            object(json!({"participant": {
            "id": "KdYKjnimT4KPd8FFgQt9FQ", "user_name": "Anna", "email": "anna@region.se",
            "join_time": "2024-05-02T09:00:05Z"}})),
        ),
    ]
    .map(|v| v.to_string());
    let forward = lines.join("\n");
    let backward = lines.iter().rev().cloned().collect::<Vec<_>>().join("\n");
    let a = judged(Format::Zoom, forward.as_bytes());
    assert_same_events(
        &a,
        &judged(Format::Zoom, backward.as_bytes()),
        "in any order",
    );
    let recording = a
        .iter()
        .find(|e| e.kind.type_name() == "recording_started")
        .unwrap();
    assert_eq!(recording.actor.id, "anna@region.se");
    let started = a
        .iter()
        .find(|e| e.kind.type_name() == "meeting_started")
        .unwrap();
    assert!(
        matches!(&started.kind, EventKind::MeetingStarted { organizer: Some(o), .. } if o.id == "anna@region.se")
    );
    // Without the host's join, the id stays: nothing is guessed.
    let alone = judged(Format::Zoom, lines[..2].join("\n").as_bytes());
    assert!(alone.iter().all(|e| e.actor.id == "KdYKjnimT4KPd8FFgQt9FQ"));
    // A record that names the host's e-mail itself (recording.completed) uses it.
    let completed = zoom_body(
        "recording.completed",
        object(json!({"host_email": "anna@region.se",
        "recording_files": [{"file_type": "MP4", "recording_type": "shared_screen_with_speaker_view",
                             "recording_start": "2024-05-02T09:10:00Z", "recording_end": "2024-05-02T09:20:00Z"}]})),
    );
    let ev = events(&read(Format::Zoom, completed.to_string().as_bytes()));
    assert_eq!(ev[0].actor.id, "anna@region.se");
}

#[test]
fn excel_plain_csv_in_windows_1252_is_read() {
    // Excel's "CSV (semikolonavgränsad)" on a Swedish Windows writes Windows-1252, no BOM.
    let mut r = records()[1].clone();
    r["Attendees"][0]["DisplayName"] = json!("Åsa Öberg–Nyström");
    let text = format!(
        "RecordId;CreationDate;Operation;AuditData\r\n{};2024-05-02 13:05;{};{}\r\n",
        field(&r, "Id"),
        field(&r, "Operation"),
        quoted(&r.to_string())
    );
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| match c {
            '–' => 0x96,
            c if (c as u32) < 256 => c as u32 as u8,
            c => panic!("{c} is not in the test's Windows-1252"),
        })
        .collect();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the test really is not UTF-8"
    );
    assert_eq!(Format::sniff(&bytes), Some(Format::TeamsAuditCsv));
    let out = read(Format::TeamsAuditCsv, &bytes);
    let ev = events(&out);
    assert!(!ev.is_empty(), "{:?}", rejected(&out));
    assert_eq!(ev[0].actor.name.as_deref(), Some("Åsa Öberg–Nyström"));
}
