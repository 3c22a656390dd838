//! Keyword lists and matching.
//!
//! A keyword matches at the start of a word, case-insensitively (å, ä, ö, é and other letters
//! too), so that Swedish inflections and compounds count: `journal` matches `journalen` and
//! `journalanteckning`, `patient` matches `Patientens`. A keyword that ends with `$` matches a
//! whole word only (`pat$` matches `Pat` and `pat.`, not `patrull`).
//!
//! Negative and phone keywords are stricter: they say what a number is *not*, so a word that
//! merely begins like one must not silence a real identity number. They match the word itself,
//! one of its inflections (`ordern`, `fakturor`, `ringde`, `orders`) or a compound with a number
//! word (`ordernummer`, `bokningsnr`, `konferens-id`, `kontonumret`), never any other word that
//! starts the same way (`kontor`, `konferensrum`, `referral`, `tell`): see [`inflected_tail`].
//!
//! The context lists (identity, patient, phone, negative, diagnosis and the custom patterns'
//! keywords) go into one Aho-Corasick automaton, searched only over the window around a
//! candidate and over the related texts; the clinical terms into another, searched over the
//! whole text. Both sit behind a prefilter ([`Starts`]) that skips a text (or window) in which
//! no word begins like a keyword. ASCII case folding is built in; the upper- and lower-case forms of other letters
//! are added as variants.

use std::ops::Range;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::bytes;
use super::scanner::word_start;

/// What a keyword says about a number near it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Names an identity number: personnummer, pnr, samordningsnummer…
    Identity,
    /// Says the text is about a patient or client: patient, brukare, journal, remiss…
    Patient,
    /// Says the number is a phone number: telefon, ring, mobil, sms, växel…
    Phone,
    /// Says the number is some other kind of number: order, OCR, faktura, ref, kundnr…
    Negative,
    /// Names a diagnosis: diagnos, dg, ICD. Needed for ICD codes in short form (`F329`).
    Diagnosis,
    /// A clinical term (diagnosis, medication, test): a weak signal on its own.
    Clinical,
    /// A keyword of custom pattern number `n`.
    Custom(u8),
}

/// What the keywords in a window say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    pub identity: bool,
    pub patient: bool,
    pub phone: bool,
    pub negative: bool,
    pub diagnosis: bool,
    /// Bit `n`: a keyword of custom pattern `n`.
    pub custom: u64,
}

impl Evidence {
    /// An identity or patient keyword.
    pub fn positive(&self) -> bool {
        self.identity || self.patient
    }

    fn add(&mut self, class: Class) {
        match class {
            Class::Identity => self.identity = true,
            Class::Patient => self.patient = true,
            Class::Phone => self.phone = true,
            Class::Negative => self.negative = true,
            Class::Diagnosis => self.diagnosis = true,
            Class::Clinical => {}
            Class::Custom(n) => self.custom |= 1 << n,
        }
    }

    /// Adds the positive evidence of `other` (related texts give no negative evidence).
    pub fn add_positive(&mut self, other: &Evidence) {
        self.identity |= other.identity;
        self.patient |= other.patient;
        self.diagnosis |= other.diagnosis;
        self.custom |= other.custom;
    }
}

/// A keyword list that is not usable.
#[derive(Debug, thiserror::Error)]
pub enum KeywordError {
    #[error("keyword list `{list}`: entry {index} is empty")]
    Empty { list: String, index: usize },
    #[error(
        "keyword list `{list}`: entry {index} has too many non-ASCII letters to match case-insensitively"
    )]
    TooManyVariants { list: String, index: usize },
    #[error("cannot build the keyword automaton: {0}")]
    Build(String),
}

#[derive(Clone, Copy)]
struct Entry {
    class: Class,
    whole_word: bool,
    /// Only the word itself, an inflection or a number compound (negative and phone keywords).
    inflected: bool,
    /// Index of the keyword in [`Keywords::canonical`].
    canonical: u32,
}

/// Builds a [`Keywords`] automaton.
#[derive(Default)]
pub struct Builder {
    patterns: Vec<String>,
    entries: Vec<Entry>,
    canonical: Vec<String>,
}

