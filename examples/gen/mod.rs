//! The generator's core: options, the meeting scheduler that interleaves overlapping meetings
//! in time order, and the output streams with each format's framing. `examples/gen.rs` is its
//! command line; `tests/gen.rs` includes this module with `#[path]` and calls [`run`].
#![allow(dead_code)]

pub mod formats;
pub mod model;
pub mod pnr;
pub mod util;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use formats::{Counts, Format, Rec, Render, plan};
use model::{Calendar, Meeting, Shape, Users, plan_meeting};

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// A format name, `all` (one file each) or `teams` (audit CSV + Graph of the same meetings).
    pub format: String,
    /// Stop at the first record boundary at or past this many bytes (per file; for `teams`, of
    /// both files together).
    pub size: Option<u64>,
    pub out: PathBuf,
    pub seed: u64,
    pub breach_rate: f64,
    pub users: u32,
    /// Write exactly this many meetings (all of them whole, unless `size` comes first).
    pub meetings: Option<u64>,
    /// Write one meeting with this many chat messages.
    pub one_meeting_chat: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            format: "native".into(),
            size: None,
            out: PathBuf::from("."),
            seed: 1,
            breach_rate: 0.02,
            users: 3000,
            meetings: None,
            one_meeting_chat: None,
        }
    }
}

/// What was written to one file.
#[derive(Clone, Debug)]
pub struct FileStats {
    pub format: Format,
    pub path: PathBuf,
    pub bytes: u64,
    /// Records as motesvakt counts them ("records read").
    pub records: u64,
    /// Events these records map to ("events" in the scan summary).
    pub events: u64,
    /// Meetings with at least one record in the file.
    pub meetings: u64,
    /// Chat messages with text.
    pub chats: u64,
    /// Chat messages whose text holds an identity number.
    pub pnr_chats: u64,
    /// The largest single write (a record with its framing).
    pub max_unit: u64,
    pub seconds: f64,
}

/// Parses `200MB`, `1GB`, `5GiB`, `512k`, `1000` (bytes). Decimal units (MB = 10^6), binary
/// with `i`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * mult) as u64)
}

/// Generates what `opts` asks for; returns one entry per file written.
pub fn run(opts: &Options) -> io::Result<Vec<FileStats>> {
    if opts.size.is_none() && opts.meetings.is_none() && opts.one_meeting_chat.is_none() {
        return Err(io::Error::other(
            "give --size, --meetings or --one-meeting-chat",
        ));
    }
    std::fs::create_dir_all(&opts.out)?;
    match opts.format.as_str() {
        "all" => {
            let mut all = Vec::new();
            for f in formats::ALL {
                all.extend(generate(&[f], opts)?);
            }
            Ok(all)
        }
        "teams" => generate(&[Format::AuditCsv, Format::Graph], opts),
        name => match Format::from_name(name) {
            Some(f) => generate(&[f], opts),
            None => Err(io::Error::other(format!(
                "unknown format {name:?}: native, teams-audit-csv, teams-audit-json, \
                 teams-graph, zoom, pexip, webex, all, teams"
            ))),
        },
    }
}

/// One output file with its format's framing.
struct Stream {
    fmt: Format,
    path: PathBuf,
    w: BufWriter<File>,
    /// Records in the open array or page.
    open: u32,
    bytes: u64,
    counts: Counts,
    meetings: u64,
    max_unit: u64,
    frame: Vec<u8>,
}

const AUDIT_BLOB: u32 = 100;
const GRAPH_PAGE: u32 = 50;

impl Stream {
    fn create(dir: &Path, fmt: Format) -> io::Result<Stream> {
        let path = dir.join(fmt.file_name());
        let mut s = Stream {
            fmt,
            w: BufWriter::with_capacity(1 << 20, File::create(&path)?),
            path,
            open: 0,
            bytes: 0,
            counts: Counts::default(),
            meetings: 0,
            max_unit: 0,
            frame: Vec::with_capacity(1 << 16),
        };
        if fmt == Format::AuditCsv {
            let header = "\u{feff}RecordId,CreationDate,RecordType,Operation,UserId,AuditData,\
                          AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";
            s.w.write_all(header.as_bytes())?;
            s.bytes += header.len() as u64;
        }
        Ok(s)
    }

    /// Writes one record (its bytes are in `rec`) with the framing around it.
    fn write(&mut self, rec: &[u8], c: Counts) -> io::Result<()> {
        let f = &mut self.frame;
        f.clear();
        match self.fmt {
            Format::AuditCsv => {
                f.extend_from_slice(rec);
                f.extend_from_slice(b"\r\n");
            }
            Format::AuditJson => {
                f.push(if self.open == 0 { b'[' } else { b',' });
                f.extend_from_slice(rec);
                self.open += 1;
                if self.open == AUDIT_BLOB {
                    f.extend_from_slice(b"]\n");
                    self.open = 0;
                }
            }
            Format::Graph => {
                if self.open == 0 {
                    f.extend_from_slice(
                        b"{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#Collection(chatMessage)\",\
                          \"@odata.nextLink\":\"https://graph.microsoft.com/v1.0/users/",
                    );
                    f.extend_from_slice(model::TENANT.as_bytes());
                    f.extend_from_slice(b"/chats/getAllMessages?$skiptoken=");
                    util::put_b64(f, self.bytes, 32, true);
                    f.extend_from_slice(b"\",\"value\":[");
                } else {
                    f.push(b',');
                }
                f.extend_from_slice(rec);
                self.open += 1;
                if self.open == GRAPH_PAGE {
                    f.extend_from_slice(b"]}\n");
                    self.open = 0;
                }
            }
            _ => {
                f.extend_from_slice(rec);
                f.push(b'\n');
            }
        }
        self.w.write_all(f)?;
        self.bytes += f.len() as u64;
        self.max_unit = self.max_unit.max(f.len() as u64);
        self.counts.records += c.records;
        self.counts.events += c.events;
        self.counts.chats += c.chats;
        self.counts.pnr += c.pnr;
        Ok(())
    }

