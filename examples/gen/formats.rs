//! Rendering a meeting plan in each export format: which records a meeting gives and when each
//! is written (`plan`), and the bytes of each record (`Render`).
//!
//! What each format imitates (field names and layout):
//!
//! | format | imitates |
//! |---|---|
//! | `native` | `docs/event-format.md`, `examples/exports/*.ndjson` |
//! | `teams-audit-csv` | `tests/fixtures/sources/teams/audit.csv` (Purview audit search export, `AuditData` JSON in a cell, BOM, CRLF) |
//! | `teams-audit-json` | `tests/fixtures/sources/teams/audit.json` (Management Activity API `Audit.General` content blobs: JSON arrays, one blob of up to 100 records per line) |
//! | `teams-graph` | `tests/fixtures/sources/teams/graph-messages.json`, `shared/formats/teams/graph/*` (chatMessage list pages of up to 50, `{"@odata.context":...,"value":[...]}` one page per line) |
//! | `zoom` | `tests/fixtures/sources/zoom/scenario.ndjson`, `shared/formats/zoom/elastic-test-*.json` (webhook bodies, NDJSON) |
//! | `pexip` | `tests/fixtures/sources/pexip/scenario.ndjson`, `shared/formats/pexip/eventsink-*.ndjson` (event sink v2 bodies, NDJSON) |
//! | `webex` | `tests/fixtures/sources/webex/webhooks.ndjson`, `chats.json`, `recordings.json`, `transcripts.json` (webhooks, and post-meeting chat list pages `{"items":[...]}`, NDJSON) |

use super::model::{
    Ev, FILES, FIRST, Meeting, OTHER_TENANTS, Part, SUBJECTS, Scope, TENANT, Users, WEBEX_ORG,
    WEBEX_OTHER_ORG, Who,
};
use super::util::{
    TimeStyle, ascii_fold, finalize, mix, put_b64, put_csv_escaped, put_duration, put_epoch_secs,
    put_guid, put_hex, put_pad, put_time, put_u64,
};

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Native,
    AuditCsv,
    AuditJson,
    Graph,
    Zoom,
    Pexip,
    Webex,
}

pub const ALL: [Format; 7] = [
    Format::Native,
    Format::AuditCsv,
    Format::AuditJson,
    Format::Graph,
    Format::Zoom,
    Format::Pexip,
    Format::Webex,
];

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::AuditCsv => "teams-audit-csv",
            Format::AuditJson => "teams-audit-json",
            Format::Graph => "teams-graph",
            Format::Zoom => "zoom",
            Format::Pexip => "pexip",
            Format::Webex => "webex",
        }
    }

    pub fn from_name(s: &str) -> Option<Format> {
        ALL.iter().copied().find(|f| f.name() == s)
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Format::Native => "native.ndjson",
            Format::AuditCsv => "teams-audit.csv",
            Format::AuditJson => "teams-audit.json",
            Format::Graph => "teams-graph.json",
            Format::Zoom => "zoom.ndjson",
            Format::Pexip => "pexip.ndjson",
            Format::Webex => "webex.ndjson",
        }
    }

    /// Whether the format carries chat text (the audit log and Pexip do not).
    pub fn has_chat_text(self) -> bool {
        !matches!(self, Format::AuditCsv | Format::AuditJson | Format::Pexip)
    }
}

/// One record to write: when, what, and into which output.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    pub t: i64,
    pub kind: RK,
    pub stream: u8,
}

/// What a record is. `Ev(i)` renders the plan's event `i`; the others are records a format
/// writes besides (or instead of) one per event.
#[derive(Clone, Copy, Debug)]
pub enum RK {
    Ev(u32),
    ZoomJoinAfterAdmit(u16),
    ZoomRecCompleted {
        start: u32,
        stop: u32,
    },
    ZoomTranscript {
        start: u32,
        stop: u32,
    },
    PexipNode2 {
        end: bool,
    },
    PexipUpdate {
        p: u16,
        presenting: bool,
        muted: bool,
    },
    PexipStream {
        leave: bool,
    },
    WebexChats {
        from: u32,
        to: u32,
    },
    WebexRecording {
        start: u32,
        stop: u32,
    },
    WebexTranscript {
        start: u32,
    },
    AuditDetail,
    AuditPart(u16),
    AuditBot {
        start: u32,
        stop: u32,
        recorder: bool,
    },
    AuditSession(u16),
}

const NONE: u32 = u32::MAX;
const MIN: i64 = 60_000;

fn find_after(m: &Meeting, from: usize, pred: impl Fn(&Ev) -> bool) -> u32 {
    m.evs[from..]
        .iter()
        .position(|e| pred(&e.ev))
        .map_or(NONE, |i| (from + i) as u32)
}

/// The records `fmt` gives for meeting `m`, sorted by the time they are written.
pub fn plan(fmt: Format, m: &Meeting, stream: u8, out: &mut Vec<Rec>) {
    let first = out.len();
    let rec = |t: i64, kind: RK| Rec { t, kind, stream };
    // After the meeting: when cloud recordings, transcripts and post-meeting lists appear.
    let after = m.end;
    match fmt {
        Format::Native => {
            for (i, e) in m.evs.iter().enumerate() {
                out.push(rec(e.t, RK::Ev(i as u32)));
            }
        }
        Format::Zoom => {
            for (i, e) in m.evs.iter().enumerate() {
                match e.ev {
                    Ev::Deleted { .. } | Ev::TransStop => {}
                    Ev::TransStart => {
                        let stop = find_after(m, i, |e| matches!(e, Ev::TransStop));
                        out.push(rec(
                            after + 15 * MIN,
                            RK::ZoomTranscript {
                                start: i as u32,
                                stop,
                            },
                        ));
                    }
                    Ev::Admit { p } => {
                        out.push(rec(e.t, RK::Ev(i as u32)));
                        out.push(rec(e.t + 400, RK::ZoomJoinAfterAdmit(p)));
                    }
                    Ev::RecStart { .. } => {
                        out.push(rec(e.t, RK::Ev(i as u32)));
                        let stop = find_after(m, i, |e| matches!(e, Ev::RecStop));
                        out.push(rec(
                            after + 10 * MIN,
                            RK::ZoomRecCompleted {
                                start: i as u32,
                                stop,
                            },
                        ));
                    }
                    _ => out.push(rec(e.t, RK::Ev(i as u32))),
                }
            }
        }
        Format::Pexip => {
            let mut presenting = vec![false; m.parts.len()];
            let mut muted = vec![false; m.parts.len()];
            let two_nodes = m.h.is_multiple_of(10);
            for (i, e) in m.evs.iter().enumerate() {
                let update = |p: u16, presenting: &[bool], muted: &[bool]| RK::PexipUpdate {
                    p,
                    presenting: presenting[p as usize],
                    muted: muted[p as usize],
                };
                match e.ev {
                    Ev::Start => {
                        out.push(rec(e.t, RK::Ev(i as u32)));
                        if two_nodes {
                            out.push(rec(e.t + 95_000, RK::PexipNode2 { end: false }));
                        }
                    }
                    Ev::End => {
                        if two_nodes {
                            out.push(rec(e.t - 20_000, RK::PexipNode2 { end: true }));
                        }
                        out.push(rec(e.t, RK::Ev(i as u32)));
                    }
                    Ev::Join { .. } | Ev::Leave { .. } => out.push(rec(e.t, RK::Ev(i as u32))),
                    Ev::Admit { p } => {
                        out.push(rec(e.t, update(p, &presenting, &muted)));
                    }
                    Ev::ShareStart { p, .. } | Ev::ShareStop { p } => {
                        presenting[p as usize] = matches!(e.ev, Ev::ShareStart { .. });
                        out.push(rec(e.t, update(p, &presenting, &muted)));
                    }
                    // No chat on Pexip: its place in the event mix goes to the participant
                    // updates a real conference is full of (mute and unmute).
                    Ev::Chat { p, .. } => {
                        muted[p as usize] = !muted[p as usize];
                        out.push(rec(e.t, update(p, &presenting, &muted)));
                    }
                    Ev::RecStart { .. } => out.push(rec(e.t, RK::PexipStream { leave: false })),
                    Ev::RecStop => out.push(rec(e.t, RK::PexipStream { leave: true })),
                    Ev::Deleted { .. } | Ev::TransStart | Ev::TransStop | Ev::File { .. } => {}
                }
            }
        }
        Format::Webex => {
            let mut chat_from = NONE;
            for (i, e) in m.evs.iter().enumerate() {
                match e.ev {
                    Ev::Start | Ev::Leave { .. } | Ev::End => out.push(rec(e.t, RK::Ev(i as u32))),
                    // Webex reports the join when the participant is let in.
                    Ev::Join { p } => {
                        let t = m.parts[p as usize].admit;
                        out.push(rec(t, RK::Ev(i as u32)));
                    }
                    Ev::RecStart { .. } => {
                        let stop = find_after(m, i, |e| matches!(e, Ev::RecStop));
                        out.push(rec(
                            after + 10 * MIN,
                            RK::WebexRecording {
                                start: i as u32,
                                stop,
                            },
                        ));
                    }
                    Ev::TransStart => out.push(rec(
                        after + 20 * MIN,
                        RK::WebexTranscript { start: i as u32 },
                    )),
                    Ev::Chat { .. } if chat_from == NONE => chat_from = i as u32,
                    _ => {}
                }
            }
            // Post-meeting chat, listed in pages of 100.
            if chat_from != NONE {
                let mut from = chat_from as usize;
                let mut n = 0;
                let mut page = 0;
                for (i, e) in m.evs.iter().enumerate().skip(from) {
                    if matches!(e.ev, Ev::Chat { .. }) {
                        n += 1;
                        if n == 100 {
                            out.push(rec(
                                after + 5 * MIN + page,
                                RK::WebexChats {
                                    from: from as u32,
                                    to: i as u32 + 1,
                                },
                            ));
                            page += 1;
                            from = i + 1;
                            n = 0;
                        }
                    }
                }
                if n > 0 {
                    out.push(rec(
                        after + 5 * MIN + page,
                        RK::WebexChats {
                            from: from as u32,
                            to: m.evs.len() as u32,
                        },
                    ));
                }
            }
        }
        Format::AuditCsv | Format::AuditJson => {
            // The meeting's records are written when it is over (tens of minutes later);
            // chat records as the messages are sent.
            let delay = 20 * MIN + (m.h % 40) as i64 * MIN;
            for (i, e) in m.evs.iter().enumerate() {
                match e.ev {
                    Ev::Chat { .. } | Ev::Deleted { .. } => out.push(rec(e.t, RK::Ev(i as u32))),
                    Ev::Join { p } => {
                        let part = &m.parts[p as usize];
                        if part.is_user() && mix(part.h, 7).is_multiple_of(20) {
                            out.push(rec(e.t - 30_000, RK::AuditSession(p)));
                        }
                    }
                    Ev::RecStart { .. } | Ev::TransStart => {
                        let recorder = matches!(e.ev, Ev::RecStart { .. });
                        let stop = find_after(m, i, |e| {
                            matches!(e, Ev::RecStop) && recorder
                                || matches!(e, Ev::TransStop) && !recorder
                        });
                        out.push(rec(
                            after + delay + 500,
                            RK::AuditBot {
                                start: i as u32,
                                stop,
                                recorder,
                            },
                        ));
                    }
                    _ => {}
                }
            }
            for p in 0..m.parts.len() {
                out.push(rec(
                    after + delay + 1_000 + p as i64 * 700,
                    RK::AuditPart(p as u16),
                ));
            }
            out.push(rec(after + delay + 30 * MIN, RK::AuditDetail));
        }
        Format::Graph => {
            for (i, e) in m.evs.iter().enumerate() {
                match e.ev {
                    Ev::Admit { .. }
                    | Ev::ShareStart { .. }
                    | Ev::ShareStop { .. }
                    | Ev::TransStop => {}
                    Ev::Join { p } => out.push(rec(m.parts[p as usize].admit, RK::Ev(i as u32))),
                    _ => out.push(rec(e.t, RK::Ev(i as u32))),
                }
            }
        }
    }
    out[first..].sort_by_key(|r| r.t);
}

