//! Split invariance (issue 8): the same incidents however the input is split.
//!
//! However the same records are cut into consecutive `scan --db SAME` runs (by file, by day,
//! in the middle of a file at any record boundary, files and runs in any order), the incidents
//! the store finally holds (`motesvakt incidents --db SAME --json`) must be the ones that ONE
//! `scan --db FRESH --json` over everything reports, compared as `(id, rule, meeting,
//! severity)`.
//!
//! - [`split_scans_give_the_incidents_of_one_scan`]: a property test over generated meetings in
//!   five record streams (native NDJSON, Pexip event sink, Zoom webhooks, Teams audit JSON, Graph
//!   chat pages), split at random record boundaries into files and runs.
//! - Named regressions, each a minimal reproduction of one way splitting used to change the
//!   result: the batch clock, the subject as detector context, event identity after a
//!   `[detect]` change, aliases learnt later.
//! - [`scan_killed_at_random_moments_is_completed_by_the_next_scan`]: a scan SIGKILLed at
//!   random moments, then run again, ends with the incidents of one clean scan.
//!
//! Privacy: the generated chat holds test personnummer. Nothing printed here holds one: chat
//! text is only ever written to the temporary input files, the generated case values hold no
//! text (only enums and numbers), and every failure message has its digits masked
//! ([`mask`]) and is checked with [`leaks`] before it is shown.
//!
//! Reading the final incidents: by the `incidents --db FILE --json` contract (withdrawn
//! incidents are not listed).
//!
//! Run: `cargo test --locked --test split_invariance`. Environment:
//! - `PROPTEST_CASES=N`: generated cases (24 by default); `PROPTEST_MAX_SHRINK_ITERS=N`: how
//!   hard a failure is shrunk (48 by default; every step spawns processes);
//!   `PROPTEST_RNG_SEED=N`: rerun the cases of a failed run (its message gives the seed).
//! - `MOTESVAKT_TEST_KEEP=1`: keep a failing case's input files, config and databases in a
//!   temporary folder and name it in the message.
//! - `MOTESVAKT_KILL_SEED=N` (the kill delays; printed), `MOTESVAKT_KILL_MEETINGS=N` (size of
//!   the kill test's input, 1500 meetings by default); `-- --nocapture` shows the delays used.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Running motesvakt and reading incidents
// ---------------------------------------------------------------------------------------------

/// An incident as compared here: `(id, rule, meeting, severity)`.
type Key = (String, String, String, String);

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_motesvakt"))
}

fn scan_args(db: &Path, cfg: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut args = vec![
        "scan".to_string(),
        "--json".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--db".into(),
        db.display().to_string(),
    ];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args
}

/// `motesvakt scan --json --config CFG --db DB FILES...`, which must exit 0.
fn scan(db: &Path, cfg: &Path, files: &[PathBuf]) -> Output {
    let out = bin()
        .args(scan_args(db, cfg, files))
        .output()
        .expect("the motesvakt binary runs");
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    assert!(
        out.status.code() == Some(0),
        "{}",
        safe(format!(
            "scan exited with {:?}; stderr (digits masked):\n{}",
            out.status.code(),
            mask(&stderr(&out))
        ))
    );
    out
}

/// The `(id, rule, meeting, severity)` of each incident line of a `--json` output.
fn keys_of(out: &Output) -> Vec<Key> {
    incidents(out).iter().map(key_of).collect()
}

fn key_of(i: &Value) -> Key {
    let s = |k: &str| i[k].as_str().unwrap_or("<missing>").to_string();
    (s("id"), s("rule"), s("meeting"), s("severity"))
}

/// What one `scan --db FRESH --json` over `files` reports, as a set (and the run's stderr).
fn one_scan(dir: &Path, cfg: &Path, files: &[PathBuf]) -> (BTreeSet<Key>, String) {
    let db = dir.join("fresh.sqlite");
    assert!(!db.exists(), "the one-scan database must be fresh");
    let out = scan(&db, cfg, files);
    let keys = keys_of(&out);
    let set: BTreeSet<Key> = keys.iter().cloned().collect();
    assert_eq!(
        set.len(),
        keys.len(),
        "{}",
        safe(format!(
            "one scan reported an incident id twice:\n{}",
            show(&keys)
        ))
    );
    for i in incidents(&out) {
        assert_eq!(
            i["status"], "new",
            "a fresh database reports only new incidents"
        );
    }
    (set, stderr(&out))
}

/// The incidents the store in `db` holds now, as listed by `incidents --db DB --json`.
fn stored(db: &Path) -> Vec<Key> {
    let out = bin()
        .args(["incidents", "--db", &db.display().to_string(), "--json"])
        .output()
        .expect("the motesvakt binary runs");
    assert_no_leaks(None, &[&out.stdout, &out.stderr]);
    assert!(
        out.status.code() == Some(0),
        "{}",
        safe(format!(
            "`motesvakt incidents --db FILE --json` exited with {:?}; stderr (digits masked):\n{}",
            out.status.code(),
            mask(&stderr(&out))
        ))
    );
    keys_of(&out)
}

/// Fails at once, with the reason, when the final incidents cannot be read (no `incidents`
/// command yet): better than the same failure in every generated case.
fn require_incidents_reader() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "one.ndjson",
        &[nat(
            "probe",
            "2024-05-06T10:00:00+02:00",
            "meeting_started",
            json!({}),
        )],
    );
    let cfg = write_config(dir.path(), &[]);
    let db = dir.path().join("probe.sqlite");
    scan(&db, &cfg, &[file]);
    stored(&db);
}

/// With `MOTESVAKT_TEST_KEEP=1`, a failing case's temporary folder (input files, databases,
/// config) is kept for a look by hand, and its path is returned for the failure message. The
/// files hold fictitious test personnummer only.
fn keep_if_asked(dir: tempfile::TempDir) -> String {
    if std::env::var_os("MOTESVAKT_TEST_KEEP").is_some_and(|v| v != "0") {
        format!("\n  input kept in {}\n", dir.keep().display())
    } else {
        String::new()
    }
}

/// Replaces every digit by `#`: failure messages never show a number from the data.
fn mask(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// `msg`, unless it would show an identity number after all.
fn safe(msg: String) -> String {
    if leaks(msg.as_bytes()).is_empty() {
        msg
    } else {
        "<failure message withheld: it would show an identity number>".to_string()
    }
}

/// One line per incident, digits masked: `rule  meeting  severity  id`.
fn show<'a>(keys: impl IntoIterator<Item = &'a Key>) -> String {
    let mut lines: Vec<String> = keys
        .into_iter()
        .map(|(id, rule, meeting, severity)| {
            mask(&format!(
                "    {rule:<26} {meeting:<48} {severity:<8} id {id}"
            ))
        })
        .collect();
    lines.sort();
    const MAX: usize = 40;
    if lines.len() > MAX {
        let more = lines.len() - MAX;
        lines.truncate(MAX);
        lines.push(format!("    ... and {more} more"));
    }
    if lines.is_empty() {
        "    (none)".to_string()
    } else {
        lines.join("\n")
    }
}

/// `None` when `got` (the store's final list) holds exactly the incidents of `want` (one
/// scan), each once; else a readable, masked diff.
fn compare(want: &BTreeSet<Key>, got: &[Key], after: &str) -> Option<String> {
    let got_set: BTreeSet<Key> = got.iter().cloned().collect();
    let mut counts: BTreeMap<&Key, usize> = BTreeMap::new();
    for k in got {
        *counts.entry(k).or_default() += 1;
    }
    let listed_twice: Vec<&Key> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    if &got_set == want && listed_twice.is_empty() {
        return None;
    }
    // Same (rule, meeting) under another id or severity reads better side by side.
    let only_want: Vec<&Key> = want.difference(&got_set).collect();
    let only_got: Vec<&Key> = got_set.difference(want).collect();
    let mut msg = format!(
        "incidents differ ({} in one scan, {} in the store {after})\n\
         \x20 only in the one-scan baseline ({}):\n{}\n\
         \x20 only in the store {after} ({}):\n{}\n",
        want.len(),
        got.len(),
        only_want.len(),
        show(only_want),
        only_got.len(),
        show(only_got),
    );
    if !listed_twice.is_empty() {
        msg.push_str(&format!(
            "  listed more than once:\n{}\n",
            show(listed_twice)
        ));
    }
    Some(msg)
}

/// Per-format counts from a scan's stderr summary: `format NAME: N records read, M mapped,
/// U unmapped, R rejected`.
fn format_counts(stderr: &str) -> BTreeMap<String, (u64, u64, u64, u64)> {
    let mut out = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("motesvakt: format ") else {
            continue;
        };
        let Some((name, counts)) = rest.split_once(": ") else {
            continue;
        };
        let n: Vec<u64> = counts
            .split(", ")
            .filter_map(|p| p.split_whitespace().next()?.parse().ok())
            .collect();
        if n.len() == 4 {
            out.insert(name.to_string(), (n[0], n[1], n[2], n[3]));
        }
    }
    out
}

