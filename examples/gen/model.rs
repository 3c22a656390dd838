//! The synthetic organisation and its meetings, independent of any export format: users, the
//! meeting plan (participants and their events in time order), and the chat texts.
//!
//! Every meeting is drawn from its own PRNG stream (seed, meeting number), so meeting 41 is the
//! same whichever format renders it and however many meetings come before it in a file.

use super::pnr::TEST_PNR;
use super::util::{Rng, ascii_fold, mix, put_b64, put_guid};

/// The organisation's own Microsoft 365 tenant (Teams `OrganizationId`, Graph `tenantId`).
pub const TENANT: &str = "7c9a0f31-5b1e-4d2a-9c3e-1f2a3b4c5d6e";
/// Other tenants (municipalities, suppliers) for external Teams users.
pub const OTHER_TENANTS: [&str; 3] = [
    "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
];
/// The organisation's Webex org id, and another org's.
pub const WEBEX_ORG: &str = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9yZWdpb24tb3du";
pub const WEBEX_OTHER_ORG: &str = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9leHRlcm5hbA";
/// The internal e-mail domain, and its subdomain used by part of the staff.
pub const DOMAIN: &str = "region.se";
pub const SUBDOMAIN: &str = "vard.region.se";
/// Domains of external participants (municipalities, suppliers, private addresses).
pub const EXTERNAL_DOMAINS: [&str; 8] = [
    "vaxjo.se",
    "alvesta.se",
    "kommun.example",
    "konsult.example",
    "apotek.example",
    "gmail.com",
    "outlook.com",
    "vardbolag.example",
];

/// The configuration that makes these exports' internal participants internal: the script
/// and the tests scan with it.
pub fn config_toml() -> String {
    format!(
        "# motesvakt configuration for the synthetic exports of `examples/gen.rs`.\n\
         internal_domains = [\"{DOMAIN}\"]\n\
         tenant_ids = [\"{TENANT}\"]\n\
         webex_org_ids = [\"{WEBEX_ORG}\"]\n\
         internal_networks = [\"10.0.0.0/8\"]\n"
    )
}

pub const FIRST: [&str; 40] = [
    "Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Kerstin", "Åsa", "Märta", "Ingrid", "Elin",
    "Sofia", "Johanna", "Linnéa", "Birgitta", "Malin", "Emma", "Ida", "Hanna", "Ylva", "Erik",
    "Lars", "Karl", "Anders", "Johan", "Per", "Björn", "Jörgen", "Mikael", "Nils", "Olof",
    "Stefan", "Mats", "Göran", "Håkan", "Fredrik", "Jonas", "Ali", "Mohammed", "Ahmed",
];
const LAST: [&str; 40] = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Olofsson",
    "Lindström",
    "Lindqvist",
    "Lindgren",
    "Berg",
    "Axelsson",
    "Bergström",
    "Lundberg",
    "Lind",
    "Lundgren",
    "Lundqvist",
    "Mattsson",
    "Berglund",
    "Fredriksson",
    "Sandberg",
    "Henriksson",
    "Ström",
    "Ågren",
    "Öberg",
    "Åberg",
    "Hosseini",
];

/// Meeting subjects; some carry care keywords (vårdplanering, SIP, MDK), which make the
/// meeting sensitive.
pub const SUBJECTS: [&str; 20] = [
    "Vårdplanering",
    "Samordnad vårdplanering",
    "SIP-möte",
    "MDK onkologi",
    "Multidisciplinär konferens",
    "Avdelningsmöte",
    "Veckomöte IT-stöd",
    "Handledning",
    "Ledningsgrupp",
    "Samverkansmöte kommunen",
    "Arbetsplatsträff",
    "Introduktion nyanställda",
    "Projektmöte journalsystem",
    "Uppföljning hemsjukvård",
    "Morgonmöte",
    "Utbildning brandskydd",
    "Schemaplanering sommar",
    "Läkemedelsgenomgång",
    "Rehabmöte",
    "Kvalitetsråd",
];