impl Part {
    pub fn is_user(&self) -> bool {
        matches!(self.who, Who::User(_))
    }
}

/// Counts of what one record holds.
#[derive(Clone, Copy, Default, Debug)]
pub struct Counts {
    /// Records as the adapter counts them (a list page's elements).
    pub records: u64,
    /// Events the adapter maps them to.
    pub events: u64,
    /// Chat messages with text.
    pub chats: u64,
    /// Chat messages whose text holds an identity number.
    pub pnr: u64,
}

trait Put {
    fn s(&mut self, x: &str) -> &mut Self;
    fn u(&mut self, n: u64) -> &mut Self;
    fn t(&mut self, ms: i64, style: TimeStyle) -> &mut Self;
    fn b(&mut self, v: bool) -> &mut Self;
}

impl Put for Vec<u8> {
    fn s(&mut self, x: &str) -> &mut Self {
        self.extend_from_slice(x.as_bytes());
        self
    }
    fn u(&mut self, n: u64) -> &mut Self {
        put_u64(self, n);
        self
    }
    fn t(&mut self, ms: i64, style: TimeStyle) -> &mut Self {
        put_time(self, ms, style);
        self
    }
    fn b(&mut self, v: bool) -> &mut Self {
        self.s(if v { "true" } else { "false" })
    }
}

const Z: TimeStyle = TimeStyle::Z;
const ZMS: TimeStyle = TimeStyle::ZMillis;
const NAIVE: TimeStyle = TimeStyle::Naive;

/// Renders records; holds the counters that run across meetings (Pexip sequence numbers,
/// webhook ids) and scratch buffers.
pub struct Render<'a> {
    pub users: &'a Users,
    pub seed: u64,
    pexip_seq: [u64; 4],
    serial: u64,
    json: Vec<u8>,
    subject_slugs: Vec<String>,
}

impl<'a> Render<'a> {
    pub fn new(users: &'a Users, seed: u64) -> Render<'a> {
        Render {
            users,
            seed,
            pexip_seq: [0; 4],
            serial: 0,
            json: Vec::with_capacity(4096),
            subject_slugs: SUBJECTS
                .iter()
                .map(|s| ascii_fold(s).replace('.', "-"))
                .collect(),
        }
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        mix(self.seed ^ 0x7365_7269, self.serial)
    }

    /// Appends record `r` of meeting `m` in `fmt` to `buf` (without framing).
    pub fn render(&mut self, fmt: Format, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        match fmt {
            Format::Native => self.native(m, r, buf),
            Format::Zoom => self.zoom(m, r, buf),
            Format::Pexip => self.pexip(m, r, buf),
            Format::Webex => self.webex(m, r, buf),
            Format::AuditCsv => self.audit(m, r, buf, true),
            Format::AuditJson => self.audit(m, r, buf, false),
            Format::Graph => self.graph(m, r, buf),
        }
    }

    // ---- who is who -------------------------------------------------------------------

    fn email(&self, p: &Part) -> Option<&'a str> {
        match p.who {
            Who::User(u) | Who::Guest(u) => Some(self.users.all[u as usize].email.as_str()),
            _ => None,
        }
    }

    fn put_name(&self, p: &Part, buf: &mut Vec<u8>) {
        match p.who {
            Who::User(u) | Who::Guest(u) => {
                buf.s(&self.users.all[u as usize].name);
            }
            Who::Anonymous => {
                buf.s(FIRST[(p.h % FIRST.len() as u64) as usize])
                    .s(" (gäst)");
            }
            Who::Phone => put_phone(buf, p.h, true),
        }
    }

    /// Teams UPN: the e-mail, or for a guest `name_domain#EXT#@region.onmicrosoft.com`.
    fn put_upn(&self, p: &Part, buf: &mut Vec<u8>) {
        match p.who {
            Who::User(u) => {
                buf.s(&self.users.all[u as usize].email);
            }
            Who::Guest(u) => {
                let e = &self.users.all[u as usize].email;
                buf.s(&e.replace('@', "_"))
                    .s("#EXT#@regionse.onmicrosoft.com");
            }
            Who::Anonymous => {
                buf.s("anonymous-");
                put_hex(buf, p.h, 12);
            }
            Who::Phone => put_phone(buf, p.h, false),
        }
    }

    fn put_oid(&self, p: &Part, buf: &mut Vec<u8>) {
        match p.who {
            Who::User(u) | Who::Guest(u) => {
                buf.s(&self.users.all[u as usize].oid);
            }
            _ => put_guid(buf, p.h),
        }
    }

    // ---- native -----------------------------------------------------------------------