impl Builder {
    /// Adds every keyword of `words` with class `class`; `list` names the list in errors.
    pub fn add(&mut self, list: &str, class: Class, words: &[String]) -> Result<(), KeywordError> {
        for (index, word) in words.iter().enumerate() {
            let lower = word.trim().to_lowercase();
            let (text, whole_word) = match lower.strip_suffix('$') {
                Some(t) => (t.to_string(), true),
                None => (lower, false),
            };
            if text.is_empty() {
                return Err(KeywordError::Empty {
                    list: list.to_string(),
                    index,
                });
            }
            let variants = case_variants(&text).ok_or_else(|| KeywordError::TooManyVariants {
                list: list.to_string(),
                index,
            })?;
            let canonical = self.canonical.len() as u32;
            self.canonical.push(text);
            for v in variants {
                self.patterns.push(v);
                self.entries.push(Entry {
                    class,
                    whole_word,
                    inflected: !whole_word && matches!(class, Class::Negative | Class::Phone),
                    canonical,
                });
            }
        }
        Ok(())
    }

    /// Builds the automaton; `None` when no keyword was added.
    pub fn build(self, match_kind: MatchKind) -> Result<Option<Keywords>, KeywordError> {
        if self.patterns.is_empty() {
            return Ok(None);
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(match_kind)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&self.patterns)
            .map_err(|e| KeywordError::Build(e.to_string()))?;
        let starts = Starts::new(self.patterns.iter().zip(&self.entries));
        Ok(Some(Keywords {
            ac,
            starts,
            entries: self.entries,
            canonical: self.canonical,
        }))
    }
}

/// Every spelling of `word` (lower case) that ASCII case folding does not cover: each
/// non-ASCII letter in lower and upper case. `None` past 64 variants.
fn case_variants(word: &str) -> Option<Vec<String>> {
    let mut out = vec![String::new()];
    for c in word.chars() {
        let upper: Vec<char> = c.to_uppercase().collect();
        let alt = (!c.is_ascii() && upper.len() == 1 && upper[0] != c).then(|| upper[0]);
        match alt {
            None => out.iter_mut().for_each(|s| s.push(c)),
            Some(u) => {
                if out.len() >= 64 {
                    return None;
                }
                let mut more = out.clone();
                out.iter_mut().for_each(|s| s.push(c));
                more.iter_mut().for_each(|s| s.push(u));
                out.extend(more);
            }
        }
    }
    Some(out)
}

/// A compiled set of keyword lists.
#[derive(Clone)]
pub struct Keywords {
    ac: AhoCorasick,
    /// Which words may start a keyword: a text (or window) with none is not searched.
    starts: Starts,
    entries: Vec<Entry>,
    canonical: Vec<String>,
}

impl Keywords {
    /// What the keywords starting inside `range` of `text` say. Word boundaries are judged on
    /// the whole text.
    pub fn evidence(&self, text: &str, range: Range<usize>) -> Evidence {
        let mut ev = Evidence::default();
        let b = text.as_bytes();
        let Some(hay) = b.get(range.clone()) else {
            return ev;
        };
        if !self.starts.may_match(b, range.clone()) {
            return ev;
        }
        for m in self.ac.find_overlapping_iter(hay) {
            let entry = &self.entries[m.pattern().as_usize()];
            let (s, e) = (range.start + m.start(), range.start + m.end());
            if self.accept(b, s, e, entry) {
                ev.add(entry.class);
            }
        }
        ev
    }

    /// Calls `f(span, index)` for each keyword match in `text` (leftmost-longest,
    /// non-overlapping; build with [`MatchKind::LeftmostLongest`]), with the index of the
    /// canonical keyword in [`Keywords::canonical`].
    pub fn each_match(&self, text: &str, mut f: impl FnMut(Range<usize>, usize)) {
        let b = text.as_bytes();
        if !self.starts.may_match(b, 0..b.len()) {
            return;
        }
        for m in self.ac.find_iter(b) {
            let entry = &self.entries[m.pattern().as_usize()];
            if self.accept(b, m.start(), m.end(), entry) {
                f(m.start()..m.end(), entry.canonical as usize);
            }
        }
    }

    /// The canonical keywords, in the order of the indices [`Keywords::each_match`] gives.
    pub fn canonical(&self) -> &[String] {
        &self.canonical
    }

    fn accept(&self, b: &[u8], start: usize, end: usize, entry: &Entry) -> bool {
        word_start(b, start)
            && (!entry.whole_word || word_start_after(b, end))
            && (!entry.inflected || inflected_tail(b, end))
    }
}

