//! `gen`: realistic synthetic meeting-platform exports, for benchmarks and tests.
//!
//! ```text
//! cargo run --release --locked --example gen -- --format FORMAT --size SIZE --out DIR
//!     [--seed N] [--breach-rate R] [--users N] [--meetings N] [--one-meeting-chat N]
//! cargo run --release --locked --example gen -- --print-config > motesvakt.toml
//! ```
//!
//! - `FORMAT`: `native`, `teams-audit-csv`, `teams-audit-json`, `teams-graph`, `zoom`, `pexip`,
//!   `webex`; `all` writes one file of each (each of `SIZE`, the same meetings from the start);
//!   `teams` writes the audit CSV and the Graph chat export of the same meetings
//!   (`MeetingDetail.ChatThreadId` = Graph `chatId`, so motesvakt joins them by alias), of
//!   `SIZE` together.
//! - `SIZE`: `200MB`, `1GB`, `5GB` (decimal; `MiB`/`GiB` binary). Writing stops at the first
//!   record boundary at or past it (then closes the open array or page).
//! - `--meetings N`: exactly N meetings, each written whole (unless `--size` comes first).
//!   `--one-meeting-chat N`: one meeting with N chat messages (Pexip, which has no chat, gets N
//!   participant updates).
//! - `--breach-rate R`: share of chat messages holding an identity number, `0.02` (default) or
//!   `2%`. `--users N`: the address book (default 3000). `--seed N` (default 1): the same seed
//!   and options give byte-identical files.
//! - `--print-config`: the motesvakt configuration that makes these exports' own people
//!   internal (`internal_domains`, `tenant_ids`, `webex_org_ids`, `internal_networks`).
//!
//! Files are named `native.ndjson`, `teams-audit.csv`, `teams-audit.json`, `teams-graph.json`,
//! `zoom.ndjson`, `pexip.ndjson`, `webex.ndjson` in `DIR`. On stderr, per file: bytes, records,
//! events (as motesvakt maps them), meetings, chat messages and how many hold an identity
//! number, and the speed. Nothing of the content is printed.
//!
//! ## The workload
//!
//! - **Users**: `--users` people (default 3,000), about 85 % internal (`@region.se`, a tenth of
//!   them `@vard.region.se`), the rest at municipalities, suppliers and private addresses.
//!   Each meeting adds, besides its organiser (always internal): internal colleagues (65 %),
//!   external users (15 %), Teams guests (`#EXT#`, 8 %), anonymous (6 %) and phone (6 %)
//!   participants. External, guest and anonymous participants mostly (70 %) wait in the lobby
//!   and are admitted; internal ones rarely (5 %).
//! - **Meetings**: 5-30 planned events each, 15-90 minutes, starting on working days between
//!   06:30 and 16:00 UTC from Monday 2024-05-06, about one meeting per two users per day, so
//!   about a hundred overlap at any time and a 200 MB file spans weeks. In time order within
//!   each meeting and merged in time order across meetings, as a collector writes them.
//! - **Event mix** per meeting: start; a join per participant (through the lobby and an
//!   admission for some); leaves; screen shares (35 % of meetings: desktop, application,
//!   document); a recording (6 %; one in ten audio only); transcription (4 %); a shared file
//!   (8 %); chat for the rest of the budget; a deleted message (6 % of meetings); an end by the
//!   host (85 %; the rest are never ended).
//! - **Chat**: Swedish everyday and clinical messages (weak clinical signals, phone numbers,
//!   times, order numbers: no identity number); `--breach-rate` of them (default 2 %) name a
//!   patient by one of 128 Skatteverket test personnummer (`gen/pnr.rs`) in the forms
//!   `YYYYMMDD-NNNC` (35 %), `YYMMDD-NNNC` (35 %), `YYYYMMDDNNNC` (15 %), `YYMMDDNNNC` (10 %)
//!   and `YYMMDD NNNC` (5 %); the bare and spaced forms always with an identity or patient
//!   keyword, so every one is patient data at the default confidence.
//! - **Per format** (what each record imitates is in `gen/formats.rs`; the fixtures it follows
//!   are `tests/fixtures/sources/*/` and `../shared/formats/`):
//!   - `native` (`docs/event-format.md`): one event per line, every event type.
//!   - `teams-audit-csv` / `teams-audit-json` (`tests/fixtures/sources/teams/audit.csv`,
//!     `audit.json`): Purview CSV (BOM, CRLF, `AuditData` JSON in a cell) / Management Activity
//!     API blobs (a JSON array of up to 100 records per line). `MeetingDetail` and one
//!     `MeetingParticipantDetail` per participant written 20-60 minutes after the meeting, the
//!     recording and transcription bots as participants, `ScreenSharingDetails` on the
//!     sharer's record (an unmapped field by default), `MessageSent`/`MessageDeleted` as chat
//!     happens (no text: the audit log has none), and `TeamsSessionStarted` now and then
//!     (unmapped).
//!   - `teams-graph` (`tests/fixtures/sources/teams/graph-messages.json`,
//!     `../shared/formats/teams/graph/`): chatMessage list pages of 50 (one page per line):
//!     HTML chat, attachments, deletions, and the call, member, recording and transcript
//!     system messages.
//!   - `zoom` (`tests/fixtures/sources/zoom/scenario.ndjson`): webhook bodies, waiting room and
//!     admission, sharing, chat and files, live recording events and `recording.completed` /
//!     `recording.transcript_completed` after the meeting.
//!   - `pexip` (`tests/fixtures/sources/pexip/scenario.ndjson`): event-sink v2 bodies,
//!     `participant_connected/updated/disconnected` (waiting room, presenting, mute toggles in
//!     place of the chat Pexip does not have), a streaming participant for recordings, and a
//!     second node for one conference in ten.
//!   - `webex` (`tests/fixtures/sources/webex/`): webhooks for meetings, participants (phone
//!     participants on PSTN devices), recordings and transcripts, and the post-meeting chat as
//!     `{"items":[...]}` pages of up to 100.