    fn native_actor(&self, p: &Part, buf: &mut Vec<u8>) {
        buf.s("{\"id\":\"");
        match p.who {
            Who::User(u) | Who::Guest(u) => {
                buf.s(&self.users.all[u as usize].email);
            }
            Who::Anonymous => {
                buf.s("anon-");
                put_hex(buf, p.h, 12);
            }
            Who::Phone => put_phone(buf, p.h, true),
        }
        buf.s("\",\"name\":\"");
        self.put_name(p, buf);
        buf.push(b'"');
        match p.who {
            Who::Guest(_) => {
                buf.s(",\"kind\":\"guest\"");
            }
            Who::Anonymous => {
                buf.s(",\"kind\":\"anonymous\"");
            }
            Who::Phone => {
                buf.s(",\"kind\":\"phone\"");
            }
            Who::User(_) => {}
        }
        buf.push(b'}');
    }

    fn native(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        let RK::Ev(i) = r.kind else { unreachable!() };
        let e = m.evs[i as usize];
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        let platform = ["teams", "teams", "teams", "zoom", "pexip", "webex"][(m.h % 6) as usize];
        buf.s("{\"time\":\"")
            .t(e.t, ZMS)
            .s("\",\"platform\":\"")
            .s(platform);
        buf.s("\",\"meeting\":\"m-");
        put_hex(buf, m.h, 8);
        buf.push(b'-');
        buf.u(m.idx);
        buf.s("\",\"type\":\"");
        let org = m.organizer();
        let ty = match e.ev {
            Ev::Start => "meeting_started",
            Ev::Join { .. } => "participant_joined",
            Ev::Admit { .. } => "participant_admitted",
            Ev::Leave { .. } => "participant_left",
            Ev::Chat { .. } => "chat_message",
            Ev::Deleted { .. } => "chat_message_deleted",
            Ev::ShareStart { .. } => "screen_share_started",
            Ev::ShareStop { .. } => "screen_share_stopped",
            Ev::RecStart { .. } => "recording_started",
            Ev::RecStop => "recording_stopped",
            Ev::TransStart => "transcription_started",
            Ev::TransStop => "transcription_stopped",
            Ev::File { .. } => "file_shared",
            Ev::End => "meeting_ended",
        };
        buf.s(ty).s("\",\"actor\":");
        let actor = match e.ev {
            Ev::Join { p }
            | Ev::Leave { p }
            | Ev::Chat { p, .. }
            | Ev::Deleted { p, .. }
            | Ev::ShareStart { p, .. }
            | Ev::ShareStop { p }
            | Ev::File { p, .. } => &m.parts[p as usize],
            _ => org,
        };
        self.native_actor(actor, buf);
        match e.ev {
            Ev::Start => {
                buf.s(",\"subject\":\"")
                    .s(SUBJECTS[m.subject as usize])
                    .s("\",\"organizer\":");
                self.native_actor(org, buf);
            }
            Ev::Join { p } => {
                let part = &m.parts[p as usize];
                let role = if part.organizer {
                    "organizer"
                } else if matches!(part.who, Who::Guest(_)) {
                    "guest"
                } else {
                    "attendee"
                };
                buf.s(",\"role\":\"")
                    .s(role)
                    .s("\",\"via_lobby\":")
                    .b(part.lobby);
            }
            Ev::Admit { p } => {
                buf.s(",\"target\":");
                self.native_actor(&m.parts[p as usize], buf);
            }
            Ev::Chat { msg, text, .. } => {
                buf.s(",\"text\":\"");
                text.put(buf);
                buf.s("\",\"message_id\":\"");
                put_hex(buf, m.h, 6);
                buf.push(b'-');
                buf.u(u64::from(msg));
                buf.push(b'"');
                c.chats = 1;
                c.pnr = u64::from(text.has_pnr());
            }
            Ev::Deleted { msg, .. } => {
                buf.s(",\"message_id\":\"");
                put_hex(buf, m.h, 6);
                buf.push(b'-');
                buf.u(u64::from(msg));
                buf.push(b'"');
            }
            Ev::ShareStart { scope, .. } => {
                buf.s(",\"scope\":\"").s(match scope {
                    Scope::Desktop => "desktop",
                    Scope::Application => "application",
                    Scope::Document => "document",
                });
                buf.push(b'"');
            }
            Ev::RecStart { audio } => {
                buf.s(",\"media\":\"")
                    .s(if audio { "audio" } else { "video" })
                    .push(b'"');
            }
            Ev::File { name, .. } => {
                buf.s(",\"name\":\"").s(FILES[name as usize]).push(b'"');
            }
            Ev::End => {
                buf.s(",\"reason\":\"ended_by_host\"");
            }
            _ => {}
        }
        buf.push(b'}');
        c
    }

    // ---- Zoom -------------------------------------------------------------------------

    fn zoom_object_head(&self, m: &Meeting, buf: &mut Vec<u8>) {
        let org = m.organizer();
        buf.s("{\"id\":").u(800_000_000 + m.h % 199_999_999);
        buf.s(",\"uuid\":\"");
        put_b64(buf, m.h, 22, false);
        buf.s("==\",\"host_id\":\"")
            .s(&self.zoom_host(org))
            .s("\",\"topic\":\"");
        buf.s(SUBJECTS[m.subject as usize]);
        buf.s("\",\"type\":2,\"timezone\":\"Europe/Stockholm\",\"start_time\":\"")
            .t(m.start, Z);
        buf.s("\",\"duration\":")
            .u(((m.end - m.start) / MIN) as u64);
    }

    fn zoom_host(&self, p: &Part) -> String {
        match p.who {
            Who::User(u) => self.users.all[u as usize].zoom_id.clone(),
            _ => String::new(),
        }
    }

    fn zoom_participant(&self, p: &Part, buf: &mut Vec<u8>) {
        let internal = p.is_internal(self.users);
        buf.s("\"participant\":{\"id\":\"");
        if internal {
            buf.s(&self.zoom_host(p));
        }
        buf.s("\",\"user_id\":\"").u(16_700_000 + p.h % 99_999);
        buf.s("\",\"user_name\":\"");
        self.put_name(p, buf);
        buf.s("\",\"email\":\"").s(self.email(p).unwrap_or(""));
        buf.s("\",\"participant_uuid\":\"");
        put_guid(buf, p.h);
        buf.push(b'"');
        if p.who == Who::Phone {
            buf.s(",\"phone_number\":\"");
            put_phone(buf, p.h, false);
            buf.push(b'"');
        }
    }

