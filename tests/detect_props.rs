//! Property tests: every generated valid personnummer or samordningsnummer is found in any
//! surrounding text in every written form; numbers with a wrong check digit or an impossible date
//! are not; digit runs longer than twelve never give a finding; and any text at all scans without
//! panicking, with spans on character boundaries and redacted forms without digits.
//!
//! Failure messages show redacted forms only.

use motesvakt::detect::{Confidence, Context, DetectSettings, Detector, FindingKind, HashKey};
use proptest::prelude::*;

/// Built once: compiling the keyword automata is the slow part in a debug build.
fn detector() -> &'static Detector {
    static DETECTOR: std::sync::LazyLock<Detector> = std::sync::LazyLock::new(|| {
        Detector::new(&DetectSettings::default(), HashKey::from_bytes([4; 32])).unwrap()
    });
    &DETECTOR
}

fn redact(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_digit() { '*' } else { c })
        .collect()
}

fn leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in(y: u32, m: u32) -> u32 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The check digit that makes the nine digits a valid Luhn ten-digit number.
fn check_digit(nine: &str) -> u32 {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 { v - 9 } else { v }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A generated number: 12 digits, year of birth, whether it is a samordningsnummer.
#[derive(Clone)]
struct Number {
    twelve: String,
    year: u32,
    samordning: bool,
}

/// Proptest prints failing inputs: show the shape only, never the digits.
impl std::fmt::Debug for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Number({}, born {}xx, samordning {})",
            redact(&self.twelve),
            self.year / 100,
            self.samordning
        )
    }
}

fn number(year: u32, month: u32, day_field: u32, serial: u32, samordning: bool) -> Number {
    let nine = format!("{:02}{month:02}{day_field:02}{serial:03}", year % 100);
    let c = check_digit(&nine);
    Number {
        twelve: format!("{}{nine}{c}", year / 100),
        year,
        samordning,
    }
}

fn valid_number() -> impl Strategy<Value = Number> {
    (
        1890u32..=2023,
        1u32..=12,
        0u32..31,
        1u32..=999,
        any::<bool>(),
    )
        .prop_map(|(year, month, day, serial, samordning)| {
            let day = 1 + day % days_in(year, month);
            let field = if samordning { day + 60 } else { day };
            number(year, month, field, serial, samordning)
        })
}

/// Valid Luhn, impossible date (month 0 or 13-99, or a day past the month's end that is not a
/// samordningsnummer day either).
fn impossible_date_number() -> impl Strategy<Value = Number> {
    let bad_month = (
        1900u32..=2023,
        prop_oneof![Just(0u32), 13u32..=99],
        1u32..=28,
        1u32..=999,
    )
        .prop_map(|(y, m, d, s)| number(y, m, d, s, false));
    let bad_day = (1900u32..=2023, 1u32..=12, 0u32..40, 1u32..=999).prop_map(|(y, m, k, s)| {
        // 0, the days after the month's end up to 60, and the samordningsnummer days past it.
        // A 10-digit form is valid if the date exists in either century (`000229` is
        // 2000-02-29), so the month's end is the later of the two.
        let last = days_in(1900 + y % 100, m).max(days_in(2000 + y % 100, m));
        let candidates: Vec<u32> = std::iter::once(0)
            .chain(last + 1..=60)
            .chain(60 + last + 1..=99)
            .collect();
        let d = candidates[k as usize % candidates.len()];
        number(y, m, d, s, false)
    });
    prop_oneof![bad_month, bad_day]
}

/// Written forms of a 12-digit number, by index.
fn written(n: &Number, form: usize) -> String {
    let t = &n.twelve;
    // `+` from the year the person turns 100 (a rough cut: someone born in the 1920s is valid
    // with either separator).
    let sep10 = if n.year < 1925 { '+' } else { '-' };
    match form {
        0 => t.clone(),
        1 => format!("{}-{}", &t[..8], &t[8..]),
        2 => format!("{}+{}", &t[..8], &t[8..]),
        3 => format!("{}{sep10}{}", &t[2..8], &t[8..]),
        4 => t[2..].to_string(),
        5 => format!("{} {}", &t[2..8], &t[8..]),
        6 => format!("{} {}", &t[..8], &t[8..]),
        // An en dash, as a word processor writes it.
        _ => format!("{}\u{2013}{}", &t[..8], &t[8..]),
    }
}

const FORMS: usize = 8;

/// Neutral words (no keyword of any list) and punctuation around the number.
fn words() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "Hej",
        "kolla",
        "gäller",
        "i",
        "morgon",
        "tack",
        "👍",
        "åtgärd",
        "Östra",
        "avd",
        "4",
        "10:30",
        "kan",
        "du",
        "se",
        "över",
        "det",
        "här",
        "snälla",
        "ÄNDRAT",
        "bra",
        "x-y",
        "2024-06-11",
        "idag",
        "före",
        "lunch",
        "«ok»",
        "e-post",
        "vecka",
        "12",
    ]);
    prop::collection::vec(word, 0..6).prop_map(|w| w.join(" "))
}

fn before() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ", " (", ": ", "\n", " «", "\t", " \"", " — ", " [", ", ",
    ])
}

fn after() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ", ")", ".", ",", "!", "?", "»", "\n", " —", ";", "]",
    ])
}

struct Placed {
    text: String,
    span: std::ops::Range<usize>,
}

/// `pre`, a separator, the number, a separator and `post`. `post` is set off by a space so that
/// a glue character (`.`, `:`) in `a` never joins the number to a digit in `post`.
fn place(pre: &str, b: &str, number: &str, a: &str, post: &str) -> Placed {
    let start = pre.len() + b.len();
    Placed {
        text: format!("{pre}{b}{number}{a} {post}"),
        span: start..start + number.len(),
    }
}