#[path = "gen/mod.rs"]
mod generator;

use std::process::ExitCode;

use generator::{Options, describe, model, parse_size, run};

fn usage() -> &'static str {
    "usage: gen --format FORMAT (--size SIZE | --meetings N | --one-meeting-chat N) --out DIR \
     [--seed N] [--breach-rate R] [--users N]\n       gen --print-config\n\
     FORMAT: native, teams-audit-csv, teams-audit-json, teams-graph, zoom, pexip, webex, all, teams"
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut o = Options::default();
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--print-config" => {
                print!("{}", model::config_toml());
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(None);
            }
            "--format" => o.format = value()?,
            "--size" => {
                let v = value()?;
                o.size = Some(parse_size(&v).ok_or(format!("bad --size {v:?}"))?);
            }
            "--out" => out = Some(value()?),
            "--seed" => o.seed = value()?.parse().map_err(|_| "bad --seed")?,
            "--breach-rate" => {
                let v = value()?;
                let r = match v.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
                    None => v.parse::<f64>(),
                }
                .map_err(|_| format!("bad --breach-rate {v:?}"))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err("--breach-rate is a share between 0 and 1".into());
                }
                o.breach_rate = r;
            }
            "--users" => o.users = value()?.parse().map_err(|_| "bad --users")?,
            "--meetings" => o.meetings = Some(value()?.parse().map_err(|_| "bad --meetings")?),
            "--one-meeting-chat" => {
                o.one_meeting_chat = Some(value()?.parse().map_err(|_| "bad --one-meeting-chat")?)
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    o.out = out.ok_or("--out DIR is required")?.into();
    Ok(Some(o))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(Some(o)) => o,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen: {e}\n{}", usage());
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(files) => {
            for f in &files {
                eprintln!("{}", describe(f));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen: {e}");
            ExitCode::FAILURE
        }
    }
}