    fn zoom(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        let (name, t) = match r.kind {
            RK::Ev(i) => {
                let e = m.evs[i as usize];
                let name = match e.ev {
                    Ev::Start => "meeting.started",
                    Ev::End => "meeting.ended",
                    Ev::Join { p } if m.parts[p as usize].lobby => {
                        "meeting.participant_joined_waiting_room"
                    }
                    Ev::Join { .. } => "meeting.participant_joined",
                    Ev::Admit { .. } => "meeting.participant_admitted",
                    Ev::Leave { .. } => "meeting.participant_left",
                    Ev::ShareStart { .. } => "meeting.sharing_started",
                    Ev::ShareStop { .. } => "meeting.sharing_ended",
                    Ev::Chat { .. } => "meeting.chat_message_sent",
                    Ev::File { .. } => "meeting.chat_message_file_sent",
                    Ev::RecStart { .. } => "recording.started",
                    Ev::RecStop => "recording.stopped",
                    _ => unreachable!("not planned for zoom"),
                };
                (name, e.t)
            }
            RK::ZoomJoinAfterAdmit(_) => ("meeting.participant_joined", r.t),
            RK::ZoomRecCompleted { .. } => ("recording.completed", r.t),
            RK::ZoomTranscript { .. } => ("recording.transcript_completed", r.t),
            _ => unreachable!(),
        };
        buf.s("{\"event\":\"")
            .s(name)
            .s("\",\"event_ts\":")
            .u(r.t as u64);
        buf.s(",\"payload\":{\"account_id\":\"acc0Region\",\"object\":");
        let org = m.organizer();
        if let RK::Ev(i) = r.kind {
            match m.evs[i as usize].ev {
                Ev::Chat { p, msg, text } => {
                    let part = &m.parts[p as usize];
                    buf.s("{\"id\":").u(800_000_000 + m.h % 199_999_999);
                    buf.s(",\"uuid\":\"");
                    put_b64(buf, m.h, 22, false);
                    buf.s("==\",\"host_id\":\"")
                        .s(&self.zoom_host(org))
                        .s("\",\"topic\":\"");
                    buf.s(SUBJECTS[m.subject as usize]);
                    buf.s("\",\"chat_message\":{\"date_time\":\"").t(t, Z);
                    buf.s("\",\"message_content\":\"");
                    text.put(buf);
                    buf.s("\",\"message_id\":\"");
                    put_guid(buf, mix(m.h, u64::from(msg)));
                    buf.s("\",\"sender_name\":\"");
                    self.put_name(part, buf);
                    buf.s("\",\"sender_email\":\"")
                        .s(self.email(part).unwrap_or(""));
                    buf.s("\",\"sender_session_id\":\"")
                        .u(16_700_000 + part.h % 99_999);
                    buf.s("\",\"sender_type\":\"").s(if part.organizer {
                        "host"
                    } else {
                        "participant"
                    });
                    buf.s("\",\"recipient_type\":\"everyone\"}}}}");
                    c.chats = 1;
                    c.pnr = u64::from(text.has_pnr());
                    return c;
                }
                Ev::File { p, name } => {
                    let part = &m.parts[p as usize];
                    buf.s("{\"meeting_id\":").u(800_000_000 + m.h % 199_999_999);
                    buf.s(",\"meeting_uuid\":\"");
                    put_b64(buf, m.h, 22, false);
                    buf.s("==\",\"chat_message_file\":{\"date_time\":\"")
                        .t(t, Z);
                    let file = FILES[name as usize];
                    buf.s("\",\"file_name\":\"")
                        .s(file)
                        .s("\",\"file_size\":")
                        .u(20_000 + part.h % 900_000);
                    buf.s(",\"file_type\":\"")
                        .s(file.rsplit('.').next().unwrap_or("bin"));
                    buf.s("\",\"sender_name\":\"");
                    self.put_name(part, buf);
                    buf.s("\",\"sender_email\":\"")
                        .s(self.email(part).unwrap_or(""));
                    buf.s("\",\"sender_session_id\":\"")
                        .u(16_700_000 + part.h % 99_999);
                    buf.s("\"}}}}");
                    return c;
                }
                _ => {}
            }
        }
        self.zoom_object_head(m, buf);
        match r.kind {
            RK::Ev(i) => {
                let e = m.evs[i as usize];
                match e.ev {
                    Ev::Start => {}
                    Ev::End => {
                        buf.s(",\"end_time\":\"").t(t, Z).push(b'"');
                    }
                    Ev::Join { p } => {
                        let part = &m.parts[p as usize];
                        buf.push(b',');
                        self.zoom_participant(part, buf);
                        let field = if part.lobby { "date_time" } else { "join_time" };
                        buf.s(",\"").s(field).s("\":\"").t(t, Z).s("\"}");
                    }
                    Ev::Admit { p } => {
                        buf.push(b',');
                        self.zoom_participant(&m.parts[p as usize], buf);
                        buf.s(",\"date_time\":\"").t(t, Z).s("\"}");
                    }
                    Ev::Leave { p } => {
                        buf.push(b',');
                        self.zoom_participant(&m.parts[p as usize], buf);
                        buf.s(",\"leave_time\":\"")
                            .t(t, Z)
                            .s("\",\"leave_reason\":\"left the meeting\"}");
                    }
                    Ev::ShareStart { p, .. } | Ev::ShareStop { p } => {
                        buf.push(b',');
                        self.zoom_participant(&m.parts[p as usize], buf);
                        buf.s(",\"sharing_details\":{\"content\":\"")
                            .s(scope_zoom(scope_of_any(m, i as usize)));
                        buf.s("\",\"date_time\":\"").t(t, Z);
                        buf.s("\",\"link_source\":\"\",\"file_link\":\"\",\"source\":\"\"}}");
                    }
                    Ev::RecStart { .. } => {
                        buf.s(",\"recording_file\":{\"recording_start\":\"").t(t, Z);
                        buf.s("\",\"recording_end\":\"\"}");
                    }
                    Ev::RecStop => {
                        let start = m.evs[..i as usize]
                            .iter()
                            .rev()
                            .find(|e| matches!(e.ev, Ev::RecStart { .. }))
                            .map_or(m.start, |e| e.t);
                        buf.s(",\"recording_file\":{\"recording_start\":\"")
                            .t(start, Z);
                        buf.s("\",\"recording_end\":\"").t(t, Z).s("\"}");
                    }
                    _ => unreachable!(),
                }
            }
            RK::ZoomJoinAfterAdmit(p) => {
                buf.push(b',');
                self.zoom_participant(&m.parts[p as usize], buf);
                buf.s(",\"join_time\":\"")
                    .t(m.parts[p as usize].admit + 400, Z)
                    .s("\"}");
            }
            RK::ZoomRecCompleted { start, stop } => {
                let (s, e, audio) = rec_span(m, start, stop);
                buf.s(",\"host_email\":\"").s(self.email(org).unwrap_or(""));
                buf.s("\",\"recording_count\":")
                    .u(if audio { 1 } else { 2 });
                buf.s(",\"recording_files\":[");
                if !audio {
                    buf.s("{\"id\":\"");
                    put_guid(buf, mix(m.h, 0x6d70));
                    buf.s("\",\"recording_start\":\"")
                        .t(s, Z)
                        .s("\",\"recording_end\":\"")
                        .t(e, Z);
                    buf.s("\",\"file_type\":\"MP4\",\"file_size\":")
                        .u(50_000_000 + m.h % 500_000_000);
                    buf.s(",\"recording_type\":\"shared_screen_with_speaker_view\",\"status\":\"completed\"},");
                }
                buf.s("{\"id\":\"");
                put_guid(buf, mix(m.h, 0x6d34));
                buf.s("\",\"recording_start\":\"")
                    .t(s, Z)
                    .s("\",\"recording_end\":\"")
                    .t(e, Z);
                buf.s("\",\"file_type\":\"M4A\",\"file_size\":")
                    .u(5_000_000 + m.h % 50_000_000);
                buf.s(",\"recording_type\":\"audio_only\",\"status\":\"completed\"}]");
            }
            RK::ZoomTranscript { start, stop } => {
                let s = m.evs[start as usize].t;
                let e = if stop == NONE {
                    m.end
                } else {
                    m.evs[stop as usize].t
                };
                buf.s(",\"host_email\":\"").s(self.email(org).unwrap_or(""));
                buf.s("\",\"recording_files\":[{\"id\":\"");
                put_guid(buf, mix(m.h, 0x7472));
                buf.s("\",\"recording_start\":\"")
                    .t(s, Z)
                    .s("\",\"recording_end\":\"")
                    .t(e, Z);
                buf.s("\",\"file_type\":\"TRANSCRIPT\",\"recording_type\":\"audio_transcript\",\"status\":\"completed\"}]");
                c.events = 2;
            }
            _ => unreachable!(),
        }
        buf.s("}}}");
        c
    }

    // ---- Pexip ------------------------------------------------------------------------

    fn pexip_head(&mut self, node: usize, t: i64, event: &str, buf: &mut Vec<u8>) {
        self.pexip_seq[node] += 1;
        buf.s("{\"node\":\"10.1.0.")
            .u(11 + node as u64)
            .s("\",\"seq\":")
            .u(self.pexip_seq[node]);
        buf.s(",\"version\":2,\"time\":");
        put_epoch_secs(buf, t);
        buf.s(",\"event\":\"").s(event).s("\",\"data\":");
    }

    fn pexip_conf(&self, m: &Meeting, buf: &mut Vec<u8>) {
        buf.s(&self.subject_slugs[m.subject as usize]).push(b'.');
        put_hex(buf, m.h, 6);
    }

