//! The single-pass identifier scanner.
//!
//! The scanner walks the text once, from one run of ASCII digits to the next (a `memchr`-style
//! search, so text without digits costs next to nothing), and looks at each run's length and the
//! bytes right around it:
//!
//! | run | followed by | tried as |
//! |---|---|---|
//! | 12 digits | end of token | personnummer `YYYYMMDDNNNC`, Region Stockholm, Inera Carelink |
//! | 10 digits | end of token | personnummer `YYMMDDNNNC` |
//! | 8 digits | `-`/`+`/space + 4 digits | personnummer `YYYYMMDD-NNNC` |
//! | 8 digits | `-`? + 4 characters with a letter | interim, NRID, VGR, Värmland, Örebro, unknown |
//! | 6 digits | `-`/`+`/space + 4 digits | personnummer `YYMMDD-NNNC` |
//! | 6 digits | `-`? + letter + 3 digits | interim `YYMMDD-Tnnn` |
//! | 2-3 digits | after a capital letter at a word start | ICD-10 code |
//!
//! The separator may be a `-` or `+` with up to three spaces, tabs or line breaks on either
//! side (`YYMMDD - NNNN`, `YYYYMMDD-⏎NNNN`), or up to three of those alone (a space).
//!
//! A candidate is never part of something longer: the byte before must not be a letter, a
//! digit, a `+` (`+46…`) or a `/` (a path or link), nor a `-`, `.` or `:` glued to a digit
//! (letters are allowed when they are an identity keyword glued to the number, `pnr19861208-…`:
//! [`GLUE_WORDS`]); the byte after must not be a letter or digit, nor one of those glue
//! characters followed by a digit. [`date_shape`] then reads a personnummer's date against the
//! date the text was written. Nothing here allocates.

use std::ops::Range;

use super::personnummer::{self, IdKind};
use super::reserve::{self, Enabled, Reserve};

/// What kind of identifier a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    Personnummer,
    Samordningsnummer,
    Reserve(Reserve),
}

/// How much the written form alone says. The confidence scale starts from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// A 12-digit number with a real century, a 10-digit one with `-`/`+` in place, or a reserve
    /// id with a check digit: rarely anything else.
    Strong,
    /// A bare 10-digit run, a space in the separator's place, or a reserve id without a check
    /// digit: could be a phone, order or OCR number.
    Weak,
    /// A bare 10-digit run that starts like a Swedish mobile number (`07…`).
    PhoneLike,
    /// A date within a month of the text's own date followed by a time of day
    /// (`YYYYMMDD-HHMM`): how recordings, exports and logs are named. Counts like
    /// [`Strength::PhoneLike`].
    Clock,
}

/// The normalised form of an identifier, for the keyed hash: the ten-character form of a
/// personnummer, samordningsnummer or interim number (century dropped, no separator), the twelve
/// characters of other reserve ids; letters upper-case.
#[derive(Clone, Copy)]
pub struct Norm {
    buf: [u8; 12],
    len: u8,
}

