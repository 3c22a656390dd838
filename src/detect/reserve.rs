//! Temporary and reserve patient ids: interim numbers, the national reservnummer (NRID) and the
//! regional formats of Region Stockholm, Västra Götalandsregionen, Inera Carelink, Värmland and
//! Örebro. Formats and checks: `../shared/research/pii.md` §4.3-4.4 (personnummer/meta's interim
//! specification, Inera's "Lokala Reservidn", tbillas/SwedishIdentifier).
//!
//! Every function here takes ASCII bytes that the scanner has already cut out of the text and
//! bounded; none of them allocates.

use super::personnummer::date_exists;

/// Standard Luhn (mod 10) over digit values, weight 1 on the last (check) digit, 2 on the one
/// before, and so on from the right. Products over 9 count by their digit sum.
pub fn luhn(values: impl DoubleEndedIterator<Item = u32>) -> bool {
    let mut sum = 0;
    for (i, v) in values.rev().enumerate() {
        let p = if i % 2 == 1 { v * 2 } else { v };
        sum += digit_sum(p);
    }
    sum.is_multiple_of(10)
}

/// The national reservnummer's Luhn variant: a letter counts as its ASCII code (`A` = 65), each
/// product counts by its digit sum (`F`·2 = 140 → 5).
pub fn luhn_ascii(chars: &[u8]) -> bool {
    luhn(chars.iter().map(|&c| {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c)
        }
    }))
}

fn digit_sum(mut n: u32) -> u32 {
    let mut s = 0;
    while n > 0 {
        s += n % 10;
        n /= 10;
    }
    s
}

/// Value of two ASCII digits.
fn num2(a: u8, b: u8) -> u32 {
    u32::from(a - b'0') * 10 + u32::from(b - b'0')
}

fn digit_values(ascii: &[u8]) -> impl DoubleEndedIterator<Item = u32> + '_ {
    ascii.iter().map(|&c| u32::from(c - b'0'))
}

/// True when eight ASCII digits are a real date `YYYYMMDD` in the 1800s-2000s, not after
/// `max_year`.
pub fn date8_ok(d: &[u8], max_year: u32) -> bool {
    if d.len() < 8 || !d[..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let century = num2(d[0], d[1]);
    if !(18..=20).contains(&century) {
        return false;
    }
    let year = century * 100 + num2(d[2], d[3]);
    year <= max_year && date_exists(year, num2(d[4], d[5]), num2(d[6], d[7]))
}

/// True when six ASCII digits are a real date `YYMMDD` in 19YY or 20YY (not after `max_year`).
pub fn date6_ok(d: &[u8], max_year: u32) -> bool {
    if d.len() < 6 || !d[..6].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (yy, mm, dd) = (num2(d[0], d[1]), num2(d[2], d[3]), num2(d[4], d[5]));
    [1900 + yy, 2000 + yy]
        .into_iter()
        .any(|y| y <= max_year && date_exists(y, mm, dd))
}

/// Which reserve id a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// Interim number: a letter (T, R, S, U, W, X, J, K, L, M, N) first among the last four.
    Interim,
    /// National reservnummer (NRID, OID 1.2.752.74.9.1).
    National,
    /// Region Stockholm, `99yyyyNNNNNC`: `yyyy` 1800-2299.
    Stockholm,
    /// Västra Götalandsregionen, `yyyymmddGggC`.
    Vgr,
    /// Inera Carelink, `yyyymmxxNNNC` with `xx` 32-59.
    Carelink,
    /// Region Värmland, `yyyymmddSBNC`.
    Varmland,
    /// Region Örebro län, `aaaaaaaaTcde`.
    Orebro,
    /// Eight date digits and four letters/digits with an upper-case letter: a reserve number of
    /// an unknown (for example Region Skåne's) format.
    Unknown,
}

impl Reserve {
    /// True when the format has a check digit (a random string rarely passes).
    pub fn has_check(self) -> bool {
        matches!(
            self,
            Reserve::Interim
                | Reserve::National
                | Reserve::Stockholm
                | Reserve::Vgr
                | Reserve::Carelink
        )
    }

    /// The issuer's id, as used in config and findings.
    pub fn issuer(self) -> &'static str {
        match self {
            Reserve::Interim => "interim",
            Reserve::National => "national",
            Reserve::Stockholm => "stockholm",
            Reserve::Vgr => "vgr",
            Reserve::Carelink => "carelink",
            Reserve::Varmland => "varmland",
            Reserve::Orebro => "orebro",
            Reserve::Unknown => "unknown",
        }
    }
}

/// Which formats are switched on, as the scanner needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enabled {
    pub interim: bool,
    pub national: bool,
    pub stockholm: bool,
    pub vgr: bool,
    pub carelink: bool,
    pub varmland: bool,
    pub orebro: bool,
    pub unknown: bool,
}