/// The prefilter in front of the automaton: which words of a text may start a keyword.
///
/// Every match the automaton reports is kept only at the start of a word ([`word_start`]), and
/// the automaton folds ASCII case only, so a keyword that is kept begins at a byte whose
/// previous byte is not an ASCII letter or digit, with the keyword's first bytes under ASCII
/// case folding. [`Starts`] holds those first bytes of every pattern (the first four and, of a
/// longer one, the first eight, or all three of a three-byte keyword, hashed into a bitmap;
/// one- and two-byte keywords as they are), and [`Starts::may_match`] looks them up at each byte that may start a word. When it
/// says no, no keyword is kept in the text and the automaton need not run; when it says yes,
/// the automaton runs as before, so the matches are the same either way. Ordinary chat has no
/// word that begins like a clinical term: the prefilter costs a few instructions a byte, the
/// automaton it saves about twenty (the profile of issue 9).
///
/// The fold is `| 0x20` on every byte, coarser than ASCII case folding (it also pairs `@` with
/// `` ` ``, and non-ASCII bytes with others): bytes equal under ASCII case folding stay equal
/// under it, which is all a prefilter needs.
#[derive(Clone)]
struct Starts {
    /// 2^16 bits: [`Starts::bit`] of each pattern's folded first four bytes (tag
    /// [`Starts::FOUR`]; for a three-byte pattern, its three with each byte that may follow)
    /// and, for a pattern of four to seven bytes, those again (tag
    /// [`Starts::MID`]), for a longer one its first eight ([`Starts::bit8`]: `för` is four
    /// bytes, and begins `förmaksflimmer`), and of the three bytes of three-byte patterns ([`Starts::THREE`], or
    /// [`Starts::WORD3`] for whole-word ones, which need a word end after them).
    bits: Arc<[u64; 1024]>,
    /// One- and two-byte patterns: folded bytes and the mask of the bytes that count.
    short: Vec<(u32, u32)>,
    /// All ones when some pattern starts with a byte that is neither an ASCII letter or digit
    /// nor the first byte of a multi-byte character; zero otherwise (the usual case: then
    /// only such bytes are looked up).
    other_first: u64,
}

impl Starts {
    const FOUR: u32 = 0x9E37_79B1;
    const THREE: u32 = 0x85EB_CA77;
    const WORD3: u32 = 0xC2B2_AE3D;
    const MID: u32 = 0x27D4_EB2F;

    /// The bit of the folded first eight bytes of `b` (which has eight).
    #[inline]
    fn bit8(b: &[u8]) -> usize {
        let k = bytes::load8(b, 0) | 0x2020_2020_2020_2020;
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
    }