impl Norm {
    fn from_parts(parts: &[&[u8]]) -> Norm {
        let mut buf = [0u8; 12];
        let mut len = 0;
        for p in parts {
            for &c in p.iter() {
                if len < buf.len() {
                    buf[len] = c.to_ascii_uppercase();
                    len += 1;
                }
            }
        }
        Norm {
            buf,
            len: len as u8,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

/// One identifier candidate that passed its format's checks.
#[derive(Clone)]
pub struct IdCandidate {
    pub span: Range<usize>,
    pub id: IdType,
    pub strength: Strength,
    pub norm: Norm,
}

/// An ICD-10 code: `F32.1`, `B34.1A` (decimal form), `F329` or `J18` (short forms, which count
/// only next to a diagnosis keyword).
#[derive(Clone)]
pub struct IcdCandidate {
    pub span: Range<usize>,
    pub decimal: bool,
}

/// What the scanner reports.
pub enum Hit {
    Id(IdCandidate),
    Icd(IcdCandidate),
}

/// Which formats the scanner looks for.
#[derive(Debug, Clone, Copy)]
pub struct ScanFormats {
    pub personnummer: bool,
    pub samordningsnummer: bool,
    pub space_separator: bool,
    pub reserve: Enabled,
    pub icd10: bool,
    /// The latest year of birth that is possible (the current year).
    pub max_year: u32,
}

/// Scans `b` once and reports every candidate, in text order.
pub fn scan(b: &[u8], f: &ScanFormats, emit: &mut dyn FnMut(Hit)) {
    let n = b.len();
    let mut i = 0;
    while i < n {
        let Some(start) = super::bytes::next_digit(b, i) else {
            return;
        };
        let mut end = start + 1;
        while end < n && b[end].is_ascii_digit() {
            end += 1;
        }
        let mut next = end;
        match end - start {
            2 | 3 if f.icd10 => {
                if let Some(icd) = icd_at(b, start, end) {
                    next = icd.span.end;
                    emit(Hit::Icd(icd));
                }
            }
            6 | 8 | 10 | 12 if !joins_left(b, start) || glued_keyword(b, start) => {
                if let Some(c) = id_at(b, start, end, f) {
                    next = c.span.end;
                    emit(Hit::Id(c));
                }
            }
            _ => {}
        }
        i = next;
    }
}

/// The identifier that starts with the digit run `start..end`, if any.
fn id_at(b: &[u8], start: usize, end: usize, f: &ScanFormats) -> Option<IdCandidate> {
    let digits = &b[start..end];
    match digits.len() {
        12 => {
            if !ends_clean(b, end) {
                return None;
            }
            let arr: &[u8; 12] = digits.try_into().ok()?;
            if let Some(c) = pnr(digits, Sep::None, f) {
                return Some(c.at(start..end));
            }
            let r = reserve::digits12(arr, &f.reserve, f.max_year)?;
            Some(reserve_candidate(r, start..end, &[digits]))
        }
        10 => {
            if !ends_clean(b, end) {
                return None;
            }
            pnr(digits, Sep::None, f).map(|c| c.at(start..end))
        }
        6 | 8 => {
            let sep = b.get(end).copied();
            // Date, separator, four digits.
            if let Some((s, sep_len)) = separator_at(b, end) {
                let from = end + sep_len;
                let serial = b.get(from..from + 4);
                if let Some(serial) = serial.filter(|s| s.iter().all(u8::is_ascii_digit)) {
                    let stop = from + 4;
                    if !ends_clean(b, stop) {
                        return None;
                    }
                    if s == Sep::Space && (!f.space_separator || space_joined(b, start, stop)) {
                        return None;
                    }
                    let mut all = [0u8; 12];
                    let len = digits.len() + 4;
                    all[..digits.len()].copy_from_slice(digits);
                    all[digits.len()..len].copy_from_slice(serial);
                    return pnr(&all[..len], s, f).map(|c| c.at(start..stop));
                }
            }
            // Date, optional dash, four characters holding a letter.
            let tail_start = if sep == Some(b'-') { end + 1 } else { end };
            let tail: &[u8; 4] = b.get(tail_start..tail_start + 4)?.try_into().ok()?;
            let stop = tail_start + 4;
            if !tail.iter().all(u8::is_ascii_alphanumeric)
                || !tail.iter().any(u8::is_ascii_alphabetic)
                || !ends_clean(b, stop)
            {
                return None;
            }
            let r = if digits.len() == 6 {
                reserve::short_with_letter(digits, tail, &f.reserve, f.max_year)?
            } else {
                reserve::long_with_letter(digits, tail, &f.reserve, f.max_year)?
            };
            // Interim numbers hash like a personnummer: the ten-character form.
            let date = if r == Reserve::Interim {
                &digits[digits.len() - 6..]
            } else {
                digits
            };
            Some(reserve_candidate(r, start..stop, &[date, tail]))
        }
        _ => None,
    }
}

fn reserve_candidate(r: Reserve, span: Range<usize>, parts: &[&[u8]]) -> IdCandidate {
    IdCandidate {
        span,
        id: IdType::Reserve(r),
        strength: if r.has_check() {
            Strength::Strong
        } else {
            Strength::Weak
        },
        norm: Norm::from_parts(parts),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Sep {
    None,
    Dash,
    Plus,
    Space,
}

/// The separator between date and serial at byte `i`, and its length in bytes: `-`, `+` or a
/// space, and what word processors and HTML put in their place: the Unicode hyphens, en dash
/// and minus sign (as `-`), and the no-break spaces (as a space). People also write the dash
/// with spaces around it (`YYMMDD - NNNN`) and chat windows break lines at it
/// (`YYYYMMDD-⏎NNNN`): up to three spaces, tabs or line breaks on either side of a `-` or `+`
/// still make a `-` or `+`; spaces and line breaks alone (at most three) make a space.
pub(super) fn separator_at(b: &[u8], i: usize) -> Option<(Sep, usize)> {
    let before = blanks(b, i);
    let mark = i + before;
    let dash = match b.get(mark..)? {
        [b'-', ..] => Some((Sep::Dash, 1)),
        [b'+', ..] => Some((Sep::Plus, 1)),
        // U+2010 hyphen, U+2011 non-breaking hyphen, U+2013 en dash.
        [0xE2, 0x80, 0x90 | 0x91 | 0x93, ..] => Some((Sep::Dash, 3)),
        // U+2212 minus sign.
        [0xE2, 0x88, 0x92, ..] => Some((Sep::Dash, 3)),
        _ => None,
    };
    match dash {
        Some((sep, len)) => Some((sep, before + len + blanks(b, mark + len))),
        None if before > 0 => Some((Sep::Space, before)),
        None => None,
    }
}

/// The length in bytes of the spaces, tabs, line breaks and no-break spaces (U+00A0, U+202F)
/// at byte `i`: at most three of them.
fn blanks(b: &[u8], i: usize) -> usize {
    let mut at = i;
    for _ in 0..3 {
        at += match b.get(at..) {
            Some([b' ' | b'\t' | b'\r' | b'\n', ..]) => 1,
            Some([0xC2, 0xA0, ..]) => 2,
            Some([0xE2, 0x80, 0xAF, ..]) => 3,
            _ => break,
        };
    }
    // "\r\n" counts as one break: allow it as the third character too.
    if at > i && b.get(at) == Some(&b'\n') && b[at - 1] == b'\r' {
        at += 1;
    }
    at - i
}

/// A personnummer candidate before its span is known.
struct Pnr {
    id: IdType,
    strength: Strength,
    norm: Norm,
}

impl Pnr {
    fn at(self, span: Range<usize>) -> IdCandidate {
        IdCandidate {
            span,
            id: self.id,
            strength: self.strength,
            norm: self.norm,
        }
    }
}

/// Validates 10 or 12 ASCII digits (separator already removed) as a personnummer or
/// samordningsnummer.
fn pnr(digits: &[u8], sep: Sep, f: &ScanFormats) -> Option<Pnr> {
    if !f.personnummer && !f.samordningsnummer {
        return None;
    }
    let kind = match digits.len() {
        12 => {
            let mut v = [0u8; 12];
            for (d, &c) in v.iter_mut().zip(digits) {
                *d = c - b'0';
            }
            personnummer::validate_12_until(&v, f.max_year)?
        }
        10 => {
            let mut v = [0u8; 10];
            for (d, &c) in v.iter_mut().zip(digits) {
                *d = c - b'0';
            }
            personnummer::validate_10_until(&v, sep == Sep::Plus, f.max_year)?
        }
        _ => return None,
    };
    let id = match kind {
        IdKind::Personnummer if f.personnummer => IdType::Personnummer,
        IdKind::Samordningsnummer if f.samordningsnummer => IdType::Samordningsnummer,
        _ => return None,
    };
    let strength = match (digits.len(), sep) {
        (_, Sep::Space) => Strength::Weak,
        (12, _) | (10, Sep::Dash | Sep::Plus) => Strength::Strong,
        _ if digits.starts_with(b"07") => Strength::PhoneLike,
        _ => Strength::Weak,
    };
    Some(Pnr {
        id,
        strength,
        norm: Norm::from_parts(&[&digits[digits.len() - 10..]]),
    })
}

/// The ICD-10 code whose digits are the run `start..end` (2 or 3 digits after a capital).
fn icd_at(b: &[u8], start: usize, end: usize) -> Option<IcdCandidate> {
    let letter_at = start.checked_sub(1)?;
    if !b[letter_at].is_ascii_uppercase() || !word_start(b, letter_at) {
        return None;
    }
    if end - start == 3 {
        // Dotless `F329`, optionally with the Swedish fifth-character letter: `B341A`.
        let stop = if b.get(end).is_some_and(u8::is_ascii_uppercase) {
            end + 1
        } else {
            end
        };
        return ends_clean(b, stop).then_some(IcdCandidate {
            span: letter_at..stop,
            decimal: false,
        });
    }
    // `J18.9`, `B34.1A`.
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        let mut stop = end + 2;
        if b.get(stop).is_some_and(u8::is_ascii_uppercase) {
            stop += 1;
        }
        if ends_clean(b, stop) {
            return Some(IcdCandidate {
                span: letter_at..stop,
                decimal: true,
            });
        }
        return None;
    }
    // `J18`.
    ends_clean(b, end).then_some(IcdCandidate {
        span: letter_at..end,
        decimal: false,
    })
}

/// True when the byte at `i` starts a word: the character before it (if any) is not
/// alphanumeric.
pub fn word_start(b: &[u8], i: usize) -> bool {
    !prev_is_alnum(b, i)
}

/// True when the character that ends right before byte `i` is a letter or digit (any script).
fn prev_is_alnum(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let p = b[i - 1];
    if p < 0x80 {
        return p.is_ascii_alphanumeric();
    }
    // Walk back to the first byte of the UTF-8 sequence.
    let mut s = i - 1;
    while s > 0 && b[s] & 0xC0 == 0x80 && i - s < 4 {
        s -= 1;
    }
    std::str::from_utf8(&b[s..i])
        .ok()
        .and_then(|t| t.chars().next())
        .is_some_and(char::is_alphanumeric)
}

/// True when the character that starts at byte `i` is a letter or digit (any script).
fn next_is_alnum(b: &[u8], i: usize) -> bool {
    let Some(&c) = b.get(i) else {
        return false;
    };
    if c < 0x80 {
        return c.is_ascii_alphanumeric();
    }
    let stop = (i + 4).min(b.len());
    let t = match std::str::from_utf8(&b[i..stop]) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&b[i..i + e.valid_up_to()]).unwrap_or(""),
    };
    t.chars().next().is_some_and(char::is_alphanumeric)
}

/// Characters that glue two digit groups into one number: `1.5`, `12/3`, `12:30`, `1-2`, `+46`.
fn is_glue(c: u8) -> bool {
    matches!(c, b'-' | b'.' | b'/' | b':' | b'+')
}

/// True when the candidate starting at `i` is glued to what comes before it. A `/` always
/// glues: the number is a piece of a path or a link (`zoom.us/j/…`).
fn joins_left(b: &[u8], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let p = b[i - 1];
    if p == b'+' || p == b'/' {
        return true;
    }
    if is_glue(p) {
        return i >= 2 && b[i - 2].is_ascii_digit();
    }
    prev_is_alnum(b, i)
}

/// Identity keywords that people glue to the number (`pnr19861208-2399`), lower case.
const GLUE_WORDS: &[&[u8]] = &[
    b"pnr",
    b"p-nr",
    b"p.nr",
    b"persnr",
    b"pers.nr",
    b"personnr",
    b"personnummer",
    b"pnummer",
    b"samnr",
    b"samordningsnr",
    b"samordningsnummer",
    b"reservnr",
    b"reservnummer",
    b"idnr",
    b"id-nr",
];

/// True when the candidate at `i` follows, with nothing between, a word of [`GLUE_WORDS`]
/// that starts a word (`pnr19861208-2399`, `Personnummer198612082399`).
fn glued_keyword(b: &[u8], i: usize) -> bool {
    let mut s = i;
    while s > 0 && i - s < 17 && matches!(b[s - 1], b'a'..=b'z' | b'A'..=b'Z' | b'.' | b'-') {
        s -= 1;
    }
    s < i
        && b[i - 1].is_ascii_alphabetic()
        && word_start(b, s)
        && GLUE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(&b[s..i]))
}

/// What the date of a personnummer candidate says, against the date the text was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateShape {
    /// Nothing unusual: a date of birth.
    Birth,
    /// A date in the year before the text (or its day): how case, deviation-report and
    /// ticket numbers start (`20241105-0013`). Counts as a weak form.
    Recent,
    /// A date in the two years before the text (or the day after) and a serial that reads as a
    /// time of day (`HHMM`): a timestamp, as recordings, exports, logs and backups are named.
    Clock,
    /// After the text's own date: nobody is born after the text about them was written.
    Future,
}

