//! A labelled corpus of meeting-chat messages as Swedish clinicians, social workers, medical
//! secretaries and IT staff write them (issue 14), deterministic from a seed.
//!
//! A quarter of the messages hold an identity number (personnummer or samordningsnummer) in the
//! written forms people use: with or without century, `-`, `+`, no separator, a space, a dash
//! with spaces (`YYMMDD - NNNN`), broken over a line (`YYYYMMDD-⏎NNNN`), glued to a keyword
//! (`pnrYYYYMMDD-NNNN`), an en dash from a word processor, in Swedish and in English sentences.
//! The rest are hard negatives: every date-shaped number in them passes the date and the Luhn
//! check, so only the written form and the context tell them apart: timestamps and file names
//! (`YYYYMMDD-HHMM`, `YYMMDD-HHMM`) near the message's date, case, deviation-report and ticket
//! numbers that start with a date, meeting numbers, conference ids and meeting links, phone
//! numbers, masked numbers (`YYYYMMDD-XXXX`), amounts, order, invoice and OCR numbers, and
//! ordinary words that begin like a negative keyword; some in English.
//!
//! The identity numbers are random valid numbers made when the corpus is generated: nothing
//! with a real-looking number is committed (`/work/shared/tools/pnr-leaks` passes on the repo),
//! and callers must never print a message: only counts, or the redacted form.
//!
//! Used by `tests/detect_corpus.rs` (precision and recall) and `examples/chat_corpus.rs` (writes
//! the corpus as JSON lines under `target/`, for Presidio side by side).

#![allow(dead_code)]

use std::ops::Range;

use jiff::civil::Date;
use motesvakt::detect::personnummer::luhn_ok;

/// One labelled message.
pub struct Message {
    pub text: String,
    /// When it was written (UTC).
    pub time: jiff::Timestamp,
    /// The byte span of the identity number, for a message that holds one.
    pub id: Option<Range<usize>>,
    /// What the generator made: `pos/<form>/<template set>` or `neg/<kind>`.
    pub kind: String,
}

/// The default corpus: 6,000 messages, seed 14.
pub fn default_corpus() -> Vec<Message> {
    generate(6000, 14)
}

/// `n` messages from `seed`: every fourth one holds an identity number.
pub fn generate(n: usize, seed: u64) -> Vec<Message> {
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
    };
    (0..n)
        .map(|i| {
            let day = g.message_day();
            let time = g.time_on(day);
            let (text, id, kind) = if i % 4 == 0 {
                g.positive(day)
            } else {
                let (t, k) = g.negative(day);
                (t, None, k)
            };
            Message {
                text,
                time,
                id,
                kind,
            }
        })
        .collect()
}

/// Letters and digits of `s` hidden, for messages about a corpus line.
pub fn redact(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { '*' } else { c })
        .collect()
}

/// xorshift64*.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The Luhn check digit that completes nine digits (the library's check, which
/// `tests/detect_conformance.rs` holds to Skatteverket's 41,493 test numbers).
fn check_digit(nine: &str) -> char {
    let mut v: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
    v.push(0);
    for c in 0..10u8 {
        v[9] = c;
        if luhn_ok(&v) {
            return char::from(b'0' + c);
        }
    }
    '0'
}

/// A number whose first nine digits are `nine`, completed with its check digit.
fn luhn10(nine: &str) -> String {
    format!("{nine}{}", check_digit(nine))
}

fn ymd(d: Date) -> (i16, i8, i8) {
    (d.year(), d.month(), d.day())
}

struct Gen {
    rng: Rng,
}

/// An identity number: its twelve digits and its year of birth.
struct Id {
    twelve: String,
    year: i16,
}

impl Id {
    fn date8(&self) -> &str {
        &self.twelve[..8]
    }
    fn date6(&self) -> &str {
        &self.twelve[2..8]
    }
    fn serial(&self) -> &str {
        &self.twelve[8..]
    }
}

impl Gen {
    fn message_day(&mut self) -> Date {
        let start = Date::constant(2024, 1, 1);
        start
            .checked_add(jiff::Span::new().days(self.rng.range(0, 729)))
            .unwrap_or(start)
    }