/// Everyday chat in a Swedish workplace (with numbers that are not identity numbers).
pub const EVERYDAY: [&str; 36] = [
    "Hej alla, jag är med om en minut",
    "Ser ni min skärm nu?",
    "Jag hör er dåligt, byter till telefonen",
    "Tack för idag!",
    "Kan vi ta det efter lunch?",
    "Jag har fått förhinder kl 14, kan vi flytta?",
    "Länken till dokumentet ligger i kanalen",
    "Mikrofonen strular, återkommer strax",
    "Vi tar en paus på fem minuter",
    "Någon som vet vem som har rum B2 i eftermiddag?",
    "Protokollet skickas ut i morgon",
    "Bra, då kör vi så",
    "Jag delar presentationen nu",
    "Kan du upprepa sista frågan?",
    "Hör ni mig nu?",
    "Välkomna allihop",
    "Jag lämnar mötet nu, hej då",
    "Tack, det låter bra 👍",
    "Vi ses på fredag",
    "Glöm inte att fylla i tidrapporten innan fredag",
    "Nästa möte blir tisdag 10:00",
    "Kaffe i fikarummet efter mötet",
    "Jag har skickat kallelsen till alla",
    "Det går inte att dela skärmen i webbläsaren",
    "Ring mig på 070-312 45 67 om något är oklart",
    "Växeln nås på 08-123 456 00",
    "Lunch 11:30 i matsalen?",
    "Kan du ta passet 2/10?",
    "Datorerna uppdateras i helgen, starta om på måndag",
    "Order 48213-77 är levererad till plan 3",
    "Mötet börjar 13:15 i stället",
    "Version 2024.11.5 är ute",
    "Jag är tillbaka om tio minuter",
    "Kan någon anteckna i dag?",
    "Fakturan på 12 450 kr är betald",
    "Semesterönskemålen ska in senast 15/3",
];

/// Clinical chat without identity numbers: weak signals only, never an incident.
pub const CLINICAL: [&str; 24] = [
    "Provsvaren har kommit, CRP 12",
    "Patienten i rum 4 behöver ny tid hos dietisten",
    "Epikrisen är skickad till vårdcentralen",
    "Vi behöver se över läkemedelslistan inför utskrivning",
    "HbA1c var 52 vid senaste kontrollen",
    "Anhöriga vill vara med på vårdplaneringen",
    "Hemtjänsten börjar på måndag",
    "Remissen till ortopeden är skickad",
    "Hon har fått Waran 2,5 mg sedan i fredags",
    "Kan någon kolla journalen inför ronden?",
    "Biståndsbeslutet är klart, insatsen startar nästa vecka",
    "Fallrisken är hög, vi sätter in larm",
    "Sjuksköterskan från kommunen ansluter kl 10",
    "Utskrivningsklar enligt läkaren, väntar på SIP",
    "Inga nya provsvar sedan i går",
    "Den samordnade planen uppdateras efter mötet",
    "Diabetessköterskan har fått informationen",
    "Patienten önskar att dottern deltar",
    "Blodtrycket 135/85 i morse",
    "Vi avvaktar röntgensvar",
    "INR 2,3 i dag, ingen ändring av dosen",
    "Demensteamet gör hembesök på torsdag",
    "Insulindosen justeras enligt ordination",
    "Han har fått sin vaccination",
];

/// Chat that names a patient by identity number: `{}` is the number. These carry an identity
/// or patient keyword, so every written form counts (medium or high confidence).
pub const BREACH_KEYWORD: [&str; 8] = [
    "Gäller patient {}, se journalen",
    "pnr {} ska ha ny tid på mottagningen",
    "Personnummer {}, inskriven på avd 7",
    "Patienten {} är utskrivningsklar i morgon",
    "Kan du kolla journalen för {} inför ronden?",
    "Vårdtagare {} har fått ändrad ordination",
    "Remiss skickad för {}, väntar på svar",
    "Brukaren {} behöver hjälp med läkemedlen",
];