/// Asserts that every format in `expected` was read, mapped to events, and had no rejected
/// record: the generated records are valid for their adapters.
fn assert_all_mapped(stderr: &str, expected: &[&str]) {
    let counts = format_counts(stderr);
    for name in expected {
        let (read, mapped, _unmapped, rejected) = counts.get(*name).copied().unwrap_or_else(|| {
            panic!(
                "{}",
                safe(format!(
                    "format {name} missing from the scan summary:\n{}",
                    mask(stderr)
                ))
            )
        });
        assert!(
            read > 0 && mapped > 0 && rejected == 0,
            "{}",
            safe(format!(
                "format {name}: {read} read, {mapped} mapped, {rejected} rejected; stderr:\n{}",
                mask(stderr)
            ))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Another organisation's tenant (the external member of `tests/fixtures/sources/teams/
/// graph-messages.json`); ours is `TENANT` from `tests/common/sources.rs`.
const OTHER_TENANT: &str = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";

/// A config with the four profiles that between them list most rules, who is internal on
/// every platform, and `care_meetings` (Pexip has no subject: rooms make its meetings
/// sensitive).
fn write_config(dir: &Path, care_meetings: &[String]) -> PathBuf {
    write_config_tenant(dir, care_meetings, Tenants::Configured)
}

/// How the organisation's Teams tenant is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tenants {
    /// `tenant_ids` names it.
    Configured,
    /// Not configured: learned from the audit records' own `OrganizationId` (so a Graph author
    /// known by tenant is internal only once some audit record has been read).
    Learned,
}

fn write_config_tenant(dir: &Path, care_meetings: &[String], tenants: Tenants) -> PathBuf {
    let care: Vec<String> = care_meetings.iter().map(|m| format!("\"{m}\"")).collect();
    let path = dir.join("motesvakt.toml");
    let tenant_line = match tenants {
        Tenants::Configured => format!("tenant_ids = [\"{TENANT}\"]\n"),
        Tenants::Learned => String::new(),
    };
    std::fs::write(
        &path,
        format!(
            "internal_domains = [\"region.se\"]\n\
             {tenant_line}\
             internal_networks = [\"10.0.0.0/8\"]\n\
             profiles = [\"vgr-samsa\", \"halland\", \"kronoberg\", \"sas\"]\n\
             \n\
             [sensitivity]\n\
             care_meetings = [{}]\n",
            care.join(", ")
        ),
    )
    .unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// The generator: meetings
// ---------------------------------------------------------------------------------------------

/// Which platform export a meeting is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Native,
    Pexip,
    Zoom,
    /// The Teams audit log (meeting, participants, recorder bot) and/or the Graph chat.
    Teams,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    None,
    Plain,
    /// A care keyword: the meeting is sensitive.
    Care,
    /// No care keyword, but the detector's context: a bare 10-digit number in the chat becomes
    /// patient data.
    PatientJournal,
}

impl Subject {
    fn text(self) -> Option<&'static str> {
        match self {
            Subject::None => None,
            Subject::Plain => Some("Veckomöte enheten"),
            Subject::Care => Some("Samordnad vårdplanering"),
            Subject::PatientJournal => Some("Genomgång patient journal"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GuestKind {
    /// Another organisation's e-mail or tenant.
    External,
    /// A Teams guest account / a guest.
    Guest,
    Phone,
    Anonymous,
}

/// The one participant besides the organiser.
#[derive(Debug, Clone, Copy)]
struct Guest {
    kind: GuestKind,
    /// When they arrive, in permille of the meeting.
    join: u16,
    /// Arrived through the lobby / waiting room.
    lobby: bool,
    /// Minutes in the lobby before being admitted; `None`: never admitted (but for Teams,
    /// whose audit log has no admissions, a lobby guest still joins).
    admit_after: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rec {
    None,
    Video,
    /// Audio only (native `media: audio`; Zoom: `recording.completed` with only audio files;
    /// Pexip and Teams record video).
    Audio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Desktop,
    Application,
    Document,
}

/// What a chat message says (the text is made only when the record is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chat {
    Plain,
    /// `PNR` with the keyword `pnr`.
    Pnr,
    /// Another test personnummer with `patient`.
    OtherPnr,
    /// `8612082399`, patient data only with the subject as context.
    BareTen,
    Threat,
    /// A threat, deleted a minute later (native and Graph; Zoom cannot delete).
    ThreatDeleted,
    Classified,
    /// `PNR` and an ICD-10 code.
    PnrIcd,
}

impl Chat {
    fn text(self) -> String {
        match self {
            Chat::Plain => "hej, hör ni mig?".into(),
            Chat::Pnr => format!("pnr {PNR} inför remissen"),
            Chat::OtherPnr => format!("Gäller patient {PNR2}, se journalen"),
            Chat::BareTen => "ok 8612082399".into(),
            Chat::Threat => "jag vet var du bor".into(),
            Chat::ThreatDeleted => "jag ska skada dig".into(),
            Chat::Classified => "Bilagan är HEMLIG enligt beslut".into(),
            Chat::PnrIcd => format!("pnr {PNR} diagnos F32.1"),
        }
    }
}

/// One generated meeting. Times are in permille of the meeting's duration, so every shrunk
/// value is still a valid meeting.
#[derive(Debug, Clone)]
struct MeetingSpec {
    fmt: Fmt,
    /// Day 0..4 from Monday 2024-05-06.
    day: u8,
    /// Start, in quarters of an hour after 08:00 local (06:00 UTC).
    slot: u8,
    /// Minutes.
    duration: u16,
    /// `false`: left open, no end record (the clock must then raise `meeting-not-ended`).
    ended: bool,
    /// Native only: `ended_by_host` rather than `last_left`.
    by_host: bool,
    subject: Subject,
    guest: Option<Guest>,
    rec: Rec,
    rec_at: u16,
    share: Option<(Scope, u16)>,
    chats: Vec<(u16, Chat)>,
    /// Native only: control of the organiser's computer handed to the guest.
    control: bool,
    /// Pexip: the conference also runs on a second node, which reports its own start and end.
    two_nodes: bool,
    /// Pexip: a `participant_updated` that repeats `is_presenting: true` (another flag
    /// changed), which is no new share.
    repeat_update: bool,
    /// Zoom: `recording.started`/`stopped` were sent before `recording.completed`.
    zoom_saw_start: bool,
    /// Teams: the audit log (`MeetingDetail` ...) is in the input.
    teams_audit: bool,
    /// Teams: the Graph chat (filed under the chat id) is in the input.
    teams_graph: bool,
    /// Graph: the recording's `initial` message is there (else only `success`, whose
    /// `callRecordingDuration` tells when it started).
    graph_saw_initial: bool,
    /// Graph: seconds between the recording's end and its `success` message.
    graph_lag: u8,
}

fn fmt_strategy() -> impl Strategy<Value = Fmt> {
    prop_oneof![
        Just(Fmt::Native),
        Just(Fmt::Pexip),
        Just(Fmt::Zoom),
        Just(Fmt::Teams)
    ]
}

fn subject_strategy() -> impl Strategy<Value = Subject> {
    prop_oneof![
        Just(Subject::None),
        Just(Subject::Plain),
        Just(Subject::Care),
        Just(Subject::PatientJournal)
    ]
}

fn guest_strategy() -> impl Strategy<Value = Guest> {
    (
        prop_oneof![
            3 => Just(GuestKind::External),
            1 => Just(GuestKind::Guest),
            1 => Just(GuestKind::Phone),
            1 => Just(GuestKind::Anonymous)
        ],
        0u16..1000,
        any::<bool>(),
        prop::option::weighted(0.8, 1u16..5),
    )
        .prop_map(|(kind, join, lobby, admit_after)| Guest {
            kind,
            join,
            lobby,
            admit_after,
        })
}

fn rec_strategy() -> impl Strategy<Value = Rec> {
    prop_oneof![Just(Rec::None), Just(Rec::Video), Just(Rec::Audio)]
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Desktop),
        Just(Scope::Application),
        Just(Scope::Document)
    ]
}

fn chat_strategy() -> impl Strategy<Value = Chat> {
    prop_oneof![
        3 => Just(Chat::Plain),
        2 => Just(Chat::Pnr),
        1 => Just(Chat::OtherPnr),
        2 => Just(Chat::BareTen),
        1 => Just(Chat::Threat),
        1 => Just(Chat::ThreatDeleted),
        1 => Just(Chat::Classified),
        1 => Just(Chat::PnrIcd)
    ]
}

fn meeting_strategy() -> impl Strategy<Value = MeetingSpec> {
    let when = (
        0u8..4,
        0u8..32,
        20u16..=90,
        prop::bool::weighted(0.7),
        any::<bool>(),
    );
    let what = (
        subject_strategy(),
        prop::option::weighted(0.6, guest_strategy()),
        rec_strategy(),
        0u16..1000,
        prop::option::weighted(0.5, (scope_strategy(), 0u16..1000)),
        prop::collection::vec((0u16..1000, chat_strategy()), 0..4),
    );
    let quirks = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        // (audit, graph): at least one.
        prop_oneof![2 => Just((true, true)), 1 => Just((true, false)), 1 => Just((false, true))],
        any::<bool>(),
        0u8..30,
    );
    (fmt_strategy(), when, what, quirks).prop_map(
        |(
            fmt,
            (day, slot, duration, ended, by_host),
            (subject, guest, rec, rec_at, share, chats),
            (
                control,
                two_nodes,
                repeat_update,
                zoom_saw_start,
                (teams_audit, teams_graph),
                graph_saw_initial,
                graph_lag,
            ),
        )| MeetingSpec {
            fmt,
            day,
            slot,
            duration,
            ended,
            by_host,
            subject,
            guest,
            rec,
            rec_at,
            share,
            chats,
            control,
            two_nodes,
            repeat_update,
            zoom_saw_start,
            teams_audit,
            teams_graph,
            graph_saw_initial,
            graph_lag,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The generator: records
// ---------------------------------------------------------------------------------------------

/// The five record streams; in the one-scan baseline each is one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stream {
    Native,
    Pexip,
    Zoom,
    Audit,
    Graph,
}

impl Stream {
    /// The name the scan summary gives the format.
    fn format_name(self) -> &'static str {
        match self {
            Stream::Native => "native",
            Stream::Pexip => "pexip",
            Stream::Zoom => "zoom",
            Stream::Audit => "teams-audit-json",
            Stream::Graph => "teams-graph",
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Stream::Native => "native",
            Stream::Pexip => "pexip-eventsink",
            Stream::Zoom => "zoom-webhooks",
            Stream::Audit => "teams-audit",
            Stream::Graph => "graph-messages",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Stream::Native | Stream::Pexip | Stream::Zoom => "ndjson",
            Stream::Audit | Stream::Graph => "json",
        }
    }

    /// The file holding `records` (in order), valid for the stream's format: NDJSON lines, a
    /// JSON array of audit records, or Graph list pages of at most 25 messages one after
    /// another.
    fn render(self, records: &[Value]) -> String {
        match self {
            Stream::Native | Stream::Pexip | Stream::Zoom => {
                let mut s: String = records.iter().map(|r| r.to_string() + "\n").collect();
                if s.is_empty() {
                    s.push('\n');
                }
                s
            }
            Stream::Audit => serde_json::to_string_pretty(&Value::Array(records.to_vec())).unwrap(),
            Stream::Graph => records
                .chunks(25)
                .map(|page| {
                    serde_json::to_string_pretty(&json!({
                        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('x')/messages",
                        "@odata.count": page.len(),
                        "value": page,
                    }))
                    .unwrap()
                        + "\n"
                })
                .collect(),
        }
    }
}

/// A record and when the platform emitted it (its place in the stream's natural order).
#[derive(Debug, Clone)]
struct Record {
    stream: Stream,
    /// Epoch milliseconds.
    emitted: i64,
    body: Value,
}

/// Letter code of meeting `i` (`ba`, `bb`, ...): no digits, so it survives [`mask`] and names
/// the meeting in a failure message.
fn code(i: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    format!(
        "{}{}{}",
        letters[1 + (i / 676) % 25] as char,
        letters[(i / 26) % 26] as char,
        letters[i % 26] as char
    )
}

/// Monday 2024-05-06 08:00 local (06:00 UTC), epoch seconds.
fn base_second() -> i64 {
    "2024-05-06T06:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second()
}

/// RFC 3339 UTC with `Z` (native, Zoom).
fn iso(sec: i64) -> String {
    Timestamp::from_second(sec).unwrap().to_string()
}

/// Teams audit form: UTC without a zone (`2024-05-02T09:00:00`).
fn audit_time(sec: i64) -> String {
    iso(sec).trim_end_matches('Z').to_string()
}

/// Graph form: `2024-05-02T09:00:00.000Z`.
fn graph_time(sec: i64) -> String {
    format!("{}.000Z", iso(sec).trim_end_matches('Z'))
}

/// The times of one meeting, in epoch seconds.
struct Clock {
    t0: i64,
    duration: u16,
}

impl Clock {
    fn of(m: &MeetingSpec) -> Clock {
        Clock {
            t0: base_second() + i64::from(m.day) * 86_400 + i64::from(m.slot) * 900,
            duration: m.duration,
        }
    }
    /// Minute `min` after the start.
    fn min(&self, min: u16) -> i64 {
        self.t0 + i64::from(min) * 60
    }
    /// The minute at `permille` of the meeting, strictly between its first and last minute.
    fn at(&self, permille: u16) -> u16 {
        1 + (u32::from(permille.min(999)) * u32::from(self.duration - 3) / 1000) as u16
    }
    /// Halfway between minute `from` and the last minute: when something started at `from`
    /// stops.
    fn stop_after(&self, from: u16) -> u16 {
        from + ((self.duration - 1).saturating_sub(from) / 2).max(1)
    }
    fn end(&self) -> i64 {
        self.min(self.duration)
    }
}

/// The guest's arrival and, if they get in, when (minutes).
fn guest_times(c: &Clock, g: &Guest) -> (u16, Option<u16>) {
    let join = c.at(g.join).min(c.duration - 3);
    let inside = if g.lobby {
        g.admit_after.map(|d| (join + d).min(c.duration - 2))
    } else {
        Some(join)
    };
    (join, inside)
}

fn push(out: &mut Vec<Record>, stream: Stream, emitted_sec: i64, body: Value) {
    out.push(Record {
        stream,
        emitted: emitted_sec * 1000,
        body,
    });
}

/// **Native NDJSON** (`docs/event-format.md`; shape of `examples/exports/` and `ev()` in
/// `tests/common`): `meeting_started` with `subject` and `organizer`, `participant_joined`
/// with `role`/`via_lobby`, `participant_admitted`, `recording_started` `media`,
/// `screen_share_started` `scope`, `control_granted`/`_revoked` `target`, `chat_message` `text`
/// + `message_id`, `chat_message_deleted`, `participant_left`, `meeting_ended` `reason`.
fn native_records(i: usize, m: &MeetingSpec, out: &mut Vec<Record>) {
    let c = Clock::of(m);
    let meeting = format!("native-{}", code(i));
    let anna = json!({"id": "anna@region.se", "name": "Anna Andersson"});
    let guest_actor = |g: &Guest| match g.kind {
        GuestKind::External => json!({"id": "karin@kommun.se", "name": "Karin Kommun"}),
        GuestKind::Guest => {
            json!({"id": "ext_example.com#EXT#@region.onmicrosoft.com", "name": "Extern Konsult"})
        }
        GuestKind::Phone => json!({"id": "+46 70 000 00 00", "kind": "phone"}),
        GuestKind::Anonymous => {
            json!({"id": format!("anon-{}", code(i)), "name": "Gäst", "kind": "anonymous"})
        }
    };
    let mut line = |sec: i64, actor: &Value, ty: &str, extra: Value| {
        let mut v = json!({
            "time": iso(sec),
            "platform": "teams",
            "meeting": meeting,
            "type": ty,
            "actor": actor,
        });
        if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), extra) {
            o.extend(extra);
        }
        push(out, Stream::Native, sec, v);
    };
    let mut started = json!({"organizer": {"id": "anna@region.se"}});
    if let Some(s) = m.subject.text() {
        started["subject"] = json!(s);
    }
    line(c.t0, &anna, "meeting_started", started);
    line(
        c.t0 + 30,
        &anna,
        "participant_joined",
        json!({"role": "organizer", "via_lobby": false}),
    );
    if let Some(g) = &m.guest {
        let who = guest_actor(g);
        let (join, inside) = guest_times(&c, g);
        line(
            c.min(join),
            &who,
            "participant_joined",
            json!({"role": "attendee", "via_lobby": g.lobby}),
        );
        if g.lobby
            && let Some(t) = inside
        {
            line(
                c.min(t),
                &anna,
                "participant_admitted",
                json!({ "target": who }),
            );
        }
        if m.control {
            let at = c.at(500);
            line(
                c.min(at),
                &anna,
                "control_granted",
                json!({ "target": who }),
            );
            line(
                c.min(c.stop_after(at)),
                &anna,
                "control_revoked",
                json!({ "target": who }),
            );
        }
        line(c.min(c.duration - 1), &who, "participant_left", json!({}));
    }
    if m.rec != Rec::None {
        let at = c.at(m.rec_at);
        let media = if m.rec == Rec::Audio {
            "audio"
        } else {
            "video"
        };
        line(
            c.min(at),
            &anna,
            "recording_started",
            json!({ "media": media }),
        );
        line(
            c.min(c.stop_after(at)),
            &anna,
            "recording_stopped",
            json!({}),
        );
    }
    if let Some((scope, p)) = m.share {
        let at = c.at(p);
        let scope = match scope {
            Scope::Desktop => "desktop",
            Scope::Application => "application",
            Scope::Document => "document",
        };
        line(
            c.min(at),
            &anna,
            "screen_share_started",
            json!({ "scope": scope }),
        );
        line(
            c.min(c.stop_after(at)),
            &anna,
            "screen_share_stopped",
            json!({}),
        );
    }
    for (k, (p, chat)) in m.chats.iter().enumerate() {
        let at = c.min(c.at(*p)) + k as i64;
        let id = format!("msg-{}-{}", code(i), code(k));
        line(
            at,
            &anna,
            "chat_message",
            json!({"text": chat.text(), "message_id": id}),
        );
        if *chat == Chat::ThreatDeleted {
            line(
                at + 60,
                &anna,
                "chat_message_deleted",
                json!({ "message_id": id }),
            );
        }
    }
    line(c.end() - 30, &anna, "participant_left", json!({}));
    if m.ended {
        let reason = if m.by_host {
            "ended_by_host"
        } else {
            "last_left"
        };
        line(c.end(), &anna, "meeting_ended", json!({ "reason": reason }));
    }
}

/// **Pexip Infinity event sink**, version 2 (shape of `tests/fixtures/sources/pexip/
/// scenario.ndjson` and `shared/formats/pexip/eventsink-v2-docs-examples.secondary.ndjson`):
/// `conference_started`/`_ended` per node (a second node reports its own), `participant_
/// connected` (chair from an internal address, the guest from outside, `service_type`
/// `waiting_room` when through the lobby), `participant_updated` (`service_type` →
/// `conference` = admitted; `is_presenting` on and off, optionally repeated), a streaming
/// participant (`is_streaming`, `call_direction` out, RTMP) for a recording,
/// `participant_disconnected` with `end_time`. `seq` is filled in per node in emission order.
fn pexip_records(i: usize, m: &MeetingSpec, out: &mut Vec<Record>) {
    let c = Clock::of(m);
    let conf = pexip_room(i);
    let node_a = "10.1.0.11";
    let node_b = "10.1.0.12";
    let mut rec = |node: &str, sec: i64, event: &str, data: Value| {
        let body = json!({
            "node": node, "seq": 0, "version": 2, "time": sec as f64 + 0.25,
            "event": event, "data": data,
        });
        push(out, Stream::Pexip, sec, body);
    };
    struct P<'a> {
        uuid: String,
        source: &'a str,
        destination: String,
        display: &'a str,
        role: &'a str,
        remote: &'a str,
        direction: &'a str,
        protocol: &'a str,
    }
    let data = |p: &P<'_>, service: &str, presenting: bool, streaming: bool, muted: bool| {
        json!({
            "uuid": p.uuid, "call_id": p.uuid, "conference": conf,
            "source_alias": p.source, "destination_alias": p.destination,
            "display_name": p.display, "role": p.role, "service_type": service,
            "remote_address": p.remote, "protocol": p.protocol, "call_direction": p.direction,
            "is_presenting": presenting, "is_streaming": streaming, "is_muted": muted,
            "has_media": true, "system_location": "Växjö",
            "media_node": node_a, "signalling_node": node_a,
        })
    };
    let with_end = |mut d: Value, sec: i64| {
        d["end_time"] = json!(sec as f64);
        d["disconnect_reason"] = json!("Call disconnected");
        d
    };
    let room_alias = format!("meet.{}@region.se", code(i));
    rec(
        node_a,
        c.t0,
        "conference_started",
        json!({"name": conf, "service_type": "conference", "tag": "", "is_locked": false,
               "is_started": true, "guests_muted": false, "start_time": c.t0 as f64}),
    );
    if m.two_nodes {
        rec(
            node_b,
            c.t0 + 120,
            "conference_started",
            json!({"name": conf, "service_type": "conference", "tag": "", "start_time": (c.t0 + 120) as f64}),
        );
    }
    let chair = P {
        uuid: format!("uuid-chair-{}", code(i)),
        source: "sip:anna@region.se",
        destination: room_alias.clone(),
        display: "Anna Andersson",
        role: "chair",
        remote: "10.20.30.40",
        direction: "in",
        protocol: "WebRTC",
    };
    rec(
        node_a,
        c.t0 + 30,
        "participant_connected",
        data(&chair, "conference", false, false, false),
    );
    if let Some(g) = &m.guest {
        let (source, display, remote) = match g.kind {
            GuestKind::External => ("ext@example.com", "Extern Konsult", "203.0.113.5"),
            GuestKind::Guest => ("sip:gast@example.org", "Gäst", "203.0.113.6"),
            GuestKind::Phone => ("tel:+46700000000", "Telefon", "203.0.113.9"),
            GuestKind::Anonymous => ("", "Anonym", "203.0.113.7"),
        };
        let p = P {
            uuid: format!("uuid-guest-{}", code(i)),
            source,
            destination: room_alias.clone(),
            display,
            role: "guest",
            remote,
            direction: "in",
            protocol: "WebRTC",
        };
        let (join, inside) = guest_times(&c, g);
        let service = if g.lobby {
            "waiting_room"
        } else {
            "conference"
        };
        rec(
            node_a,
            c.min(join),
            "participant_connected",
            data(&p, service, false, false, false),
        );
        if g.lobby
            && let Some(t) = inside
        {
            rec(
                node_a,
                c.min(t),
                "participant_updated",
                data(&p, "conference", false, false, false),
            );
        }
        let left = c.min(c.duration - 1);
        let last = if g.lobby && inside.is_none() {
            "waiting_room"
        } else {
            "conference"
        };
        rec(
            node_a,
            left,
            "participant_disconnected",
            with_end(data(&p, last, false, false, false), left),
        );
    }
    if let Some((_, p)) = m.share {
        let at = c.at(p);
        let stop = c.stop_after(at);
        rec(
            node_a,
            c.min(at),
            "participant_updated",
            data(&chair, "conference", true, false, false),
        );
        if m.repeat_update {
            rec(
                node_a,
                c.min(at) + 20,
                "participant_updated",
                data(&chair, "conference", true, false, true),
            );
        }
        rec(
            node_a,
            c.min(stop),
            "participant_updated",
            data(&chair, "conference", false, false, m.repeat_update),
        );
    }
    if m.rec != Rec::None {
        let at = c.at(m.rec_at);
        let stop = c.stop_after(at);
        let streamer = P {
            uuid: format!("uuid-stream-{}", code(i)),
            source: &room_alias,
            destination: format!("rtmps://stream.region.se/live/{}", code(i)),
            display: "Inspelning",
            role: "guest",
            remote: "10.20.99.9",
            direction: "out",
            protocol: "RTMP",
        };
        rec(
            node_a,
            c.min(at),
            "participant_connected",
            data(&streamer, "conference", false, true, false),
        );
        rec(
            node_a,
            c.min(stop),
            "participant_disconnected",
            with_end(
                data(&streamer, "conference", false, true, false),
                c.min(stop),
            ),
        );
    }
    rec(
        node_a,
        c.end() - 30,
        "participant_disconnected",
        with_end(
            data(&chair, "conference", false, false, false),
            c.end() - 30,
        ),
    );
    if m.ended {
        if m.two_nodes {
            rec(
                node_b,
                c.end() - 20,
                "conference_ended",
                json!({"name": conf, "end_time": (c.end() - 20) as f64}),
            );
        }
        rec(
            node_a,
            c.end(),
            "conference_ended",
            json!({"name": conf, "end_time": c.end() as f64}),
        );
    }
}