    fn finish(mut self, seconds: f64) -> io::Result<FileStats> {
        let tail: &[u8] = match (self.fmt, self.open) {
            (_, 0) => b"",
            (Format::AuditJson, _) => b"]\n",
            (Format::Graph, _) => b"]}\n",
            _ => b"",
        };
        self.w.write_all(tail)?;
        self.bytes += tail.len() as u64;
        self.w.flush()?;
        Ok(FileStats {
            format: self.fmt,
            path: self.path,
            bytes: self.bytes,
            records: self.counts.records,
            events: self.counts.events,
            meetings: self.meetings,
            chats: self.counts.chats,
            pnr_chats: self.counts.pnr,
            max_unit: self.max_unit,
            seconds,
        })
    }
}

/// A meeting being written: its plan and its records in write order.
struct Active {
    m: Meeting,
    recs: Vec<Rec>,
    /// Streams that have had a record of it (bit per stream).
    seen: u8,
}

/// Writes the meetings into one file per format in `fmts` (the same meetings in each), records
/// of all meetings merged in the order they would be written.
fn generate(fmts: &[Format], opts: &Options) -> io::Result<Vec<FileStats>> {
    let started = Instant::now();
    let users = Users::new(opts.users, opts.seed);
    let shape = Shape {
        seed: opts.seed,
        breach_rate: opts.breach_rate,
    };
    let mut cal = Calendar::new(opts.seed, opts.users);
    let mut streams = fmts
        .iter()
        .map(|&f| Stream::create(&opts.out, f))
        .collect::<io::Result<Vec<_>>>()?;
    let mut render = Render::new(&users, opts.seed);
    let limit = if opts.one_meeting_chat.is_some() {
        Some(1)
    } else {
        opts.meetings
    };
    let size = opts.size.unwrap_or(u64::MAX);
    let mut heap: BinaryHeap<Reverse<(i64, u64, u32, u32)>> = BinaryHeap::new();
    let mut slots: Vec<Option<Active>> = Vec::new();
    let mut free: Vec<u32> = Vec::new();
    let mut next_idx = 0u64;
    let mut pending: Option<Active> = None;
    let mut buf = Vec::with_capacity(1 << 16);
    let mut total = streams.iter().map(|s| s.bytes).sum::<u64>();
    'outer: loop {
        if pending.is_none() && limit.is_none_or(|l| next_idx < l) {
            let start = cal.next_start();
            let m = plan_meeting(&shape, &users, next_idx, start, opts.one_meeting_chat);
            next_idx += 1;
            let mut recs = Vec::new();
            for (i, &f) in fmts.iter().enumerate() {
                plan(f, &m, i as u8, &mut recs);
            }
            if fmts.len() > 1 {
                recs.sort_by_key(|r| r.t);
            }
            pending = Some(Active { m, recs, seen: 0 });
        }
        // A meeting joins the merge once the next record to write is not before its start:
        // none of its records is written before it starts.
        let top = heap.peek().map(|Reverse(k)| k.0);
        let activate = match (&pending, top) {
            (Some(p), Some(t)) => p.m.start <= t,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if activate {
            let a = pending.take().expect("pending");
            if a.recs.is_empty() {
                continue;
            }
            let key = (a.recs[0].t, a.m.idx, 0u32);
            let slot = match free.pop() {
                Some(s) => {
                    slots[s as usize] = Some(a);
                    s
                }
                None => {
                    slots.push(Some(a));
                    (slots.len() - 1) as u32
                }
            };
            heap.push(Reverse((key.0, key.1, key.2, slot)));
            continue;
        }
        let Some(Reverse((_, _, pos, slot))) = heap.pop() else {
            break;
        };
        let active = slots[slot as usize].as_mut().expect("active meeting");
        let rec = active.recs[pos as usize];
        let s = rec.stream as usize;
        buf.clear();
        let c = render.render(fmts[s], &active.m, &rec, &mut buf);
        let before = streams[s].bytes;
        streams[s].write(&buf, c)?;
        total += streams[s].bytes - before;
        if active.seen & (1 << s) == 0 {
            active.seen |= 1 << s;
            streams[s].meetings += 1;
        }
        let next = pos + 1;
        if (next as usize) < active.recs.len() {
            heap.push(Reverse((
                active.recs[next as usize].t,
                active.m.idx,
                next,
                slot,
            )));
        } else {
            slots[slot as usize] = None;
            free.push(slot);
        }
        if total >= size {
            break 'outer;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    streams.into_iter().map(|s| s.finish(secs)).collect()
}

/// One line per file, for stderr. Never prints any record's content.
pub fn describe(s: &FileStats) -> String {
    let pct = if s.chats > 0 {
        100.0 * s.pnr_chats as f64 / s.chats as f64
    } else {
        0.0
    };
    let chat = if s.format.has_chat_text() {
        format!(
            "{} chat messages, {} with an identity number ({pct:.2} %)",
            s.chats, s.pnr_chats
        )
    } else if s.format == Format::Pexip {
        "no chat (Pexip has none)".to_string()
    } else {
        "chat without text (the audit log has none)".to_string()
    };
    format!(
        "gen: {} -> {}: {:.1} MB, {} records, {} events, {} meetings, {chat}; {:.2} s ({:.0} MB/s)",
        s.format.name(),
        s.path.display(),
        s.bytes as f64 / 1e6,
        s.records,
        s.events,
        s.meetings,
        s.seconds,
        s.bytes as f64 / 1e6 / s.seconds.max(1e-9),
    )
}