/// The one documented exception to "found in any text": a space-separated form flanked by
/// another digit group with a single space (`12 861208 2399`) reads as a grouped long number.
fn grouped(p: &Placed, number: &str) -> bool {
    let b = p.text.as_bytes();
    let before =
        p.span.start >= 2 && b[p.span.start - 1] == b' ' && b[p.span.start - 2].is_ascii_digit();
    let after =
        b.get(p.span.end) == Some(&b' ') && b.get(p.span.end + 1).is_some_and(u8::is_ascii_digit);
    number.contains(' ') && (before || after)
}

proptest! {
    // No regression files: they would sit outside the files this module owns.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn valid_numbers_are_found_in_every_form(
        n in valid_number(),
        pre in words(), b in before(), a in after(), post in words(),
    ) {
        let d = detector();
        let kind = if n.samordning { FindingKind::Samordningsnummer } else { FindingKind::Personnummer };
        for form in 0..FORMS {
            let w = written(&n, form);
            let p = place(&pre, b, &w, a, &post);
            if grouped(&p, &w) {
                continue;
            }
            let found = d.scan(&p.text, &Context::default());
            let hit = found.iter().find(|f| f.span == p.span);
            prop_assert!(hit.is_some(), "form {} not found: {}", form, redact(&p.text));
            let hit = hit.unwrap();
            prop_assert_eq!(&hit.kind, &kind);
            prop_assert!(!hit.redacted.bytes().any(|c| c.is_ascii_digit()));
            prop_assert_eq!(hit.redacted.chars().count(), w.chars().count());
        }
    }

    #[test]
    fn an_identity_keyword_makes_every_form_at_least_medium(
        n in valid_number(), b in before(), a in after(), post in words(),
        kw in prop::sample::select(vec!["personnummer", "Pnr", "PERSONNR", "samordningsnummer", "p-nr"]),
    ) {
        let d = detector();
        for form in 0..FORMS {
            let w = written(&n, form);
            let p = place(kw, b, &w, a, &post);
            if grouped(&p, &w) {
                continue;
            }
            let found = d.scan(&p.text, &Context::default());
            let hit = found.iter().find(|f| f.span == p.span);
            prop_assert!(hit.is_some_and(|f| f.confidence >= Confidence::Medium),
                "form {}: {}", form, redact(&p.text));
            if form <= 3 {
                prop_assert!(hit.is_some_and(|f| f.confidence == Confidence::High),
                    "form {}: {}", form, redact(&p.text));
            }
        }
    }

    #[test]
    fn wrong_check_digit_is_not_found(
        n in valid_number(), delta in 1u32..10,
        pre in words(), b in before(), a in after(), post in words(),
    ) {
        let d = detector();
        let last = n.twelve.as_bytes()[11] - b'0';
        let wrong = (u32::from(last) + delta) % 10;
        let bad = Number { twelve: format!("{}{wrong}", &n.twelve[..11]), ..n };
        for form in 0..FORMS {
            let w = written(&bad, form);
            let p = place(&pre, b, &w, a, &post);
            let found = d.scan(&p.text, &Context::default());
            prop_assert!(
                !found.iter().any(|f| f.span.start < p.span.end && p.span.start < f.span.end),
                "form {} found: {}", form, redact(&p.text)
            );
        }
    }

    #[test]
    fn impossible_dates_are_not_found(
        n in impossible_date_number(),
        pre in words(), b in before(), a in after(), post in words(),
    ) {
        let d = detector();
        for form in 0..FORMS {
            let w = written(&n, form);
            let p = place(&pre, b, &w, a, &post);
            let found = d.scan(&p.text, &Context::default());
            // A 12-digit run with "day" 32-59 and a good check digit is an Inera Carelink
            // reservnummer, so only personnummer kinds are ruled out here.
            prop_assert!(
                !found.iter().any(|f| matches!(f.kind, FindingKind::Personnummer | FindingKind::Samordningsnummer)
                    && f.span.start < p.span.end && p.span.start < f.span.end),
                "form {} found: {}", form, redact(&p.text)
            );
        }
    }

    #[test]
    fn longer_digit_runs_are_never_found(
        n in valid_number(), extra_before in "[0-9]{0,3}", extra_after in "[0-9]{0,3}",
        form in prop::sample::select(vec![0usize, 4]),
    ) {
        let number = written(&n, form);
        // 11 digits, or 13 and more (ten digits with two more in front are just the 12-digit
        // form).
        let total = extra_before.len() + number.len() + extra_after.len();
        prop_assume!(total == 11 || total > 12);
        let d = detector();
        let text = format!("se {extra_before}{number}{extra_after} nu");
        let found = d.scan(&text, &Context::default());
        prop_assert!(found.iter().all(|f| f.is_weak_signal()), "{}", redact(&text));
    }

    #[test]
    fn any_text_scans_safely(text in any::<String>(), related in any::<String>()) {
        let d = detector();
        let rel = [related.as_str()];
        for f in d.scan(&text, &Context { related: &rel, time: None }) {
            prop_assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
            prop_assert!(f.span.start < f.span.end && f.span.end <= text.len());
            prop_assert!(!f.redacted.chars().any(char::is_alphanumeric));
        }
    }

    #[test]
    fn digit_heavy_text_scans_safely(text in "[0-9 +\\-.:/a-zA-ZåäöÅÄÖ]{0,80}") {
        let d = detector();
        for f in d.scan(&text, &Context::default()) {
            prop_assert!(text.is_char_boundary(f.span.start) && text.is_char_boundary(f.span.end));
            prop_assert!(!f.redacted.bytes().any(|c| c.is_ascii_digit()));
        }
    }
}