fn pexip_room(i: usize) -> String {
    format!("vmr.{}", code(i))
}

/// **Zoom webhooks** (shape of `tests/fixtures/sources/zoom/scenario.ndjson` and
/// `shared/formats/zoom/elastic-test-meeting.json`, `elastic-test-recording.excerpt.json`):
/// `meeting.started` (`topic` = subject), `meeting.participant_joined` (the host, then the
/// guest; through `meeting.participant_joined_waiting_room` + `meeting.participant_admitted`
/// when via the waiting room), `meeting.chat_message_sent`, `meeting.sharing_started`/`_ended`,
/// `recording.started`/`stopped` (optional) and `recording.completed` 10 minutes after the end
/// (audio-only files: `M4A` `audio_only`; video: `MP4`), `meeting.participant_left`,
/// `meeting.ended`.
fn zoom_records(i: usize, m: &MeetingSpec, out: &mut Vec<Record>) {
    let c = Clock::of(m);
    let uuid = format!("zoomUuid{}Q/w==", code(i));
    let host_id = "hstA9xQz0Tq";
    let mut object = json!({
        "id": 912345678, "uuid": uuid, "host_id": host_id, "type": 2,
        "timezone": "Europe/Stockholm", "start_time": iso(c.t0), "duration": m.duration,
    });
    if let Some(s) = m.subject.text() {
        object["topic"] = json!(s);
    }
    let mut rec = |sec: i64, event: &str, extra: Value| {
        let mut obj = object.clone();
        if let (Some(o), Value::Object(extra)) = (obj.as_object_mut(), extra) {
            o.extend(extra);
        }
        let body = json!({"event": event, "event_ts": sec * 1000,
                          "payload": {"account_id": "acc0Region", "object": obj}});
        push(out, Stream::Zoom, sec, body);
    };
    let host = json!({"id": host_id, "user_id": "16778240", "user_name": "Anna Andersson",
                      "email": "anna@region.se"});
    let with = |p: &Value, k: &str, v: Value| {
        let mut p = p.clone();
        p[k] = v;
        p
    };
    rec(c.t0, "meeting.started", json!({}));
    rec(
        c.t0 + 30,
        "meeting.participant_joined",
        json!({"participant": with(&host, "join_time", json!(iso(c.t0 + 30)))}),
    );
    if let Some(g) = &m.guest {
        let p = match g.kind {
            GuestKind::External => json!({"id": "", "user_id": "16778241",
                "user_name": "Extern Konsult", "email": "ext@example.com"}),
            GuestKind::Guest => json!({"id": "", "user_id": "16778242",
                "user_name": "Gäst", "email": "gast@example.org"}),
            GuestKind::Phone => json!({"id": "", "user_id": "16778243",
                "user_name": "Telefon", "phone_number": "+46700000000"}),
            GuestKind::Anonymous => json!({"id": "", "user_id": "16778244",
                "user_name": "Anonym"}),
        };
        let (join, inside) = guest_times(&c, g);
        if g.lobby {
            rec(
                c.min(join),
                "meeting.participant_joined_waiting_room",
                json!({"participant": with(&p, "date_time", json!(iso(c.min(join))))}),
            );
            if let Some(t) = inside {
                rec(
                    c.min(t),
                    "meeting.participant_admitted",
                    json!({"participant": with(&p, "date_time", json!(iso(c.min(t))))}),
                );
            }
        }
        if let Some(t) = inside {
            rec(
                c.min(t) + 1,
                "meeting.participant_joined",
                json!({"participant": with(&p, "join_time", json!(iso(c.min(t) + 1)))}),
            );
            let left = c.min(c.duration - 1);
            rec(
                left,
                "meeting.participant_left",
                json!({"participant": with(&p, "leave_time", json!(iso(left)))}),
            );
        }
    }
    for (k, (p, chat)) in m.chats.iter().enumerate() {
        let at = c.min(c.at(*p)) + k as i64;
        rec(
            at,
            "meeting.chat_message_sent",
            json!({"chat_message": {
                "date_time": iso(at), "message_content": chat.text(),
                "message_id": format!("zm-{}-{}", code(i), code(k)),
                "sender_name": "Anna Andersson", "sender_email": "anna@region.se",
                "sender_session_id": "16778240", "sender_type": "host",
                "recipient_type": "everyone"}}),
        );
    }
    if let Some((scope, p)) = m.share {
        let at = c.at(p);
        let content = match scope {
            Scope::Desktop => "desktop",
            Scope::Application => "application",
            Scope::Document => "file",
        };
        for (sec, event) in [
            (c.min(at), "meeting.sharing_started"),
            (c.min(c.stop_after(at)), "meeting.sharing_ended"),
        ] {
            let details = json!({"content": content, "date_time": iso(sec),
                                 "link_source": "", "file_link": "", "source": ""});
            rec(
                sec,
                event,
                json!({"participant": with(&host, "sharing_details", details)}),
            );
        }
    }
    if m.rec != Rec::None {
        let at = c.min(c.at(m.rec_at));
        let stop = c.min(c.stop_after(c.at(m.rec_at)));
        if m.zoom_saw_start {
            rec(
                at,
                "recording.started",
                json!({"recording_file": {"recording_start": iso(at), "recording_end": ""}}),
            );
            rec(
                stop,
                "recording.stopped",
                json!({"recording_file": {"recording_start": iso(at), "recording_end": iso(stop)}}),
            );
        }
        let mut files = vec![json!({"id": "f-audio", "file_type": "M4A",
            "recording_type": "audio_only", "recording_start": iso(at),
            "recording_end": iso(stop), "status": "completed"})];
        if m.rec == Rec::Video {
            files.insert(
                0,
                json!({"id": "f-video", "file_type": "MP4",
                "recording_type": "shared_screen_with_speaker_view", "recording_start": iso(at),
                "recording_end": iso(stop), "status": "completed"}),
            );
        }
        files.push(json!({"id": "f-timeline", "file_type": "TIMELINE",
            "recording_start": iso(at), "recording_end": iso(stop)}));
        rec(
            c.end() + 600,
            "recording.completed",
            json!({"host_email": "anna@region.se", "recording_files": files}),
        );
    }
    rec(
        c.end() - 30,
        "meeting.participant_left",
        json!({"participant": with(&host, "leave_time", json!(iso(c.end() - 30)))}),
    );
    if m.ended {
        rec(c.end(), "meeting.ended", json!({"end_time": iso(c.end())}));
    }
}