    fn time_on(&mut self, day: Date) -> jiff::Timestamp {
        // 07:00-16:59 Swedish time, written in UTC (an hour or two earlier).
        let hour = 6 + self.rng.below(10) as i8;
        let minute = self.rng.below(60) as i8;
        day.at(hour, minute, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// `day` minus `days`.
    fn back(day: Date, days: i64) -> Date {
        day.checked_sub(jiff::Span::new().days(days)).unwrap_or(day)
    }

    /// A valid personnummer (or, one in five, samordningsnummer) of someone born between 1924
    /// and the year before `day`; one in thirty a child born in the last year.
    fn person(&mut self, day: Date) -> Id {
        let birth = if self.rng.chance(3) {
            Self::back(day, self.rng.range(30, 360))
        } else {
            let year = self.rng.range(1924, i64::from(day.year()) - 1) as i16;
            Date::new(
                year,
                1 + self.rng.below(12) as i8,
                1 + self.rng.below(28) as i8,
            )
            .unwrap_or(Date::constant(1980, 1, 1))
        };
        let (y, m, d) = ymd(birth);
        let d = if self.rng.chance(20) { d + 60 } else { d };
        let serial = 1 + self.rng.below(999);
        let nine = format!("{:02}{m:02}{d:02}{serial:03}", y % 100);
        Id {
            twelve: format!("{}{}", y / 100, luhn10(&nine)),
            year: y,
        }
    }

    /// A message with an identity number: (text, span of the number, kind).
    fn positive(&mut self, day: Date) -> (String, Option<Range<usize>>, String) {
        let id = self.person(day);
        let old = i32::from(day.year()) - i32::from(id.year) >= 100;
        // The written form, and the keyword it may be glued to.
        let r = self.rng.below(100);
        let (form, written) = match r {
            0..=21 => ("12-dash", format!("{}-{}", id.date8(), id.serial())),
            22..=35 => ("12-bare", id.twelve.clone()),
            36..=55 if old => ("10-plus", format!("{}+{}", id.date6(), id.serial())),
            36..=55 => ("10-dash", format!("{}-{}", id.date6(), id.serial())),
            56..=65 => ("10-bare", format!("{}{}", id.date6(), id.serial())),
            66..=71 => ("space", format!("{} {}", id.date6(), id.serial())),
            72..=79 => ("spaced-dash", format!("{} - {}", id.date6(), id.serial())),
            80..=87 => {
                let brk = self.rng.pick(&["-\n", "\n-", "-\r\n", " -\n"]);
                ("line-break", format!("{}{brk}{}", id.date8(), id.serial()))
            }
            88..=94 => ("en-dash", format!("{}\u{2013}{}", id.date8(), id.serial())),
            _ => ("glued", String::new()),
        };
        if form == "glued" {
            let kw = self.rng.pick(&["pnr", "Pnr", "PNR", "pers.nr", "personnr"]);
            let sep = if self.rng.chance(50) { "-" } else { "" };
            let num = format!("{kw}{}{sep}{}", id.date8(), id.serial());
            let t = self.rng.pick(GLUED);
            return place(t, &num, kw.len(), form);
        }
        // Bare and space-separated forms need a word for the person: people write one; a few
        // messages have none (and are expected misses at medium).
        let weak = matches!(form, "10-bare" | "space");
        let set = if self.rng.chance(22) {
            ("en", EN_POS)
        } else if self.rng.chance(if weak { 4 } else { 15 }) {
            ("no-keyword", POS_NO_KEYWORD)
        } else {
            match self.rng.below(4) {
                0 => ("clinician", CLINICIAN_POS),
                1 => ("social", SOCIAL_POS),
                2 => ("secretary", SECRETARY_POS),
                _ => ("family", FAMILY_POS),
            }
        };
        let t = self.rng.pick(set.1);
        place(t, &written, 0, &format!("{form}/{}", set.0))
    }

    /// A hard negative: (text, kind).
    fn negative(&mut self, day: Date) -> (String, String) {
        let k = self.rng.below(100);
        let (kind, text) = match k {
            0..=11 => ("timestamp", self.timestamp(day)),
            12..=23 => ("case-number", self.case_number(day)),
            24..=33 => ("meeting-id", self.meeting_id()),
            34..=43 => ("phone", self.phone()),
            44..=49 => ("masked", self.masked()),
            50..=59 => ("order-invoice", self.order()),
            60..=65 => ("amount-date", self.amount_date(day)),
            66..=71 => ("lookalike-word", self.lookalike_word(day)),
            72..=79 => ("english", self.english_negative(day)),
            _ => ("plain", self.rng.pick(PLAIN).to_string()),
        };
        (text, format!("neg/{kind}"))
    }

    /// `YYYYMMDD-HHMM` / `YYMMDD-HHMM`, the minute made Luhn-valid, most within a few days of
    /// the message, some of them months or more back (old recordings, exports).
    fn timestamp(&mut self, day: Date) -> String {
        let back = if self.rng.chance(85) {
            self.rng.range(0, 14)
        } else {
            self.rng.range(15, 700)
        };
        let (y, m, d) = ymd(Self::back(day, back));
        let hh = 7 + self.rng.below(11);
        let nine = format!("{:02}{m:02}{d:02}{hh:02}{}", y % 100, self.rng.below(6));
        let ten = luhn10(&nine);
        let long = format!("{}{}-{}", y / 100, &ten[..6], &ten[6..]);
        let short = format!("{}-{}", &ten[..6], &ten[6..]);
        let stamp = if self.rng.chance(70) { long } else { short };
        let t = self.rng.pick(&[
            "Inspelningen ligger som Inspelning_{}.mp4 i kanalens filer.",
            "Exporten heter teams_export_{}.csv, jag lade den på G:.",
            "Loggfilen {}.log visar att klienten tappade anslutningen.",
            "Transkriberingen sparades som Möte {}.docx",
            "Skärmdump {}.png bifogad, det är felmeddelandet i Cosmic.",
            "Protokoll_{}.pdf finns nu på intranätet, patientsäkerhetsgruppen.",
            "Backupen {} gick igenom utan fel.",
            "Jobbet startade {} och är klart nu.",
            "Version {} av rutinen för journalgranskning är publicerad.",
            "Filen journalgranskning_{}.xlsx är uppdaterad.",
            "Recording_{}.mp4 is in the channel files.",
            "See the log {}.txt, the patient portal timed out.",
        ]);
        t.replace("{}", &stamp)
    }

    /// Case, deviation-report and ticket numbers that start with a recent date.
    fn case_number(&mut self, day: Date) -> String {
        let (y, m, d) = ymd(Self::back(day, self.rng.range(0, 330)));
        let nine = format!("{:02}{m:02}{d:02}{:03}", y % 100, 1 + self.rng.below(250));
        let ten = luhn10(&nine);
        let num = if self.rng.chance(75) {
            format!("{}{}-{}", y / 100, &ten[..6], &ten[6..])
        } else {
            format!("{}-{}", &ten[..6], &ten[6..])
        };
        let t = self.rng.pick(&[
            "Avvikelsen är registrerad i Synergi som {}, handläggare utsedd.",
            "Ärende {} är stängt, återkoppling till enheten gjord.",
            "Dnr {} gäller lex Maria-utredningen, inga patientuppgifter här.",
            "Kan du titta på {} i Platina innan mötet?",
            "Ärendenummer {} hos IT-supporten, de återkommer i eftermiddag.",
            "Avvikelsenummer {} ska upp på patientsäkerhetsronden.",
            "Händelseanalys {} är klar, rapporten skickas ut i veckan.",
            "Supportärende {} gäller journalsystemet, felet är kvitterat.",
            "Incident {} i ServiceNow, skrivarna på avdelningen.",
            "Case {} is closed, the vendor confirmed the fix.",
            "Referens {} på beställningen av nya headset.",
            "Diarienummer {} för remissvaret till kommunen.",
            "Synergi {} – fallolycka, åtgärd klar.",
            "{} är numret på utredningen, skriv det i ämnesraden.",
        ]);
        t.replace("{}", &num)
    }

    /// A date-valid, Luhn-valid ten digits (as meeting ids and order numbers often are).
    fn date_like_ten(&mut self) -> String {
        let year = self.rng.range(30, 99);
        let nine = format!(
            "{year:02}{:02}{:02}{:03}",
            1 + self.rng.below(12),
            1 + self.rng.below(28),
            self.rng.below(1000)
        );
        luhn10(&nine)
    }

    fn meeting_id(&mut self) -> String {
        let ten = self.date_like_ten();
        let (a, b) = ten.split_at(6);
        let t = self.rng.pick(&[
            "Mötes-ID: {a} {b}, lösenkod 4fG7x",
            "Konferens-ID {a} {b}# om ni ringer in",
            "Mötesnummer {a}{b}, kod 7200",
            "Länk: https://regionen.zoom.us/j/{a}{b}?pwd=Qm9vTmV0",
            "Webex: https://regionen.webex.com/meet/{a}{b}",
            "Meeting ID: {a} {b} Passcode: 553311",
            "Conference ID: {a}{b}#",
            "Ring in på 08-123 456 78, konferens-id {a} {b}#",
            "VMR {a}{b} för patientsäkerhetsgruppen, PIN 4431",
            "Mötesid {a}-{b} för samverkansmötet med kommunen.",
            "Nytt mötes-id till handledningen: {a}{b}",
            "Teams-mötet har ID {a} {b}, se kallelsen.",
        ]);
        t.replace("{a}", a).replace("{b}", b)
    }

    fn phone(&mut self) -> String {
        // Mobile numbers (07…), some Luhn-valid by construction.
        let nine = format!("07{}{:06}", self.rng.range(0, 9), self.rng.below(1_000_000));
        let mobile = luhn10(&nine);
        let ten = self.date_like_ten();
        let t = self.rng.pick(&[
            "Ring mig på {m} om patienten inte dyker upp.",
            "Min mobil: {m}",
            "Anhörig nås på {m} efter kl 16.",
            "Ring tillbaka på {t}, det är växeln på mottagningen.",
            "Sms:a {m} när rummet är ledigt.",
            "Telefonnummer till jouren: {t}",
            "Nytt direktnummer {t} till biståndshandläggarna.",
            "Swisha {m} för fikat.",
            "Faxnummer {t} till apoteket.",
            "Call me on {m} if the link fails.",
            "Phone number for the ward: {t}",
            "Mamman ringer från {m}, hon vill ha en ny tid.",
            "Ring {m}, det är brukarens kontaktperson.",
        ]);
        t.replace("{m}", &mobile).replace("{t}", &ten)
    }

    fn masked(&mut self) -> String {
        let id = self.date_like_ten();
        let date8 = format!("19{}", &id[..6]);
        let t = self.rng.pick(&[
            "Pat {d8}-XXXX har fått ny tid, se journalen.",
            "Skriv personnumret som ÅÅÅÅMMDD-XXXX i formuläret.",
            "Patienten {d8}-XXXX, avidentifierat i protokollet.",
            "Brukaren {d6}-XXXX flyttar till nytt boende.",
            "Testpatient {d8}-xxxx i utbildningsmiljön.",
            "Personnummer {d8}-**** (maskat i rapporten).",
            "Patient {d8}-XX12 i exemplet, inte riktiga uppgifter.",
            "Format: YYYYMMDD-NNNN, tolv siffror utan mellanslag.",
            "DOB {d8}, ID masked as {d8}-XXXX per policy.",
        ]);
        t.replace("{d8}", &date8).replace("{d6}", &id[..6])
    }

    fn order(&mut self) -> String {
        let ten = self.date_like_ten();
        let twelve = format!("19{ten}");
        let t = self.rng.pick(&[
            "Ordernr {t} levererades i går.",
            "Fakturanummer {t}, förfallodag nästa vecka.",
            "OCR {t} på fakturan från leverantören.",
            "Beställningen {t} gäller handskar och förkläden.",
            "Artikelnummer {t} är slut i förrådet.",
            "Kundnummer {w} hos Apoteket AB.",
            "Inventarienummer {w} på den nya datorn.",
            "Serienummer {t} på journaldatorn som inte startar.",
            "Bokningsnummer {t} för konferensen i Göteborg.",
            "Betalningsreferens {w}, belopp 4 500 kr.",
            "Kontonummer {t} för fakturor.",
            "Invoice {t} is paid.",
            "Order {w} has shipped, tracking in the mail.",
            "Bankgiro {t}, märk betalningen med kursnamnet.",
        ]);
        t.replace("{t}", &ten).replace("{w}", &twelve)
    }

    fn amount_date(&mut self, day: Date) -> String {
        let (y, m, d) = ymd(day);
        let t = self.rng.pick(&[
            "Kostnad 12 450 kr inkl moms för hela avdelningen.",
            "Budgeten landar på 1 234 567,50 kr för året.",
            "Mötet {y}-{m}-{d} flyttas till kl 13.30.",
            "Nästa APT är {d}/{m} kl 14:15 i stora salen.",
            "Vecka 23, 2 400 kr per deltagare.",
            "Sista dag för ansökan är {y}{m}{d}.",
            "Postnummer 413 45, Göteborg.",
            "IP 10.12.34.56 svarar inte på ping.",
            "KB5034441 installeras i natt, starta om 22:00.",
            "Rum 4012 på plan 4, avd 12.",
            "Version 2024.11.5 är ute, starta om klienten efter kl 17:00.",
        ]);
        t.replace("{y}", &format!("{y}"))
            .replace("{m}", &format!("{m:02}"))
            .replace("{d}", &format!("{d:02}"))
    }

    /// Words that begin like a negative or phone keyword, next to other numbers.
    fn lookalike_word(&mut self, day: Date) -> String {
        let (_, m, d) = ymd(day);
        let t = self.rng.pick(&[
            "Kontoret på plan 3 är stängt {d}/{m}.",
            "Konferensrummet Aulan är bokat 13-15.",
            "Rapporten från incidentgruppen kommer vecka 47.",
            "Referatet från mötet ligger i mappen.",
            "Ordentlig genomgång av rutinen på torsdag kl 9.",
            "Telemedicin-piloten startar med 12 patienter i januari.",
            "Ringklockan på avdelning 7 är trasig igen.",
            "Mobiliseringen efter operationen går bra, 3 gånger om dagen.",
            "Referral templates are in the shared folder, 4 of them.",
            "Tell the team we start at 10:30.",
            "The office is closed on the {d}th.",
            "Kontorsmaterial beställs senast den {d}/{m}.",
        ]);
        t.replace("{d}", &format!("{d}"))
            .replace("{m}", &format!("{m}"))
    }

    fn english_negative(&mut self, day: Date) -> String {
        let (y, m, d) = ymd(day);
        let ten = self.date_like_ten();
        let t = self.rng.pick(&[
            "The meeting starts at 14:15, link in the calendar.",
            "Please review the referral process before the {d}th.",
            "Meeting number {a} {b}, host key 123456.",
            "Ticket {y}{m}{d}-{s} was escalated to the vendor.",
            "The patient records system is down until 15:00.",
            "Invoice number {t} is overdue.",
            "Send the chart audit summary by Friday, 3 pages max.",
            "Access code {a} {b} for the dial-in.",
            "We had 42 referrals last week, 7 more than the week before.",
        ]);
        t.replace("{a}", &ten[..6])
            .replace("{b}", &ten[6..])
            .replace("{t}", &ten)
            .replace("{y}", &format!("{y}"))
            .replace("{m}", &format!("{m:02}"))
            .replace("{d}", &format!("{d:02}"))
            .replace("{s}", &format!("{:04}", 1 + self.rng.below(300)))
    }
}

/// `template` with `{}` replaced by `number`; the label span skips the first `skip` bytes of it
/// (a keyword glued to the number).
fn place(
    template: &str,
    number: &str,
    skip: usize,
    kind: &str,
) -> (String, Option<Range<usize>>, String) {
    let at = template.find("{}").unwrap_or(template.len());
    let text = template.replacen("{}", number, 1);
    let span = at + skip..at + number.len();
    (text, Some(span), format!("pos/{kind}"))
}

const CLINICIAN_POS: &[&str] = &[
    "Kan någon kolla provsvaren för {} innan ronden?",
    "Pat {} har fått ny tid på mottagningen, remiss skickad.",
    "Journalanteckning saknas för {}, kan du komplettera?",
    "Inlagd på avd 12: {}, hjärtsvikt, behöver ny läkemedelslista.",
    "Remissen för {} kom tillbaka, fel mottagning.",
    "{} ska ha Waran 2,5 mg ikväll, INR 2.3 i morse.",
    "Patienten {} är utskriven, epikrisen skickad till VC.",
    "Kolla labbsvaren på {}, CRP 180.",
    "Röntgensvar på {} finns i journalen nu.",
    "Dg för {} är F32.1, uppföljning om 4 veckor.",
    "Har någon ordinerat något till {}? Läkemedelslistan är tom.",
    "Pat. {} ligger på sal 4, behöver tolk.",
];

const SOCIAL_POS: &[&str] = &[
    "Brukaren {} behöver ny genomförandeplan före jul.",
    "Orosanmälan gällande {} inkom i morse, vi tar det på mötet.",
    "Biståndsbeslut för {} är klart, hemtjänst från måndag.",
    "Klienten {} har missat två besök nu.",
    "Vårdtagaren {} har flyttat till korttids.",
    "LSS-ansökan för {} ska kompletteras med läkarintyg.",
    "Genomförandeplanen för {} ska följas upp i veckan.",
    "Personakten för {} är uppdaterad.",
    "SIP för {} bokad till torsdag, kallar BUP och skolan.",
];

const SECRETARY_POS: &[&str] = &[
    "Personnummer: {}, inskriven avd 12.",
    "Pnr {} saknar adress i systemet.",
    "Samordningsnummer {} måste in i journalen innan besöket.",
    "Jag hittar inte {} i kassan, kan du söka på personnumret?",
    "Kallelsen till {} kom i retur, remissen ligger kvar.",
    "Intyget för {} är signerat och kan skickas.",
    "Sjukintyget för {} ska till Försäkringskassan i dag.",
    "Född {}, ny patient på mottagningen.",
];

const FAMILY_POS: &[&str] = &[
    "Barnet {} har feber sedan i går, mamman ringer igen.",
    "Mamman {} vill ha ett samtal om barnet.",
    "Modern {} har inte fått kallelsen.",
    "Vårdnadshavare {} har godkänt SIP-mötet.",
    "Pappan {} är inte informerad än.",
    "Sonen {} kommer på återbesök med sin mor.",
    "Dottern {} ska ha ny tid på BUP.",
    "BVC: {} ska vaccineras nästa vecka.",
];

const EN_POS: &[&str] = &[
    "Can you check the chart for {} before the round?",
    "The referral for {} was sent to the wrong clinic.",
    "DOB and ID: {}, admitted last night.",
    "Patient {} needs an interpreter tomorrow.",
    "Date of birth {}, new patient, record not found.",
    "MRN {} is missing from the discharge summary.",
    "The child {} has a fever, the mother is on her way.",
    "The guardian {} signed the consent form.",
    "Care recipient {} moved to the new unit.",
    "Sick note for {} needs a signature.",
    "Personal number {} is not in the system.",
    "Please update the medical record for {}.",
];

const GLUED: &[&str] = &[
    "Kolla {} tack!",
    "{} ny tid på mottagningen",
    "Bokad: {}, tolk behövs.",
    "Patient {} i kö.",
    "{} saknar adress",
];

const POS_NO_KEYWORD: &[&str] = &[
    "Kan du boka om {}? Tiden krockar.",
    "{}",
    "Kan du kolla {}?",
    "Vet någon vem {} är? Hon står i receptionen.",
    "{} väntar i rum 3.",
    "Har {} kommit än?",
    "Tack, {} är klar.",
    "Fixat {}",
];

const PLAIN: &[&str] = &[
    "Hej! Kan någon ta över ronden på avdelningen i eftermiddag?",
    "Tack för idag, bra diskussion om bemanningen. Vi ses på torsdag!",
    "Jag är sen, kommer om fem minuter. Börja utan mig.",
    "Kan ni se min skärm nu? Annars delar jag igen.",
    "Glöm inte tidrapporten innan fredag.",
    "Ljudet hackar, kan du prata närmare mikrofonen?",
    "Patienten på sal 3 vill prata med läkaren, inget brådskande.",
    "Journalsystemet är långsamt i dag, IT är informerade.",
    "Brukarundersökningen skickas ut nästa vecka.",
    "Remisshanteringen tar vi på nästa APT.",
    "Kan någon dela rutinen för orosanmälan?",
    "Vi behöver fler vikarier i hemtjänsten till sommaren.",
    "Starta om Teams-klienten om bilden fryser.",
    "Jag delar protokollet efter mötet.",
    "Thanks everyone, see you next week.",
    "Can everyone see my screen?",
];