    fn new<'a>(patterns: impl Iterator<Item = (&'a String, &'a Entry)>) -> Starts {
        let mut bits = Arc::new([0u64; 1024]);
        let words = Arc::get_mut(&mut bits).expect("not shared yet");
        let mut short = Vec::new();
        let mut other_first = 0;
        for (p, e) in patterns {
            let b = p.as_bytes();
            if b.first()
                .is_some_and(|&c| !c.is_ascii_alphanumeric() && c < 0xC0)
            {
                other_first = u64::MAX;
            }
            let (key, mask) = Starts::key(b, 0);
            match b.len() {
                0 => {}
                1 | 2 => short.push((key & mask, mask)),
                3 => {
                    let k3 = key & 0x00FF_FFFF;
                    let tag = if e.whole_word {
                        Starts::WORD3
                    } else {
                        Starts::THREE
                    };
                    let h = Starts::bit(k3, tag);
                    words[h / 64] |= 1 << (h % 64);
                    // The first-four-bytes bit too, with every fourth byte that may follow.
                    for c in 0..=255u8 {
                        if !e.whole_word || !c.is_ascii_alphanumeric() {
                            let h = Starts::bit(k3 | (u32::from(c | 0x20) << 24), Starts::FOUR);
                            words[h / 64] |= 1 << (h % 64);
                        }
                    }
                }
                n => {
                    let second = if n < 8 {
                        Starts::bit(key, Starts::MID)
                    } else {
                        Starts::bit8(b)
                    };
                    for h in [Starts::bit(key, Starts::FOUR), second] {
                        words[h / 64] |= 1 << (h % 64);
                    }
                }
            }
        }
        Starts {
            bits,
            short,
            other_first,
        }
    }

    /// The folded bytes of `b` at `i` (up to four, little-endian, zero past the end) and the
    /// mask of those that exist.
    fn key(b: &[u8], i: usize) -> (u32, u32) {
        let rest = b.get(i..).unwrap_or_default();
        if rest.len() >= 4 {
            let w = [rest[0], rest[1], rest[2], rest[3]];
            return (u32::from_le_bytes(w) | 0x2020_2020, u32::MAX);
        }
        let mut w = [0u8; 4];
        let mut m = [0u8; 4];
        for (k, &c) in rest.iter().enumerate() {
            w[k] = c | 0x20;
            m[k] = 0xFF;
        }
        (u32::from_le_bytes(w), u32::from_le_bytes(m))
    }

    #[inline]
    fn bit(key: u32, tag: u32) -> usize {
        (key.wrapping_mul(tag) >> 16) as usize
    }

    #[inline]
    fn has(&self, key: u32, tag: u32) -> bool {
        self.has_bit(Starts::bit(key, tag))
    }

    #[inline]
    fn has_bit(&self, h: usize) -> bool {
        self.bits[(h / 64) % 1024] & (1 << (h % 64)) != 0
    }

    /// True when a keyword may start at byte `i` of `b` (a byte that may start a word). One
    /// probe of the bitmap in the common case: nothing starts there.
    #[inline]
    fn may_start_at(&self, b: &[u8], i: usize) -> bool {
        match b.get(i..i + 4) {
            Some(&[c0, c1, c2, c3]) => {
                let key = u32::from_le_bytes([c0, c1, c2, c3]) | 0x2020_2020;
                (self.has(key, Starts::FOUR) && self.may_start_here(b, i, key, c3))
                    || (!self.short.is_empty() && self.short_at(key, u32::MAX))
            }
            _ => self.may_start_near_end(b, i),
        }
    }

    /// After a hit on the first four bytes: a pattern of four to seven bytes, a longer one
    /// whose first eight bytes are there too, or one of three bytes (whole-word: followed by a
    /// word end).
    #[cold]
    fn may_start_here(&self, b: &[u8], i: usize, key: u32, c3: u8) -> bool {
        let k3 = key & 0x00FF_FFFF;
        self.has(key, Starts::MID)
            || b.get(i..)
                .is_some_and(|r| r.len() >= 8 && self.has_bit(Starts::bit8(r)))
            || self.has(k3, Starts::THREE)
            || (!c3.is_ascii_alphanumeric() && self.has(k3, Starts::WORD3))
    }

    /// [`Starts::may_start_at`] for the last three bytes of a text.
    #[cold]
    fn may_start_near_end(&self, b: &[u8], i: usize) -> bool {
        let (key, mask) = Starts::key(b, i);
        if mask & 0x00FF_0000 != 0 {
            // Three bytes, then the end of the text: a word end.
            let k3 = key & 0x00FF_FFFF;
            if self.has(k3, Starts::THREE) || self.has(k3, Starts::WORD3) {
                return true;
            }
        }
        self.short_at(key, mask)
    }

    fn short_at(&self, key: u32, mask: u32) -> bool {
        self.short
            .iter()
            .any(|&(k, m)| m & mask == m && key & m == k)
    }

    /// False when no keyword the automaton would keep starts inside `range` of `b`.
    fn may_match(&self, b: &[u8], range: Range<usize>) -> bool {
        let end = range.end.min(b.len());
        let mut i = range.start;
        if i >= end {
            return false;
        }
        // Whether the byte before `i` may end a word: not an ASCII letter or digit.
        let mut before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        while i + 8 <= end {
            let x = bytes::load8(b, i);
            let alnum = bytes::ascii_alnum(x);
            let boundary = !alnum & 0x8080_8080_8080_8080;
            // Bytes whose previous byte may end a word, and that may start a pattern.
            let mut at = ((boundary << 8) | if before { 0x80 } else { 0 })
                & (alnum | bytes::utf8_lead(x) | self.other_first);
            before = boundary >> 63 != 0;
            while at != 0 {
                let k = (at.trailing_zeros() / 8) as usize;
                if self.may_start_at(b, i + k) {
                    return true;
                }
                at &= at - 1;
            }
            i += 8;
        }
        while i < end {
            if before && self.may_start_at(b, i) {
                return true;
            }
            before = !b[i].is_ascii_alphanumeric();
            i += 1;
        }
        false
    }
}