fn teams_detail_id(i: usize) -> String {
    format!("c0ffee00-{}-4000-8000-000000000001", code(i))
}

fn teams_chat_id(i: usize) -> String {
    format!("19:meeting_{}Nzk@thread.v2", code(i))
}

const ANNA_GRAPH_ID: &str = "0b4f1cf6-54c8-4820-bbb7-2a1f4257ade5";

/// **Teams: Office 365 Management Activity API records** (shape of `tests/fixtures/sources/
/// teams/audit.json`; `shared/formats/teams/elastic-test-ms-teams-events.json`), written three
/// hours after the meeting as the audit log does: `MeetingDetail` (`StartTime`, `EndTime` when
/// ended, `ChatThreadId` = the Graph chat id), `MeetingParticipantDetail` per attendee
/// (`IsJoinedFromLobby`; external: another tenant's `OrganizationId`; `#EXT#` guest UPN;
/// `RecipientType` `Phone`/`Anonymous`), and the recorder bot's
/// ("SkypeBot Call Recorder Teams") for a recording.
fn audit_records(i: usize, m: &MeetingSpec, out: &mut Vec<Record>) {
    let c = Clock::of(m);
    let detail = teams_detail_id(i);
    let created = c.end() + 3 * 3600;
    let mut n = 0i64;
    let mut rec = |op: &str, extra: Value| {
        n += 1;
        let mut v = json!({
            "CreationTime": audit_time(created + n),
            "Id": format!("d00d0000-{}-4000-8000-{:012}", code(i), n),
            "Operation": op, "OrganizationId": TENANT, "RecordType": 25,
            "UserKey": "a1b2c3d4-0000-4000-8000-00000000aaaa", "UserType": 0, "Version": 1,
            "Workload": "MicrosoftTeams", "ClientIP": "10.20.30.40", "UserId": "anna@region.se",
            "ItemName": "ScheduledMeeting",
        });
        if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), extra) {
            o.extend(extra);
        }
        push(out, Stream::Audit, created + n, v);
    };
    let mut md = json!({
        "Id": detail, "ChatThreadId": teams_chat_id(i), "CommunicationType": "GroupCall",
        "StartTime": audit_time(c.t0),
        "MeetingURL": "https://teams.microsoft.com/l/meetup-join/x",
    });
    if m.ended {
        md["EndTime"] = json!(audit_time(c.end()));
    }
    rec("MeetingDetail", md);
    let browser = json!([{"Key": "UserAgent", "Value": "Mozilla/5.0 Teams/1.7"}]);
    rec(
        "MeetingParticipantDetail",
        json!({
            "MeetingDetailId": detail, "JoinTime": audit_time(c.t0 + 30),
            "LeaveTime": audit_time(c.end() - 30), "IsJoinedFromLobby": false,
            "Attendees": [{"OrganizationId": TENANT, "RecipientType": "User",
                "UserObjectId": ANNA_GRAPH_ID, "DisplayName": "Anna Andersson",
                "UPN": "anna@region.se"}],
            "ExtraProperties": browser,
        }),
    );
    if let Some(g) = &m.guest {
        let attendee = match g.kind {
            GuestKind::External => json!({"OrganizationId": OTHER_TENANT, "RecipientType": "User",
                "UserObjectId": "2c3f5f34-ac9f-42e7-8b35-442ccac166cb",
                "DisplayName": "Karin Kommun", "UPN": "karin@kommun.se"}),
            GuestKind::Guest => json!({"OrganizationId": TENANT, "RecipientType": "User",
                "UserObjectId": "3d4e5f60-ac9f-42e7-8b35-442ccac166cc",
                "DisplayName": "Extern Konsult",
                "UPN": "ext_example.com#EXT#@region.onmicrosoft.com"}),
            GuestKind::Phone => json!({"OrganizationId": null, "RecipientType": "Phone",
                "DisplayName": "+46 70 000 00 00", "UPN": ""}),
            GuestKind::Anonymous => json!({"OrganizationId": null, "RecipientType": "Anonymous",
                "DisplayName": "Anonym", "UPN": ""}),
        };
        let (join, _) = guest_times(&c, g);
        rec(
            "MeetingParticipantDetail",
            json!({
                "MeetingDetailId": detail, "JoinTime": audit_time(c.min(join)),
                "LeaveTime": audit_time(c.min(c.duration - 1)), "IsJoinedFromLobby": g.lobby,
                "Attendees": [attendee],
            }),
        );
    }
    if m.rec != Rec::None {
        let at = c.at(m.rec_at);
        rec(
            "MeetingParticipantDetail",
            json!({
                "MeetingDetailId": detail, "JoinTime": audit_time(c.min(at)),
                "LeaveTime": audit_time(c.min(c.stop_after(at))), "IsJoinedFromLobby": false,
                "Attendees": [{"RecipientType": "Applications",
                    "DisplayName": "4580fd1d-e5a3-4f56-9ad1-aab0e3bf8f76", "UPN": ""}],
                "ExtraProperties": [{"Key": "UserAgent", "Value": "SkypeBot Call Recorder Teams"}],
            }),
        );
    }
}