    #[allow(clippy::too_many_arguments)]
    fn pexip_participant(
        &self,
        m: &Meeting,
        p: &Part,
        waiting: bool,
        presenting: bool,
        muted: bool,
        end: Option<i64>,
        buf: &mut Vec<u8>,
    ) {
        buf.s("{\"uuid\":\"");
        put_guid(buf, p.h);
        buf.s("\",\"call_id\":\"");
        put_guid(buf, p.h ^ 1);
        buf.s("\",\"conference\":\"");
        self.pexip_conf(m, buf);
        buf.s("\",\"source_alias\":\"");
        let internal = p.is_internal(self.users);
        match p.who {
            Who::User(u) | Who::Guest(u) => {
                if internal {
                    buf.s("sip:");
                }
                buf.s(&self.users.all[u as usize].email);
            }
            Who::Anonymous => {}
            Who::Phone => {
                buf.s("tel:");
                put_phone(buf, p.h, false);
            }
        }
        buf.s("\",\"destination_alias\":\"meet.");
        self.pexip_conf(m, buf);
        buf.s("@region.se\",\"display_name\":\"");
        self.put_name(p, buf);
        buf.s("\",\"role\":\"")
            .s(if p.organizer { "chair" } else { "guest" });
        buf.s("\",\"service_type\":\"").s(if waiting {
            "waiting_room"
        } else {
            "conference"
        });
        buf.s("\",\"remote_address\":\"");
        let o = p.h >> 8;
        match (internal, p.who) {
            (true, _) => buf.s("10.20.").u(o % 250).push(b'.'),
            (_, Who::Phone) => buf.s("192.0.2.").push(b'1'),
            _ => buf.s("203.0.113.").u(o % 250).push(b'1'),
        }
        buf.u(o >> 8 & 7);
        buf.s("\",\"protocol\":\"")
            .s(if p.who == Who::Phone { "SIP" } else { "WebRTC" });
        buf.s("\",\"call_direction\":\"in\",\"is_presenting\":")
            .b(presenting);
        buf.s(",\"is_streaming\":false,\"is_muted\":").b(muted);
        buf.s(",\"has_media\":true,\"system_location\":\"Växjö\",\"media_node\":\"10.1.0.11\",\"signalling_node\":\"10.1.0.11\"");
        if let Some(end) = end {
            buf.s(",\"end_time\":");
            put_epoch_secs(buf, end);
            buf.s(",\"disconnect_reason\":\"Call disconnected\"");
        }
        buf.push(b'}');
    }

    fn pexip(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        let node = (m.h % 4) as usize;
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        match r.kind {
            RK::Ev(i) => {
                let e = m.evs[i as usize];
                match e.ev {
                    Ev::Start | Ev::End => {
                        let start = matches!(e.ev, Ev::Start);
                        let name = if start {
                            "conference_started"
                        } else {
                            "conference_ended"
                        };
                        self.pexip_head(node, e.t, name, buf);
                        buf.s("{\"name\":\"");
                        self.pexip_conf(m, buf);
                        buf.s("\",\"service_type\":\"conference\",\"tag\":\"\"");
                        if start {
                            buf.s(",\"is_locked\":false,\"is_started\":true,\"guests_muted\":false,\"start_time\":");
                        } else {
                            buf.s(",\"end_time\":");
                        }
                        put_epoch_secs(buf, e.t);
                        buf.push(b'}');
                    }
                    Ev::Join { p } => {
                        let part = &m.parts[p as usize];
                        self.pexip_head(node, e.t, "participant_connected", buf);
                        self.pexip_participant(m, part, part.lobby, false, false, None, buf);
                        c.events = 2;
                    }
                    Ev::Leave { p } => {
                        let part = &m.parts[p as usize];
                        self.pexip_head(node, e.t, "participant_disconnected", buf);
                        self.pexip_participant(m, part, false, false, false, Some(e.t), buf);
                    }
                    _ => unreachable!("not planned for pexip"),
                }
            }
            RK::PexipNode2 { end } => {
                let other = (node + 1) % 4;
                let name = if end {
                    "conference_ended"
                } else {
                    "conference_started"
                };
                self.pexip_head(other, r.t, name, buf);
                buf.s("{\"name\":\"");
                self.pexip_conf(m, buf);
                buf.s("\",\"service_type\":\"conference\",\"tag\":\"\",");
                buf.s(if end {
                    "\"end_time\":"
                } else {
                    "\"start_time\":"
                });
                put_epoch_secs(buf, r.t);
                buf.push(b'}');
            }
            RK::PexipUpdate {
                p,
                presenting,
                muted,
            } => {
                self.pexip_head(node, r.t, "participant_updated", buf);
                self.pexip_participant(
                    m,
                    &m.parts[p as usize],
                    false,
                    presenting,
                    muted,
                    None,
                    buf,
                );
            }
            RK::PexipStream { leave } => {
                let name = if leave {
                    "participant_disconnected"
                } else {
                    "participant_connected"
                };
                self.pexip_head(node, r.t, name, buf);
                buf.s("{\"uuid\":\"");
                put_guid(buf, m.h ^ 0x7374);
                buf.s("\",\"call_id\":\"");
                put_guid(buf, m.h ^ 0x7375);
                buf.s("\",\"conference\":\"");
                self.pexip_conf(m, buf);
                buf.s("\",\"source_alias\":\"meet.");
                self.pexip_conf(m, buf);
                buf.s("@region.se\",\"destination_alias\":\"rtmps://stream.region.se/live/");
                self.pexip_conf(m, buf);
                buf.s("\",\"display_name\":\"Inspelning\",\"role\":\"guest\",\"service_type\":\"conference\",\"remote_address\":\"10.20.99.9\",\"protocol\":\"RTMP\",\"call_direction\":\"out\",\"is_presenting\":false,\"is_streaming\":");
                buf.b(!leave);
                buf.s(",\"is_muted\":false,\"has_media\":true,\"system_location\":\"Växjö\",\"media_node\":\"10.1.0.11\",\"signalling_node\":\"10.1.0.11\"}");
                if !leave {
                    c.events = 2;
                }
            }
            _ => unreachable!(),
        }
        buf.push(b'}');
        c
    }

    // ---- Webex ------------------------------------------------------------------------

    fn webex_meeting_id(&self, m: &Meeting, buf: &mut Vec<u8>) {
        put_hex(buf, m.h, 32);
        buf.s("_I_").u(200_000_000 + m.h % 700_000_000);
    }

    fn webex_hook(&mut self, resource: &str, event: &str, created: i64, buf: &mut Vec<u8>) {
        let id = self.next_serial();
        buf.s("{\"id\":\"Y2lzY29zcGFyazovL3VzL1dFQkhPT0sv");
        put_b64(buf, id, 24, false);
        buf.s("\",\"name\":\"motesvakt\",\"targetUrl\":\"https://audit.region.se/webex\",\"resource\":\"");
        buf.s(resource).s("\",\"event\":\"").s(event);
        buf.s("\",\"filter\":\"\",\"orgId\":\"").s(WEBEX_ORG);
        buf.s("\",\"createdBy\":\"Y2lz-admin\",\"appId\":\"Y2lz-app\",\"ownedBy\":\"org\",\"status\":\"active\",\"created\":\"");
        buf.t(created, ZMS)
            .s("\",\"actorId\":\"Y2lz-admin\",\"data\":");
    }

    fn webex_person(&self, p: &Part, buf: &mut Vec<u8>) {
        if let Some(email) = self.email(p) {
            buf.s("\"email\":\"").s(email).s("\",");
        }
        buf.s("\"displayName\":\"");
        self.put_name(p, buf);
        buf.s("\",\"personId\":\"Y2lz");
        put_b64(buf, p.h, 20, false);
        buf.push(b'"');
        if p.is_user() {
            let org = if p.is_internal(self.users) {
                WEBEX_ORG
            } else {
                WEBEX_OTHER_ORG
            };
            buf.s(",\"orgId\":\"").s(org).push(b'"');
        }
    }