/// The same without a keyword: only the strong written forms (with century or separator) are
/// used in these, which count at medium confidence on their own.
pub const BREACH_PLAIN: [&str; 4] = [
    "{} ska ha Waran 2,5 mg, INR 2.3",
    "Kolla {} inför eftermiddagen",
    "Vg se över läkemedelslistan för {}",
    "{} kommer 14:30 med sin dotter",
];

/// Shared files.
pub const FILES: [&str; 10] = [
    "Agenda.docx",
    "Protokoll.docx",
    "Presentation.pptx",
    "Schema v12.xlsx",
    "Riktlinjer fallprevention.pdf",
    "Mall vårdplan.docx",
    "Rutin läkemedelshantering.pdf",
    "Bemanning vecka 23.xlsx",
    "Underlag SIP.docx",
    "Bilder.zip",
];

/// How an identity number is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PnrForm {
    /// `YYYYMMDD-NNNC`
    Long,
    /// `YYMMDD-NNNC`
    Short,
    /// `YYYYMMDDNNNC`
    LongBare,
    /// `YYMMDDNNNC` (only with a keyword)
    ShortBare,
    /// `YYMMDD NNNC` (only with a keyword)
    Spaced,
}

/// A chat message's text.
#[derive(Clone, Copy, Debug)]
pub enum Text {
    Everyday(u16),
    Clinical(u16),
    /// `keyword`: from [`BREACH_KEYWORD`], else [`BREACH_PLAIN`].
    Breach {
        keyword: bool,
        template: u16,
        pnr: u16,
        form: PnrForm,
    },
}

impl Text {
    pub fn has_pnr(&self) -> bool {
        matches!(self, Text::Breach { .. })
    }

    /// Appends the text (no `"`, `\` or control characters in any of it).
    pub fn put(&self, buf: &mut Vec<u8>) {
        match *self {
            Text::Everyday(i) => buf.extend_from_slice(EVERYDAY[i as usize].as_bytes()),
            Text::Clinical(i) => buf.extend_from_slice(CLINICAL[i as usize].as_bytes()),
            Text::Breach {
                keyword,
                template,
                pnr,
                form,
            } => {
                let t = if keyword {
                    BREACH_KEYWORD[template as usize]
                } else {
                    BREACH_PLAIN[template as usize]
                };
                let (before, after) = t.split_once("{}").expect("a placeholder");
                buf.extend_from_slice(before.as_bytes());
                let p = TEST_PNR[pnr as usize].as_bytes();
                match form {
                    PnrForm::Long => {
                        buf.extend_from_slice(&p[..8]);
                        buf.push(b'-');
                        buf.extend_from_slice(&p[8..]);
                    }
                    PnrForm::Short => {
                        buf.extend_from_slice(&p[2..8]);
                        buf.push(b'-');
                        buf.extend_from_slice(&p[8..]);
                    }
                    PnrForm::LongBare => buf.extend_from_slice(p),
                    PnrForm::ShortBare => buf.extend_from_slice(&p[2..]),
                    PnrForm::Spaced => {
                        buf.extend_from_slice(&p[2..8]);
                        buf.push(b' ');
                        buf.extend_from_slice(&p[8..]);
                    }
                }
                buf.extend_from_slice(after.as_bytes());
            }
        }
    }
}

/// A user of the organisation's address book, or an external contact.
pub struct User {
    pub name: String,
    pub email: String,
    pub internal: bool,
    /// Entra object id (Graph `from.user.id`, Teams `UserObjectId`).
    pub oid: String,
    /// Zoom user id (host_id) for internal accounts.
    pub zoom_id: String,
    /// Tenant of an external Teams user.
    pub tenant: &'static str,
}

/// The people who take part in meetings.
pub struct Users {
    pub all: Vec<User>,
    /// Indices of internal users (organisers are drawn from these).
    pub internal: Vec<u32>,
    pub external: Vec<u32>,
}