/// **Teams: Microsoft Graph `chatMessage` objects** of the meeting chat, filed under the chat
/// id (shape of `tests/fixtures/sources/teams/graph-messages.json`;
/// `shared/formats/teams/graph/chatmessage-event-*.json`): `callStartedEventMessageDetail`,
/// `membersJoinedEventMessageDetail` for the guest, `message`s with HTML bodies (a deleted one
/// appears again with `deletedDateTime`), `callRecordingEventMessageDetail` `initial`
/// (optional) and `success` with `callRecordingDuration` some seconds after the recording
/// ended, `membersLeftEventMessageDetail`, `callEndedEventMessageDetail`.
fn graph_records(i: usize, m: &MeetingSpec, out: &mut Vec<Record>) {
    let c = Clock::of(m);
    let chat = teams_chat_id(i);
    let user = |id: &str, name: &str, kind: &str, tenant: Option<&str>| {
        json!({"application": null, "device": null,
               "user": {"id": id, "displayName": name, "userIdentityType": kind, "tenantId": tenant}})
    };
    let anna = user(ANNA_GRAPH_ID, "Anna Andersson", "aadUser", Some(TENANT));
    let mut n = 0i64;
    // Deleted copies of messages, pushed once `msg` (which holds `out`) is done.
    let mut deleted_later: Vec<(i64, Value)> = Vec::new();
    let mut msg = |sec: i64, fields: Value| {
        n += 1;
        let id = (sec * 1000 + n).to_string();
        let mut v = json!({
            "id": id, "replyToId": null, "etag": id, "messageType": "systemEventMessage",
            "createdDateTime": graph_time(sec), "lastModifiedDateTime": graph_time(sec),
            "lastEditedDateTime": null, "deletedDateTime": null, "subject": null,
            "summary": null, "chatId": chat, "importance": "normal", "locale": "en-us",
            "webUrl": null, "channelIdentity": null, "policyViolation": null,
            "eventDetail": null, "from": null,
            "body": {"contentType": "html", "content": "<systemEventMessage/>"},
            "attachments": [], "mentions": [], "reactions": [],
        });
        if let (Some(o), Value::Object(fields)) = (v.as_object_mut(), fields) {
            o.extend(fields);
        }
        push(out, Stream::Graph, sec, v.clone());
        v
    };
    let system = |detail: Value| json!({ "eventDetail": detail });
    msg(
        c.t0,
        system(
            json!({"@odata.type": "#microsoft.graph.callStartedEventMessageDetail",
                      "callId": format!("call-{}", code(i)), "callEventType": "meeting",
                      "initiator": anna}),
        ),
    );
    let guest_user = m.guest.as_ref().map(|g| match g.kind {
        GuestKind::External => json!({"id": "2c3f5f34-ac9f-42e7-8b35-442ccac166cb",
            "displayName": "Karin Kommun", "userIdentityType": "aadUser", "tenantId": OTHER_TENANT}),
        GuestKind::Guest => json!({"id": "3d4e5f60-ac9f-42e7-8b35-442ccac166cc",
            "displayName": "Extern Konsult", "userIdentityType": "federatedUser", "tenantId": OTHER_TENANT}),
        GuestKind::Phone => json!({"id": "4e5f6071-ac9f-42e7-8b35-442ccac166cd",
            "displayName": "Telefon", "userIdentityType": "phoneUser", "tenantId": null}),
        GuestKind::Anonymous => json!({"id": "5f607182-ac9f-42e7-8b35-442ccac166ce",
            "displayName": "Anonym", "userIdentityType": "anonymousGuest", "tenantId": null}),
    });
    if let (Some(g), Some(member)) = (&m.guest, &guest_user) {
        let (join, inside) = guest_times(&c, g);
        let joined = inside.unwrap_or(join);
        msg(
            c.min(joined),
            system(
                json!({"@odata.type": "#microsoft.graph.membersJoinedEventMessageDetail",
                          "members": [member], "initiator": anna}),
            ),
        );
        msg(
            c.min(c.duration - 1),
            system(
                json!({"@odata.type": "#microsoft.graph.membersLeftEventMessageDetail",
                          "members": [member], "initiator": anna}),
            ),
        );
    }
    for (k, (p, text)) in m.chats.iter().enumerate() {
        let at = c.min(c.at(*p)) + k as i64;
        let html = format!("<p>{}</p>", text.text().replace('&', "&amp;"));
        let sent = msg(
            at,
            json!({"messageType": "message", "from": anna,
                   "body": {"contentType": "html", "content": html}}),
        );
        if *text == Chat::ThreatDeleted {
            // The same message listed again after its deletion.
            let mut deleted = sent;
            deleted["deletedDateTime"] = json!(graph_time(at + 60));
            deleted["lastModifiedDateTime"] = json!(graph_time(at + 60));
            deleted["from"] = Value::Null;
            deleted["body"] = json!({"contentType": "text", "content": null});
            deleted_later.push((at + 60, deleted));
        }
    }
    if m.rec != Rec::None {
        let at = c.at(m.rec_at);
        let stop = c.stop_after(at);
        let detail = |status: &str, url: Value, duration: Value| {
            system(json!({
                "@odata.type": "#microsoft.graph.callRecordingEventMessageDetail",
                "callId": format!("call-{}", code(i)), "callRecordingDisplayName": "Möte.mp4",
                "callRecordingUrl": url, "callRecordingDuration": duration,
                "callRecordingStatus": status, "meetingOrganizer": anna, "initiator": anna,
            }))
        };
        if m.graph_saw_initial {
            msg(c.min(at), detail("initial", Value::Null, Value::Null));
        }
        msg(
            c.min(stop) + i64::from(m.graph_lag),
            detail(
                "success",
                json!("https://region.sharepoint.com/x/M.mp4"),
                json!(format!("PT{}M", stop - at)),
            ),
        );
    }
    if m.ended {
        msg(
            c.end(),
            system(
                json!({"@odata.type": "#microsoft.graph.callEndedEventMessageDetail",
                          "callId": format!("call-{}", code(i)), "callDuration": "PT30M",
                          "callEventType": "meeting", "callParticipants": [], "initiator": anna}),
            ),
        );
    }
    for (sec, v) in deleted_later {
        push(out, Stream::Graph, sec, v);
    }
}