    fn webex(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        let org = m.organizer();
        let host = self.email(org).unwrap_or("");
        match r.kind {
            RK::Ev(i) => {
                let e = m.evs[i as usize];
                match e.ev {
                    Ev::Start | Ev::End => {
                        let start = matches!(e.ev, Ev::Start);
                        self.webex_hook(
                            "meetings",
                            if start { "started" } else { "ended" },
                            r.t,
                            buf,
                        );
                        buf.s("{\"id\":\"");
                        self.webex_meeting_id(m, buf);
                        if start {
                            buf.s("\",\"meetingSeriesId\":\"");
                            put_hex(buf, m.h, 32);
                            buf.s("\",\"title\":\"").s(SUBJECTS[m.subject as usize]);
                            buf.s("\",\"start\":\"").t(m.start, Z);
                            buf.s("\",\"end\":\"")
                                .t(m.start + (m.end - m.start) / MIN * MIN, Z);
                        }
                        buf.s("\",\"hostEmail\":\"")
                            .s(host)
                            .s("\",\"meetingType\":\"meeting\"}}");
                    }
                    Ev::Join { p } | Ev::Leave { p } => {
                        let join = matches!(e.ev, Ev::Join { .. });
                        let part = &m.parts[p as usize];
                        self.webex_hook(
                            "meetingParticipants",
                            if join { "joined" } else { "left" },
                            r.t,
                            buf,
                        );
                        buf.s("{\"id\":\"");
                        self.webex_meeting_id(m, buf);
                        buf.push(b'_');
                        put_hex(buf, part.h, 8);
                        buf.s("\",\"host\":")
                            .b(part.organizer)
                            .s(",\"coHost\":false,");
                        self.webex_person(part, buf);
                        buf.s(",\"invitee\":").b(!part.organizer && part.is_user());
                        buf.s(",\"muted\":false,\"state\":\"").s(if join {
                            "joined"
                        } else {
                            "end"
                        });
                        buf.s("\",\"joinedTime\":\"").t(part.admit, ZMS);
                        buf.s("\",\"leftTime\":\"");
                        if join {
                            buf.s("1970-01-01T00:00:00.000Z");
                        } else {
                            buf.t(part.leave, ZMS);
                        }
                        buf.s("\",\"meetingId\":\"");
                        self.webex_meeting_id(m, buf);
                        buf.s("\",\"hostEmail\":\"")
                            .s(host)
                            .s("\",\"devices\":[{\"correlationId\":\"");
                        put_guid(buf, part.h ^ 3);
                        if part.who == Who::Phone {
                            buf.s("\",\"deviceType\":\"tp_phone\",\"audioType\":\"pstn\",\"callType\":\"callIn\",\"phoneNumber\":\"");
                            put_phone(buf, part.h, false);
                        } else {
                            buf.s("\",\"deviceType\":\"webex_meeting\",\"audioType\":\"voip");
                        }
                        buf.s("\",\"joinedTime\":\"")
                            .t(part.admit, ZMS)
                            .s("\",\"leftTime\":\"");
                        if join {
                            buf.s("1970-01-01T00:00:00.000Z");
                        } else {
                            buf.t(part.leave, ZMS);
                        }
                        buf.s("\"}]}}");
                    }
                    _ => unreachable!("not planned for webex"),
                }
            }
            RK::WebexRecording { start, stop } => {
                let (s, e, _) = rec_span(m, start, stop);
                self.webex_hook("recordings", "created", r.t, buf);
                buf.s("{\"id\":\"");
                put_hex(buf, m.h ^ 0x7265, 32);
                buf.s("\",\"meetingId\":\"");
                self.webex_meeting_id(m, buf);
                buf.s("\",\"meetingSeriesId\":\"");
                put_hex(buf, m.h, 32);
                buf.s("\",\"topic\":\"").s(SUBJECTS[m.subject as usize]);
                buf.s("\",\"createTime\":\"")
                    .t(r.t, Z)
                    .s("\",\"timeRecorded\":\"")
                    .t(s, Z);
                buf.s(
                    "\",\"format\":\"MP4\",\"serviceType\":\"MeetingCenter\",\"durationSeconds\":",
                )
                .u(((e - s) / 1000) as u64);
                buf.s(",\"sizeBytes\":").u(40_000_000 + m.h % 400_000_000);
                buf.s(",\"hostEmail\":\"")
                    .s(host)
                    .s("\",\"status\":\"available\"}}");
                c.events = 2;
            }
            RK::WebexTranscript { start } => {
                self.webex_hook("meetingTranscripts", "created", r.t, buf);
                buf.s("{\"id\":\"");
                put_hex(buf, m.h ^ 0x7472, 32);
                buf.s("\",\"siteUrl\":\"region.webex.com\",\"startTime\":\"")
                    .t(m.evs[start as usize].t, Z);
                buf.s("\",\"meetingTopic\":\"")
                    .s(SUBJECTS[m.subject as usize]);
                buf.s("\",\"meetingId\":\"");
                self.webex_meeting_id(m, buf);
                buf.s("\",\"hostUserId\":\"Y2lz");
                put_b64(buf, org.h, 20, false);
                buf.s("\",\"hostEmail\":\"").s(host);
                buf.s("\",\"vttDownloadLink\":\"https://region.webex.com/transcripts/vtt\",\"txtDownloadLink\":\"https://region.webex.com/transcripts/txt\",\"status\":\"available\"}}");
            }
            RK::WebexChats { from, to } => {
                c = Counts::default();
                buf.s("{\"items\":[");
                let mut first = true;
                for e in &m.evs[from as usize..to as usize] {
                    let Ev::Chat { p, msg, text } = e.ev else {
                        continue;
                    };
                    if !first {
                        buf.push(b',');
                    }
                    first = false;
                    let part = &m.parts[p as usize];
                    buf.s("{\"id\":\"");
                    put_guid(buf, mix(m.h, u64::from(msg)));
                    buf.s("\",\"chatTime\":\"").t(e.t, Z).s("\",\"text\":\"");
                    text.put(buf);
                    buf.s("\",\"meetingId\":\"");
                    self.webex_meeting_id(m, buf);
                    buf.s("\",\"type\":\"public\",\"sender\":{");
                    self.webex_person(part, buf);
                    buf.s("},\"receivers\":[]}");
                    c.records += 1;
                    c.events += 1;
                    c.chats += 1;
                    c.pnr += u64::from(text.has_pnr());
                }
                buf.s("]}");
            }
            _ => unreachable!(),
        }
        c
    }

    // ---- Teams audit ------------------------------------------------------------------

    fn thread_id(&self, m: &Meeting, buf: &mut Vec<u8>) {
        buf.s("19:meeting_");
        put_b64(buf, m.h ^ 0x7468, 48, true);
        buf.s("@thread.v2");
    }

    fn audit_common(&mut self, op: &str, created: i64, id: u64, user: &[u8], guest: bool) {
        let j = &mut self.json;
        j.clear();
        j.s("{\"CreationTime\":\"")
            .t(created, NAIVE)
            .s("\",\"Id\":\"");
        put_guid(j, id);
        j.s("\",\"Operation\":\"")
            .s(op)
            .s("\",\"OrganizationId\":\"")
            .s(TENANT);
        j.s("\",\"RecordType\":25,\"UserKey\":\"");
        put_guid(j, finalize(id ^ 0x756b));
        j.s("\",\"UserType\":").u(if guest { 10 } else { 0 });
        j.s(",\"Version\":1,\"Workload\":\"MicrosoftTeams\",\"ClientIP\":\"10.20.");
        j.u(id % 250).push(b'.');
        j.u((id >> 8) % 250);
        j.s("\",\"UserId\":\"");
        j.extend_from_slice(user);
        j.push(b'"');
    }

    fn audit_attendee(&self, p: &Part, buf: &mut Vec<u8>) {
        buf.s("{\"OrganizationId\":");
        match p.who {
            Who::User(u) | Who::Guest(u) => {
                buf.push(b'"');
                buf.s(self.users.all[u as usize].tenant).push(b'"');
            }
            _ => {
                buf.s("null");
            }
        }
        buf.s(",\"RecipientType\":\"").s(match p.who {
            Who::Anonymous => "Anonymous",
            Who::Phone => "Phone",
            _ => "User",
        });
        buf.s("\",\"UserObjectId\":\"");
        self.put_oid(p, buf);
        buf.s("\",\"DisplayName\":\"");
        self.put_name(p, buf);
        buf.s("\",\"UPN\":\"");
        if matches!(p.who, Who::User(_) | Who::Guest(_)) {
            self.put_upn(p, buf);
        }
        buf.s("\"}");
    }