/// Endings that inflect a Swedish (or English) noun or verb: `ordern`, `fakturor`, `ringde`,
/// `bokningarna`, `orders`, `ordered`.
const INFLECTIONS: &[&[u8]] = &[
    b"", b"a", b"e", b"n", b"s", b"t", b"en", b"et", b"er", b"ar", b"or", b"na", b"ns", b"es",
    b"ed", b"de", b"te", b"as", b"ing", b"ings", b"ade", b"ande", b"erna", b"arna", b"orna",
    b"ens", b"ets", b"ers", b"ars", b"ors", b"nas", b"ernas", b"arnas", b"ornas",
];

/// Words that make a compound name a number: `ordernummer`, `bokningsnr`, `kontonumret`,
/// `konferenskod`, `ocrreferens`, `mobiltelefon`.
const NUMBER_WORDS: &[&[u8]] = &[
    b"nummer",
    b"numret",
    b"numren",
    b"numrets",
    b"nr",
    b"id",
    b"kod",
    b"koden",
    b"koder",
    b"referens",
    b"referensen",
    b"ref",
    b"telefon",
    b"telefonen",
    b"number",
    b"numbers",
    b"no",
];

/// True when the rest of the word that starts at byte `i` (letters up to the next character
/// that is not a letter or digit) is an inflection, or a number word (after an optional
/// linking `s`) with an optional inflection. A digit glued to the keyword (`ordernr123`) ends
/// it too.
fn inflected_tail(b: &[u8], i: usize) -> bool {
    let mut end = i;
    while end < b.len() && end - i <= 16 {
        let c = b[end];
        if c.is_ascii_alphabetic() {
            end += 1;
        } else if c >= 0x80 && next_is_letter(b, end) {
            // Å, Ä, Ö and other letters: the tail is not one of ours.
            return false;
        } else {
            break;
        }
    }
    if end - i > 16 {
        return false;
    }
    let tail = &b[i..end];
    let is_inflection = |t: &[u8]| INFLECTIONS.iter().any(|x| x.eq_ignore_ascii_case(t));
    let strip = |t: &'_ [u8], p: &[u8]| -> Option<usize> {
        (t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p)).then_some(p.len())
    };
    let compound = |t: &[u8]| {
        NUMBER_WORDS
            .iter()
            .any(|w| strip(t, w).is_some_and(|n| is_inflection(&t[n..])))
    };
    is_inflection(tail) || compound(tail) || strip(tail, b"s").is_some_and(|n| compound(&tail[n..]))
}

/// True when a letter (any script) starts at byte `i`.
fn next_is_letter(b: &[u8], i: usize) -> bool {
    char_at(b, i).is_some_and(char::is_alphabetic)
}

/// The character that starts at byte `i`, if a whole one does.
fn char_at(b: &[u8], i: usize) -> Option<char> {
    let stop = (i + 4).min(b.len());
    let t = match std::str::from_utf8(b.get(i..stop)?) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&b[i..i + e.valid_up_to()]).unwrap_or(""),
    };
    t.chars().next()
}

/// True when no letter or digit starts at byte `i` (the word ended).
fn word_start_after(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None => true,
        Some(&c) if c < 0x80 => !c.is_ascii_alphanumeric(),
        Some(_) => !char_at(b, i).is_some_and(char::is_alphanumeric),
    }
}

/// The byte range of the `window` characters before `span` and after it, within `text`.
pub fn window(text: &str, span: &Range<usize>, window: usize) -> Range<usize> {
    let start = if window == 0 {
        span.start
    } else {
        text[..span.start]
            .char_indices()
            .rev()
            .take(window)
            .last()
            .map_or(span.start, |(i, _)| i)
    };
    let end = text[span.end..]
        .char_indices()
        .nth(window)
        .map_or(text.len(), |(i, _)| span.end + i);
    start..end
}