/// Every record of `meetings`, per stream, in each stream's natural (emission) order, Pexip
/// `seq` numbered per node.
fn records(meetings: &[MeetingSpec]) -> BTreeMap<Stream, Vec<Value>> {
    let mut all = Vec::new();
    for (i, m) in meetings.iter().enumerate() {
        match m.fmt {
            Fmt::Native => native_records(i, m, &mut all),
            Fmt::Pexip => pexip_records(i, m, &mut all),
            Fmt::Zoom => zoom_records(i, m, &mut all),
            Fmt::Teams => {
                if m.teams_audit {
                    audit_records(i, m, &mut all);
                }
                if m.teams_graph {
                    graph_records(i, m, &mut all);
                }
            }
        }
    }
    // Stable: records emitted at the same moment keep their generation order.
    all.sort_by_key(|r| (r.stream, r.emitted));
    let mut out: BTreeMap<Stream, Vec<Value>> = BTreeMap::new();
    let mut seq: BTreeMap<String, u64> = BTreeMap::new();
    for mut r in all {
        if r.stream == Stream::Pexip {
            let node = r.body["node"].as_str().unwrap().to_string();
            let n = seq.entry(node).or_default();
            *n += 1;
            r.body["seq"] = json!(*n);
        }
        out.entry(r.stream).or_default().push(r.body);
    }
    out
}

/// Pexip rooms used for care (their meeting has a care or patient subject in the spec).
fn care_rooms(meetings: &[MeetingSpec]) -> Vec<String> {
    meetings
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            m.fmt == Fmt::Pexip && matches!(m.subject, Subject::Care | Subject::PatientJournal)
        })
        .map(|(i, _)| pexip_room(i))
        .collect()
}

/// The emission day of a record (for splitting by day).
fn day_of(stream: Stream, r: &Value) -> i64 {
    let parse = |s: &str| -> i64 {
        let s = if s.ends_with('Z') {
            s.to_string()
        } else {
            format!("{s}Z")
        };
        s.parse::<Timestamp>().map(|t| t.as_second()).unwrap_or(0)
    };
    let sec = match stream {
        Stream::Native => parse(r["time"].as_str().unwrap()),
        Stream::Pexip => r["time"].as_f64().unwrap() as i64,
        Stream::Zoom => r["event_ts"].as_i64().unwrap() / 1000,
        Stream::Audit => parse(r["CreationTime"].as_str().unwrap()),
        Stream::Graph => parse(
            r["deletedDateTime"]
                .as_str()
                .or(r["createdDateTime"].as_str())
                .unwrap(),
        ),
    };
    sec.div_euclid(86_400)
}

// ---------------------------------------------------------------------------------------------
// The generator: splits
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Cut {
    /// Each record boundary is a cut with this probability (percent).
    Random(u8),
    /// Where the emission day changes.
    ByDay,
    /// One file per record.
    EveryRecord,
}

/// How one case's records are split: cuts, then the pieces of all streams shuffled and dealt
/// into `runs` consecutive scans (each with its files in random order).
#[derive(Debug, Clone, Copy)]
struct SplitPlan {
    cut: Cut,
    runs: usize,
    seed: u64,
}

fn plan_strategy() -> impl Strategy<Value = SplitPlan> {
    (
        prop_oneof![
            4 => (5u8..70).prop_map(Cut::Random),
            1 => Just(Cut::ByDay),
            1 => Just(Cut::EveryRecord)
        ],
        1usize..=5,
        any::<u64>(),
    )
        .prop_map(|(cut, runs, seed)| SplitPlan { cut, runs, seed })
}

/// SplitMix64: the split's randomness comes from the plan's seed, so a case is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// A file of the split input: its stream and records.
struct Piece {
    stream: Stream,
    records: Vec<Value>,
}

/// Cuts every stream per `plan` and deals the pieces into runs.
fn split(streams: &BTreeMap<Stream, Vec<Value>>, plan: &SplitPlan) -> Vec<Vec<Piece>> {
    let mut rng = Rng(plan.seed);
    let mut pieces = Vec::new();
    for (&stream, recs) in streams {
        let mut current: Vec<Value> = Vec::new();
        for (k, r) in recs.iter().enumerate() {
            let cut_here = k > 0
                && match plan.cut {
                    Cut::Random(p) => rng.below(100) < usize::from(p),
                    Cut::ByDay => day_of(stream, r) != day_of(stream, &recs[k - 1]),
                    Cut::EveryRecord => true,
                };
            if cut_here {
                pieces.push(Piece {
                    stream,
                    records: std::mem::take(&mut current),
                });
            }
            current.push(r.clone());
        }
        if !current.is_empty() {
            pieces.push(Piece {
                stream,
                records: current,
            });
        }
    }
    rng.shuffle(&mut pieces);
    let runs = plan.runs.min(pieces.len()).max(1);
    // runs - 1 distinct cut points in 1..len: every run gets at least one file.
    let mut bounds: BTreeSet<usize> = BTreeSet::new();
    while bounds.len() < runs - 1 {
        bounds.insert(1 + rng.below(pieces.len() - 1));
    }
    let mut out: Vec<Vec<Piece>> = vec![Vec::new()];
    for (k, p) in pieces.into_iter().enumerate() {
        if bounds.contains(&k) {
            out.push(Vec::new());
        }
        out.last_mut().unwrap().push(p);
    }
    out
}

/// One generated case: the meetings and how their records are split.
#[derive(Debug, Clone)]
struct Case {
    meetings: Vec<MeetingSpec>,
    plan: SplitPlan,
    tenants: Tenants,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(meeting_strategy(), 1..=10),
        plan_strategy(),
        prop_oneof![Just(Tenants::Configured), Just(Tenants::Learned)],
    )
        .prop_map(|(meetings, plan, tenants)| Case {
            meetings,
            plan,
            tenants,
        })
}