    fn audit(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>, csv: bool) -> Counts {
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        let id = self.next_serial();
        let org = m.organizer();
        let mut user = Vec::with_capacity(64);
        let op;
        match r.kind {
            RK::Ev(i) => {
                let e = m.evs[i as usize];
                let (p, msg, deleted) = match e.ev {
                    Ev::Chat { p, msg, .. } => (p, msg, false),
                    Ev::Deleted { p, msg } => (p, msg, true),
                    _ => unreachable!(),
                };
                let part = &m.parts[p as usize];
                self.put_upn(part, &mut user);
                op = if deleted {
                    "MessageDeleted"
                } else {
                    "MessageSent"
                };
                self.audit_common(op, e.t, id, &user, matches!(part.who, Who::Guest(_)));
                let j = &mut self.json;
                j.s(",\"ChatThreadId\":\"");
                self.thread_id_into_json(m);
                let j = &mut self.json;
                let sent = m.evs.iter().find_map(|x| match x.ev {
                    Ev::Chat { msg: n, .. } if n == msg => Some(x.t),
                    _ => None,
                });
                j.s("\",\"MessageId\":\"").u(sent.unwrap_or(e.t) as u64);
                j.s("\",\"MessageSizeInBytes\":").u(40 + (id % 200));
                let foreign = m
                    .parts
                    .iter()
                    .any(|p| p.is_user() && !p.is_internal(self.users));
                j.s(",\"ParticipantInfo\":{\"HasForeignTenantUsers\":")
                    .b(foreign);
                j.s(",\"HasGuestUsers\":")
                    .b(m.parts.iter().any(|p| matches!(p.who, Who::Guest(_))));
                j.s(",\"HasOtherGuestUsers\":false,\"HasUnauthenticatedUsers\":");
                j.b(m.parts.iter().any(|p| p.who == Who::Anonymous)).s("}}");
            }
            RK::AuditSession(p) => {
                let part = &m.parts[p as usize];
                self.put_upn(part, &mut user);
                op = "TeamsSessionStarted";
                self.audit_common(op, r.t, id, &user, matches!(part.who, Who::Guest(_)));
                self.json.s(",\"ExtraProperties\":[{\"Key\":\"UserAgent\",\"Value\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Teams/24215.1007.3082.1590\"}]}");
                c.events = 0;
            }
            RK::AuditDetail => {
                self.put_upn(org, &mut user);
                op = "MeetingDetail";
                let mid = meeting_id(m);
                self.audit_common(op, r.t, mid, &user, false);
                let j = &mut self.json;
                j.s(",\"ChatThreadId\":\"");
                self.thread_id_into_json(m);
                let j = &mut self.json;
                j.s("\",\"CommunicationType\":\"GroupCall\",\"StartTime\":\"")
                    .t(m.start, NAIVE);
                if m.ended {
                    j.s("\",\"EndTime\":\"").t(m.end, NAIVE);
                    c.events = 2;
                }
                j.s("\",\"MeetingURL\":\"https://teams.microsoft.com/l/meetup-join/");
                put_hex(j, m.h, 16);
                j.s("\",\"ItemName\":\"ScheduledMeeting\"}");
                // MeetingDetail's record Id is the meeting id.
                return self.audit_finish(buf, csv, op, r.t, mid, &user, c);
            }
            RK::AuditPart(p) => {
                let part = &m.parts[p as usize];
                self.put_upn(org, &mut user);
                op = "MeetingParticipantDetail";
                self.audit_common(op, r.t, id, &user, false);
                let mut att = Vec::with_capacity(256);
                self.audit_attendee(part, &mut att);
                let shares: Vec<(i64, i64)> = share_spans(m, p);
                let j = &mut self.json;
                j.s(",\"MeetingDetailId\":\"");
                put_guid(j, meeting_id(m));
                j.s("\",\"JoinTime\":\"").t(part.join, NAIVE);
                j.s("\",\"LeaveTime\":\"").t(part.leave, NAIVE);
                j.s("\",\"IsJoinedFromLobby\":").b(part.lobby);
                j.s(",\"Attendees\":[");
                j.extend_from_slice(&att);
                j.s("],\"ExtraProperties\":[{\"Key\":\"UserAgent\",\"Value\":\"");
                j.s(if part.who == Who::Phone {
                    "PSTN"
                } else if part.h.is_multiple_of(5) {
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Teams/6.9.1"
                } else {
                    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Teams/24215.1007.3082.1590"
                });
                j.s("\"}],\"ItemName\":\"ScheduledMeeting\"");
                if !shares.is_empty() {
                    j.s(",\"ScreenSharingDetails\":[");
                    for (k, (s, e)) in shares.iter().enumerate() {
                        if k > 0 {
                            j.push(b',');
                        }
                        j.s("{\"StartTime\":\"")
                            .t(*s, NAIVE)
                            .s("\",\"EndTime\":\"")
                            .t(*e, NAIVE)
                            .s("\"}");
                    }
                    j.push(b']');
                }
                j.push(b'}');
                c.events = 2;
            }
            RK::AuditBot {
                start,
                stop,
                recorder,
            } => {
                self.put_upn(org, &mut user);
                op = "MeetingParticipantDetail";
                self.audit_common(op, r.t, id, &user, false);
                let s = m.evs[start as usize].t;
                let e = if stop == NONE {
                    m.end
                } else {
                    m.evs[stop as usize].t
                };
                let j = &mut self.json;
                j.s(",\"MeetingDetailId\":\"");
                put_guid(j, meeting_id(m));
                j.s("\",\"JoinTime\":\"")
                    .t(s, NAIVE)
                    .s("\",\"LeaveTime\":\"")
                    .t(e, NAIVE);
                j.s("\",\"IsJoinedFromLobby\":false,\"Attendees\":[{\"RecipientType\":\"Applications\",\"DisplayName\":\"");
                put_guid(j, m.h ^ u64::from(recorder));
                j.s("\",\"UPN\":\"\"}],\"ExtraProperties\":[{\"Key\":\"UserAgent\",\"Value\":\"");
                j.s(if recorder {
                    "SkypeBot Call Recorder Teams"
                } else {
                    "SkypeBot Transcription Bot Teams"
                });
                j.s("\"}],\"ItemName\":\"ScheduledMeeting\"}");
                c.events = 2;
            }
            _ => unreachable!(),
        }
        self.audit_finish(buf, csv, op, r.t, id, &user, c)
    }

    fn thread_id_into_json(&mut self, m: &Meeting) {
        let mut t = std::mem::take(&mut self.json);
        self.thread_id(m, &mut t);
        self.json = t;
    }

    #[allow(clippy::too_many_arguments)]
    fn audit_finish(
        &mut self,
        buf: &mut Vec<u8>,
        csv: bool,
        op: &str,
        created: i64,
        id: u64,
        user: &[u8],
        c: Counts,
    ) -> Counts {
        if csv {
            put_guid(buf, id);
            buf.push(b',');
            put_time(buf, created, TimeStyle::Purview);
            buf.s(",25,").s(op).push(b',');
            buf.extend_from_slice(user);
            buf.s(",\"");
            put_csv_escaped(buf, &self.json);
            buf.s("\",,");
        } else {
            buf.extend_from_slice(&self.json);
        }
        c
    }

    // ---- Graph ------------------------------------------------------------------------

    fn graph_identity(&self, p: &Part, buf: &mut Vec<u8>) {
        buf.s("{\"@odata.type\":\"#microsoft.graph.teamworkUserIdentity\",\"id\":\"");
        self.put_oid(p, buf);
        buf.s("\",\"displayName\":\"");
        self.put_name(p, buf);
        buf.s("\",\"userIdentityType\":\"");
        match p.who {
            Who::User(u) if self.users.all[u as usize].internal => {
                buf.s("aadUser\",\"tenantId\":\"").s(TENANT).push(b'"');
            }
            Who::User(u) => {
                buf.s("federatedUser\",\"tenantId\":\"")
                    .s(self.users.all[u as usize].tenant)
                    .push(b'"');
            }
            Who::Guest(u) => {
                let t = OTHER_TENANTS[(u % 3) as usize];
                buf.s("aadUser\",\"tenantId\":\"").s(t).push(b'"');
            }
            Who::Anonymous => {
                buf.s("anonymousGuest\",\"tenantId\":null");
            }
            Who::Phone => {
                buf.s("phoneUser\",\"tenantId\":null");
            }
        }
        buf.push(b'}');
    }

    fn graph_set(&self, p: &Part, buf: &mut Vec<u8>) {
        buf.s("{\"application\":null,\"device\":null,\"user\":");
        self.graph_identity(p, buf);
        buf.push(b'}');
    }