/// Default keyword lists. Lower case; `$` marks a whole-word keyword.
pub mod defaults {
    /// Words that name an identity number.
    pub const IDENTITY: &[&str] = &[
        "personnummer",
        "personnumr",
        "personnr",
        "pers.nr",
        "pers nr",
        "persnr",
        "pnr",
        "p-nr",
        "p.nr",
        "p nr$",
        "födelsenummer",
        "födelsenr",
        "född",
        "samordningsnummer",
        "samordningsnumr",
        "samordningsnr",
        "samordnings-nr",
        "reservnummer",
        "reservnumr",
        "reservnr",
        "reserv-nr",
        "reservid",
        "reserv-id",
        "t-nummer",
        "interimsnummer",
        "id-nummer",
        "id-nr",
        "idnr",
        "id nr$",
        "identitetsnummer",
        "identifikationsnummer",
        "identitetshandling",
        "personal id",
        "personal identity",
        "ssn$",
        "skatteidentifikationsnummer",
        "födelsedatum",
        "födelsedag",
        // English.
        "personal number",
        "national id",
        "id number",
        "identity number",
        "social security",
        "dob$",
        "d.o.b",
        "date of birth",
        "birth date",
        "birthdate",
        "mrn$",
        "medical record number",
        "patient id",
    ];

    /// Words that say the text is about a patient or client, or about a record.
    pub const PATIENT: &[&str] = &[
        "patient",
        "pat$",
        "pat.",
        "pt$",
        "pt.",
        "brukare",
        "vårdtagare",
        "vårdtagaren",
        "omsorgstagare",
        "klient",
        "inskriven",
        "inlagd",
        "journal",
        "epikris",
        "anamnes",
        "remiss",
        "provsvar",
        "labbsvar",
        "röntgensvar",
        "diagnos",
        "dg$",
        "läkemedelslista",
        "ordination",
        "vårdplan",
        "genomförandeplan",
        "sjukskriv",
        "intyg",
        "anhörig",
        "närstående",
        "vårdnadshavare",
        "personakt",
        "orosanmälan",
        "biståndsbeslut",
        "lss$",
        "hemtjänst",
        "mottagning",
        // The person concerned, as clinicians and social workers name them.
        "barnet$",
        "barnets$",
        "mamman",
        "mammans",
        "modern$",
        "moderns$",
        "pappan",
        "pappans",
        "fadern$",
        "faderns$",
        "dottern",
        "sonen$",
        "sonens$",
        "flickan",
        "pojken",
        "den enskilde",
        "sjukintyg",
        "läkarintyg",
        "sip$",
        "samordnad individuell plan",
        "bvc$",
        "bup$",
        // English care vocabulary.
        "chart$",
        "charts$",
        "referral",
        "record$",
        "records$",
        "medical record",
        "health record",
        "discharge",
        "admitted$",
        "admission",
        "prescription",
        "lab result",
        "test result",
        "the child$",
        "the child's",
        "the mother",
        "the father",
        "guardian",
        "care recipient",
        "service user",
        "sick note",
        "sick leave",
        "client$",
        "clients$",
        "resident$",
    ];

    /// Words that say a number is a phone number.
    pub const PHONE: &[&str] = &[
        "tel",
        "telefon",
        "phone",
        "telephone",
        "mobile",
        "cell$",
        "call me",
        "text me",
        "extension",
        "ring",
        "mobil",
        "sms",
        "nås$",
        "nummer till",
        "nr till",
        "växel",
        "fax",
        "swish",
        "anknytning",
        "direktnr",
        "direktnummer",
    ];

    /// Words that say a number is some other kind of number.
    pub const NEGATIVE: &[&str] = &[
        "order",
        "best.nr",
        "beställning",
        "ocr",
        "faktura",
        "artikel",
        "art.nr",
        "artnr",
        "ref",
        "ärende",
        "dnr$",
        "diarie",
        "kundnr",
        "kundnummer",
        "kund-nr",
        "org.nr",
        "orgnr",
        "org nr",
        "org.nummer",
        "organisationsnummer",
        "bankgiro",
        "bg$",
        "plusgiro",
        "pg$",
        "clearing",
        "konto",
        "iban",
        "mötes-id",
        "mötesid",
        "möte-id",
        "meeting id",
        "meeting-id",
        "konferens",
        "pin$",
        "pin-kod",
        "pinkod",
        "kod$",
        "koden$",
        "lösen",
        "serienummer",
        "serienr",
        "imei",
        "kolli",
        "sändnings",
        "spårnings",
        "tracking",
        "avi$",
        "avinr",
        "lgh",
        "inventarie",
        "ticket",
        "biljett",
        "bokning",
        "incident",
        "betalning",
        "inbetalning",
        "fakturor",
        "artiklar",
        "referens",
        "mötesnummer",
        "mötesnr",
        "möteslänk",
        "åtkomstkod",
        "avvikelsenummer",
        "avvikelsenr",
        "avvikelse-id",
        "supportärende",
        "serviceärende",
        "felanmälan",
        "händelseanalys",
        // English.
        "invoice",
        "reference",
        "account",
        "booking",
        "case no",
        "case number",
        "case id",
        "meeting number",
        "meeting no",
        "conference id",
        "conference number",
        "webinar id",
        "access code",
        "passcode",
        "password",
        "serial number",
    ];