/// A readable summary of the case, without any text: meeting codes, formats, features.
fn describe_case(case: &Case) -> String {
    let mut s = format!("    tenant {:?}\n", case.tenants);
    for (i, m) in case.meetings.iter().enumerate() {
        // Pexip has no chat: its meetings' chats are not written.
        let chats: Vec<String> = if m.fmt == Fmt::Pexip || (m.fmt == Fmt::Teams && !m.teams_graph) {
            Vec::new()
        } else {
            m.chats.iter().map(|(_, c)| format!("{c:?}")).collect()
        };
        s.push_str(&format!(
            "    {} {:?}{} day+{} slot {} {} min{} subject {:?} guest {} rec {:?} share {:?} chats [{}]{}{}{}{}\n",
            code(i),
            m.fmt,
            if m.fmt == Fmt::Teams {
                format!(
                    "({}{})",
                    if m.teams_audit { "audit" } else { "" },
                    if m.teams_graph { "+graph" } else { "" }
                )
            } else {
                String::new()
            },
            m.day,
            m.slot,
            m.duration,
            if m.ended { "" } else { " OPEN" },
            m.subject,
            m.guest.map_or("none".to_string(), |g| format!(
                "{:?}{}",
                g.kind,
                match (g.lobby, g.admit_after.is_some()) {
                    (false, _) => " direct",
                    (true, true) => " lobby+admitted",
                    (true, false) => " lobby-never-admitted",
                }
            )),
            m.rec,
            m.share.map(|s| s.0),
            chats.join(", "),
            if m.control && m.fmt == Fmt::Native && m.guest.is_some() { " control-to-guest" } else { "" },
            if m.two_nodes && m.fmt == Fmt::Pexip { " two-nodes" } else { "" },
            if m.repeat_update && m.fmt == Fmt::Pexip { " repeated-update" } else { "" },
            if m.fmt == Fmt::Zoom && m.rec != Rec::None && !m.zoom_saw_start {
                " completed-only"
            } else if m.fmt == Fmt::Teams && m.rec != Rec::None && !m.graph_saw_initial {
                " success-only"
            } else {
                ""
            },
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// A. The property test
// ---------------------------------------------------------------------------------------------

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Checks one case: one scan of everything vs the split scans into one database.
fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let streams = records(&case.meetings);
    let cfg = write_config_tenant(dir.path(), &care_rooms(&case.meetings), case.tenants);

    // Baseline: one file per stream, everything in natural order, one scan, fresh database.
    let base = dir.path().join("base");
    std::fs::create_dir_all(&base).unwrap();
    let mut base_files = Vec::new();
    for (stream, recs) in &streams {
        let path = base.join(format!("{}.{}", stream.file_stem(), stream.ext()));
        std::fs::write(&path, stream.render(recs)).unwrap();
        base_files.push(path);
    }
    let (want, base_err) = one_scan(dir.path(), &cfg, &base_files);
    let names: Vec<&str> = streams.keys().map(|s| s.format_name()).collect();
    assert_all_mapped(&base_err, &names);

    // The split: pieces as files, in runs, into one database.
    let runs = split(&streams, &case.plan);
    let db = dir.path().join("split.sqlite");
    let mut layout = String::new();
    let mut n = 0;
    for (r, run) in runs.iter().enumerate() {
        let run_dir = dir.path().join(format!("run-{r}"));
        std::fs::create_dir_all(&run_dir).unwrap();
        let mut files = Vec::new();
        // format → (files, records)
        let mut desc: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for piece in run {
            n += 1;
            let path = run_dir.join(format!(
                "{}-{n:03}.{}",
                piece.stream.file_stem(),
                piece.stream.ext()
            ));
            std::fs::write(&path, piece.stream.render(&piece.records)).unwrap();
            files.push(path);
            let e = desc.entry(piece.stream.format_name()).or_default();
            e.0 += 1;
            e.1 += piece.records.len();
        }
        let desc: Vec<String> = desc
            .iter()
            .map(|(f, (files, recs))| format!("{f} {files} files/{recs} records"))
            .collect();
        layout.push_str(&format!("    scan {}: {}\n", r + 1, desc.join(", ")));
        scan(&db, &cfg, &files);
    }
    let got = stored(&db);
    if let Some(diff) = compare(&want, &got, "after the split scans") {
        let total: usize = streams.values().map(Vec::len).sum();
        return Err(TestCaseError::fail(safe(format!(
            "{diff}\n  meetings (letter code, format, features):\n{}\n  split {:?} of {total} records into {n} files, {} scans, files in random order:\n{layout}{}",
            describe_case(case),
            case.plan.cut,
            runs.len(),
            keep_if_asked(dir),
        ))));
    }
    Ok(())
}

/// However the records of every format are cut into files and scans, the store ends with the
/// incidents of one scan.
#[test]
fn split_scans_give_the_incidents_of_one_scan() {
    let mut config = ProptestConfig {
        cases: env_u32("PROPTEST_CASES", 24),
        // Every case spawns several processes: keep shrinking bounded.
        max_shrink_iters: env_u32("PROPTEST_MAX_SHRINK_ITERS", 48),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    // A seed of our own (unless PROPTEST_RNG_SEED gives one), so a failure can be rerun.
    let seed = match config.rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            config.rng_seed = RngSeed::Fixed(seed);
            seed
        }
    };
    require_incidents_reader();
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case_strategy(), |case| check_case(&case));
    if let Err(e) = result {
        // proptest's own message prints the minimal case with `Debug`, which holds no text.
        panic!(
            "{}",
            safe(format!(
                "{e}\n(rerun this run with PROPTEST_RNG_SEED={seed})"
            ))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// B. Named regressions
// ---------------------------------------------------------------------------------------------

/// A native line at `time` (RFC 3339).
fn nat(meeting: &str, time: &str, ty: &str, extra: Value) -> String {
    let mut v = json!({
        "time": time, "platform": "teams", "meeting": meeting, "type": ty,
        "actor": {"id": "anna@region.se"},
    });
    if let (Some(o), Value::Object(extra)) = (v.as_object_mut(), extra) {
        o.extend(extra);
    }
    v.to_string()
}

fn profile_config(dir: &Path, profiles: &[&str], extra: &str) -> PathBuf {
    let list: Vec<String> = profiles.iter().map(|p| format!("\"{p}\"")).collect();
    let path = dir.join(format!("cfg-{}-{}.toml", profiles.join("-"), extra.len()));
    std::fs::write(
        &path,
        format!(
            "internal_domains = [\"region.se\"]\ntenant_ids = [\"{TENANT}\"]\nprofiles = [{}]\n{extra}\n",
            list.join(", ")
        ),
    )
    .unwrap();
    path
}

/// Scans `runs` (each a list of files) one after another into a fresh database; returns the
/// final incidents.
fn split_into_one_db(dir: &Path, name: &str, cfg: &Path, runs: &[&[PathBuf]]) -> Vec<Key> {
    let db = dir.join(format!("{name}.sqlite"));
    for files in runs {
        scan(&db, cfg, files);
    }
    stored(&db)
}

fn has(set: &BTreeSet<Key>, rule: &str, meeting: &str) -> bool {
    set.iter().any(|k| k.1 == rule && k.2 == meeting)
}

fn assert_same(want: &BTreeSet<Key>, got: &[Key], what: &str) {
    if let Some(diff) = compare(want, got, "after the split scans") {
        panic!("{}", safe(format!("{what}: {diff}")));
    }
}

/// The clock is the latest event time the store has seen: a meeting left open on day 1 is
/// `meeting-not-ended` once day 2's events are scanned, though it gets no new event.
#[test]
fn meeting_not_ended_fires_across_daily_scans() {
    let dir = tempfile::tempdir().unwrap();
    let day1 = write(
        dir.path(),
        "day1.ndjson",
        &[
            nat(
                "open-mtg",
                "2024-05-06T10:00:00+02:00",
                "meeting_started",
                json!({"subject": "Veckomöte", "organizer": {"id": "anna@region.se"}}),
            ),
            nat(
                "open-mtg",
                "2024-05-06T10:01:00+02:00",
                "participant_joined",
                json!({"role": "organizer"}),
            ),
            nat(
                "open-mtg",
                "2024-05-06T10:30:00+02:00",
                "participant_left",
                json!({}),
            ),
        ],
    );
    let day2 = write(
        dir.path(),
        "day2.ndjson",
        &[
            nat(
                "next-day-mtg",
                "2024-05-07T10:00:00+02:00",
                "meeting_started",
                json!({"subject": "Veckomöte", "organizer": {"id": "anna@region.se"}}),
            ),
            nat(
                "next-day-mtg",
                "2024-05-07T10:01:00+02:00",
                "participant_joined",
                json!({"role": "organizer"}),
            ),
            nat(
                "next-day-mtg",
                "2024-05-07T10:44:00+02:00",
                "participant_left",
                json!({}),
            ),
            nat(
                "next-day-mtg",
                "2024-05-07T10:45:00+02:00",
                "meeting_ended",
                json!({"reason": "ended_by_host"}),
            ),
        ],
    );
    let cfg = profile_config(dir.path(), &["vgr-samsa"], "");
    let (want, _) = one_scan(dir.path(), &cfg, &[day1.clone(), day2.clone()]);
    assert!(
        has(&want, "meeting-not-ended", "open-mtg")
            && !has(&want, "meeting-not-ended", "next-day-mtg"),
        "one scan of both days: m1 is not ended, m2 is:\n{}",
        show(&want)
    );
    let got = split_into_one_db(dir.path(), "daily", &cfg, &[&[day1], &[day2]]);
    assert_same(&want, &got, "day 1, then day 2");
}

/// The meeting's subject is the detector's context for its chat, whichever scan brought
/// which.
#[test]
fn subject_context_survives_separate_scans() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a-meeting.ndjson",
        &[
            nat(
                "open-mtg",
                "2024-05-06T10:00:00+02:00",
                "meeting_started",
                json!({"subject": "Genomgång patient journal", "organizer": {"id": "anna@region.se"}}),
            ),
            nat(
                "open-mtg",
                "2024-05-06T10:01:00+02:00",
                "participant_joined",
                json!({"role": "organizer"}),
            ),
        ],
    );
    let b = write(
        dir.path(),
        "b-chat.ndjson",
        &[nat(
            "open-mtg",
            "2024-05-06T10:05:00+02:00",
            "chat_message",
            json!({"text": "ok 8612082399", "message_id": "c1"}),
        )],
    );
    let cfg = profile_config(dir.path(), &["vgr-samsa"], "");
    let (want, _) = one_scan(dir.path(), &cfg, &[a.clone(), b.clone()]);
    assert!(
        has(&want, "chat-patient-data", "open-mtg"),
        "one scan of A+B: the subject makes the bare number patient data:\n{}",
        show(&want)
    );
    let got = split_into_one_db(
        dir.path(),
        "a-then-b",
        &cfg,
        &[std::slice::from_ref(&a), std::slice::from_ref(&b)],
    );
    assert_same(&want, &got, "A, then B");
    let got = split_into_one_db(dir.path(), "b-then-a", &cfg, &[&[b], &[a]]);
    assert_same(&want, &got, "B, then A");
}

/// Event identity comes from the source record, not from what the detector made of it: a
/// rescan with another `[detect]` configuration files nothing twice.
#[test]
fn rescan_after_detect_config_change_files_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "chat.ndjson",
        &[
            nat(
                "open-mtg",
                "2024-05-06T10:00:00+02:00",
                "meeting_started",
                json!({"organizer": {"id": "anna@region.se"}}),
            ),
            nat(
                "open-mtg",
                "2024-05-06T10:05:00+02:00",
                "chat_message",
                json!({"text": format!("pnr {PNR} diagnos F32.1"), "message_id": "c1"}),
            ),
        ],
    );
    let plain = profile_config(dir.path(), &["vgr-samsa"], "");
    let no_icd = profile_config(
        dir.path(),
        &["vgr-samsa"],
        "[detect.formats]\nicd10 = false",
    );
    let db = dir.path().join("state.sqlite");
    let first = scan(&db, &plain, std::slice::from_ref(&file));
    assert!(
        keys_of(&first).iter().any(|k| k.1 == "chat-patient-data"),
        "the chat is patient data:\n{}",
        show(&keys_of(&first))
    );
    let before: BTreeSet<Key> = stored(&db).into_iter().collect();
    let second = scan(&db, &no_icd, std::slice::from_ref(&file));
    let new: Vec<Key> = incidents(&second)
        .iter()
        .filter(|i| i["status"] == "new")
        .map(key_of)
        .collect();
    assert!(
        new.is_empty(),
        "{}",
        safe(format!(
            "the rescan with icd10 = false reported incidents as new:\n{}",
            show(&new)
        ))
    );
    assert_same(&before, &stored(&db), "after the rescan with icd10 = false");
    // And back: the first configuration again changes nothing either.
    scan(&db, &plain, std::slice::from_ref(&file));
    assert_same(
        &before,
        &stored(&db),
        "after a third scan with the first config",
    );
}