impl Users {
    /// `n` users: about 85 % internal (`@region.se`, a tenth of them `@vard.region.se`), the
    /// rest contacts at municipalities, suppliers and private addresses.
    pub fn new(n: u32, seed: u64) -> Users {
        let mut rng = Rng::new(mix(seed, 0x7573_6572));
        let mut all = Vec::with_capacity(n as usize);
        let (mut internal, mut external) = (Vec::new(), Vec::new());
        let mut seen = std::collections::HashMap::<String, u32>::new();
        for i in 0..n.max(4) {
            let first = *rng.pick(&FIRST);
            let last = *rng.pick(&LAST);
            let is_internal = i < 2 || rng.per_mille(850);
            let domain = if is_internal {
                if rng.per_mille(100) {
                    SUBDOMAIN
                } else {
                    DOMAIN
                }
            } else {
                *rng.pick(&EXTERNAL_DOMAINS)
            };
            let local = format!("{}.{}", ascii_fold(first), ascii_fold(last));
            let count = seen.entry(format!("{local}@{domain}")).or_insert(0);
            *count += 1;
            let email = if *count == 1 {
                format!("{local}@{domain}")
            } else {
                format!("{local}{count}@{domain}")
            };
            let mut oid = Vec::new();
            put_guid(&mut oid, mix(seed ^ 0x6f6964, u64::from(i)));
            let mut zoom = Vec::new();
            put_b64(&mut zoom, mix(seed ^ 0x7a6f6f6d, u64::from(i)), 22, true);
            let tenant = if is_internal {
                TENANT
            } else {
                OTHER_TENANTS[(i % 3) as usize]
            };
            if is_internal {
                internal.push(i);
            } else {
                external.push(i);
            }
            all.push(User {
                name: format!("{first} {last}"),
                email,
                internal: is_internal,
                oid: String::from_utf8(oid).expect("ascii"),
                zoom_id: String::from_utf8(zoom).expect("ascii"),
                tenant,
            });
        }
        if external.is_empty() {
            external.push(internal.pop().expect("users"));
        }
        Users {
            all,
            internal,
            external,
        }
    }
}

/// Who a participant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// A user of the address book (internal or external).
    User(u32),
    /// An external user invited as a guest (Teams `#EXT#` account).
    Guest(u32),
    /// Joined anonymously with a typed name.
    Anonymous,
    /// Dialled in by phone.
    Phone,
}

/// One participant's session in a meeting.
#[derive(Clone, Debug)]
pub struct Part {
    pub who: Who,
    pub organizer: bool,
    pub lobby: bool,
    pub join: i64,
    /// When let in from the lobby (= `join` without the lobby).
    pub admit: i64,
    pub leave: i64,
    /// Seed of the participant's own ids (session uuid, phone number, anonymous name).
    pub h: u64,
}