impl Enabled {
    /// Every reserve format switched on.
    pub const ALL: Enabled = Enabled {
        interim: true,
        national: true,
        stockholm: true,
        vgr: true,
        carelink: true,
        varmland: true,
        orebro: true,
        unknown: true,
    };
}

/// Twelve ASCII digits: Region Stockholm or Inera Carelink.
pub fn digits12(d: &[u8; 12], on: &Enabled, max_year: u32) -> Option<Reserve> {
    // Stockholm: 99 + a year (sources differ: year of issue 1980-2299, or of birth, as in the
    // published examples 991945…) + 5-digit serial + check over positions 5-12.
    if on.stockholm
        && d[0] == b'9'
        && d[1] == b'9'
        && (18..=22).contains(&num2(d[2], d[3]))
        && luhn(digit_values(&d[4..]))
    {
        return Some(Reserve::Stockholm);
    }
    // Carelink: a real year and month, "day" 32-59, Luhn over the last ten.
    if on.carelink {
        let century = num2(d[0], d[1]);
        let year = century * 100 + num2(d[2], d[3]);
        let month = num2(d[4], d[5]);
        let day = num2(d[6], d[7]);
        if (18..=20).contains(&century)
            && year <= max_year
            && (1..=12).contains(&month)
            && (32..=59).contains(&day)
            && luhn(digit_values(&d[2..]))
        {
            return Some(Reserve::Carelink);
        }
    }
    None
}

/// Six ASCII date digits and four characters holding a letter: the short interim form
/// `YYMMDD-Xnnn`. `tail` is as written (any case).
pub fn short_with_letter(
    date: &[u8],
    tail: &[u8; 4],
    on: &Enabled,
    max_year: u32,
) -> Option<Reserve> {
    let t = tail.map(|c| c.to_ascii_uppercase());
    (on.interim && interim_tail(&t) && date6_ok(date, max_year) && interim_luhn(&date[..6], &t))
        .then_some(Reserve::Interim)
}

/// Eight ASCII digits and four characters holding a letter: interim (long form), national
/// reservnummer, VGR, Värmland, Örebro, or an unknown reserve format. `tail` is as written.
pub fn long_with_letter(d: &[u8], tail: &[u8; 4], on: &Enabled, max_year: u32) -> Option<Reserve> {
    if d.len() != 8 {
        return None;
    }
    let t = tail.map(|c| c.to_ascii_uppercase());
    if on.vgr && vgr(d, &t, max_year) {
        return Some(Reserve::Vgr);
    }
    if on.interim && interim_tail(&t) && date8_ok(d, max_year) && interim_luhn(&d[2..], &t) {
        return Some(Reserve::Interim);
    }
    if on.national && national(d, &t, max_year) {
        return Some(Reserve::National);
    }
    if on.varmland && varmland(d, &t, max_year) {
        return Some(Reserve::Varmland);
    }
    if on.orebro
        && t[0] == b'T'
        && t[1].is_ascii_alphanumeric()
        && t[2].is_ascii_digit()
        && t[3].is_ascii_alphanumeric()
    {
        return Some(Reserve::Orebro);
    }
    // Unknown formats: written in capitals, with a real date. Not a masked number
    // (`19861208-XXXX`, `19861208-XX12`): two X are a mask, not a region's format.
    if on.unknown
        && tail.iter().filter(|&&c| c == b'X').count() < 2
        && tail
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && tail.iter().any(u8::is_ascii_uppercase)
        && date8_ok(d, max_year)
    {
        return Some(Reserve::Unknown);
    }
    None
}

fn interim_tail(t: &[u8; 4]) -> bool {
    b"TRSUWXJKLMN".contains(&t[0]) && t[1..].iter().all(u8::is_ascii_digit)
}

/// Luhn over `YYMMDD` + letter (counted as 1) + three digits.
fn interim_luhn(yymmdd: &[u8], t: &[u8; 4]) -> bool {
    let values = digit_values(yymmdd)
        .chain(std::iter::once(1))
        .chain(digit_values(&t[1..]));
    luhn(values)
}

/// VGR: real date; G = K (woman), M (man) or X (unknown); gg 06-89; Luhn over the last ten with
/// K = 5, M = 7, X = 8.
fn vgr(d: &[u8], t: &[u8; 4], max_year: u32) -> bool {
    let g = match t[0] {
        b'K' => 5,
        b'M' => 7,
        b'X' => 8,
        _ => return false,
    };
    if !t[1..].iter().all(u8::is_ascii_digit) || !date8_ok(d, max_year) {
        return false;
    }
    let gg = num2(t[1], t[2]);
    (6..=89).contains(&gg)
        && luhn(
            digit_values(&d[2..])
                .chain(std::iter::once(g))
                .chain(digit_values(&t[1..])),
        )
}