/// Teams: Graph files the chat under the chat id; the audit `MeetingDetail`, scanned later,
/// links it to the meeting. The incident moves to the meeting; it is not doubled.
#[test]
fn alias_learnt_later_moves_incidents_not_doubles_them() {
    let dir = tempfile::tempdir().unwrap();
    let chat_id = "19:meeting_OTZhYmNkZWYtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAx@thread.v2";
    let detail_id = "c0ffee00-0000-4000-8000-0000000000aa";
    let message = json!({
        "id": "1714640700000", "replyToId": null, "etag": "1714640700000",
        "messageType": "message", "createdDateTime": "2024-05-06T08:05:00.000Z",
        "lastModifiedDateTime": "2024-05-06T08:05:00.000Z", "lastEditedDateTime": null,
        "deletedDateTime": null, "subject": null, "summary": null, "chatId": chat_id,
        "importance": "normal", "locale": "en-us", "webUrl": null, "channelIdentity": null,
        "policyViolation": null, "eventDetail": null,
        "from": {"application": null, "device": null, "user": {
            "id": ANNA_GRAPH_ID, "displayName": "Anna Andersson",
            "userIdentityType": "aadUser", "tenantId": TENANT}},
        "body": {"contentType": "html", "content": format!("<p>G&auml;ller patient {PNR}, se journalen</p>")},
        "attachments": [], "mentions": [], "reactions": [],
    });
    let graph = dir.path().join("graph.json");
    std::fs::write(
        &graph,
        serde_json::to_string_pretty(&json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#chats('x')/messages",
            "value": [message],
        }))
        .unwrap(),
    )
    .unwrap();
    let audit = dir.path().join("audit.json");
    std::fs::write(
        &audit,
        serde_json::to_string_pretty(&json!([{
            "CreationTime": "2024-05-06T13:05:11", "Id": detail_id,
            "Operation": "MeetingDetail", "OrganizationId": TENANT, "RecordType": 25,
            "UserKey": "a1b2c3d4-0000-4000-8000-00000000aaaa", "UserType": 0, "Version": 1,
            "Workload": "MicrosoftTeams", "ClientIP": "10.20.30.40", "UserId": "anna@region.se",
            "ChatThreadId": chat_id, "CommunicationType": "GroupCall",
            "StartTime": "2024-05-06T08:00:00", "EndTime": "2024-05-06T08:30:00",
            "MeetingURL": "https://teams.microsoft.com/l/meetup-join/x",
            "ItemName": "ScheduledMeeting",
        }]))
        .unwrap(),
    )
    .unwrap();

    let cfg = profile_config(dir.path(), &["vgr-samsa"], "");
    let (want, err) = one_scan(dir.path(), &cfg, &[graph.clone(), audit.clone()]);
    assert_all_mapped(&err, &["teams-graph", "teams-audit-json"]);
    assert!(
        has(&want, "chat-patient-data", detail_id) && !want.iter().any(|k| k.2 == chat_id),
        "one scan of both files the chat incident under the meeting:\n{}",
        show(&want)
    );
    let got = split_into_one_db(dir.path(), "graph-then-audit", &cfg, &[&[graph], &[audit]]);
    let under_chat: Vec<&Key> = got.iter().filter(|k| k.2 == chat_id).collect();
    let diff = compare(&want, &got, "after Graph, then audit").unwrap_or_default();
    assert!(
        under_chat.is_empty() && diff.is_empty(),
        "{}",
        safe(format!(
            "Graph chat, then the audit MeetingDetail: {} incident(s) still filed under the chat \
             id after the audit record linked it; {diff}",
            under_chat.len()
        ))
    );
}

/// Teams, `tenant_ids` not set: a Graph chat author known by object id and tenant is internal
/// once an audit record names that tenant as its own `OrganizationId` (the tenant is learned).
/// The audit export, of another meeting, scanned after the chat: the chat is judged again and
/// its incident ends as one scan of both gives it (`high`, not `critical`).
#[test]
fn tenant_learnt_later_lowers_the_chat_incident_as_one_scan_does() {
    let dir = tempfile::tempdir().unwrap();
    let chat_id = "19:meeting_VGVuYW50TGVhcm5lZExhdGVy@thread.v2";
    let message = json!({
        "id": "1714640700001", "messageType": "message",
        "createdDateTime": "2024-05-06T08:05:00.000Z",
        "lastModifiedDateTime": "2024-05-06T08:05:00.000Z", "deletedDateTime": null,
        "chatId": chat_id, "eventDetail": null,
        "from": {"application": null, "device": null, "user": {
            "id": ANNA_GRAPH_ID, "displayName": "Anna Andersson",
            "userIdentityType": "aadUser", "tenantId": TENANT}},
        "body": {"contentType": "html", "content": format!("<p>G&auml;ller patient {PNR}, se journalen</p>")},
        "attachments": [], "mentions": [], "reactions": [],
    });
    let graph = dir.path().join("graph.json");
    std::fs::write(&graph, json!({"value": [message]}).to_string()).unwrap();
    let audit = dir.path().join("audit.json");
    std::fs::write(
        &audit,
        json!([{
            "CreationTime": "2024-05-07T13:05:11", "Id": "c0ffee00-0000-4000-8000-0000000000bb",
            "Operation": "MeetingDetail", "OrganizationId": TENANT, "RecordType": 25,
            "UserId": "bo@region.se", "ChatThreadId": "19:meeting_QW5vdGhlcg@thread.v2",
            "StartTime": "2024-05-07T08:00:00", "EndTime": "2024-05-07T08:30:00",
        }])
        .to_string(),
    )
    .unwrap();
    let cfg = dir.path().join("learn.toml");
    std::fs::write(
        &cfg,
        "internal_domains = [\"region.se\"]\nprofiles = [\"vgr-samsa\"]\n",
    )
    .unwrap();
    let severity = |keys: &[Key]| -> Vec<String> {
        keys.iter()
            .filter(|k| k.1 == "chat-patient-data" && k.2 == chat_id)
            .map(|k| k.3.clone())
            .collect()
    };
    let (want, err) = one_scan(dir.path(), &cfg, &[graph.clone(), audit.clone()]);
    assert_all_mapped(&err, &["teams-graph", "teams-audit-json"]);
    let want_list: Vec<Key> = want.iter().cloned().collect();
    assert_eq!(
        severity(&want_list),
        ["high"],
        "one scan: the author is internal"
    );
    let alone = split_into_one_db(
        dir.path(),
        "graph-alone",
        &cfg,
        &[std::slice::from_ref(&graph)],
    );
    assert_eq!(
        severity(&alone),
        ["critical"],
        "without the audit record: external"
    );
    let got = split_into_one_db(dir.path(), "graph-then-audit", &cfg, &[&[graph], &[audit]]);
    assert_same(
        &want,
        &got,
        "Graph chat, then the audit export of another meeting",
    );
}

// ---------------------------------------------------------------------------------------------
// C. Kill test
// ---------------------------------------------------------------------------------------------

/// Many meetings with incidents, made by the property test's generator from a fixed seed, in
/// every stream; written as several files per stream so that kills land between files too.
fn big_input(dir: &Path, meetings: usize) -> (Vec<PathBuf>, PathBuf) {
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(meeting_strategy(), meetings);
    let specs = strategy.new_tree(&mut runner).unwrap().current();
    let streams = records(&specs);
    let cfg = write_config(dir, &care_rooms(&specs));
    let input = dir.join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut files = Vec::new();
    for (stream, recs) in &streams {
        for (k, chunk) in recs.chunks(recs.len().div_ceil(6).max(1)).enumerate() {
            let path = input.join(format!("{}-{k}.{}", stream.file_stem(), stream.ext()));
            std::fs::write(&path, stream.render(chunk)).unwrap();
            files.push(path);
        }
    }
    (files, cfg)
}

/// Starts `scan --db DB` and SIGKILLs it after `delay` (`Child::kill` sends SIGKILL on Unix).
/// Returns whether it had already exited by then.
fn scan_killed_after(db: &Path, cfg: &Path, files: &[PathBuf], delay: Duration) -> bool {
    let mut child = bin()
        .args(scan_args(db, cfg, files))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the motesvakt binary runs");
    std::thread::sleep(delay);
    let finished = matches!(child.try_wait(), Ok(Some(_)));
    if !finished {
        child.kill().expect("SIGKILL the scan");
    }
    child.wait().unwrap();
    finished
}

/// A scan SIGKILLed at any moment (while reading, between files, while judging, while
/// writing incidents) leaves a database that the same scan, run again, completes: the final
/// incidents are those of one clean scan.
#[test]
fn scan_killed_at_random_moments_is_completed_by_the_next_scan() {
    require_incidents_reader();
    let dir = tempfile::tempdir().unwrap();
    let (files, cfg) = big_input(
        dir.path(),
        env_u32("MOTESVAKT_KILL_MEETINGS", 1500) as usize,
    );
    let started = Instant::now();
    let (want, base_err) = one_scan(dir.path(), &cfg, &files);
    let full = started.elapsed();
    let names: Vec<&str> = [
        Stream::Native,
        Stream::Pexip,
        Stream::Zoom,
        Stream::Audit,
        Stream::Graph,
    ]
    .iter()
    .map(|s| s.format_name())
    .collect();
    assert_all_mapped(&base_err, &names);
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &want {
        *by_rule.entry(k.1.as_str()).or_default() += 1;
    }
    assert!(
        want.len() > 100,
        "the input should raise many incidents, got {}",
        want.len()
    );

    // Delays: at once, very early, random ones through the run, near the end.
    let seed = std::env::var("MOTESVAKT_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = Rng(seed);
    let frac = |f: f64| full.mul_f64(f);
    let mut delays = vec![Duration::ZERO, Duration::from_millis(3)];
    for _ in 0..3 {
        delays.push(frac(0.05 + (rng.below(900) as f64) / 1000.0));
    }
    // Near the end: a clean scan finishes in about `full` (killed runs write no stdout).
    delays.push(frac(0.9));
    let mut report = format!(
        "one clean scan: {} incidents in {:.2} s ({by_rule:?}); seed {seed} (MOTESVAKT_KILL_SEED)\n",
        want.len(),
        full.as_secs_f64()
    );
    let mut failures = Vec::new();
    for (k, delay) in delays.iter().enumerate() {
        let db = dir.path().join(format!("killed-{k}.sqlite"));
        let finished = scan_killed_after(&db, &cfg, &files, *delay);
        scan(&db, &cfg, &files);
        let line = format!(
            "  killed after {:>5} ms{}",
            delay.as_millis(),
            if finished {
                " (it had already finished)"
            } else {
                ""
            }
        );
        report.push_str(&line);
        report.push('\n');
        if let Some(diff) = compare(&want, &stored(&db), "after the killed and the full scan") {
            failures.push(format!("{line}, then a full scan:\n{diff}"));
        }
    }
    // One database killed several times in a row, then completed.
    let db = dir.path().join("killed-repeatedly.sqlite");
    let chain: Vec<Duration> = vec![frac(0.3), Duration::from_millis(1), frac(0.6), frac(0.9)];
    let mut line = String::from("  one database killed after");
    for delay in &chain {
        let finished = scan_killed_after(&db, &cfg, &files, *delay);
        line.push_str(&format!(
            " {} ms{}",
            delay.as_millis(),
            if finished { " (finished)" } else { "" }
        ));
    }
    scan(&db, &cfg, &files);
    report.push_str(&line);
    report.push('\n');
    if let Some(diff) = compare(&want, &stored(&db), "after the killed and the full scan") {
        failures.push(format!("{line}, then a full scan:\n{diff}"));
    }
    println!("{report}");
    if !failures.is_empty() {
        report.push_str(&keep_if_asked(dir));
    }
    assert!(
        failures.is_empty(),
        "{}",
        safe(format!("{report}\n{}", failures.join("\n")))
    );
}