impl Part {
    pub fn is_internal(&self, users: &Users) -> bool {
        matches!(self.who, Who::User(u) if users.all[u as usize].internal)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Desktop,
    Application,
    Document,
}

/// One event of the meeting plan; `p` is an index into [`Meeting::parts`].
#[derive(Clone, Copy, Debug)]
pub enum Ev {
    Start,
    Join { p: u16 },
    Admit { p: u16 },
    Leave { p: u16 },
    Chat { p: u16, msg: u32, text: Text },
    Deleted { p: u16, msg: u32 },
    ShareStart { p: u16, scope: Scope },
    ShareStop { p: u16 },
    RecStart { audio: bool },
    RecStop,
    TransStart,
    TransStop,
    File { p: u16, name: u16 },
    End,
}

#[derive(Clone, Copy, Debug)]
pub struct TimedEv {
    pub t: i64,
    pub ev: Ev,
}

/// A meeting: who took part, and what happened in time order.
pub struct Meeting {
    pub idx: u64,
    /// Seed of the meeting's ids.
    pub h: u64,
    pub start: i64,
    /// When it ended, or its last event when nobody ended it.
    pub end: i64,
    pub ended: bool,
    pub subject: u16,
    pub parts: Vec<Part>,
    pub evs: Vec<TimedEv>,
}

impl Meeting {
    pub fn organizer(&self) -> &Part {
        &self.parts[0]
    }
}

/// What shapes the meetings.
#[derive(Clone, Debug)]
pub struct Shape {
    pub seed: u64,
    /// Share of chat messages that hold an identity number.
    pub breach_rate: f64,
}

const MIN: i64 = 60_000;

/// Plans meeting `idx` starting at `start` (ms). With `chat = Some(n)`, the meeting is one long
/// meeting (a standing chat) with exactly `n` chat messages and ten participants.
pub fn plan_meeting(
    shape: &Shape,
    users: &Users,
    idx: u64,
    start: i64,
    chat: Option<u64>,
) -> Meeting {
    let mut rng = Rng::new(mix(shape.seed, idx.wrapping_mul(0x9E37_79B9) ^ 0x6d656574));
    let h = rng.next_u64();
    // Meetings of 5-30 events (one long meeting for `chat`).
    let target = rng.range(5, 30) as i64;
    let dur_min = *rng.pick(&[15i64, 20, 30, 30, 30, 45, 45, 60, 60, 90]);
    let (dur, n_parts) = match chat {
        Some(n) => ((n as i64 * 3_000).max(60 * MIN), 10),
        None => {
            let max_parts = ((target - 2) / 3).clamp(2, 12);
            (dur_min * MIN, rng.range(2, max_parts as u64) as usize)
        }
    };
    let end = start + dur;
    let organizer = users.internal[rng.below(users.internal.len() as u64) as usize];
    let mut parts = Vec::with_capacity(n_parts);
    parts.push(Part {
        who: Who::User(organizer),
        organizer: true,
        lobby: false,
        join: start + rng.range(0, 30_000) as i64,
        admit: 0,
        leave: 0,
        h: rng.next_u64(),
    });
    let mut used = vec![organizer];
    while parts.len() < n_parts {
        let roll = rng.below(1000);
        let who = if roll < 650 {
            let u = users.internal[rng.below(users.internal.len() as u64) as usize];
            if used.contains(&u) {
                continue;
            }
            used.push(u);
            Who::User(u)
        } else if roll < 880 {
            let u = users.external[rng.below(users.external.len() as u64) as usize];
            if used.contains(&u) {
                continue;
            }
            used.push(u);
            if roll < 800 {
                Who::User(u)
            } else {
                Who::Guest(u)
            }
        } else if roll < 940 {
            Who::Anonymous
        } else {
            Who::Phone
        };
        let internal = matches!(who, Who::User(u) if users.all[u as usize].internal);
        let lobby = match who {
            Who::User(_) if internal => rng.per_mille(50),
            Who::Phone => rng.per_mille(500),
            _ => rng.per_mille(700),
        };
        // Most join in the first minutes, some late.
        let join = if rng.per_mille(850) {
            start + rng.range(5_000, 4 * MIN as u64) as i64
        } else {
            start + rng.range(4 * MIN as u64, (dur / 2) as u64) as i64
        };
        parts.push(Part {
            who,
            organizer: false,
            lobby,
            join,
            admit: 0,
            leave: 0,
            h: rng.next_u64(),
        });
    }
    // Admission and leave times.
    for p in parts.iter_mut() {
        p.admit = if p.lobby {
            p.join + rng.range(8_000, 120_000) as i64
        } else {
            p.join
        };
        p.leave = if p.organizer {
            end - rng.range(0, 20_000) as i64
        } else if rng.per_mille(800) {
            end - rng.range(20_000, 3 * MIN as u64) as i64
        } else {
            p.admit + ((end - p.admit) * rng.range(30, 90) as i64 / 100)
        }
        .max(p.admit + 30_000);
    }
    let ended = rng.per_mille(850);

    let mut evs: Vec<TimedEv> = Vec::with_capacity(target as usize + 8);
    evs.push(TimedEv {
        t: start,
        ev: Ev::Start,
    });
    for (i, p) in parts.iter().enumerate() {
        let p16 = i as u16;
        evs.push(TimedEv {
            t: p.join,
            ev: Ev::Join { p: p16 },
        });
        if p.lobby {
            evs.push(TimedEv {
                t: p.admit,
                ev: Ev::Admit { p: p16 },
            });
        }
        evs.push(TimedEv {
            t: p.leave,
            ev: Ev::Leave { p: p16 },
        });
    }
    let last_leave = parts.iter().map(|p| p.leave).max().unwrap_or(end);
    let end_t = if ended {
        end.max(last_leave)
    } else {
        last_leave
    };
    // The rest of the event budget: screen shares, a recording now and then, transcription,
    // files, and chat.
    let fixed = evs.len() as i64 + i64::from(ended);
    let mut budget = (target - fixed).max(1);
    let inside = |rng: &mut Rng, from: i64, to: i64| -> i64 {
        if to <= from {
            from
        } else {
            from + rng.below((to - from) as u64) as i64
        }
    };
    let present = |rng: &mut Rng, parts: &[Part], t: i64, chat: bool| -> u16 {
        for _ in 0..8 {
            let i = rng.below(parts.len() as u64) as usize;
            let p = &parts[i];
            if p.admit <= t && t < p.leave && !(chat && p.who == Who::Phone) {
                return i as u16;
            }
        }
        0
    };
    if chat.is_none() {
        if rng.per_mille(60) {
            let s = inside(&mut rng, start + 2 * MIN, start + dur / 3);
            let e = inside(&mut rng, s + 5 * MIN, end_t);
            evs.push(TimedEv {
                t: s,
                ev: Ev::RecStart {
                    audio: rng.per_mille(100),
                },
            });
            evs.push(TimedEv {
                t: e.min(end_t),
                ev: Ev::RecStop,
            });
            budget -= 2;
        }
        if rng.per_mille(40) {
            let s = inside(&mut rng, start + MIN, start + dur / 2);
            evs.push(TimedEv {
                t: s,
                ev: Ev::TransStart,
            });
            evs.push(TimedEv {
                t: end_t - 1_000,
                ev: Ev::TransStop,
            });
            budget -= 2;
        }
        if budget >= 2 && rng.per_mille(350) {
            let shares = if budget >= 6 && rng.per_mille(300) {
                2
            } else {
                1
            };
            let mut from = start + MIN;
            for _ in 0..shares {
                let s = inside(&mut rng, from, start + dur * 2 / 3);
                let e = inside(&mut rng, s + MIN, s + 15 * MIN).min(end_t - 1_000);
                let p = present(&mut rng, &parts, s, true);
                let scope = match rng.below(10) {
                    0..=3 => Scope::Desktop,
                    4..=7 => Scope::Application,
                    _ => Scope::Document,
                };
                evs.push(TimedEv {
                    t: s,
                    ev: Ev::ShareStart { p, scope },
                });
                evs.push(TimedEv {
                    t: e.max(s + 1_000),
                    ev: Ev::ShareStop { p },
                });
                from = e + 1_000;
                budget -= 2;
            }
        }
        if budget >= 1 && rng.per_mille(80) {
            let t = inside(&mut rng, start + MIN, end_t - MIN);
            let p = present(&mut rng, &parts, t, true);
            evs.push(TimedEv {
                t,
                ev: Ev::File {
                    p,
                    name: rng.below(FILES.len() as u64) as u16,
                },
            });
            budget -= 1;
        }
    }
    // Chat: what is left, times strictly increasing (message ids are times in Teams).
    let n_chat = chat.unwrap_or(budget.max(0) as u64);
    let mut times: Vec<i64> = (0..n_chat)
        .map(|_| inside(&mut rng, start + MIN / 2, end_t - MIN / 2))
        .collect();
    times.sort_unstable();
    for i in 1..times.len() {
        if times[i] <= times[i - 1] {
            times[i] = times[i - 1] + 1;
        }
    }
    let chat_from = evs.len();
    for (msg, &t) in times.iter().enumerate() {
        let p = present(&mut rng, &parts, t, true);
        let text = if rng.chance(shape.breach_rate) {
            let pnr = rng.below(TEST_PNR.len() as u64) as u16;
            let form = match rng.below(100) {
                0..=34 => PnrForm::Long,
                35..=69 => PnrForm::Short,
                70..=84 => PnrForm::LongBare,
                85..=94 => PnrForm::ShortBare,
                _ => PnrForm::Spaced,
            };
            let keyword =
                matches!(form, PnrForm::ShortBare | PnrForm::Spaced) || rng.per_mille(600);
            let template = if keyword {
                rng.below(BREACH_KEYWORD.len() as u64)
            } else {
                rng.below(BREACH_PLAIN.len() as u64)
            } as u16;
            Text::Breach {
                keyword,
                template,
                pnr,
                form,
            }
        } else if rng.per_mille(300) {
            Text::Clinical(rng.below(CLINICAL.len() as u64) as u16)
        } else {
            Text::Everyday(rng.below(EVERYDAY.len() as u64) as u16)
        };
        evs.push(TimedEv {
            t,
            ev: Ev::Chat {
                p,
                msg: msg as u32,
                text,
            },
        });
    }
    // Now and then (in about 6 % of meetings) a message is deleted a little later.
    if n_chat > 0 && chat.is_none() && rng.per_mille(60) {
        let i = chat_from + rng.below(n_chat) as usize;
        if let TimedEv {
            t,
            ev: Ev::Chat { p, msg, .. },
        } = evs[i]
        {
            let when = (t + rng.range(5_000, 60_000) as i64).min(end_t - 1);
            evs.push(TimedEv {
                t: when.max(t + 1),
                ev: Ev::Deleted { p, msg },
            });
        }
    }
    if ended {
        evs.push(TimedEv {
            t: end_t,
            ev: Ev::End,
        });
    }
    // Time order; at the same time, the plan's order (start first, end last).
    evs.sort_by_key(|e| (e.t, rank(&e.ev)));
    Meeting {
        idx,
        h,
        start,
        end: end_t,
        ended,
        subject: rng.below(SUBJECTS.len() as u64) as u16,
        parts,
        evs,
    }
}

fn rank(ev: &Ev) -> u8 {
    match ev {
        Ev::Start => 0,
        Ev::Join { .. } => 1,
        Ev::Admit { .. } => 2,
        Ev::End => 9,
        Ev::Leave { .. } => 8,
        _ => 5,
    }
}

/// Meeting start times: working days (Mon-Fri), 06:30-16:00 UTC (08:30-18:00 in Swedish summer
/// time), arrivals spread evenly with random gaps, starting Monday 2024-05-06. A few thousand
/// users hold about one meeting per two users per working day.
pub struct Calendar {
    rng: Rng,
    now: i64,
    mean_gap: i64,
}

pub const BASE_DAY: i64 = 19_849; // 2024-05-06, a Monday
const DAY_MS: i64 = 86_400_000;
const OPEN: i64 = 6 * 3_600_000 + 30 * 60_000;
const CLOSE: i64 = 16 * 3_600_000;

impl Calendar {
    pub fn new(seed: u64, users: u32) -> Calendar {
        let per_day = (i64::from(users) / 2).max(20);
        Calendar {
            rng: Rng::new(mix(seed, 0x0063_616c)),
            now: BASE_DAY * DAY_MS + OPEN,
            mean_gap: (CLOSE - OPEN) / per_day,
        }
    }

    /// The next meeting's start.
    pub fn next_start(&mut self) -> i64 {
        let gap = self.rng.below((2 * self.mean_gap) as u64 + 1) as i64;
        let mut t = self.now + gap;
        let tod = t.rem_euclid(DAY_MS);
        if tod >= CLOSE {
            let mut day = t.div_euclid(DAY_MS) + 1;
            // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
            while (day + 3).rem_euclid(7) >= 5 {
                day += 1;
            }
            t = day * DAY_MS + OPEN + (tod - CLOSE).min(self.mean_gap);
        }
        self.now = t;
        t
    }
}