/// Judges the date of the personnummer candidate at `span` (10 or 12 digits, a separator or
/// none). `written` gives the date the text was written (year, month, day); it is asked only
/// for a date no more than four years before `rough_year` (the year it was written, give or
/// take one), so that the common case, a date of birth long ago, costs no time-zone lookup.
pub fn date_shape(
    b: &[u8],
    span: &Range<usize>,
    max_year: u32,
    rough_year: u32,
    written: impl FnOnce() -> (u32, u32, u32),
) -> DateShape {
    let mut d = [0u32; 12];
    let mut n = 0;
    for &c in &b[span.clone()] {
        if c.is_ascii_digit() && n < 12 {
            d[n] = u32::from(c - b'0');
            n += 1;
        }
    }
    if n != 10 && n != 12 {
        return DateShape::Birth;
    }
    let num = |r: Range<usize>| r.fold(0, |acc, k| acc * 10 + d[k]);
    let o = n - 10;
    let (month, day) = (num(o + 2..o + 4), num(o + 4..o + 6));
    let year = if n == 12 {
        num(0..4)
    } else {
        let yy = num(0..2);
        if b[span.clone()].contains(&b'+') || 2000 + yy > max_year {
            return DateShape::Birth;
        }
        2000 + yy
    };
    // A ten-digit number's century is not written: after the text's date it is someone born
    // a century earlier.
    let future = if n == 12 {
        DateShape::Future
    } else {
        DateShape::Birth
    };
    if year + 4 < rough_year {
        return DateShape::Birth;
    }
    let (wy, wm, wd) = written();
    if wy < 1000 {
        // A text dated in antiquity (or before the epoch's range): nothing to compare with.
        return DateShape::Birth;
    }
    if year > wy + 1 {
        return future;
    }
    if year + 3 < wy {
        return DateShape::Birth;
    }
    let days = |y: u32, m: u32, dd: u32| -> i64 {
        // Days since a fixed origin (proleptic Gregorian), enough to compare two dates.
        let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
        i64::from(365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + dd)
    };
    let age = days(wy, wm, wd) - days(year, month, day);
    let clock = num(o + 6..o + 8) < 24 && num(o + 8..o + 10) < 60;
    if age < -1 {
        future
    } else if clock && age <= 731 {
        DateShape::Clock
    } else if age <= 366 {
        DateShape::Recent
    } else {
        DateShape::Birth
    }
}

