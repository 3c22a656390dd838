//! Learning the organisation's Teams tenant (issue 14): with only `internal_domains` set, a
//! Graph chat author known by object id and `tenantId` is internal once the store has seen a
//! Teams audit record whose own `OrganizationId` is that tenant, whichever was read first.
//!
//! Real scans into a real SQLite file; the planted number is a Skatteverket test number and
//! nothing printed holds it (checked with [`assert_no_leaks`]).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::json;

/// The chat of the meeting (the Graph chat id).
const CHAT: &str = "19:meeting_TenantLearn@thread.v2";
/// Anna's Entra object id: Graph names her by it, not by e-mail.
const ANNA: &str = "0b4f1cf6-54c8-4820-bbb7-2a1f4257ade5";

/// A Graph page (`GET /chats/{id}/messages`) with one message by Anna, in the organisation's
/// tenant, that holds an identity number with a keyword.
fn graph_page(dir: &Path) -> PathBuf {
    let page = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('x')/messages",
        "value": [{
            "id": "1714640700000", "replyToId": null, "etag": "1714640700000",
            "messageType": "message", "createdDateTime": "2024-05-02T09:05:00Z",
            "lastModifiedDateTime": "2024-05-02T09:05:00Z", "deletedDateTime": null,
            "subject": null, "chatId": CHAT, "importance": "normal", "locale": "en-us",
            "from": {"application": null, "device": null,
                     "user": {"id": ANNA, "displayName": "Anna Andersson",
                              "userIdentityType": "aadUser", "tenantId": TENANT}},
            "body": {"contentType": "html",
                     "content": format!("<p>Patientens personnummer är {PNR}</p>")},
            "attachments": [], "mentions": [], "reactions": []
        }]
    });
    let path = dir.join("graph-chat.json");
    std::fs::write(&path, page.to_string()).unwrap();
    path
}

/// An audit export (Management Activity API JSON) of another meeting, made in the
/// organisation's tenant: its `OrganizationId` is `tenant`.
fn audit_export(dir: &Path, tenant: &str) -> PathBuf {
    let rec = json!({
        "Id": "d00d0000-aaaa-4000-8000-000000000001", "CreationTime": "2024-05-02T13:00:00",
        "Operation": "MeetingDetail", "OrganizationId": tenant, "RecordType": 25,
        "UserKey": "a1b2c3d4-0000-4000-8000-00000000aaaa", "UserType": 0, "Version": 1,
        "Workload": "MicrosoftTeams", "UserId": "bo@region.se", "ItemName": "ScheduledMeeting",
        "ChatThreadId": "19:meeting_OtherMeeting@thread.v2", "CommunicationType": "GroupCall",
        "StartTime": "2024-05-02T08:00:00", "EndTime": "2024-05-02T08:30:00"
    });
    let path = dir.join(format!("audit-{}.json", &tenant[..8]));
    std::fs::write(&path, format!("[{rec}]")).unwrap();
    path
}

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join(format!("motesvakt-{}.toml", extra.len()));
    std::fs::write(
        &path,
        format!("internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\"]\n{extra}\n"),
    )
    .unwrap();
    path
}

fn scan(cfg: &Path, db: &Path, files: &[&Path]) -> Output {
    let mut args: Vec<String> = vec![
        "scan".into(),
        "--json".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--db".into(),
        db.display().to_string(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = motesvakt(&refs);
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    assert_eq!(out.status.code(), Some(0), "scan failed: {}", stderr(&out));
    out
}

/// The severity of the chat's patient-data incidents the store holds now.
fn stored_severities(db: &Path) -> Vec<String> {
    let out = motesvakt_paths(&["incidents", "--json", "--db"], &[db]);
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "incidents failed: {}",
        stderr(&out)
    );
    severities(&incidents(&out))
}

fn severities(list: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = list
        .iter()
        .filter(|i| i["meeting"] == CHAT && i["rule"] == "chat-patient-data")
        .map(|i| i["severity"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn graph_chat_first_then_audit_export_lowers_the_incident() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), "");
    let graph = graph_page(dir.path());
    let audit = audit_export(dir.path(), TENANT);
    let db = dir.path().join("store.sqlite");

    // Nothing known of the tenant yet: Anna counts as external, and the hint says so.
    let first = scan(&cfg, &db, &[&graph]);
    assert_eq!(severities(&incidents(&first)), ["critical"]);
    assert!(
        stderr(&first).contains("`tenant_ids` is not set"),
        "{}",
        stderr(&first)
    );

    // The audit export names the organisation's tenant: the chat is judged again.
    let second = scan(&cfg, &db, &[&audit]);
    let changed = incidents(&second);
    assert_eq!(severities(&changed), ["high"], "the second scan lowers it");
    assert!(
        changed
            .iter()
            .any(|i| i["meeting"] == CHAT && i["status"] == "lowered"),
        "reported as lowered: {changed:?}"
    );
    assert!(
        !stderr(&second).contains("`tenant_ids` is not set"),
        "a learned tenant needs no hint: {}",
        stderr(&second)
    );
    assert_eq!(stored_severities(&db), ["high"]);

    // One scan of both, in either order, gives the same.
    for (name, files) in [("ab", [&graph, &audit]), ("ba", [&audit, &graph])] {
        let db = dir.path().join(format!("one-{name}.sqlite"));
        let out = scan(&cfg, &db, &[files[0], files[1]]);
        assert_eq!(severities(&incidents(&out)), ["high"], "one scan {name}");
        assert_eq!(stored_severities(&db), ["high"]);
    }
}

#[test]
fn configured_tenant_ids_win_and_learning_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let graph = graph_page(dir.path());
    let audit = audit_export(dir.path(), TENANT);

    // `learn_tenant = false`: the audit export's tenant is not learned.
    let off = write_config(dir.path(), "learn_tenant = false");
    let db = dir.path().join("off.sqlite");
    scan(&off, &db, &[&graph]);
    let out = scan(&off, &db, &[&audit]);
    assert!(
        stderr(&out).contains("`tenant_ids` is not set"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored_severities(&db), ["critical"]);

    // `tenant_ids` names another tenant: the audit records' own does not make Anna internal.
    let other = "11111111-2222-4333-8444-555555555555";
    let cfg = write_config(dir.path(), &format!("tenant_ids = [\"{other}\"]"));
    let db = dir.path().join("configured.sqlite");
    scan(&cfg, &db, &[&audit, &graph]);
    assert_eq!(stored_severities(&db), ["critical"]);

    // An audit export of another tenant teaches nothing about Anna's.
    let cfg = write_config(dir.path(), "");
    let db = dir.path().join("other.sqlite");
    let foreign = audit_export(dir.path(), other);
    scan(&cfg, &db, &[&graph, &foreign]);
    assert_eq!(stored_severities(&db), ["critical"]);
}