    fn graph(&mut self, m: &Meeting, r: &Rec, buf: &mut Vec<u8>) -> Counts {
        let mut c = Counts {
            records: 1,
            events: 1,
            ..Counts::default()
        };
        let RK::Ev(i) = r.kind else { unreachable!() };
        let e = m.evs[i as usize];
        let org = m.organizer();
        // Message ids are the creation time in milliseconds.
        let (id_t, deleted) = match e.ev {
            Ev::Deleted { msg, .. } => (
                m.evs
                    .iter()
                    .find_map(|x| match x.ev {
                        Ev::Chat { msg: n, .. } if n == msg => Some(x.t),
                        _ => None,
                    })
                    .unwrap_or(e.t),
                true,
            ),
            _ => (r.t, false),
        };
        let system = !matches!(e.ev, Ev::Chat { .. } | Ev::Deleted { .. } | Ev::File { .. });
        buf.s("{\"id\":\"")
            .u(id_t as u64)
            .s("\",\"replyToId\":null,\"etag\":\"")
            .u(r.t as u64);
        buf.s("\",\"messageType\":\"").s(if system {
            "systemEventMessage"
        } else {
            "message"
        });
        buf.s("\",\"createdDateTime\":\"").t(id_t, ZMS);
        buf.s("\",\"lastModifiedDateTime\":\"").t(r.t, ZMS);
        buf.s("\",\"lastEditedDateTime\":null,\"deletedDateTime\":");
        if deleted {
            buf.push(b'"');
            buf.t(r.t, ZMS).push(b'"');
        } else {
            buf.s("null");
        }
        buf.s(",\"subject\":null,\"summary\":null,\"chatId\":\"");
        self.thread_id(m, buf);
        buf.s("\",\"importance\":\"normal\",\"locale\":\"en-us\",\"webUrl\":null,\"channelIdentity\":null,\"policyViolation\":null,\"eventDetail\":");
        let detail = |buf: &mut Vec<u8>, ty: &str| {
            buf.s("{\"@odata.type\":\"#microsoft.graph.")
                .s(ty)
                .s("\",\"callId\":\"");
            put_guid(buf, m.h ^ 0x6361);
            buf.push(b'"');
        };
        match e.ev {
            Ev::Start => {
                detail(buf, "callStartedEventMessageDetail");
                buf.s(",\"callEventType\":\"meeting\",\"initiator\":");
                self.graph_set(org, buf);
                buf.push(b'}');
            }
            Ev::End => {
                detail(buf, "callEndedEventMessageDetail");
                buf.s(",\"callDuration\":\"");
                put_duration(buf, ((m.end - m.start) / 1000) as u64);
                buf.s("\",\"callEventType\":\"meeting\",\"callParticipants\":[],\"initiator\":");
                self.graph_set(org, buf);
                buf.push(b'}');
            }
            Ev::Join { p } | Ev::Leave { p } => {
                let ty = if matches!(e.ev, Ev::Join { .. }) {
                    "membersJoinedEventMessageDetail"
                } else {
                    "membersLeftEventMessageDetail"
                };
                buf.s("{\"@odata.type\":\"#microsoft.graph.")
                    .s(ty)
                    .s("\",\"members\":[");
                let part = &m.parts[p as usize];
                let mut id = Vec::new();
                self.graph_identity(part, &mut id);
                // A member is the identity without its @odata.type.
                let skip = "{\"@odata.type\":\"#microsoft.graph.teamworkUserIdentity\",".len();
                buf.push(b'{');
                buf.extend_from_slice(&id[skip..]);
                buf.s("],\"initiator\":");
                self.graph_set(part, buf);
                buf.push(b'}');
            }
            Ev::RecStart { .. } => {
                detail(buf, "callRecordingEventMessageDetail");
                buf.s(",\"callRecordingDisplayName\":\"Möte-");
                put_pad(buf, m.idx, 6);
                buf.s(".mp4\",\"callRecordingUrl\":null,\"callRecordingDuration\":null,\"callRecordingStatus\":\"initial\",\"meetingOrganizer\":");
                self.graph_set(org, buf);
                buf.s(",\"initiator\":");
                self.graph_set(org, buf);
                buf.push(b'}');
            }
            Ev::RecStop => {
                let start = m.evs[..i as usize]
                    .iter()
                    .rev()
                    .find(|e| matches!(e.ev, Ev::RecStart { .. }))
                    .map_or(m.start, |e| e.t);
                detail(buf, "callRecordingEventMessageDetail");
                buf.s(",\"callRecordingDisplayName\":\"Möte-");
                put_pad(buf, m.idx, 6);
                buf.s(".mp4\",\"callRecordingUrl\":\"https://regionse-my.sharepoint.com/personal/recordings/");
                put_hex(buf, m.h, 16);
                buf.s(".mp4\",\"callRecordingDuration\":\"");
                put_duration(buf, ((e.t - start) / 1000) as u64);
                buf.s("\",\"callRecordingStatus\":\"success\",\"meetingOrganizer\":");
                self.graph_set(org, buf);
                buf.s(",\"initiator\":");
                self.graph_set(org, buf);
                buf.push(b'}');
                c.events = 2;
            }
            Ev::TransStart => {
                detail(buf, "callTranscriptEventMessageDetail");
                buf.s(",\"callTranscriptICalUid\":\"");
                put_hex(buf, m.h ^ 0x6963, 40);
                buf.s("\",\"meetingOrganizer\":");
                self.graph_set(org, buf);
                buf.push(b'}');
            }
            Ev::Chat { .. } | Ev::Deleted { .. } | Ev::File { .. } => {
                buf.s("null");
            }
            _ => unreachable!("not planned for graph"),
        }
        buf.s(",\"from\":");
        match e.ev {
            Ev::Chat { p, .. } | Ev::File { p, .. } => self.graph_set(&m.parts[p as usize], buf),
            _ => {
                buf.s("null");
            }
        }
        buf.s(",\"body\":");
        match e.ev {
            Ev::Chat { text, .. } => {
                buf.s("{\"contentType\":\"html\",\"content\":\"<p>");
                text.put(buf);
                buf.s("</p>\"},\"attachments\":[]");
                c.chats = 1;
                c.pnr = u64::from(text.has_pnr());
            }
            Ev::File { name, .. } => {
                buf.s("{\"contentType\":\"html\",\"content\":\"<attachment id=\\\"");
                put_guid(buf, m.h ^ 0x6174);
                buf.s("\\\"></attachment>\"},\"attachments\":[{\"id\":\"");
                put_guid(buf, m.h ^ 0x6174);
                buf.s("\",\"contentType\":\"reference\",\"contentUrl\":\"https://regionse.sharepoint.com/sites/vard/Delade%20dokument/");
                put_hex(buf, m.h ^ 0x6174, 16);
                buf.s("\",\"content\":null,\"name\":\"")
                    .s(FILES[name as usize]);
                buf.s("\",\"thumbnailUrl\":null}]");
            }
            Ev::Deleted { .. } => {
                buf.s("{\"contentType\":\"text\",\"content\":null},\"attachments\":[]");
            }
            _ => {
                buf.s("{\"contentType\":\"html\",\"content\":\"<systemEventMessage/>\"},\"attachments\":[]");
            }
        }
        buf.s(",\"mentions\":[],\"reactions\":[]}");
        c
    }
}

/// The Teams meeting id (`MeetingDetail.Id`) of a meeting.
fn meeting_id(m: &Meeting) -> u64 {
    mix(m.h, 0x6d64)
}

/// The screen shares of participant `p`: (start, stop).
fn share_spans(m: &Meeting, p: u16) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut open = None;
    for e in &m.evs {
        match e.ev {
            Ev::ShareStart { p: q, .. } if q == p => open = Some(e.t),
            Ev::ShareStop { p: q } if q == p => {
                if let Some(s) = open.take() {
                    out.push((s, e.t));
                }
            }
            _ => {}
        }
    }
    out
}

/// Start, stop and audio-only of the recording started by event `start`.
fn rec_span(m: &Meeting, start: u32, stop: u32) -> (i64, i64, bool) {
    let s = m.evs[start as usize];
    let e = if stop == NONE {
        m.end
    } else {
        m.evs[stop as usize].t
    };
    let audio = matches!(s.ev, Ev::RecStart { audio: true });
    (s.t, e.max(s.t + 1_000), audio)
}

fn scope_of_stop(m: &Meeting, i: usize, p: u16) -> Scope {
    m.evs[..i]
        .iter()
        .rev()
        .find_map(|e| match e.ev {
            Ev::ShareStart { p: q, scope } if q == p => Some(scope),
            _ => None,
        })
        .unwrap_or(Scope::Desktop)
}

fn scope_of_any(m: &Meeting, i: usize) -> Scope {
    match m.evs[i].ev {
        Ev::ShareStop { p } => scope_of_stop(m, i, p),
        Ev::ShareStart { scope, .. } => scope,
        _ => Scope::Desktop,
    }
}

fn scope_zoom(s: Scope) -> &'static str {
    match s {
        Scope::Desktop => "desktop",
        Scope::Application => "application",
        Scope::Document => "file",
    }
}

/// A Swedish mobile number from `h`: `+46 70 123 45 67` (spaced) or `+46701234567`.
fn put_phone(buf: &mut Vec<u8>, h: u64, spaced: bool) {
    let second = [b'0', b'2', b'3', b'6'][(h % 4) as usize];
    let n = (h >> 2) % 10_000_000;
    buf.extend_from_slice(b"+46");
    if spaced {
        buf.push(b' ');
    }
    buf.push(b'7');
    buf.push(second);
    let mut d = Vec::with_capacity(7);
    put_pad(&mut d, n, 7);
    if spaced {
        buf.push(b' ');
        buf.extend_from_slice(&d[..3]);
        buf.push(b' ');
        buf.extend_from_slice(&d[3..5]);
        buf.push(b' ');
        buf.extend_from_slice(&d[5..]);
    } else {
        buf.extend_from_slice(&d);
    }
}