/// National reservnummer `XXYYMMDDNNGC`: XX is the birth century + 3k (never 18-21) or 00 with
/// an unknown date (MM 20-99, DD 40-59); NN two letters (not I, O, Q, V, W); G a digit or letter;
/// C the check digit of the ASCII Luhn.
fn national(d: &[u8], t: &[u8; 4], max_year: u32) -> bool {
    let letter_ok = |c: u8| c.is_ascii_uppercase() && !b"IOQVW".contains(&c);
    if !(letter_ok(t[0])
        && letter_ok(t[1])
        && t[2].is_ascii_alphanumeric()
        && t[3].is_ascii_digit())
    {
        return false;
    }
    let xx = num2(d[0], d[1]);
    let date_ok = if xx == 0 {
        (20..=99).contains(&num2(d[4], d[5])) && (40..=59).contains(&num2(d[6], d[7]))
    } else if (22..=98).contains(&xx) {
        let century = 18 + (xx - 18) % 3;
        let year = century * 100 + num2(d[2], d[3]);
        year <= max_year && date_exists(year, num2(d[4], d[5]), num2(d[6], d[7]))
    } else {
        false
    };
    if !date_ok {
        return false;
    }
    let mut all = [0u8; 12];
    all[..8].copy_from_slice(d);
    all[8..].copy_from_slice(t);
    luhn_ascii(&all)
}

/// Värmland: real date; `S` (the county letter); B one of F, U, X, P, L; N a digit; C a serial
/// letter (not V) or a digit 1-9.
fn varmland(d: &[u8], t: &[u8; 4], max_year: u32) -> bool {
    t[0] == b'S'
        && b"FUXPL".contains(&t[1])
        && t[2].is_ascii_digit()
        && ((t[3].is_ascii_uppercase() && t[3] != b'V') || (b'1'..=b'9').contains(&t[3]))
        && date8_ok(d, max_year)
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

    const ALL: Enabled = Enabled::ALL;

    fn long(s: &str) -> Option<Reserve> {
        let b = s.as_bytes();
        long_with_letter(&b[..8], b[8..12].try_into().unwrap(), &ALL, 2100)
    }

    fn twelve(s: &str) -> Option<Reserve> {
        digits12(s.as_bytes().try_into().unwrap(), &ALL, 2100)
    }

    #[test]
    fn published_examples_pass() {
        // Examples from Inera's "Lokala Reservidn" and tbillas/SwedishIdentifier (pii.md §4.4).
        for s in ["991981000010", "991945000023", "991993000032"] {
            assert_eq!(twelve(s), Some(Reserve::Stockholm), "{}", mask(s));
        }
        assert_eq!(twelve("198108320014"), Some(Reserve::Carelink));
        for s in ["19810829M071", "19450829K088", "19930829X802"] {
            assert_eq!(long(s), Some(Reserve::Vgr), "{}", mask(s));
        }
        for s in ["19810829SU3A", "19450829SF2B", "19930829SX0C"] {
            assert_eq!(long(s), Some(Reserve::Varmland), "{}", mask(s));
        }
        for s in ["12345678TA0A", "19810829TB1F", "19930829T320"] {
            assert_eq!(long(s), Some(Reserve::Orebro), "{}", mask(s));
        }
        for s in ["22950606FH20", "25780404KHD5", "00342145BZ31"] {
            assert_eq!(long(s), Some(Reserve::National), "{}", mask(s));
        }
        assert_eq!(long("20000101T220"), Some(Reserve::Interim));
        let on = ALL;
        assert_eq!(
            short_with_letter(b"000101", b"t220", &on, 2100),
            Some(Reserve::Interim)
        );
    }

    #[test]
    fn wrong_check_digits_fail() {
        assert_eq!(twelve("991981000011"), None);
        assert_eq!(twelve("198108320015"), None);
        // VGR with a wrong check digit is not VGR (nor interim: its Luhn differs too).
        assert_ne!(long("19810829M072"), Some(Reserve::Vgr));
        assert_ne!(long("22950606FH21"), Some(Reserve::National));
        assert_eq!(
            short_with_letter(b"000101", b"E221", &ALL, 2100),
            None,
            "E is no interim letter"
        );
    }

    #[test]
    fn switches_are_honoured() {
        let off = Enabled {
            vgr: false,
            unknown: false,
            ..ALL
        };
        assert_eq!(
            long_with_letter(b"19810829", b"M071", &off, 2100),
            None,
            "VGR off: M071 fails the interim Luhn"
        );
        let no_sll = Enabled {
            stockholm: false,
            ..ALL
        };
        assert_eq!(digits12(b"991981000010", &no_sll, 2100), None);
    }

    #[test]
    fn unknown_format_needs_capitals_and_a_date() {
        assert_eq!(long("19810829AB12"), Some(Reserve::Unknown));
        assert_eq!(long("19810829ab12"), None);
        assert_eq!(long("19811329AB12"), None);
    }
}