    /// Words that name a diagnosis (needed for ICD-10 codes in short form).
    pub const DIAGNOSIS: &[&str] = &[
        "diagnos",
        "huvuddiagnos",
        "bidiagnos",
        "dg$",
        "dg.",
        "icd",
        "diagnoskod",
    ];

    /// Clinical terms: diagnoses, conditions, medications and tests that a clinician writes
    /// about one patient. Weak signals on their own.
    pub const CLINICAL: &[&str] = &[
        "diabetes",
        "demens",
        "alzheimer",
        "depression",
        "depressiv",
        "schizofreni",
        "psykos",
        "bipolär",
        "ångestsyndrom",
        "suicid",
        "självmord",
        "självskad",
        "missbruk",
        "beroende av",
        "abstinens",
        "anorexi",
        "bulimi",
        "adhd$",
        "autism",
        "cancer",
        "tumör",
        "metastas",
        "cytostatika",
        "cellgift",
        "stroke",
        "hjärtinfarkt",
        "hjärtsvikt",
        "förmaksflimmer",
        "epilepsi",
        "kol$",
        "astma",
        "hiv$",
        "hepatit",
        "klamydia",
        "syfilis",
        "gonorré",
        "tuberkulos",
        "mrsa$",
        "sepsis",
        "pneumoni",
        "lunginflammation",
        "urinvägsinfektion",
        "uvi$",
        "fraktur",
        "höftfraktur",
        "trycksår",
        "graviditet",
        "gravid",
        "abort",
        "missfall",
        "waran",
        "warfarin",
        "eliquis",
        "insulin",
        "morfin",
        "oxykodon",
        "metadon",
        "subutex",
        "haldol",
        "litium",
        "inr$",
        "hba1c",
        "crp$",
        "blodsocker",
        "blodtryck",
        "provsvar",
        "labbsvar",
        "röntgensvar",
        "epikris",
        "anamnes",
    ];

