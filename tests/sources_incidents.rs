//! The same meeting gives the same incidents whichever way it was exported: each platform's
//! fixture export and its native NDJSON rendering, scanned by the real binary under every
//! profile, give identical incidents (ids included), wherever the platform carries the signal.

mod common;

use std::path::Path;

use common::*;

/// (name, platform export files, native rendering of the same scenario)
const PAIRS: &[(&str, &[&str], &str)] = &[
    (
        "zoom",
        &["zoom/scenario.ndjson"],
        "zoom/scenario.native.ndjson",
    ),
    (
        "pexip",
        &["pexip/scenario.ndjson"],
        "pexip/scenario.native.ndjson",
    ),
    (
        "teams-audit-csv",
        &["teams/audit.csv"],
        "teams/audit.native.ndjson",
    ),
    (
        "teams-audit-json",
        &["teams/audit.json"],
        "teams/audit.native.ndjson",
    ),
    (
        "teams-audit-ndjson",
        &["teams/audit.ndjson"],
        "teams/audit.native.ndjson",
    ),
    (
        "teams-graph",
        &["teams/graph-messages.json"],
        "teams/graph.native.ndjson",
    ),
    (
        "webex",
        &[
            "webex/webhooks.ndjson",
            "webex/participants.json",
            "webex/recordings.json",
            "webex/transcripts.json",
            "webex/chats.json",
        ],
        "webex/scenario.native.ndjson",
    ),
];

fn scan(dir: &Path, profile: &str, files: &[&str]) -> (Vec<serde_json::Value>, String) {
    let cfg = dir.join(format!("{profile}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "internal_domains = [\"region.se\"]\nprofiles = [\"{profile}\"]\ntenant_ids = [\"{TENANT}\"]\nwebex_org_ids = [\"{WEBEX_ORG}\"]\ninternal_networks = [\"10.0.0.0/8\", \"fd00::/8\"]\n"
        ),
    )
    .unwrap();
    let paths: Vec<_> = files.iter().map(|f| fixture_path(f)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let out = motesvakt_paths(
        &["scan", "--json", "--config", cfg.to_str().unwrap()],
        &refs,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    (incidents(&out), stderr(&out))
}

/// What must agree: everything but the summary wording is compared.
fn key(i: &serde_json::Value) -> String {
    format!(
        "{} {} {} {} {} {}",
        i["id"], i["rule"], i["severity"], i["meeting"], i["time"], i["actor"]["id"]
    )
}

#[test]
fn every_export_gives_the_incidents_of_its_native_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let mut fired = 0;
    for (name, files, native) in PAIRS {
        for profile in ["vgr-samsa", "halland", "kronoberg", "sas"] {
            let (got, err) = scan(dir.path(), profile, files);
            let (want, _) = scan(dir.path(), profile, &[native]);
            let mut got: Vec<String> = got.iter().map(key).collect();
            let mut want: Vec<String> = want.iter().map(key).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{name} under {profile}");
            fired += got.len();
            assert!(
                err.contains("motesvakt: format "),
                "{name}: no per-format counts: {err}"
            );
        }
    }
    // The fixtures are scenarios with breaches: the comparison is not of empty lists.
    assert!(fired > 20, "only {fired} incidents in all");
}

#[test]
fn teams_audit_and_graph_chat_of_one_meeting_are_judged_together() {
    // The audit export has the meeting (id c0ffee00-…) with a recording bot; the Graph export
    // has its chat, filed under the chat thread id that MeetingDetail.ChatThreadId names, with
    // a personnummer in it. Scanned together, the chat makes the recording a breach under
    // halland, and every incident is filed under the meeting's own id.
    let dir = tempfile::tempdir().unwrap();
    let meeting = "c0ffee00-0000-4000-8000-000000000001";
    let rules = |files: &[&str]| -> Vec<(String, String, String)> {
        let (inc, _) = scan(dir.path(), "halland", files);
        triples(&inc)
    };
    let audit_only = rules(&["teams/audit.ndjson"]);
    assert!(
        audit_only.contains(&t("recording-video", meeting, "info")),
        "{audit_only:?}"
    );
    for order in [
        ["teams/audit.ndjson", "teams/graph-messages.json"],
        ["teams/graph-messages.json", "teams/audit.ndjson"],
    ] {
        let both = rules(&order);
        assert!(
            both.contains(&t("recording-video", meeting, "high")),
            "{both:?}"
        );
        assert!(
            both.iter()
                .any(|(r, m, _)| r == "chat-patient-data" && m == meeting),
            "{both:?}"
        );
        assert!(both.iter().all(|(_, m, _)| m == meeting), "{both:?}");
        // Audit log and Graph both report the one recording: one incident.
        let recordings = both
            .iter()
            .filter(|(r, _, _)| r == "recording-video")
            .count();
        assert_eq!(recordings, 1, "{both:?}");
    }
    // Across two scans with a database: the Graph chat arriving later raises the recording.
    let db = dir.path().join("state.sqlite");
    let cfg = dir.path().join("halland.toml");
    let run = |file: &str| {
        let out = motesvakt_paths(
            &[
                "scan",
                "--json",
                "--config",
                cfg.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
            ],
            &[&fixture_path(file)],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        incidents(&out)
    };
    run("teams/audit.ndjson");
    let later = run("teams/graph-messages.json");
    let rec = later
        .iter()
        .find(|i| i["rule"] == "recording-video")
        .expect("the recording is raised");
    assert_eq!(rec["status"], "raised");
    assert_eq!(rec["meeting"], meeting);
}