/// True when a candidate may end right before byte `i`.
fn ends_clean(b: &[u8], i: usize) -> bool {
    if next_is_alnum(b, i) {
        return false;
    }
    !(b.get(i).copied().is_some_and(is_glue) && b.get(i + 1).is_some_and(u8::is_ascii_digit))
}

/// For the space-separated form only: true when the digit groups go on with another
/// space-separated group before or after (`070 123 45 67`-style grouping).
fn space_joined(b: &[u8], start: usize, stop: usize) -> bool {
    let before = start >= 2 && b[start - 1] == b' ' && b[start - 2].is_ascii_digit();
    let after = b.get(stop) == Some(&b' ') && b.get(stop + 1).is_some_and(u8::is_ascii_digit);
    before || after
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Letters and digits hidden, for assertion messages.
    fn mask(s: &str) -> String {
        s.chars()
            .map(|c| if c.is_alphanumeric() { '*' } else { c })
            .collect()
    }

    const F: ScanFormats = ScanFormats {
        personnummer: true,
        samordningsnummer: true,
        space_separator: true,
        reserve: Enabled::ALL,
        icd10: true,
        max_year: 2100,
    };

    fn spans(text: &str) -> Vec<(Range<usize>, &'static str)> {
        let mut out = Vec::new();
        scan(text.as_bytes(), &F, &mut |h| match h {
            Hit::Id(c) => out.push((
                c.span,
                match c.strength {
                    Strength::Strong => "strong",
                    Strength::Weak => "weak",
                    Strength::PhoneLike => "phone",
                    Strength::Clock => "clock",
                },
            )),
            Hit::Icd(c) => out.push((c.span, if c.decimal { "icd." } else { "icd" })),
        });
        out
    }

    #[test]
    fn forms_and_strengths() {
        // Skatteverket test number 1986-12-08 / 2399.
        assert_eq!(spans("a 19861208-2399 b"), [(2..15, "strong")]);
        assert_eq!(spans("198612082399"), [(0..12, "strong")]);
        assert_eq!(spans("861208-2399"), [(0..11, "strong")]);
        assert_eq!(spans("861208+2399"), [(0..11, "strong")]);
        assert_eq!(spans("8612082399"), [(0..10, "weak")]);
        assert_eq!(spans("861208 2399"), [(0..11, "weak")]);
        assert_eq!(spans("19861208 2399"), [(0..13, "weak")]);
        assert_eq!(spans("(8612082399)"), [(1..11, "weak")]);
        // Word-processor and HTML separators.
        assert_eq!(spans("861208\u{2013}2399"), [(0..13, "strong")]);
        assert_eq!(spans("861208\u{2011}2399"), [(0..13, "strong")]);
        assert_eq!(spans("861208\u{a0}2399"), [(0..12, "weak")]);
    }

    #[test]
    fn glued_numbers_are_not_candidates() {
        for t in [
            "+468612082399",
            "x8612082399",
            "18612082399",
            "86120823991",
            "1-861208-2399",
            "861208-2399-1",
            "12 861208 2399",
            "861208 2399 12",
            "8612082399.5",
            "8612082399ab",
            "å8612082399",
        ] {
            assert!(spans(t).is_empty(), "{}", mask(t));
        }
        // Punctuation that does not glue.
        assert_eq!(spans("pnr:8612082399, tack").len(), 1);
        assert_eq!(spans("«8612082399»").len(), 1);
    }

    #[test]
    fn spaced_dash_and_line_breaks() {
        assert_eq!(spans("861208 - 2399"), [(0..13, "strong")]);
        assert_eq!(spans("19861208 -2399"), [(0..14, "strong")]);
        assert_eq!(spans("19861208-\n2399"), [(0..14, "strong")]);
        assert_eq!(spans("19861208-\r\n2399"), [(0..15, "strong")]);
        assert_eq!(spans("19861208\n-2399 x"), [(0..14, "strong")]);
        assert_eq!(spans("861208 +\n2399"), [(0..13, "strong")]);
        // A line break alone is a space: weak.
        assert_eq!(spans("pnr 19861208\n2399"), [(4..17, "weak")]);
        assert_eq!(spans("861208  2399"), [(0..12, "weak")]);
        // Too far apart, or a longer group after it.
        assert!(spans("861208    -    2399").is_empty());
        assert!(spans("861208 - 23991").is_empty());
    }

    #[test]
    fn glued_to_an_identity_keyword() {
        assert_eq!(spans("pnr19861208-2399"), [(3..16, "strong")]);
        assert_eq!(spans("PNR198612082399"), [(3..15, "strong")]);
        assert_eq!(spans("Personnummer8612082399"), [(12..22, "weak")]);
        assert_eq!(spans("(p-nr861208-2399)"), [(5..16, "strong")]);
        // Other letters still glue the number into something longer.
        assert!(spans("kundnr19861208-2399").is_empty());
        assert!(spans("xpnr19861208-2399").is_empty());
        assert!(spans("order8612082399").is_empty());
    }

    #[test]
    fn paths_and_links_glue() {
        assert!(spans("https://zoom.us/j/8612082399?pwd=a").is_empty());
        assert!(spans("mapp/19861208-2399").is_empty());
    }

    #[test]
    fn masked_numbers_are_not_reserve_ids() {
        assert!(spans("19861208-XXXX").is_empty());
        assert!(spans("19861208-XX99").is_empty());
        assert!(spans("19861208XXXX").is_empty());
        // One X is still a reserve-id shape.
        assert_eq!(spans("19861208-X123").len(), 1);
    }

    #[test]
    fn dates_against_the_texts_own_date() {
        // The first run of digits and separators in `t`, as the scanner would take it.
        let shape = |t: &str| {
            let b = t.as_bytes();
            let start = b.iter().position(u8::is_ascii_digit)?;
            let len = b[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'-')
                .count();
            Some(date_shape(b, &(start..start + len), 2024, 2024, || {
                (2024, 11, 20)
            }))
        };
        // A date of birth long ago.
        assert_eq!(shape("19861208-2399"), Some(DateShape::Birth));
        // Date + time of day within a month: a timestamp (whatever the check digit).
        assert_eq!(shape("20241105-1430"), Some(DateShape::Clock));
        assert_eq!(shape("241119-0915"), Some(DateShape::Clock));
        assert_eq!(shape("202411200800"), Some(DateShape::Clock));
        // A recent date with a serial that is no time: a case or report number.
        assert_eq!(shape("20240605-0071"), Some(DateShape::Recent));
        assert_eq!(shape("20241105-0099"), Some(DateShape::Recent));
        // A time of day further back, up to two years.
        assert_eq!(shape("rec_20230305-1015.mp4"), Some(DateShape::Clock));
        assert_eq!(shape("20221205-1015 x"), Some(DateShape::Clock));
        assert_eq!(shape("20221105-1015 x"), Some(DateShape::Birth));
        // After the text's date: for ten digits, someone born a century earlier.
        assert_eq!(shape("20241125-0012"), Some(DateShape::Future));
        assert_eq!(shape("241125-0012"), Some(DateShape::Birth));
        // More than a year back.
        assert_eq!(shape("20221105-0012"), Some(DateShape::Birth));
    }

    #[test]
    fn icd_codes() {
        assert_eq!(
            spans("dg F32.1 och J18.9"),
            [(3..8, "icd."), (13..18, "icd.")]
        );
        assert_eq!(spans("B34.1A"), [(0..6, "icd.")]);
        assert_eq!(spans("F329, J18"), [(0..4, "icd"), (6..9, "icd")]);
        assert!(spans("AF32.1 F3.2 f32.1").is_empty());
    }

    #[test]
    fn reserve_ids_in_text() {
        assert_eq!(spans("res 000101-T220.").len(), 1);
        assert_eq!(spans("22950606-FH20").len(), 1);
        assert_eq!(spans("x 991981000010 y").len(), 1);
        assert!(spans("20240611T143000").is_empty());
    }
}