    /// The list as owned strings.
    pub fn list(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(words: &[&str], class: Class) -> Keywords {
        let mut b = Builder::default();
        b.add("test", class, &defaults::list(words)).unwrap();
        b.build(MatchKind::Standard).unwrap().unwrap()
    }

    #[test]
    fn prefix_case_and_swedish_letters() {
        let k = kw(&["journal", "vårdtagare", "pat$"], Class::Patient);
        let hit = |t: &str| k.evidence(t, 0..t.len()).patient;
        assert!(hit("Se Journalanteckningen"));
        assert!(hit("VÅRDTAGAREN har"));
        assert!(hit("Vårdtagarens"));
        assert!(hit("(journal)"));
        assert!(hit("Pat. 12"));
        assert!(hit("pat"));
        assert!(!hit("patrull"));
        assert!(!hit("förjournal"));
        assert!(!hit("ävårdtagare"));
    }

    #[test]
    fn evidence_respects_range() {
        let k = kw(&["tel"], Class::Negative);
        let t = "tel 123 abc";
        assert!(k.evidence(t, 0..t.len()).negative);
        assert!(!k.evidence(t, 4..t.len()).negative);
        // A keyword cut by the range start still needs a word start in the whole text.
        assert!(!k.evidence("xtel", 1..4).negative);
    }

    #[test]
    fn window_counts_characters() {
        let t = "ååå 123 ööö";
        assert_eq!(window(t, &(7..10), 2), 4..13);
        assert_eq!(window(t, &(7..10), 0), 7..10);
        assert_eq!(window(t, &(7..10), 100), 0..t.len());
    }

    #[test]
    fn variants_cover_non_ascii_case() {
        let v = case_variants("växel").unwrap();
        assert_eq!(v, ["växel", "vÄxel"]);
        assert!(case_variants(&"ö".repeat(7)).is_none());
    }

    #[test]
    fn empty_keyword_is_an_error() {
        let mut b = Builder::default();
        let err = b
            .add("detect.keywords.negative", Class::Negative, &["".into()])
            .unwrap_err();
        assert!(err.to_string().contains("detect.keywords.negative"));
    }

    /// What the automaton finds without the prefilter in front of it.
    fn unfiltered(
        k: &Keywords,
        text: &str,
        range: Range<usize>,
        overlapping: bool,
    ) -> Vec<(usize, usize, u32)> {
        let b = text.as_bytes();
        let hay = &b[range.clone()];
        let mut out = Vec::new();
        let mut push = |m: aho_corasick::Match| {
            let entry = &k.entries[m.pattern().as_usize()];
            let (s, e) = (range.start + m.start(), range.start + m.end());
            if k.accept(b, s, e, entry) {
                out.push((s, e, entry.canonical));
            }
        };
        if overlapping {
            k.ac.find_overlapping_iter(hay).for_each(&mut push);
        } else {
            k.ac.find_iter(hay).for_each(&mut push);
        }
        out
    }

    #[test]
    fn the_prefilter_never_hides_a_match() {
        // Short keywords, whole-word ones, non-ASCII first letters, a space inside one, a
        // long one that starts like a short word; then one that starts with punctuation.
        let words = [
            "kol$",
            "hiv$",
            "inr",
            "waran",
            "ångest",
            "beroende av",
            "ö",
            "dg$",
            "pt.",
            "adhd$",
            "förmaksflimmer",
        ];
        prefilter_agrees(&words);
        prefilter_agrees(&["(pat", "-x$", "kol$", "för", "å"]);
    }

    fn prefilter_agrees(words: &[&str]) {
        let mut b = Builder::default();
        b.add("test", Class::Clinical, &defaults::list(words))
            .unwrap();
        let lm = b.build(MatchKind::LeftmostLongest).unwrap().unwrap();
        let mut b = Builder::default();
        b.add("test", Class::Negative, &defaults::list(words))
            .unwrap();
        let std = b.build(MatchKind::Standard).unwrap().unwrap();
        let pieces = [
            "kol",
            "KOL",
            "kolla",
            "hiv",
            "HIV-",
            "inr",
            "INRE",
            "Waran",
            "wAr",
            "ångest",
            "Ångest",
            "beroende av",
            "beroende",
            " ",
            "  ",
            ".",
            "-",
            "x",
            "9",
            "ö",
            "Ö",
            "dg",
            "DG.",
            "pt.",
            "Pt",
            "adhd",
            "ADHD",
            "för",
            "förmaks",
            "FÖRMAKSflimmer",
            "flimmer",
            "é",
            "\u{a0}",
            "\n",
            "av",
            "a",
            "(",
            "(PAT",
            "-X",
        ];
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let mut found = 0;
        for _ in 0..20_000 {
            let text: String = (0..next(12)).map(|_| pieces[next(pieces.len())]).collect();
            let mut got = Vec::new();
            lm.each_match(&text, |span, _| got.push(span));
            let want: Vec<_> = unfiltered(&lm, &text, 0..text.len(), false)
                .into_iter()
                .map(|(s, e, _)| s..e)
                .collect();
            assert_eq!(got, want, "{:?}", text.len());
            found += want.len();
            let cut = text
                .char_indices()
                .map(|(i, _)| i)
                .nth(next(4))
                .unwrap_or(0);
            let has = !unfiltered(&std, &text, cut..text.len(), true).is_empty();
            assert_eq!(std.evidence(&text, cut..text.len()).negative, has);
        }
        assert!(found > 5_000, "{found}");
    }

    #[test]
    fn the_prefilter_skips_ordinary_chat() {
        let mut b = Builder::default();
        b.add(
            "clinical",
            Class::Clinical,
            &defaults::list(defaults::CLINICAL),
        )
        .unwrap();
        let k = b.build(MatchKind::LeftmostLongest).unwrap().unwrap();
        for t in [
            "Hej! Kan någon ta över rond på avdelning 4 i eftermiddag? Jag har möte till 15.",
            "Glöm inte att fylla i tidrapporten innan fredag, och semesterönskemålen, tack alla.",
            "Jag skickar länken till dokumentet i mejlen efter mötet, kommentera senast onsdag.",
        ] {
            assert!(!k.starts.may_match(t.as_bytes(), 0..t.len()));
        }
        let t = "Hon har haft Hjärtsvikt sedan i våras";
        assert!(k.starts.may_match(t.as_bytes(), 0..t.len()));
    }
}
